"""The backprop-through-time lesson, computed with a trained network's real numbers.

`walkthrough` runs one example through the sheet's equations (rnn_core.bptt) with the weights of a
trained one-layer tanh RNN and checks the hand gradients against autograd through the trained
nn.RNN model itself (so a mismatch between the sheet and PyTorch would show); `gradient_flow` shows
how ∂L/∂h_t fades or grows going back in time when W is scaled; `training_step` walks one
iteration (forward, loss, backward, update). The dashboard's Backprop through time page draws
these; a notebook can print them. Everything here reads the model and never changes it.

Left out: LSTM and GRU cells and stacked layers, which the sheet's equations do not describe
(`bptt.params_from_model` says so with a clear error).
"""

from __future__ import annotations

import copy
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import torch
from torch import nn

from . import bptt
from .events import ProbeSnapshot
from .model import SequenceClassifier
from .tasks import get_task

STAGES = ("forward", "loss", "backward", "update")
AUTOGRAD_NAMES = ("U", "W", "V", "b_ih", "b_hh", "b_y")  # PyTorch's parameters, under the sheet's names


@dataclass(frozen=True)
class Walkthrough:
    """One sequence through the sheet's RNN: every intermediate value, and the check on backward."""

    tokens: tuple[str, ...]
    params: dict[str, torch.Tensor]  # U, W, V, b_h, b_y in float64
    cache: bptt.Cache  # the forward pass: x, a, h, y_hat, L_t, L
    trace: bptt.Trace  # the backward pass step by step: terms, dh, delta
    autograd: dict[str, torch.Tensor]  # the same gradients by autograd through the real nn.RNN model

    @property
    def grads(self) -> dict[str, torch.Tensor]:
        return self.trace.grads()

    def largest_difference(self) -> dict[str, float]:
        """max |hand − autograd through nn.RNN| for each gradient (b_h against b_ih and b_hh both)."""
        grads = {**self.grads, "b_ih": self.grads["b_h"], "b_hh": self.grads["b_h"]}
        return {name: float((grads[name] - self.autograd[name]).abs().max()) for name in AUTOGRAD_NAMES}

    def step_shares(self, name: str = "W") -> np.ndarray:
        """Each step's share of the gradient ∂L/∂`name` (T,): the shares add up to exactly 1.

        Step t's part is δ_t h_{t-1}ᵀ (for W); the parts add up to ∂L/∂W. A part's share is how
        far it points along the whole, ⟨part_t, ∂L/∂W⟩ / ‖∂L/∂W‖²: a negative share pulls against
        the total, which is why the parts' sizes add up to more than the whole.
        """
        parts = self.trace.terms[name].flatten(1)  # (T, |W|)
        whole = parts.sum(dim=0)  # ∂L/∂W, flattened
        return (parts @ whole / (whole @ whole).clamp_min(1e-300)).numpy()


def walkthrough(model: SequenceClassifier, task_name: str, token_ids: Sequence[int], labels) -> Walkthrough:
    """The sheet's forward and backward pass for one sequence, with `model`'s weights.

    `labels` is an int (a label at the last step) or one label per step (many-to-many).
    """
    params = bptt.params_from_model(model)
    x = bptt.embed(model, list(token_ids))  # (T, E)
    cache = bptt.forward(params, x, labels)
    return Walkthrough(
        tokens=tuple(get_task(task_name).decode(list(token_ids))),
        params=params,
        cache=cache,
        trace=bptt.backward_steps(params, cache),
        autograd=model_gradients(model, token_ids, labels),
    )


def model_gradients(model: SequenceClassifier, token_ids: Sequence[int], labels) -> dict[str, torch.Tensor]:
    """∂L/∂U, ∂L/∂W, ∂L/∂V, ∂L/∂b_h, ∂L/∂b_y by autograd through the model's own nn.RNN, in float64.

    L = Σ_t L_t over the labelled steps, as the sheet writes it. PyTorch keeps two biases,
    b_h = b_ih + b_hh, and ∂L/∂b_ih = ∂L/∂b_hh = ∂L/∂b_h; both are returned too, to be checked.
    """
    twin = copy.deepcopy(model).double()  # the trained weights, in float64, outside its graph
    tokens = torch.tensor([list(token_ids)], dtype=torch.long)  # (1, T)
    logits = twin(tokens).logits[0]  # (T, C)
    steps = bptt.step_labels(labels, len(token_ids))  # (T,), NO_LABEL where a step has none
    scored = steps != bptt.NO_LABEL
    L = nn.functional.cross_entropy(logits[scored], steps[scored], reduction="sum")  # L = Σ_t L_t
    L.backward()
    rnn = twin.rnn
    return {
        "U": rnn.weight_ih_l0.grad,
        "W": rnn.weight_hh_l0.grad,
        "V": twin.fc.weight.grad,
        "b_h": rnn.bias_ih_l0.grad,
        "b_y": twin.fc.bias.grad,
        "b_ih": rnn.bias_ih_l0.grad,
        "b_hh": rnn.bias_hh_l0.grad,
    }


