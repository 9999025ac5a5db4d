"""Where the dashboard's long-lived objects live, and who shares them.

- `pool()`: one per server process, shared by every student (st.cache_resource is global): the
  training workers and their queue.
- `runs()`: one per browser session, in st.session_state, so it survives page switches.
- `kept_memory()`: one per server process: the budget for what every session's runs keep.
- a session-scoped guard whose release hook stops the session's job when the tab closes
  (Streamlit also releases it on a network drop: the run stops, the finished runs stay), and
  puts the session's runs on the `shelf()` for a while: the same browser takes them back after a
  reload (F5) or a lost connection. The key is a secret that only that browser holds (the token
  in Streamlit's XSRF cookie), never anything in the page address.
"""

from __future__ import annotations

import gc
import hashlib

import streamlit as st

import rnn_core
from dashboard import limits, serving, state
from dashboard.keeping import KeptMemory, RunShelf, SessionRuns
from dashboard.pool import TrainingPool

XSRF_COOKIE = "_streamlit_xsrf"  # Streamlit sets it in every browser while XSRF protection is on
# Who owns the runs of sessions that sent no cookie: a script, not a browser (every browser sends
# the XSRF cookie). The queue treats them all as one browser, so a script opening session after
# session waits behind every student's first run instead of filling the queue ahead of them.
NO_COOKIE = "no cookie"
MOVED_NOTE = (
    "The server you were on has stopped or restarted, and the runs you trained there are gone with it: "
    "each server keeps only its own runs. You are connected again now. Train again to get a run back; "
    "a downloaded checkpoint can be loaded on the Try it page."
)


@st.cache_resource(show_spinner="Starting RNN Lab…")
def pool() -> TrainingPool:
    """The server's training workers, started once; they start in the background (pool.TrainingPool).
    First the process is set up for serving: one PyTorch thread, what it has imported frozen, and
    what dashboard.serving sets for what clients send (no developer's request heard: "clear caches"
    would clear this cache too; a few upload addresses a request; one uploaded file kept per
    session; a pace for each session's script runs)."""
    rnn_core.limit_threads(1)  # this process only predicts and explains: one core is plenty
    serving.refuse_developer_requests()
    serving.limit_upload_requests(limits.UPLOAD_ADDRESSES_PER_REQUEST)
    serving.keep_one_upload_per_session()
    serving.pace_reruns(limits.RERUNS_PER_SECOND, limits.RERUN_BURST, limits.WIDGETS_PER_REQUEST)
    # What the server has imported by now (PyTorch, Streamlit, pandas: ~280k objects) lives as long
    # as the process, so Python's full collections leave it alone from here, as the workers' do
    # (forkserver_preload.py): a full collection during a class then walked all of it, 170-300 ms
    # holding the interpreter lock while every student waited; after this, ~6k objects and 25 ms.
    gc.freeze()
    return TrainingPool(limits.WORKERS, limits.RUN_MEMORY_MB, limits.RUN_WALL_SECONDS)


@st.cache_resource(show_spinner=False)
def shelf() -> RunShelf:
    """The runs of closed tabs, kept for their browsers (one per server process)."""
    return RunShelf(limits.KEEP_MINUTES * 60, limits.MAX_SHELVED_SESSIONS)


@st.cache_resource(show_spinner=False)
def kept_memory() -> KeptMemory:
    """The memory budget that every session's networks and snapshots share (one per server process)."""
    return KeptMemory(limits.KEPT_MB * 1e6)


def browser_key() -> str | None:
    """A secret of this browser, stable across reloads; None if it sent no XSRF cookie."""
    raw = st.context.cookies.get(XSRF_COOKIE)
    token = xsrf_token(raw) if isinstance(raw, str) else None  # AppTest has no real cookies
    return hashlib.sha256(token).hexdigest() if token else None


