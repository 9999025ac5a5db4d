"""Where the whole suite's CPU goes, by kind of process, as `scripts/test.sh` runs it.

    python benchmarks/suite_processes.py                   # bash scripts/test.sh, then the table
    python benchmarks/suite_processes.py -- COMMAND ...    # any other command (a pytest selection)

benchmarks/suite_cpu.py says which tests hold the machine's CPU; this says which processes spend it.
Most of it is not pytest's: Chromium draws the pages, forkservers and training workers train, each
Streamlit server, Jupyter kernel and command line imports PyTorch anew. While the command runs,
every process in /proc is read every 0.2 s; each one's CPU is what it spent between its first and
its last reading (a process that lived less than 0.2 s is missed, and one that outlives the command
counts only its share). The last line sets the sum beside the machine's busy time from /proc/stat,
which says how much the sampling missed. The sampler itself costs about 1 % of the run's CPU and
is on the table. Run it on an otherwise idle machine.
"""

from __future__ import annotations

import re
import subprocess
import sys
import threading
import time
from collections import defaultdict
from dataclasses import dataclass
from pathlib import Path

# this file's folder is on the path when it runs as a script (tests/test_suite_processes.py puts it there)
import procfs
from suite_cpu import busy_seconds

ROOT = Path(__file__).resolve().parents[1]
EVERY = 0.2  # seconds between readings


@dataclass
class Seen:
    command: str
    parent: int
    first: float  # CPU seconds at the first reading
    last: float  # and at the last one


def read_all(seen: dict[tuple[int, int], Seen]) -> None:
    """One reading of every process, keyed by (pid, start time) so that a reused pid is a new one.
    The command line is read every time: a process first read between its fork and its exec still
    showed its parent's (a test's subprocess, under load, as the pytest worker that started it)."""
    for pid in procfs.pids():
        try:
            read = procfs.stat(pid)
        except (OSError, ValueError):  # ended between the listing and the reading (procfs.stat)
            continue
        key = (pid, read.start)
        # empty for a kernel thread, and for a process that has just ended
        command = procfs.command_line(pid).replace(b"\0", b" ").decode(errors="ignore").strip()
        if key in seen:
            seen[key].last = read.cpu
            seen[key].command = command or seen[key].command
        else:
            seen[key] = Seen(command or f"[{read.name}]", read.parent, read.cpu, read.cpu)


def kind(process: Seen, forkservers: set[int]) -> str:
    """What a process is, from its command line (a training worker keeps its forkserver's)."""
    command = process.command
    if command.startswith("["):  # no command line: a kernel thread
        return "the machine's kernel threads"
    if "chromium" in command or "/proc/self/exe --type=" in command:
        role = re.search(r"--type=(\S+)", command)
        return f"Chromium {role[1] if role else 'browser'}"
    if "multiprocessing.forkserver" in command:
        return "training worker" if process.parent in forkservers else "forkserver (imports PyTorch)"
    table = (  # the first pattern found in the command line names it (a test's files are in pytest-of-*)
        (r"suite_processes\.py", "this sampler"),  # its command line holds the command it runs
        (r"ipykernel", "Jupyter kernel (the notebook tests)"),
        (r"streamlit run", "Streamlit server"),
        (r"exec\(eval\(sys\.stdin", "pytest-xdist worker (the quick tests)"),
        (r"rnn_core/__main__\.py|-m rnn_core\b", "the command line (python -m rnn_core)"),
        (r"-m pytest\b.* -m not alone\b", "pytest, the quick tests (beside those marked alone)"),
        (r"-m pytest\b|pytest/__main__", "pytest (the tests marked alone: pages, classes, replicas)"),
        (r"playwright", "Playwright's driver"),
        (r"haproxy", "HAProxy"),
    )
    for pattern, name in table:
        if re.search(pattern, command):
            return name
    return "other"


def sample(command: list[str]) -> tuple[dict[tuple[int, int], Seen], float, float, int]:
    """Run `command`, reading /proc all the while; the readings, its wall time, the machine's busy
    seconds over it, and its exit code."""
    seen: dict[tuple[int, int], Seen] = {}
    done = threading.Event()

    def reader():
        while not done.is_set():
            read_all(seen)
            done.wait(EVERY)

    wall, busy = time.monotonic(), busy_seconds()
    read_all(seen)
    thread = threading.Thread(target=reader, daemon=True)
    thread.start()
    code = subprocess.run(command, cwd=ROOT).returncode
    done.set()
    thread.join()
    read_all(seen)
    return seen, time.monotonic() - wall, busy_seconds() - busy, code


def table(seen: dict[tuple[int, int], Seen], wall: float, busy: float) -> str:
    forkservers = {pid for (pid, _), p in seen.items() if "multiprocessing.forkserver" in p.command}
    per_kind: dict[str, list[float]] = defaultdict(list)
    for process in seen.values():
        if process.last > process.first:
            per_kind[kind(process, forkservers)].append(process.last - process.first)
    total = sum(map(sum, per_kind.values()))
    lines = [f"{'process':56} {'count':>5} {'CPU s':>7} {'share':>6} {'s each':>7}"]
    for name, spent in sorted(per_kind.items(), key=lambda kv: -sum(kv[1])):
        cpu = sum(spent)
        lines.append(f"{name:56} {len(spent):5d} {cpu:7.1f} {cpu / total:6.1%} {cpu / len(spent):7.2f}")
    others = sorted(
        (p for p in seen.values() if kind(p, forkservers) == "other" and p.last > p.first),
        key=lambda p: p.last - p.first,
        reverse=True,
    )
    for process in others[:5]:  # what "other" is, when it is large
        lines.append(f"  other, {process.last - process.first:5.1f} s: {process.command[:100]}")
    lines.append(
        f"{wall:.0f} s of wall time; the processes read spent {total:.0f} s of CPU, the machine {busy:.0f} s "
        f"(/proc/stat): {total / max(busy, 1e-9):.0%} of it is on the table"
    )
    return "\n".join(lines)


def main(argv: list[str]) -> None:
    if argv and argv[0] != "--":
        sys.exit(__doc__.split("\n\n")[1])
    command = argv[1:] or ["bash", "scripts/test.sh"]
    seen, wall, busy, code = sample(command)
    print("---- the machine's CPU by process (benchmarks/suite_processes.py) ----")
    print(table(seen, wall, busy))
    sys.exit(code)


if __name__ == "__main__":
    main(sys.argv[1:])
