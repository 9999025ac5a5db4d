"""The classroom server's limits, in one place: what keeps one student from starving the rest.

These are hosting policy, not the science: `rnn_core` accepts larger runs from a notebook or the
command line. A teacher can raise or lower them with environment variables (or Streamlit secrets
exported as such) without touching code.
"""

from __future__ import annotations

import os

from rnn_core import TrainConfig


def _env_int(name: str, default: int) -> int:
    try:
        return max(1, int(os.environ.get(name, default)))
    except ValueError:
        return default


# Trainings that run at once in this server process; more wait in a fair first-come queue.
MAX_RUNNING = _env_int("RNN_LAB_MAX_RUNNING", os.cpu_count() or 2)
# Runs a browser session keeps for comparison; the oldest finished one goes first.
MAX_RUNS_KEPT = _env_int("RNN_LAB_MAX_RUNS_KEPT", 10)  # room for a 6-run sweep and a few own runs
# Probe snapshots (hidden states) are kept for this many of a session's newest runs.
RUNS_WITH_SNAPSHOTS = 2
# Per-batch loss points kept per run (a chart is ~450 px wide); longer runs keep an evenly thinned series.
MAX_BATCH_POINTS = 500
# The largest run the shared server accepts, in "cell updates": sequences x steps x epochs x
# hidden units x layers x gates. The lab run is 2.6 million; this is about a minute of CPU.
MAX_WORK = _env_int("RNN_LAB_MAX_WORK", 400_000_000)

GATES = {"rnn": 1, "gru": 3, "lstm": 4}


def work(config: TrainConfig) -> int:
    """How much computing a run needs, in cell updates (see MAX_WORK)."""
    per_step = config.hidden_size * config.num_layers * GATES[config.cell]
    return config.num_train * config.seq_len * config.epochs * per_step


def too_big(config: TrainConfig) -> str | None:
    """None if the server takes this run, else a sentence saying what to shrink."""
    needed = work(config)
    if needed <= MAX_WORK:
        return None
    return (
        f"This run is too big for the shared classroom server: it needs {needed / 1e6:,.0f} million "
        f"cell updates and the limit is {MAX_WORK / 1e6:,.0f} million. Use fewer epochs, a smaller "
        "dataset, shorter sequences or a smaller hidden size (or run it from the command line)."
    )
