"""Every classroom experiment's claim, checked by running it: what the Compare page promises."""

import pytest

from rnn_core import fit
from rnn_core.experiments import EXPERIMENTS


@pytest.mark.parametrize("name", EXPERIMENTS)
def test_the_experiments_claim_holds_on_its_own_runs(name):
    experiment = EXPERIMENTS[name]
    accuracy = {label: fit(config).test_accuracy for label, config in experiment.runs}
    assert experiment.holds(accuracy), (experiment.claim, accuracy)


@pytest.mark.parametrize("name", EXPERIMENTS)
def test_each_experiment_varies_only_its_settings_with_the_same_seed(name):
    experiment = EXPERIMENTS[name]
    varied = experiment.varied_settings()
    assert "seed" not in varied and len({label for label, _ in experiment.runs}) == len(experiment.runs)
    if experiment.x is None:  # a pair: one setting apart
        assert len(experiment.runs) == 2 and len(experiment.differing_setting()) == 1
    else:  # a sweep: every combination of its x and its lines, nothing else
        assert set(varied) == {experiment.x, experiment.series()}
        combos = {(getattr(c, experiment.x), getattr(c, experiment.series())) for _, c in experiment.runs}
        assert (
            len(combos)
            == len(experiment.runs)
            == len(set(varied[experiment.x])) * len(set(varied[experiment.series()]))
        )


def test_the_length_sweep_crosses_cells_and_lengths():
    sweep = EXPERIMENTS["Memory as the sequence grows: RNN vs LSTM"]
    assert sweep.varied_settings() == {
        "cell": ["rnn"] * 3 + ["lstm"] * 3,
        "seq_len": [10, 20, 30] * 2,
    }
    assert sweep.x == "seq_len" and sweep.series() == "cell"
    assert [label for label, _ in sweep.runs][:2] == ["cell rnn, seq_len 10", "cell rnn, seq_len 20"]


def test_a_claim_can_fail():
    experiment = EXPERIMENTS["RNN vs LSTM: remember 30 steps back"]
    assert not experiment.holds({"rnn": 0.95, "lstm": 0.97})
    sweep = EXPERIMENTS["Memory as the sequence grows: RNN vs LSTM"]
    flat = {label: 0.95 for label, _ in sweep.runs}  # an RNN that does not fade with length
    assert not sweep.holds(flat)


def test_a_run_name_leads_back_to_its_experiment_and_label_only():
    sweep = EXPERIMENTS["Memory as the sequence grows: RNN vs LSTM"]  # its name holds ': ' itself
    name = sweep.run_name("cell rnn, seq_len 20")
    assert sweep.label_of(name) == "cell rnn, seq_len 20"
    assert all(e.label_of(name) is None for e in EXPERIMENTS.values() if e is not sweep)
    assert sweep.label_of("") is None and sweep.label_of("Run 1") is None
