"""A one-file lab report of a finished run, in Markdown: what a student hands in.

It holds everything needed to reproduce and judge the run: the config (with its seed), the
library versions, the network in the lab sheet's notation (as the exported notebook writes it), the
epoch log in the lab sheet's format, the curves as a table, the test result and the confusion
matrix. Plain text, so it opens anywhere and diffs cleanly.
"""

from __future__ import annotations

import csv
import io
import platform
from collections.abc import Sequence
from dataclasses import asdict
from datetime import UTC, datetime
from importlib import metadata

import numpy as np

from .config import TrainConfig
from .cost import parameter_count
from .events import EpochEnd, RunFinished
from .notebook_text import network, network_title
from .tasks import get_task

LIBRARIES = ("torch", "numpy", "safetensors", "streamlit", "altair", "pandas")


def library_versions() -> dict[str, str]:
    """Python and the installed versions of the libraries RNN Lab uses (without importing them)."""
    versions = {"python": platform.python_version()}
    for name in LIBRARIES:
        try:
            versions[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            versions[name] = "not installed"
    return versions


def metrics_csv(history: Sequence[EpochEnd]) -> str:
    """The per-epoch curves as CSV, one row per epoch."""
    out = io.StringIO()
    columns = [f.name for f in EpochEnd.__dataclass_fields__.values()]
    writer = csv.DictWriter(out, fieldnames=columns, lineterminator="\n")
    writer.writeheader()
    writer.writerows(asdict(e) for e in history)
    return out.getvalue()


def confusion_table(confusion: np.ndarray, class_names: tuple[str, ...]) -> str:
    header = "| true \\ predicted | " + " | ".join(class_names) + " |"
    rule = "|---" * (len(class_names) + 1) + "|"
    rows = [
        f"| {name} | " + " | ".join(str(int(n)) for n in row) + " |"
        for name, row in zip(class_names, confusion, strict=True)
    ]
    return "\n".join([header, rule, *rows])


def lab_report(
    config: TrainConfig, history: Sequence[EpochEnd], finished: RunFinished, when: datetime | None = None
) -> str:
    """The whole report of a run as Markdown text: its config, its epochs and how it ended."""
    task = get_task(config.task)
    when = when or datetime.now(UTC)
    lines = [
        "# RNN Lab report",
        "",
        f"Generated {when:%Y-%m-%d %H:%M} UTC. Task: **{task.title}** (`{task.name}`).",
        "",
        task.explanation,
        "",
        "## Setup",
        "",
        "| setting | value |",
        "|---|---|",
        *[f"| {name} | {value} |" for name, value in config.to_dict().items()],
        "",
        f"Seed **{config.seed}**: the same settings and seed reproduce this run exactly:",
        "",
        f"    {config.command_line()}",
        "",
        "Libraries: " + ", ".join(f"{k} {v}" for k, v in library_versions().items()) + ".",
        "",
        f"## {network_title(config)}",
        "",
        network(config),
        "",
        f"{parameter_count(config):,} weights and biases in all, every one of them trained.",
        "",
        "## Training log",
        "",
        "```",
        *[e.log_line() for e in history],
        finished.log_line(),
        "```",
        "",
        f"Run {finished.status}: {finished.reason} Time: {finished.elapsed:.2f} s.",
        "",
        "## Curves",
        "",
        "| epoch | train loss | train accuracy | test loss | test accuracy |",
        "|---|---|---|---|---|",
        *[
            f"| {e.epoch} | {e.train_loss:.4f} | {100 * e.train_accuracy:.2f}% | {e.test_loss:.4f} | "
            f"{100 * e.test_accuracy:.2f}% |"
            for e in history
        ],
        "",
        "## Result",
        "",
        f"Test accuracy: **{100 * finished.test_accuracy:.2f}%** (test loss {finished.test_loss:.4f}).",
        "",
        "Confusion matrix on the test set (rows: true class, columns: predicted):",
        "",
        confusion_table(finished.confusion, task.class_names),
        "",
    ]
    return "\n".join(lines)
