"""Looking inside a network: hidden states, per-prefix predictions, gradient flow, PCA.

These read a model without changing it. `snapshot` is what the training engine records for its
fixed probe set; `pca_basis` / `project` give the one fixed 2-D view in which hidden-state
trajectories from every epoch can be drawn together.

∂L/∂h_t here is the full gradient reaching h_t: from its own output and, through the recurrence,
from every later step. Computing it needs the sequence unrolled one step at a time, because
PyTorch's fused RNN layers do not expose their internal states to autograd.
"""

from __future__ import annotations

import numpy as np
import torch

from . import bptt
from .events import ProbeSnapshot
from .model import SequenceClassifier, sequence_loss


def spectral_radius(model: SequenceClassifier) -> float | None:
    """Largest |eigenvalue| of W (first layer's weight_hh): above 1 signals may grow, below fade."""
    if model.cell != "rnn":
        return None  # an LSTM/GRU's weight_hh stacks its gates' matrices: it is not one square W
    with torch.no_grad():
        return bptt.spectral_radius(model.rnn.weight_hh_l0)


def hidden_gradient_norms(
    model: SequenceClassifier, tokens: torch.Tensor, labels: torch.Tensor
) -> np.ndarray:
    """‖∂L/∂h_t‖ for each t (T,), each sequence's own L, averaged over the batch; all layers' h_t."""
    x = model.embedding(tokens)  # (B, T, E)
    state = None
    states, logits = [], []
    for t in range(tokens.shape[1]):
        _, state = model.rnn(x[:, t : t + 1], state)  # state: (layers, B, H) or (h, c) for lstm
        h = state[0] if isinstance(state, tuple) else state  # (layers, B, H)
        states.append(h)
        logits.append(model.fc(h[-1]))  # (B, C) from the top layer
    # summed, not averaged, over the batch: each sequence's h_t then gets its own ∂L/∂h_t
    loss = sequence_loss(model, torch.stack(logits, dim=1), labels) * tokens.shape[0]  # logits (B, T, C)
    grads = torch.autograd.grad(loss, states)  # T tensors (layers, B, H)
    norms = torch.stack([g.permute(1, 0, 2).flatten(1).norm(dim=1) for g in grads])  # ‖∂L/∂h_t‖, (T, B)
    return norms.mean(dim=1).numpy()  # (T,)


def snapshot(
    model: SequenceClassifier, epoch: int, tokens: torch.Tensor, labels: torch.Tensor
) -> ProbeSnapshot:
    """What the probe set looks like inside the network right now."""
    was_training = model.training
    model.eval()
    with torch.no_grad():
        out = model(tokens)
    dh_norms = hidden_gradient_norms(model, tokens, labels)
    model.train(was_training)
    return ProbeSnapshot(
        epoch=epoch,
        hidden=out.hidden.numpy().astype(np.float32),  # (P, T, H)
        probs=torch.softmax(out.logits, dim=-1).numpy().astype(np.float32),  # (P, T, C)
        dh_norms=dh_norms.astype(np.float32),
        spectral_radius=spectral_radius(model),
    )


def probe_score(snap: ProbeSnapshot, labels: np.ndarray) -> tuple[int, int]:
    """How many of the probe set's predictions the output layer gets right at a snapshot, and of
    how many: one per sequence from h_T, or one per step from every h_t (a label per step), read
    off the snapshot's own ŷ_t. Counts, not a share: 399 of 400 is not "100%"."""
    predicted = snap.probs.argmax(axis=-1)  # (P, T)
    labels = np.asarray(labels)
    scored = predicted[:, -1] if labels.ndim == 1 else predicted  # (P,) or (P, T)
    return int((scored == labels).sum()), int(labels.size)


def pca_basis(points: np.ndarray, components: int = 2) -> tuple[np.ndarray, np.ndarray]:
    """Mean (H,) and top principal directions (components, H) of points (N, H)."""
    mean = points.mean(axis=0)
    centred = points - mean
    # The principal directions are the eigenvectors of the (H, H) scatter matrix, largest first: the
    # directions an SVD of the points gives, at a tenth of its cost for the 10,000 and more points of
    # every recorded epoch (the Hidden states page fits them at each redraw while a run trains).
    _, vectors = np.linalg.eigh(centred.T @ centred)
    basis = vectors[:, ::-1].T[:components]
    # fix each direction's sign so the picture does not flip between calls
    signs = np.sign(basis[np.arange(len(basis)), np.abs(basis).argmax(axis=1)])
    basis = basis * signs[:, None]
    if basis.shape[0] < components:  # fewer hidden units than components: pad with zeros
        basis = np.vstack([basis, np.zeros((components - basis.shape[0], points.shape[1]))])
    return mean, basis


def project(points: np.ndarray, mean: np.ndarray, basis: np.ndarray) -> np.ndarray:
    """Points (..., H) in the PCA view: (..., components)."""
    return (points - mean) @ basis.T


def snapshot_basis(snapshots: list[ProbeSnapshot]) -> tuple[np.ndarray, np.ndarray]:
    """One PCA view fitted to the hidden states of every recorded epoch, so epochs can be compared."""
    pooled = np.concatenate([s.hidden.reshape(-1, s.hidden.shape[-1]) for s in snapshots])  # (S*P*T, H)
    return pca_basis(pooled.astype(np.float64))
