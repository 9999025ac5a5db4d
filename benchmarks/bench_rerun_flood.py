"""What a client asking for script runs as fast as it can costs every other student's page.

    python benchmarks/bench_rerun_flood.py [--floods 0 1 2 4] [--rate 50] [--against OTHER_CHECKOUT]

One server process draws every student's page, under one interpreter lock. Against `streamlit run
dashboard/app.py`, `--floods` hand-made clients (benchmarks/protocol_student.py) each ask for a run
of the Train page `--rate` times a second, reading nothing they are sent; meanwhile one student
loads the Train page 12 times, 0.2 s apart. For each number of floods: that student's page-draw
time (median and worst, and the median as a ratio to the quiet server's; "inf" where a page was not
drawn within 30 s), and the server process's CPU in cores. `--against` measures another checkout's
server the same way, in turn (a `git worktree` of an earlier commit), for a before and after.
"""

from __future__ import annotations

import argparse
import asyncio
import math
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(ROOT), str(ROOT / "benchmarks"), str(ROOT / "tests")]

from procfs import cpu_seconds  # noqa: E402
from protocol_student import ProtocolStudent  # noqa: E402

from browser_support import start_server, stop_server  # noqa: E402

LOADS = 12
GIVE_UP = 30  # seconds


async def flood(url: str, rate: float, stop: asyncio.Event) -> None:
    """A client asking for a run of its page `rate` times a second, reading nothing it is sent."""
    async with ProtocolStudent(url, follow_timers=False) as client:
        await client.load()
        while not stop.is_set():
            await client.rerun()
            await asyncio.sleep(1 / rate)


async def student(url: str) -> list[float]:
    """Seconds each of LOADS page loads took one student; a load not drawn in GIVE_UP seconds ends
    the list with infinity."""
    times = []
    async with ProtocolStudent(url, follow_timers=False) as one:
        for _ in range(1 + LOADS):  # the first opens the page
            started = time.monotonic()
            try:
                await asyncio.wait_for(one.load(), GIVE_UP)
            except TimeoutError:
                return [*times, math.inf]
            times.append(time.monotonic() - started)
            await asyncio.sleep(0.2)
    return times[1:]


async def measure(url: str, pid: int, floods: int, rate: float) -> tuple[list[float], float]:
    """The student's load times beside `floods` flooding clients, and the server's cores meanwhile."""
    stop = asyncio.Event()
    clients = [asyncio.create_task(flood(url, rate, stop)) for _ in range(floods)]
    await asyncio.sleep(1.5)  # the floods under way
    cpu, started = cpu_seconds([pid]), time.monotonic()
    times = await student(url)
    cores = (cpu_seconds([pid]) - cpu) / (time.monotonic() - started)
    stop.set()
    await asyncio.gather(*clients)
    return times, cores


def run(checkout: Path, floods: list[int], rate: float) -> dict[int, tuple[list[float], float]]:
    with tempfile.TemporaryDirectory() as folder:
        process, url = start_server(Path(folder) / "streamlit.log", app_root=checkout)
        try:
            asyncio.run(student(url))  # the server's first runs: caches filled, workers started
            return {count: asyncio.run(measure(url, process.pid, count, args.rate)) for count in floods}
        finally:
            stop_server(process)


def report(name: str, results: dict[int, tuple[list[float], float]]) -> None:
    quiet = statistics.median(results[min(results)][0])
    print(f"\n{name}")
    print("| flooding clients | page draw, median ms | worst ms | median / quiet | server cores |")
    print("|---|---|---|---|---|")
    for count, (times, cores) in results.items():
        median, worst = statistics.median(times), max(times)
        print(f"| {count} | {median * 1000:.0f} | {worst * 1000:.0f} | {median / quiet:.2f} | {cores:.2f} |")


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--floods", type=int, nargs="+", default=[0, 1, 2, 4])
    parser.add_argument("--rate", type=float, default=50, help="runs a second each client asks for")
    parser.add_argument("--against", type=Path, help="another checkout, measured in turn with this one")
    args = parser.parse_args()
    floods = sorted(set(args.floods))
    report(f"this checkout ({ROOT})", run(ROOT, floods, args.rate))
    if args.against:
        report(f"other checkout ({args.against})", run(args.against.resolve(), floods, args.rate))