@dataclass(frozen=True)
class GradientFlow:
    """‖∂L/∂h_t‖ going back in time through the sheet's RNN with W scaled, and through W alone."""

    scale: float
    with_tanh: np.ndarray  # (T,) ‖∂L/∂h_t‖ in the sheet's RNN
    w_alone: np.ndarray  # (T,) ‖(Wᵀ)^(T−t) ∂L/∂h_T‖: the recurrence without tanh's slope
    spectral_radius: float  # of the scaled W
    mean_slope: float  # average of tanh's slope 1 − h_t² over units and steps
    factor_with_tanh: float  # average change of ‖∂L/∂h_t‖ per step back
    factor_w_alone: float
    gradient_norm: float  # ‖∂L/∂θ‖ over all five gradients

    def clipped_norm(self, max_norm: float) -> float:
        """The gradient's norm after clipping at max_norm (0 = no clipping): its direction stays."""
        return min(self.gradient_norm, max_norm) if max_norm > 0 else self.gradient_norm

    def describe(self) -> str:
        """What the numbers say, in words a student reads under the chart."""
        words = {True: "vanishing", False: "exploding"}
        text = (
            f"Spectral radius of W: {self.spectral_radius:.2f}. Going back one step, ∂L/∂h_t is "
            f"multiplied by Wᵀ and by tanh's slope 1 − h_t² (here {self.mean_slope:.2f} on average). "
            f"Per step it changed by a factor of {self.factor_with_tanh:.3g} in the sheet's RNN "
            f"({words[self.factor_with_tanh < 1]}) and {self.factor_w_alone:.3g} for W alone "
            f"({words[self.factor_w_alone < 1]})."
        )
        if self.factor_w_alone > 1 > self.factor_with_tanh:
            text += (
                " W alone would blow the gradient up, but a large W also saturates tanh, which squashes it."
            )
        return text


def gradient_flow(
    model: SequenceClassifier, task_name: str, length: int, scale: float, seed: int
) -> GradientFlow:
    """Generate one sequence of `length` steps and follow its gradient back with W × scale."""
    task = get_task(task_name)
    data = task.generate(1, max(length, task.min_seq_len), seed=seed)
    tokens = data.tokens[0][:length]
    labels = data.labels[0][:length] if task.many_to_many else int(data.labels[0])
    params = bptt.params_from_model(model)
    params["W"] = params["W"] * scale
    cache = bptt.forward(params, bptt.embed(model, tokens), labels)
    trace = bptt.backward_steps(params, cache)
    with_tanh = trace.dh.norm(dim=1)  # (T,)
    w_alone = bptt.backflow_through_W(params["W"], trace.dh[-1], length)  # (T,)
    total = torch.sqrt(sum((g**2).sum() for g in trace.grads().values()))
    return GradientFlow(
        scale=scale,
        with_tanh=with_tanh.numpy(),
        w_alone=w_alone.numpy(),
        spectral_radius=bptt.spectral_radius(params["W"]),
        mean_slope=float((1 - cache.h**2).mean()),
        factor_with_tanh=bptt.per_step_factor(with_tanh),
        factor_w_alone=bptt.per_step_factor(w_alone),
        gradient_norm=float(total),
    )


@dataclass(frozen=True)
class TrainingStep:
    """One iteration of plain gradient descent on one example, stage by stage."""

    lr: float
    last_y_hat: np.ndarray  # (C,) what the forward pass says at the last step
    loss: float  # L before the update
    grad_norms: dict[str, float]  # ‖∂L/∂θ‖ per parameter
    loss_after: float  # L on the same example after θ ← θ − lr ∂L/∂θ


def radius_while_training(snapshots: Sequence[ProbeSnapshot]) -> str | None:
    """How the spectral radius of W moved while a run trained, read off its probe snapshots (the
    engine records ρ(W) with each); None for a cell without one W or with fewer than two snapshots."""
    radii = [(s.epoch, s.spectral_radius) for s in snapshots if s.spectral_radius is not None]
    if len(radii) < 2:
        return None
    (first_epoch, first), (last_epoch, last) = radii[0], radii[-1]
    peak_epoch, peak = max(radii, key=lambda r: r[1])
    text = (
        f"While this run trained, the spectral radius of its W went from {first:.2f} "
        f"{'before training' if first_epoch == 0 else f'after epoch {first_epoch}'} to {last:.2f} "
        f"after epoch {last_epoch}"
    )
    if f"{peak:.2f}" not in (f"{first:.2f}", f"{last:.2f}"):
        text += f" (highest: {peak:.2f}, after epoch {peak_epoch})"
    side = "above" if last > 1 else "below"
    return text + f": the trained W is {side} 1, the border between growing and shrinking through W alone."


def training_step(walk: Walkthrough, lr: float) -> TrainingStep:
    updated = bptt.sgd_update(walk.params, walk.grads, lr)
    after = bptt.forward(updated, walk.cache.x, walk.cache.y)
    return TrainingStep(
        lr=lr,
        last_y_hat=walk.cache.y_hat[-1].numpy(),
        loss=float(walk.cache.L),
        grad_norms={name: float(g.norm()) for name, g in walk.grads.items()},
        loss_after=float(after.L),
    )
