"""One frozen config describes one training run, and every bound on it is checked here.

`FIELDS` is the single table of every setting: its bounds, its choices and a sentence a student can
read. Validation, the command line's flags and the dashboard's widgets are all built from it, so a
bound is written once. A `TrainConfig` that exists is valid: construction checks everything and
raises `ConfigError` listing each problem with what is allowed.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from dataclasses import asdict, dataclass, fields, replace
from typing import Any

from .tasks import TASKS
from .words import quoted


class ConfigError(ValueError):
    """A setting is out of bounds; `problems` holds one student-readable sentence per setting."""

    def __init__(self, problems: list[str]):
        self.problems = problems
        super().__init__("; ".join(problems))


@dataclass(frozen=True)
class FieldSpec:
    """The bounds and help text of one config field."""

    name: str
    label: str  # what a student sees
    kind: type  # int, float or str
    help: str
    low: float | None = None
    high: float | None = None
    choices: tuple[str, ...] = ()

    def allowed(self) -> str:
        """What values are allowed, in words."""
        if self.choices:
            return "one of " + ", ".join(self.choices)
        if self.kind is int:
            return f"a whole number from {int(self.low)} to {int(self.high)}"
        return f"a number from {self.low:g} to {self.high:g}"

    def problem(self, value: Any) -> str | None:
        """None if `value` is allowed, else a sentence saying what is wrong and what is allowed."""
        ok_type = {
            int: isinstance(value, int) and not isinstance(value, bool),
            float: isinstance(value, int | float) and not isinstance(value, bool),
            str: isinstance(value, str),
        }[self.kind]
        if ok_type and self.choices:
            ok_type = value in self.choices
        elif ok_type and self.kind is not str:
            ok_type = self.low <= value <= self.high  # NaN fails this too
        if ok_type:
            return None
        return f"{self.label} ({self.name}) must be {self.allowed()}; got {quoted(value)}."

    def parse(self, text: str) -> Any:
        """A typed value from text (a flag or a URL); bounds are checked later, by TrainConfig."""
        if self.kind is str:
            return text.strip().lower()
        try:
            return self.kind(text) if self.kind is float else int(text.strip())
        except ValueError:
            problem = f"{self.label} ({self.name}) must be {self.allowed()}; got {quoted(text)}."
            raise ConfigError([problem]) from None


FIELDS: dict[str, FieldSpec] = {
    spec.name: spec
    for spec in (
        FieldSpec("task", "Task", str, "What the network learns. See each task's explanation.",
                  choices=tuple(TASKS)),
        FieldSpec("cell", "Cell", str,
                  "rnn is the lab sheet's h_t = tanh(U x_t + W h_(t-1) + b_h); lstm and gru add "
                  "gates that decide what to keep (the Compare page's experiments show an LSTM "
                  "and a GRU remembering far longer).",
                  choices=("rnn", "lstm", "gru")),
        FieldSpec("nonlinearity", "Nonlinearity", str,
                  "The squashing function of the vanilla rnn cell. Only the rnn cell uses it.",
                  choices=("tanh", "relu")),
        FieldSpec("num_layers", "Layers", int,
                  "Recurrent layers stacked on top of each other; each reads the one below.",
                  1, 3),
        FieldSpec("embed_size", "Embedding size", int,
                  "Length E of the vector x_t that each token is turned into.", 1, 128),
        FieldSpec("hidden_size", "Hidden size", int,
                  "Length H of the hidden state h_t: the network's memory.", 1, 256),
        FieldSpec("seq_len", "Sequence length", int,
                  "Tokens per sequence (time steps T). Longer means more to remember.", 2, 100),
        FieldSpec("num_samples", "Dataset size", int,
                  "How many sequences are generated, training and test together.", 20, 20000),
        FieldSpec("test_fraction", "Test split", float,
                  "Share of the sequences held out to test on; the network never trains on them.",
                  0.05, 0.5),
        FieldSpec("epochs", "Epochs", int, "Passes over the whole training set.", 1, 200),
        FieldSpec("batch_size", "Batch size", int,
                  "Sequences per weight update. Smaller batches give noisier, more frequent steps.",
                  1, 1024),
        FieldSpec("optimizer", "Optimizer", str,
                  "adam adapts each weight's step size (the lab sheet's choice); sgd takes plain "
                  "steps of size learning rate x gradient.",
                  choices=("adam", "sgd")),
        FieldSpec("lr", "Learning rate", float,
                  "Step size of each update. Too small learns slowly; too large overshoots and "
                  "can diverge.", 1e-5, 10.0),
        FieldSpec("clip_grad", "Gradient clipping", float,
                  "If above 0, the gradient is scaled down whenever its norm is larger than this: "
                  "a cure for exploding gradients. 0 turns it off.", 0.0, 100.0),
        FieldSpec("seed", "Seed", int,
                  "Fixes the data, the starting weights and the batch order: the same seed gives "
                  "the same run.", 0, 2**31 - 1),
    )
}  # fmt: skip


@dataclass(frozen=True)
class TrainConfig:
    """Everything that decides a run. Defaults are the lab sheet's run (preset 'lab')."""

    task: str = "lab"  # a name in rnn_core.tasks.TASKS
    cell: str = "rnn"  # rnn | lstm | gru
    nonlinearity: str = "tanh"  # tanh | relu (rnn cell only)
    num_layers: int = 1  # stacked recurrent layers
    embed_size: int = 16  # E: length of x_t
    hidden_size: int = 32  # H: length of h_t
    seq_len: int = 10  # T: time steps per sequence
    num_samples: int = 1000  # sequences generated (train + test)
    test_fraction: float = 0.2  # share held out for testing
    epochs: int = 10  # passes over the training set
    batch_size: int = 32  # sequences per update
    optimizer: str = "adam"  # adam | sgd
    lr: float = 0.002  # learning rate
    clip_grad: float = 0.0  # max gradient norm; 0 = no clipping
    seed: int = 0  # data, init and batch order

    def __post_init__(self) -> None:
        problems = [p for f in fields(self) if (p := FIELDS[f.name].problem(getattr(self, f.name)))]
        if problems:  # the cross-field checks below need valid single fields
            raise ConfigError(problems)
        task = TASKS[self.task]
        if self.seq_len < task.min_seq_len:
            problems.append(
                f"The {self.task} task needs a sequence length of at least {task.min_seq_len}; "
                f"got {self.seq_len}."
            )
        if (distinct := task.distinct_sequences(self.seq_len)) < 2 * self.num_samples:
            problems.append(
                f"The {self.task} task has only {distinct:,} different sequences of length {self.seq_len}: "
                f"too few for {self.num_samples:,} sequences whose test set the network never trains on. "
                f"Use at most {distinct // 2:,} sequences, or longer sequences."
            )
        if self.cell != "rnn" and self.nonlinearity != "tanh":
            problems.append(
                f"Nonlinearity '{self.nonlinearity}' only applies to the rnn cell; "
                f"the {self.cell} cell has its own gates. Use tanh."
            )
        if problems:
            raise ConfigError(problems)

    @property
    def num_test(self) -> int:
        return round(self.num_samples * self.test_fraction)

    @property
    def num_train(self) -> int:
        return self.num_samples - self.num_test

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    def command_line(self) -> str:
        """The command that reruns this config exactly, every setting as a flag (the lab report and
        the exported notebook print it)."""
        return "python -m rnn_core train " + " ".join(f"{flag(k)} {v}" for k, v in self.to_dict().items())

    def to_json(self) -> str:
        return json.dumps(self.to_dict(), indent=2)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> TrainConfig:
        """A config from a mapping, rejecting names that are not settings."""
        if unknown := unknown_settings(data):
            raise ConfigError(unknown)
        return cls(**data)

    @classmethod
    def from_json(cls, text: str) -> TrainConfig:
        try:
            data = json.loads(text)
        except json.JSONDecodeError as err:
            raise ConfigError([f"The config is not valid JSON: {err}."]) from None
        if not isinstance(data, dict):
            raise ConfigError(["The config JSON must be an object of settings."])
        return cls.from_dict(data)

    @classmethod
    def from_strings(
        cls, values: Mapping[str, str], base: TrainConfig | None = None
    ) -> tuple[TrainConfig, list[str]]:
        """`base` with settings given as text (command-line flags, a shared link), and a sentence for
        each that could not be used. The usable ones are kept, so one typo does not lose the rest.

        A new task brings its own sequence length, unless `values` sets seq_len too.
        """
        config, problems = base or cls(), unknown_settings(values)
        parsed: dict[str, Any] = {}
        for name in FIELDS:  # in FIELDS order: task first, so later checks see the new task
            if name in values:
                try:
                    parsed[name] = FIELDS[name].parse(values[name])
                except ConfigError as err:
                    problems += err.problems
        # a new task comes with its own length; a seq_len in `values` replaces it if it fits (an
        # unknown task brings none: TrainConfig says which tasks there are)
        own = {"seq_len": task_defaults(parsed["task"]).seq_len} if parsed.get("task") in TASKS else {}
        try:
            return replace(config, **(own | parsed)), problems
        except ConfigError:
            pass
        for name, value in parsed.items():  # they clash together: keep each that fits with those before
            try:
                config = replace(config, **{name: value}, **(own if name == "task" else {}))
            except ConfigError as err:
                problems += err.problems
        return config, problems

    def changes_from(self, other: TrainConfig) -> dict[str, tuple[Any, Any]]:
        """The settings where this config differs from `other`: name -> (other's, this one's)."""
        mine, theirs = self.to_dict(), other.to_dict()
        return {k: (theirs[k], mine[k]) for k in FIELDS if mine[k] != theirs[k]}


