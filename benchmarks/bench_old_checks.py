"""Issue 11's "today's checks at least 2× faster": the suite the issue was filed against, run as it
ran then, beside the tests of the same names run as this tree runs its suite.

    python benchmarks/bench_old_checks.py [REV]     # REV: e7393b7 (280 tests, "2 m 12 s" then)

1. A clone of this repository at REV runs its own test command (pytest, one process), with this
   file as a pytest plugin that records each test's machine CPU (suite_cpu.busy_seconds).
2. This tree runs the tests that have the same names here (`bash scripts/test.sh ID ...`: both
   cores, the quick tests beside the ones that wait on a page).
Both run on the same machine within minutes of each other: its pace moves more from day to day
than the suite does (BENCHMARKS.md). A test renamed since REV is not counted on either side; the
table says how much of REV's CPU that leaves out. Run it on an otherwise idle machine.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import pytest
from suite_cpu import busy_seconds  # this file's folder is on the path, as a script and as a plugin

ROOT = Path(__file__).resolve().parents[1]
FILED_AGAINST = "e7393b7"
RECORD = "BENCH_OLD_CHECKS_JSON"  # where the plugin writes {node id: machine CPU seconds}


# ---- the plugin, in the old tree's pytest -------------------------------------------------------
_cpu: dict[str, float] = {}


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_protocol(item):
    started = busy_seconds()
    yield
    _cpu[item.nodeid] = busy_seconds() - started


def pytest_sessionfinish(session):
    if RECORD in os.environ:
        Path(os.environ[RECORD]).write_text(json.dumps(_cpu))


# ---- the benchmark ------------------------------------------------------------------------------
def run_old(rev: str, where: Path) -> tuple[dict[str, float], float, float, int]:
    """REV's suite as it ran then: per-test CPU, wall and machine CPU of the whole pytest, exit code."""
    tree, record = where / "old", where / "old.json"
    subprocess.run(["git", "clone", "-q", str(ROOT), str(tree)], check=True)
    subprocess.run(["git", "-C", str(tree), "checkout", "-q", rev], check=True)
    env = {**os.environ, RECORD: str(record), "PYTHONPATH": str(Path(__file__).parent)}
    wall, cpu = time.monotonic(), busy_seconds()
    plugin = Path(__file__).stem
    done = subprocess.run([sys.executable, "-m", "pytest", "-q", "-p", plugin], cwd=tree, env=env)
    wall, cpu = time.monotonic() - wall, busy_seconds() - cpu
    return json.loads(record.read_text()), wall, cpu, done.returncode


def names_here() -> set[str]:
    listed = subprocess.run(
        [sys.executable, "-m", "pytest", "--collect-only", "-q"], cwd=ROOT, capture_output=True, text=True
    )
    return {line for line in listed.stdout.splitlines() if "::" in line}


def run_new(ids: list[str], where: Path) -> tuple[float, float, int]:
    """The tests `ids` through this tree's test command: its own wall and CPU line, exit code."""
    log = where / "new.log"
    with open(log, "w") as out:
        command = ["bash", "scripts/test.sh", *ids]
        done = subprocess.run(command, cwd=ROOT, stdout=out, stderr=subprocess.STDOUT)
    said = re.search(r"(\d+) s of wall time, (\d+) s of the machine's CPU", log.read_text())
    if said is None:
        sys.exit(f"scripts/test.sh printed no floor line; see {log}")
    return float(said[1]), float(said[2]), done.returncode


def main(rev: str) -> None:
    with tempfile.TemporaryDirectory() as scratch:
        where = Path(scratch)
        old_cpu, old_wall, old_total, old_code = run_old(rev, where)
        here = names_here()
        same = [node for node in old_cpu if node in here]
        new_wall, new_total, new_code = run_new(same, where)
    print(f"{'':48} {'tests':>5} {'wall s':>7} {'machine CPU s':>14}")
    print(f"{rev + ': its suite, as it ran then':48} {len(old_cpu):5d} {old_wall:7.0f} {old_total:14.0f}")
    print(f"{'this tree: the tests of the same names':48} {len(same):5d} {new_wall:7.0f} {new_total:14.0f}")
    left_out = sum(cpu for node, cpu in old_cpu.items() if node not in here)
    print(
        f"{rev}'s suite took {old_wall / new_wall:.2f}× the wall time these tests take here. Its tests "
        f"with no namesake here, left out of this tree's run, spent {left_out:.0f} s of its CPU."
    )
    if old_code or new_code:
        sys.exit(f"a run failed: {rev} exited {old_code}, this tree {new_code}")


if __name__ == "__main__":
    main(sys.argv[1] if len(sys.argv) > 1 else FILED_AGAINST)
