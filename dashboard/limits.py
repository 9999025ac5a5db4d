"""The classroom server's limits, in one place: what keeps one student from starving the rest.

These are hosting policy, not the science: `rnn_core` accepts larger runs from a notebook or the
command line. The defaults fit the smallest Streamlit Community Cloud box (690 MB, 2 cores) with a
class working; a teacher can change each one with an environment variable (or a Streamlit secret
exported as one) without touching code. README.md lists them all.

Every run gets two budgets, estimated before it starts (`rnn_core.cost`) and enforced while it
trains (dashboard.workers): memory, and time.
"""

from __future__ import annotations

import logging
import math
import os

from rnn_core import FIELDS, TrainConfig
from rnn_core.cost import estimate
from rnn_core.words import apart

_log = logging.getLogger(__name__)


def _env_number(name: str, default: float) -> float:
    """The teacher's setting, if it is a number above 0; else the default, and a line in the server's
    log saying so (the server starts either way: a typo must not stop a class)."""
    given = os.environ.get(name)
    if given is None:
        return default
    try:
        value = float(given)
    except ValueError:
        value = math.nan
    if not (math.isfinite(value) and value > 0):
        _log.warning("%s=%r is not a number above 0: using %s, the default.", name, given, f"{default:g}")
        return default
    return value


def _env_count(name: str, default: int) -> int:
    """A setting that counts (workers, runs, uploads): a whole number, at least 1."""
    value = _env_number(name, default)
    if value != int(value):
        _log.warning("%s=%r is not a whole number: using %d, the default.", name, os.environ[name], default)
        return default
    return int(value)


def _cores() -> int:
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # not on Linux
        return os.cpu_count() or 2


# Worker processes that train, one run each; more runs wait in a fair first-come queue.
WORKERS = _env_count("RNN_LAB_WORKERS", _cores())
# Memory one run may add to its worker. Two workers at this cap, the server, and the preloaded
# PyTorch they share fit 690 MB (BENCHMARKS.md). Every classroom preset needs under 30 MB.
RUN_MEMORY_MB = _env_number("RNN_LAB_RUN_MEMORY_MB", 64)
# Estimated training time one run may need on one core; the lab run needs under a second.
RUN_SECONDS = _env_number("RNN_LAB_RUN_SECONDS", 60)
# A run still training after this many seconds of wall clock is stopped (its model so far is
# kept): the estimate's budget with room for a busy server.
RUN_WALL_SECONDS = 2 * RUN_SECONDS
# Runs a browser session keeps for comparison; the oldest finished one goes first.
MAX_RUNS_KEPT = _env_count("RNN_LAB_MAX_RUNS_KEPT", 10)  # a 6-run sweep and a few own runs
# Uploaded models a browser session keeps (Try it); the oldest goes first.
MAX_UPLOADS = _env_count("RNN_LAB_MAX_UPLOADS", 3)
# Minutes a closed or reloaded tab's runs are kept for the same browser to take back.
KEEP_MINUTES = _env_number("RNN_LAB_KEEP_MINUTES", 30)
# Memory, in MB, that the networks and hidden-state snapshots of every session's runs may keep in
# the server, all together; past it the closed tabs' go first, then the oldest of whoever keeps the
# most (dashboard.keeping). README.md says how much a class of lab runs keeps: far less.
KEPT_MB = _env_number("RNN_LAB_KEPT_MB", 64)
# Script runs a session may start a second, after a burst of RERUN_BURST: a page that polls asks for
# 3.3 a second at most, and a hand can click no faster; a hand-made client asking for more waits, its
# requests merged (dashboard.serving), so it cannot take the server's page drawing from the class.
RERUNS_PER_SECOND = _env_number("RNN_LAB_RERUNS_PER_SECOND", 5)
RERUN_BURST = 10
# The most widget values one request for a script run may carry. A browser sends one for each widget
# its page has drawn, about 30 on the busiest page; Streamlit reads every value it is sent: 100,000
# (3 MB) cost the server 2.2 s of CPU a run (dashboard.serving).
WIDGETS_PER_REQUEST = 300
# The most files one request may ask upload addresses for. The app's one uploader takes one file at a
# time; a request naming a million files held the server 7 s (dashboard.serving).
UPLOAD_ADDRESSES_PER_REQUEST = 10
# Closed sessions whose runs are kept at once (each at most MAX_RUNS_KEPT small runs).
MAX_SHELVED_SESSIONS = 200
# Probe snapshots (hidden states) are kept for this many of a session's newest runs.
RUNS_WITH_SNAPSHOTS = 2
# Per-batch loss points kept per run (a chart is ~450 px wide); longer runs keep an evenly thinned series.
MAX_BATCH_POINTS = 500

