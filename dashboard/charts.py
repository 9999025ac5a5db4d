"""Charts as pure functions: data in, a Vega-Lite spec out (no Streamlit calls here). Each spec is
written with Altair, built once per shape (a task's classes, a run's epochs), and filled with each
drawing's rows as named data (`filled`): a class asks for every page again and again.

Every chart uses the Okabe–Ito palette, which stays distinguishable with the common forms of
colour blindness, and every mark has a tooltip with the exact numbers.
"""

from __future__ import annotations

import functools
from collections.abc import Iterable

import altair as alt
import numpy as np

# Imported whole before any chart is built: Altair looks pandas up in sys.modules without importing
# it, and if pandas is first imported lazily (by Streamlit, while one session sends a chart), another
# session building a chart meanwhile finds it half imported: "AttributeError: partially initialized
# module 'pandas' has no attribute 'Timestamp'" (tests/test_protocol.py, on a fresh server).
import pandas  # noqa: F401

from rnn_core.events import BatchEnd
from rnn_core.words import percent

# Okabe & Ito (2008), "Color Universal Design": safe for deuteranopia, protanopia, tritanopia
PALETTE = ("#0072B2", "#E69F00", "#009E73", "#CC79A7", "#56B4E9", "#D55E00", "#F0E442", "#000000")
AFTER = "train, after epoch"  # the whole training set scored after the epoch, as the test set is
SERIES = {"train": PALETTE[0], AFTER: PALETTE[2], "test": PALETTE[1], "batch": PALETTE[4]}
EPOCH_SPLITS = ["train", AFTER, "test"]
# What each line is: the captions under the Train page's curves and under Compare's.
SPLIT_MEANING = {
    "train": "the running average over the epoch's batches, each scored before its update, as the lab "
    "sheet prints it",
    AFTER: "the whole training set scored with the weights at the end of the epoch",
    "test": "the held-out test set, scored with the weights at the end of the epoch",
    "batch": "each batch's loss",
}
MEANING = (
    f"train: {SPLIT_MEANING['train']} (it lags behind the weights, so early on test can be above it); "
    + "; ".join(f"{split}: {SPLIT_MEANING[split]}" for split in (AFTER, "test", "batch"))
    + "."
)


def epoch_rows(epochs, metric: str) -> list[dict]:
    """One metric ('loss', or 'accuracy' in percent) of per-epoch rnn_core EpochEnd events in long
    form: a row per epoch and split. These rows are what the chart's "Show data" lists, so a chart
    gets its own metric only; an accuracy also `rounded`, as its tooltip says it (accuracy_words)."""
    if metric not in ("loss", "accuracy"):
        raise ValueError(f"epoch_rows draws 'loss' or 'accuracy', not {metric!r}")
    rows = []
    for e in epochs:
        splits = [("train", e.train_loss, e.train_accuracy)]
        if e.train_accuracy_end is not None:
            splits.append((AFTER, e.train_loss_end, e.train_accuracy_end))
        splits.append(("test", e.test_loss, e.test_accuracy))
        for split, loss, accuracy in splits:
            row = {"epoch": e.epoch, "split": split}
            if metric == "loss":
                rows.append(row | {"loss": loss})
            else:  # accuracy
                rows.append(row | {"accuracy": 100 * accuracy, "rounded": accuracy_words(100 * accuracy)})
    return rows


def batch_rows(batches: Iterable[BatchEnd], batches_per_epoch: int) -> list[dict]:
    """Per-batch loss (rnn_core BatchEnd events) placed in epochs (step 25 of 25 per epoch is 1.0)."""
    per_epoch = max(batches_per_epoch, 1)
    return [
        {"step": b.step, "epoch": b.step / per_epoch, "loss": b.loss, "grad_norm": b.grad_norm,
         "split": "batch"}
        for b in batches
    ]  # fmt: skip


def _colour(domain: list[str]) -> alt.Color:
    return alt.Color(
        "split:N",
        title=None,
        scale=alt.Scale(domain=domain, range=[SERIES[d] for d in domain]),
        # two to a row: in one row, a half-width chart on a 1024-px laptop cut off "test"; full colour,
        # not the faint batch line's opacity
        legend=alt.Legend(columns=2, symbolOpacity=1),
    )


# Text sizes (px) and a height factor for a laptop and for a projector seen from the back of a
# room. Vega-Lite's defaults (10-11 px ticks) are too small for either.
TEXT = {
    False: {"label": 13, "title": 14, "heading": 16, "height": 1.0},
    True: {"label": 18, "title": 20, "heading": 24, "height": 1.35},
}


