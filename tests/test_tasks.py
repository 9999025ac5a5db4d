"""Tasks: seeded, labelled as their explanations say, and typed input gets clear errors."""

from collections import Counter, defaultdict
from dataclasses import replace

import numpy as np
import pytest

from rnn_core import PRESETS, TASKS, ConfigError, EncodeError, TrainConfig, get_task, preset, task_defaults
from rnn_core.tasks import MAX_INPUT_TOKENS, PAD, PATTERN
from rnn_core.train import make_data


@pytest.mark.parametrize("name", TASKS)
def test_generation_is_seeded_and_shaped(name):
    task = get_task(name)
    a = task.generate(200, task.default_seq_len, seed=7)
    b = task.generate(200, task.default_seq_len, seed=7)
    c = task.generate(200, task.default_seq_len, seed=8)
    assert np.array_equal(a.tokens, b.tokens) and np.array_equal(a.labels, b.labels)
    assert not np.array_equal(a.tokens, c.tokens)
    assert a.tokens.shape == (200, task.default_seq_len)
    assert a.labels.shape == ((200, task.default_seq_len) if task.many_to_many else (200,))
    assert a.tokens.min() >= 0 and a.tokens.max() < len(task.vocab)
    assert set(np.unique(a.labels)) == set(range(task.num_classes))


@pytest.mark.parametrize("name", TASKS)
def test_classes_are_roughly_balanced_so_chance_is_50_percent(name):
    task = get_task(name)
    labels = task.generate(2000, task.default_seq_len, seed=0).labels
    assert 0.4 < labels.mean() < 0.6


@pytest.mark.parametrize("name", TASKS)
def test_the_example_encodes_and_decodes(name):
    task = get_task(name)
    ids = task.encode(task.example)
    assert task.render(ids) == " ".join(task.split(task.example))


@pytest.mark.parametrize("name", PRESETS)
def test_the_first_example_shown_for_a_preset_is_as_long_as_its_training_sequences(name):
    config = preset(name)
    task = get_task(config.task)
    shown = task.example_for(config.seq_len)
    assert shown == task.example_for(config.seq_len)  # the same every time
    tokens = task.encode(shown)  # it encodes: a student may run it as it is
    if task.pad_id is None:
        assert len(tokens) == config.seq_len
    else:  # sentences are padded to the run's length: the task's own example is one
        assert shown == task.example and len(tokens) <= config.seq_len
    if len(task.split(task.example)) == config.seq_len:
        assert shown == task.example  # the task's own example where it fits (the lab run's)


@pytest.mark.parametrize("name", TASKS)
def test_random_examples_encode_and_carry_their_true_label(name):
    task = get_task(name)
    text, label = task.random_example(task.default_seq_len, seed=3)
    data = task.generate(1, task.default_seq_len, seed=3)
    assert task.encode(text) == [int(i) for i in data.tokens[0] if i != task.pad_id]
    final = data.labels[0, -1] if task.many_to_many else data.labels[0]  # the label after the last token
    assert label == task.class_names[int(final)]


def test_lab_label_is_digit_sum_above_average():
    data = get_task("lab").generate(300, 10, seed=1)
    assert np.array_equal(data.labels, (data.tokens.sum(axis=1) > 45).astype(int))


def test_remember_label_is_the_first_digit_only():
    data = get_task("remember").generate(300, 30, seed=1)
    assert np.array_equal(data.labels, (data.tokens[:, 0] >= 5).astype(int))


def test_pattern_label_says_whether_3_1_4_appears():
    data = get_task("pattern").generate(500, 12, seed=2)
    found = np.array(["".join(map(str, PATTERN)) in "".join(map(str, row)) for row in data.tokens])
    assert np.array_equal(data.labels, found.astype(int))


def test_parity_labels_every_step():
    data = get_task("parity").generate(100, 10, seed=3)
    assert np.array_equal(data.labels, np.cumsum(data.tokens, axis=1) % 2)


def test_sentiment_negation_and_but_set_the_label():
    task = get_task("sentiment")
    data = task.generate(3000, 14, seed=4)
    sentences = {task.render(row): int(label) for row, label in zip(data.tokens, data.labels, strict=True)}
    checks = {
        "the plot was bad": 0,
        "the plot was not bad": 1,
        "the film was never boring": 1,
        "the music is good": 1,
        "the music is not good": 0,
        "i did not enjoy it": 0,
        "i loved it": 1,
    }
    seen = {s: sentences[s] for s in checks if s in sentences}
    assert len(seen) >= 3 and all(seen[s] == checks[s] for s in seen)
    for sentence, label in sentences.items():
        if " but " in sentence:
            second = sentence.split(" but ")[1]
            if second in sentences:
                assert sentences[second] == label
    assert all(row[0] == 0 for row in data.tokens if (row != 0).sum() < 14)  # padded on the left


