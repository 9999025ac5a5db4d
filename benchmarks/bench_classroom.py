"""The dashboard under a class: one student in Chromium, and whole classes at the protocol level.

    python benchmarks/bench_classroom.py [--students 30 60] [--look] [--against OTHER_CHECKOUT]

Measures, against `streamlit run dashboard/app.py` with its default settings:
1. one student in real Chromium: click Train on the lab run -> `Test accuracy` visible (6 clicks;
   a fresh browser's first is reported apart, as it loads the code of the result's elements),
   and what that wait adds to the run's own training time, which the page prints ("Training took");
2. a long run watched live in Chromium: how often the page's progress changes per second; and what
   watching costs the run's own training, on one server in turn: watched in Chromium (whose
   renderer shares the server's cores), watched at the protocol level (the server's own cost), and
   not watched (a tab whose timers never fire);
3. a class: N protocol-level students (benchmarks/protocol_student.py: Streamlit's own websocket
   messages, every fragment timer honoured, nothing rendered; each its own seed) load the page,
   then click Train together. The time until each one's `Test accuracy` arrives (p50, p95, max),
   whether each saw its own run's number, the server's CPU per student (server and workers), and
   the peak of the summed PSS of the server and all its processes (what a container limit counts).
   With `--look`, each student who has their result goes on as a class does: opens the other pages
   one after another, LOOK_SECONDS on each, until the whole class has its result; so the pages'
   cost to the server competes with the runs still training. With `--against`, each class is also
   measured on another checkout's app, one after the other, so the two meet the same hour.
The students' own CPU is measured too: it should stay a small share, so that the server has both
cores to itself as in a real class, where every browser runs on a student's laptop.
"""

from __future__ import annotations

import argparse
import asyncio
import functools
import itertools
import os
import resource
import statistics
import sys
import tempfile
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field, replace
from pathlib import Path

from playwright.sync_api import sync_playwright

ROOT = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(ROOT), str(ROOT / "tests")]

from procfs import cpu_seconds, family  # noqa: E402
from protocol_student import ProtocolStudent  # noqa: E402

from browser_support import (  # noqa: E402
    launch_chromium,
    start_server,
    stop_server,
    wait_for_workers,
)
from dashboard.limits import WORKERS  # noqa: E402
from rnn_core import fit, preset  # noqa: E402

METRIC = "[data-testid=stMetric]:has-text('Test accuracy')"
CONNECTED = "[data-testid='stApp'][data-test-connection-state='CONNECTED']"
LONG = "?epochs=30&num_samples=4000"
LOOK_SECONDS = 2.0  # a student's look at a page before opening the next (with --look)


def open_page(context, url):
    page = context.new_page()
    page.goto(url)
    page.wait_for_selector(CONNECTED, timeout=60_000)
    page.get_by_text("No run yet").wait_for(timeout=60_000)
    return page


def one_student(browser, url) -> list[tuple[float, float]]:
    """Six lab runs: (click Train -> Test accuracy visible, the run's own "Training took"), in s."""
    context = browser.new_context()
    page = open_page(context, url)
    times = []
    for run in range(1, 7):
        started = time.perf_counter()
        page.get_by_role("button", name="Train", exact=True).click()
        page.wait_for_selector(f"text=Run {run}:", timeout=30_000)
        page.wait_for_selector(METRIC, timeout=30_000)
        times.append((time.perf_counter() - started, training_took(page)))
        time.sleep(0.5)
    context.close()
    return times


def training_took(page) -> float:
    """The training time the page prints under a finished run: "... Training took 0.93 s."."""
    return took(page.get_by_text("Training took").inner_text())


def took(text: str) -> float:
    return float(text.split("Training took ")[1].split(" s")[0])


