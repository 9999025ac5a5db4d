"""The lab sheet's RNN written out by hand: forward pass and backpropagation through time.

    h_t   = tanh(U x_t + W h_{t-1} + b_h)      h_0 = 0
    ŷ_t   = softmax(V h_t + b_y)
    L_t   = -log ŷ_t[y_t]                      (0 at a step with no label)
    L     = Σ_t L_t

and the backward pass, ∂L/∂U, ∂L/∂W, ∂L/∂V, ∂L/∂b_h, ∂L/∂b_y, with plain tensor code and no
autograd, so every line can be read as one step of the chain rule. The tests check it against
PyTorch's autograd in float64 and against finite differences.

Shape letters: T time steps, E input (embedding) size, H hidden size, C classes.
Names: U (H, E) input -> hidden, W (H, H) hidden -> hidden, V (C, H) hidden -> output,
b_h (H,), b_y (C,); gradients dU, dW, dV, db_h, db_y; dh_next is the gradient that flows back
into h_t from step t+1. The sheet writes two sums inline, and the code names them:
a_t = U x_t + W h_{t-1} + b_h (inside tanh) and o_t = V h_t + b_y (inside softmax).

Left out: batches (one sequence at a time is what a student steps through), LSTM and GRU cells
(their gates need more equations than the sheet has), and multi-layer stacks.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import torch

PARAM_NAMES = ("U", "W", "V", "b_h", "b_y")
NO_LABEL = -1  # the label of a step that has none (many-to-one: every step but the last)


@dataclass(frozen=True)
class Cache:
    """What the forward pass computed, kept for the backward pass."""

    x: torch.Tensor  # (T, E) inputs x_t
    y: torch.Tensor  # (T,) label of each step, NO_LABEL where there is none
    a: torch.Tensor  # (T, H) a_t = U x_t + W h_{t-1} + b_h, the sum inside tanh
    h: torch.Tensor  # (T, H) hidden states h_1..h_T = tanh(a_t)
    y_hat: torch.Tensor  # (T, C) softmax outputs ŷ_t
    L_t: torch.Tensor  # (T,) loss of each step
    L: torch.Tensor  # () total loss Σ_t L_t


@dataclass(frozen=True)
class Trace:
    """The backward pass step by step: what every time step adds to every gradient."""

    # the gradients' terms, one per time step: ∂L/∂W = Σ_t terms["W"][t] = Σ_t δ_t h_(t−1)ᵀ, and so on
    terms: dict[str, torch.Tensor]  # name -> (T, *shape of that parameter)
    dh: torch.Tensor  # (T, H) ∂L/∂h_t: from ŷ_t and, through W, from every later step
    delta: torch.Tensor  # (T, H) δ_t = (1 - h_t²) ⊙ ∂L/∂h_t, the gradient at the pre-activation

    def grads(self) -> dict[str, torch.Tensor]:
        """The gradients: each is the sum of the time steps' contributions."""
        return {name: part.sum(dim=0) for name, part in self.terms.items()}


def init_params(
    input_size: int,
    hidden_size: int,
    output_size: int,
    seed: int = 0,
    dtype: torch.dtype = torch.float32,
    scale: float = 1.0,
) -> dict[str, torch.Tensor]:
    """Random weights as PyTorch's nn.RNN and nn.Linear draw them; `scale` multiplies W."""
    g = torch.Generator().manual_seed(seed)
    k = hidden_size**-0.5  # both layers draw from U(-1/sqrt(H), 1/sqrt(H))

    def draw(*shape: int) -> torch.Tensor:
        return (torch.rand(*shape, generator=g, dtype=torch.float64) * 2 - 1).mul(k).to(dtype)

    return {
        "U": draw(hidden_size, input_size),  # (H, E)
        "W": draw(hidden_size, hidden_size) * scale,  # (H, H)
        "V": draw(output_size, hidden_size),  # (C, H)
        "b_h": draw(hidden_size),  # (H,)
        "b_y": draw(output_size),  # (C,)
    }


