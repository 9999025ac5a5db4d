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

MAX_INPUT_TOKENS = 200  # the longest sequence a student may type
PAD = "<pad>"
DIGITS = tuple(str(d) for d in range(10))


class EncodeError(ValueError):
    """What a student typed cannot be turned into tokens; the message says why and what is allowed."""


@dataclass(frozen=True)
class Dataset:
    """Token ids and labels of one generated data set."""

    tokens: np.ndarray  # (N, T) int64 token ids
    labels: np.ndarray  # (N,) for a label at the end, (N, T) for a label at every step


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

    def split(self, text: str) -> list[str]:
        """Cut typed text into tokens: words for word tasks, characters for digit tasks.

        Digits may be typed with or without spaces ("3 1 4", "314", "3, 1, 4"); a chunk that is
        not all tokens stays whole, so an error names 'banana', not its first letter.
        """
        if self.word_level:
            return re.sub(r"[^\w\s']", " ", text.lower()).split()
        tokens: list[str] = []
        for chunk in re.split(r"[\s,]+", text.strip()):
            if chunk and all(c in self.typeable for c in chunk):
                tokens.extend(chunk)
            elif chunk:
                tokens.append(chunk)
        return tokens

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
                raise EncodeError(f"Unknown token '{token}' at position {position}. Allowed: {allowed}.")
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


# --- generators -----------------------------------------------------------------------------------


def _digit_sum(num_samples: int, seq_len: int, rng: np.random.Generator) -> Dataset:
    """Label 1 ('high') when the digits add up to more than the average 4.5 per digit."""
    threshold = 4.5 * seq_len
    rows: list[np.ndarray] = []
    while len(rows) < num_samples:
        row = rng.integers(0, 10, size=seq_len)
        if row.sum() != threshold:  # a tie has no clear label: draw again
            rows.append(row)
    tokens = np.stack(rows).astype(np.int64)  # (N, T)
    return Dataset(tokens, (tokens.sum(axis=1) > threshold).astype(np.int64))


def _remember_first(num_samples: int, seq_len: int, rng: np.random.Generator) -> Dataset:
    """Label = whether the first digit is high (5-9); every later digit is noise."""
    tokens = rng.integers(0, 10, size=(num_samples, seq_len)).astype(np.int64)  # (N, T)
    return Dataset(tokens, (tokens[:, 0] >= 5).astype(np.int64))


PATTERN = (3, 1, 4)


def _contains(row: np.ndarray, pattern: tuple[int, ...]) -> bool:
    k = len(pattern)
    return any(tuple(row[i : i + k]) == pattern for i in range(len(row) - k + 1))


def _pattern(num_samples: int, seq_len: int, rng: np.random.Generator) -> Dataset:
    """Half the sequences get '3 1 4' written in at a random place; the others never contain it."""
    tokens = np.zeros((num_samples, seq_len), dtype=np.int64)  # (N, T)
    labels = (rng.random(num_samples) < 0.5).astype(np.int64)
    for n in range(num_samples):
        row = rng.integers(0, 10, size=seq_len)
        if labels[n]:
            start = rng.integers(0, seq_len - len(PATTERN) + 1)
            row[start : start + len(PATTERN)] = PATTERN
        else:
            while _contains(row, PATTERN):
                row = rng.integers(0, 10, size=seq_len)
        tokens[n] = row
    return Dataset(tokens, labels)


def _running_parity(num_samples: int, seq_len: int, rng: np.random.Generator) -> Dataset:
    """Bits in, and at every step the label is the parity of the bits so far (0 even, 1 odd)."""
    tokens = rng.integers(0, 2, size=(num_samples, seq_len)).astype(np.int64)  # (N, T)
    return Dataset(tokens, np.cumsum(tokens, axis=1) % 2)


# The sentiment grammar: a clause is "<subject> <verb> [not|never] [intensifier] <adjective>" or
# "i [did not] <verb> it"; two clauses joined by "but" take the second clause's feeling.
SUBJECTS = ("the movie", "the film", "the plot", "the acting", "the music", "this show")
VERBS = ("was", "is", "felt", "seemed")
NEGATIONS = ("not", "never")
INTENSIFIERS = ("really", "very", "quite")
POSITIVE = ("good", "great", "fun", "brilliant", "funny", "clever", "moving")
NEGATIVE = ("bad", "boring", "dull", "awful", "terrible", "slow", "silly")
LIKE_VERBS = {"liked": 1, "loved": 1, "enjoyed": 1, "hated": 0, "disliked": 0}
LIKE_BASE = {"liked": "like", "loved": "love", "enjoyed": "enjoy", "hated": "hate", "disliked": "dislike"}


