"""The dashboard's background jobs, the fair queue and the worker processes, without Streamlit."""

import itertools
import os
import signal
import subprocess
import sys
import time
from dataclasses import replace
from functools import partial

import pytest

from conftest import ROOT, START_WORKER
from dashboard import forkserver
from dashboard.keeping import SessionRuns
from dashboard.pool import NO_WORKER, TrainingPool
from dashboard.runner import Job
from dashboard.workers import Worker
from rnn_core import BatchEnd, TrainConfig
from rnn_core.words import percent

QUICK = TrainConfig(num_samples=100, epochs=2)
LONG = TrainConfig(num_samples=2000, epochs=200)
# Over a 20 MB budget (about 50 MB while training), well under the 64 MB default.
HUNGRY = TrainConfig(cell="lstm", hidden_size=128, seq_len=50, num_samples=400, epochs=1, batch_size=256)


@pytest.fixture
def make_pool():
    """TrainingPool(workers, ...) with the server's default budgets; every worker ends after the test."""
    pools = []

    def make(workers=2, memory_mb=64.0, wall_seconds=120.0):
        pools.append(TrainingPool(workers, memory_mb, wall_seconds))
        assert pools[-1].ready(timeout=60)  # its workers start in the background
        return pools[-1]

    yield make
    for pool in pools:
        pool.close()


def wait_until(condition, timeout=30.0):
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.01)


def new_runs(max_kept=3, keep_snapshots=1, points=2000):
    return SessionRuns(max_kept, keep_snapshots, points)


def test_a_job_trains_in_the_background_and_keeps_its_result(make_pool):
    pool, runs = make_pool(2), new_runs()
    job = runs.start(QUICK, pool)
    assert job.done.wait(30)
    view = job.view()
    assert view.state == "completed" and view.progress == 1.0
    assert len(view.epochs) == 2 and view.finished.model.history == list(view.epochs)
    assert view.batches[-1].step == view.steps_done == view.started.total_batches


def test_every_picker_names_a_run_by_its_title_state_and_then_its_test_accuracy(make_pool):
    pool, runs = make_pool(1), new_runs()
    job = runs.start(replace(QUICK, cell="gru"), pool)
    assert job.view().picker_label in ("Run 1: lab, gru, queued", "Run 1: lab, gru, running")
    assert job.done.wait(30)
    view = job.view()
    accuracy = percent(view.finished.test_accuracy, exact_ends=True)
    assert view.picker_label == f"Run 1: lab, gru, completed, test {accuracy}"


def test_one_job_per_session_at_a_time(make_pool):
    pool, runs = make_pool(2), new_runs()
    first = runs.start(LONG, pool)
    assert runs.start(QUICK, pool) is None
    runs.stop_active()
    assert first.done.wait(30) and first.view().state == "stopped"
    assert runs.start(QUICK, pool) is not None


def test_the_queue_is_first_come_first_served_and_shows_each_place(make_pool):
    pool = make_pool(1)
    sessions = [new_runs() for _ in range(3)]
    jobs = [s.start(LONG if i == 0 else QUICK, pool) for i, s in enumerate(sessions)]
    wait_until(lambda: jobs[0].view().state == "running")
    assert [j.view().queue_place for j in jobs] == [None, 1, 2]
    assert [j.state for j in jobs] == ["running", "queued", "queued"]  # what `active` reads
    assert all(s.active is j for s, j in zip(sessions, jobs, strict=True))
    sessions[0].stop_active()
    assert jobs[2].done.wait(60)
    assert all(j.view().state in ("stopped", "completed") for j in jobs)
    assert jobs[1].view().state == jobs[2].view().state == "completed"
    assert [j.state for j in jobs] == [j.view().state for j in jobs]
    assert all(s.active is None for s in sessions)
    wait_until(lambda: pool.running == 0 and pool.waiting == 0)