def moved_here() -> bool:
    """Whether this browser comes back from a session this server does not know.

    When its connection drops, Streamlit's frontend reconnects and names its old session in the
    websocket's subprotocol header ("streamlit, <xsrf token>, <session id>"). A session this server
    knows is resumed as it was; an unknown one means the server it was on stopped or restarted: a
    replica behind the proxy of deploy/ that died, whose students the proxy sends to a live one.
    """
    offered = st.context.headers.get("Sec-Websocket-Protocol")
    entries = [entry.strip() for entry in offered.split(",")] if isinstance(offered, str) else []
    return len(entries) >= 3 and bool(entries[2])  # AppTest has no headers


def moved_note() -> str | None:
    """MOVED_NOTE once, on the first page this session draws after the move; otherwise None."""
    runs()  # a session's first script run is where a move is noticed
    return MOVED_NOTE if st.session_state.pop(state.MOVED, False) else None


def xsrf_token(cookie: str) -> bytes | None:
    """The token inside Streamlit's XSRF cookie, or None if the cookie is not one.

    The cookie is '2|mask|masked token|time' (Tornado's format, which Streamlit keeps): the mask
    changes with every response, the token never does. Version 1 cookies are the bare token.
    """
    value = cookie.strip("\"'")
    parts = value.split("|")
    try:
        if parts[0] == "2" and len(parts) == 4:
            mask, masked = bytes.fromhex(parts[1]), bytes.fromhex(parts[2])
            return bytes(byte ^ mask[i % len(mask)] for i, byte in enumerate(masked)) or None
        return bytes.fromhex(value) or None
    except (ValueError, ZeroDivisionError):
        return None


def _release(guarded: tuple[SessionRuns, str | None, RunShelf]) -> None:
    """The tab closed, reloaded or lost its connection: stop its run, keep its runs a while."""
    session_runs, key, kept = guarded
    session_runs.release()
    if key is not None and session_runs.jobs:
        kept.put(key, session_runs)


@st.cache_resource(scope="session", on_release=_release, show_spinner=False)
def _guard(_runs: SessionRuns, _key: str | None) -> tuple[SessionRuns, str | None, RunShelf]:
    """Ties a session's runs to the session: Streamlit hands this to _release when the tab goes.
    The shelf is looked up here, in a script run; the release hook runs outside of one."""
    return _runs, _key, shelf()


def runs() -> SessionRuns:
    """This browser session's runs: created on first use, or taken back from the shelf."""
    if state.RUNS not in st.session_state:
        key = browser_key()
        kept = shelf().take(key) if key is not None else None
        if kept is not None:
            st.session_state[state.WELCOME_BACK] = len(kept.jobs)
        st.session_state[state.MOVED] = moved_here()
        if kept is None:
            kept = SessionRuns(
                limits.MAX_RUNS_KEPT,
                limits.RUNS_WITH_SNAPSHOTS,
                limits.MAX_BATCH_POINTS,
                limits.MAX_UPLOADS,
                owner=key or NO_COOKIE,  # its tabs share one place at a time in the queue
            )
            kept_memory().join(kept)
        st.session_state[state.RUNS] = kept
        st.session_state[state.BROWSER_KEY] = key
    session_runs = st.session_state[state.RUNS]
    session_runs.closed_since = None  # open again if its connection had dropped
    _guard(session_runs, st.session_state[state.BROWSER_KEY])
    return session_runs


def keeping_note() -> str:
    """What happens to this session's runs when the tab closes or reloads, for a caption."""
    if st.session_state.get(state.BROWSER_KEY) is None:
        return (
            "This browser sent no session cookie, so closing or reloading this tab loses these runs: "
            "download a checkpoint to keep a model."
        )
    return (
        f"If you close or reload this tab, your finished runs wait on this server for "
        f"{limits.KEEP_MINUTES:g} minutes, for this browser only (a shared link never carries them); "
        "a run still training stops. If the server needs the room meanwhile, their networks and hidden "
        "states go first; their curves and results stay."
    )
