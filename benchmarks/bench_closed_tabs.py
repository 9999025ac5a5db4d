"""What closed tabs cost the class server's memory.

    python benchmarks/bench_closed_tabs.py [--tabs 6] [--runs 10] [--big]

Against `streamlit run dashboard/app.py`, protocol-level students (benchmarks/protocol_student.py,
no browser) open a tab one after another; each trains `--runs` runs and closes. The server
process's resident memory is read after each tab. `--big` trains the largest network any config
builds (an LSTM, every size at its bound) on 20 sequences for one epoch, which passes every
per-run budget; otherwise the lab run.

Streamlit keeps a closed tab's whole session, its session_state with the runs and their networks,
for a reconnect: at most 128 sessions, each until 120 s after it closed, and an expired one goes
only at the next disconnect. These students send no cookie, so RNN Lab's own shelf
(dashboard.keeping.RunShelf) keeps nothing of theirs: what grows is Streamlit's store.
"""

from __future__ import annotations

import argparse
import asyncio
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(ROOT), str(ROOT / "benchmarks"), str(ROOT / "tests")]

from protocol_student import ProtocolStudent  # noqa: E402

from browser_support import link_query, start_server, stop_server  # noqa: E402
from rnn_core import FIELDS, TrainConfig  # noqa: E402

BIGGEST = TrainConfig(
    cell="lstm",
    num_layers=int(FIELDS["num_layers"].high),
    hidden_size=int(FIELDS["hidden_size"].high),
    embed_size=int(FIELDS["embed_size"].high),
    num_samples=20,
    epochs=1,
)
RUN_WAIT = 1.5  # seconds after a Train click by which its run is over (the biggest network: ~0.4 s)


def resident_mb(pid: int) -> float:
    with open(f"/proc/{pid}/status") as status:
        return next(int(line.split()[1]) / 1000 for line in status if line.startswith("VmRSS"))


async def tab(url: str, query: str, runs: int) -> int:
    """Open a tab, train `runs` runs one after another, close it; how many ended in a result."""
    async with ProtocolStudent(url, query, follow_timers=False) as student:
        await student.load()
        for _ in range(runs):
            await student.click("Train")
            await asyncio.sleep(RUN_WAIT)
            await student.load()  # the page drawn again, with the run's end
        return sum("Trained for" in text for text in student.texts)


async def measure(url: str, pid: int, tabs: int, runs: int, query: str) -> None:
    print(f"server before any tab: {resident_mb(pid):.0f} MB")
    before = None
    for number in range(1, tabs + 1):
        ended = await tab(url, query, runs)
        now = resident_mb(pid)
        grew = "" if before is None else f" ({now - before:+.0f} MB)"
        print(f"after tab {number} closed ({ended} run results drawn): server {now:.0f} MB{grew}", flush=True)
        before = now


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tabs", type=int, default=6)
    parser.add_argument("--runs", type=int, default=10)
    parser.add_argument("--big", action="store_true", help="the biggest network instead of the lab run")
    args = parser.parse_args()
    query = link_query(BIGGEST) if args.big else ""
    with tempfile.TemporaryDirectory() as folder:
        process, url = start_server(Path(folder) / "streamlit.log")
        try:
            asyncio.run(measure(url, process.pid, args.tabs, args.runs, query))
        finally:
            stop_server(process)


if __name__ == "__main__":
    main()
