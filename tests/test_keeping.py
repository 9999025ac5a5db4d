"""What the server keeps of the class's runs: the shelf of closed tabs and the one memory budget.

Runs here are not trained by a pool: `Replayed` hands a job the recorded events of its config's
run (conftest.run_events), as a worker would, so each test counts real networks and snapshots.
"""

import gc
import re
from dataclasses import replace

import torch

from conftest import BIG, ROOT, run_events
from dashboard import limits
from dashboard.keeping import KeptMemory, RunShelf, SessionRuns
from dashboard.runner import SNAPSHOTS_LET_GO
from rnn_core import TrainConfig, checkpoint, preset
from rnn_core.cost import parameter_count

SMALL = TrainConfig(num_samples=100, epochs=2)  # the lab task: a network of 7 KB


class Replayed:
    """A pool whose runs end at once with their recorded events (the worker's part, done before)."""

    def submit(self, job):
        job.begin()
        for event in run_events(job.config):
            job.record(event)
        job.end()


def new_runs(budget: KeptMemory | None = None, **sizes) -> SessionRuns:
    runs = SessionRuns(sizes.get("max_kept", 10), sizes.get("keep_snapshots", 2), 500, max_uploads=3)
    if budget is not None:
        budget.join(runs)
    return runs


def train(runs: SessionRuns, config: TrainConfig, seed: int = 0):
    job = runs.start(replace(config, seed=seed), Replayed())
    assert job is not None and job.done.is_set()
    return job


def network_bytes(config: TrainConfig) -> int:
    return 4 * parameter_count(config)  # float32 weights: rnn_core.cost counts them from the config alone


def kept(runs: SessionRuns) -> list[tuple[bool, bool]]:
    """For each run, oldest first: (has its snapshots, has its network)."""
    return [(bool(view.snapshots), view.model is not None) for view in runs.views()]


def test_a_run_counts_its_network_and_snapshots_and_lets_go_of_snapshots_first_then_the_network():
    runs = new_runs()
    job = train(runs, SMALL)
    snapshots = job.view().snapshots
    assert len(snapshots) == 3  # before training and after each epoch
    snapshot_bytes = sum(s.hidden.nbytes + s.probs.nbytes + s.dh_norms.nbytes for s in snapshots)
    assert job.kept_bytes() == network_bytes(SMALL) + snapshot_bytes
    before = job.view()

    assert job.let_go() == snapshot_bytes
    assert kept(runs) == [(False, True)] and job.view().let_go == (SNAPSHOTS_LET_GO,)
    assert job.let_go() == network_bytes(SMALL)
    after = job.view()
    assert kept(runs) == [(False, False)] and job.kept_bytes() == 0 and job.let_go() == 0
    # what a student reads of the run stays: curves, log, result, confusion matrix
    assert after.epochs == before.epochs and after.batches == before.batches and after.state == "completed"
    assert after.finished.test_accuracy == before.finished.test_accuracy
    assert (after.finished.confusion == before.finished.confusion).all()
    assert after.picker_label == before.picker_label  # still with its test accuracy
    assert after.let_go_note == (
        "To make room on the shared server, run 1's hidden-state snapshots and its trained network were "
        "let go; its curves and results stay. Train it again to get them back."
    )
    assert run_events(SMALL)[-1].model is not None  # the job let go of its own copy of the event


def test_one_sentence_says_what_was_let_go():
    runs = new_runs()
    job = train(runs, SMALL)
    job.let_go()
    assert "run 1's hidden-state snapshots were let go" in job.view().let_go_note
    other = train(runs, SMALL, seed=1)
    other.drop_snapshots()  # an older run's snapshots go anyway (RUNS_WITH_SNAPSHOTS): nothing to say
    assert other.view().let_go_note == ""
    other.let_go()
    assert "run 2's trained network was let go" in other.view().let_go_note


def test_closed_tabs_let_go_first_the_longest_closed_first_and_an_open_tab_keeps_all():
    budget = KeptMemory(budget_bytes=2.5 * network_bytes(BIG))
    first, second, open_tab = new_runs(budget), new_runs(budget), new_runs(budget)
    train(first, BIG)
    first.release()
    train(second, BIG)
    second.release()
    assert budget.freed_bytes == 0  # within the budget: nothing goes
    train(open_tab, BIG)  # three networks of 5.8 MB do not fit in 2.5
    assert kept(first) == [(False, False)] and kept(second)[0][1]  # the first closed lets go, all of it
    assert kept(open_tab) == [(True, True)] and open_tab.views()[0].let_go == ()
    assert budget.kept_bytes() <= budget.budget_bytes
    train(open_tab, BIG, seed=1)
    assert kept(second) == [(False, False)] and kept(open_tab) == [(True, True), (True, True)]
    assert budget.kept_bytes() <= budget.budget_bytes


