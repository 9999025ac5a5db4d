"""A trained network with everything needed to use and explain it: config, task and history.

`TrainedModel.predict(text)` is what the dashboard's Try it page and `python -m rnn_core predict`
show: the class probabilities for a typed sequence and what the network would have said had the
sequence stopped after each token.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import torch

from .config import TrainConfig
from .events import EpochEnd
from .model import SequenceClassifier
from .tasks import Task, get_task
from .words import percent


@dataclass(frozen=True)
class Prediction:
    tokens: tuple[str, ...]  # what the student typed, as tokens
    class_names: tuple[str, ...]
    probs: np.ndarray  # (C,) for the whole sequence (many-to-many: the last step)
    prefix_probs: np.ndarray  # (T, C): the prediction had the sequence stopped after token t
    hidden: np.ndarray  # (T, H) top layer's h_t for the typed tokens

    @property
    def label(self) -> str:
        return self.class_names[int(self.probs.argmax())]

    @property
    def confidence(self) -> float:
        return float(self.probs.max())

    @property
    def step_labels(self) -> list[str]:
        """The predicted class at every step (what a many-to-many task is scored on)."""
        return [self.class_names[int(i)] for i in self.prefix_probs.argmax(axis=1)]

    def report(self, every_step: bool) -> list[str]:
        """The lines `python -m rnn_core predict` prints (and the exported notebook's last cell):
        the label with its probability, each class's, and with `every_step` the label per step."""
        lines = [f"Prediction: {self.label} ({percent(self.confidence)})"]
        lines += [f"  {name}: {percent(p)}" for name, p in zip(self.class_names, self.probs, strict=True)]
        return lines + (["Per step: " + " ".join(self.step_labels)] if every_step else [])


@dataclass
class TrainedModel:
    model: SequenceClassifier
    config: TrainConfig
    history: list[EpochEnd] = field(default_factory=list)
    status: str = "completed"
    test_accuracy: float | None = None

    @property
    def task(self) -> Task:
        return get_task(self.config.task)

    @property
    def weight_bytes(self) -> int:
        """The memory its weights take: every parameter and buffer of the network (θ once)."""
        return sum(tensor.numel() * tensor.element_size() for tensor in self.model.state_dict().values())

    def predict_ids(self, ids: list[int]) -> Prediction:
        """The network's reading of one sequence of token ids."""
        task = self.task
        padded = list(ids)
        if task.pad_id is not None and len(ids) < self.config.seq_len:
            # trained on left-padded sentences: show it the same shape
            padded = [task.pad_id] * (self.config.seq_len - len(ids)) + padded
        self.model.eval()
        with torch.no_grad():
            out = self.model(torch.tensor([padded], dtype=torch.long))  # (1, T', ...)
        keep = slice(len(padded) - len(ids), None)  # drop the padding steps
        prefix = torch.softmax(out.logits[0, keep], dim=-1).numpy()  # (T, C)
        return Prediction(
            tokens=tuple(task.decode(ids)),
            class_names=task.class_names,
            probs=prefix[-1],
            prefix_probs=prefix,
            hidden=out.hidden[0, keep].numpy(),
        )

    def predict(self, text: str) -> Prediction:
        """Encode typed text (raising EncodeError with a clear message) and predict."""
        return self.predict_ids(self.task.encode(text))
