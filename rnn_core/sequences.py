"""How each task's sequences and labels are made: seeded generators, one per task.

Each generator takes (num_samples, seq_len, rng) and returns a Dataset; rnn_core.tasks says what
the task is for a student, and the exported notebook copies these functions' source (so a notebook
draws the same sequences as RNN Lab). Everything random comes from the `rng` passed in.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

PAD = "<pad>"


@dataclass(frozen=True)
class Dataset:
    """Token ids and labels of one generated data set."""

    tokens: np.ndarray  # (N, T) int64 token ids
    labels: np.ndarray  # (N,) for a label at the end, (N, T) for a label at every step


def digit_sum(num_samples: int, seq_len: int, rng: np.random.Generator) -> Dataset:
    """Label 1 ('high') when the digits add up to more than the average 4.5 per digit."""
    threshold = 4.5 * seq_len
    rows: list[np.ndarray] = []
    while len(rows) < num_samples:
        row = rng.integers(0, 10, size=seq_len)
        if row.sum() != threshold:  # a tie has no clear label: draw again
            rows.append(row)
    tokens = np.stack(rows).astype(np.int64)  # (N, T)
    return Dataset(tokens, (tokens.sum(axis=1) > threshold).astype(np.int64))


def remember_first(num_samples: int, seq_len: int, rng: np.random.Generator) -> Dataset:
    """Label = whether the first digit is high (5-9); every later digit is noise."""
    tokens = rng.integers(0, 10, size=(num_samples, seq_len)).astype(np.int64)  # (N, T)
    return Dataset(tokens, (tokens[:, 0] >= 5).astype(np.int64))


PATTERN = (3, 1, 4)


def contains(row: np.ndarray, pattern: tuple[int, ...]) -> bool:
    k = len(pattern)
    return any(tuple(row[i : i + k]) == pattern for i in range(len(row) - k + 1))


def pattern(num_samples: int, seq_len: int, rng: np.random.Generator) -> Dataset:
    """Half the sequences get '3 1 4' written in at a random place; the others never contain it."""
    tokens = np.zeros((num_samples, seq_len), dtype=np.int64)  # (N, T)
    labels = (rng.random(num_samples) < 0.5).astype(np.int64)
    for n in range(num_samples):
        row = rng.integers(0, 10, size=seq_len)
        if labels[n]:
            start = rng.integers(0, seq_len - len(PATTERN) + 1)
            row[start : start + len(PATTERN)] = PATTERN
        else:
            while contains(row, PATTERN):
                row = rng.integers(0, 10, size=seq_len)
        tokens[n] = row
    return Dataset(tokens, labels)


def running_parity(num_samples: int, seq_len: int, rng: np.random.Generator) -> Dataset:
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


def clause(rng: np.random.Generator) -> tuple[list[str], int]:
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


def sentence(rng: np.random.Generator, max_words: int) -> tuple[list[str], int]:
    while True:
        words, label = clause(rng)
        if rng.random() < 0.25:  # "the plot was slow but the acting was great": the end decides
            second, label = clause(rng)
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


def sentiment_distinct(max_words: int) -> int:
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


def sentiment(num_samples: int, seq_len: int, rng: np.random.Generator) -> Dataset:
    """Template sentences, left-padded with <pad> to seq_len so the last step is a real word."""
    tokens = np.zeros((num_samples, seq_len), dtype=np.int64)  # (N, T), 0 is <pad>
    labels = np.zeros(num_samples, dtype=np.int64)
    for n in range(num_samples):
        words, labels[n] = sentence(rng, seq_len)
        tokens[n, seq_len - len(words) :] = [SENTIMENT_VOCAB.index(w) for w in words]
    return Dataset(tokens, labels)
