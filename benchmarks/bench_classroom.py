"""The dashboard under a class: latency, live refresh, and 30 students at once, in real Chromium.

    python benchmarks/bench_classroom.py [--students 30]

Measures, against `streamlit run dashboard/app.py` with its default settings:
1. one student: click Train on the lab run -> `Test accuracy` visible (5 clicks, after page load);
2. a long run watched live: how often the page's progress changes per second, and the run's
   training time in the dashboard against the same config trained by rnn_core alone;
3. a class: N browser contexts (one per student, each its own seed) click Train together; the
   time until each sees `Test accuracy`, whether each sees its own run's number, and the server's
   peak memory.
Chromium runs on the same 2 cores as the server, so browser time is in every number.
"""

from __future__ import annotations

import argparse
import itertools
import statistics
import sys
import tempfile
import time
from dataclasses import replace
from pathlib import Path

from playwright.sync_api import sync_playwright

ROOT = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(ROOT), str(ROOT / "tests")]

from browser_support import CHROMIUM, CHROMIUM_ARGS, peak_memory_mb, start_server, stop_server  # noqa: E402
from rnn_core import fit, preset  # noqa: E402

METRIC = "[data-testid=stMetric]:has-text('Test accuracy')"
CONNECTED = "[data-testid='stApp'][data-test-connection-state='CONNECTED']"
LONG = "?epochs=30&num_samples=4000"


def open_page(context, url):
    page = context.new_page()
    page.goto(url)
    page.wait_for_selector(CONNECTED, timeout=60_000)
    page.get_by_text("No run yet").wait_for(timeout=60_000)
    return page


def one_student(browser, url) -> list[float]:
    context = browser.new_context()
    page = open_page(context, url)
    times = []
    for run in range(1, 6):
        started = time.perf_counter()
        page.get_by_role("button", name="Train", exact=True).click()
        page.wait_for_selector(f"text=Run {run}:", timeout=30_000)
        page.wait_for_selector(METRIC, timeout=30_000)
        times.append(time.perf_counter() - started)
        time.sleep(0.5)
    context.close()
    return times


def live_refresh(browser, url) -> tuple[float, float, float]:
    """(progress updates per second while training, dashboard training s, rnn_core alone s)."""
    context = browser.new_context()
    page = open_page(context, url + LONG)
    page.get_by_role("button", name="Train", exact=True).click()
    progress = page.get_by_test_id("stProgress")
    progress.wait_for(timeout=30_000)
    seen, started = [], time.perf_counter()
    while not page.locator(METRIC).count():
        try:
            seen.append(progress.inner_text(timeout=1000))
        except Exception:  # the progress bar is gone once the results are drawn
            break
        time.sleep(0.02)
    watched = time.perf_counter() - started
    changes = sum(1 for a, b in itertools.pairwise(seen) if a != b)
    took = page.get_by_text("Training took").inner_text()
    dashboard_seconds = float(took.split("Training took ")[1].split(" s")[0])
    context.close()
    config = replace(preset("lab"), epochs=30, num_samples=4000)
    alone = min(_timed_fit(config) for _ in range(2))
    return changes / watched, dashboard_seconds, alone


def _timed_fit(config) -> float:
    started = time.perf_counter()
    fit(config)
    return time.perf_counter() - started


def classroom(browser, url, students: int) -> tuple[list[float], int]:
    """Seconds from the shared click to each student's result, and how many saw their own run."""
    contexts = [browser.new_context() for _ in range(students)]
    pages = [open_page(c, f"{url}/?seed={i}") for i, c in enumerate(contexts)]
    expected = {i: f"{100 * fit(replace(preset('lab'), seed=i)).test_accuracy:.2f}%" for i in range(students)}
    done: dict[int, float] = {}
    start = time.perf_counter()
    for page in pages:  # as fast as one driver can click: within a second or two for 30
        page.get_by_role("button", name="Train", exact=True).click(no_wait_after=True)
    pending = set(range(students))
    while pending and time.perf_counter() - start < 300:
        for i in list(pending):
            if pages[i].locator(METRIC).count():
                done[i] = time.perf_counter() - start
                pending.discard(i)
        time.sleep(0.05)
    own = sum(
        expected[i] in pages[i].locator(METRIC).inner_text() and f"seed {i}" in pages[i].content()
        for i in done
    )
    for context in contexts:
        context.close()
    return [done.get(i, float("inf")) for i in range(students)], own


def server_only(students: int) -> float:
    """Seconds for the server's pool to train a class's lab runs, no browsers: the server's share."""
    from dashboard import limits
    from dashboard.runner import SessionRuns, TrainingPool

    pool = TrainingPool(limits.MAX_RUNNING)
    sessions = [SessionRuns(1, 1, limits.MAX_BATCH_POINTS) for _ in range(students)]
    started = time.perf_counter()
    jobs = [s.start(replace(preset("lab"), seed=i), pool) for i, s in enumerate(sessions)]
    for job in jobs:
        job.done.wait()
    return time.perf_counter() - started


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--students", type=int, default=30)
    args = parser.parse_args()
    log = Path(tempfile.mkdtemp()) / "streamlit.log"
    process, url = start_server(log)
    try:
        with sync_playwright() as playwright:
            browser = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
            latency = one_student(browser, url)
            rate, in_dashboard, alone = live_refresh(browser, url)
            finish, own = classroom(browser, url, args.students)
            browser.close()
        memory = peak_memory_mb(process.pid)
    finally:
        stop_server(process)
    rnn_core_warm = fit(replace(preset("lab"), epochs=1))  # pay PyTorch's start-up before timing
    del rnn_core_warm
    server_seconds = server_only(args.students)
    print("| measure | result | goal |")
    print("|---|---|---|")
    print(
        f"| one student, lab run: click Train -> Test accuracy | median {statistics.median(latency):.2f} s, "
        f"max {max(latency):.2f} s (5 runs) | < 1 s |"
    )
    print(f"| live page refreshes while training | {rate:.1f} per second | >= 2 per second |")
    print(
        f"| training time watched live / rnn_core alone (lab, 30 epochs, 4000 seqs) | "
        f"{in_dashboard:.2f} s / {alone:.2f} s = {in_dashboard / alone:.2f} | about 1 |"
    )
    print(
        f"| {args.students} students click Train together: slowest sees Test accuracy | "
        f"{max(finish):.1f} s (median {statistics.median(finish):.1f} s) | <= 10 s |"
    )
    print(
        f"| the same {args.students} lab runs through the server's queue, no browsers | "
        f"{server_seconds:.1f} s | <= 10 s |"
    )
    print(f"| students who saw their own run's result | {own} of {args.students} | all |")
    print(f"| server peak memory (VmHWM) | {memory:.0f} MB | <= 690 MB |")


if __name__ == "__main__":
    main()
