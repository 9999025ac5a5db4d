"""A process as Linux's /proc shows it (proc(5)): its name, parent, CPU and start, its command line,
and its descendants, for the tests and benchmarks that measure what processes spend.

It imports nothing of RNN Lab's, PyTorch's or Streamlit's, so that a sampler reading every process
(suite_processes.py) adds next to nothing to what it measures. Every reader raises OSError, or
returns nothing, for a process that has ended meanwhile: processes come and go between a listing
of /proc and a reading.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

TICKS = os.sysconf("SC_CLK_TCK")


@dataclass(frozen=True)
class Stat:
    """One reading of /proc/PID/stat."""

    name: str  # the executable's name, in parentheses in the file (it may hold spaces and parentheses)
    parent: int
    cpu: float  # user + system seconds
    children_cpu: float  # user + system seconds of the children it has waited for
    start: int  # clock ticks after the machine's boot: with the pid, it names one process for good


def stat(pid: int) -> Stat:
    """The process's /proc/PID/stat; OSError (or ValueError, for a file emptied as it ended) if it
    has ended."""
    text = Path(f"/proc/{pid}/stat").read_text()
    name = text[text.index("(") + 1 : text.rindex(")")]
    fields = text[text.rindex(")") + 2 :].split()  # from field 3, the state: proc(5)'s number minus 3
    return Stat(
        name=name,
        parent=int(fields[1]),
        cpu=(int(fields[11]) + int(fields[12])) / TICKS,
        children_cpu=(int(fields[13]) + int(fields[14])) / TICKS,
        start=int(fields[19]),
    )


def pids() -> list[int]:
    """Every process now."""
    return [int(entry) for entry in os.listdir("/proc") if entry.isdigit()]


def command_line(pid: int) -> bytes:
    """The process's arguments, each ended by a NUL byte; empty for a kernel thread or a process that
    has ended. A process read between its fork and its exec still shows its parent's."""
    try:
        return Path(f"/proc/{pid}/cmdline").read_bytes()
    except OSError:
        return b""


def family(root: int) -> list[int]:
    """The process and all its descendants (a server, its forkserver and its workers)."""
    children: dict[int, list[int]] = {}
    for pid in pids():
        try:
            children.setdefault(stat(pid).parent, []).append(pid)
        except (OSError, ValueError):
            continue
    found, todo = [], [root]
    while todo:
        pid = todo.pop()
        found.append(pid)
        todo += children.get(pid, [])
    return found


def cpu_seconds(processes: list[int]) -> float:
    """CPU seconds these processes have used, with any children they have waited for; a process
    that has ended meanwhile counts 0."""
    total = 0.0
    for pid in processes:
        try:
            read = stat(pid)
        except (OSError, ValueError):
            continue
        total += read.cpu + read.children_cpu
    return total
