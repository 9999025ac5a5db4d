"""The server's fair queue in front of its training workers.

Why a queue: a classroom shares one server. `TrainingPool` has one worker process per place
(dashboard.workers); a run takes a free worker, and the others wait first come, first served, see
their place, and start by themselves. A browser's second run at once (from a second tab) waits
behind every other browser's first. Each run waits in a plain `threading.Thread` of its own
(never Streamlit's script thread), then hands its config to a worker and records the events that
come back in its `Job`.
"""

from __future__ import annotations

import threading
from collections import Counter
from itertools import count

from dashboard import forkserver
from dashboard.runner import Job
from dashboard.workers import Worker

NO_WORKER = (
    "The server could not start a process to train in (it may be short of memory just now). "
    "Try again in a minute: each new run tries again. If this keeps happening, ask your teacher "
    "to restart the app."
)


class TrainingPool:
    """One worker process per training place; runs beyond that wait in a first-come queue.

    The workers start in the background: they are forked from the forkserver (dashboard.forkserver),
    which first imports PyTorch and warms it up, a few seconds once per server. Meanwhile the first
    student's page is drawn, and a run clicked that early waits in the queue like any other.
    A worker that dies, idle or training, is started anew; so is one that could not be started
    (at once if runs are waiting, else at the next run), and the forkserver itself if it was killed
    (multiprocessing restarts it).
    """

    def __init__(self, workers: int, memory_budget_mb: float, wall_seconds: float):
        self.workers = workers  # the training places the pool keeps
        self.memory_budget_mb = memory_budget_mb
        self.wall_seconds = wall_seconds
        self._context = forkserver.context()
        self._cond = threading.Condition()
        self._in_flight: list[Job] = []  # queued or training, in the order they came (see _line_up)
        self._order: dict[Job, list[int]] = {}  # each queued run's place in line: [rank, arrival]
        self._queue: list[Job] = []  # the queued runs in that order, first to start first (_line_up)
        self._arrivals = count()
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

        All of them when the pool is made; later, a place whose worker could not be started (the
        machine was out of processes or memory for a moment) is tried again at the next run, or at
        once if runs are waiting for it, so a server that lost its workers heals without a restart.
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
            worker = self._try_new_worker()
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
        """End every worker (a server's workers end with it anyway: they are daemons). A run's
        thread that is still reading its worker's pipe reads the end of it, and closes it itself."""
        with self._cond:
            self._closed = True
            for worker in self._all:
                worker.kill(close_pipe=worker in self._free)
            self._free.clear()

    def submit(self, job: Job) -> None:
        """Queue the job and start its thread; it trains when its turn comes."""
        with self._cond:
            rank = sum(1 for other in self._in_flight if job.owner and other.owner == job.owner)
            self._in_flight.append(job)
            self._order[job] = [rank, next(self._arrivals)]
            self._line_up()
            self._refill()  # a place whose worker could not be started is tried again
        threading.Thread(
            target=self._work, args=(job,), name=f"rnn-lab-run-{job.run_id}", daemon=True
        ).start()

    def _try_new_worker(self) -> Worker | None:
        """A new worker; None if no process can be started now (one place fewer until the next run)."""
        try:
            return self._new_worker()
        except OSError:
            return None

    def _new_worker(self) -> Worker:
        worker = Worker(self._context, self.memory_budget_mb)
        with self._cond:
            self._all = [w for w in self._all if w.alive()] + [worker]
        return worker

    def _left(self, job: Job) -> None:
        """The run is over, or left the queue before it started (with the lock held)."""
        self._in_flight.remove(job)
        self._line_up()

    def _line_up(self) -> None:
        """Order the queue fairly and tell each run its place (with the lock held).

        First come, first served, with one run at a time per browser (Job.owner, shared by its
        tabs): a run's rank is how many runs its browser has in flight before it, and the queue
        goes rank 0 first, then rank 1, each by arrival. So one student with many tabs cannot push
        the class back: their second run at once waits behind every other browser's first. When
        a browser's earlier run ends, its next moves up a rank and joins that rank at the back,
        so nobody already waiting there goes back a place. A run with no owner is a browser of
        its own.
        """
        ahead: Counter[str] = Counter()
        for job in self._in_flight:
            rank = ahead[job.owner] if job.owner else 0
            ahead[job.owner] += 1
            entry = self._order.get(job)  # None: training
            if entry is not None and rank < entry[0]:  # an earlier run of its browser has ended
                entry[:] = [rank, next(self._arrivals)]
        self._queue = sorted(self._order, key=self._order.__getitem__)
        for place, queued in enumerate(self._queue, start=1):
            queued.queue_place, queued.behind_own_run = place, self._order[queued][0] > 0

    def _wait_for_turn(self, job: Job) -> Worker | None:
        """Block until the job is first in line and a worker is free; None if the job was stopped
        meanwhile, or if the server has no worker left to train in."""
        with self._cond:
            while not (self._queue[0] is job and self._live_free()):
                if job.stop.is_set() or self.max_running <= 0:  # stopped, or no worker can come
                    del self._order[job]
                    self._left(job)
                    self._cond.notify_all()
                    return None
                self._cond.wait(timeout=0.1)  # wakes on notify; the timeout notices a stop
            del self._order[job]
            job.queue_place = None
            self._line_up()
            self._running += 1
            return self._free.pop()

    def _live_free(self) -> bool:
        """Whether a free worker is alive to train in (with the lock held). One that died while it
        waited (killed, or by the system when memory ran short) is dropped and started anew, so no
        student's run is handed to a dead process."""
        dead = [worker for worker in self._free if not worker.alive()]
        if dead:
            self._free = [worker for worker in self._free if worker not in dead]
            for worker in dead:
                worker.kill()  # closes its pipe, which one made by a killed forkserver still reads
            self.max_running -= len(dead)
            self.replaced += len(dead)
            self._refill()
        return bool(self._free)

    def _give_back(self, worker: Worker) -> None:
        """Return a worker to the free list, or a fresh one if it died or kept too much memory."""
        holds = worker.wait_idle()  # it says so once it has freed the run's memory; None if it is gone
        if not self._closed and (holds is None or holds - worker.baseline_mb > self.memory_budget_mb / 2):
            worker.kill()
            worker = self._try_new_worker()
            self.replaced += 1
        with self._cond:
            if self._closed and worker is not None:
                worker.kill()  # close() ended its process (or missed this new one) and left its pipe here
                worker = None
            if worker is not None:
                self._free.append(worker)
            else:
                self.max_running -= 1
                if self._queue:  # students are waiting: one more try, in the background, before
                    self._refill()  # they are told there is no place to train
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
            with self._cond:
                self._left(job)
            self._give_back(worker)
            if job.then is not None:
                job.then()  # the next run of a series joins the queue, or is called off
