"""Backprop through time: the lab sheet's equations, then the same equations with real numbers.

All numbers come from rnn_core.bptt, which computes the sheet's forward and backward passes by
hand (no autograd) with the trained network's weights; autograd's gradients are shown beside them.
Only a one-layer tanh RNN is what the sheet's equations describe; for another run (picked like any
other) the page writes its own recurrent step (relu, or an LSTM's or GRU's gates), says why the hand
computation stops there, and shows the gradient flow the engine measured with autograd.
"""

from __future__ import annotations

from functools import partial

import numpy as np
import streamlit as st

from dashboard import charts_inside, page, session, state
from dashboard.runner import JobView, find
from rnn_core import bptt, equations, get_task, lesson
from rnn_core.words import apart

TIMER_SECONDS = {"training": 1.0}  # page.live: look once a second whether the run has ended
FILL_IN = (
    "Train a run with the **rnn** cell, 1 layer and tanh (the lab preset) to fill these equations with its "
    "numbers."
)

# One equation per st.latex, each through `equation`: KaTeX's aligned blocks and a trailing
# subscript overflow their box by a pixel or two, which makes a scroll region a keyboard cannot
# reach (axe-core: scrollable-region-focusable).
FORWARD = (
    r"h_t = \tanh(U x_t + W h_{t-1} + b_h), \quad h_0 = 0",
    r"\hat y_t = \operatorname{softmax}(V h_t + b_y)",
    r"L_t = -\log \hat y_t[y_t] \qquad L = \textstyle\sum_t L_t",
)
BACKWARD = (
    r"\frac{\partial L}{\partial V} = \textstyle\sum_t (\hat y_t - y_t)\, h_t^\top",
    r"\frac{\partial L}{\partial b_y} = \textstyle\sum_t (\hat y_t - y_t)",
    r"\frac{\partial L}{\partial h_t} = V^\top (\hat y_t - y_t) + W^\top \delta_{t+1}",
    r"\delta_t = (1 - h_t^2) \odot \frac{\partial L}{\partial h_t}",
    r"\frac{\partial L}{\partial W} = \textstyle\sum_t \delta_t\, h_{t-1}^\top",
    r"\frac{\partial L}{\partial U} = \textstyle\sum_t \delta_t\, x_t^\top",
    r"\frac{\partial L}{\partial b_h} = \textstyle\sum_t \delta_t",
)


# KaTeX draws display math at 1.21em and never wraps it: on a 390-px phone a step's line with its
# numbers ran 100 px past the page's edge, behind a scroll bar. Below 484 px of window the math is 4%
# of the window's width instead (15.6 px on that phone), so every line on this page fits a phone.
MATH_CSS = "<style>.katex-display > .katex { font-size: min(1.21em, 4vw); }</style>"


def equation(latex: str) -> None:
    """One displayed equation, with a thin trailing space so its last subscript stays in its box."""
    st.latex(latex + r"\;")


def vec(values, shown: int = 3) -> str:
    """A vector as LaTeX, its first entries (three: with a fourth, a step's line was wider than a phone).
    Small or large vectors (such as gradients) are written with a common factor, 10^{-3} × [...], so
    no entry shows as 0.000."""
    flat = np.asarray(values, dtype=float).ravel()
    factor = ""
    top = float(np.abs(flat).max()) if flat.size else 0.0
    if top > 0 and not 0.1 <= top < 100:
        power = int(np.floor(np.log10(top)))
        flat, factor = flat / 10.0**power, rf"10^{{{power}}} \times "
    items = [f"{v:.3f}" for v in flat[:shown]]
    more = r", \dots" if flat.size > shown else ""
    return factor + r"\begin{bmatrix}" + ", ".join(items) + more + r"\end{bmatrix}"


def sci(value: float) -> str:
    """A number as LaTeX: 2.381 × 10^{-2}."""
    if value == 0 or 0.1 <= abs(value) < 100:
        return f"{value:.4f}"
    power = int(np.floor(np.log10(abs(value))))
    return rf"{value / 10.0**power:.3f} \times 10^{{{power}}}"


def plain(values, shown: int = 4) -> str:
    """A vector as plain text: [0.123, 0.877]."""
    flat = np.asarray(values, dtype=float).ravel()
    return "[" + ", ".join(f"{v:.3f}" for v in flat[:shown]) + (", …" if flat.size > shown else "") + "]"


