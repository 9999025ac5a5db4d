"""What a student's browser spends on the Train page while a run trains, in cores.

    python benchmarks/bench_browser_cpu.py [--windows 5] [--seconds 6]

Against `streamlit run dashboard/app.py`, one Chromium tab (Debian's, via playwright) opens the
Train page with a long run, clicks Train and measures, over a few windows of the run, the CPU
that each kind of process used, from /proc: Chromium's renderer (the page's JavaScript: Streamlit's
React frontend and Vega drawing the curves), the rest of Chromium with Playwright's driver, the
Streamlit server and its training workers (its forkserver too). Each window is its own run,
started fresh, so a window never sees a run's end. Then the Compare page: the renderer's CPU for its
first experiment (two runs one after the other, its curves redrawn once a second), click to verdict.
A school laptop has one or two cores: the renderer's share is what the live page costs it.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(ROOT), str(ROOT / "benchmarks"), str(ROOT / "tests")]

from playwright.sync_api import expect, sync_playwright  # noqa: E402
from procfs import command_line, cpu_seconds, family  # noqa: E402

from browser_support import (  # noqa: E402
    lab_run_lasting,
    launch_chromium,
    link_query,
    start_server,
    stop_server,
)


def is_renderer(pid: int) -> bool:
    return b"--type=renderer" in command_line(pid)


def kinds(server: int) -> dict[str, list[int]]:
    """The processes of each kind now: the server's (procfs.family) and this process's."""
    served = family(server)  # the server is a child of this process too
    browser = [pid for pid in family(os.getpid()) if pid != os.getpid() and pid not in served]
    renderers = [pid for pid in browser if is_renderer(pid)]
    return {
        "Chromium renderer": renderers,
        "rest of Chromium": [pid for pid in browser if pid not in renderers],  # and Playwright's driver
        "Streamlit server": [server],
        "training workers": [pid for pid in served if pid != server],
    }


def window(server: int, seconds: float) -> dict[str, float]:
    """Cores used by each kind of process over the next `seconds`."""
    processes = kinds(server)
    before = {name: cpu_seconds(pids) for name, pids in processes.items()}
    time.sleep(seconds)
    return {name: (cpu_seconds(pids) - before[name]) / seconds for name, pids in processes.items()}


def train_page(browser, url: str, server: int, seconds: float) -> dict[str, float]:
    """One window of a fresh long run on the Train page."""
    context = browser.new_context(viewport={"width": 1400, "height": 1000})
    page = context.new_page()
    page.goto(url + "/?" + link_query(lab_run_lasting(seconds + 10, num_samples=4000)))  # past the window
    expect(page.get_by_text("No run yet")).to_be_visible(timeout=60_000)
    page.get_by_role("button", name="Train", exact=True).click()
    expect(page.get_by_test_id("stProgress")).to_contain_text("Epoch", timeout=60_000)
    time.sleep(1.0)  # past the run's first redraws
    cores = window(server, seconds)
    page.get_by_role("button", name="Stop", exact=True).click()
    expect(page.get_by_text("Stopped by request")).to_be_visible(timeout=30_000)
    context.close()
    return cores


def compare_page(browser, url: str, server: int) -> float:
    """The renderer's CPU seconds for the Compare page's first experiment, from the click to its verdict."""
    context = browser.new_context(viewport={"width": 1400, "height": 1000})
    page = context.new_page()
    page.goto(url + "/compare")
    expect(page.get_by_role("button", name="Run both").first).to_be_visible(timeout=60_000)
    time.sleep(1.0)
    renderers = kinds(server)["Chromium renderer"]
    before = cpu_seconds(renderers)
    page.get_by_role("button", name="Run both").first.click()
    verdict = page.get_by_text("It held.").or_(page.get_by_text("It did not hold this time."))
    expect(verdict).to_be_visible(timeout=120_000)
    used = cpu_seconds(renderers) - before
    context.close()
    return used


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--windows", type=int, default=5)
    parser.add_argument("--seconds", type=float, default=6.0)
    parser.add_argument("--experiments", type=int, default=3, help="Compare page experiments to measure")
    args = parser.parse_args()
    process, url = start_server(Path(tempfile.mkdtemp()) / "streamlit.log")
    try:
        with sync_playwright() as playwright:
            browser = launch_chromium(playwright)
            results = [train_page(browser, url, process.pid, args.seconds) for _ in range(args.windows)]
            experiments = [compare_page(browser, url, process.pid) for _ in range(args.experiments)]
            browser.close()
    finally:
        stop_server(process)
    print(f"cores used while a run trains on the Train page ({args.windows} windows of {args.seconds} s):")
    for name in ("Chromium renderer", "rest of Chromium", "Streamlit server", "training workers"):
        values = [r[name] for r in results]
        print(f"  {name:18s} {statistics.median(values):.2f}  (min {min(values):.2f}, max {max(values):.2f})")
    if experiments:
        print(
            f"Chromium renderer's CPU for one Compare experiment, click to verdict: median "
            f"{statistics.median(experiments):.2f} s (min {min(experiments):.2f}, max {max(experiments):.2f})"
        )


if __name__ == "__main__":
    main()
