"""What the test suite costs the machine: wall time and CPU per test file, as a pytest plugin.

    python -m pytest -p benchmarks.suite_cpu            # the whole suite, or any selection
    python benchmarks/suite_cpu.py now                  # "wall CPU": the clocks, for `since` later
    python benchmarks/suite_cpu.py since WALL CPU       # the floor line and the pace since then

pytest's own timings (`--durations`) and the resource usage of the pytest process miss most of
what the suite spends: the Streamlit servers' training workers are forked by a forkserver that
nobody waits for, and Chromium's renderers run beside the test that drives them. This plugin reads
the whole machine's busy time from /proc/stat (user, nice, system, irq, softirq, steal) around
every test's setup, call and teardown, so run it on an otherwise idle machine. Its total over the
number of cores is the floor under the suite's wall time however the tests are spread over the
cores; the table says which files hold it. It times one test at a time, so it refuses pytest-xdist.
Its last line is the machine's pace that hour (a lab epoch, a plain Python loop): the same kind of
machine runs the suite twice as fast one day as another, so set a run beside those numbers.
scripts/test.sh ends with the same two lines for the whole suite as it runs it, parts side by side
(`now` before pytest, `since` after): how near its wall time came to the floor its CPU sets.
"""

from __future__ import annotations

import os
import sys
import time
from collections import defaultdict
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
TICKS = os.sysconf("SC_CLK_TCK")
BUSY_FIELDS = (0, 1, 2, 5, 6, 7)  # user nice system (idle iowait) irq softirq steal


def busy_seconds() -> float:
    """CPU seconds the whole machine has spent busy since it booted."""
    with open("/proc/stat") as stat:
        fields = stat.readline().split()[1:]
    return sum(int(fields[i]) for i in BUSY_FIELDS) / TICKS


class SuiteCpu:
    def __init__(self):
        self.per_test: dict[str, tuple[float, float]] = {}  # node id -> wall, CPU seconds
        self.started = (time.monotonic(), busy_seconds())

    @pytest.hookimpl(hookwrapper=True)
    def pytest_runtest_protocol(self, item):
        wall, cpu = time.monotonic(), busy_seconds()
        yield
        self.per_test[item.nodeid] = time.monotonic() - wall, busy_seconds() - cpu

    def pytest_terminal_summary(self, terminalreporter):
        per_file = defaultdict(list)  # file -> its tests' (wall, CPU)
        for node_id, measured in self.per_test.items():
            per_file[node_id.split("::")[0]].append(measured)
        write = terminalreporter.write_line
        terminalreporter.section("machine CPU per test file (benchmarks/suite_cpu.py)")
        write(f"{'file':40} {'tests':>5} {'wall s':>8} {'CPU s':>8} {'CPU/wall':>8}")
        totals = {name: (sum(w for w, _ in ts), sum(c for _, c in ts)) for name, ts in per_file.items()}
        for name, (w, c) in sorted(totals.items(), key=lambda kv: -kv[1][1]):
            write(f"{name:40} {len(per_file[name]):5d} {w:8.1f} {c:8.1f} {c / max(w, 1e-9):8.2f}")
        write("")
        write(f"{'the 20 costliest tests':100} {'wall s':>8} {'CPU s':>8}")
        for name, (w, c) in sorted(self.per_test.items(), key=lambda kv: -kv[1][1])[:20]:
            write(f"{name[-100:]:100} {w:8.1f} {c:8.1f}")
        write("")
        wall, cpu = time.monotonic() - self.started[0], busy_seconds() - self.started[1]
        write(f"{'whole session (with collection)':40} {'':5} {wall:8.1f} {cpu:8.1f} {cpu / wall:8.2f}")
        write(floor_line(wall, cpu))
        write(pace_line())


def floor_line(wall: float, cpu: float, cores: int | None = None) -> str:
    """The machine's CPU over its cores is the least wall time the tests could take, however they
    are spread; how near a run came to it says how well they were spread."""
    cores = cores or os.cpu_count() or 1
    floor = cpu / cores
    return (
        f"{wall:.0f} s of wall time, {cpu:.0f} s of the machine's CPU: a floor of {floor:.0f} s on {cores} "
        f"cores, however the tests are spread; this run took {wall / max(floor, 1e-9):.2f}× the floor"
    )


def pace_line() -> str:
    epoch, loop = machine_pace()
    return f"this machine's pace now: a lab epoch {epoch:.3f} s, 10 million Python additions {loop:.2f} s"


def machine_pace() -> tuple[float, float]:
    """Two reference workloads timed at the end of the session, to set a suite run beside runs of
    other days (the same kind of 2-core machine trained the lab run 3 times faster one day than the
    day before): one epoch of the lab run, as browser_support times it, and a plain Python loop."""
    from browser_support import time_lab_epoch  # tests/ is on the path once its conftest is loaded

    start, total = time.perf_counter(), 0
    for step in range(10_000_000):
        total += step
    loop = time.perf_counter() - start
    return time_lab_epoch(1000), loop


def pytest_configure(config):
    if getattr(config.option, "numprocesses", None):  # pytest-xdist: tests would share the machine
        raise pytest.UsageError("benchmarks.suite_cpu times one test at a time: run it without -n")
    config.pluginmanager.register(SuiteCpu(), "suite_cpu_table")


def main(argv: list[str]) -> None:
    """`now` prints the clocks (time.monotonic is the system's own clock on Linux, the same in every
    process); `since WALL CPU` prints the floor and pace lines for the time since they were read."""
    if argv[:1] == ["now"] and len(argv) == 1:
        print(time.monotonic(), busy_seconds())  # as read: rounded, `since` could find time went back
    elif argv[:1] == ["since"] and len(argv) == 3:
        wall, cpu = time.monotonic() - float(argv[1]), busy_seconds() - float(argv[2])
        sys.path[:0] = [str(ROOT), str(ROOT / "tests")]  # machine_pace trains the lab run
        print(floor_line(wall, cpu))
        print(pace_line())
    else:
        sys.exit(__doc__.split("\n\n")[1])


if __name__ == "__main__":
    main(sys.argv[1:])
