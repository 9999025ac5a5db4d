"""Numbers in a student's sentence: '1 epoch', '10 epochs' (epochs, runs and snapshots can be one)."""

from __future__ import annotations


def counted(count: int, noun: str) -> str:
    """The count and its noun, singular for one: counted(1, "epoch") == "1 epoch"."""
    return f"{count} {noun}" if count == 1 else f"{count} {noun}s"


def counted_are(count: int, noun: str) -> str:
    """The count and its noun as the subject of a sentence: '1 run is', '3 runs are'."""
    return f"{counted(count, noun)} {'is' if count == 1 else 'are'}"
