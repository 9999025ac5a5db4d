"""Built-in sequence tasks: what the network is asked to learn.

Every task is generated from a seed (nothing is downloaded), has a paragraph a student can read, a
vocabulary, class names and ``encode(text)``, which turns what a student types into token ids or
says exactly which token is wrong and which ones are allowed.

Left out on purpose: real-world corpora. The tasks are small so that a run takes seconds on a
laptop and every behaviour (memory, negation, per-step labels) is easy to see.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from .sequences import (
    PAD,
    PATTERN,
    SENTIMENT_VOCAB,
    Dataset,
    digit_sum,
    pattern,
    remember_first,
    running_parity,
    sentiment,
    sentiment_distinct,
)
from .words import quoted

MAX_INPUT_TOKENS = 200  # the longest sequence a student may type
# Examples shown to a student come from seeds far from the runs' own (0, 1, ...): example_for takes
# this one, Try it's "Random example" button the ones after it.
EXAMPLE_SEED = 10_000
DIGITS = tuple(str(d) for d in range(10))


# How typed text is cut into tokens. The notebook's try cell prints these two functions as they are
# here (rnn_core.notebook), so it reads a typed sequence as the app does.
def split_words(text: str) -> list[str]:
    """Typed text cut into words: lower case, punctuation dropped (an apostrophe stays: "don't")."""
    return re.sub(r"[^\w\s']", " ", text.lower()).split()


def split_symbols(text: str, typeable: tuple[str, ...]) -> list[str]:
    """Typed text cut into one-character tokens, with or without spaces ("3 1 4", "314", "3, 1, 4").
    A chunk that is not all tokens stays whole, so a message names 'banana', not its first letter."""
    tokens = []
    for chunk in re.split(r"[\s,]+", text.strip()):
        if chunk and all(c in typeable for c in chunk):
            tokens.extend(chunk)
        elif chunk:
            tokens.append(chunk)
    return tokens


class EncodeError(ValueError):
    """What a student typed cannot be turned into tokens; the message says why and what is allowed."""


@dataclass(frozen=True)
class Task:
    """A sequence task: its story, vocabulary, classes and a seeded generator."""

    name: str
    title: str  # short enough for the sidebar's picker at 1280 px (about 32 characters)
    explanation: str
    vocab: tuple[str, ...]
    class_names: tuple[str, ...]
    many_to_many: bool  # True: a label at every time step (the loss is L = Σ_t L_t)
    word_level: bool  # True: tokens are words separated by spaces; False: single characters
    default_seq_len: int
    min_seq_len: int
    example: str  # something a student could type
    _generate: Callable[[int, int, np.random.Generator], Dataset]
    _distinct: Callable[[int], int]  # how many different sequences of a length the task can make

    @property
    def num_classes(self) -> int:
        return len(self.class_names)

    @property
    def pad_id(self) -> int | None:
        return self.vocab.index(PAD) if PAD in self.vocab else None

    @property
    def typeable(self) -> tuple[str, ...]:
        """The tokens a student may type (everything but padding)."""
        return tuple(t for t in self.vocab if t != PAD)

    def generate(self, num_samples: int, seq_len: int, seed: int | np.random.Generator) -> Dataset:
        """`num_samples` sequences of `seq_len` tokens, the same for the same seed."""
        if seq_len < self.min_seq_len:
            raise ValueError(f"task '{self.name}' needs seq_len >= {self.min_seq_len}")
        return self._generate(num_samples, seq_len, np.random.default_rng(seed))

    def distinct_sequences(self, seq_len: int) -> int:
        """How many different sequences of `seq_len` tokens this task can generate."""
        return self._distinct(seq_len)

    def train_test(self, num_samples: int, num_test: int, seq_len: int, seed: int) -> tuple[Dataset, Dataset]:
        """The training and test sets of a run: no test sequence appears in the training set.

        The first `num_test` generated sequences are the test set and the rest the training set,
        except that a test sequence which also appears among the training sequences is replaced by a
        fresh one that does not: otherwise the test would score memory, not learning. (With the
        digit tasks' billions of sequences this never happens; with parity's 2^T it would often.)
        """
        rng = np.random.default_rng(seed)
        data = self.generate(num_samples, seq_len, seed=rng)
        train = Dataset(data.tokens[num_test:], data.labels[num_test:])
        trained_on = {row.tobytes() for row in train.tokens}
        test = _unseen(data.tokens[:num_test], data.labels[:num_test], trained_on)
        for _ in range(MAX_REDRAWS):
            missing = num_test - len(test.tokens)
            if missing == 0:
                return train, test
            more = self.generate(max(2 * missing, 16), seq_len, seed=rng)
            fresh = _unseen(more.tokens, more.labels, trained_on)
            test = Dataset(
                np.concatenate([test.tokens, fresh.tokens[:missing]]),
                np.concatenate([test.labels, fresh.labels[:missing]]),
            )
        raise ValueError(f"could not draw {num_test} test sequences unlike the training set")

    def random_example(self, seq_len: int, seed: int) -> tuple[str, str]:
        """A fresh sequence from the task's generator, as text, with its true (final) label."""
        data = self.generate(1, seq_len, seed)
        label = int(data.labels[0, -1] if self.many_to_many else data.labels[0])
        return self.render(data.tokens[0]), self.class_names[label]

    def example_for(self, seq_len: int) -> str:
        """A sequence to show first for a network trained on `seq_len` steps: the task's own example
        if it is that long (or the task pads every sequence to its length, as word tasks do), else
        one from the task's generator, the same at every call (a 40-step memory network is tried on
        40 steps, not on the 10 of the task's example)."""
        if self.pad_id is not None or len(self.split(self.example)) == seq_len:
            return self.example
        return self.random_example(seq_len, seed=EXAMPLE_SEED)[0]

    def split(self, text: str) -> list[str]:
        """Cut typed text into tokens: words for word tasks, characters for digit tasks."""
        return split_words(text) if self.word_level else split_symbols(text, self.typeable)

    def encode(self, text: str, max_tokens: int = MAX_INPUT_TOKENS) -> list[int]:
        """Token ids for typed text, or an EncodeError that names the problem."""
        tokens = self.split(text)
        allowed = " ".join(self.typeable)
        if not tokens:
            kind = "word" if self.word_level else "token"
            raise EncodeError(f"Type at least one {kind}. Allowed: {allowed}. Example: {self.example}")
        if len(tokens) > max_tokens:
            raise EncodeError(f"That is {len(tokens)} tokens; at most {max_tokens} are allowed.")
        ids = []
        for position, token in enumerate(tokens, start=1):
            if token not in self.typeable:
                raise EncodeError(
                    f"Unknown token {quoted(token)} at position {position}. Allowed: {allowed}."
                )
            ids.append(self.vocab.index(token))
        return ids

    def decode(self, ids: list[int] | np.ndarray) -> list[str]:
        return [self.vocab[int(i)] for i in ids]

    def render(self, ids: list[int] | np.ndarray) -> str:
        """Token ids back to text a student would type (padding dropped)."""
        tokens = [t for t in self.decode(ids) if t != PAD]
        return " ".join(tokens)


