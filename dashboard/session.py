"""Where the dashboard's long-lived objects live, and who shares them.

- `pool()`: one per server process, shared by every student (st.cache_resource is global): the
  training workers and their queue.
- `runs()`: one per browser session, in st.session_state, so it survives page switches.
- a session-scoped guard whose release hook stops the session's job when the tab closes
  (Streamlit also releases it on a network drop: the run stops, the finished runs stay).
"""

from __future__ import annotations

import streamlit as st

import rnn_core
from dashboard import limits, state
from dashboard.runner import SessionRuns, TrainingPool


@st.cache_resource(show_spinner="Starting RNN Lab…")
def pool() -> TrainingPool:
    """The server's training workers; started once, with PyTorch's start-up costs paid there."""
    rnn_core.limit_threads(1)  # this process only predicts and explains: one core is plenty
    return TrainingPool(limits.WORKERS, limits.RUN_MEMORY_MB, limits.RUN_WALL_SECONDS)


def _release(guard: _Guard) -> None:
    guard.runs.release()


class _Guard:
    def __init__(self, runs: SessionRuns):
        self.runs = runs


@st.cache_resource(scope="session", on_release=_release, show_spinner=False)
def _guard(_runs: SessionRuns) -> _Guard:
    return _Guard(_runs)


def runs() -> SessionRuns:
    """This browser session's runs (created on first use, guarded against closed tabs)."""
    if state.RUNS not in st.session_state:
        st.session_state[state.RUNS] = SessionRuns(
            limits.MAX_RUNS_KEPT, limits.RUNS_WITH_SNAPSHOTS, limits.MAX_BATCH_POINTS, limits.MAX_UPLOADS
        )
    session_runs = st.session_state[state.RUNS]
    _guard(session_runs)
    return session_runs