def watched(browser, url) -> tuple[float, float]:
    """A long run watched live in Chromium: (progress updates per second, the run's "Training took")."""
    context = browser.new_context()
    page = open_page(context, url + LONG)
    page.get_by_role("button", name="Train", exact=True).click()
    progress = page.get_by_test_id("stProgress")
    progress.wait_for(timeout=30_000)
    seen, started = [], time.perf_counter()
    while not page.locator(METRIC).count():
        try:
            # the bar's whole drawing: its text moves only with the epoch and the seconds left (on a
            # slow day, 1.7 changes a second), its width with every batch the redraw brings
            seen.append(progress.inner_html(timeout=1000))
        except Exception:  # the progress bar is gone once the results are drawn
            break
        time.sleep(0.02)
    changes = sum(1 for a, b in itertools.pairwise(seen) if a != b)
    rate, seconds = changes / (time.perf_counter() - started), training_took(page)
    context.close()
    return rate, seconds


async def protocol_run(url: str, watching: bool) -> float:
    """The same run at the protocol level: a student who watches it (the page's timers honoured, as
    a browser on a student's laptop does: the server's whole cost of a watched run, no renderer on
    these cores), or nobody (a tab whose timers never fire, opened again every LOOK_SECONDS until the
    run is over). The run's "Training took"."""
    async with ProtocolStudent(url, LONG.removeprefix("?"), follow_timers=watching) as student:
        await student.load()
        await student.click("Train")

        def result() -> str | None:
            return next((text for text in student.texts if "Training took" in text), None)

        if watching:
            await student.read_until(result)
        while not result():
            await asyncio.sleep(LOOK_SECONDS)
            await student.load()
        return took(result())


def watching_costs(browser, url, rounds: int = 3) -> tuple[float, dict[str, list[float]]]:
    """What watching a run live costs its training, on one server: the run watched in Chromium,
    watched at the protocol level and not watched, in turn, `rounds` times, each round in another
    order, so that all three meet the machine's same moments and places in a round. (Chromium's
    progress updates per second, each way's training times.)"""
    rates, times = [], {"Chromium": [], "protocol": [], "nobody": []}

    def in_chromium() -> float:
        rate, seconds = watched(browser, url)
        rates.append(rate)
        return seconds

    def at_protocol_level(watching: bool) -> float:
        with ThreadPoolExecutor(1) as thread:  # Playwright's sync API holds this thread's event loop
            return thread.submit(asyncio.run, protocol_run(url, watching)).result()

    ways = {
        "Chromium": in_chromium,
        "protocol": functools.partial(at_protocol_level, True),
        "nobody": functools.partial(at_protocol_level, False),
    }
    order = list(ways)
    for round_ in range(rounds):
        turn = round_ % len(order)
        for way in order[turn:] + order[:turn]:
            times[way].append(ways[way]())
    return statistics.median(rates), times


def started(url: str, server_pid: int, workers: int = WORKERS, timeout: float = 60.0) -> None:
    """Open a fresh server's first page, then wait until its training workers are up: a server
    starts them in the background at its first page, and a class is measured on a started server."""

    async def first_page() -> None:
        async with ProtocolStudent(url) as student:
            await student.load()

    asyncio.run(first_page())
    wait_for_workers(server_pid, workers, timeout)


def pss_mb(pids: list[int]) -> float:
    total = 0
    for pid in pids:
        try:
            for line in Path(f"/proc/{pid}/smaps_rollup").read_text().splitlines():
                if line.startswith("Pss:"):
                    total += int(line.split()[1])
        except OSError:
            pass  # a worker that was just replaced
    return total / 1024


@dataclass
class Class:
    """What the students of one class share: the moment they click, and who has their result."""

    size: int
    look: bool  # students with their result look at the other pages until the class is done
    loaded: int = 0
    results: int = 0
    start: asyncio.Event = field(default_factory=asyncio.Event)
    done: asyncio.Event = field(default_factory=asyncio.Event)
    pages_drawn: int = 0  # pages the lookers had drawn before the last result came


async def _student(url: str, seed: int, room: Class) -> tuple[float, str]:
    async with ProtocolStudent(url, f"seed={seed}") as student:
        await student.load()
        room.loaded += 1
        await room.start.wait()
        started = time.perf_counter()
        await student.click("Train")
        await student.read_until(lambda: "Test accuracy" in student.metrics)
        seconds, shown = time.perf_counter() - started, student.metrics["Test accuracy"]
        room.results += 1
        if room.results == room.size:
            room.done.set()
        if room.look:
            await look_around(student, room)
        return seconds, shown