def is_sheet_network(view: JobView) -> bool:
    """A one-layer tanh RNN: the network the sheet's equations describe, which the page fills in."""
    config = view.config
    return config.cell == "rnn" and config.num_layers == 1 and config.nonlinearity == "tanh"


# The page's three parts with widgets of their own (step t, the gradient flow's settings, the step
# through one iteration) are fragments: a widget inside a fragment reruns that fragment only, not the
# whole page, so dragging t along a sequence does not compute the gradient flow again each time.


@st.fragment
def render_step(walk: lesson.Walkthrough, step_key: str) -> None:
    """The slider for t and the step-t equations filled in."""
    T = len(walk.tokens)
    st.session_state.setdefault(step_key, T)  # the last step to start with; its range is this T
    render_numbers(walk, st.slider("Time step t", 1, T, key=step_key) - 1)


def render_numbers(walk: lesson.Walkthrough, t: int) -> None:
    """The step-t equations filled in (t is 0-based; the sheet counts from 1)."""
    cache, trace = walk.cache, walk.trace
    equation(rf"x_{{{t + 1}}} = \text{{embed}}(\texttt{{{walk.tokens[t]}}}) = {vec(cache.x[t])}")
    equation(rf"U x_{{{t + 1}}} + W h_{{{t}}} + b_h = {vec(cache.a[t])}")
    equation(rf"h_{{{t + 1}}} = \tanh(\cdot) = {vec(cache.h[t])}")
    equation(rf"\hat y_{{{t + 1}}} = {vec(cache.y_hat[t])} \qquad L_{{{t + 1}}} = {sci(float(cache.L_t[t]))}")
    note = st.container()  # always there: the charts further down keep their place as t moves
    if int(cache.y[t]) == bptt.NO_LABEL:
        note.caption(f"Step {t + 1} has no label (only the last step does), so L_{t + 1} = 0.")
    dL_dh = rf"\frac{{\partial L}}{{\partial h_{{{t + 1}}}}}"
    equation(rf"{dL_dh} = {vec(trace.dh[t])}")
    # δ_t in two lines: in one, a projector's type pushed its numbers out of the page's width
    equation(rf"\delta_{{{t + 1}}} = (1 - h_{{{t + 1}}}^2) \odot {dL_dh}")
    equation(rf"\delta_{{{t + 1}}} = {vec(trace.delta[t])}")
    part = float(trace.terms["W"][t].norm())
    equation(
        rf"\text{{step {t + 1}'s part of }} \partial L / \partial W: "
        rf"\|\delta_{{{t + 1}}} h_{{{t}}}^\top\| = {sci(part)}"
    )


def render_check(walk: lesson.Walkthrough) -> None:
    grads, differences = walk.grads, walk.largest_difference()
    sheet_name = {"b_ih": "b_h", "b_hh": "b_h"}  # PyTorch's two biases: each gets ∂L/∂b_h
    rows = [
        {
            "hand (the sheet)": f"∂L/∂{sheet_name.get(name, name)}",
            "largest |hand − autograd|": differences[name],  # second: in sight on a 360-px phone
            "autograd (nn.RNN)": f"∂L/∂{name}",
            "shape": "×".join(map(str, walk.autograd[name].shape)),
            "‖hand‖": float(grads[sheet_name.get(name, name)].norm()),
            "‖autograd‖": float(walk.autograd[name].norm()),
        }
        for name in lesson.AUTOGRAD_NAMES
    ]
    st.dataframe(
        rows,
        hide_index=True,
        column_config={"largest |hand − autograd|": st.column_config.NumberColumn(format="%.2e")},
    )
    st.caption(
        "Autograd here differentiates the trained network itself, PyTorch's nn.RNN, in float64. It keeps "
        "two biases, b_ih and b_hh, whose sum is the sheet's b_h, so each must get ∂L/∂b_h. Had the "
        "sheet's equations and PyTorch's network differed, the second column would show it."
    )


