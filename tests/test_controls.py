"""Shared links: a lesson as a URL, restored exactly; bad parts reported, good parts kept."""

import random
import re
from dataclasses import replace

import pytest

from dashboard import limits
from dashboard.controls import CUSTOM, config_from_link, link_params, matching_preset
from dashboard.limits import RUN_MEMORY_MB, RUN_SECONDS, too_big
from rnn_core import FIELDS, PRESETS, TrainConfig, preset
from rnn_core.cost import estimate


@pytest.mark.parametrize("name", PRESETS)
def test_every_preset_survives_the_round_trip_through_a_link(name):
    config = preset(name)
    restored, problems = config_from_link(link_params(config))
    assert restored == config and problems == []


def test_default_config_has_an_empty_link():
    assert link_params(TrainConfig()) == {}


def test_a_preset_link_stays_named_and_short():
    config = replace(preset("remember-lstm"), epochs=20)
    link = link_params(config, "remember-lstm")
    assert link == {"preset": "remember-lstm", "epochs": "20"}
    assert config_from_link(link) == (config, [])


def test_a_link_restores_its_settings():
    config, problems = config_from_link({"cell": "gru", "epochs": "7", "lr": "0.01", "hidden_size": "12"})
    assert problems == []
    assert (config.cell, config.epochs, config.lr, config.hidden_size) == ("gru", 7, 0.01, 12)


def test_a_bad_value_is_reported_and_the_rest_of_the_link_still_applies():
    config, problems = config_from_link(
        {"epochs": "lots", "hidden_size": "999", "cell": "lstm", "colour": "red"}
    )
    assert config.cell == "lstm" and config.epochs == TrainConfig().epochs
    assert config.hidden_size == TrainConfig().hidden_size
    assert any("Epochs (epochs) must be a whole number from 1 to 200; got 'lots'" in p for p in problems)
    assert any(
        "Hidden size (hidden_size) must be a whole number from 1 to 256; got 999" in p for p in problems
    )
    assert any("Unknown setting 'colour'" in p for p in problems)


# What a link may carry for any setting: good values, values out of bounds or of the wrong kind,
# typos, and what a hostile link would try.
LINK_VALUES = ("", " ", "0", "-1", "2", "3", "40", "20000", "1e9", "0.5", "1e-5", "nan", "inf", "1_0",
               "\u0661\u0662", "lstm", "relu", "sgd", "parity", "sentimnet", "lab", "LSTM ", "x" * 300,
               "9" * 5000, "\x00", "on", *PRESETS)  # fmt: skip


def test_no_link_crashes_the_page_and_a_link_without_a_problem_is_taken_whole():
    """3,000 links, each mixing up to six settings with values of every kind above."""
    rng = random.Random(0)
    names = [*FIELDS, "preset", "projector", "colour"]
    for _ in range(3000):
        link = {name: rng.choice(LINK_VALUES) for name in rng.sample(names, rng.randint(1, 6))}
        config, problems = config_from_link(link)  # never raises
        assert isinstance(config, TrainConfig) and all(isinstance(p, str) and p for p in problems)
        if not problems:  # nothing dropped without a word
            assert all(getattr(config, k) == FIELDS[k].parse(v) for k, v in link.items() if k in FIELDS), link


def test_a_crafted_link_gets_a_short_answer_however_long_it_is():
    """5,000 unknown names and 1,000 characters for every setting: a 60 KB link. It made a 1 MB
    warning, drawn again at every rerun of the page; now a sentence per setting at most."""
    link = {f"k{i}": "1" for i in range(5000)} | {name: "x" * 1000 for name in FIELDS}
    config, problems = config_from_link(link)
    assert config == TrainConfig() and len(problems) == 1 + len(FIELDS)
    assert problems[0].startswith("Unknown settings 'k0', 'k1', 'k10', 'k100', 'k1000' and 4,995 more.")
    assert sum(map(len, problems)) < 4000


def test_a_linked_task_brings_its_sequence_length_unless_the_link_sets_one():
    assert config_from_link({"task": "sentiment"})[0].seq_len == 14
    assert config_from_link({"task": "sentiment", "seq_len": "9"})[0].seq_len == 9
    config, problems = config_from_link({"task": "sentiment", "seq_len": "3"})
    assert config.seq_len == 14 and "at least 6" in problems[0]


def test_a_preset_in_a_link_is_applied_before_the_other_settings():
    config, problems = config_from_link({"preset": "remember-lstm", "epochs": "3"})
    assert config == replace(preset("remember-lstm"), epochs=3) and problems == []
    assert "Unknown preset 'nope'" in config_from_link({"preset": "nope"})[1][0]


def test_matching_preset_names_a_preset_or_custom():
    assert matching_preset(preset("parity")) == "parity"
    assert matching_preset(replace(preset("lab"), seed=3)) == CUSTOM