def test_sentiment_accepts_ordinary_typing():
    task = get_task("sentiment")
    assert task.render(task.encode("The acting was NOT bad!")) == "the acting was not bad"


@pytest.mark.parametrize(
    ("name", "text", "words"),
    [
        ("lab", "", "Type at least one token. Allowed: 0 1 2 3 4 5 6 7 8 9"),
        ("lab", "1 2 x 4", "Unknown token 'x' at position 3. Allowed: 0 1 2"),
        ("lab", "12 banana 3", "Unknown token 'banana' at position 3."),
        ("parity", "1 0 2", "Unknown token '2' at position 3. Allowed: 0 1."),
        ("sentiment", "the movie was fantastic", "Unknown token 'fantastic' at position 4"),
        ("sentiment", "   ", "Type at least one word"),
        ("lab", "1" * (MAX_INPUT_TOKENS + 1), f"at most {MAX_INPUT_TOKENS} are allowed"),
        pytest.param(
            "lab",
            "1 2 " + "b" * 4000,
            f"Unknown token '{'b' * 60}…' (4,000 characters) at position 3.",
            id="lab-a-4000-character-token",
        ),
        ("lab", "1 \x00", "Unknown token '\\x00' at position 2."),  # written out, not sent on
    ],
)
def test_bad_input_says_what_is_wrong_and_allowed(name, text, words):
    with pytest.raises(EncodeError) as err:
        get_task(name).encode(text)
    assert words in str(err.value)


def test_padding_cannot_be_typed():
    with pytest.raises(EncodeError):
        get_task("sentiment").encode(PAD)


def test_digits_may_be_typed_with_or_without_spaces():
    task = get_task("lab")
    assert task.encode("314") == task.encode("3 1 4") == task.encode("3, 1, 4") == [3, 1, 4]


def test_unknown_task_lists_the_tasks():
    with pytest.raises(KeyError, match="Choose one of: lab, remember"):
        get_task("mnist")


def test_sentiment_words_alone_settle_about_99_percent_as_its_explanation_says():
    task = get_task("sentiment")
    assert "the words alone, in any order, settle about 99%" in task.explanation
    for seed in range(3):
        data = task.generate(20_000, task.default_seq_len, seed=seed)
        bags: dict[tuple, Counter] = defaultdict(Counter)
        for row, label in zip(data.tokens, data.labels, strict=True):
            bags[tuple(sorted(row[row != 0]))][int(label)] += 1
        best_bag_rule = sum(max(c.values()) for c in bags.values()) / len(data.labels)
        assert 0.985 <= best_bag_rule < 1.0  # about 99%, and order still matters for the rest


@pytest.mark.parametrize("seed", range(3))
@pytest.mark.parametrize("name", [*PRESETS, *(f"task:{t}" for t in TASKS)])
def test_no_test_sequence_appears_in_the_training_set(name, seed):
    base = task_defaults(name[5:]) if name.startswith("task:") else preset(name)
    config = replace(base, seed=seed)
    train_x, _, test_x, test_y = make_data(config)
    assert len(test_x) == len(test_y) == config.num_test and len(train_x) == config.num_train
    trained_on = {tuple(row) for row in train_x.tolist()}
    assert not [row for row in test_x.tolist() if tuple(row) in trained_on]


def test_a_task_too_small_to_keep_its_test_set_unseen_is_refused_with_the_reason():
    with pytest.raises(ConfigError, match="only 1,024 different sequences of length 10") as err:
        TrainConfig(task="parity", seq_len=10, num_samples=2000)
    assert "Use at most 512 sequences, or longer sequences." in str(err.value)
    assert get_task("parity").distinct_sequences(12) == 4096 >= 2 * preset("parity").num_samples


def test_test_sequences_that_were_trained_on_are_replaced_and_the_rest_kept_in_order():
    task = get_task("parity")
    generated = task.generate(3000, 12, seed=5)  # what train_test draws first, from the same seed
    train, test = task.train_test(3000, 600, 12, seed=5)
    assert np.array_equal(train.tokens, generated.tokens[600:])
    seen = {row.tobytes() for row in train.tokens}
    kept = [row for row in generated.tokens[:600] if row.tobytes() not in seen]
    assert 0 < len(kept) < 600  # 2^12 sequences: some test draws repeat training ones
    assert np.array_equal(test.tokens[: len(kept)], np.array(kept))
    assert np.array_equal(test.labels, np.cumsum(test.tokens, axis=1) % 2)  # labels travel with them