def _clause(rng: np.random.Generator) -> tuple[list[str], int]:
    """One clause and its sentiment (1 positive, 0 negative); a negation flips it."""
    negated = rng.random() < 0.4
    if rng.random() < 0.25:
        verb = str(rng.choice(list(LIKE_VERBS)))
        words = ["i", "did", "not", LIKE_BASE[verb], "it"] if negated else ["i", verb, "it"]
        return words, LIKE_VERBS[verb] ^ int(negated)
    positive = rng.random() < 0.5
    words = [*str(rng.choice(SUBJECTS)).split(), str(rng.choice(VERBS))]
    if negated:
        words.append(str(rng.choice(NEGATIONS)))
    if rng.random() < 0.3:
        words.append(str(rng.choice(INTENSIFIERS)))
    words.append(str(rng.choice(POSITIVE if positive else NEGATIVE)))
    return words, int(positive) ^ int(negated)


def _sentence(rng: np.random.Generator, max_words: int) -> tuple[list[str], int]:
    while True:
        words, label = _clause(rng)
        if rng.random() < 0.25:  # "the plot was slow but the acting was great": the end decides
            second, label = _clause(rng)
            words = [*words, "but", *second]
        if len(words) <= max_words:
            return words, label


def _clause_lengths() -> dict[int, int]:
    """How many different clauses there are of each length in words."""
    counts: dict[int, int] = {3: len(LIKE_VERBS), 5: len(LIKE_VERBS)}  # "i liked it", "i did not like it"
    for subject in SUBJECTS:
        for negation in (0, 1):
            for intensifier in (0, 1):
                length = len(subject.split()) + 2 + negation + intensifier  # subject, verb, adjective
                ways = len(VERBS) * len(NEGATIONS) ** negation * len(INTENSIFIERS) ** intensifier
                counts[length] = counts.get(length, 0) + ways * (len(POSITIVE) + len(NEGATIVE))
    return counts


def _sentiment_distinct(max_words: int) -> int:
    """Different sentences of at most `max_words` words: one clause, or two joined by 'but'."""
    clauses = _clause_lengths()
    one = sum(n for length, n in clauses.items() if length <= max_words)
    two = sum(a * b for la, a in clauses.items() for lb, b in clauses.items() if la + 1 + lb <= max_words)
    return one + two


def _sentiment_vocab() -> tuple[str, ...]:
    words = {"i", "did", "it", "but", *NEGATIONS, *VERBS, *INTENSIFIERS, *POSITIVE, *NEGATIVE}
    words |= {w for s in SUBJECTS for w in s.split()} | set(LIKE_VERBS) | set(LIKE_BASE.values())
    return (PAD, *sorted(words))


SENTIMENT_VOCAB = _sentiment_vocab()


def _sentiment(num_samples: int, seq_len: int, rng: np.random.Generator) -> Dataset:
    """Template sentences, left-padded with <pad> to seq_len so the last step is a real word."""
    tokens = np.zeros((num_samples, seq_len), dtype=np.int64)  # (N, T), 0 is <pad>
    labels = np.zeros(num_samples, dtype=np.int64)
    for n in range(num_samples):
        words, labels[n] = _sentence(rng, seq_len)
        tokens[n, seq_len - len(words) :] = [SENTIMENT_VOCAB.index(w) for w in words]
    return Dataset(tokens, labels)


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
            _generate=_digit_sum,
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
            _generate=_remember_first,
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
            _generate=_pattern,
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
            _generate=_sentiment,
            _distinct=_sentiment_distinct,
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
            _generate=_running_parity,
            _distinct=lambda seq_len: 2**seq_len,
        ),
    )
}


def get_task(name: str) -> Task:
    """The task called `name`, or a KeyError that lists the ones there are."""
    try:
        return TASKS[name]
    except KeyError:
        raise KeyError(f"Unknown task '{name}'. Choose one of: {', '.join(TASKS)}.") from None
