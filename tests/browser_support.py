"""Starting `streamlit run` and Chromium the way the browser tests and benchmarks both need.

The server is started as Streamlit's own end-to-end suite starts it and polled on
/_stcore/health; Chromium is Debian's, driven by the playwright package (nothing downloaded).
A test that acts while a run trains asks for a run lasting some seconds on this machine
(`lab_run_lasting`), not for a number of epochs.
"""

from __future__ import annotations

import functools
import math
import os
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path
from urllib.parse import urlencode

from benchmarks.procfs import command_line, family
from dashboard.controls import link_params
from dashboard.limits import too_big
from rnn_core import FIELDS, TrainConfig, fit

ROOT = Path(__file__).resolve().parents[1]
CHROMIUM = Path("/usr/bin/chromium")
# Every simulated student's page must behave like a tab in front: Chromium otherwise throttles the
# timers of background pages, and Streamlit's run_every polling (a setInterval) with them.
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--no-first-run",
    "--disable-background-timer-throttling",
    "--disable-renderer-backgrounding",
    "--disable-backgrounding-occluded-windows",
    "--disable-features=IntensiveWakeUpThrottling,CalculateNativeWinOcclusion",
]


def launch_chromium(playwright):
    """Debian's Chromium with the flags above, driven by a playwright (`sync_playwright()`)."""
    return playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)


def launch_profile(playwright, folder: Path, **options):
    """The same Chromium on a profile kept in `folder` (a persistent context): it keeps the code it
    compiled between pages. `options`: the context's, such as its viewport."""
    return playwright.chromium.launch_persistent_context(
        folder, executable_path=str(CHROMIUM), args=CHROMIUM_ARGS, **options
    )


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def start_server(log_path: Path, app_root: Path = ROOT, **env: str) -> tuple[subprocess.Popen, str]:
    """`streamlit run dashboard/app.py` on a free port; returns (process, url) once healthy.
    `app_root`: the checkout whose app is served (a benchmark compares two commits)."""
    port = free_port()
    log = open(log_path, "w")  # noqa: SIM115 - the process writes to it until stop_server
    command = [sys.executable, "-m", "streamlit", "run", "dashboard/app.py", "--server.headless", "true"]
    command += ["--server.port", str(port)]  # everything else as the checkout's .streamlit/config.toml says
    command += ["--browser.gatherUsageStats", "false"]
    process = subprocess.Popen(
        command, cwd=app_root, stdout=log, stderr=subprocess.STDOUT, env={**os.environ, **env}
    )
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 90
    while True:
        try:
            if urllib.request.urlopen(f"{url}/_stcore/health", timeout=2).read() == b"ok":
                return process, url
        except OSError:
            pass
        if process.poll() is not None or time.monotonic() > deadline:
            raise RuntimeError(f"streamlit did not start; see {log_path}")
        time.sleep(0.3)


def stop_server(process: subprocess.Popen) -> None:
    process.terminate()
    process.wait(timeout=20)


def thread_stacks(pid: int) -> str:
    """What every thread of a Python process and of its children (a server's forkserver and
    workers) is doing now, as py-spy dumps them one process at a time, so that a child that cannot
    be read (one just starting) costs only its own part: py-spy's error stands in for it."""
    dumps = []
    for process in family(pid):
        try:
            command = ["py-spy", "dump", "--pid", str(process)]
            dumped = subprocess.run(command, capture_output=True, text=True, timeout=30)
            dumps.append(dumped.stdout or f"process {process}: {dumped.stderr.strip()}")
        except (OSError, subprocess.TimeoutExpired) as error:
            dumps.append(f"process {process}: py-spy could not read it: {error}")
    return "\n".join(dumps)


def server_report(process: subprocess.Popen, log_path: Path) -> Callable[[str], str]:
    """What a protocol-level student that waited in vain says of its server (ProtocolStudent's
    server_report), given its session's id: the lines of the server's log that name that session
    (at Streamlit's debug level, `STREAMLIT_LOGGER_LEVEL=debug`, they include each message the
    server discards and each request dashboard.serving drops or holds), then its threads."""

    def report(session_id: str) -> str:
        lines = log_path.read_text(errors="replace").splitlines()
        named = [line for line in lines if session_id and session_id[:8] in line][-SESSION_LOG_LINES:]
        return (
            f"the server's log on session {session_id[:8]} (its last {SESSION_LOG_LINES} lines):\n"
            + "\n".join(named)
            + f"\nthe server's threads now:\n{thread_stacks(process.pid)}"
        )

    return report


SESSION_LOG_LINES = 30


def workers_of(server_pid: int) -> list[int]:
    """The server's training workers: the children of its forkserver (dashboard.workers)."""
    forkservers = [pid for pid in family(server_pid) if b"multiprocessing.forkserver" in command_line(pid)]
    return [pid for forkserver in forkservers for pid in family(forkserver) if pid != forkserver]


def wait_for_workers(server_pid: int, count: int, timeout: float = 60.0) -> None:
    """Until the server has `count` training workers: it starts them in the background at its
    first page (dashboard.pool.TrainingPool), importing PyTorch in its forkserver meanwhile."""
    deadline = time.monotonic() + timeout
    while len(workers_of(server_pid)) < count:
        assert time.monotonic() < deadline, "the server's training workers did not start"
        time.sleep(0.1)


def time_lab_epoch(num_samples: int) -> float:
    """Seconds one epoch of the lab run with `num_samples` sequences takes here now, on one PyTorch
    thread as a worker trains (a server that shares its cores with Chromium takes longer)."""
    fit(TrainConfig(epochs=1, num_samples=num_samples))  # PyTorch's first-run costs, not timed
    epochs = 3
    start = time.perf_counter()
    fit(TrainConfig(epochs=epochs, num_samples=num_samples))
    return (time.perf_counter() - start) / epochs


@functools.cache
def epoch_seconds(num_samples: int) -> float:
    """time_lab_epoch, timed once per test process."""
    return time_lab_epoch(num_samples)


def lab_run_lasting(seconds: float, num_samples: int = 1000) -> TrainConfig:
    """The lab run with as many epochs as take about `seconds` to train on this machine.

    A fixed count of epochs is no length of time: the same lab run took 0.4 s one day and 1.2 s
    another on this kind of 2-core machine, and a test that must see a run still training (its
    curves growing, its picker saying "running", a Stop landing mid-run) failed on the fast day.
    The run is never longer than the server takes (dashboard.limits, an estimate from the config).
    """
    epochs = math.ceil(seconds / epoch_seconds(num_samples))
    config = TrainConfig(num_samples=num_samples, epochs=max(1, min(epochs, int(FIELDS["epochs"].high))))
    while too_big(config) and config.epochs > 1:
        config = replace(config, epochs=config.epochs - 1)
    return config


def link_query(config: TrainConfig) -> str:
    """The app's own link query for a config: `num_samples=2000&epochs=12`."""
    return urlencode(link_params(config))


def long_run_query() -> str:
    """The link query of a lab run of about 20 s on this machine: long enough to act during it
    (click Stop or another widget, queue a second student, switch pages, measure a page watching)."""
    return link_query(lab_run_lasting(20, num_samples=4000))
