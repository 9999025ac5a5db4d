"""The training engine: the sheet's run, its events, determinism, stopping and divergence."""

import threading
from dataclasses import replace

import numpy as np
import pytest
import torch

from conftest import trained
from rnn_core import (
    BatchEnd,
    EpochEnd,
    ProbeSnapshot,
    RunFinished,
    RunStarted,
    TrainConfig,
    build_model,
    fit,
    preset,
    train,
)
from rnn_core.model import CELLS
from rnn_core.train import MAX_SNAPSHOTS, PROBE_SIZE, evaluate, kept_weights, make_data

SMALL = TrainConfig(num_samples=200, epochs=3)


def events_of(config, stop=None):
    return list(train(config, stop))


def test_events_come_in_the_documented_order():
    events = events_of(SMALL)
    started = events[0]
    assert isinstance(started, RunStarted) and started.total_batches == 3 * started.batches_per_epoch
    assert isinstance(events[1], ProbeSnapshot) and events[1].epoch == 0
    assert isinstance(events[-1], RunFinished) and events[-1].status == "completed"
    kinds = [type(e).__name__ for e in events[2:-1]]
    per_epoch = ["BatchEnd"] * started.batches_per_epoch + ["EpochEnd", "ProbeSnapshot"]
    assert kinds == per_epoch * 3
    steps = [e.step for e in events if isinstance(e, BatchEnd)]
    assert steps == list(range(1, started.total_batches + 1))


def test_events_hold_plain_numbers_not_graphs():
    for event in events_of(SMALL):
        for name, value in vars(event).items():
            assert not isinstance(value, torch.Tensor), (type(event).__name__, name)


def test_probe_snapshots_have_the_documented_shapes():
    config = SMALL
    snapshots = [e for e in events_of(config) if isinstance(e, ProbeSnapshot)]
    for snap in snapshots:
        assert snap.hidden.shape == (PROBE_SIZE, config.seq_len, config.hidden_size)
        assert snap.probs.shape == (PROBE_SIZE, config.seq_len, 2)
        assert snap.dh_norms.shape == (config.seq_len,) and np.all(snap.dh_norms >= 0)
        np.testing.assert_allclose(snap.probs.sum(axis=-1), 1.0, rtol=1e-5)
        assert snap.spectral_radius > 0


def test_same_config_gives_the_same_run_bit_for_bit():
    def curve(config):
        return [(e.loss, e.grad_norm) for e in train(config) if isinstance(e, BatchEnd)]

    assert curve(SMALL) == curve(SMALL)
    assert curve(SMALL) != curve(replace(SMALL, seed=1))


def test_num_threads_applies_in_the_thread_that_trains():
    seen = []

    def run():
        for event in train(SMALL, num_threads=1):
            if isinstance(event, RunStarted):
                seen.append(torch.get_num_threads())

    thread = threading.Thread(target=run)
    thread.start()
    thread.join()
    assert seen == [1]


