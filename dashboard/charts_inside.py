"""Charts of the look-inside pages: hidden states, gradient flow through time, compared runs.

Pure functions like dashboard.charts (data in, a Vega-Lite spec built once per shape and filled with
the rows: `charts.filled`; no Streamlit calls), in the same colour-blind-safe palette, with exact
values in every tooltip.
"""

from __future__ import annotations

import functools
import math
import statistics

import altair as alt
import numpy as np
import pandas as pd

from dashboard.charts import PALETTE, accuracy_words, epoch_axis, filled, in_order_of, in_words
from rnn_core.words import percent

# Hidden states redraws its two charts every second while a run trains and at each replay frame.
UNITS, PATHS = alt.NamedData(name="units"), alt.NamedData(name="paths")


def hidden_heatmap(hidden: np.ndarray, tokens: list[str]) -> dict:
    """h_t as colour: one column per time step (labelled with its token), one row per hidden unit."""
    steps = [f"{t + 1}: {tok}" for t, tok in enumerate(tokens)]
    rows = [
        {"step": steps[t], "t": t + 1, "token": tokens[t], "unit": unit, "value": float(hidden[t, unit])}
        for t in range(hidden.shape[0])
        for unit in range(hidden.shape[1])
    ]
    # tanh stays in [-1, 1]; relu may go beyond, to the next half above its largest |h_t|: a relu run's
    # values move at every drawing, and each new limit is a new spec to build (60-100 ms)
    limit = max(1.0, math.ceil(2 * float(np.abs(hidden).max())) / 2)
    height = min(max(12 * hidden.shape[1], 300), 480)
    return filled(_heatmap_spec(limit, height), UNITS, rows, describe_hidden(hidden, tokens))


@functools.lru_cache(maxsize=256)
def _heatmap_spec(limit: float, height: int) -> dict:
    return (
        alt.Chart(UNITS)
        .mark_rect()
        .encode(
            x=alt.X(
                "step:N", title="Time step t: token x_t", sort=in_order_of("t"), axis=alt.Axis(labelAngle=0)
            ),
            y=alt.Y("unit:O", title="Hidden unit"),
            color=alt.Color(
                "value:Q",
                title="h_t",
                scale=alt.Scale(scheme="blueorange", domain=[-limit, limit], domainMid=0),
            ),
            tooltip=["t:Q", "token:N", "unit:O", alt.Tooltip("value:Q", format=".4f", title="h_t[unit]")],
        )
        .properties(title="Hidden state h_t, unit by unit", height=height)
        .to_dict()
    )


def describe_hidden(hidden: np.ndarray, tokens: list[str]) -> str:
    """'h_t of 32 units over 10 steps, from -0.98 to 1.00; at the last step (9) 12 units are above
    0.5 and 8 below -0.5.'"""
    last = hidden[-1]
    return (
        f"h_t of {hidden.shape[1]} units over {hidden.shape[0]} steps, values from {hidden.min():.2f} to "
        f"{hidden.max():.2f}; at the last step ({tokens[-1]}) {int((last > 0.5).sum())} units are above 0.5 "
        f"and {int((last < -0.5).sum())} below -0.5."
    )


# Classes in the trajectory view: green and purple, never the heatmap's blue and orange (which mean
# negative and positive h_t there); a typed sequence is black.
CLASS_COLOURS = (PALETTE[2], PALETTE[3], PALETTE[5], PALETTE[7])


def trajectory_plot(points: list[dict], class_names: tuple[str, ...]) -> dict:
    """Hidden-state paths h_1..h_T in the 2-D PCA view, one line per sequence, coloured by class.

    Each of `points` has sequence, step, token, class, pc1, pc2, last; class 'yours' marks a typed
    sequence. Thin faint paths, a hollow square where each starts (h_1) and a large dot where it
    ends (h_T, what the output layer reads), so the direction of travel and the end points read
    at a glance.
    """
    spec = _trajectory_spec(tuple(class_names), any(point["class"] == "yours" for point in points))
    return filled(spec, PATHS, points, describe_trajectories(points))


