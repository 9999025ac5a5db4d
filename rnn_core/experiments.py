"""The classic classroom experiments: runs one or two settings apart, all with the same seed.

A pair differs in one setting (RNN vs LSTM, a learning rate); a sweep crosses two (cell × sequence
length) and is drawn as a curve. A student runs an experiment with the seed they chose.

Each experiment states what students should see, and `holds(results)` checks it on the finished
runs' test accuracies, so the claim shown in the dashboard is computed from the runs. Randomness
is part of the lesson: a claim is only shipped if it holds for at least 9 of the 10 seeds 0-9,
which this module checks when run as a script and records (docs/EXPERIMENTS.md and
experiment_seeds.json, which the dashboard quotes):

    python -m rnn_core.experiments --seeds 0-9 [--write]
"""

from __future__ import annotations

import functools
import hashlib
import json
from collections.abc import Callable
from dataclasses import dataclass, replace
from pathlib import Path

from .config import FIELDS, TrainConfig, preset
from .words import percent

SEED_RECORD = Path(__file__).with_name("experiment_seeds.json")  # written by this module's script


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

    def with_seed(self, seed: int) -> tuple[tuple[str, TrainConfig], ...]:
        """The experiment's runs, all with this seed (a student's experiment uses their seed)."""
        return tuple((label, replace(config, seed=seed)) for label, config in self.runs)

    def fingerprint(self) -> str:
        """Changes whenever a run's settings or the claim change: a seed record of another is stale."""
        settings = [(label, {**config.to_dict(), "seed": None}) for label, config in self.runs]
        return hashlib.sha256(json.dumps([settings, self.claim]).encode()).hexdigest()[:16]

    def seed_record(self) -> SeedRecord | None:
        """How often the claim held over seeds when the script last checked it (None if never)."""
        entry = _load_record().get(self.name)
        if entry is None or entry["fingerprint"] != self.fingerprint():
            return None
        return SeedRecord(seeds=tuple(entry["seeds"]), held=tuple(entry["held"]))

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


@dataclass(frozen=True)
class SeedRecord:
    """The claim checked once per seed."""

    seeds: tuple[int, ...]
    held: tuple[bool, ...]

    def summary(self) -> str:
        """'9 of the 10 seeds 0-9'."""
        return f"{sum(self.held)} of the {len(self.seeds)} seeds {self.seeds[0]}-{self.seeds[-1]}"


@functools.cache  # read once per process: the Compare page asks on every redraw
def _load_record() -> dict:
    try:
        return json.loads(SEED_RECORD.read_text())
    except (OSError, ValueError):
        return {}


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


REMEMBER = preset("remember-rnn")  # 40 digits: the first one must survive 39 steps of noise
LAB = preset("lab")
LENGTHS = (5, 20, 40)
LENGTH_SWEEP = sweep(REMEMBER, ("cell", ("rnn", "lstm")), ("seq_len", LENGTHS))

EXPERIMENTS: dict[str, Experiment] = {
    e.name: e
    for e in (
        Experiment(
            name="RNN vs LSTM: remember 40 steps back",
            question="Can a vanilla RNN carry the first digit through 39 noisy steps? Can an LSTM?",
            runs=(("rnn", REMEMBER), ("lstm", replace(REMEMBER, cell="lstm"))),
            claim="The LSTM ends above 90% test accuracy; the vanilla RNN stays below 65%, near guessing.",
            check=lambda acc: acc["lstm"] > 0.90 and acc["rnn"] < 0.65,
        ),
        Experiment(
            name="Short vs long memory for a vanilla RNN",
            question="The same vanilla RNN remembers the first digit: what changes when sequences grow?",
            runs=(("5 steps", replace(REMEMBER, seq_len=5)), ("40 steps", REMEMBER)),
            claim="With 5 steps it ends above 90%; with 40 steps it stays below 65%: the gradient fades.",
            check=lambda acc: acc["5 steps"] > 0.90 and acc["40 steps"] < 0.65,
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
            question="How far back can each cell remember? Train both at 5, 20 and 40 steps.",
            runs=LENGTH_SWEEP,
            claim=(
                "The LSTM stays above 90% at every length; the vanilla RNN is above 90% at 5 steps and "
                "below 65% at 40: it fails as the sequence grows (at 20 steps it depends on the seed)."
            ),
            check=lambda acc: (
                all(acc[f"cell lstm, seq_len {T}"] > 0.90 for T in LENGTHS)
                and acc[f"cell rnn, seq_len {LENGTHS[0]}"] > 0.90
                and acc[f"cell rnn, seq_len {LENGTHS[-1]}"] < 0.65
            ),
            x="seq_len",
        ),
        Experiment(
            name="GRU vs vanilla RNN: remember 40 steps back",
            question=(
                "Is it the LSTM's cell state that carries the first digit, or its gates? A GRU has "
                "gates and no cell state."
            ),
            runs=(("rnn", REMEMBER), ("gru", replace(REMEMBER, cell="gru"))),
            claim="The GRU ends above 90% test accuracy too; the vanilla RNN stays below 65%, near guessing.",
            check=lambda acc: acc["gru"] > 0.90 and acc["rnn"] < 0.65,
        ),
    )
}