def test_a_browsers_second_run_at_once_waits_behind_every_other_browsers_first(make_pool):
    pool = make_pool(1)
    tabs = [SessionRuns(3, 1, 2000, owner="browser a") for _ in range(3)]  # one student, three tabs
    other, unknown = SessionRuns(3, 1, 2000, owner="browser b"), new_runs()  # and two more browsers
    started = []
    first = tabs[0].start(LONG, pool)
    wait_until(lambda: first.view().state == "running")
    second, third = (tab.start(QUICK, pool) for tab in tabs[1:])
    assert [second.queue_place, third.queue_place] == [1, 2]  # nobody else waits: first come, first served
    theirs, its = other.start(QUICK, pool), unknown.start(QUICK, pool)
    queued = [theirs, its, second, third]
    assert [job.queue_place for job in queued] == [1, 2, 3, 4]  # the others' first runs go first
    for job in queued:
        job.then = partial(started.append, job)  # called as each ends (one place: the order they ran in)
    tabs[0].stop_active()
    wait_until(lambda: len(started) == 4, timeout=60)
    assert started == queued and all(job.view().state == "completed" for job in queued)
    assert pool._in_flight == [] and pool._order == {}  # nothing kept of runs that are over


def test_when_a_browsers_run_ends_its_next_joins_the_line_at_the_back_and_nobody_goes_back(make_pool):
    pool = make_pool(1)
    a, a_again, b, c, d = (SessionRuns(3, 1, 2000, owner=name) for name in ("a", "a", "b", "c", "d"))
    first = a.start(LONG, pool)
    wait_until(lambda: first.view().state == "running")
    extra, b_run = a_again.start(QUICK, pool), b.start(LONG, pool)
    c_run = c.start(QUICK, pool)
    assert [b_run.queue_place, c_run.queue_place, extra.queue_place] == [1, 2, 3]  # the extra run yields
    a.stop_active()  # a's first run ends: b's starts, and a's extra run is an ordinary one now...
    wait_until(lambda: b_run.view().state == "running")
    assert [c_run.queue_place, extra.queue_place] == [1, 2]  # ...at the back of the line: c stays first
    d_run = d.start(QUICK, pool)
    assert d_run.queue_place == 3  # and it no longer yields to newcomers: it cannot wait for ever
    for runs in (b, c, a_again, d):
        runs.stop_active(wait=30)


def test_stopping_a_queued_job_frees_its_place_without_training(make_pool):
    pool = make_pool(1)
    a, b, c = new_runs(), new_runs(), new_runs()
    running, queued, behind = a.start(LONG, pool), b.start(QUICK, pool), c.start(QUICK, pool)
    wait_until(lambda: running.view().state == "running")
    b.stop_active()
    assert queued.done.wait(60)  # a deadline, not a pace: the quick tests run at the lowest priority
    assert queued.view().state == "stopped" and "still waiting in the queue" in queued.view().message
    assert queued.view().started is None
    wait_until(lambda: behind.view().queue_place == 1)
    a.stop_active()
    assert behind.done.wait(60) and behind.view().state == "completed"


def test_a_stopped_run_keeps_its_model(make_pool):
    pool, runs = make_pool(1), new_runs()
    job = runs.start(LONG, pool)
    wait_until(lambda: len(job.view().epochs) >= 1)
    runs.stop_active()
    assert job.done.wait(30)
    view = job.view()
    assert view.state == "stopped" and view.model is not None
    assert view.finished.epochs_completed == len(view.model.history) >= 1


def test_batch_history_is_thinned_evenly_and_stays_bounded():
    job = Job(QUICK, run_id=1, max_batch_points=100)
    for step in range(1, 1001):
        job.record(BatchEnd(1, step, step, 1.0 / step, 0.5))
    steps = [batch.step for batch in job.view().batches]
    assert len(steps) < 100
    gaps = {b - a for a, b in itertools.pairwise(steps)}
    assert len(gaps) == 1  # evenly spaced


def test_a_session_keeps_a_bounded_number_of_runs_and_frees_old_snapshots(make_pool):
    pool, runs = make_pool(2), new_runs(max_kept=3, keep_snapshots=1)
    for seed in range(5):
        job = runs.start(replace(QUICK, seed=seed), pool)
        assert job.done.wait(30)
    assert [j.run_id for j in runs.jobs] == [3, 4, 5]
    assert [len(v.snapshots) > 0 for v in runs.views()] == [False, False, True]