@functools.lru_cache(maxsize=64)
def _trajectory_spec(class_names: tuple[str, ...], typed: bool) -> dict:
    domain = [*class_names, "yours"] if typed else list(class_names)
    colours = [*CLASS_COLOURS[: len(class_names)], "#000000"][: len(domain)]
    colour = alt.Color(
        "class:N",
        title="Class",
        scale=alt.Scale(domain=domain, range=colours),
        legend=alt.Legend(symbolOpacity=1),  # not the faint paths' opacity
    )
    base = alt.Chart(PATHS).encode(
        x=alt.X("pc1:Q", title="Principal component 1"),
        y=alt.Y("pc2:Q", title="Principal component 2"),
        color=colour,
        detail="sequence:N",
        order="step:Q",
        tooltip=[
            "sequence:N",
            "step:Q",
            "token:N",
            "class:N",
            alt.Tooltip("pc1:Q", format=".3f"),
            alt.Tooltip("pc2:Q", format=".3f"),
        ],
    )
    paths = base.mark_line(strokeWidth=1, opacity=0.35, aria=False)
    starts = base.transform_filter(alt.datum.step == 1).mark_point(shape="square", size=40, aria=False)
    ends = base.transform_filter(alt.datum.last).mark_point(
        filled=True, size=140, stroke="#0E1117", strokeWidth=0.8, aria=False
    )
    return (
        (paths + starts + ends)
        .properties(
            # in lines: Vega cuts a title wider than the chart with "…", as it did on a phone
            title=alt.Title(
                "Trajectories of h_1 ... h_T",
                subtitle=["squares: h_1; dots: h_T,", "the state that is read out"],
            ),
            height=420,
        )
        .to_dict()
    )


def describe_trajectories(points: list[dict]) -> str:
    """Where each class's paths end (the mean of its h_T in the PCA view), in a sentence."""
    ends: dict[str, list[tuple[float, float]]] = {}  # class -> end points, classes in order of appearance
    for point in points:
        if point["last"]:
            ends.setdefault(point["class"], []).append((point["pc1"], point["pc2"]))
    where = "; ".join(
        f"{name} at ({statistics.fmean(x for x, _ in xy):.2f}, {statistics.fmean(y for _, y in xy):.2f})"
        for name, xy in ends.items()
    )
    count = len({point["sequence"] for point in points})
    return f"Paths of {count} sequences in the PCA view; their end points h_T lie on average: {where}."


# Backprop's charts: its page is drawn whole at each visit
SHARES, FLOW = alt.NamedData(name="shares"), alt.NamedData(name="flow")


def step_shares(shares: np.ndarray, tokens: list[str]) -> dict:
    """Each time step's share of ∂L/∂W (lesson.Walkthrough.step_shares): the bars add up to 100%."""
    rows = [
        {"step": f"{t + 1}: {tok}", "t": t + 1, "share": float(share)}
        for t, (tok, share) in enumerate(zip(tokens, shares, strict=True))
    ]
    return filled(_shares_spec(), SHARES, rows, describe_shares(shares, tokens))


@functools.cache
def _shares_spec() -> dict:
    return (
        alt.Chart(SHARES)
        .mark_bar(color=PALETTE[0])
        .encode(
            x=alt.X("step:N", sort=in_order_of("t"), title="Time step t", axis=alt.Axis(labelAngle=0)),
            y=alt.Y("share:Q", title="Share of ∂L/∂W (sums to 100%)", axis=alt.Axis(format="%")),
            tooltip=["t:Q", alt.Tooltip("share:Q", format=".2%")],
        )
        .properties(title=["Where ∂L/∂W comes from:", "each step's contribution"], height=300)
        .to_dict()
    )


def describe_shares(shares: np.ndarray, tokens: list[str]) -> str:
    """'Step 10 (9) gives the largest share of ∂L/∂W, 45.2%; the first step gives 3.1%.' The first
    step's part of ∂L/∂W is δ_1 h_0ᵀ, exactly zero when h_0 = 0 (the sheet's start), and said so."""
    top = int(np.argmax(shares))
    first = "nothing, since h_0 = 0" if shares[0] == 0 else _share(shares[0])
    return (
        f"Step {top + 1} ({tokens[top]}) gives the largest share of ∂L/∂W, {_share(shares[top])}; "
        f"the first step gives {first}."
    )


