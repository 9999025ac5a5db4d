"""Shared test setup: the repository root on sys.path, one torch thread for determinism, and each
training run trained once per test process (`pytest -n auto --dist loadgroup`, README's command
while working, spreads the tests over several with pytest-xdist and keeps a test marked with an
xdist_group on one worker with the others of its group, so they share its trainings)."""

import ast
import functools
import re
import sys
import threading
from pathlib import Path

import pytest
import torch

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
torch.set_num_threads(1)

from dashboard.pool import TrainingPool  # noqa: E402
from rnn_core import EpochEnd, Event, TrainConfig, TrainedModel, train  # noqa: E402


@functools.cache
def run_events(config: TrainConfig) -> tuple[Event, ...]:
    """Every event of the run `config` describes, trained the first time a test asks for it.

    A config is hashable and a run is the same bit for bit every time (test_train checks it), so
    tests that check different things about the same run (the remember presets' outcome, the seed
    record, the notebook export) share one training. A test that changes a run's model must train
    its own.
    """
    return tuple(train(config))


def trained(config: TrainConfig) -> TrainedModel:
    """The trained model of `config`'s run (shared: see run_events)."""
    return run_events(config)[-1].model


# The lab sheet's printed output as the sheet shows it (its first, last epoch and test lines).
SHEET_OUTPUT = (
    "Epoch 1/10 - Loss: 0.6837 Accuracy: 56.38%",
    "Epoch 10/10 - Loss: 0.1125 Accuracy: 96.38%",
    "Test Accuracy : 87.50%",
)


def sheet_format(line: str) -> re.Pattern:
    """A line of the sheet's output with its numbers left open, each a group with as many decimals
    as the sheet prints: what RNN Lab prints must match it character for character but for those."""
    pattern = ""
    for i, part in enumerate(re.split(r"(\d+(?:\.\d+)?)", line)):  # words, number, words, ...
        if i % 2 == 0:
            pattern += re.escape(part)  # the sheet's own words and spacing
        else:
            decimals = len(part.partition(".")[2])
            pattern += r"(\d+" + (rf"\.\d{{{decimals}}}" if decimals else "") + ")"
    return re.compile(pattern)


EPOCH_LINE, TEST_LINE = sheet_format(SHEET_OUTPUT[0]), sheet_format(SHEET_OUTPUT[-1])


def sheet_log(config: TrainConfig) -> list[str]:
    """The lab sheet's lines for `config`'s run, as the command line prints them: one per epoch,
    then the test accuracy."""
    events = run_events(config)
    return [*(e.log_line() for e in events if isinstance(e, EpochEnd)), events[-1].log_line()]


# The biggest network the sidebar allows (5.8 MB), on a run that passes every per-run budget.
BIG = TrainConfig(task="sentiment", cell="lstm", num_layers=3, embed_size=128, hidden_size=256,
                  num_samples=20, epochs=1)  # fmt: skip


def page_timers() -> dict[str, float]:
    """Every timer a page sets (each view's TIMER_SECONDS), read from the page's source: a view draws
    its page when it is imported."""
    timers = {}
    for path in sorted((ROOT / "dashboard" / "views").glob("*.py")):
        for node in ast.parse(path.read_text()).body:
            if isinstance(node, ast.Assign) and any(
                getattr(t, "id", "") == "TIMER_SECONDS" for t in node.targets
            ):
                timers |= {f"{path.stem} {mode}": s for mode, s in ast.literal_eval(node.value).items()}
    return timers


START_WORKER = TrainingPool._new_worker  # the real one, before any test replaces it


class HeldStart:
    """A training pool's workers start only when `set()` is called (the forkserver's seconds of
    importing PyTorch, stretched); with `fail`, each start raises OSError instead."""

    def __init__(self):
        self._gate, self.fail = threading.Event(), False

    def set(self) -> None:
        self._gate.set()

    def new_worker(self, pool: TrainingPool):
        assert self._gate.wait(60)
        if self.fail:
            raise OSError("no process can be started")
        return START_WORKER(pool)


@pytest.fixture
def held_start(monkeypatch):
    held = HeldStart()
    monkeypatch.setattr(TrainingPool, "_new_worker", lambda pool: held.new_worker(pool))
    yield held
    held.set()  # a test that failed early must not leave a starter thread waiting
