"""TrainConfig: every bound checked in one place, with messages a student understands."""

import math
from dataclasses import fields, replace

import pytest

from rnn_core import FIELDS, PRESETS, TASKS, ConfigError, TrainConfig, preset, task_defaults
from rnn_core.config import unknown_settings


def test_every_config_field_has_exactly_one_spec():
    assert [f.name for f in fields(TrainConfig)] == list(FIELDS)


def test_defaults_are_the_lab_sheet_run():
    config = TrainConfig()
    assert (config.task, config.cell, config.optimizer, config.epochs) == ("lab", "rnn", "adam", 10)
    assert config == preset("lab")
    assert (config.num_train, config.num_test) == (800, 200)


@pytest.mark.parametrize("name", PRESETS)
def test_presets_are_valid_and_round_trip_through_json(name):
    config = preset(name)
    assert TrainConfig.from_json(config.to_json()) == config


@pytest.mark.parametrize(
    ("change", "words"),
    [
        ({"lr": 0.0}, "Learning rate (lr) must be a number from 1e-05 to 10; got 0.0"),
        ({"lr": math.nan}, "Learning rate (lr) must be a number from 1e-05 to 10"),
        ({"epochs": 0}, "Epochs (epochs) must be a whole number from 1 to 200; got 0"),
        ({"epochs": 2.5}, "must be a whole number"),
        ({"hidden_size": True}, "Hidden size (hidden_size) must be a whole number"),
        ({"cell": "transformer"}, "Cell (cell) must be one of rnn, lstm, gru; got 'transformer'"),
        ({"task": "mnist"}, "Task (task) must be one of lab, remember, pattern, sentiment, parity"),
        ({"cell": "lstm", "nonlinearity": "relu"}, "only applies to the rnn cell"),
        ({"task": "sentiment", "seq_len": 3}, "The sentiment task needs a sequence length of at least 6"),
        ({"seed": -1}, "Seed (seed) must be a whole number from 0 to 2147483647"),
    ],
)
def test_bad_values_are_refused_with_what_is_allowed(change, words):
    with pytest.raises(ConfigError) as err:
        replace(TrainConfig(), **change)
    assert words in str(err.value)


def test_the_smallest_dataset_still_has_a_test_set():
    config = TrainConfig(
        num_samples=int(FIELDS["num_samples"].low), test_fraction=FIELDS["test_fraction"].low
    )
    assert config.num_test >= 1 and config.num_train >= 1


def test_every_problem_is_reported_at_once():
    with pytest.raises(ConfigError) as err:
        TrainConfig(epochs=0, lr=-1.0, batch_size=0)
    assert len(err.value.problems) == 3


def test_config_is_frozen():
    with pytest.raises(AttributeError):
        TrainConfig().lr = 1.0  # type: ignore[misc]


def test_text_values_are_parsed_and_checked():
    config, problems = TrainConfig.from_strings({"lr": "0.01", "cell": " LSTM ", "epochs": "3"})
    assert (config.lr, config.cell, config.epochs) == (0.01, "lstm", 3) and problems == []
    config, problems = TrainConfig.from_strings({"epochs": "ten", "colour": "red", "lr": "0.5"})
    assert config == replace(TrainConfig(), lr=0.5)  # the usable value is kept
    assert problems == [
        f"Unknown setting 'colour'. Known settings: {', '.join(FIELDS)}.",
        "Epochs (epochs) must be a whole number from 1 to 200; got 'ten'.",
    ]


def test_a_long_value_is_repeated_in_a_message_only_in_part():
    """A crafted or garbled link must not make a sidebar message of its whole length."""
    config, problems = TrainConfig.from_strings({"epochs": "9" * 5000, "x" * 100: "1"})
    assert config == TrainConfig() and problems == [
        f"Unknown setting '{'x' * 60}…' (100 characters). Known settings: {', '.join(FIELDS)}.",
        f"Epochs (epochs) must be a whole number from 1 to 200; got '{'9' * 60}…' (5,000 characters).",
    ]


def test_a_new_task_brings_its_own_sequence_length_unless_one_is_given():
    base, own = preset("remember-lstm"), TASKS["sentiment"].default_seq_len  # 40 digits; 14 words
    assert TrainConfig.from_strings({"task": "sentiment"}, base)[0].seq_len == own
    assert TrainConfig.from_strings({"task": "sentiment", "seq_len": "9"}, base)[0].seq_len == 9
    assert TrainConfig.from_strings({"epochs": "3"}, base)[0].seq_len == 40  # same task: its length stays
    config, problems = TrainConfig.from_strings({"task": "sentiment", "seq_len": "3"}, base)
    assert config.seq_len == own and "needs a sequence length of at least 6; got 3" in problems[0]


def test_a_new_task_that_clashes_with_the_base_is_a_problem_not_an_error():
    big = TrainConfig(num_samples=3000)  # more sequences than parity has at its own 12 bits (4,096 / 2)
    config, problems = TrainConfig.from_strings({"task": "parity"}, big)
    assert config == big and "The parity task has only" in problems[0]
    config, problems = TrainConfig.from_strings({"task": "parity", "num_samples": "500"}, big)
    assert (config.task, config.seq_len, config.num_samples, problems) == ("parity", 12, 500, [])


def test_a_task_there_is_not_is_a_problem_not_an_error():
    """A typo in a shared link's task (`?task=sentimnet`) crashed the page: the new task's own
    sequence length was looked up before the task was checked."""
    config, problems = TrainConfig.from_strings({"task": "sentimnet", "epochs": "5", "seq_len": "40"})
    assert (config.task, config.epochs, config.seq_len) == ("lab", 5, 40)  # the rest of the link applies
    assert problems == [f"Task (task) must be {FIELDS['task'].allowed()}; got 'sentimnet'."]


def test_settings_that_only_fit_together_are_taken_together():
    # parity of 8 bits has 256 sequences: too few for the preset's 2,000, enough for 100
    with pytest.raises(ConfigError):
        replace(preset("parity"), seq_len=8)
    config, problems = TrainConfig.from_strings({"seq_len": "8", "num_samples": "100"}, preset("parity"))
    assert (config.seq_len, config.num_samples, problems) == (8, 100, [])


def test_unknown_settings_get_the_same_sentence_from_json_text_and_links():
    with pytest.raises(ConfigError) as from_json:
        TrainConfig.from_dict({"epochs": 3, "dropout": 0.5})
    assert from_json.value.problems == unknown_settings(["dropout"])
    assert TrainConfig.from_strings({"dropout": "0.5"})[1] == unknown_settings(["dropout"])


def test_json_with_unknown_or_bad_content_is_refused():
    with pytest.raises(ConfigError, match="Unknown setting"):
        TrainConfig.from_dict({"epochs": 3, "dropout": 0.5})
    with pytest.raises(ConfigError, match="not valid JSON"):
        TrainConfig.from_json("{epochs: 3")
    with pytest.raises(ConfigError, match="object"):
        TrainConfig.from_json("[1, 2]")


def test_changes_from_names_only_the_settings_that_differ():
    a, b = preset("remember-rnn"), preset("remember-lstm")
    assert b.changes_from(a) == {"cell": ("rnn", "lstm")}


@pytest.mark.parametrize("task", TASKS)
def test_task_defaults_bring_a_valid_sequence_length(task):
    assert task_defaults(task).seq_len == TASKS[task].default_seq_len


def test_unknown_preset_lists_the_presets():
    with pytest.raises(KeyError, match="Choose one of: lab"):
        preset("nope")
