"""Each browser session's runs: a `Job` per run, what a page reads of it, and the runs kept.

Why not in the page script: Streamlit reruns the page script on every click, and a loop there dies
with it. So a `Job` is driven by a plain `threading.Thread` that hands the run to a worker process
(dashboard.pool, dashboard.workers) and records the events that come back under a lock; the page
only reads a `JobView` copy. Neither the thread nor the worker ever calls Streamlit.
"""

from __future__ import annotations

import re
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import partial
from itertools import pairwise
from typing import TYPE_CHECKING

from rnn_core import BatchEnd, EpochEnd, ProbeSnapshot, RunFinished, RunStarted, TrainConfig, TrainedModel
from rnn_core.words import QUOTED_LENGTH

if TYPE_CHECKING:  # the pool runs jobs; a session only hands them to it
    from dashboard.pool import TrainingPool

ACTIVE = ("queued", "running")


@dataclass(frozen=True)
class JobView:
    """A consistent copy of a job's progress, safe to render while the job goes on."""

    run_id: int
    label: str
    config: TrainConfig
    state: str  # queued | running | completed | stopped | diverged | failed
    queue_place: int | None  # 1 = next to start
    started: RunStarted | None
    batches: tuple[BatchEnd, ...]  # evenly thinned
    epochs: tuple[EpochEnd, ...]
    snapshots: tuple[ProbeSnapshot, ...]
    finished: RunFinished | None
    message: str  # what happened, for a student
    elapsed: float
    steps_done: int

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
        return said + (f", test {100 * self.finished.test_accuracy:.1f}%" if self.model is not None else "")

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


class Job:
    """One training run: its config, its stop flag and what it has reported so far."""

    def __init__(self, config: TrainConfig, run_id: int, max_batch_points: int, label: str = ""):
        self.run_id = run_id  # numbered per browser session: a student's first run is run 1
        self.label = label  # e.g. which experiment and which side of it
        self.then: Callable[[], None] | None = None  # called by the worker when the job is over
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
        self._finished: RunFinished | None = None
        self._steps = 0
        self._t0: float | None = None
        self._t1: float | None = None
        self.queue_place: int | None = None  # kept up to date by the pool

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
                self._snapshots.append(event)
            elif isinstance(event, RunStarted):
                self._started = event
            elif isinstance(event, RunFinished):
                self._finished, self._state, self._message = event, event.status, event.reason
                self._epochs = event.model.history  # the same EpochEnds, kept once: the model's

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
        """Free the hidden-state snapshots (an older run keeps only its curves)."""
        with self._lock:
            self._snapshots = []

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
                started=self._started,
                batches=tuple(self._batches),
                epochs=tuple(self._epochs),
                snapshots=tuple(self._snapshots),
                finished=self._finished,
                message=self._message,
                elapsed=now - self._t0 if self._t0 else 0.0,
                steps_done=self._steps,
            )


def find(views: list[JobView], run_id: int) -> JobView:
    """The run with this id in a snapshot of a session's runs (one snapshot keeps a page consistent)."""
    return next(view for view in views if view.run_id == run_id)


