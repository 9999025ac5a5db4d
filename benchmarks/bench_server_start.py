"""The first student after a server starts: how long until their page, and their first run's result.

    python benchmarks/bench_server_start.py [--rounds 5]

A classroom server starts often: Streamlit Community Cloud puts an idle app to sleep and wakes it
for the first visitor, and each replica behind the proxy starts on its own. Each round starts a
fresh `streamlit run dashboard/app.py`, waits until it answers its health check, and then a
protocol-level student (benchmarks/protocol_student.py) opens the page, clicks Train on the lab
run as soon as the page is drawn, and waits for its test accuracy. A second student then opens
the page of the now warm server, for comparison. Medians over the rounds.
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

from protocol_student import ProtocolStudent  # noqa: E402

from browser_support import start_server, stop_server  # noqa: E402


async def first_students(url: str) -> dict[str, float]:
    """Seconds from the server's first answer: first page, first result; then a warm server's page."""
    began = time.perf_counter()
    async with ProtocolStudent(url) as student:
        await student.load()
        page = time.perf_counter() - began
        await student.click("Train")
        await student.read_until(lambda: "Test accuracy" in student.metrics, timeout=120)
        result = time.perf_counter() - began
    began = time.perf_counter()
    async with ProtocolStudent(url) as later:
        await later.load()
        warm = time.perf_counter() - began
    return {"first page": page, "first run's result": result, "a page of the warm server": warm}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=5)
    rounds = parser.parse_args().rounds
    measured: dict[str, list[float]] = {}
    with tempfile.TemporaryDirectory() as tmp:
        for i in range(rounds):
            process, url = start_server(Path(tmp) / f"streamlit-{i}.log")
            try:
                for name, seconds in asyncio.run(first_students(url)).items():
                    measured.setdefault(name, []).append(seconds)
            finally:
                stop_server(process)
    median = {name: statistics.median(values) for name, values in measured.items()}
    print(f"| measure (median of {rounds} fresh servers, from the server's first health answer) | s |")
    print("|---|---|")
    for name, seconds in median.items():
        print(f"| {name} | {seconds:.2f} |")


if __name__ == "__main__":
    main()