def flag(name: str) -> str:
    """A setting's command-line flag: hidden_size is --hidden-size."""
    return "--" + name.replace("_", "-")


UNKNOWN_NAMED = 5  # unknown setting names a message names; a crafted link can carry thousands


def unknown_settings(names: Iterable[str]) -> list[str]:
    """One sentence naming the names that are not settings, or none: the same words wherever
    settings are read. It names the first few: 5,000 unknown names in a 39 KB link made 5,000
    sentences, a megabyte of warning drawn at every rerun of the page."""
    unknown = sorted(set(names) - set(FIELDS))
    if not unknown:
        return []
    named = ", ".join(quoted(name) for name in unknown[:UNKNOWN_NAMED])
    more = f" and {len(unknown) - UNKNOWN_NAMED:,} more" if len(unknown) > UNKNOWN_NAMED else ""
    noun = "setting" if len(unknown) == 1 else "settings"
    return [f"Unknown {noun} {named}{more}. Known settings: {', '.join(FIELDS)}."]


def task_defaults(task: str, base: TrainConfig | None = None) -> TrainConfig:
    """`base` switched to `task`, with that task's usual sequence length."""
    return replace(base or TrainConfig(), task=task, seq_len=TASKS[task].default_seq_len)


PRESETS: dict[str, tuple[str, TrainConfig]] = {
    "lab": ("The lab sheet's run: a vanilla RNN learns the digit-sum task in 10 epochs.", TrainConfig()),
    "remember-rnn": (  # its outcome holds for 10 of 10 seeds: docs/EXPERIMENTS.md, the first experiment
        "A vanilla RNN must remember the first of 40 digits: it stays near 50%, guessing.",
        replace(task_defaults("remember"), seq_len=40, num_samples=2000, epochs=15, lr=0.005),
    ),
    "remember-lstm": (
        "The same 40-digit memory task with an LSTM: its gates carry the first digit to the end.",
        replace(task_defaults("remember"), seq_len=40, num_samples=2000, epochs=15, lr=0.005, cell="lstm"),
    ),
    "pattern": (
        "Find 3 1 4 anywhere in 12 digits.",
        replace(task_defaults("pattern"), epochs=15, num_samples=2000),
    ),
    "sentiment": (
        "Positive or negative film sentences, with negation; type your own afterwards.",
        replace(task_defaults("sentiment"), epochs=15, num_samples=2000),
    ),
    "parity": (
        "A label at every step: running parity of bits, L = sum of L_t.",
        replace(task_defaults("parity"), epochs=20, num_samples=2000),  # 2^12 sequences: test stays unseen
    ),
}


def preset(name: str) -> TrainConfig:
    """The config of a named preset, or a KeyError listing the presets."""
    try:
        return PRESETS[name][1]
    except KeyError:
        raise KeyError(f"Unknown preset {quoted(name)}. Choose one of: {', '.join(PRESETS)}.") from None
