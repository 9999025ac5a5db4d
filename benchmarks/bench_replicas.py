"""A class through the proxy: 60 protocol-level students on 2 replicas behind HAProxy, this machine.

    python benchmarks/bench_replicas.py [--students 60]

`deploy/local.sh 2 PORT` brings up two replicas (one training worker each: two cores) and HAProxy.
The same class then clicks Train together twice on the same pair: once through the proxy (each
student loads the page first, as a browser does, and keeps the affinity cookie it got), once
straight to the replicas (half the class on each, by port). The difference is the proxy's cost.
Reported: the time until each student's `Test accuracy` arrives (p50, p95), CPU per student in the
replicas' servers, their workers and HAProxy, and how the proxy spread the class.
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import subprocess
import sys
import time
from collections import Counter
from pathlib import Path

import requests

ROOT = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(ROOT), str(ROOT / "benchmarks"), str(ROOT / "tests")]

from procfs import cpu_seconds, family  # noqa: E402
from protocol_student import ProtocolStudent  # noqa: E402
from test_replicas import Replicas  # noqa: E402


def through_proxy(url: str) -> tuple[str, str]:
    """Load the page as a browser does: (the cookie header it then sends, its replica)."""
    http = requests.Session()
    http.get(url + "/", timeout=30)
    health = http.get(url + "/_stcore/health", timeout=30)
    return "; ".join(f"{k}={v}" for k, v in http.cookies.items()), health.headers["X-RNN-Lab-Replica"]


async def student(url: str, cookie: str, seed: int, loaded: list[int], start: asyncio.Event) -> float:
    async with ProtocolStudent(url, f"seed={seed}", cookie=cookie) as me:
        await me.load()
        loaded.append(seed)
        await start.wait()
        started = time.perf_counter()
        await me.click("Train")
        try:
            await me.read_until(lambda: "Test accuracy" in me.metrics, timeout=120)
        except TimeoutError:
            print(
                f"student {seed} on {url}: no result; ran {me.finished_runs} times, timers {list(me._timers)}"
            )
            raise
        return time.perf_counter() - started


async def a_class(seats: list[tuple[str, str]], on_click) -> list[float]:
    loaded: list[int] = []
    start = asyncio.Event()
    tasks = [
        asyncio.create_task(student(url, cookie, i, loaded, start)) for i, (url, cookie) in enumerate(seats)
    ]
    while len(loaded) < len(seats):
        await asyncio.sleep(0.05)
    await asyncio.sleep(1)
    on_click()
    start.set()
    return await asyncio.gather(*tasks)


def cpu(running: Replicas, proxy_pid: int) -> tuple[float, float, float]:
    """CPU seconds so far: the replicas' server processes, their workers, HAProxy."""
    servers = cpu_seconds(list(running.pids.values()))
    everything = cpu_seconds([p for pid in running.pids.values() for p in family(pid)])
    return servers, everything - servers, cpu_seconds([proxy_pid])


def measure(running: Replicas, proxy_pid: int, seats: list[tuple[str, str]]) -> dict:
    at_click = []
    seconds = sorted(asyncio.run(a_class(seats, lambda: at_click.append(cpu(running, proxy_pid)))))
    used = [(b - a) / len(seats) for a, b in zip(at_click[0], cpu(running, proxy_pid), strict=True)]
    return {
        "p50": statistics.median(seconds),
        "p95": seconds[max(0, round(0.95 * len(seats)) - 1)],
        "server": used[0],
        "workers": used[1],
        "proxy": used[2],
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--students", type=int, default=60)
    parser.add_argument("--direct-first", action="store_true", help="measure straight to the replicas first")
    args = parser.parse_args()
    running = Replicas(2, Path("/tmp/rnn-lab-bench-replicas.log"))
    try:
        found = subprocess.check_output(["pgrep", "-P", str(running.process.pid), "haproxy"])
        proxy_pid = int(found.split()[0])
        replicas = [f"http://127.0.0.1:{running.port + 1 + i}" for i in range(len(running.pids))]
        for url in replicas:  # each replica's first visitor starts its training pool: not part of a class
            asyncio.run(a_class([(url, "")], lambda: None))
        proxied = [through_proxy(running.url) for _ in range(args.students)]
        spread = Counter(replica for _, replica in proxied)
        seats = [(replicas[i % len(replicas)], "") for i in range(args.students)]
        if args.direct_first:  # the second class on a pair runs warmer: measure both orders
            direct = measure(running, proxy_pid, seats)
        via = measure(running, proxy_pid, [(running.url, cookie) for cookie, _ in proxied])
        if not args.direct_first:
            direct = measure(running, proxy_pid, seats)
    finally:
        running.stop()
    print(f"spread by the proxy: {dict(spread)}")
    print("| measure | through the proxy | straight to the replicas |")
    print("|---|---|---|")
    for label, key in (("p50 click -> Test accuracy", "p50"), ("p95", "p95")):
        print(f"| {label} | {via[key]:.1f} s | {direct[key]:.1f} s |")
    for label, key in (("server CPU per student", "server"), ("worker CPU per student", "workers"),
                       ("HAProxy CPU per student", "proxy")):  # fmt: skip
        print(f"| {label} | {via[key]:.3f} s | {direct[key]:.3f} s |")


if __name__ == "__main__":
    main()