def test_whoever_keeps_the_most_lets_go_of_its_oldest_and_small_runs_never_pay_for_big_ones():
    budget = KeptMemory(budget_bytes=3.5 * network_bytes(BIG))
    big, small = new_runs(budget), new_runs(budget)
    for seed in range(3):
        train(small, SMALL, seed)
    for seed in range(6):
        train(big, BIG, seed)
        assert budget.kept_bytes() <= budget.budget_bytes
    assert all(view.let_go == () for view in small.views())
    # the big runs' student lost its oldest first: snapshots, then networks; its newest are whole
    assert kept(big) == [(False, False)] * 3 + [(False, True)] + [(True, True)] * 2
    assert kept(small) == [(False, True), (True, True), (True, True)]


def test_uploaded_models_count_and_go_after_the_sessions_finished_runs():
    model = run_events(BIG)[-1].model
    budget = KeptMemory(budget_bytes=2.5 * network_bytes(BIG))
    runs = new_runs(budget)
    train(runs, BIG)
    for name in ("a", "b"):
        runs.add_upload(f"{name}.safetensors", checkpoint.from_bytes(checkpoint.to_bytes(model)))
    assert kept(runs) == [(False, False)] and len(runs.uploaded) == 2 and runs.uploads_let_go == 0
    runs.add_upload("c.safetensors", checkpoint.from_bytes(checkpoint.to_bytes(model)))
    assert list(runs.uploaded) == ["Uploaded 2: b.safetensors", "Uploaded 3: c.safetensors"]
    assert runs.uploads_let_go == 1 and budget.kept_bytes() <= budget.budget_bytes


def test_a_run_still_training_lets_go_of_its_snapshots_last_after_finished_runs_and_uploads():
    started, first_snapshot, *events, finished = run_events(replace(SMALL, seed=1))
    budget = KeptMemory(budget_bytes=first_snapshot.nbytes + 1000)  # room for one snapshot
    runs = new_runs(budget)
    old = train(runs, SMALL)  # its snapshots did not fit: it keeps its network (7 KB)
    runs.add_upload("a.safetensors", checkpoint.from_bytes(checkpoint.to_bytes(run_events(SMALL)[-1].model)))
    assert kept(runs) == [(False, True)] and len(runs.uploaded) == 1
    job = runs._add(started.config, "")  # recorded by hand, as a worker thread records
    job.begin()
    job.record(started)
    job.record(first_snapshot)
    assert old.view().model is None and not runs.uploaded and runs.uploads_let_go == 1  # these go first
    assert len(job.view().snapshots) == 1  # and the run being watched keeps its snapshot
    for event in events:
        job.record(event)
    assert job.view().snapshots == () and job.view().let_go == (SNAPSHOTS_LET_GO,)  # at last, these too
    job.record(finished)
    job.end()
    assert job.view().model is not None and budget.kept_bytes() <= budget.budget_bytes


def test_a_session_that_is_gone_is_no_longer_counted():
    budget = KeptMemory(budget_bytes=1e9)
    runs = new_runs(budget)
    train(runs, SMALL)
    assert budget.kept_bytes() > 0
    del runs
    gc.collect()
    assert budget.kept_bytes() == 0


def test_a_class_of_lab_runs_keeps_what_the_readme_says_far_within_the_default_budget():
    runs = new_runs()
    for _ in range(limits.MAX_RUNS_KEPT):
        train(runs, preset("lab"))
    class_mb = 30 * runs.kept_bytes() / 1e6
    said = re.search(
        r"a class of 30 with 10 lab runs each keeps about (\d+) MB", (ROOT / "README.md").read_text()
    )
    assert limits.MAX_RUNS_KEPT == 10 and int(said.group(1)) == round(class_mb)
    assert class_mb < limits.KEPT_MB / 3  # a class that trains what the lab asks never meets the budget


def test_a_networks_bytes_are_its_weights():
    model = run_events(BIG)[-1].model
    assert model.weight_bytes == sum(p.numel() for p in model.model.parameters()) * 4 == network_bytes(BIG)
    assert all(p.dtype == torch.float32 for p in model.model.parameters())


def test_the_shelf_gives_a_browsers_runs_back_once_and_forgets_them_after_a_while():
    now = [0.0]  # the shelf's clock: a busy machine's pauses between two lines change nothing
    shelf, runs = RunShelf(keep_seconds=30, max_sessions=2, clock=lambda: now[0]), new_runs()
    shelf.put("browser a", runs)
    assert shelf.take("browser b") is None  # another browser gets nothing
    assert shelf.take("browser a") is runs and shelf.take("browser a") is None  # once
    shelf.put("browser a", runs)
    now[0] = 29.0
    assert len(shelf) == 1  # kept a while...
    now[0] = 30.5
    assert shelf.take("browser a") is None and len(shelf) == 0  # ...not for ever
    for name in ("a", "b", "c"):
        shelf.put(name, new_runs())
    assert len(shelf) == 2 and shelf.take("a") is None  # bounded: the oldest goes first
