"""The dashboard's background jobs and the fair queue, without Streamlit."""

import itertools
import threading
import time
from dataclasses import replace

import pytest

from dashboard import runner
from dashboard.runner import Job, SessionRuns, TrainingPool
from rnn_core import BatchEnd, TrainConfig

QUICK = TrainConfig(num_samples=100, epochs=2)
LONG = TrainConfig(num_samples=2000, epochs=200)


def wait_until(condition, timeout=30.0):
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.01)


def new_runs(max_kept=3, keep_snapshots=1, points=2000):
    return SessionRuns(max_kept, keep_snapshots, points)


def test_a_job_trains_in_the_background_and_keeps_its_result():
    pool, runs = TrainingPool(2), new_runs()
    job = runs.start(QUICK, pool)
    assert job.done.wait(30)
    view = job.view()
    assert view.state == "completed" and view.progress == 1.0
    assert len(view.epochs) == 2 and view.finished.model.history == list(view.epochs)
    assert view.batches[-1][0] == view.steps_done == view.started.total_batches


def test_one_job_per_session_at_a_time():
    pool, runs = TrainingPool(2), new_runs()
    first = runs.start(LONG, pool)
    assert runs.start(QUICK, pool) is None
    runs.stop_active()
    assert first.done.wait(30) and first.view().state == "stopped"
    assert runs.start(QUICK, pool) is not None


def test_the_queue_is_first_come_first_served_and_shows_each_place():
    pool = TrainingPool(1)
    sessions = [new_runs() for _ in range(3)]
    jobs = [s.start(LONG if i == 0 else QUICK, pool) for i, s in enumerate(sessions)]
    wait_until(lambda: jobs[0].view().state == "running")
    assert [j.view().queue_place for j in jobs] == [None, 1, 2]
    sessions[0].stop_active()
    assert jobs[2].done.wait(60)
    assert all(j.view().state in ("stopped", "completed") for j in jobs)
    assert jobs[1].view().state == jobs[2].view().state == "completed"
    assert pool.running == 0 and pool.waiting == 0


def test_stopping_a_queued_job_frees_its_place_without_training():
    pool = TrainingPool(1)
    a, b, c = new_runs(), new_runs(), new_runs()
    running, queued, behind = a.start(LONG, pool), b.start(QUICK, pool), c.start(QUICK, pool)
    wait_until(lambda: running.view().state == "running")
    b.stop_active()
    assert queued.done.wait(10)
    assert queued.view().state == "stopped" and "still waiting in the queue" in queued.view().message
    assert queued.view().started is None
    wait_until(lambda: behind.view().queue_place == 1)
    a.stop_active()
    assert behind.done.wait(60) and behind.view().state == "completed"


def test_a_stopped_run_keeps_its_model():
    pool, runs = TrainingPool(1), new_runs()
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
    steps = [s for s, _, _ in job.view().batches]
    assert len(steps) < 100
    gaps = {b - a for a, b in itertools.pairwise(steps)}
    assert len(gaps) == 1  # evenly spaced


def test_a_session_keeps_a_bounded_number_of_runs_and_frees_old_snapshots():
    pool, runs = TrainingPool(2), new_runs(max_kept=3, keep_snapshots=1)
    for seed in range(5):
        job = runs.start(replace(QUICK, seed=seed), pool)
        assert job.done.wait(30)
    assert [j.run_id for j in runs.jobs] == [3, 4, 5]
    assert [len(v.snapshots) > 0 for v in runs.views()] == [False, False, True]


def test_an_internal_error_fails_the_job_with_a_message_and_frees_the_place(monkeypatch):
    def broken(config, stop, num_threads=None):
        yield from ()
        raise RuntimeError("boom")

    monkeypatch.setattr(runner, "train", broken)
    pool, runs = TrainingPool(1), new_runs()
    job = runs.start(QUICK, pool)
    assert job.done.wait(10)
    assert job.view().state == "failed" and "RuntimeError: boom" in job.view().message
    assert pool.running == 0


@pytest.mark.parametrize("max_running", [1, 2])
def test_many_sessions_at_once_all_finish_each_with_their_own_run(max_running):
    pool = TrainingPool(max_running)
    sessions = [new_runs() for _ in range(6)]
    jobs = [s.start(replace(QUICK, seed=i), pool) for i, s in enumerate(sessions)]
    peak = 0
    while not all(j.done.is_set() for j in jobs):
        peak = max(peak, pool.running)
        time.sleep(0.005)
    assert peak <= max_running
    for seed, job in enumerate(jobs):
        assert job.view().config.seed == seed and job.view().state == "completed"


def test_each_training_thread_uses_one_pytorch_thread(monkeypatch):
    seen = []

    def spy(config, stop, num_threads=None):
        seen.append(num_threads)
        yield from ()

    monkeypatch.setattr(runner, "train", spy)
    pool, runs = TrainingPool(1), new_runs()
    assert runs.start(QUICK, pool).done.wait(10)
    assert seen == [runner.THREADS_PER_RUN] == [1]


def test_views_are_consistent_copies_while_the_job_runs():
    pool, runs = TrainingPool(1), new_runs()
    job = runs.start(LONG, pool)
    wait_until(lambda: job.view().steps_done > 5)
    seen = []
    reader = threading.Thread(target=lambda: seen.extend(job.view() for _ in range(50)))
    reader.start()
    reader.join()
    runs.stop_active()
    assert job.done.wait(30)
    assert all(v.batches[-1][0] <= v.steps_done for v in seen if v.batches)


def test_a_series_runs_one_after_another_with_labels():
    pool, runs = TrainingPool(2), new_runs(max_kept=5)
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


def test_stopping_a_series_stops_the_runs_still_to_come():
    pool, runs = TrainingPool(1), new_runs()
    first, second = runs.start_series([("long", LONG), ("next", QUICK)], pool)
    wait_until(lambda: first.view().state == "running")
    runs.stop_active()
    assert first.done.wait(30) and second.done.wait(30)
    assert first.view().state == "stopped" and second.view().state == "stopped"
    assert second.view().started is None and "Not run: run 1" in second.view().message
    assert pool.waiting == 0 and runs.active is None


def test_a_diverged_run_does_not_end_its_series():
    pool, runs = TrainingPool(1), new_runs()
    too_high = replace(QUICK, optimizer="sgd", lr=10.0, epochs=30, hidden_size=64, nonlinearity="relu")
    first, second = runs.start_series([("too high", too_high), ("next", QUICK)], pool)
    assert second.done.wait(60)
    assert first.view().state == "diverged" and second.view().state == "completed"
