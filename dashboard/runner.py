"""Each browser session's runs, and the server's fair queue in front of its training workers.

Why not in the page script: Streamlit reruns the page script on every click, and a loop there dies
with it. So a `Job` is driven by a plain `threading.Thread` that hands the run to a worker process
(dashboard.workers) and records the events that come back under a lock; the page only reads a
`JobView` copy. Neither the thread nor the worker ever calls Streamlit.

Why a queue: a classroom shares one server. `TrainingPool` has one worker process per place; a
run takes a free worker, and the others wait first come, first served, see their place, and start
by themselves.
"""

from __future__ import annotations

import re
import threading
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import partial
from itertools import pairwise

from dashboard import forkserver
from dashboard.workers import Worker
from rnn_core import BatchEnd, EpochEnd, ProbeSnapshot, RunFinished, RunStarted, TrainConfig, TrainedModel

ACTIVE = ("queued", "running")
NO_WORKER = (
    "The server could not start a process to train in (it may be short of memory just now). "
    "Try again in a minute: each new run tries again. If this keeps happening, ask your teacher "
    "to restart the app."
)


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
    def title(self) -> str:
        """How every page names a run: 'Run 3: lab, lstm' (and its experiment, if it is part of one)."""
        what = f"{self.config.task}, {self.config.cell}"
        return f"Run {self.run_id}: {what}" + (f" ({self.label})" if self.label else "")

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