def test_runs_in_parallel_threads_stay_reproducible():
    results = {}

    def run(key):
        results[key] = fit(SMALL).history[-1].train_loss

    threads = [threading.Thread(target=run, args=(k,)) for k in range(3)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(set(results.values())) == 1
    assert results[0] == fit(SMALL).history[-1].train_loss


@pytest.mark.parametrize("seed", range(5))
def test_lab_preset_looks_like_the_lab_sheet(seed):
    lab = trained(replace(preset("lab"), seed=seed))
    first, last = lab.history[0], lab.history[-1]
    assert len(lab.history) == 10
    assert first.train_accuracy < 0.70  # near chance (50%) after one epoch
    assert last.train_accuracy >= 0.95
    assert lab.test_accuracy >= 0.875
    assert last.train_loss < first.train_loss / 3


@pytest.mark.xdist_group("remember-runs")  # with the seed record's test: one worker trains them once
def test_lstm_remembers_where_the_vanilla_rnn_forgets():
    """The claim the remember task makes to students, on the presets' own seed."""
    rnn, lstm = trained(preset("remember-rnn")), trained(preset("remember-lstm"))
    gru = trained(replace(preset("remember-lstm"), cell="gru"))
    assert rnn.test_accuracy < 0.6
    assert lstm.test_accuracy > 0.95 and gru.test_accuracy > 0.95


def test_a_stop_request_ends_the_run_within_one_batch_and_keeps_the_model():
    stop = threading.Event()
    seen = []
    for event in train(replace(SMALL, epochs=50), stop):
        seen.append(event)
        if isinstance(event, BatchEnd) and event.step == 8:
            stop.set()
    finished = seen[-1]
    assert isinstance(finished, RunFinished) and finished.status == "stopped"
    assert max(e.step for e in seen if isinstance(e, BatchEnd)) == 8
    assert finished.epochs_completed == len(finished.model.history)
    before = build_model(SMALL).state_dict()["fc.weight"]
    assert not torch.equal(finished.model.model.state_dict()["fc.weight"], before)  # trained weights kept


def test_a_huge_learning_rate_diverges_with_a_reason_and_finite_weights():
    config = replace(SMALL, optimizer="sgd", lr=10.0, epochs=30, hidden_size=64, nonlinearity="relu")
    finished = events_of(config)[-1]
    assert finished.status == "diverged"
    assert "learning rate 10 is probably too high" in finished.reason
    assert "gradient clipping" in finished.reason
    assert all(torch.isfinite(p).all() for p in finished.model.model.parameters())
    # which weights it kept, so that a test accuracy below the last epoch's is no mystery
    epoch = finished.epochs_completed + 1
    assert f"The weights kept are those of the last finite update (epoch {epoch}, batch " in finished.reason
    assert finished.reason.endswith("; the test accuracy is measured with them.")
    _, _, test_x, test_y = make_data(config)
    assert evaluate(finished.model.model, test_x, test_y, 2)[1] == finished.test_accuracy


def test_a_diverged_run_that_went_back_to_its_epochs_first_weights_says_so():
    assert kept_weights(3, 7, 25, restored=True) == (
        "The weights kept are those from the start of epoch 3; the test accuracy is measured with them."
    )
    assert kept_weights(3, 1, 25, restored=False) == kept_weights(3, 7, 25, restored=True)  # no update kept


def test_gradient_clipping_keeps_the_same_run_from_diverging():
    config = replace(SMALL, optimizer="sgd", lr=10.0, epochs=30, hidden_size=64, nonlinearity="relu")
    assert events_of(replace(config, clip_grad=0.5))[-1].status != "diverged"


@pytest.mark.parametrize("cell", ["rnn", "lstm", "gru"])
@pytest.mark.parametrize("layers", [1, 3])
def test_every_cell_and_depth_trains(cell, layers):
    config = replace(SMALL, cell=cell, num_layers=layers, epochs=1)
    events = events_of(config)
    snap, epoch = (next(e for e in events if isinstance(e, kind)) for kind in (ProbeSnapshot, EpochEnd))
    model = events[-1].model.model
    assert type(model.rnn) is CELLS[cell] and model.rnn.num_layers == layers  # the network asked for
    assert (snap.spectral_radius is None) == (cell != "rnn")
    # and it learned: one epoch lowered the loss on the training set from where the weights began
    train_x, train_y, _, _ = make_data(config)
    untrained_loss = evaluate(build_model(config), train_x, train_y, num_classes=2)[0]
    assert epoch.train_loss_end < untrained_loss


def test_many_to_many_accuracy_counts_every_step():
    config = replace(preset("parity"), num_samples=100, epochs=1)
    finished = events_of(config)[-1]
    assert finished.confusion.sum() == config.num_test * config.seq_len


def test_confusion_matrix_matches_the_test_accuracy():
    finished = events_of(SMALL)[-1]
    assert finished.confusion.sum() == SMALL.num_test
    assert finished.confusion.trace() / SMALL.num_test == pytest.approx(finished.test_accuracy)


def test_probe_snapshots_stay_bounded_however_many_epochs():
    config = TrainConfig(num_samples=20, epochs=200, batch_size=1024)
    snapshots = [e.epoch for e in train(config) if isinstance(e, ProbeSnapshot)]
    assert len(snapshots) <= MAX_SNAPSHOTS + 1 and snapshots[0] == 0 and snapshots[-1] == 200


def test_train_and_test_sets_do_not_overlap():
    train_x, _, test_x, _ = make_data(preset("lab"))
    train_rows = {tuple(r) for r in train_x.tolist()}
    overlap = sum(tuple(r) in train_rows for r in test_x.tolist())
    assert len(test_x) == 200 and overlap <= 2  # random digit strings: a repeat is a rare chance


@pytest.mark.parametrize(("optimizer", "lr"), [("sgd", 0.1), ("adam", 0.002)])
def test_sgd_and_adam_both_learn_the_lab_task(optimizer, lr):
    run = fit(replace(preset("lab"), optimizer=optimizer, lr=lr, epochs=5))
    assert run.history[-1].train_loss < 0.6 * run.history[0].train_loss
    assert run.test_accuracy > 0.8


def test_warm_up_loads_what_the_first_optimizer_would_load():
    import subprocess
    import sys

    from conftest import ROOT

    code = "import sys, rnn_core; a = 'torch._dynamo' in sys.modules; rnn_core.warm_up(); "
    code += "print(a, 'torch._dynamo' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, check=True)
    assert out.stdout.split() == ["False", "True"]


def test_epoch_log_line_is_the_sheet_format():
    line = EpochEnd(1, 10, 0.68374, 0.56375, 0.6, 0.5, 1.0).log_line()
    assert line == "Epoch 1/10 - Loss: 0.6837 Accuracy: 56.38%"


def test_after_each_epoch_the_whole_training_set_is_scored_as_the_test_set_is():
    config = replace(preset("lab"), epochs=3, num_samples=300)
    run = fit(config)
    train_x, train_y, _, _ = make_data(config)
    loss, accuracy, _ = evaluate(run.model, train_x, train_y, 2)
    last = run.history[-1]
    assert (last.train_loss_end, last.train_accuracy_end) == (loss, accuracy)  # the final weights
    assert last.train_accuracy != last.train_accuracy_end  # the sheet's running tally is another number