def test_a_worker_killed_mid_run_fails_that_run_with_a_sentence_and_the_next_run_trains(make_pool):
    pool, runs = make_pool(1), new_runs()
    job = runs.start(LONG, pool)
    wait_until(lambda: job.view().steps_done > 5)
    (pid,) = pool.worker_pids()
    os.kill(pid, signal.SIGKILL)
    assert job.done.wait(30)
    view = job.view()
    assert view.state == "failed" and view.model is None
    assert "ended by signal SIGKILL" in view.message and "Nobody else's run" in view.message
    after = runs.start(QUICK, pool)
    assert after.done.wait(60) and after.view().state == "completed"
    assert pool.replaced == 1 and pool.worker_pids() != [pid]


def test_workers_that_died_while_idle_are_started_anew_and_no_run_is_handed_to_them(make_pool):
    pool, runs = make_pool(2), new_runs()
    idle = pool.worker_pids()
    for pid in idle:  # killed while no run was training in them (say, the system short of memory)
        os.kill(pid, signal.SIGKILL)
    wait_until(lambda: pool.worker_pids() == [])
    for _ in range(3):
        job = runs.start(QUICK, pool)
        assert job.done.wait(60) and job.view().state == "completed", job.view().message
    wait_until(lambda: pool.running == 0)
    assert pool.replaced == 2 and pool.max_running == 2
    assert len(pool.worker_pids()) == 2 and not set(pool.worker_pids()) & set(idle)


def test_a_run_past_its_memory_cap_is_stopped_with_the_reason_and_another_students_run_finishes(make_pool):
    pool = make_pool(2, memory_mb=20)
    greedy, other = new_runs(), new_runs()
    too_much = greedy.start(HUNGRY, pool)
    fine = other.start(replace(QUICK, epochs=20), pool)
    assert too_much.done.wait(60) and fine.done.wait(60)
    assert too_much.view().state == "stopped" and too_much.view().model is None
    assert "needed more than 20 MB of memory" in too_much.view().message
    assert fine.view().state == "completed" and fine.view().model is not None
    assert other.start(QUICK, pool).done.wait(60)  # the place is back, with a fresh worker
    wait_until(lambda: pool.running == 0)
    assert len(pool.worker_pids()) == 2 and pool.replaced == 1


# Its run must train a first epoch inside a 1.5 s cap of wall time. Among the quick tests, at nice 19
# beside the browser tests, its worker once trained 2 batches of 10 in those 1.5 s (one whole run of
# scripts/test.sh in four failed): it runs with the tests that wait, at normal priority.
@pytest.mark.alone
def test_a_run_past_its_time_cap_is_stopped_with_the_reason_and_keeps_its_model(make_pool):
    pool, runs = make_pool(1, wall_seconds=1.5), new_runs()
    job = runs.start(replace(LONG, num_samples=400), pool)  # 10 batches an epoch: one ends inside
    # the cap however busy the machine (a loaded run of the tests managed 37 batches in 1.5 s)
    assert job.done.wait(30)
    view = job.view()
    assert view.state == "stopped" and view.model is not None and len(view.epochs) >= 1
    assert "trained for more than 1.5 s" in view.finished.reason
    assert 1.5 <= view.elapsed < 10


def test_a_worker_whose_server_has_gone_mid_run_ends_at_once_without_a_traceback():
    """A server killed while a run trains: the worker ends at its next look at the pipe. It used to
    try to tell the gone server why the run broke, and printed a BrokenPipeError's traceback into
    the server's log (exit code 1)."""
    worker = Worker(forkserver.context(), 64.0)
    worker.conn.send(("train", 1, LONG))
    assert worker.conn.poll(60)  # it trains: its first events come
    worker.conn.close()
    worker.process.join(30)
    assert worker.process.exitcode == 0


def test_workers_are_started_once_and_reused_by_later_runs(make_pool):
    pool, runs = make_pool(2), new_runs(max_kept=5)
    pids = sorted(pool.worker_pids())
    assert len(pids) == 2 and os.getpid() not in pids
    for seed in range(3):
        assert runs.start(replace(QUICK, seed=seed), pool).done.wait(60)
        wait_until(lambda: pool.running == 0)
    assert sorted(pool.worker_pids()) == pids and pool.replaced == 0


