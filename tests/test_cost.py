"""A run's cost, estimated from its config before it starts (rnn_core.cost)."""

from dataclasses import replace

import pytest

from rnn_core import PRESETS, TrainConfig, build_model, preset
from rnn_core.cost import PROCESS_SLACK, estimate, memory_bytes, parameter_count, seconds


@pytest.mark.parametrize(
    "config",
    [
        TrainConfig(),
        TrainConfig(cell="lstm", num_layers=3, hidden_size=20, embed_size=7),
        TrainConfig(cell="gru", num_layers=2, task="sentiment", seq_len=14),
        TrainConfig(task="parity", seq_len=12, hidden_size=5),
    ],
)
def test_the_parameter_count_is_the_built_networks(config):
    assert parameter_count(config) == sum(p.numel() for p in build_model(config).parameters())


def test_memory_grows_with_what_backprop_keeps_and_time_with_the_batches():
    lab = preset("lab")

    def run_memory(config):  # what the run itself adds, above the fixed allowance
        return memory_bytes(config) - PROCESS_SLACK

    assert run_memory(replace(lab, batch_size=1024, num_samples=4000)) > 4 * run_memory(lab)
    assert run_memory(replace(lab, cell="lstm")) > run_memory(lab)
    assert seconds(replace(lab, epochs=20)) == pytest.approx(2 * seconds(lab))
    assert seconds(replace(lab, batch_size=1)) > 10 * seconds(lab)  # a fixed cost per batch
    assert seconds(replace(lab, seq_len=100)) > 3 * seconds(lab)  # the recurrence is a loop over t


def test_the_presets_are_small_runs():
    for name in PRESETS:
        cost = estimate(preset(name))
        assert cost.memory_mb < 30 and cost.seconds < 6, name
