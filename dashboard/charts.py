"""Charts as pure functions: data in, an Altair chart out (no Streamlit calls here).

Every chart uses the Okabe–Ito palette, which stays distinguishable with the common forms of
colour blindness, and every mark has a tooltip with the exact numbers.
"""

from __future__ import annotations

import functools

import altair as alt
import numpy as np
import pandas as pd

# Okabe & Ito (2008), "Color Universal Design": safe for deuteranopia, protanopia, tritanopia
PALETTE = ("#0072B2", "#E69F00", "#009E73", "#CC79A7", "#56B4E9", "#D55E00", "#F0E442", "#000000")
AFTER = "train, after epoch"  # the whole training set scored after the epoch, as the test set is
SERIES = {"train": PALETTE[0], AFTER: PALETTE[2], "test": PALETTE[1], "batch": PALETTE[4]}
EPOCH_SPLITS = ["train", AFTER, "test"]
# What each line is, for the caption under the curves.
MEANING = (
    "train: the running average over the epoch's batches, each scored before its update, as the lab "
    "sheet prints it (it lags behind the weights, so early on test can be above it); "
    "train, after epoch: the whole training set scored with the weights at the end of the epoch; "
    "test: the held-out test set, scored the same way; batch: each batch's loss."
)


def epoch_rows(epochs) -> list[dict]:
    """Per-epoch metrics (rnn_core EpochEnd events) in long form: one row per epoch and split."""
    rows = []
    for e in epochs:
        rows.append(
            {"epoch": e.epoch, "split": "train", "loss": e.train_loss, "accuracy": 100 * e.train_accuracy}
        )
        if e.train_accuracy_end is not None:
            rows.append(
                {
                    "epoch": e.epoch,
                    "split": AFTER,
                    "loss": e.train_loss_end,
                    "accuracy": 100 * e.train_accuracy_end,
                }
            )
        rows.append(
            {"epoch": e.epoch, "split": "test", "loss": e.test_loss, "accuracy": 100 * e.test_accuracy}
        )
    return rows


def batch_rows(batches, batches_per_epoch: int) -> list[dict]:
    """Per-batch loss placed in epochs (step 25 of 25 batches per epoch is epoch 1.0)."""
    per_epoch = max(batches_per_epoch, 1)
    return [
        {"step": s, "epoch": s / per_epoch, "loss": loss, "grad_norm": g, "split": "batch"}
        for s, loss, g in batches
    ]


def _colour(domain: list[str]) -> alt.Color:
    return alt.Color(
        "split:N",
        title=None,
        scale=alt.Scale(domain=domain, range=[SERIES[d] for d in domain]),
        legend=alt.Legend(orient="bottom", symbolOpacity=1),  # not the faint batch line's opacity
    )


# The live curves read named datasets, so their spec is built and validated once per process and
# each redraw only swaps the rows in (building an Altair chart costs ~20 ms; the rows ~1 ms).
EPOCHS, BATCHES = alt.NamedData(name="epochs"), alt.NamedData(name="batches")
# The whole chart, in px: Streamlit fits the title, axes and legend inside it, so this leaves a plot
# area of about 300 px, readable from the back of a room.
CURVE_HEIGHT = 420


def loss_curve() -> alt.LayerChart:
    """Loss per batch (thin) under train and test loss per epoch (lines with points)."""
    batch_layer = (
        alt.Chart(BATCHES)
        .mark_line(strokeWidth=1, opacity=0.55, aria=False)
        .encode(
            x=alt.X("epoch:Q", title="Epoch", scale=alt.Scale(domainMin=0), axis=alt.Axis(tickMinStep=1)),
            y=alt.Y("loss:Q", title="Loss L", axis=alt.Axis(format="~g")),
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
            x="epoch:Q",
            y="loss:Q",
            color=_colour(["batch", *EPOCH_SPLITS]),
            tooltip=["epoch:Q", "split:N", alt.Tooltip("loss:Q", format=".4f")],
        )
    )
    return (batch_layer + epoch_layer).properties(title="Loss", height=CURVE_HEIGHT)


def accuracy_curve() -> alt.Chart:
    """Train and test accuracy per epoch, in percent."""
    return (
        alt.Chart(EPOCHS)
        .mark_line(point=alt.OverlayMarkDef(aria=False), strokeWidth=2.5, aria=False)
        .encode(
            x=alt.X("epoch:Q", title="Epoch", scale=alt.Scale(domainMin=0), axis=alt.Axis(tickMinStep=1)),
            y=alt.Y("accuracy:Q", title="Accuracy (%)", scale=alt.Scale(domain=[0, 100])),
            color=_colour(EPOCH_SPLITS),
            tooltip=["epoch:Q", "split:N", alt.Tooltip("accuracy:Q", format=".2f", title="accuracy %")],
        )
        .properties(title="Accuracy", height=CURVE_HEIGHT)
    )


@functools.cache
def _template(name: str) -> dict:
    return {"loss": loss_curve, "accuracy": accuracy_curve}[name]().to_dict()  # validated here, once