FORKSERVER_FIRST = """
import os, sys, time
from dashboard import forkserver
forkserver.start()  # returns once the forkserver is forked, maybe before it is a forkserver (exec)
children, started, deadline = [], False, time.monotonic() + 20
while not started and time.monotonic() < deadline:
    time.sleep(0.02)
    children = open(f"/proc/{os.getpid()}/task/{os.getpid()}/children").read().split()
    started = any(b"multiprocessing.forkserver" in open(f"/proc/{c}/cmdline", "rb").read() for c in children)
print(started, "torch" in sys.modules, flush=True)
for child in children:  # it would finish importing PyTorch before it noticed this process gone
    os.kill(int(child), 9)
"""


def test_a_server_starts_its_forkserver_before_it_imports_pytorch():
    """So that the forkserver imports PyTorch for the workers while the server imports its own."""
    done = subprocess.run([sys.executable, "-c", FORKSERVER_FIRST], cwd=ROOT, capture_output=True, text=True)
    assert done.stdout.split() == ["True", "False"], done.stderr
    app = (ROOT / "dashboard" / "app.py").read_text()
    assert app.index("forkserver.start()") < app.index("from dashboard import controls")


FORKSERVER_KILLED = """
import os, signal, time
from dashboard.pool import TrainingPool
from dashboard.keeping import SessionRuns
from rnn_core import TrainConfig
pool = TrainingPool(2, 64.0, 120.0)
assert pool.ready(60)
threads = os.listdir(f"/proc/{os.getpid()}/task")  # started by the pool's starter thread
children = [c for t in threads for c in open(f"/proc/{os.getpid()}/task/{t}/children").read().split()]
(forkserver,) = [int(c) for c in children if b"forkserver" in open(f"/proc/{c}/cmdline", "rb").read()]
os.kill(forkserver, signal.SIGKILL)  # as the system may when memory runs short: it holds PyTorch
time.sleep(0.5)
runs = SessionRuns(5, 1, 2000)
for _ in range(3):
    job = runs.start(TrainConfig(num_samples=100, epochs=2), pool)
    job.done.wait(60)
    print(job.view().state, flush=True)
print(len(pool.worker_pids()), pool.max_running, flush=True)
pool.close()
"""


@pytest.mark.slow  # a whole program: PyTorch imported three times (the process, its forkserver twice)
def test_a_server_whose_forkserver_was_killed_starts_it_again_and_trains_every_run():
    """In a process of its own: the test processes' other pools share their forkserver.

    The workers the dead forkserver made look dead to multiprocessing (their exit status would have
    come through it), so the pool starts new ones and knows every worker it trains in."""
    done = subprocess.run(
        [sys.executable, "-c", FORKSERVER_KILLED], cwd=ROOT, capture_output=True, text=True, timeout=120
    )
    assert done.stdout.split() == ["completed"] * 3 + ["2", "2"], done.stderr[-2000:]


def test_a_new_pool_returns_at_once_and_a_run_clicked_before_its_workers_are_up_waits_then_trains(
    held_start,
):
    pool = TrainingPool(2, 64.0, 120.0)  # the first page is drawn while the workers start
    try:
        job = new_runs().start(QUICK, pool)
        time.sleep(0.2)
        assert pool.starting == 2 and pool.running == 0 and not pool.ready(timeout=0)
        assert job.view().state == "queued" and job.view().queue_place == 1
        held_start.set()
        assert pool.ready(timeout=60) and len(pool.worker_pids()) == 2
        assert job.done.wait(60) and job.view().state == "completed"
    finally:
        held_start.set()
        pool.close()


def test_a_server_that_cannot_start_any_worker_fails_the_waiting_run_with_a_sentence(held_start):
    held_start.fail = True
    pool = TrainingPool(2, 64.0, 120.0)
    job = new_runs().start(QUICK, pool)
    held_start.set()
    assert job.done.wait(60) and pool.ready(timeout=60)
    assert job.view().state == "failed" and job.view().message == NO_WORKER
    assert pool.max_running == 0 and pool.worker_pids() == [] and pool.waiting == 0


def test_a_pool_that_could_not_start_its_workers_tries_again_at_the_next_run(held_start):
    held_start.fail = True  # the machine is out of processes for a moment...
    held_start.set()
    pool = TrainingPool(2, 64.0, 120.0)
    try:
        assert pool.ready(timeout=60) and pool.max_running == 0
        told = new_runs().start(QUICK, pool)  # ...and this run is told so
        assert told.done.wait(60) and told.view().message == NO_WORKER
        held_start.fail = False  # ...then it is not: the next run starts both places again
        job = new_runs().start(QUICK, pool)
        assert job.done.wait(60) and job.view().state == "completed", job.view().message
        assert pool.ready(timeout=60) and pool.max_running == 2 and len(pool.worker_pids()) == 2
    finally:
        pool.close()