def step_labels(y: int | torch.Tensor | Sequence[int], steps: int) -> torch.Tensor:
    """Labels as one per step: an int labels the last step only, a (T,) sequence every step."""
    if not isinstance(y, int | torch.Tensor):  # a list or NumPy array of labels
        y = torch.as_tensor(y, dtype=torch.long)
    if isinstance(y, torch.Tensor) and y.dim() == 1:
        if y.shape[0] != steps:
            raise ValueError(f"y has {y.shape[0]} labels but x has {steps} steps")
        return y.long()
    labels = torch.full((steps,), NO_LABEL, dtype=torch.long)
    labels[-1] = int(y)
    return labels


def forward(params: dict[str, torch.Tensor], x: torch.Tensor, y: int | torch.Tensor) -> Cache:
    """Run the sheet's equations over one sequence x (T, E) with label(s) y."""
    U, W, V, b_h, b_y = (params[name] for name in PARAM_NAMES)
    labels = step_labels(y, x.shape[0])
    h_prev = torch.zeros(W.shape[0], dtype=W.dtype)  # h_0 = 0, (H,)
    pre, hs, y_hats, losses = [], [], [], []
    for t in range(x.shape[0]):
        a_t = U @ x[t] + W @ h_prev + b_h  # (H,)
        h_t = torch.tanh(a_t)  # (H,)
        o_t = V @ h_t + b_y  # (C,)
        y_hat = torch.softmax(o_t, dim=0)  # ŷ_t, (C,)
        # L_t = -log ŷ_t[y_t], computed from o_t with log-softmax so it cannot overflow
        L_t = -torch.log_softmax(o_t, dim=0)[labels[t]] if labels[t] != NO_LABEL else o_t.new_zeros(())
        pre.append(a_t)
        hs.append(h_t)
        y_hats.append(y_hat)
        losses.append(L_t)
        h_prev = h_t
    L_t = torch.stack(losses)  # (T,)
    return Cache(
        x=x, y=labels, a=torch.stack(pre), h=torch.stack(hs), y_hat=torch.stack(y_hats), L_t=L_t, L=L_t.sum()
    )


def backward_steps(params: dict[str, torch.Tensor], cache: Cache) -> Trace:
    """Backpropagation through time, keeping each time step's contribution separate."""
    W, V = params["W"], params["V"]
    T, H = cache.h.shape
    terms = {name: torch.zeros(T, *params[name].shape, dtype=W.dtype) for name in PARAM_NAMES}
    dh = torch.zeros(T, H, dtype=W.dtype)
    delta = torch.zeros(T, H, dtype=W.dtype)
    dh_next = torch.zeros(H, dtype=W.dtype)  # nothing flows back into h_T from the future
    for t in reversed(range(T)):
        h_t = cache.h[t]
        h_prev = cache.h[t - 1] if t > 0 else torch.zeros_like(h_t)
        # backprop through softmax + cross-entropy: ∂L_t/∂o_t = ŷ_t − y_t, with y_t one-hot
        y_hat_minus_y = cache.y_hat[t].clone()  # (C,)
        if cache.y[t] == NO_LABEL:
            y_hat_minus_y.zero_()  # no label at this step: L_t = 0
        else:
            y_hat_minus_y[cache.y[t]] -= 1.0
        terms["V"][t] = torch.outer(y_hat_minus_y, h_t)  # ∂L_t/∂V = (ŷ_t − y_t) h_tᵀ, (C, H)
        terms["b_y"][t] = y_hat_minus_y  # ∂L_t/∂b_y, (C,)
        # ∂L/∂h_t: through the output at step t, plus everything later steps send back
        dh[t] = V.T @ y_hat_minus_y + dh_next  # (H,)
        # backprop through tanh: d tanh(a)/da = 1 - tanh(a)^2 = 1 - h_t^2
        delta[t] = (1.0 - h_t * h_t) * dh[t]  # δ_t, (H,)
        terms["U"][t] = torch.outer(delta[t], cache.x[t])  # δ_t x_tᵀ, (H, E)
        terms["W"][t] = torch.outer(delta[t], h_prev)  # δ_t h_(t−1)ᵀ, (H, H)
        terms["b_h"][t] = delta[t]  # δ_t, (H,)
        dh_next = W.T @ delta[t]  # what h_{t-1} receives through W
    return Trace(terms=terms, dh=dh, delta=delta)


