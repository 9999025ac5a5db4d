"""A run in the dashboard: the `Job` that follows it, and the `JobView` a page reads of it.

Why not in the page script: Streamlit reruns the page script on every click, and a loop there dies
with it. So a `Job` is driven by a plain `threading.Thread` that hands the run to a worker process
(dashboard.pool, dashboard.workers) and records the events that come back under a lock; the page
only reads a `JobView` copy. Neither the thread nor the worker ever calls Streamlit. A session's
jobs are kept in dashboard.keeping.SessionRuns.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, replace

from rnn_core import BatchEnd, EpochEnd, ProbeSnapshot, RunFinished, RunStarted, TrainConfig, TrainedModel
from rnn_core.words import percent

ACTIVE = ("queued", "running")
SNAPSHOTS_LET_GO, NETWORK_LET_GO = "hidden-state snapshots", "trained network"  # what a job can let go of


@dataclass(frozen=True)
class JobView:
    """A consistent copy of a job's progress, safe to render while the job goes on."""

    run_id: int
    label: str
    config: TrainConfig
    state: str  # queued | running | completed | stopped | diverged | failed
    queue_place: int | None  # 1 = next to start
    behind_own_run: bool  # queued behind others' first runs: its browser has another run in flight
    started: RunStarted | None
    batches: tuple[BatchEnd, ...]  # evenly thinned
    epochs: tuple[EpochEnd, ...]
    snapshots: tuple[ProbeSnapshot, ...]
    finished: RunFinished | None
    message: str  # what happened, for a student
    elapsed: float
    steps_done: int
    let_go: tuple[str, ...] = ()  # what the server let go of to make room (dashboard.keeping)

    @property
    def active(self) -> bool:
        return self.state in ACTIVE

    @property
    def name(self) -> str:
        """'Run 3': how charts, tables and sentences name a run (its number in this session)."""
        return f"Run {self.run_id}"

    @property
    def title(self) -> str:
        """How every page names a run: 'Run 3: lab, lstm' (and its experiment, if it is part of one)."""
        what = f"{self.config.task}, {self.config.cell}"
        return f"{self.name}: {what}" + (f" ({self.label})" if self.label else "")

    @property
    def picker_label(self) -> str:
        """How every page's run picker lists a run: its title, what it is doing, and its test
        accuracy once it has a model ('Run 3: lab, lstm, completed, test 96.5%')."""
        said = f"{self.title}, {self.state}"
        return said + (
            f", test {percent(self.finished.test_accuracy, exact_ends=True)}"
            if self.finished is not None
            else ""
        )

    @property
    def progress(self) -> float:
        total = self.started.total_batches if self.started else 0
        return 1.0 if self.finished else (self.steps_done / total if total else 0.0)

    @property
    def seconds_left(self) -> float | None:
        """Time left at the pace so far; None until there is a pace to go by."""
        if self.state != "running" or self.progress <= 0.02:
            return None
        return self.elapsed * (1 - self.progress) / self.progress

    @property
    def model(self) -> TrainedModel | None:
        return self.finished.model if self.finished else None

    @property
    def let_go_note(self) -> str:
        """What the server let go of from this run, for a student; "" if nothing."""
        if not self.let_go:
            return ""
        return (
            f"To make room on the shared server, {self.name.lower()}'s {' and its '.join(self.let_go)} "
            f"{'was' if self.let_go == (NETWORK_LET_GO,) else 'were'} let go; its curves and results "
            "stay. Train it again to get them back."
        )