def test_the_server_refuses_runs_too_big_to_share_and_says_what_to_shrink():
    for name in PRESETS:
        assert too_big(preset(name)) is None, name
    # under the old "cell updates" limit, yet 3.5 GB while training: refused for its memory
    hungry = TrainConfig(cell="lstm", hidden_size=256, num_layers=3, embed_size=128, seq_len=100,
                         num_samples=1280, epochs=1, batch_size=1024)  # fmt: skip
    assert estimate(hungry).memory_mb > RUN_MEMORY_MB
    message = too_big(hungry)
    assert f"each run may use {RUN_MEMORY_MB:.0f} MB" in message
    assert "a smaller batch size (now 1024)" in message and "fewer layers (now 3)" in message
    # tiny batches of a tiny network: little memory, but hours of training
    slow = TrainConfig(hidden_size=1, seq_len=100, num_samples=20000, test_fraction=0.05, epochs=200,
                       batch_size=1)  # fmt: skip
    assert estimate(slow).seconds > 3600 > RUN_SECONDS
    message = too_big(slow)
    assert "would take too long" in message and "hours of training" in message
    assert f"each run may take at most {RUN_SECONDS:.0f} s." in message  # not "60.000 s"
    assert "a larger batch size (now 1)" in message and "fewer epochs (now 200)" in message


@pytest.mark.parametrize(
    ("budget", "needed", "said"),
    [
        (60, 9360, ("2.6 hours", "60 s")),
        (60, 61.2, ("61 s", "60 s")),
        (60, 60.3, ("60.3 s", "60.0 s")),  # "60 s" twice would not say why it was refused
        (120, 125, ("125 s", "120 s")),  # "2 minutes" twice
        (119.6, 120.4, ("120.4 s", "119.6 s")),  # "2 minutes" beside "120 s"
        (7000, 7300, ("2.0 hours", "1.9 hours")),  # not beside "117 minutes"
        (61, 121, ("2 minutes", "1 minute")),
        (600, 1500, ("25 minutes", "10 minutes")),  # a teacher's budget (RNN_LAB_RUN_SECONDS)
    ],
)
def test_a_run_over_the_time_budget_is_told_both_durations_each_readable(monkeypatch, budget, needed, said):
    monkeypatch.setattr(limits, "RUN_SECONDS", budget)
    monkeypatch.setattr(limits, "estimate", lambda config: replace(estimate(config), seconds=needed))
    message = too_big(preset("lab"))
    assert f"about {said[0]} of training, and each run may take at most {said[1]}." in message


def test_a_run_just_over_a_budget_is_told_two_numbers_that_differ(monkeypatch):
    config = TrainConfig(num_samples=20000, hidden_size=64, seq_len=100)
    needed = estimate(config).memory_mb
    monkeypatch.setattr(limits, "RUN_MEMORY_MB", float(int(needed)))  # under it by less than 1 MB
    message = too_big(config)
    shown = re.findall(
        r"about ([\d.,]+) MB of memory while training, and each run may use ([\d.,]+) MB", message
    )
    (need, allowed) = shown[0]
    assert need != allowed and float(need) > float(allowed)


def test_projector_mode_is_a_link_setting_beside_the_run_not_part_of_it():
    link = link_params(preset("lab"), "lab", projector=True)
    assert link == {"preset": "lab", "projector": "on"}
    assert config_from_link(link) == (preset("lab"), [])
    config, problems = config_from_link({"projector": "big", "epochs": "3"})
    assert config.epochs == 3 and problems == [
        "Projector mode is set with 'projector=on'; leave it out for a laptop."
    ]


@pytest.mark.parametrize(
    ("given", "count", "said"),
    [
        ("4", 4, None),
        ("two", 2, "RNN_LAB_WORKERS='two' is not a number above 0: using 2, the default."),
        ("0", 2, "RNN_LAB_WORKERS='0' is not a number above 0: using 2, the default."),
        ("inf", 2, "RNN_LAB_WORKERS='inf' is not a number above 0: using 2, the default."),
        ("1.5", 2, "RNN_LAB_WORKERS='1.5' is not a whole number: using 2, the default."),  # was int(): 1
        ("0.5", 2, "RNN_LAB_WORKERS='0.5' is not a whole number: using 2, the default."),  # was 0 workers
    ],
)
def test_a_teachers_setting_that_is_not_a_count_is_said_in_the_log_and_the_default_used(
    monkeypatch, caplog, given, count, said
):
    monkeypatch.setenv("RNN_LAB_WORKERS", given)
    assert limits._env_count("RNN_LAB_WORKERS", 2) == count
    assert [record.getMessage() for record in caplog.records] == ([said] if said else [])


def test_a_teachers_budget_may_be_any_number_above_0(monkeypatch, caplog):
    monkeypatch.setenv("RNN_LAB_RUN_SECONDS", "7.5")
    assert limits._env_number("RNN_LAB_RUN_SECONDS", 60) == 7.5 and not caplog.records
    monkeypatch.setenv("RNN_LAB_RUN_SECONDS", "-5")
    assert limits._env_number("RNN_LAB_RUN_SECONDS", 60) == 60
    assert (
        caplog.records[0].getMessage()
        == "RNN_LAB_RUN_SECONDS='-5' is not a number above 0: using 60, the default."
    )
