"""What a run will cost before it starts: its memory while training and its time on one core.

A shared classroom server refuses a run it cannot afford at the Train click, and names the setting
to shrink; a notebook can ask the same question. Both numbers are estimates from the config alone:

    memory = weights + gradients + optimizer state          (4 copies of θ for Adam, 2 for SGD)
           + what backprop keeps for one batch              (B × T × H × layers, 10 to 16 floats each)
           + one evaluation batch, the data and the probes
    time   = batches × (a fixed cost per batch + a cost per time step + the arithmetic)
           + scoring the test set and the training set after every epoch

The constants were fitted on the 2-core development machine with one PyTorch thread
(`benchmarks/bench_budgets.py` prints estimate against measurement for a spread of runs). They
are meant to be right within a factor of about two and on the safe side, not exact.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from .config import TrainConfig
from .tasks import get_task
from .train import EVAL_BATCH, PROBE_SIZE  # what the engine evaluates in, and its probe set

FLOAT = 4  # bytes per float32
GATES = {"rnn": 1, "gru": 3, "lstm": 4}  # weight blocks per recurrent layer: W's stacked per gate

# Fitted constants (see the module docstring).
SAVED_PER_UNIT = {"rnn": 10, "gru": 12, "lstm": 16}  # floats backprop keeps per (sequence, step, unit)
PROCESS_SLACK = 8e6  # allocator and bookkeeping growth of a run, whatever its size (bytes)
BATCH_SECONDS = 2.2e-3  # Python and dispatch cost of one forward-loss-backward-update turn
STEP_SECONDS = 70e-6  # per time step and layer of a batch: the recurrence is a loop of small ops
FLOP_SECONDS = 1.0 / 16e9  # one multiply-add of the recurrence, forward or backward (B, T, H, E)


@dataclass(frozen=True)
class Cost:
    """The estimated cost of one run."""

    parameters: int  # |θ|: every weight and bias
    memory_bytes: float  # peak growth of a process while it trains this run
    seconds: float  # on one core, with nothing else running

    @property
    def memory_mb(self) -> float:
        return self.memory_bytes / 1e6


def parameter_count(config: TrainConfig) -> int:
    """|θ| of the network a config builds: embedding, recurrent layers (U, W, two biases), V, b_y."""
    task = get_task(config.task)
    G, H, E = GATES[config.cell], config.hidden_size, config.embed_size
    recurrent = sum(G * H * ((E if layer == 0 else H) + H + 2) for layer in range(config.num_layers))
    return len(task.vocab) * E + recurrent + task.num_classes * (H + 1)


def _unit_steps(config: TrainConfig, sequences: int) -> float:
    """Hidden-unit updates of the recurrence over `sequences` sequences: B × T × H × layers."""
    return sequences * config.seq_len * config.hidden_size * config.num_layers


def memory_bytes(config: TrainConfig) -> float:
    """Peak memory a run adds to a process: weights and optimizer state, one batch's backprop, data."""
    task = get_task(config.task)
    copies = 4 if config.optimizer == "adam" else 2  # θ, ∂L/∂θ, and Adam's two running averages
    weights = copies * parameter_count(config) * FLOAT
    batch = min(config.batch_size, config.num_train)
    saved = SAVED_PER_UNIT[config.cell] * _unit_steps(config, batch) * FLOAT  # what backprop keeps
    saved += batch * config.seq_len * (config.embed_size + 2 * task.num_classes) * FLOAT  # x_t, logits
    gates = GATES[config.cell]
    evaluation = 2 * gates * _unit_steps(config, min(EVAL_BATCH, config.num_test)) * FLOAT  # no graph
    probes = SAVED_PER_UNIT[config.cell] * _unit_steps(config, PROBE_SIZE) * FLOAT  # ∂L/∂h_t, unrolled
    labels_per_sequence = config.seq_len if task.many_to_many else 1
    data = config.num_samples * (config.seq_len + labels_per_sequence) * 8  # int64 tokens and labels
    return weights + max(saved, evaluation) + probes + data + PROCESS_SLACK


def _batch_seconds(config: TrainConfig, sequences: int, passes: int) -> float:
    """One batch of `sequences`: fixed cost, per-step cost, and `passes` sweeps of arithmetic."""
    G, H, E, T = GATES[config.cell], config.hidden_size, config.embed_size, config.seq_len
    inputs = E + (config.num_layers - 1) * H  # what each layer multiplies by U
    flops = sequences * T * G * H * (inputs + H * config.num_layers)
    return BATCH_SECONDS + STEP_SECONDS * T * config.num_layers + passes * flops * FLOP_SECONDS


def seconds(config: TrainConfig) -> float:
    """Time to train on one core: every batch of every epoch, and after each epoch the scoring of
    the test set and of the whole training set."""
    batch = min(config.batch_size, config.num_train)
    batches = math.ceil(config.num_train / batch)
    training = batches * _batch_seconds(config, batch, passes=3)  # forward, and backward twice
    evaluation = sum(
        math.ceil(size / EVAL_BATCH) * _batch_seconds(config, min(EVAL_BATCH, size), passes=1)
        for size in (config.num_test, config.num_train)
    )
    return config.epochs * (training + evaluation)


def estimate(config: TrainConfig) -> Cost:
    """Everything above for one config."""
    return Cost(parameter_count(config), memory_bytes(config), seconds(config))
