"""Driving the app headless with Streamlit's AppTest, as the AppTest files all do: widgets found by key,
a run's background job waited for, and what the student reads."""

import functools
import re
import time

from streamlit.components.v2.component_manager import BidiComponentManager
from streamlit.testing.v1 import AppTest

from conftest import ROOT
from dashboard import state
from dashboard.keeping import SessionRuns

APP = str(ROOT / "dashboard" / "app.py")


@functools.cache
def installed_components() -> BidiComponentManager:
    """Streamlit's registry of installed v2 components, found once for the whole test process."""
    registry = BidiComponentManager()
    registry.discover_and_register_components(start_file_watching=False)
    return registry


def one_server(at: AppTest) -> AppTest:
    """Every AppTest of this process sees one registry of installed components, as a Streamlit
    server's sessions see the one its Runtime found when it started. Left alone, each AppTest scans
    every installed package's metadata for component manifests on its first run: 0.15-0.2 s of CPU,
    45 times a suite. AppTest has no public way to hand it one; `_bidi_component_manager` is where
    Streamlit 1.67 keeps it, and the check fails loudly if a later Streamlit keeps it elsewhere."""
    assert getattr(at, "_bidi_component_manager", ...) is None, "AppTest no longer keeps its registry there"
    at._bidi_component_manager = installed_components()
    return at


def app() -> AppTest:
    """A new session of the app, not yet run."""
    return one_server(AppTest.from_file(APP, default_timeout=60))


def new_app(**query) -> AppTest:
    at = app()
    for key, value in query.items():
        at.query_params[key] = value
    return at.run()


def new_tab(session_runs: SessionRuns) -> AppTest:
    """A session that starts with these runs, not yet run: a page is switched to, then run."""
    at = app()
    at.session_state[state.RUNS] = session_runs  # as dashboard.session.runs() keeps them
    at.session_state[state.BROWSER_KEY] = None  # AppTest sends no cookie
    return at


def runs(at):
    return at.session_state[state.RUNS]


def wait_for(at, condition, timeout=60.0):
    """Let the background job progress, then rerun the script (fragments do not poll in AppTest)."""
    deadline = time.monotonic() + timeout
    while not condition(runs(at).latest()):
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.05)
    return at.run()


def stop_after_an_epoch(at):
    """Click Stop once the run has trained an epoch, and let it end. A Stop that comes while the run
    still waits for a worker (a fresh pool starts its workers in the background; CI once got there
    first) ends it before it starts, with no model for the page under test to show."""
    at = wait_for(at, lambda v: len(v.epochs) >= 1)
    at.button(key=state.STOP_BUTTON).click().run()
    return wait_for(at, lambda v: not v.active)


def texts(elements) -> str:
    """What the student reads in these elements: their Markdown with backslash escapes undone."""
    return " ".join(re.sub(r"\\(.)", r"\1", str(e.value)) for e in elements)


def picker(at, label: str):
    """The page's selectbox with this label (page.choose keys each one by its labels)."""
    (found,) = [box for box in at.selectbox if box.label == label]
    return found


def set_config(at, **values):
    for name, value in values.items():
        widget = at.number_input(key=state.CONFIG_KEYS[name]) if isinstance(value, int | float) else None
        if widget is None:
            widget = at.selectbox(key=state.CONFIG_KEYS[name])
            widget.select(value)
        else:
            widget.set_value(value)
    return at.run()