class Job:
    """One training run: its config, its stop flag and what it has reported so far."""

    def __init__(self, config: TrainConfig, run_id: int, max_batch_points: int, label: str = ""):
        self.run_id = run_id  # numbered per browser session: a student's first run is run 1
        self.owner = ""  # the browser it was started in, for the pool's fair queue ("": unknown)
        self.label = label  # e.g. which experiment and which side of it
        self.then: Callable[[], None] | None = None  # called by the worker when the job is over
        self.kept: Callable[[], None] | None = None  # called when the job keeps more memory (a budget)
        self.config = config
        self.stop = threading.Event()
        self.done = threading.Event()
        self._lock = threading.Lock()
        self._max_points = max_batch_points
        self._stride = 1  # keep every stride-th batch: the series stays evenly thinned
        self._state, self._message = "queued", "Waiting for a free place on the server."
        self._started: RunStarted | None = None
        self._batches: list[BatchEnd] = []
        self._epochs: list[EpochEnd] = []
        self._snapshots: list[ProbeSnapshot] = []
        self._keeps_snapshots = True
        self._finished: RunFinished | None = None
        self._kept_bytes = {SNAPSHOTS_LET_GO: 0, NETWORK_LET_GO: 0}  # what it keeps in memory, in bytes
        self._let_go: list[str] = []
        self._steps = 0
        self._t0: float | None = None
        self._t1: float | None = None
        self.queue_place: int | None = None  # kept up to date by the pool
        self.behind_own_run = False  # so is this (dashboard.pool, _line_up)

    def record(self, event: object) -> None:
        """Keep one event from rnn_core.train (called in the worker thread)."""
        with self._lock:
            if isinstance(event, BatchEnd):
                self._steps = event.step
                if event.step % self._stride == 0:
                    self._batches.append(event)
                if len(self._batches) >= self._max_points:  # thin to half, keep the pace
                    self._batches, self._stride = self._batches[1::2], self._stride * 2
            elif isinstance(event, EpochEnd):
                self._epochs.append(event)
            elif isinstance(event, ProbeSnapshot):
                if self._keeps_snapshots:
                    self._snapshots.append(event)
                    self._kept_bytes[SNAPSHOTS_LET_GO] += event.nbytes
            elif isinstance(event, RunStarted):
                self._started = event
            elif isinstance(event, RunFinished):
                self._finished, self._state, self._message = event, event.status, event.reason
                self._epochs = event.model.history  # the same EpochEnds, kept once: the model's
                self._kept_bytes[NETWORK_LET_GO] = event.model.weight_bytes
        if self.kept is not None and isinstance(event, ProbeSnapshot | RunFinished):
            self.kept()  # outside the lock: the budget reads every job's

    def waiting_for(self, before: Job) -> None:
        with self._lock:
            self._message = f"Waits for run {before.run_id} to finish, then joins the queue."

    def begin(self) -> None:
        with self._lock:
            self._state, self._message, self._t0 = "running", "Training.", time.perf_counter()

    def end(self, state: str | None = None, message: str | None = None) -> None:
        """Mark the job over (a finished run has already set its own state)."""
        with self._lock:
            if state is not None:
                self._state, self._message = state, message or ""
            self._t1 = time.perf_counter()
        self.done.set()

    def drop_snapshots(self) -> None:
        """Free the hidden-state snapshots, and keep no more (an older run keeps only its curves)."""
        with self._lock:
            self._snapshots, self._keeps_snapshots, self._kept_bytes[SNAPSHOTS_LET_GO] = [], False, 0

    def kept_bytes(self) -> int:
        """The memory this job keeps: its trained network and its hidden-state snapshots."""
        with self._lock:
            return sum(self._kept_bytes.values())

    def let_go(self) -> int:
        """Let go of the heaviest kind of thing this job keeps, snapshots first, then the network
        (for the server's budget: dashboard.keeping); the bytes freed, 0 if it keeps nothing."""
        with self._lock:
            if self._kept_bytes[SNAPSHOTS_LET_GO]:
                self._snapshots, self._keeps_snapshots = [], False
                what = SNAPSHOTS_LET_GO
            elif self._kept_bytes[NETWORK_LET_GO] and self._finished is not None:
                self._finished = replace(self._finished, model=None)  # its numbers stay
                what = NETWORK_LET_GO
            else:
                return 0
            freed, self._kept_bytes[what] = self._kept_bytes[what], 0
            self._let_go.append(what)
            return freed

    @property
    def state(self) -> str:
        """queued | running | completed | stopped | diverged | failed, now (without a whole view)."""
        with self._lock:
            return self._state

    def view(self) -> JobView:
        with self._lock:
            now = self._t1 or time.perf_counter()
            return JobView(
                run_id=self.run_id,
                label=self.label,
                config=self.config,
                state=self._state,
                queue_place=self.queue_place,
                behind_own_run=self.behind_own_run,
                started=self._started,
                batches=tuple(self._batches),
                epochs=tuple(self._epochs),
                snapshots=tuple(self._snapshots),
                finished=self._finished,
                message=self._message,
                elapsed=now - self._t0 if self._t0 else 0.0,
                steps_done=self._steps,
                let_go=tuple(self._let_go),
            )


def find(views: list[JobView], run_id: int) -> JobView:
    """The run with this id in a snapshot of a session's runs (one snapshot keeps a page consistent)."""
    return next(view for view in views if view.run_id == run_id)
