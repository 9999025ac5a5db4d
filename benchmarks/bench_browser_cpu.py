"""What a student's browser spends on the Train page while a run trains, in cores.

    python benchmarks/bench_browser_cpu.py [--windows 5] [--seconds 6]

Against `streamlit run dashboard/app.py`, one Chromium tab (Debian's, via playwright) opens the
Train page with a long run, clicks Train and measures, over a few windows of the run, the CPU
that each kind of process used, from /proc: Chromium's renderer (the page's JavaScript: Streamlit's
React frontend and Vega drawing the curves), the rest of Chromium, the Streamlit server and the
training workers. Each window is its own run, started fresh, so a window never sees a run's end.
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
sys.path[:0] = [str(ROOT), str(ROOT / "tests")]

from playwright.sync_api import expect, sync_playwright  # noqa: E402

from browser_support import CHROMIUM, CHROMIUM_ARGS, start_server, stop_server  # noqa: E402

LONG_RUN = "/?epochs=100&num_samples=4000"  # longer than any window
TICK = os.sysconf("SC_CLK_TCK")


def kind(cmdline: str) -> str | None:
    if "--type=renderer" in cmdline:
        return "Chromium renderer"
    if "chromium" in cmdline:
        return "rest of Chromium"
    if "streamlit" in cmdline:
        return "Streamlit server"
    if "forkserver" in cmdline or "multiprocessing" in cmdline:
        return "training workers"
    return None


def cpu_seconds() -> dict[tuple[str, str, str], float]:
    """Every process of a kind above: (pid, start time, kind) -> its CPU seconds so far."""
    seen = {}
    for pid in filter(str.isdigit, os.listdir("/proc")):
        try:
            cmdline = Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
            stat = Path(f"/proc/{pid}/stat").read_text()
        except OSError:
            continue  # ended meanwhile
        if (found := kind(cmdline)) is not None:
            fields = stat[stat.rindex(")") + 2 :].split()
            seen[(pid, fields[19], found)] = (int(fields[11]) + int(fields[12])) / TICK
    return seen


def window(seconds: float) -> dict[str, float]:
    """Cores used by each kind of process over the next `seconds`."""
    before = cpu_seconds()
    time.sleep(seconds)
    used: dict[str, float] = {}
    for key, now in cpu_seconds().items():
        used[key[2]] = used.get(key[2], 0.0) + now - before.get(key, 0.0)
    return {name: total / seconds for name, total in used.items()}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--windows", type=int, default=5)
    parser.add_argument("--seconds", type=float, default=6.0)
    args = parser.parse_args()
    process, url = start_server(Path(tempfile.mkdtemp()) / "streamlit.log")
    results: list[dict[str, float]] = []
    try:
        with sync_playwright() as playwright:
            browser = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
            for _ in range(args.windows):
                context = browser.new_context(viewport={"width": 1400, "height": 1000})
                page = context.new_page()
                page.goto(url + LONG_RUN)
                expect(page.get_by_text("No run yet")).to_be_visible(timeout=60_000)
                page.get_by_role("button", name="Train", exact=True).click()
                expect(page.get_by_test_id("stProgress")).to_contain_text("Epoch", timeout=60_000)
                time.sleep(1.0)  # past the run's first redraws
                results.append(window(args.seconds))
                page.get_by_role("button", name="Stop", exact=True).click()
                expect(page.get_by_text("Stopped by request")).to_be_visible(timeout=30_000)
                context.close()
            browser.close()
    finally:
        stop_server(process)
    print(f"cores used while a run trains on the Train page ({args.windows} windows of {args.seconds} s):")
    for name in ("Chromium renderer", "rest of Chromium", "Streamlit server", "training workers"):
        values = [r.get(name, 0.0) for r in results]
        print(f"  {name:18s} {statistics.median(values):.2f}  (min {min(values):.2f}, max {max(values):.2f})")


if __name__ == "__main__":
    main()