@dataclass
class SessionRuns:
    """The runs of one browser session, newest last, bounded."""

    max_kept: int
    keep_snapshots: int
    max_batch_points: int
    max_uploads: int = 3
    jobs: list[Job] = field(default_factory=list)
    uploaded: dict[str, TrainedModel] = field(default_factory=dict)  # label -> model, oldest first
    started: int = 0  # runs started in this session, kept or not
    uploads: int = 0  # files uploaded in this session, kept or not

    @property
    def active(self) -> Job | None:
        return next((j for j in self.jobs if j.state in ACTIVE), None)

    def start(self, config: TrainConfig, pool: TrainingPool, label: str = "") -> Job | None:
        """Start a run unless one is already going (one job per session)."""
        if self.active is not None:
            return None
        job = self._add(config, label)
        pool.submit(job)
        return job

    def start_series(self, runs: list[tuple[str, TrainConfig]], pool: TrainingPool) -> list[Job] | None:
        """Queue (label, config) runs to train one after another, as one job at a time.

        Every run of the series is listed at once (so its run numbers are known); each joins the
        pool's queue when the one before it is over. Stop ends the whole series.
        """
        if not runs or self.active is not None:
            return None
        jobs = [self._add(config, label) for label, config in runs]
        for before, after in pairwise(jobs):
            after.waiting_for(before)
            before.then = partial(self._continue_series, before, after, pool)
        pool.submit(jobs[0])
        return jobs

    @staticmethod
    def _continue_series(before: Job, after: Job, pool: TrainingPool) -> None:
        """Called in the worker when `before` is over: start `after`, or call it off."""
        state = before.state
        if after.stop.is_set() or before.stop.is_set() or state == "failed":
            after.end("stopped", f"Not run: run {before.run_id} before it in the series was {state}.")
            if after.then is not None:
                after.then()
        else:
            pool.submit(after)

    def _add(self, config: TrainConfig, label: str) -> Job:
        self.started += 1
        job = Job(config, self.started, self.max_batch_points, label)
        self.jobs.append(job)
        if len(self.jobs) > self.max_kept:
            self.jobs.pop(0)
        for old in self.jobs[: -self.keep_snapshots]:
            old.drop_snapshots()
        return job

    def add_upload(self, file_name: str, model: TrainedModel) -> str:
        """Keep an uploaded model (dropping the oldest past the limit); returns its label."""
        self.uploads += 1
        # a file name is outside text: letters, digits, dots, dashes and spaces only, and no longer
        # than any other outside text a page repeats
        shown = re.sub(r"[^\w.\- ]", "_", file_name)[:QUOTED_LENGTH]
        label = f"Uploaded {self.uploads}: {shown}"
        self.uploaded[label] = model
        while len(self.uploaded) > self.max_uploads:
            del self.uploaded[next(iter(self.uploaded))]
        return label

    def release(self) -> None:
        """The browser session has ended: stop its run and let go of its uploaded models."""
        self.stop_active()
        self.uploaded.clear()

    def stop_active(self, wait: float = 0.0) -> None:
        """Ask every run still going to stop, and wait up to `wait` seconds for them to end."""
        for job in self.jobs:
            job.stop.set()
        deadline = time.monotonic() + wait
        for job in self.jobs:
            job.done.wait(max(0.0, deadline - time.monotonic()))

    def views(self) -> list[JobView]:
        return [job.view() for job in self.jobs]

    def run_ids(self) -> set[int]:
        """The ids of the runs this session keeps."""
        return {job.run_id for job in self.jobs}

    def view(self, run_id: int) -> JobView:
        """The run with this id, as it is now (only its view is built: pages poll this)."""
        return next(job for job in self.jobs if job.run_id == run_id).view()

    def latest(self) -> JobView | None:
        return self.jobs[-1].view() if self.jobs else None


class RunShelf:
    """The runs of closed or reloaded tabs, kept a while so the same browser can take them back.

    Keyed by a secret only that browser holds (dashboard.session.browser_key), never by anything
    in the page address: a shared lesson link cannot carry one student's runs to another.
    """

    def __init__(self, keep_seconds: float, max_sessions: int):
        self.keep_seconds = keep_seconds
        self.max_sessions = max_sessions  # the oldest kept session goes first past this
        self._lock = threading.Lock()
        self._kept: dict[str, tuple[float, SessionRuns]] = {}

    def put(self, key: str, runs: SessionRuns) -> None:
        with self._lock:
            self._expire()
            self._kept.pop(key, None)
            self._kept[key] = (time.monotonic(), runs)
            while len(self._kept) > self.max_sessions:
                del self._kept[next(iter(self._kept))]

    def take(self, key: str) -> SessionRuns | None:
        """The runs kept for this browser (they leave the shelf), or None."""
        with self._lock:
            self._expire()
            kept = self._kept.pop(key, None)
        return kept[1] if kept else None

    def __len__(self) -> int:
        with self._lock:
            self._expire()
            return len(self._kept)

    def _expire(self) -> None:
        now = time.monotonic()
        for key in [k for k, (since, _) in self._kept.items() if now - since > self.keep_seconds]:
            del self._kept[key]