async def look_around(student: ProtocolStudent, room: Class) -> None:
    """Open the other pages in turn, LOOK_SECONDS on each, until every student has their result."""
    others = [name for name in student.pages if name != "Train"]
    for name in itertools.cycle(others):
        await student.open(name)
        if room.done.is_set():
            return
        room.pages_drawn += 1
        try:
            await asyncio.wait_for(room.done.wait(), LOOK_SECONDS)
            return
        except TimeoutError:
            pass


async def _class(url: str, room: Class, mark_cpu) -> list[tuple[float, str]]:
    """Every student loads the page first; then all click Train at the same moment. `mark_cpu` is
    called at the click and when the last result arrives."""
    tasks = [asyncio.create_task(_student(url, seed, room)) for seed in range(room.size)]
    while room.loaded < room.size:
        await asyncio.sleep(0.05)
    await asyncio.sleep(1)  # let the page loads' last messages settle
    mark_cpu()
    room.start.set()
    await room.done.wait()
    mark_cpu()  # the lookers' pages after the last result are not counted
    return await asyncio.gather(*tasks)


@functools.cache
def expected_results(students: int) -> dict[int, str]:
    """The test accuracy each student's lab run gives (their seed), as the page writes it."""
    return {i: f"{100 * fit(replace(preset('lab'), seed=i)).test_accuracy:.2f}%" for i in range(students)}


def classroom(server_pid: int, url: str, students: int, look: bool = False) -> dict:
    """N protocol-level students click Train together on the lab run, each with their own seed.

    CPU is counted from the shared click to the last result (page loads are not in it), split
    into the server process and its worker processes.
    """
    expected = expected_results(students)
    peak, sampling = [0.0], threading.Event()

    def sample() -> None:
        while not sampling.is_set():
            peak[0] = max(peak[0], pss_mb(family(server_pid)))
            time.sleep(0.25)

    def cpu_now() -> tuple[float, float, float]:
        mine = resource.getrusage(resource.RUSAGE_SELF)
        everyone = cpu_seconds(family(server_pid))
        server = cpu_seconds([server_pid])
        return server, everyone - server, mine.ru_utime + mine.ru_stime

    marks: list[tuple[float, float, float]] = []  # at the click, at the last result
    sampler = threading.Thread(target=sample, daemon=True)
    sampler.start()
    room = Class(students, look)
    results = asyncio.run(_class(url, room, lambda: marks.append(cpu_now())))
    sampling.set()
    sampler.join()
    seconds = sorted(t for t, _ in results)
    used = [(b - a) / students for a, b in zip(*marks, strict=True)]
    return {
        "p50": statistics.median(seconds),
        "p95": seconds[max(0, round(0.95 * students) - 1)],
        "max": seconds[-1],
        "own": sum(shown == expected[i] for i, (_, shown) in enumerate(results)),
        "server_cpu": used[0],
        "workers_cpu": used[1],
        "students_cpu": used[2] * students,
        "peak_mb": peak[0],
        "pages_drawn": room.pages_drawn,
    }


def class_rows(students: int, result: dict, cores: int, look: bool, checkout: str) -> list[str]:
    floor = students * result["workers_cpu"] / cores  # the training itself, measured in the class
    looking = f", looking at pages ({result['pages_drawn']} drawn)" if look else ""
    return [
        f"| {students} protocol-level students click Train together (lab run{looking}){checkout} | "
        f"p50 {result['p50']:.1f} s, p95 {result['p95']:.1f} s, max {result['max']:.1f} s | "
        f"p95 <= {students / 5:.0f} s |",
        f"| … the floor: the class's training CPU (workers) spread over {cores} cores | "
        f"{floor:.1f} s; p95 / floor = {result['p95'] / floor:.2f} | p95 / floor <= 1.4 |",
        f"| … each saw their own run's result | {result['own']} of {students} | all |",
        f"| … CPU per student after the click: server process / workers | {result['server_cpu']:.2f} s / "
        f"{result['workers_cpu']:.2f} s | |",
        f"| … the students' own CPU, all of them | {result['students_cpu']:.1f} s | small |",
        f"| … peak memory, summed PSS of the server and its workers | {result['peak_mb']:.0f} MB | "
        "<= 690 MB |",
    ]