def readable(spec: dict, projector: bool = False) -> dict:
    """A chart's Vega-Lite spec with text large enough to read (and taller, on a projector)."""
    size = TEXT[projector]
    axis = {"labelFontSize": size["label"], "titleFontSize": size["title"]}
    config = {
        **spec.get("config", {}),
        "axis": axis,
        "legend": {
            # under the plot, never beside it: beside, on a 360-px phone, Compare's keys left the plot
            # 170 of the chart's 300 px (each chart says how many keys go to a row)
            "orient": "bottom",
            "labelFontSize": size["label"],
            "titleFontSize": size["title"],
            "symbolSize": 120,
            "labelLimit": 0,  # no limit: Vega's 160 px cut "the sheet's RNN (ta…" on a projector
        },
        "title": {"fontSize": size["heading"], "subtitleFontSize": size["label"]},
        "text": {"fontSize": size["title"]},  # numbers written on a chart (counts, probabilities)
    }
    # "fit-x": the chart fills the column's width, and its height is the plot area's own (Streamlit's
    # default "fit" squeezes the title, axes and legend into the height and leaves the plot little)
    out = {**spec, "config": config, "autosize": {"type": "fit-x", "contains": "padding"}}
    if isinstance(spec.get("height"), int | float):
        out["height"] = round(spec["height"] * size["height"])
    return out


def filled(spec: dict, data: alt.NamedData, rows: list[dict], description: str) -> dict:
    """A chart drawn again and again: its spec, built and validated once (cached by what shapes it),
    with this drawing's rows as named data and its sentence.

    Building an Altair chart costs 20-100 ms of the server's time (py-spy, BENCHMARKS.md), the rows
    about 1 ms; and the browser only swaps the rows of a chart whose spec has not changed, where it
    rebuilds one that has. The live curves and Compare's curves are built the same way.
    """
    return {**spec, "datasets": {data.name: rows}, "description": description}


def in_order_of(field: str) -> alt.EncodingSortField:
    """Labels along an axis in the order of a number in their rows (a time step): one spec for every
    sequence. A list of the labels themselves ("1: 3", "2: 1", ...) made the spec one sequence's, so
    each student's first drawing built and validated it again."""
    return alt.EncodingSortField(field=field, op="min")


# The live curves read named datasets (see `filled`).
EPOCHS, BATCHES = alt.NamedData(name="epochs"), alt.NamedData(name="batches")
# Heights are the plot area's, in px (`readable` sizes the title, axes and legend around it): at least
# 300 px for a curve, readable from the back of a room, and 1.35 times that on a projector.
CURVE_HEIGHT = 320


def epoch_axis(total_epochs: int) -> alt.X:
    """Epochs from 0 to the run's last: the curves grow left to right instead of rescaling, and the
    axis ends at the last epoch (Vega-Lite would round a layered chart's end up to a "nice" 16)."""
    return alt.X(
        "epoch:Q",
        title="Epoch",
        scale=alt.Scale(domain=[0, total_epochs], nice=False),
        axis=alt.Axis(tickMinStep=1),
    )


def loss_curve(total_epochs: int = 10, empty: bool = False) -> alt.LayerChart:
    """Loss per batch (thin) under train and test loss per epoch (lines with points); before the
    first epoch (`empty`) the loss axis spans 0 to 1 rather than a lone 0."""
    batch_layer = (
        alt.Chart(BATCHES)
        .mark_line(strokeWidth=1, opacity=0.55, aria=False)
        .encode(
            x=epoch_axis(total_epochs),
            y=alt.Y(
                "loss:Q",
                title="Loss L",
                axis=alt.Axis(format="~g"),
                scale=alt.Scale(domain=[0, 1]) if empty else alt.Undefined,
            ),
            color=_colour(["batch", *EPOCH_SPLITS]),
            tooltip=[
                alt.Tooltip("step:Q", title="batch"),
                alt.Tooltip("loss:Q", format=".4f"),
                alt.Tooltip("grad_norm:Q", title="‖∂L/∂θ‖ before clipping", format=".4f"),
            ],
        )
    )
    epoch_layer = (
        alt.Chart(EPOCHS)
        .mark_line(point=alt.OverlayMarkDef(aria=False), strokeWidth=2.5, aria=False)
        .encode(
            x=epoch_axis(total_epochs),
            y="loss:Q",
            color=_colour(["batch", *EPOCH_SPLITS]),
            tooltip=["epoch:Q", "split:N", alt.Tooltip("loss:Q", format=".4f")],
        )
    )
    return (batch_layer + epoch_layer).properties(title="Loss", height=CURVE_HEIGHT)