def backward(params: dict[str, torch.Tensor], cache: Cache) -> dict[str, torch.Tensor]:
    """∂L/∂U, ∂L/∂W, ∂L/∂V, ∂L/∂b_h, ∂L/∂b_y, keyed by the parameter's name."""
    return backward_steps(params, cache).grads()


def autograd_backward(
    params: dict[str, torch.Tensor], x: torch.Tensor, y: int | torch.Tensor
) -> dict[str, torch.Tensor]:
    """The same gradients from PyTorch's autograd, through this module's forward: a check on backward."""
    leaves = {name: value.detach().clone().requires_grad_(True) for name, value in params.items()}
    forward(leaves, x, y).L.backward()
    return {name: leaves[name].grad for name in PARAM_NAMES}


def spectral_radius(W: torch.Tensor) -> float:
    """Largest |eigenvalue| of W: below 1, ∂L/∂h_t tends to shrink going back in time; above, to grow."""
    return float(torch.linalg.eigvals(W.double()).abs().max())


def backflow_through_W(W: torch.Tensor, dh_last: torch.Tensor, steps: int) -> torch.Tensor:
    """‖(Wᵀ)^(T−t) ∂L/∂h_T‖ for t = 1..T: the backward pass with W alone, no tanh slope (T,).

    This is the part of BPTT that the spectral radius of W governs: it explodes when ρ(W) > 1.
    """
    norms, carried = [], dh_last
    for _ in range(steps):
        norms.append(carried.norm())
        carried = W.T @ carried  # one step further back
    return torch.stack(norms[::-1])  # index t-1 holds step t


def per_step_factor(norms: torch.Tensor) -> float:
    """The average factor by which ‖∂L/∂h_t‖ changes per step back: (‖∂L/∂h_1‖ / ‖∂L/∂h_T‖)^(1/(T−1))."""
    if len(norms) < 2 or float(norms[-1]) == 0.0:
        return 1.0
    ratio = max(float(norms[0]) / float(norms[-1]), 1e-300)
    return ratio ** (1.0 / (len(norms) - 1))


def sgd_update(
    params: dict[str, torch.Tensor], grads: dict[str, torch.Tensor], lr: float
) -> dict[str, torch.Tensor]:
    """One plain gradient-descent step: θ ← θ - lr ∂L/∂θ (returns new tensors)."""
    return {name: params[name] - lr * grads[name] for name in PARAM_NAMES}


def params_from_model(model: torch.nn.Module, dtype: torch.dtype = torch.float64) -> dict[str, torch.Tensor]:
    """A trained one-layer tanh `SequenceClassifier`'s weights under the sheet's names.

    PyTorch's nn.RNN computes h_t = tanh(W_ih x_t + b_ih + W_hh h_{t-1} + b_hh), so
    U = weight_ih_l0, W = weight_hh_l0, b_h = bias_ih_l0 + bias_hh_l0 (two biases, one sum);
    the output layer fc gives V = fc.weight and b_y = fc.bias.
    """
    rnn = model.rnn
    if not isinstance(rnn, torch.nn.RNN) or rnn.num_layers != 1 or rnn.nonlinearity != "tanh":
        raise ValueError(
            "The sheet's equations describe a one-layer RNN with tanh; this model is a "
            f"{rnn.num_layers}-layer {type(rnn).__name__}"
            + (f" with {rnn.nonlinearity}" if isinstance(rnn, torch.nn.RNN) else "")
            + ", whose gates or extra layers the equations do not have."
        )
    with torch.no_grad():
        return {
            "U": rnn.weight_ih_l0.to(dtype).clone(),
            "W": rnn.weight_hh_l0.to(dtype).clone(),
            "V": model.fc.weight.to(dtype).clone(),
            "b_h": rnn.bias_ih_l0.to(dtype) + rnn.bias_hh_l0.to(dtype),  # summed in `dtype`, not float32
            "b_y": model.fc.bias.to(dtype).clone(),
        }


def embed(
    model: torch.nn.Module, token_ids: list[int] | torch.Tensor, dtype: torch.dtype = torch.float64
) -> torch.Tensor:
    """The inputs x_t (T, E) that a model's embedding layer makes of one sequence of token ids."""
    with torch.no_grad():
        return model.embedding(torch.as_tensor(token_ids, dtype=torch.long)).to(dtype)  # (T, E)
