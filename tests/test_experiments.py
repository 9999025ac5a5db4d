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
def test_each_experiment_changes_exactly_one_setting_with_the_same_seed(name):
    experiment = EXPERIMENTS[name]
    assert len(experiment.runs) == 2 and len(experiment.differing_setting()) == 1
    assert "seed" not in experiment.differing_setting()


def test_a_claim_can_fail():
    experiment = EXPERIMENTS["RNN vs LSTM: remember 30 steps back"]
    assert not experiment.holds({"rnn": 0.95, "lstm": 0.97})