def live_spec(name: str, **datasets: list[dict]) -> dict:
    """The Vega-Lite spec of a live chart ('loss' or 'accuracy') filled with these rows, with a
    sentence saying what it shows now (a screen reader reads it as the chart's name)."""
    return {
        **_template(name),
        "datasets": datasets,
        "description": describe(name, datasets.get("epochs", [])),
    }


def describe(name: str, epoch_rows: list[dict]) -> str:
    """'Accuracy after epoch 10 of training: train 98.4%, ...; test 96.5%, up from 68.5%.'"""
    if not epoch_rows:
        return f"{name.capitalize()} chart: no epoch finished yet."
    last = max(row["epoch"] for row in epoch_rows)
    unit = "%" if name == "accuracy" else ""
    parts = []
    for split in EPOCH_SPLITS:
        values = [row[name] for row in epoch_rows if row["split"] == split]
        if values:
            change = f", from {values[0]:.4g}{unit} after epoch 1" if len(values) > 1 else ""
            parts.append(f"{split} {values[-1]:.4g}{unit}{change}")
    return f"{name.capitalize()} after epoch {last}: " + "; ".join(parts) + "."


def confusion_chart(confusion: np.ndarray, class_names: tuple[str, ...]) -> alt.Chart:
    """Counts of (true class, predicted class) on the test set, with the numbers written in."""
    frame = pd.DataFrame(
        [
            {"true": t, "predicted": p, "count": int(confusion[i, j])}
            for i, t in enumerate(class_names)
            for j, p in enumerate(class_names)
        ]
    )
    base = alt.Chart(frame).encode(
        x=alt.X("predicted:N", title="Predicted class", sort=list(class_names), axis=alt.Axis(labelAngle=0)),
        y=alt.Y("true:N", title="True class", sort=list(class_names)),
        tooltip=["true:N", "predicted:N", "count:Q"],
    )
    cells = base.mark_rect().encode(color=alt.Color("count:Q", scale=alt.Scale(scheme="blues"), legend=None))
    labels = base.mark_text(fontSize=16).encode(
        text="count:Q",
        color=alt.condition(
            alt.datum.count > frame["count"].max() / 2, alt.value("white"), alt.value("black")
        ),
    )
    return (cells + labels).properties(title="Confusion matrix (test set)", height=220, width=260)


def prefix_chart(
    tokens: tuple[str, ...], prefix_probs: np.ndarray, class_names: tuple[str, ...]
) -> alt.Chart:
    """The probability of each class had the sequence stopped after each token."""
    labels = [f"{t + 1}: {tok}" for t, tok in enumerate(tokens)]
    frame = pd.DataFrame(
        [
            {
                "position": label,
                "step": t + 1,
                "token": tokens[t],
                "class": name,
                "probability": float(prefix_probs[t, c]),
            }
            for t, label in enumerate(labels)
            for c, name in enumerate(class_names)
        ]
    )
    return (
        alt.Chart(frame)
        .mark_line(point=True, strokeWidth=2.5)
        .encode(
            x=alt.X("position:N", title="After token", sort=labels, axis=alt.Axis(labelAngle=0)),
            y=alt.Y("probability:Q", title="Probability", scale=alt.Scale(domain=[0, 1])),
            color=alt.Color(
                "class:N",
                scale=alt.Scale(domain=list(class_names), range=list(PALETTE[: len(class_names)])),
                legend=alt.Legend(orient="bottom", title=None),
            ),
            tooltip=["step:Q", "token:N", "class:N", alt.Tooltip("probability:Q", format=".4f")],
        )
        .properties(title="What the network would say if the sequence stopped here", height=260)
    )


PERCENT = alt.Axis(format="%")


def probability_bars(probs: np.ndarray, class_names: tuple[str, ...]) -> alt.LayerChart:
    """One bar per class, with its probability written at the bar's end."""
    frame = pd.DataFrame({"class": list(class_names), "probability": [float(p) for p in probs]})
    base = alt.Chart(frame).encode(
        x=alt.X(
            "probability:Q", scale=alt.Scale(domain=[0, 1]), title="Probability", axis=alt.Axis(format="%")
        ),
        y=alt.Y("class:N", title=None, sort=list(class_names), axis=alt.Axis(labelFontSize=14)),
        tooltip=["class:N", alt.Tooltip("probability:Q", format=".4f")],
    )
    bars = base.mark_bar(aria=False).encode(
        color=alt.Color(
            "class:N",
            scale=alt.Scale(domain=list(class_names), range=list(PALETTE[: len(class_names)])),
            legend=None,
        )
    )
    values = base.mark_text(align="left", dx=4, fontSize=14, aria=False).encode(
        text=alt.Text("probability:Q", format=".1%")
    )
    # Streamlit fits the axis inside the chart's height: ~50 px per bar plus the axis
    return (bars + values).properties(height=50 * len(class_names) + 70)
