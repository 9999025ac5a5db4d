"""What the server keeps of the class's runs between clicks and tabs, and how much of it.

- `SessionRuns`: one browser session's runs (newest last, bounded) and its uploaded models.
- `RunShelf`: the runs of closed or reloaded tabs, kept a while for the same browser.
- `KeptMemory`: one memory budget for everything the sessions on this server keep.

Why a budget for the whole server: each run has budgets while it trains (dashboard.limits), but
what a finished run keeps, its trained network and its hidden-state snapshots, stays in the server
process for as long as its session does. Streamlit keeps a closed tab's whole session for two
minutes in case it reconnects, and the shelf keeps its runs for half an hour. The biggest network
the sidebar allows is 5.8 MB, and a long run's snapshots up to 35 MB: one student training it in tab
after tab took a 690 MB server down within minutes (BENCHMARKS.md, "Closed tabs"). A class of lab
runs keeps about half a megabyte per student.
"""

from __future__ import annotations

import re
import threading
import time
import weakref
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import partial
from itertools import pairwise
from typing import TYPE_CHECKING

from dashboard.runner import ACTIVE, Job, JobView
from rnn_core import TrainConfig, TrainedModel
from rnn_core.words import QUOTED_LENGTH

if TYPE_CHECKING:  # the pool runs jobs; a session only hands them to it
    from dashboard.pool import TrainingPool


@dataclass(eq=False)  # one session is one object: its runs are never "equal" to another's
class SessionRuns:
    """The runs of one browser session, newest last, bounded."""

    max_kept: int
    keep_snapshots: int
    max_batch_points: int
    max_uploads: int = 3
    kept: Callable[[], None] | None = None  # told when this session keeps more (the server's budget)
    owner: str = ""  # its browser (session.browser_key), the same in all its tabs; "" if unknown
    jobs: list[Job] = field(default_factory=list)
    uploaded: dict[str, TrainedModel] = field(default_factory=dict)  # label -> model, oldest first
    started: int = 0  # runs started in this session, kept or not
    uploads: int = 0  # files uploaded in this session, kept or not
    uploads_let_go: int = 0  # uploaded models the server let go of to make room
    closed_since: float | None = None  # time.monotonic() when its tab closed; None while it is open

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
        job.kept, job.owner = self.kept, self.owner
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
        if self.kept is not None:
            self.kept()
        return label

    def release(self) -> None:
        """The browser session has ended: stop its run and let go of its uploaded models."""
        self.stop_active()
        self.uploaded.clear()
        self.closed_since = time.monotonic()

    def kept_bytes(self) -> int:
        """The memory this session's runs and uploads keep: networks and hidden-state snapshots."""
        uploads = sum(model.weight_bytes for model in list(self.uploaded.values()))
        return uploads + sum(job.kept_bytes() for job in list(self.jobs))

    def let_go(self) -> int:
        """Let go of the oldest thing this session keeps, to make room on the server: a finished
        run's snapshots, then its network (oldest run first), then the oldest upload, and last the
        snapshots of a run still training. The bytes freed; 0 once it keeps nothing of the kind."""
        jobs = list(self.jobs)
        for job in jobs:
            if job.state not in ACTIVE and (freed := job.let_go()):
                return freed
        if self.uploaded and (model := self.uploaded.pop(next(iter(self.uploaded)), None)) is not None:
            self.uploads_let_go += 1
            return model.weight_bytes
        return next((freed for job in jobs if (freed := job.let_go())), 0)

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

    def __init__(self, keep_seconds: float, max_sessions: int, clock: Callable[[], float] = time.monotonic):
        self.keep_seconds = keep_seconds
        self.max_sessions = max_sessions  # the oldest kept session goes first past this
        self.clock = clock
        self._lock = threading.Lock()
        self._kept: dict[str, tuple[float, SessionRuns]] = {}

    def put(self, key: str, runs: SessionRuns) -> None:
        with self._lock:
            self._expire()
            self._kept.pop(key, None)
            self._kept[key] = (self.clock(), runs)
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
        now = self.clock()
        for key in [k for k, (since, _) in self._kept.items() if now - since > self.keep_seconds]:
            del self._kept[key]


class KeptMemory:
    """Holds the memory that every session's runs keep on this server to one budget.

    A session joins when it is created. Whenever one keeps more (a snapshot recorded, a run
    finished, a model uploaded) and the server is over budget, sessions let go, in this order:

    1. The tabs that have closed, the longest closed first: everything they keep.
    2. Then the session keeping the most lets go of its oldest thing (SessionRuns.let_go, above),
       again and again. Whoever keeps the most pays first, so a student whose
       runs are small never loses anything to one whose runs are huge.

    What goes is the heavy part only: a run's curves, log, confusion matrix and test result stay,
    and the page says what was let go. Counting is by the arrays themselves (weights, snapshots), so
    a class of small runs never meets the budget.
    """

    def __init__(self, budget_bytes: float):
        self.budget_bytes = budget_bytes
        self.freed_bytes = 0  # let go of so far, for whoever debugs a full server (and the tests)
        self._lock = threading.Lock()
        self._sessions: weakref.WeakSet[SessionRuns] = weakref.WeakSet()  # gone with their sessions

    def join(self, runs: SessionRuns) -> None:
        """Count this session's runs from now on; it calls back whenever it keeps more."""
        runs.kept = self.trim
        with self._lock:
            self._sessions.add(runs)

    def kept_bytes(self) -> int:
        with self._lock:
            return sum(runs.kept_bytes() for runs in list(self._sessions))

    def trim(self) -> None:
        """Let go of what it takes to be within the budget again (see the class docstring)."""
        with self._lock:
            held = {runs: runs.kept_bytes() for runs in list(self._sessions)}
            over = sum(held.values()) - self.budget_bytes
            closed = sorted((runs for runs in held if runs.closed_since is not None), key=_closed_since)
            for runs in closed:  # 1. closed tabs, the longest closed first: all they keep
                while over > 0 and (freed := runs.let_go()):
                    over -= freed
                    self.freed_bytes += freed
            payers = [runs for runs in held if runs.closed_since is None]
            while over > 0 and payers:  # 2. whoever keeps the most: its oldest thing
                biggest = max(payers, key=held.__getitem__)
                if not (freed := biggest.let_go()):
                    payers.remove(biggest)  # keeps nothing it can let go of
                    continue
                over -= freed
                held[biggest] -= freed
                self.freed_bytes += freed


def _closed_since(runs: SessionRuns) -> float:
    return runs.closed_since or 0.0
