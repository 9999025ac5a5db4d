"""The classic classroom experiments: runs one or two settings apart, all with the same seed.

A pair differs in one setting (RNN vs LSTM, a learning rate); a sweep crosses two (cell × sequence
length) and is drawn as a curve.

Each experiment states what students should see, and `holds(results)` checks it on the finished
runs' test accuracies, so the claim shown in the dashboard is computed from the runs, and the test
suite runs every experiment to prove that the claim is true.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, replace
from itertools import pairwise

from .config import FIELDS, TrainConfig, preset


@dataclass(frozen=True)
class Experiment:
    name: str
    question: str  # what the class asks
    runs: tuple[tuple[str, TrainConfig], ...]  # (label, config), all with the same seed
    claim: str  # what should happen
    check: Callable[[dict[str, float]], bool]  # label -> final test accuracy: does the claim hold?
    x: str | None = None  # a sweep: the setting along its chart's x axis (the other varied one colours it)

    def holds(self, test_accuracy: dict[str, float]) -> bool:
        return self.check(test_accuracy)

    def run_name(self, label: str) -> str:
        """What a run of this experiment is called among a student's runs: 'name: label'."""
        return f"{self.name}: {label}"

    def label_of(self, run_name: str) -> str | None:
        """The label of one of this experiment's runs, from its run name; None for other runs."""
        prefix = self.run_name("")
        return run_name.removeprefix(prefix) if run_name.startswith(prefix) else None

    def varied_settings(self) -> dict[str, list]:
        """Each setting that is not the same in every run -> its value in each run, in run order."""
        configs = [config for _, config in self.runs]
        changed = {name for config in configs[1:] for name in config.changes_from(configs[0])}
        return {name: [getattr(c, name) for c in configs] for name in FIELDS if name in changed}

    def differing_setting(self) -> dict[str, tuple]:
        """A pair's one difference: setting -> (first run's value, second's)."""
        (_, first), (_, second) = self.runs
        return second.changes_from(first)

    def series(self) -> str | None:
        """A sweep's other varied setting: one line per value of it on the chart."""
        return next((name for name in self.varied_settings() if name != self.x), None)


def sweep(
    base: TrainConfig, lines: tuple[str, tuple], along: tuple[str, tuple]
) -> tuple[tuple[str, TrainConfig], ...]:
    """Every combination of two settings as (label, config), labelled like 'cell rnn, seq_len 10'."""
    (line_name, line_values), (x_name, x_values) = lines, along
    return tuple(
        (f"{line_name} {line}, {x_name} {x}", replace(base, **{line_name: line, x_name: x}))
        for line in line_values
        for x in x_values
    )


REMEMBER = preset("remember-rnn")
LAB = preset("lab")
LENGTHS = (10, 20, 30)
LENGTH_SWEEP = sweep(REMEMBER, ("cell", ("rnn", "lstm")), ("seq_len", LENGTHS))

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
        Experiment(
            name="Memory as the sequence grows: RNN vs LSTM",
            question="How far back can each cell remember? Train both at 10, 20 and 30 steps.",
            runs=LENGTH_SWEEP,
            claim=(
                "The LSTM stays above 90% at every length; the vanilla RNN falls as the sequence grows, "
                "to below 65% at 30 steps."
            ),
            check=lambda acc: (
                all(acc[f"cell lstm, seq_len {T}"] > 0.90 for T in LENGTHS)
                and all(
                    acc[f"cell rnn, seq_len {a}"] > acc[f"cell rnn, seq_len {b}"]
                    for a, b in pairwise(LENGTHS)
                )
                and acc["cell rnn, seq_len 30"] < 0.65
            ),
            x="seq_len",
        ),
    )
}