def ratio(times: list[float], against: list[float]) -> str:
    a, b = statistics.median(times), statistics.median(against)
    listed = "; ".join(", ".join(f"{t:.2f}" for t in each) for each in (times, against))
    return f"{a:.2f} s / {b:.2f} s = {a / b:.2f} ({listed})"


def lab_run_seconds() -> float:
    """One lab run on an idle core with one PyTorch thread, as a worker trains it (best of 5)."""
    import rnn_core

    rnn_core.warm_up(num_threads=1)
    return min(_timed_fit(preset("lab")) for _ in range(5))


def _timed_fit(config) -> float:
    started = time.perf_counter()
    fit(config)
    return time.perf_counter() - started


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--students", type=int, nargs="*", default=[30, 60], help="none: no class")
    parser.add_argument("--no-browser", action="store_true", help="only the protocol-level classes")
    parser.add_argument("--look", action="store_true", help="students look at the pages after their result")
    parser.add_argument("--against", type=Path, help="another checkout: each class is measured on it too")
    args = parser.parse_args()
    log = Path(tempfile.mkdtemp()) / "streamlit.log"
    rows = []
    if not args.no_browser:
        process, url = start_server(log)
        try:
            started(url, process.pid)
            with sync_playwright() as playwright:
                browser = launch_chromium(playwright)
                latency = one_student(browser, url)
                rate, times = watching_costs(browser, url)
                browser.close()
        finally:
            stop_server(process)
        # A fresh browser's first click is apart: Chromium then loads and runs the code of every element
        # kind the result brings (metric, code, download buttons: ~1.4 s on this machine), once per tab
        (first_seen, first_own), *later = latency
        waits = [seen for seen, _ in later]
        added = [seen - own for seen, own in later]
        rows += [
            f"| one student in Chromium, lab run: click Train -> Test accuracy | median "
            f"{statistics.median(waits):.2f} s, max {max(waits):.2f} s (clicks 2-{len(latency)}) | |",
            f'| … of which not the run\'s own training (the click minus "Training took") | median '
            f"{statistics.median(added):.2f} s, max {max(added):.2f} s | <= 0.7 s |",
            f"| … a fresh browser's first click, and what it adds to the run's training | "
            f"{first_seen:.2f} s, {first_seen - first_own:.2f} s | |",
            f"| live page refreshes while training (Chromium) | {rate:.1f} per second | >= 2 per second |",
            *(
                f"| a run's training watched {by} / nobody watching, same server, in turn (lab, 30 epochs, "
                f"4000 seqs; median of {len(times[way])}) | {ratio(times[way], times['nobody'])} | about 1 |"
                for way, by in (
                    ("Chromium", "live in Chromium, on the server's own cores"),
                    ("protocol", "at the protocol level (the server's own cost)"),
                )
            ),
        ]
    alone = lab_run_seconds()
    cores = len(os.sched_getaffinity(0))
    rows.append(f"| one lab run on an idle core, rnn_core alone (the training a student's click needs) | "
                f"{alone:.2f} s | |")  # fmt: skip
    checkouts = {"": ROOT, **({f" at {args.against}": args.against.resolve()} if args.against else {})}
    for students in args.students:
        for name, root in checkouts.items():
            process, url = start_server(log, root)  # a fresh server per class: its memory peak is its own
            try:
                started(url, process.pid)
                result = classroom(process.pid, url, students, args.look)
            finally:
                stop_server(process)
            rows += class_rows(students, result, cores, args.look, name)
    print("| measure | result | goal |")
    print("|---|---|---|")
    print("\n".join(rows))


if __name__ == "__main__":
    main()
