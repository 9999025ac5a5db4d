"""The command line: `python -m rnn_core train|notebook|tasks|predict|gradcheck`.

    python -m rnn_core train --preset lab            # the lab sheet's run, in the sheet's format
    python -m rnn_core train --task remember --cell lstm --seq-len 30 --save runs/lstm
    python -m rnn_core notebook --preset lab out.ipynb  # the same run as a plain-PyTorch notebook
    python -m rnn_core tasks                         # every task with its explanation
    python -m rnn_core predict runs/lstm "7 0 1 2 3" # a saved model's reading of a sequence
    python -m rnn_core gradcheck                     # hand-written BPTT against autograd

Every config field has a flag (`--hidden-size` for hidden_size) on `train` and `notebook`, built
from `config.FIELDS`, so bounds and help are written once. A bad value ends with one line saying
what is allowed.
"""

from __future__ import annotations

import argparse
import sys
import textwrap
from pathlib import Path

import torch

from . import bptt, checkpoint
from .config import FIELDS, PRESETS, ConfigError, TrainConfig, flag, preset
from .events import EpochEnd, RunFinished
from .report import metrics_csv
from .tasks import TASKS, EncodeError
from .train import train


class Parser(argparse.ArgumentParser):
    def error(self, message: str) -> None:  # one line, not argparse's usage block
        self.exit(2, f"{self.prog}: error: {message} (see --help)\n")


def build_parser() -> Parser:
    parser = Parser(prog="python -m rnn_core", description="RNN Lab: train and look inside a small RNN.")
    commands = parser.add_subparsers(dest="command", required=True, parser_class=Parser)
    run = commands.add_parser("train", help="train a network and print the lab sheet's log")
    add_run_flags(run)
    run.add_argument(
        "--save", metavar="DIR", type=Path, help="write checkpoint, metrics.csv and config.json here"
    )
    run.add_argument("--quiet", action="store_true", help="print only the final test accuracy")
    book = commands.add_parser("notebook", help="write a run as a Jupyter notebook of plain PyTorch")
    add_run_flags(book)
    book.add_argument("out", type=Path, help="the .ipynb file to write")
    commands.add_parser("tasks", help="list the built-in tasks with their explanations")
    guess = commands.add_parser("predict", help="a saved model's prediction for a typed sequence")
    guess.add_argument(
        "checkpoint", type=Path, help="a folder written by train --save, or a .safetensors file"
    )
    guess.add_argument("text", help='the sequence, e.g. "3 1 4 1 5" or "the film was not bad"')
    check = commands.add_parser("gradcheck", help="compare the hand-written BPTT with autograd")
    check.add_argument("--seed", type=int, default=0)
    return parser


def add_run_flags(parser: argparse.ArgumentParser) -> None:
    """--preset and one flag per config field, with its bounds in --help."""
    parser.add_argument(
        "--preset", default="lab", help=f"start from a preset: {', '.join(PRESETS)} (default lab)"
    )
    for spec in FIELDS.values():
        bounds = f" [{spec.allowed()}]"
        parser.add_argument(
            flag(spec.name), dest=spec.name, metavar=spec.name.upper(), help=spec.help + bounds
        )


def config_from_args(args: argparse.Namespace) -> TrainConfig:
    """The preset, with the flags given on top (TrainConfig.from_strings); any bad flag stops here."""
    given = {name: getattr(args, name) for name in FIELDS if getattr(args, name) is not None}
    config, problems = TrainConfig.from_strings(given, preset(args.preset))
    if problems:
        raise ConfigError(problems)
    return config


def write_run(folder: Path, finished: RunFinished) -> None:
    """Checkpoint, per-epoch metrics as CSV and the config as JSON, into a folder made already
    (`runs/lr0.2` is a folder too, though checkpoint.save would take its '.2' for a file's suffix)."""
    checkpoint.save(finished.model, folder / checkpoint.FILENAME)
    (folder / "config.json").write_text(finished.model.config.to_json() + "\n")
    (folder / "metrics.csv").write_text(metrics_csv(finished.model.history))


def command_train(args: argparse.Namespace) -> int:
    config = config_from_args(args)
    if args.save:  # before training: a folder that cannot be made must not cost the run
        args.save.mkdir(parents=True, exist_ok=True)
    for event in train(config):
        if isinstance(event, EpochEnd) and not args.quiet:
            print(event.log_line(), flush=True)
        elif isinstance(event, RunFinished):
            if event.status != "completed":
                print(f"Run {event.status}: {event.reason}", file=sys.stderr)
            print(event.log_line())
            if args.save:
                write_run(args.save, event)
                print(f"Saved to {args.save}/")
    return 0


def command_notebook(args: argparse.Namespace) -> int:
    from .notebook import notebook_bytes  # nbformat is needed only here

    args.out.write_bytes(notebook_bytes(config_from_args(args)))
    print(f"Wrote {args.out}: run it top to bottom in Jupyter; it prints this run's numbers.")
    return 0


def command_tasks() -> int:
    for task in TASKS.values():
        print(f"{task.name}: {task.title}")
        print(textwrap.indent(textwrap.fill(task.explanation, 96), "    "))
        print(f"    classes: {', '.join(task.class_names)}; example: {task.example}\n")
    return 0


def command_predict(args: argparse.Namespace) -> int:
    trained = checkpoint.load(args.checkpoint)
    print("\n".join(trained.predict(args.text).report(every_step=trained.task.many_to_many)))
    return 0


def command_gradcheck(seed: int) -> int:
    """Hand BPTT vs autograd in float64 on a random case, many-to-one and many-to-many."""
    g = torch.Generator().manual_seed(seed)
    params = bptt.init_params(4, 6, 3, seed=seed, dtype=torch.float64)
    x = torch.randn(7, 4, generator=g, dtype=torch.float64)
    worst = 0.0
    for y in (2, torch.randint(0, 3, (7,), generator=g)):
        cache = bptt.forward(params, x, y)
        hand, auto = bptt.backward(params, cache), bptt.autograd_backward(params, x, y)
        kind = "many-to-one" if isinstance(y, int) else "many-to-many"
        print(f"{kind} (T=7, E=4, H=6, C=3), L = {float(cache.L):.6f}")
        for name in bptt.PARAM_NAMES:
            diff = float((hand[name] - auto[name]).abs().max())
            worst = max(worst, diff)
            print(f"  dL/d{name:<4} largest |hand - autograd| = {diff:.2e}")
    print("OK: the hand-written backward pass matches autograd." if worst < 1e-9 else "MISMATCH")
    return 0 if worst < 1e-9 else 1


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        if args.command == "train":
            return command_train(args)
        if args.command == "notebook":
            return command_notebook(args)
        if args.command == "tasks":
            return command_tasks()
        if args.command == "predict":
            return command_predict(args)
        return command_gradcheck(args.seed)
    except (ConfigError, EncodeError, checkpoint.CheckpointError) as err:
        parser.exit(2, f"{parser.prog}: error: {err}\n")
    except KeyError as err:  # an unknown preset (rnn_core.preset): the message lists the presets
        parser.exit(2, f"{parser.prog}: error: {err.args[0]}\n")
    except OSError as err:  # a folder or file that cannot be written: a missing folder, a file in the way
        parser.exit(2, f"{parser.prog}: error: cannot write {err.filename}: {err.strerror}.\n")


if __name__ == "__main__":
    sys.exit(main())