# What to shrink, most effective first, when a budget is over: (setting, how to say "less of it").
SHRINK_MEMORY = (("batch_size", "a smaller"), ("hidden_size", "a smaller"), ("seq_len", "a shorter"),
                 ("num_layers", "fewer"))  # fmt: skip
SHRINK_TIME = (("epochs", "fewer"), ("num_samples", "a smaller"), ("seq_len", "a shorter"),
               ("hidden_size", "a smaller"))  # fmt: skip


def _advice(config: TrainConfig, changes: tuple[tuple[str, str], ...]) -> str:
    """`a smaller batch size (1024), ... or fewer layers (3)`: each setting with its value now."""
    parts = [f"{how} {FIELDS[name].label.lower()} (now {getattr(config, name)})" for name, how in changes]
    return ", ".join(parts[:-1]) + " or " + parts[-1]


def too_big(config: TrainConfig) -> str | None:
    """None if the server takes this run, else a sentence saying which budget is over and what to shrink."""
    cost = estimate(config)
    if cost.memory_mb > RUN_MEMORY_MB:
        need, allowed = apart(cost.memory_mb, RUN_MEMORY_MB, "f", 0)
        return (
            f"This run is too big for the shared classroom server: it would need about {need} MB of "
            f"memory while training, and each run may use {allowed} MB. Use "
            f"{_advice(config, SHRINK_MEMORY)}; or run it from the command line."
        )
    if cost.seconds > RUN_SECONDS:
        changes = SHRINK_TIME
        if config.batch_size < 32:  # every batch has a fixed cost: tiny batches are the slowest runs
            changes = (("batch_size", "a larger"), *SHRINK_TIME[:3])
        need, allowed = _durations(cost.seconds, RUN_SECONDS)
        return (
            f"This run would take too long on the shared classroom server: about {need} of training, "
            f"and each run may take at most {allowed}. Use {_advice(config, changes)}; or run it from "
            f"the command line."
        )
    return None


def _durations(needed: float, allowed: float) -> tuple[str, str]:
    """Both in words: far apart, each in the unit that reads best (`2.6 hours`, `60 s`); within a
    factor of 2, both in the larger one's unit (`120 s` beside `2 minutes` read the same); two that
    would still read the same (`2 minutes`) in seconds, with as many decimals as it takes for them to
    read differently."""
    larger = max(needed, allowed)
    unit = _unit(larger) if larger < 2 * min(needed, allowed) else None
    need, allow = _duration(needed, unit), _duration(allowed, unit)
    if need == allow:
        need, allow = (f"{seconds} s" for seconds in apart(needed, allowed, "f", 0))
    return need, allow


SECONDS_IN = {"s": 1, "minutes": 60, "hours": 3600}  # a duration's units


def _unit(seconds: float) -> str:
    return "s" if seconds < 120 else "minutes" if seconds < 7200 else "hours"


def _duration(seconds: float, unit: str | None = None) -> str:
    """In `unit`, or else the one that reads best for it: '61 s', '1 minute', '2.6 hours'."""
    unit = unit or _unit(seconds)
    number = f"{seconds / SECONDS_IN[unit]:.{1 if unit == 'hours' else 0}f}"
    return f"{number} {'minute' if unit == 'minutes' and number == '1' else unit}"