def check_seeds(seeds: list[int], workers: int = 2) -> dict[str, dict]:
    """Run every experiment with every seed: per experiment, its runs' accuracies and the verdicts."""
    from multiprocessing import get_context

    configs = {config for e in EXPERIMENTS.values() for seed in seeds for _, config in e.with_seed(seed)}
    with get_context("spawn").Pool(workers) as pool:  # each run in its own process, one thread each
        accuracy = dict(zip(configs, pool.map(_test_accuracy, configs, chunksize=1), strict=True))
    record = {}
    for e in EXPERIMENTS.values():
        results = [{label: accuracy[config] for label, config in e.with_seed(seed)} for seed in seeds]
        record[e.name] = {
            "fingerprint": e.fingerprint(),
            "seeds": seeds,
            "held": [e.holds(r) for r in results],
            "accuracy": results,
        }
    return record


def _test_accuracy(config: TrainConfig) -> float:
    from .train import fit, limit_threads

    limit_threads(1)
    return fit(config).test_accuracy


def seed_table(record: dict[str, dict]) -> str:
    """The per-seed table in Markdown: each run's test accuracy and whether the claim held."""
    lines = []
    for name, entry in record.items():
        experiment = EXPERIMENTS[name]
        labels = [label for label, _ in experiment.runs]
        lines += [f"### {name}", "", f"Claim: {experiment.claim}", ""]
        lines += ["| seed | " + " | ".join(labels) + " | held |", "|---" * (len(labels) + 2) + "|"]
        for seed, results, held in zip(entry["seeds"], entry["accuracy"], entry["held"], strict=True):
            cells = " | ".join(percent(results[label], exact_ends=True) for label in labels)
            lines.append(f"| {seed} | {cells} | {'yes' if held else '**no**'} |")
        lines += ["", f"Held for {sum(entry['held'])} of {len(entry['seeds'])} seeds.", ""]
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    import argparse

    parser = argparse.ArgumentParser(description="Check every classroom experiment's claim over seeds.")
    parser.add_argument("--seeds", default="0-9", help="a range such as 0-9, or a list such as 0,3,7")
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--write", action="store_true", help="update experiment_seeds.json and the doc")
    args = parser.parse_args(argv)
    if "-" in args.seeds:
        first, last = (int(part) for part in args.seeds.split("-"))
        seeds = list(range(first, last + 1))
    else:
        seeds = [int(part) for part in args.seeds.split(",")]
    record = check_seeds(seeds, args.workers)
    table = seed_table(record)
    print(table)
    if args.write:
        SEED_RECORD.write_text(json.dumps(record, indent=1) + "\n")
        _load_record.cache_clear()
        doc = Path(__file__).resolve().parents[1] / "docs" / "EXPERIMENTS.md"
        doc.parent.mkdir(exist_ok=True)
        doc.write_text(DOC_HEADER + table)
    weakest = min(sum(entry["held"]) / len(entry["held"]) for entry in record.values())
    return 0 if weakest >= 0.9 else 1


DOC_HEADER = """# The classroom experiments over seeds

Written by `python -m rnn_core.experiments --seeds 0-9 --write`; do not edit by hand. Each
experiment on the Compare page runs with the seed the student chose, so its claim must hold for
most seeds, not only one: every claim shipped holds for at least 9 of these 10. The dashboard
quotes the count from `rnn_core/experiment_seeds.json`, written by the same command. The presets
`remember-rnn` and `remember-lstm` are the first experiment's two runs, so its rows also back their
descriptions.

"""


if __name__ == "__main__":
    raise SystemExit(main())