def accuracy_curve(total_epochs: int = 10) -> alt.Chart:
    """Train and test accuracy per epoch, in percent."""
    return (
        alt.Chart(EPOCHS)
        .mark_line(point=alt.OverlayMarkDef(aria=False), strokeWidth=2.5, aria=False)
        .encode(
            x=epoch_axis(total_epochs),
            y=alt.Y("accuracy:Q", title="Accuracy (%)", scale=alt.Scale(domain=[0, 100])),
            color=_colour(EPOCH_SPLITS),
            tooltip=["epoch:Q", "split:N", alt.Tooltip("rounded:N", title="accuracy")],
        )
        .properties(title="Accuracy", height=CURVE_HEIGHT)
    )


@functools.cache
def _template(name: str, total_epochs: int, empty: bool) -> dict:
    if name == "loss":
        return loss_curve(total_epochs, empty).to_dict()  # validated here, once per run length
    return accuracy_curve(total_epochs).to_dict()


def live_spec(name: str, total_epochs: int = 10, training: bool = False, **datasets: list[dict]) -> dict:
    """The Vega-Lite spec of a live chart ('loss' or 'accuracy') of a run of `total_epochs`, filled
    with these rows, with a sentence saying what it shows (a screen reader reads it as the chart's
    name).

    While the run is `training`, that sentence is brought up to date every tenth of the run, not at
    every epoch. The browser rebuilds a chart whose spec has changed, but only swaps the rows of one
    whose spec is the same, and the sentence is part of the spec: describing every epoch rebuilt both
    curves at almost every redraw (BENCHMARKS.md, "A student's browser while a run trains")."""
    epochs = datasets.get("epochs", [])
    if training and epochs:
        every = max(1, total_epochs // 10)
        said = max(1, max(row["epoch"] for row in epochs) // every * every)  # epoch 1, then each tenth
        description = describe(name, [row for row in epochs if row["epoch"] <= said])
        if every > 1:
            description += f" While it trains, this is brought up to date every {every} epochs."
    else:
        description = describe(name, epochs)
    return {
        **_template(name, total_epochs, not epochs and not datasets.get("batches")),
        "datasets": datasets,
        "description": description,
    }


def describe(name: str, epoch_rows: list[dict]) -> str:
    """'Accuracy after epoch 10 of training: train 98.4%, ...; test 96.5%, up from 68.5%.'"""
    if not epoch_rows:
        return f"{name.capitalize()} chart: no epoch finished yet."
    last = max(row["epoch"] for row in epoch_rows)
    parts = []
    for split in EPOCH_SPLITS:
        values = [row[name] for row in epoch_rows if row["split"] == split]
        if values:
            change = f", from {in_words(name, values[0])} after epoch 1" if len(values) > 1 else ""
            parts.append(f"{split} {in_words(name, values[-1])}{change}")
    return f"{name.capitalize()} after epoch {last}: " + "; ".join(parts) + "."


def in_words(name: str, value: float) -> str:
    """How a chart's sentence writes a value: a loss to four significant digits, or an accuracy (in %,
    `name` "accuracy") as words.percent writes it at four."""
    return percent(value / 100, exact_ends=True, significant=4) if name == "accuracy" else f"{value:.4g}"


def accuracy_words(accuracy: float) -> str:
    """An accuracy in percent (a chart's y, 0-100) as a tooltip, a table and the Train page's metric
    write it: with the lab sheet's two decimals, and never "100.00%" when a prediction was wrong
    (words.percent)."""
    return percent(accuracy / 100, exact_ends=True, decimals=2)


CELLS = alt.NamedData(name="cells")  # the confusion matrix's cells


@functools.cache
def _confusion_spec(class_names: tuple[str, ...]) -> dict:
    base = alt.Chart(CELLS).encode(
        x=alt.X("predicted:N", title="Predicted class", sort=list(class_names), axis=alt.Axis(labelAngle=0)),
        y=alt.Y("true:N", title="True class", sort=list(class_names)),
        tooltip=["true:N", "predicted:N", "count:Q"],
    )
    cells = base.mark_rect().encode(color=alt.Color("count:Q", scale=alt.Scale(scheme="blues"), legend=None))
    # a number on a cell darker than half the largest count is written in white; worked out in the
    # chart, so the rows ("Show data") hold only what a student reads: true, predicted, count
    labels = (
        base.mark_text()
        .transform_joinaggregate(most="max(count)")
        .encode(
            text="count:Q",
            color=alt.condition("datum.count > datum.most / 2", alt.value("white"), alt.value("black")),
        )
    )
    return (cells + labels).properties(title="Confusion matrix (test set)", height=300, width=300).to_dict()


def confusion_chart(confusion: np.ndarray, class_names: tuple[str, ...]) -> dict:
    """Counts of (true class, predicted class) on the test set, with the numbers written in."""
    cells = [
        {"true": t, "predicted": p, "count": int(confusion[i, j])}
        for i, t in enumerate(class_names)
        for j, p in enumerate(class_names)
    ]
    right, total = int(np.trace(confusion)), int(confusion.sum())
    mistakes = [
        f"{int(confusion[i, j])} {t} taken for {p}"
        for i, t in enumerate(class_names)
        for j, p in enumerate(class_names)
        if i != j and confusion[i, j]
    ]
    text = f"Confusion matrix of the test set: {right} of {total} sequences classified right"
    text += f"; {', '.join(mistakes)}." if mistakes else "."
    return filled(_confusion_spec(tuple(class_names)), CELLS, cells, text)


PREFIXES, CLASSES = alt.NamedData(name="prefixes"), alt.NamedData(name="classes")  # the Try it charts


def prefix_chart(tokens: tuple[str, ...], prefix_probs: np.ndarray, class_names: tuple[str, ...]) -> dict:
    """The probability of each class had the sequence stopped after each token."""
    labels = tuple(f"{t + 1}: {tok}" for t, tok in enumerate(tokens))
    rows = [
        {"position": label, "step": t + 1, "token": tokens[t], "class": name,
         "probability": float(prefix_probs[t, c])}
        for t, label in enumerate(labels)
        for c, name in enumerate(class_names)
    ]  # fmt: skip
    description = describe_prefixes(tokens, prefix_probs, class_names)
    return filled(_prefix_spec(tuple(class_names)), PREFIXES, rows, description)


@functools.cache  # per task: Try it is drawn again at every click
def _prefix_spec(class_names: tuple[str, ...]) -> dict:
    return (
        alt.Chart(PREFIXES)
        .mark_line(point=True, strokeWidth=2.5)
        .encode(
            x=alt.X("position:N", title="After token", sort=in_order_of("step"), axis=alt.Axis(labelAngle=0)),
            y=alt.Y("probability:Q", title="Probability", scale=alt.Scale(domain=[0, 1])),
            color=alt.Color(
                "class:N",
                scale=alt.Scale(domain=list(class_names), range=list(PALETTE[: len(class_names)])),
                legend=alt.Legend(title=None),
            ),
            tooltip=["step:Q", "token:N", "class:N", alt.Tooltip("probability:Q", format=".4f")],
        )
        .properties(title=["What the network would say", "if the sequence stopped here"], height=320)
        .to_dict()
    )


def describe_prefixes(tokens: tuple[str, ...], prefix_probs: np.ndarray, class_names: tuple[str, ...]) -> str:
    """'After token 1 (9) the network says high (62.0%); after the last, token 10 (9), high (> 99.9%).'"""

    def said(t: int) -> str:
        c = int(np.argmax(prefix_probs[t]))
        return f"{class_names[c]} ({percent(prefix_probs[t, c])})"

    last = len(tokens) - 1
    text = f"After token 1 ({tokens[0]}) the network says {said(0)}"
    return text + (f"; after the last, token {last + 1} ({tokens[last]}), {said(last)}." if last else ".")


PERCENT = alt.Axis(format="%")


def probability_bars(probs: np.ndarray, class_names: tuple[str, ...]) -> dict:
    """One bar per class, with its probability written at the bar's end."""
    rows = [
        {"class": name, "probability": float(p), "rounded": percent(p)}
        for name, p in zip(class_names, probs, strict=True)
    ]
    said = ", ".join(f"{name} {row['rounded']}" for name, row in zip(class_names, rows, strict=True))
    return filled(_bars_spec(tuple(class_names)), CLASSES, rows, f"Class probabilities: {said}.")


@functools.cache
def _bars_spec(class_names: tuple[str, ...]) -> dict:
    base = alt.Chart(CLASSES).encode(
        x=alt.X(
            "probability:Q", scale=alt.Scale(domain=[0, 1]), title="Probability", axis=alt.Axis(format="%")
        ),
        y=alt.Y("class:N", title=None, sort=list(class_names)),
        tooltip=["class:N", alt.Tooltip("probability:Q", format=".4f")],
    )
    bars = base.mark_bar(aria=False).encode(
        color=alt.Color(
            "class:N",
            scale=alt.Scale(domain=list(class_names), range=list(PALETTE[: len(class_names)])),
            legend=None,
        )
    )
    values = base.mark_text(align="left", dx=4, aria=False).encode(text="rounded:N")  # words.percent
    # 50 px per class: a clearly sized bar with its label, however many classes
    return (bars + values).properties(height=50 * len(class_names)).to_dict()
