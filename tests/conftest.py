"""Shared test setup: the repository root on sys.path, one torch thread for determinism, and each
training run trained once per test process (scripts/test.sh spreads the quick tests over
several with pytest-xdist)."""

import functools
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


def sheet_log(config: TrainConfig) -> list[str]:
    """The lab sheet's lines for `config`'s run, as the command line prints them: one per epoch,
    then the test accuracy."""
    events = run_events(config)
    return [*(e.log_line() for e in events if isinstance(e, EpochEnd)), events[-1].log_line()]


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