def test_a_worker_that_could_not_be_replaced_is_started_again_at_the_next_run(make_pool, monkeypatch):
    pool = make_pool(1)
    (pid,) = pool.worker_pids()

    def cannot_start(pool):
        raise OSError("no process can be started")

    monkeypatch.setattr(TrainingPool, "_new_worker", cannot_start)
    runs = new_runs()
    job = runs.start(LONG, pool)
    wait_until(lambda: job.view().state == "running")
    os.kill(pid, signal.SIGKILL)  # the worker dies, and no new one can be started in its place
    assert job.done.wait(30) and job.view().state == "failed"
    wait_until(lambda: pool.max_running == 0 and pool.running == 0)
    monkeypatch.undo()  # processes can be started again
    job = runs.start(QUICK, pool)
    assert job.done.wait(60) and job.view().state == "completed", job.view().message
    assert pool.max_running == 1 and len(pool.worker_pids()) == 1


def test_a_waiting_run_is_not_failed_when_a_dead_workers_replacement_fails_once(make_pool, monkeypatch):
    """One place: a student trains, another waits. The worker dies, and at that moment no process can
    be started. The pool tries again at once for the student waiting (the second try works), where
    it told them to try again in a minute."""
    pool = make_pool(1)
    (pid,) = pool.worker_pids()
    tries = []

    def fails_once(pool):
        tries.append(len(tries))
        if len(tries) == 1:
            raise OSError("no process can be started")
        return START_WORKER(pool)

    monkeypatch.setattr(TrainingPool, "_new_worker", fails_once)
    training = new_runs().start(LONG, pool)
    wait_until(lambda: training.view().state == "running")
    waiting = new_runs().start(QUICK, pool)
    assert waiting.view().state == "queued"
    os.kill(pid, signal.SIGKILL)
    assert training.done.wait(30) and training.view().state == "failed"
    assert waiting.done.wait(60) and waiting.view().state == "completed", waiting.view().message
    assert len(tries) == 2 and pool.max_running == 1 and len(pool.worker_pids()) == 1


def test_workers_that_come_up_after_the_pool_was_closed_are_ended(held_start):
    pool = TrainingPool(2, 64.0, 120.0)
    pool.close()
    held_start.set()
    assert pool.ready(timeout=60)
    wait_until(lambda: pool.worker_pids() == [])


@pytest.mark.parametrize("max_running", [1, 2])
def test_many_sessions_at_once_all_finish_each_with_their_own_run(max_running, make_pool):
    pool = make_pool(max_running)
    sessions = [new_runs() for _ in range(6)]
    jobs = [s.start(replace(QUICK, seed=i), pool) for i, s in enumerate(sessions)]
    peak = 0
    while not all(j.done.is_set() for j in jobs):
        peak = max(peak, pool.running)
        time.sleep(0.005)
    assert peak <= max_running
    for seed, job in enumerate(jobs):
        assert job.view().config.seed == seed and job.view().state == "completed"


def test_views_are_consistent_copies_while_the_job_runs(make_pool):
    pool, runs = make_pool(1), new_runs()
    job = runs.start(replace(LONG, num_samples=200), pool)  # 5 batches an epoch: epochs end often
    wait_until(lambda: job.view().steps_done > 5)
    seen, until, deadline = [], time.monotonic() + 1.0, time.monotonic() + 30
    # read as a page does, about 1000 times a second, while it trains: for a second, and on until it
    # has trained a batch more (at nice 19 beside Chromium, a worker once trained 2 batches in 1.5 s)
    while time.monotonic() < until or (
        seen[-1].steps_done == seen[0].steps_done and time.monotonic() < deadline
    ):
        seen.append(job.view())
        time.sleep(0.001)  # with no pause the loop retakes the job's lock as soon as it lets go (a lock
        # is not fair); once, on a busy machine, no event was recorded for a whole second (10 -> 10 steps)
    runs.stop_active()
    assert job.done.wait(30)
    per_epoch = seen[0].started.batches_per_epoch
    assert seen[-1].steps_done > seen[0].steps_done  # the job trained on while it was read
    for before, view in itertools.pairwise(seen):
        # each view is one moment: an epoch is recorded only after all its batches, and never late
        assert len(view.epochs) * per_epoch <= view.steps_done <= (len(view.epochs) + 1) * per_epoch
        assert view.batches[-1].step <= view.steps_done
        # and a later view never goes back, nor does an earlier one change when training goes on
        assert view.steps_done >= before.steps_done and view.epochs[: len(before.epochs)] == before.epochs
    assert len(seen[0].epochs) < len(job.view().epochs)