class TrainingPool:
    """One worker process per training place; runs beyond that wait in a first-come queue.

    The workers start in the background: they are forked from the forkserver (dashboard.forkserver),
    which first imports PyTorch and warms it up, a few seconds once per server. Meanwhile the first
    student's page is drawn, and a run clicked that early waits in the queue like any other.
    A worker that dies, idle or training, is started anew; so is one that could not be started
    (at the next run), and the forkserver itself if it was killed (multiprocessing restarts it).
    """

    def __init__(self, workers: int, memory_budget_mb: float, wall_seconds: float):
        self.workers = workers  # the training places the pool keeps
        self.memory_budget_mb = memory_budget_mb
        self.wall_seconds = wall_seconds
        self._context = forkserver.context()
        self._cond = threading.Condition()
        self._queue: deque[Job] = deque()
        self._running = 0
        self._all: list[Worker] = []  # every worker started, to end them all on close()
        self._closed = False
        self._free: list[Worker] = []
        self.max_running = 0  # places with a worker: free, training or starting
        self.starting = 0  # workers still starting
        self.replaced = 0  # workers that died or outgrew their budget and were started anew
        with self._cond:
            self._refill()  # started now, not at the first click

    def _refill(self) -> None:
        """Start a worker for every place that has none, in the background (with the lock held).

        All of them when the pool is made; later, at the next run, a place whose worker could not
        be started (the machine was out of processes or memory for a moment) is tried again, so
        a server that lost its workers heals without a restart.
        """
        missing = self.workers - self.max_running
        if missing <= 0 or self._closed:
            return
        self.max_running += missing
        self.starting += missing
        starter = threading.Thread(target=self._start_workers, args=(missing,), name="rnn-lab-pool-start")
        starter.daemon = True
        starter.start()

    def _start_workers(self, count: int) -> None:
        for _ in range(count):
            try:
                worker = self._new_worker()
            except OSError:  # cannot start a process now: one place fewer until the next run
                worker = None
            with self._cond:
                self.starting -= 1
                if worker is None:
                    self.max_running -= 1
                elif self._closed:
                    worker.kill()
                else:
                    self._free.append(worker)
                self._cond.notify_all()

    def ready(self, timeout: float | None = None) -> bool:
        """Wait until every worker has started (for tests and benchmarks); whether they have."""
        with self._cond:
            return self._cond.wait_for(lambda: self.starting == 0, timeout)

    @property
    def running(self) -> int:
        return self._running

    @property
    def waiting(self) -> int:
        return len(self._queue)

    def worker_pids(self) -> list[int]:
        """The live workers' process ids, idle or training (for tests and benchmarks)."""
        with self._cond:
            return [w.pid for w in self._all if w.alive()]

    def close(self) -> None:
        """End every worker (a server's workers end with it anyway: they are daemons)."""
        with self._cond:
            self._closed = True
            for worker in self._all:
                worker.kill()
            self._free.clear()

    def submit(self, job: Job) -> None:
        """Queue the job and start its thread; it trains when its turn comes."""
        with self._cond:
            self._queue.append(job)
            self._renumber()
            self._refill()  # a place whose worker could not be started is tried again
        threading.Thread(
            target=self._work, args=(job,), name=f"rnn-lab-run-{job.run_id}", daemon=True
        ).start()

    def _new_worker(self) -> Worker:
        worker = Worker(self._context, self.memory_budget_mb)
        with self._cond:
            self._all = [w for w in self._all if w.alive()] + [worker]
        return worker

    def _renumber(self) -> None:
        for place, queued in enumerate(self._queue, start=1):
            queued.queue_place = place

    def _wait_for_turn(self, job: Job) -> Worker | None:
        """Block until the job is first in line and a worker is free; None if the job was stopped
        meanwhile, or if the server has no worker left to train in."""
        with self._cond:
            while not (self._queue[0] is job and self._live_free()):
                if job.stop.is_set() or self.max_running <= 0:  # stopped, or no worker can come
                    self._queue.remove(job)
                    self._renumber()
                    self._cond.notify_all()
                    return None
                self._cond.wait(timeout=0.1)  # wakes on notify; the timeout notices a stop
            self._queue.popleft()
            job.queue_place = None
            self._renumber()
            self._running += 1
            return self._free.pop()

    def _live_free(self) -> bool:
        """Whether a free worker is alive to train in (with the lock held). One that died while it
        waited (killed, or by the system when memory ran short) is dropped and started anew, so no
        student's run is handed to a dead process."""
        dead = [worker for worker in self._free if not worker.alive()]
        if dead:
            self._free = [worker for worker in self._free if worker not in dead]
            self.max_running -= len(dead)
            self.replaced += len(dead)
            self._refill()
        return bool(self._free)

    def _give_back(self, worker: Worker) -> None:
        """Return a worker to the free list, or a fresh one if it died or kept too much memory."""
        holds = worker.wait_idle()  # it says so once it has freed the run's memory; None if it is gone
        if self._closed:
            worker = None
        elif holds is None or holds - worker.baseline_mb > self.memory_budget_mb / 2:
            worker.kill()
            try:
                worker = self._new_worker()
            except OSError:  # cannot start a process now: one place fewer until the next run
                worker = None
            self.replaced += 1
        with self._cond:
            if worker is not None:
                self._free.append(worker)
            else:
                self.max_running -= 1
            self._running -= 1
            self._cond.notify_all()

    def _work(self, job: Job) -> None:
        worker = self._wait_for_turn(job)
        if worker is None:
            job.queue_place = None
            if job.stop.is_set():
                job.end("stopped", "Stopped before it started: the run was still waiting in the queue.")
            else:
                job.end("failed", NO_WORKER)
            if job.then is not None:
                job.then()
            return
        try:
            job.begin()
            ended = worker.train(job.config, job.record, job.stop, self.wall_seconds)
            if ended is None:
                job.end()  # the run's own RunFinished has set its state
            else:
                job.end(*ended)
        except Exception as err:  # a bug must not take the server down or hang the page
            job.end("failed", f"The run failed with an internal error ({type(err).__name__}: {err}).")
        finally:
            self._give_back(worker)
            if job.then is not None:
                job.then()  # the next run of a series joins the queue, or is called off


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
        # a file name is outside text: letters, digits, dots, dashes and spaces only
        shown = re.sub(r"[^\w.\- ]", "_", file_name)[:60]
        label = f"Uploaded {self.uploads}: {shown}"
        self.uploaded[label] = model
        while len(self.uploaded) > self.max_uploads:
            del self.uploaded[next(iter(self.uploaded))]
        return label

    def release(self) -> None:
        """The browser session has ended: stop its run and let go of its uploaded models."""
        self.stop_active()
        self.uploaded.clear()

    def stop_active(self) -> None:
        for job in self.jobs:
            job.stop.set()

    def views(self) -> list[JobView]:
        return [job.view() for job in self.jobs]

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
