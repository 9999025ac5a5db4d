"""What each page costs the server: its CPU per drawing of the page, after one lab run.

    python benchmarks/bench_page_cpu.py [--against OTHER_CHECKOUT] [--rounds 3] [--no-browser]

A class shares the server's cores: every drawing of a page is a script run in the server process,
and a page that redraws itself on a timer (a run training, a replay) costs that again and again.
Each round starts a fresh `streamlit run dashboard/app.py` (and, with `--against`, one of another
checkout too, one after the other, so the two are measured at the same hour), and a
protocol-level student (benchmarks/protocol_student.py) trains the lab run and then opens each
page and asks for it again 20 times: the server's CPU (user + system, from /proc) per drawing; and
sends Hidden states' timer redraw 20 times while a long run trains. A class mostly sees first
drawings: 8 more students, each with their own seed (their own data, so their own sequences on
every page), train the lab run and open each page once: the server's CPU per first drawing.
Then, in Chromium, the Backprop page's two sliders are moved 8 times each: the CPU per move.
Medians over the rounds; with `--against`, the ratio this checkout / the other.
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(ROOT), str(ROOT / "benchmarks"), str(ROOT / "tests")]

from procfs import cpu_seconds  # noqa: E402
from protocol_student import ProtocolStudent  # noqa: E402

from browser_support import (  # noqa: E402
    launch_chromium,
    long_run_query,
    start_server,
    stop_server,
    wait_for_workers,
)
from dashboard.limits import WORKERS  # noqa: E402

DRAWINGS = 20  # per page
FIRST_VISITORS = 8  # students who each open every page once
SETTLE = 0.3  # s after a first drawing, so that its cost is not counted in the next page's
MOVES = 8  # per slider
IDLE = "[data-testid='stApp'][data-test-script-state='notRunning']"
HIDDEN_STATES_TIMER = 1.0  # views/hidden_states.py: its redraw while a run trains, once a second


async def page_costs(url: str, pid: int) -> dict[str, float]:
    """ms of server CPU per full drawing of each page, after one lab run."""
    costs = {}
    async with ProtocolStudent(url) as student:
        await student.load()
        wait_for_workers(pid, WORKERS, 60)
        await student.click("Train")
        await student.read_until(lambda: "Test accuracy" in student.metrics)
        for name in list(student.pages):
            await student.open(name)
            before = cpu_seconds([pid])
            for _ in range(DRAWINGS):
                await student.load()
            costs[f"{name} page, drawn again"] = (cpu_seconds([pid]) - before) / DRAWINGS * 1000
    async with ProtocolStudent(url, long_run_query()) as watcher:  # a long run, watched
        await watcher.load()
        drawn = watcher.finished_runs
        await watcher.click("Train")
        await watcher.read_until(lambda: watcher.finished_runs > drawn)
        await watcher.open("Hidden states")
        await watcher.read_until(lambda: watcher.timer_seconds == HIDDEN_STATES_TIMER)
        fragment = watcher.timer_fragment
        watcher.stop_timers([fragment])  # the ticks are sent here, one after another
        before = cpu_seconds([pid])
        for _ in range(DRAWINGS):
            drawn = watcher.finished_runs
            await watcher.tick(fragment)
            await watcher.read_until(lambda: watcher.finished_runs > drawn)  # noqa: B023 - read at once
        tick_ms = (cpu_seconds([pid]) - before) / DRAWINGS * 1000
        costs["Hidden states, a timer redraw while a run trains"] = tick_ms
    return costs


async def first_visits(url: str, pid: int) -> dict[str, float]:
    """ms of server CPU per first drawing of each page by a student, the mean over FIRST_VISITORS."""
    spent: dict[str, float] = {}
    for seed in range(1, FIRST_VISITORS + 1):
        async with ProtocolStudent(url, f"seed={seed}") as student:
            await student.load()
            await student.click("Train")
            await student.read_until(lambda: "Test accuracy" in student.metrics)
            for name in [*(name for name in student.pages if name != "Train"), "Train"]:
                before = cpu_seconds([pid])
                await student.open(name)
                await asyncio.sleep(SETTLE)  # the server's event loop sends the page's last messages
                spent[name] = spent.get(name, 0.0) + cpu_seconds([pid]) - before
    return {f"{name} page, a student's first drawing": s / FIRST_VISITORS * 1000 for name, s in spent.items()}


def slider_costs(url: str, pid: int) -> dict[str, float]:
    """ms of server CPU per move of each of the Backprop page's sliders, in Chromium."""
    from playwright.sync_api import sync_playwright

    costs = {}
    with sync_playwright() as playwright:
        browser = launch_chromium(playwright)
        page = browser.new_page(viewport={"width": 1280, "height": 900})
        page.goto(url)
        page.get_by_role("button", name="Train", exact=True).click()
        page.wait_for_selector("[data-testid=stMetric]:has-text('Test accuracy')", timeout=60_000)
        page.goto(f"{url}/backprop")
        for name in ("Time step t", "Sequence length T"):
            slider = page.get_by_role("slider", name=name)
            slider.wait_for(timeout=60_000)
            time.sleep(1)
            before = cpu_seconds([pid])
            for _ in range(MOVES):
                slider.press("ArrowLeft")
                time.sleep(0.3)  # the drawing has begun
                page.wait_for_selector(IDLE, timeout=60_000)
            costs[f"Backprop, a move of the {name} slider"] = (cpu_seconds([pid]) - before) / MOVES * 1000
        browser.close()
    return costs


def measure(app_root: Path, log: Path, browser: bool) -> dict[str, float]:
    process, url = start_server(log, app_root)
    try:
        costs = asyncio.run(page_costs(url, process.pid))
        costs |= asyncio.run(first_visits(url, process.pid))
        if browser:
            costs |= slider_costs(url, process.pid)
        return costs
    finally:
        stop_server(process)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--against", type=Path, help="another checkout, measured in turn with this one")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--no-browser", action="store_true", help="the pages only, no slider moves")
    args = parser.parse_args()
    roots = {"this": ROOT, **({"other": args.against.resolve()} if args.against else {})}
    measured: dict[str, dict[str, list[float]]] = {name: {} for name in roots}
    with tempfile.TemporaryDirectory() as tmp:
        for i in range(args.rounds):
            for name, root in roots.items():
                for what, ms in measure(root, Path(tmp) / f"{name}-{i}.log", not args.no_browser).items():
                    measured[name].setdefault(what, []).append(ms)
    median = {name: {what: statistics.median(v) for what, v in m.items()} for name, m in measured.items()}
    if args.against:
        print(f"| server CPU, ms (median of {args.rounds}) | {args.against} | this checkout | ratio |")
        print("|---|---|---|---|")
        for what, ms in median["this"].items():
            other = median["other"].get(what)
            print(f"| {what} | {other:.0f} | {ms:.0f} | {ms / other:.2f} |")
    else:
        print(f"| server CPU, ms (median of {args.rounds}) | this checkout |")
        print("|---|---|")
        for what, ms in median["this"].items():
            print(f"| {what} | {ms:.0f} |")


if __name__ == "__main__":
    main()