def _share(share: float) -> str:
    """A signed share in %, to one decimal, or to two significant digits where one decimal would
    write a share that is not zero as 0.0% ('0.031%', '-0.0042%')."""
    shown = f"{100 * float(share):.1f}%"
    return f"{100 * float(share):.2g}%" if share != 0 and float(shown[:-1]) == 0 else shown


def gradient_flow(series: dict[str, np.ndarray] | np.ndarray, title: str) -> dict:
    """‖∂L/∂h_t‖ against how far back t is from the last step, log scale; one line per series."""
    if not isinstance(series, dict):
        series = {"‖∂L/∂h_t‖": series}
    rows = [
        {"series": name, "back": len(norms) - 1 - t, "t": t + 1, "norm": max(float(n), 1e-300)}
        for name, norms in series.items()
        for t, n in enumerate(norms)
        if np.isfinite(n)  # an overflowed norm cannot be drawn on a log axis
    ]
    return filled(_flow_spec(tuple(series), title), FLOW, rows, describe_flow(rows))


@functools.lru_cache(maxsize=64)
def _flow_spec(names: tuple[str, ...], title: str) -> dict:
    return (
        alt.Chart(FLOW)
        .mark_line(point=True)
        .encode(
            x=alt.X("back:Q", title="Steps back from the end (T - t)"),
            y=alt.Y("norm:Q", title="‖∂L/∂h_t‖", scale=alt.Scale(type="log")),
            color=alt.Color(
                "series:N",
                title=None,
                scale=alt.Scale(domain=list(names), range=[PALETTE[5], PALETTE[0]][: len(names)]),
                legend=alt.Legend(columns=1),  # side by side, wider than a phone
            ),
            tooltip=["series:N", "t:Q", "back:Q", alt.Tooltip("norm:Q", format=".3e")],
        )
        .properties(title=title, height=320)
        .to_dict()
    )


def describe_flow(rows: list[dict]) -> str:
    """'‖∂L/∂h_t‖ goes from 1.2e-01 at the last step to 3.4e-05 at 39 steps back.' per series."""
    parts = []
    for name in dict.fromkeys(row["series"] for row in rows):
        mine = sorted((row["back"], row["norm"]) for row in rows if row["series"] == name)
        (first_back, first), (last_back, last) = mine[0], mine[-1]
        parts.append(
            f"{name} goes from {first:.1e} at {first_back} steps back to {last:.1e} at {last_back} steps back"
        )
    return "; ".join(parts) + "." if parts else "No finite gradient norm to draw."


# The compared runs' rows, a named dataset: see compare_curves.
RUNS = alt.NamedData(name="runs")


def compare_curves(
    rows: pd.DataFrame,
    metric: str,
    title: str,
    epochs: int,
    training: tuple[str, ...] = (),
    percent: bool = False,
) -> dict:
    """One line per run over epochs; `rows` has columns run, epoch and `metric` (any other is left
    out: the rows are what the chart's "Show data" lists), and `training` names the runs still
    training. The axes stay put while runs train, as on the Train page: epochs
    from 0 to `epochs` (the longest run's), and a metric in percent (`percent`) from 0 to 100.

    The Vega-Lite spec reads its rows from a named dataset, and its sentence names the runs still
    training instead of their numbers, so that while they train the spec stays the same and the
    browser only swaps the rows in at each redraw, as with the Train page's curves (charts.live_spec).
    """
    rows = rows[["run", "epoch", metric]]
    runs = tuple(dict.fromkeys(rows["run"]))
    description = describe_runs(rows, metric, title, training, percent)
    if percent:  # what the tooltip says (charts.accuracy_words)
        rows = rows.assign(rounded=rows[metric].map(accuracy_words))
    return filled(
        _compare_spec(metric, title, runs, epochs, percent), RUNS, rows.to_dict("records"), description
    )


