"""Training in worker processes, each run inside a memory and a time budget.

Why processes: at the lab's sizes PyTorch spends its time in per-operation Python overhead, which
holds the interpreter lock, so runs in threads of one process queue behind each other (and behind
every student's page). Separate processes train truly side by side, and a run that goes wrong (out
of memory, a crash) takes down its own worker, never the server.

How: the server starts a forkserver once (`dashboard.forkserver`), with PyTorch and rnn_core
imported and warmed up in it (`dashboard.forkserver_preload`); each worker is forked from that
clean, single-threaded process, never from the threaded server, and shares its memory pages. A
worker trains one run at a time:

    server  --("train", token, config)-->  worker      rnn_core.train(config), one PyTorch thread
    server  <--("events", [...])----------  worker      batched, a few times a second
    server  --("stop", token)------------>  worker      checked before every batch
    server  <--("finished", event, bytes)-  worker      the model comes back as checkpoint bytes

The server side (`Worker.train`) watches the worker while it trains: its memory (from /proc), the
wall clock, and whether it is alive. Over a budget or dead, the run ends with a sentence for the
student and the worker is replaced; nobody else's run notices.
"""

from __future__ import annotations

import contextlib
import gc
import multiprocessing
import os
import resource
import signal
import threading
import time
from collections.abc import Callable
from dataclasses import replace
from multiprocessing.connection import Connection
from typing import Any

from dashboard import forkserver
from rnn_core import BatchEnd, RunFinished, TrainConfig, checkpoint, train

FLUSH_SECONDS = 0.1  # a worker sends its batch events at most this often
POLL_SECONDS = 0.05  # the server checks a training worker's memory and clock this often
STOP_GRACE_SECONDS = 10.0  # a worker asked to stop that has not stopped by then is killed
MEMORY_SLACK_MB = 32  # the hard cap sits this far above the estimate's budget
PAGE_BYTES = os.sysconf("SC_PAGE_SIZE")


class WorkerStop:
    """The stop flag `rnn_core.train` checks before every batch, read from the server's pipe."""

    def __init__(self, conn: Connection, token: int):
        self._conn, self._token, self._set = conn, token, False

    def is_set(self) -> bool:
        while not self._set and self._conn.poll():
            message = self._conn.recv()  # only ("stop", token) arrives while a run trains
            self._set = message == ("stop", self._token)
        return self._set


def _limit_memory(budget_mb: float) -> None:
    """A hard cap on the worker's address space: an allocation past it fails inside PyTorch."""
    with open("/proc/self/statm") as statm:
        size_now = int(statm.read().split()[0]) * PAGE_BYTES
    cap = size_now + int((budget_mb + MEMORY_SLACK_MB) * 1e6)
    resource.setrlimit(resource.RLIMIT_AS, (cap, cap))


def _release_memory() -> None:
    """Hand freed memory back to the system between runs, so the next run starts small."""
    gc.collect()
    try:
        import ctypes

        ctypes.CDLL("libc.so.6").malloc_trim(0)
    except (OSError, AttributeError):  # not glibc: the memory stays reserved, and is reused
        pass


def _own_memory_mb(pid: int | str = "self") -> float:
    """Resident anonymous memory of a process (resident minus file-backed and shared pages).

    Pages a worker still shares with the forkserver count from its start, so what grows is what
    this worker added; library code it reads in does not count. 0 once the process is gone.
    """
    try:
        with open(f"/proc/{pid}/statm") as statm:
            _, resident, shared, *_ = (int(field) for field in statm.read().split())
    except (OSError, ValueError):
        return 0.0
    return (resident - shared) * PAGE_BYTES / 1e6


def _out_of_memory(err: BaseException) -> bool:
    return isinstance(err, MemoryError) or "can't allocate memory" in str(err)


def _train_one(conn: Connection, token: int, config: TrainConfig) -> None:
    """Train one run, streaming its events; the model goes back as checkpoint bytes."""
    pending: list[Any] = []
    flushed = time.monotonic()
    for event in train(config, WorkerStop(conn, token), num_threads=1):
        if isinstance(event, RunFinished):
            conn.send(("events", pending))
            conn.send(("finished", replace(event, model=None), checkpoint.to_bytes(event.model)))
            return
        pending.append(event)
        if not isinstance(event, BatchEnd) or time.monotonic() - flushed > FLUSH_SECONDS:
            conn.send(("events", pending))
            pending, flushed = [], time.monotonic()