MAX_REDRAWS = 200  # rounds of fresh test sequences before a task is declared too small


def _unseen(tokens: np.ndarray, labels: np.ndarray, seen: set[bytes]) -> Dataset:
    """The sequences (and their labels) that are not in `seen`, in order."""
    keep = [i for i, row in enumerate(tokens) if row.tobytes() not in seen]
    return Dataset(tokens[keep], labels[keep])


TASKS: dict[str, Task] = {
    task.name: task
    for task in (
        Task(
            name="lab",
            title="Lab sheet: high or low digit sum",
            explanation=(
                "The lab sheet's task. Each sequence is a string of random digits 0-9 and the label "
                "says whether the digits add up to more than average (4.5 per digit): 'high' or "
                "'low'. The network reads one digit per step and must keep a running tally in its "
                "hidden state. About half the sequences are high, so guessing scores 50%."
            ),
            vocab=DIGITS,
            class_names=("low", "high"),
            many_to_many=False,
            word_level=False,
            default_seq_len=10,
            min_seq_len=2,
            example="9 8 7 6 5 1 2 3 9 9",
            _generate=digit_sum,
            _distinct=lambda seq_len: 10**seq_len,
        ),
        Task(
            name="remember",
            title="Memory: remember the first digit",
            explanation=(
                "Only the first digit matters: the label is 'high' if it is 5-9 and 'low' if it is "
                "0-4; every digit after it is noise. The network must carry one fact through the "
                "whole sequence. Make the sequence longer and a vanilla RNN's gradient fades before "
                "it reaches the first step, so it falls back to guessing, while an LSTM or GRU, "
                "whose gates let information pass unchanged, holds on much longer."
            ),
            vocab=DIGITS,
            class_names=("low", "high"),
            many_to_many=False,
            word_level=False,
            default_seq_len=30,
            min_seq_len=2,
            example="7 0 1 2 3 4 0 1 2 3",
            _generate=remember_first,
            _distinct=lambda seq_len: 10**seq_len,
        ),
        Task(
            name="pattern",
            title="Pattern: does 3 1 4 appear?",
            explanation=(
                "The label is 'found' if the digits 3 1 4 appear next to each other anywhere in the "
                "sequence and 'absent' otherwise. The network must notice a 3, then a 1 straight "
                "after, then a 4, and remember that it saw the pattern until the end."
            ),
            vocab=DIGITS,
            class_names=("absent", "found"),
            many_to_many=False,
            word_level=False,
            default_seq_len=12,
            min_seq_len=len(PATTERN),
            example="2 7 3 1 4 8 0 5",
            _generate=pattern,
            _distinct=lambda seq_len: 10**seq_len,
        ),
        Task(
            name="sentiment",
            title="Sentiment: positive or negative",
            explanation=(
                "Short English sentences about a film, such as 'the plot was not bad' or 'i did "
                "not enjoy it'. The label is 'positive' or 'negative'. Negation flips the meaning "
                "('not bad' is positive, 'never boring' too), and with 'but' the second half "
                "decides. These template sentences rarely use the same words with opposite "
                "meanings, so the words alone, in any order, settle about 99% of them; the network "
                "still has to learn what 'not' and 'but' do. Sequence length is the longest "
                "sentence in words; shorter ones are padded on the left."
            ),
            vocab=SENTIMENT_VOCAB,
            class_names=("negative", "positive"),
            many_to_many=False,
            word_level=True,
            default_seq_len=14,
            min_seq_len=6,
            example="the acting was never boring",
            _generate=sentiment,
            _distinct=sentiment_distinct,
        ),
        Task(
            name="parity",
            title="Parity: a label at every step",
            explanation=(
                "A sequence of bits 0 and 1. At every step the label is whether the number of 1s "
                "so far is 'even' or 'odd', so the network makes a prediction at each time step "
                "and the loss adds them all up: L = sum over t of L_t. The hidden state has to "
                "flip a switch on every 1."
            ),
            vocab=("0", "1"),
            class_names=("even", "odd"),
            many_to_many=True,
            word_level=False,
            default_seq_len=12,
            min_seq_len=2,
            example="1 0 1 1 0 0 1",
            _generate=running_parity,
            _distinct=lambda seq_len: 2**seq_len,
        ),
    )
}


def get_task(name: str) -> Task:
    """The task called `name`, or a KeyError that lists the ones there are."""
    try:
        return TASKS[name]
    except KeyError:
        raise KeyError(f"Unknown task {quoted(name)}. Choose one of: {', '.join(TASKS)}.") from None
