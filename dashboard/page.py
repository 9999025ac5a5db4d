"""What every page draws the same way: its title, its charts, and the projector setting.

A teacher projecting RNN Lab sets projector mode (a sidebar toggle, kept in the page address as
`projector=on` like every other setting): larger type, taller charts, the sidebar folded away.
Charts get their text sizes here (`charts.readable`), so no page sizes one by hand.
"""

from __future__ import annotations

import hashlib
import itertools
from collections.abc import Callable, Collection, Mapping
from typing import Any

import altair as alt
import pyarrow as pa
import streamlit as st

from dashboard import charts, session, state
from dashboard.runner import JobView

# Numbers page.live's fragments, one per drawing of a whole page (why: page.live).
LIVE_DRAWINGS = itertools.count()

# Projector mode's page text: Streamlit sizes its text in rem, so the root size scales it all. The
# pages' names along the top keep the size they have outside projector mode (16/24): scaled up, they
# needed 836 px and an old XGA projector's 1024 px left the nav 628, so Backprop and Compare went
# into a "2 more" menu, out of the class's sight. The class reads each page's heading, which stays large.
PROJECTOR_CSS = "<style>html { font-size: 24px; } [data-testid=stTopNav] { zoom: calc(16 / 24); }</style>"

# After a run ends, the Train button is enabled again, but the browser drops the focus to the page
# body when the button it was on (Train or Stop) is disabled or drawn anew, at a frame of its own that
# on a busy machine may come seconds after this script starts (a 2-s look once missed it in CI, most
# likely so). So the script watches for 10 s: whenever the focus is lost (on the body, or on a
# disabled button) and Train is enabled, it puts the focus on Train, so a keyboard user's next Space
# starts the next run. It never takes the focus from anything else, and it stops watching as soon as
# the student moves the focus (Tab) or clicks anywhere themselves.
FOCUS_TRAIN = f"""<script>
(() => {{
  const train = () => document.querySelector(".st-key-{state.TRAIN_BUTTON} button");
  const look = () => {{
    const now = document.activeElement;
    const lost = !now || now === document.body || now.disabled;
    const button = train();
    if (lost && button && !button.disabled) button.focus();
  }};
  const timer = setInterval(look, 100);
  const stop = () => {{
    clearInterval(timer);
    document.removeEventListener("focusin", moved);
    document.removeEventListener("pointerdown", stop);
  }};
  const moved = event => {{ if (event.target !== train()) stop(); }};
  document.addEventListener("focusin", moved);
  document.addEventListener("pointerdown", stop);
  setTimeout(stop, 10000);
  look();
}})();
</script>"""


def projector() -> bool:
    return bool(st.session_state.get(state.PROJECTOR))


def settings_place() -> str:
    """Where a student sets up a run, in words: projector mode folds the sidebar away."""
    if projector():
        return "the sidebar (folded away in projector mode: the arrow at the top left opens it)"
    return "the sidebar"


def title(text: str) -> None:
    """The page's one h1 (without Streamlit's anchor link, one Tab stop fewer before Train)."""
    if projector():
        st.html(PROJECTOR_CSS)  # style only: Streamlit puts it out of the page flow
    st.title(text, anchor=False)


def chart(chart: alt.TopLevelMixin | dict, where=st, width: str = "stretch") -> None:
    """Draw a chart at this session's size (laptop or projector); `where` is a column or st."""
    spec = charts.readable(chart if isinstance(chart, dict) else chart.to_dict(), projector())
    if "datasets" in spec:
        spec["datasets"] = {name: arrow_table(rows) for name, rows in spec["datasets"].items()}
    where.vega_lite_chart(spec=spec, width=width)


def arrow_table(rows: Any) -> Any:
    """A chart's rows as the Arrow table Streamlit sends to the browser.

    Streamlit sends a pyarrow Table as it is, and first turns a list of rows into a pandas
    DataFrame: 2.3 ms for the live loss chart's 500 batches, against 0.8 ms from the rows straight
    to Arrow. Every page of a class redraws its two live charts at each poll, queued or training;
    that conversion was the largest part of the server's chart drawing (py-spy, BENCHMARKS.md).
    Rows pyarrow cannot type (a column of numbers and words) are left to Streamlit, which mends them.
    """
    if not isinstance(rows, list):
        return rows
    names = dict.fromkeys(name for row in rows for name in row)  # every row's columns, as pandas takes them
    try:
        return pa.table({name: [row.get(name) for row in rows] for name in names})
    except (pa.ArrowInvalid, pa.ArrowTypeError):
        return rows


def focus_train() -> None:
    st.html(FOCUS_TRAIN, unsafe_allow_javascript=True)  # fixed text: nothing from outside goes in