def serve(conn: Connection, memory_budget_mb: float) -> None:
    """A worker's life: train each run the server sends, until the pipe closes. The server may also
    die mid-run (killed: a dead replica, the out-of-memory killer); then there is nobody left to
    tell anything, and the worker ends at its next look at the pipe. A server that stops normally
    ends its workers itself."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl+C on the server: the server ends us
    _limit_memory(memory_budget_mb)
    with contextlib.suppress(EOFError, ConnectionError):  # the server has gone
        while True:
            message = conn.recv()
            if message[0] != "train":
                continue  # a stop for a run that already ended
            _, token, config = message
            try:
                _train_one(conn, token, config)
            except (EOFError, ConnectionError):
                raise  # the server has gone
            except BaseException as err:  # the server must hear why, whatever it was
                kind = "memory" if _out_of_memory(err) else "error"
                conn.send((kind, f"{type(err).__name__}: {err}"))
                if kind == "memory":
                    return  # the server replaces a worker that ran out of memory
            _release_memory()
            conn.send(("idle", _own_memory_mb()))  # what this worker still holds, ready for the next run


class Worker:
    """The server's handle on one worker process."""

    def __init__(self, context: multiprocessing.context.BaseContext, memory_budget_mb: float):
        self.memory_budget_mb = memory_budget_mb
        self.conn, child = context.Pipe()
        self.process = context.Process(
            target=serve, args=(child, memory_budget_mb), name="rnn-lab-worker", daemon=True
        )
        forkserver.start_process(self.process)
        child.close()
        self.baseline_mb = self.memory_mb()
        self._token = 0

    @property
    def pid(self) -> int | None:
        return self.process.pid

    def alive(self) -> bool:
        return self.process.is_alive()

    def memory_mb(self) -> float:
        """The memory the worker holds of its own now (see _own_memory_mb)."""
        return _own_memory_mb(self.process.pid)

    def wait_idle(self, timeout: float = 5.0) -> float | None:
        """After a run: wait until the worker has let go of the run's memory; what it still holds.

        None if it died or did not answer (it must then be replaced).
        """
        deadline = time.monotonic() + timeout
        try:
            while self.conn.poll(max(0.0, deadline - time.monotonic())):
                kind, *payload = self.conn.recv()
                if kind == "idle":
                    return payload[0]
        except (EOFError, OSError):
            pass
        return None

    def kill(self, close_pipe: bool = True) -> None:
        """End the process, and close the server's end of its pipe unless another thread may be
        reading it: closing it under a reader makes the reader's next read fail with a TypeError
        (the handle is gone), where the process's end gives it a clean EOFError."""
        if self.process.is_alive():
            self.process.kill()
        self.process.join(timeout=5)
        if close_pipe:
            with contextlib.suppress(OSError):  # already closed
                self.conn.close()

    def how_it_ended(self) -> str:
        self.process.join(timeout=1)
        code = self.process.exitcode
        if code is not None and code < 0:
            return f"was ended by signal {signal.Signals(-code).name}"
        return f"exited with code {code}" if code is not None else "stopped answering"

    def train(
        self,
        config: TrainConfig,
        record: Callable[[object], None],
        stop: threading.Event,
        wall_seconds: float,
    ) -> tuple[str, str] | None:
        """Train `config` here, passing every event to `record`, until the run ends.

        Returns None when the run ended with its own RunFinished (recorded; if the clock ran
        out, its reason says so), or (state, message) when it ended without one: over its memory,
        an internal error, or a worker that died. A dead worker must then be replaced.
        """
        self._token += 1
        token, started = self._token, time.monotonic()
        asked_to_stop: float | None = None
        over_time: str | None = None  # why the server stopped the run, if it was the clock
        cap_mb = self.memory_budget_mb + MEMORY_SLACK_MB
        try:
            self.conn.send(("train", token, config))
            while True:
                if self.conn.poll(POLL_SECONDS):
                    kind, *payload = self.conn.recv()
                    if kind == "events":
                        for event in payload[0]:
                            record(event)
                    elif kind == "finished":
                        event, weights = payload
                        reason = over_time or event.reason  # the student reads why it stopped
                        record(replace(event, reason=reason, model=checkpoint.from_bytes(weights)))
                        return None
                    else:  # "memory" or "error": the run could not go on
                        return _failure(kind, payload[0], self.memory_budget_mb)
                grown = self.memory_mb() - self.baseline_mb
                if grown > cap_mb:
                    self.process.kill()
                    return "stopped", _memory_sentence(self.memory_budget_mb)
                late = time.monotonic() - started > wall_seconds
                if asked_to_stop is None and (stop.is_set() or late):
                    self.conn.send(("stop", token))
                    asked_to_stop = time.monotonic()
                    over_time = None if stop.is_set() else _time_sentence(wall_seconds)
                elif asked_to_stop is not None and time.monotonic() - asked_to_stop > STOP_GRACE_SECONDS:
                    self.process.kill()  # stuck in one enormous batch: no model to keep
                    return "stopped", over_time or "Stopped by request in the middle of a very slow batch."
        except (EOFError, OSError, BrokenPipeError):
            pass
        return "failed", (
            f"The run failed: the process training it {self.how_it_ended()}. Nobody else's run was "
            "affected; click Train to try again."
        )


def _failure(kind: str, detail: str, budget_mb: float) -> tuple[str, str]:
    if kind == "memory":
        return "stopped", _memory_sentence(budget_mb)
    return "failed", f"The run failed with an internal error ({detail})."


def _memory_sentence(budget_mb: float) -> str:
    return (
        f"Stopped: it needed more than {budget_mb:.0f} MB of memory, the limit per run on this "
        "shared server. Use a smaller batch size, hidden size or sequence length."
    )


def _time_sentence(wall_seconds: float) -> str:
    return (
        f"Stopped: it trained for more than {wall_seconds:g} s, the limit per run on this shared "
        "server. The model so far is kept; use fewer epochs or a smaller dataset."
    )
