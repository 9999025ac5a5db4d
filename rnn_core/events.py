"""What a training run reports, as it happens: the contract between the engine and its viewers.

`rnn_core.train.train(config)` yields these events in order:

    RunStarted, ProbeSnapshot(epoch=0), then per epoch: BatchEnd..., EpochEnd, [ProbeSnapshot],
    and last RunFinished (status "completed", "stopped" or "diverged").

They carry plain numbers and NumPy arrays, never tensors that hold a graph, so a command line, a
notebook or the dashboard can keep every event but the last without keeping the model's memory
alive. The last, RunFinished, hands the trained model over (`model`): whoever keeps it keeps the
weights, on purpose, and may let them go and keep the rest (`replace(finished, model=None)`).
Accuracies are fractions from 0 to 1; a viewer formats them as percentages.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING

import numpy as np

from .config import TrainConfig

if TYPE_CHECKING:
    from .trained import TrainedModel


@dataclass(frozen=True)
class RunStarted:
    config: TrainConfig  # its num_train and num_test say how many sequences each set holds
    batches_per_epoch: int
    probe_tokens: np.ndarray  # (P, T) token ids of the fixed probe set (the first P test sequences)
    probe_labels: np.ndarray  # (P,) or (P, T) their labels

    @property
    def total_batches(self) -> int:
        return self.batches_per_epoch * self.config.epochs


@dataclass(frozen=True)
class BatchEnd:
    epoch: int  # 1-based
    batch: int  # 1-based within the epoch
    step: int  # 1-based over the whole run
    loss: float  # this batch's loss before the update
    grad_norm: float  # ‖∂L/∂θ‖ over all weights, before clipping


@dataclass(frozen=True)
class EpochEnd:
    epoch: int  # 1-based
    epochs: int
    train_loss: (
        float  # running mean over the epoch's batches, each scored before its update (the sheet's way)
    )
    train_accuracy: float  # the same running tally: early on it lags behind the weights it ends with
    test_loss: float  # on the held-out test set after the epoch
    test_accuracy: float
    elapsed: float  # seconds since the run started
    train_loss_end: float | None = None  # the whole training set scored after the epoch, as the test set is
    train_accuracy_end: float | None = None  # (None in checkpoints saved before these were recorded)

    def log_line(self) -> str:
        """The lab sheet's line: `Epoch 1/10 - Loss: 0.6837 Accuracy: 56.38%`."""
        return (
            f"Epoch {self.epoch}/{self.epochs} - Loss: {self.train_loss:.4f} "
            f"Accuracy: {100 * self.train_accuracy:.2f}%"
        )


@dataclass(frozen=True)
class ProbeSnapshot:
    epoch: int  # 0 = before any training
    hidden: np.ndarray  # (P, T, H) top layer's h_t for every probe sequence
    probs: np.ndarray  # (P, T, C) softmax at every step: what the network says after each prefix
    dh_norms: np.ndarray  # (T,) mean over the probe set of ‖∂L/∂h_t‖ (all layers)
    spectral_radius: float | None  # largest |eigenvalue| of W (first layer); None for lstm/gru

    @property
    def nbytes(self) -> int:
        """The memory its arrays take (a viewer that keeps many snapshots counts them)."""
        return self.hidden.nbytes + self.probs.nbytes + self.dh_norms.nbytes


@dataclass(frozen=True)
class RunFinished:
    status: str  # "completed" | "stopped" | "diverged"
    reason: str  # a sentence for a student
    epochs_completed: int
    test_loss: float
    test_accuracy: float
    confusion: np.ndarray  # (C, C) counts: row = true class, column = predicted class
    elapsed: float
    # the trained network itself, the one event that holds it; None where its holder let it go
    model: TrainedModel | None = field(repr=False)

    def log_line(self) -> str:
        return f"Test Accuracy : {100 * self.test_accuracy:.2f}%"  # the sheet's spacing, as it prints it


Event = RunStarted | BatchEnd | EpochEnd | ProbeSnapshot | RunFinished