@st.fragment
def render_flow(view: JobView) -> None:
    """Vanishing and exploding gradients: ‖∂L/∂h_t‖ going back in time, with W scaled."""
    st.header("Vanishing and exploding gradients")
    left, middle, right = st.columns(3)
    # each starts where the student left it (page.keep_widget_values), or at its first value
    for key, first in ((state.BPTT_LENGTH, 40), (state.BPTT_SCALE, 1.0), (state.BPTT_CLIP, 0.0)):
        st.session_state.setdefault(key, first)
    length = left.slider("Sequence length T", 5, 100, key=state.BPTT_LENGTH)
    scale = middle.slider("Scale W by", 0.25, 3.0, step=0.25, key=state.BPTT_SCALE)
    clip = right.number_input(
        "Clip the gradient at norm (0 = off)", 0.0, 100.0, step=0.5, key=state.BPTT_CLIP
    )
    flow = lesson.gradient_flow(view.model.model, view.config.task, length, scale, view.config.seed)
    series = {"the sheet's RNN (tanh)": flow.with_tanh, "W alone (no tanh)": flow.w_alone}
    page.chart(charts_inside.gradient_flow(series, f"‖∂L/∂h_t‖ back in time, W scaled by {scale:g}"))
    text = flow.describe() + f" The sheet's five gradients together: ‖∂L/∂θ‖ = {flow.gradient_norm:.3e}"
    if clip > 0:
        text += (
            f"; clipping at {clip:g} rescales them to {flow.clipped_norm(clip):.3e}, same direction. "
            "(Training clips the norm over all of the network's weights, the embedding and both biases "
            "included, so its norm is a little larger than this one.)"
        )
    st.caption(text + ("" if clip > 0 else "."))
    if during := lesson.radius_while_training(view.snapshots):
        st.caption(during)


def _next_stage() -> None:
    """The step-through button's callback: one stage on, and back to none after the last."""
    stage = st.session_state.get(state.BPTT_STAGE, 0)
    st.session_state[state.BPTT_STAGE] = (stage + 1) % (len(lesson.STAGES) + 1)


@st.fragment
def render_step_through(walk: lesson.Walkthrough, config) -> None:
    """One training iteration, one stage at a time."""
    st.header("Step through one training iteration")
    st.info(
        f"This step is plain gradient descent on the sheet's five parameters for one example. The run "
        f"itself trained with {config.optimizer} (learning rate {config.lr:g}) on batches of "
        f"{config.batch_size}, and updated every PyTorch weight: the embedding, and b_ih and b_hh "
        "separately."
    )
    st.session_state.setdefault(state.BPTT_LR, 0.5)  # where the student left it, as above
    lr = st.number_input("Learning rate for this step (plain SGD)", 0.001, 5.0, step=0.1, key=state.BPTT_LR)
    stage = st.session_state.get(state.BPTT_STAGE, 0)
    row = st.container(horizontal=True, vertical_alignment="center")  # the button as wide as its label
    # The button says what its click will do: the next stage's name, or start over after the last.
    label = "Start over" if stage == len(lesson.STAGES) else f"Next: {lesson.STAGES[stage]}"
    row.button(label, key=state.BPTT_NEXT, on_click=_next_stage)
    row.progress(
        stage / len(lesson.STAGES),
        text=" → ".join(s.upper() if i < stage else s for i, s in enumerate(lesson.STAGES)),
    )
    step = lesson.training_step(walk, lr)
    T = len(walk.tokens)
    if stage >= 1:
        st.write(f"**Forward:** h_1 … h_{T} computed; at the last step ŷ_{T} = {plain(step.last_y_hat)}.")
    before, after = apart(step.loss, step.loss_after)  # a well-learned example's loss moves little
    if stage >= 2:
        st.write(f"**Loss:** L = Σ_t L_t = {before}")
    if stage >= 3:
        st.write("**Backward:** " + ", ".join(f"‖∂L/∂{n}‖ = {g:.3e}" for n, g in step.grad_norms.items()))
    if stage >= 4:
        st.write(f"**Update:** θ ← θ − {lr:g} ∂L/∂θ. The loss on this example goes from {before} to {after}.")


def render_other_cell(view: JobView) -> None:
    """What the page can show for an LSTM, GRU, relu or multi-layer run, and why not more."""
    config = view.config
    render_recurrence(view)
    differs = []
    if config.cell != "rnn":
        differs.append(f"the {config.cell.upper()}'s gates have equations of their own (above)")
    if config.cell == "rnn" and config.nonlinearity != "tanh":
        differs.append(f"{config.nonlinearity} changes the slope in δ_t")
    if config.num_layers > 1:
        differs.append("extra layers feed h_t upward")
    layers = "one-layer" if config.num_layers == 1 else f"{config.num_layers}-layer"
    kind = config.cell.upper() + (f" with {config.nonlinearity}" if config.cell == "rnn" else "")
    st.info(
        f"{view.name} is a {layers} {kind}. The lab sheet's "
        f"equations at the top describe a one-layer tanh RNN, but {' and '.join(differs)}, so the hand "
        "computation does not apply. What can be shown is how the gradient flowed back in time, measured "
        "with autograd:"
    )
    if view.snapshots:
        snap = view.snapshots[-1]
        title = f"‖∂L/∂h_t‖ after epoch {snap.epoch} (probe set mean)"
        page.chart(charts_inside.gradient_flow(snap.dh_norms, title))
        if config.num_layers > 1:
            st.caption(
                f"With {config.num_layers} layers, h_t here is every layer's state at step t stacked into "
                f"one vector ({config.num_layers} × {config.hidden_size} numbers), and ‖∂L/∂h_t‖ is its norm."
            )