def live(
    draw: Callable[[], None],
    drawn_for: str | None,
    mode: Callable[[], str | None],
    every: Mapping[str, float],
) -> None:
    """Draw part of a page that keeps itself up to date while something goes on (a run training).

    Streamlit's execution model: a page is a script, run from top to bottom on every click. A
    fragment (`st.fragment`) is a part of the page that can run again on its own; with `run_every`
    the browser asks for that on a timer, and the rest of the script does not run. The timer is set
    when the whole page is drawn, so it cannot follow a change by itself.

    `mode()` says what is going on now ("running", "queued", "replay", ... or None for nothing);
    `drawn_for` is what it was when the rest of the page was drawn, read from the same snapshot as
    the page's buttons (reading it again here could already see the run over, leave no timer, and
    strand a disabled Train button). `every` is how many seconds apart to redraw in each mode. When
    a redraw finds the mode changed (a queued run started, a run ended, a replay reached its last
    epoch), it reruns the whole page once: that sets the timer for the new mode, or none, and
    brings back the buttons a running run had disabled.

    Streamlit updates an element drawn at the same place as in the last redraw, and draws anew one
    whose place changed or that moved into or out of a fragment (a chart then blinks out and the
    page jumps). So `draw` keeps its charts at the same place in every mode (what comes and goes
    above them goes in a container that is always there), and charts that a live part will take
    over are drawn through `live` already (views/train.py's empty curves before a run).

    Each drawing of the whole page makes a new fragment: the browser often sends a timer tick
    together with a click (its timer came due while it handled the click), and that tick reached
    the server while the click's drawing of the page ran. Streamlit then ran the fragment again at
    once, and first threw away what of the fragment the page's drawing had not yet sent to the
    browser; at the end of that drawing the browser took out the curves it had not been sent, and
    the fragment's run drew them anew: a widget click while a run trained made the curves blink
    out 6 times in 30 on a busy machine. A tick for a fragment that is gone is dropped, and the
    new fragment's own timer comes next. (Streamlit names a fragment by its function's name and
    its place on the page, hence the numbered name.) That timer starts as its message reaches the
    browser, early in the drawing, so on a busy server its first tick, too, can come before the
    drawing ends: the server drops a tick while the page is still being drawn (dashboard.serving).
    A click on a widget in the part a new drawing replaced (Replay training, as a run ends) runs
    the whole page there, since Streamlit drops a request for a fragment that is gone.
    """

    def redraw() -> None:
        if mode() != drawn_for:
            st.rerun()
        draw()

    redraw.__qualname__ = f"live.redraw.{next(LIVE_DRAWINGS)}"
    st.fragment(redraw, run_every=every.get(drawn_for) if drawn_for is not None else None)()


def keep_widget_values(runs: Collection[int]) -> None:
    """Keep what the student set in a page's widgets while they visit other pages. At the end of
    each run Streamlit forgets the value of every widget that run did not draw: a sequence typed on
    Try it was gone after a look at Hidden states, whose epoch slider was then back at the last
    epoch. A value saved again in session_state before the page is drawn belongs to no widget until
    one is drawn with its key, and is kept (Streamlit's documented way: "interrupt the widget
    clean-up process").

    What was kept for a run the session no longer keeps (`runs`: the ids it keeps) goes with it."""
    for key in list(st.session_state):
        run = state.run_of(key)
        if run is not None and run not in runs:
            del st.session_state[key]
        elif key in state.KEPT_ACROSS_PAGES or key.startswith(state.KEPT_PER_RUN):
            st.session_state[key] = st.session_state[key]


def choose(label: str, labels: Mapping[Any, str], picked_key: str, shown: Any = None) -> Any:
    """A selectbox of `labels` (option -> its label) whose labels stay true; the option chosen.

    Streamlit keeps showing the option labels a keyed widget was first drawn with: a run picker
    went on saying "running" after the run ended, and a sequence picker named the last run's
    sequence after another run was picked. So the widget is a new one whenever its labels change
    (its key carries a digest of them), and the student's pick is kept under `picked_key`: chosen
    again while it is an option, else `shown`, else the first.
    """
    options = list(labels)
    picked = st.session_state.get(picked_key)
    chosen = picked if picked in labels else shown if shown in labels else options[0]
    digest = hashlib.blake2b(repr(list(labels.items())).encode(), digest_size=8).hexdigest()
    chosen = st.selectbox(
        label, options, index=options.index(chosen), format_func=labels.get, key=f"{picked_key}_{digest}"
    )
    st.session_state[picked_key] = chosen
    return chosen


def changed_since_drawn(value: Any, seen_key: str) -> bool:
    """Whether `value` (the newest run, a typed sequence) differs from what this page saw under
    `seen_key` when it was last drawn; notes it for the next drawing. The first look is no change."""
    changed = st.session_state.get(seen_key, value) != value
    st.session_state[seen_key] = value
    return changed


def run_picker(label: str, views: list[JobView], picked_key: str, shown: int, follow: bool = False) -> int:
    """A picker of these runs, newest first, each saying what it is doing now; the run chosen.

    It shows the student's last pick, or run `shown`: always while `follow` (a training run), and
    whenever a run has come since the picker was last drawn. A student who trains a new run sees
    it on every page, however quickly it ended (a lab run can end before the Train click's page is
    drawn: that page went on showing the run picked before, as if the click was lost), and a
    run picked by hand stays picked until a new run comes.
    """
    new_run = changed_since_drawn(max(view.run_id for view in views), f"{picked_key}_newest")
    if follow or new_run:
        st.session_state[picked_key] = shown
    newest_first = sorted(views, key=lambda view: view.run_id, reverse=True)
    return choose(label, {view.run_id: view.picker_label for view in newest_first}, picked_key, shown)


def run_mode(run_id: int, mode: Callable[[JobView], str | None]) -> Callable[[], str | None]:
    """For `live`: `mode` of the run as it is when a redraw asks, not as the page last saw it."""
    return lambda: mode(session.runs().view(run_id))