# Compare's keys, three to a row under the plot (charts.readable puts every chart's keys there).
UNDER_THE_PLOT = alt.Legend(columns=3)


@functools.lru_cache(maxsize=256)
def _compare_spec(metric: str, title: str, runs: tuple[str, ...], epochs: int, percent: bool) -> dict:
    said = alt.Tooltip("rounded:N", title=title) if percent else alt.Tooltip(f"{metric}:Q", format=".4f")
    chart = (
        alt.Chart(RUNS)
        .mark_line(point=True, strokeWidth=2.5)
        .encode(
            x=epoch_axis(epochs),
            y=alt.Y(
                f"{metric}:Q", title=title, scale=alt.Scale(domain=[0, 100]) if percent else alt.Undefined
            ),
            color=alt.Color(
                "run:N",
                title="Run",
                scale=alt.Scale(domain=list(runs), range=list(PALETTE[: len(runs)])),
                legend=UNDER_THE_PLOT,
            ),
            tooltip=["run:N", "epoch:Q", said],
        )
        .properties(title=title, height=320)
    )
    return chart.to_dict()


def describe_runs(
    rows: pd.DataFrame, metric: str, title: str, training: tuple[str, ...] = (), percent: bool = False
) -> str:
    """'Test accuracy (%) at each run's last epoch: Run 1 96.5% (epoch 10); Run 2 still training
    (named here when it ends).' A metric in percent as the Train page's sentences write one."""
    done = rows[~rows["run"].isin(training)].reset_index(drop=True)  # idxmax gives index labels
    last = done.loc[done.groupby("run", sort=False)["epoch"].idxmax()]  # each run's last epoch, in run order
    kind = "accuracy" if percent else metric  # how a value is written (charts.in_words)
    said = [f"{row.run} {in_words(kind, row[metric])} (epoch {row.epoch})" for _, row in last.iterrows()]
    going = [run for run in dict.fromkeys(rows["run"]) if run in training]
    if going:
        when = "they end" if len(going) > 1 else "it ends"
        said.append(f"{' and '.join(going)} still training (named here when {when})")
    return f"{title} at each run's last epoch: {'; '.join(said)}."


SWEEP = alt.NamedData(name="sweep")  # an experiment's runs, one point each


def sweep_curve(rows: pd.DataFrame, x_title: str) -> dict:
    """Final test accuracy against one setting, one line per value of another; `rows` has columns
    line, x and accuracy (%)."""
    lines = tuple(dict.fromkeys(rows["line"]))
    description = (
        "Test accuracy at the end of each run: "
        + "; ".join(
            f"{line} "
            + ", ".join(
                f"{percent(row.accuracy / 100, exact_ends=True)} at {row.x}" for _, row in part.iterrows()
            )
            for line, part in rows.groupby("line", sort=False)
        )
        + f" ({x_title.lower()})."
    )
    rows = rows.assign(rounded=rows["accuracy"].map(accuracy_words))  # what the tooltip says
    return filled(_sweep_spec(x_title, lines), SWEEP, rows.to_dict("records"), description)


@functools.lru_cache(maxsize=64)
def _sweep_spec(x_title: str, lines: tuple[str, ...]) -> dict:
    return (
        alt.Chart(SWEEP)
        .mark_line(point=alt.OverlayMarkDef(size=80), strokeWidth=2.5)
        .encode(
            x=alt.X("x:O", title=x_title, axis=alt.Axis(labelAngle=0)),
            y=alt.Y("accuracy:Q", title="Test accuracy (%)", scale=alt.Scale(domain=[0, 100])),
            color=alt.Color(
                "line:N",
                title=None,
                scale=alt.Scale(domain=list(lines), range=list(PALETTE[: len(lines)])),
                legend=UNDER_THE_PLOT,
            ),
            tooltip=[
                "line:N",
                alt.Tooltip("x:O", title=x_title),
                alt.Tooltip("rounded:N", title="test accuracy"),
            ],
        )
        .properties(title="Test accuracy at the end of each run", height=320)
        .to_dict()
    )
