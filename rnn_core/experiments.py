"""The classic classroom experiments: pairs of runs that differ in one setting, same seed.

Each experiment states what students should see, and `holds(results)` checks it on the finished
runs' test accuracies, so the claim shown in the dashboard is computed from the runs, and the test
suite runs every experiment to prove that the claim is true.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, replace

from .config import TrainConfig, preset


@dataclass(frozen=True)
class Experiment:
    name: str
    question: str  # what the class asks
    runs: tuple[tuple[str, TrainConfig], ...]  # (label, config), one setting apart, same seed
    claim: str  # what should happen
    check: Callable[[dict[str, float]], bool]  # label -> final test accuracy: does the claim hold?

    def holds(self, test_accuracy: dict[str, float]) -> bool:
        return self.check(test_accuracy)

    def differing_setting(self) -> dict[str, tuple]:
        (_, first), (_, second) = self.runs
        return second.changes_from(first)


REMEMBER = preset("remember-rnn")
LAB = preset("lab")

EXPERIMENTS: dict[str, Experiment] = {
    e.name: e
    for e in (
        Experiment(
            name="RNN vs LSTM: remember 30 steps back",
            question="Can a vanilla RNN carry the first digit through 29 noisy steps? Can an LSTM?",
            runs=(("rnn", REMEMBER), ("lstm", replace(REMEMBER, cell="lstm"))),
            claim="The LSTM ends above 90% test accuracy; the vanilla RNN stays below 65%, near guessing.",
            check=lambda acc: acc["lstm"] > 0.90 and acc["rnn"] < 0.65,
        ),
        Experiment(
            name="Short vs long memory for a vanilla RNN",
            question="The same vanilla RNN remembers the first digit: what changes when sequences grow?",
            runs=(("10 steps", replace(REMEMBER, seq_len=10)), ("30 steps", REMEMBER)),
            claim="With 10 steps it ends above 90%; with 30 steps it stays below 65%: the gradient fades.",
            check=lambda acc: acc["10 steps"] > 0.90 and acc["30 steps"] < 0.65,
        ),
        Experiment(
            name="Learning rate: right vs too high",
            question="What happens to the lab run when the learning rate is 100 times too large?",
            runs=(("lr 0.002", LAB), ("lr 0.2", replace(LAB, lr=0.2))),
            claim="The right rate ends at least 10 points of test accuracy above the too-high one.",
            check=lambda acc: acc["lr 0.002"] >= acc["lr 0.2"] + 0.10,
        ),
    )
}
