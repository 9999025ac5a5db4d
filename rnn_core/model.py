"""The network of the lab sheet: Embedding -> RNN -> fully connected output.

Token ids become vectors x_t (the embedding), a recurrent layer turns them into hidden states h_t,
and a linear layer turns every h_t into class scores (logits) for ŷ_t = softmax(V h_t + b_y). The
output layer is applied at every step, so one forward pass gives both heads: many-to-one reads the
last step, many-to-many reads them all, and probes read what the network would say at each prefix.

Weights are drawn from a generator owned by the run, never from torch's global random state, so
runs in different threads are each reproducible. The schemes are PyTorch's own defaults, with one
change: an LSTM's forget gate and a GRU's update gate start open (bias GATE_BIAS), so the cell
starts out remembering (Jozefowicz et al. 2015; Keras' unit_forget_bias). Without it the gate sits
near 0.5 and memory halves at every step, and the gated cells forget as fast as a vanilla RNN.
Left out: dropout, bidirectional layers and packed variable-length batches (tasks left-pad).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import torch
from torch import nn

from .config import TrainConfig
from .tasks import get_task

CELLS = {"rnn": nn.RNN, "lstm": nn.LSTM, "gru": nn.GRU}
GATE_BIAS = 3.0  # sigmoid(3) = 0.95: the keep-gate lets 95% of the memory through per step
# How PyTorch stacks a gated cell's weights: U, W and b of each gate in this order (tests check the
# order against nn.LSTM and nn.GRU): LSTM input, forget, cell, output; GRU reset, update, new.
GATE_ORDER = {"lstm": ("i", "f", "g", "o"), "gru": ("r", "z", "n")}
KEEP_GATE = {"lstm": GATE_ORDER["lstm"].index("f"), "gru": GATE_ORDER["gru"].index("z")}  # keeps memory


@dataclass
class ModelOutput:
    logits: torch.Tensor  # (B, T, C) class scores at every step
    hidden: torch.Tensor  # (B, T, H) top layer's h_t at every step


class SequenceClassifier(nn.Module):
    """Embedding -> RNN/LSTM/GRU -> Linear, applied at every time step."""

    def __init__(
        self,
        vocab_size: int,
        num_classes: int,
        embed_size: int,
        hidden_size: int,
        cell: str,
        nonlinearity: str,
        num_layers: int,
        many_to_many: bool,
    ):
        """The layers only: their weights are drawn by `init_weights`. Build one with `build_model`."""
        super().__init__()
        if cell not in CELLS:
            raise ValueError(f"Unknown cell '{cell}'. Choose one of: {', '.join(CELLS)}.")
        self.cell = cell
        self.many_to_many = many_to_many
        self.embedding = nn.Embedding(vocab_size, embed_size)
        extra = {"nonlinearity": nonlinearity} if cell == "rnn" else {}
        self.rnn = CELLS[cell](embed_size, hidden_size, num_layers=num_layers, batch_first=True, **extra)
        self.fc = nn.Linear(hidden_size, num_classes)  # V and b_y of the sheet

    def forward(self, tokens: torch.Tensor) -> ModelOutput:
        x = self.embedding(tokens)  # (B, T) -> (B, T, E)
        hidden, _ = self.rnn(x)  # (B, T, H), top layer
        return ModelOutput(logits=self.fc(hidden), hidden=hidden)  # logits (B, T, C)

    def scored_logits(self, logits: torch.Tensor) -> torch.Tensor:
        """The logits the loss looks at: every step (many-to-many) or the last one only."""
        return logits if self.many_to_many else logits[:, -1]  # (B, T, C) or (B, C)

    @torch.no_grad()
    def init_weights(self, generator: torch.Generator) -> None:
        """PyTorch's default initialisation, drawn from `generator` instead of the global RNG."""
        self.embedding.weight.normal_(0.0, 1.0, generator=generator)
        bound = 1.0 / math.sqrt(self.rnn.hidden_size)
        for weight in self.rnn.parameters():
            weight.uniform_(-bound, bound, generator=generator)
        if self.cell in KEEP_GATE:
            H, k = self.rnn.hidden_size, KEEP_GATE[self.cell]
            for layer in range(self.rnn.num_layers):  # PyTorch adds two biases: half each
                getattr(self.rnn, f"bias_ih_l{layer}")[k * H : (k + 1) * H] = GATE_BIAS / 2
                getattr(self.rnn, f"bias_hh_l{layer}")[k * H : (k + 1) * H] = GATE_BIAS / 2
        bound = 1.0 / math.sqrt(self.fc.in_features)
        self.fc.weight.uniform_(-bound, bound, generator=generator)
        self.fc.bias.uniform_(-bound, bound, generator=generator)


def build_model(config: TrainConfig) -> SequenceClassifier:
    """The model a config describes, with its first weights drawn from the config's seed: the one
    way to make a model (training, checkpoints and tests all use it)."""
    task = get_task(config.task)
    model = SequenceClassifier(
        vocab_size=len(task.vocab),
        num_classes=task.num_classes,
        embed_size=config.embed_size,
        hidden_size=config.hidden_size,
        cell=config.cell,
        nonlinearity=config.nonlinearity,
        num_layers=config.num_layers,
        many_to_many=task.many_to_many,
    )
    model.init_weights(torch.Generator().manual_seed(config.seed))
    return model


def sequence_loss(model: SequenceClassifier, logits: torch.Tensor, labels: torch.Tensor) -> torch.Tensor:
    """The loss a run trains on: L = Σ_t L_t, the cross-entropy of ŷ_t against y_t summed over the
    scored steps (the last one for many-to-one, every one for many-to-many), averaged over the batch."""
    scored = model.scored_logits(logits)  # (B, C) or (B, T, C)
    total = nn.functional.cross_entropy(
        scored.reshape(-1, scored.shape[-1]), labels.reshape(-1), reduction="sum"
    )
    return total / labels.shape[0]