def render_recurrence(view: JobView) -> None:
    """The run's own recurrent step when it is not the sheet's (relu, or an LSTM's or GRU's gates in
    the order PyTorch stacks their weights), one equation per line as the sheet's are drawn."""
    config = view.config
    if config.cell == "rnn" and config.nonlinearity == "tanh":
        return  # the sheet's own equation, above
    symbols = f" ({equations.SYMBOLS})" if config.cell != "rnn" else ""
    st.write(f"{view.name}'s recurrent layer, one step{symbols}:")
    lines = equations.recurrence(config.cell, config.nonlinearity)
    for line, _ in lines:
        equation(line)
    biases = f" {equations.BIASES[config.cell]}" if config.cell in equations.BIASES else ""
    st.caption("; ".join(f"{line.split(' = ')[0]}: {what}" for line, what in lines) + "." + biases)


def render_wait(training: list[JobView]) -> None:
    """The first of these training runs, which the page waits for (it redraws when the run ends), or,
    with none, which run to train."""
    if not training:
        st.info(FILL_IN)
        return
    run = training[0]
    coming = "its step and gradient flow appear"
    if is_sheet_network(run):
        coming = "this page fills in with its numbers"
    waiting = f"{run.name} is still training: {coming} when it ends."
    page.live(partial(st.info, waiting), "training", page.run_mode(run.run_id, timer_mode), TIMER_SECONDS)


def timer_mode(view: JobView) -> str | None:
    """What this page's timer follows (page.live): "training" while the run trains, None once it is over."""
    return "training" if view.active else None


def main() -> None:
    page.title("Backprop through time")
    st.html(MATH_CSS)  # style only: Streamlit puts it out of the page flow
    st.write("The lab sheet's recurrent network, forward:")
    for line in FORWARD:
        equation(line)
    st.write(
        "and backward, from the last step to the first (nothing flows back into step T from later "
        "steps, so δ after T is 0):"
    )
    for line in BACKWARD:
        equation(line)
    views = session.runs().views()  # one snapshot: a run ending meanwhile is in one list or the other
    finished = [v for v in reversed(views) if v.model is not None]  # newest first
    sheet = [v for v in finished if is_sheet_network(v)]
    training = [v for v in views if v.active]
    if not finished:
        render_wait(training)
        return
    run_id = page.run_picker("Run", finished, state.BPTT_RUN, (sheet or finished)[0].run_id)
    view = find(finished, run_id)
    if not is_sheet_network(view):
        render_other_cell(view)
        if not sheet:
            coming = [v for v in training if is_sheet_network(v)]
            if coming:  # the page says this run fills it in when it ends: it is then the one shown
                st.session_state[state.BPTT_RUN] = coming[0].run_id
            render_wait(coming)
        return
    task = get_task(view.config.task)
    probes = view.started.probe_tokens
    index = page.choose(
        "Example", {p: task.render(tokens) for p, tokens in enumerate(probes)}, state.BPTT_EXAMPLE
    )
    walk = lesson.walkthrough(
        view.model.model, view.config.task, probes[index], view.started.probe_labels[index]
    )
    render_step(walk, f"{state.BPTT_STEP}_{view.run_id}_{index}")  # one slider per run and example
    st.header("Hand-written gradients beside autograd's")
    render_check(walk)
    page.chart(charts_inside.step_shares(walk.step_shares("W"), list(walk.tokens)))
    st.caption(
        "∂L/∂W is the sum of one part per step, δ_t h_(t−1)ᵀ. Each bar is how far step t's part points "
        "along the whole, ⟨part_t, ∂L/∂W⟩ / ‖∂L/∂W‖², so the bars add up to exactly 100%; a negative bar "
        "is a step whose part pulls against the total."
    )
    render_flow(view)
    render_step_through(walk, view.config)


main()