def test_a_series_runs_one_after_another_with_labels(make_pool):
    pool, runs = make_pool(2), new_runs(max_kept=5)
    first, second = runs.start_series([("a", QUICK), ("b", replace(QUICK, seed=1))], pool)
    # both are listed at once, the second waiting for the first (not yet in the pool's queue)
    assert [j.run_id for j in runs.jobs] == [1, 2] and second.view().state == "queued"
    assert second.view().queue_place is None and "Waits for run 1" in second.view().message
    assert runs.active is first and runs.start(QUICK, pool) is None  # one job per session still
    assert second.done.wait(60) and first.done.is_set()
    assert first.view().elapsed > 0 and second.view().started is not None
    assert [(v.label, v.state, v.config.seed) for v in runs.views()] == [
        ("a", "completed", 0),
        ("b", "completed", 1),
    ]


def test_stopping_a_series_stops_the_runs_still_to_come(make_pool):
    pool, runs = make_pool(1), new_runs()
    first, second = runs.start_series([("long", LONG), ("next", QUICK)], pool)
    wait_until(lambda: first.view().state == "running")
    runs.stop_active()
    assert first.done.wait(30) and second.done.wait(30)
    assert first.view().state == "stopped" and second.view().state == "stopped"
    assert second.view().started is None and "Not run: run 1" in second.view().message
    assert pool.waiting == 0 and runs.active is None


def test_a_diverged_run_does_not_end_its_series(make_pool):
    pool, runs = make_pool(1), new_runs()
    too_high = replace(QUICK, optimizer="sgd", lr=10.0, epochs=30, hidden_size=64, nonlinearity="relu")
    first, second = runs.start_series([("too high", too_high), ("next", QUICK)], pool)
    assert second.done.wait(60)
    assert first.view().state == "diverged" and second.view().state == "completed"


def test_uploads_are_bounded_per_session_and_their_names_made_plain():
    runs = SessionRuns(3, 1, 100, max_uploads=2)
    labels = [runs.add_upload(name, object()) for name in ("a.safetensors", "[x](http://e.example)", "c")]
    assert list(runs.uploaded) == labels[1:]  # the oldest went first
    assert labels[1] == "Uploaded 2: _x__http___e.example_"
    assert runs.add_upload("y" * 100, object()) == "Uploaded 4: " + "y" * 60  # as long as a quoted text


def test_a_session_ending_stops_its_run_and_lets_go_of_its_uploads(make_pool):
    pool, runs = make_pool(1), new_runs()
    job = runs.start(LONG, pool)
    runs.add_upload("a.safetensors", object())
    runs.release()
    assert job.done.wait(30) and job.view().state == "stopped" and not runs.uploaded


def test_closing_the_pool_mid_run_ends_every_worker_and_leaves_the_runs_pipe_to_its_thread(
    make_pool, monkeypatch
):
    """close() ended a training worker's process and closed its pipe under the run's thread, which
    was reading it: a read could find the handle gone (TypeError in multiprocessing, seen once at a
    test's end). Now the thread reads the pipe's end, ends the run and closes the pipe itself."""
    crashed = []
    monkeypatch.setattr("threading.excepthook", crashed.append)
    pool, runs = make_pool(1), new_runs()
    job = runs.start(LONG, pool)
    wait_until(lambda: job.view().state == "running" and job.view().steps_done > 0)
    (busy,) = pool._all
    pool.close()
    assert not busy.alive() and not busy.conn.closed  # its run's thread may still be reading it
    assert job.done.wait(10) and job.view().state == "failed"
    wait_until(lambda: busy.conn.closed)  # by the run's thread, once it had read the end
    assert crashed == [] and pool.running == 0
