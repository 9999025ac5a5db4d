"""What the server does with what a client sends, before Streamlit handles it.

A browser only sends what its student does, but the websocket and the upload address take whatever
a hand-made client sends. What follows is set on Streamlit 1.67's runtime once per server process
(session.pool()); a browser never meets the first six:

- `refuse_developer_requests`: a client's "clear caches" and "load git info" messages are ignored.
  Any client could send them: the first stopped every student's run, the second kept the server's
  event loop busy.
- `limit_upload_requests`: a request for the addresses to upload more than a few files to
  (limits.UPLOAD_ADDRESSES_PER_REQUEST) is ignored: one naming a million files held the server 7 s.
- `keep_one_upload_per_session`: a session's earlier uploaded files are dropped when a new one comes.
- `pace_reruns`, first: a request for a script run with more widget values than any page has
  widgets (limits.WIDGETS_PER_REQUEST) is ignored: 100,000 of them cost the server 2.2 s of CPU.
- then a widget value of another kind than its widget's, or a number that is not finite, is
  dropped (`well_kinded`), and the widget keeps the value it had. A browser sends each
  widget the kind of value Streamlit drew it with (a slider a list of numbers, a number box a
  number, a button a trigger), but Streamlit 1.67 hands whatever kind comes to the widget's own
  reader: a number box sent the text "x" or NaN, a button sent JSON or a slider sent one number
  crashed the page, and most crashes stuck, since Streamlit then took that kind for the widget's
  own (tests/test_protocol.py).
- then a session may start at most a few script runs a second. Every page is drawn by the
  server process, under one interpreter lock: a client asking for 50 runs a second kept it 0.8 of a
  core busy; with two such clients every other student's page took 17 times as long to draw, and
  with three none was drawn within 30 s (BENCHMARKS.md). A request over the pace waits until the
  session may run again, merged with any that came meanwhile: the newest widget values win, and a
  click (a trigger) in any of them is kept, as Streamlit itself merges the requests that reach a
  script while it runs.
- and, with the pace, two kinds of timer tick are dropped:
  - a tick from a page the student has left. The browser stops a page's timers when its student
    picks another page, but a redraw of the old page under way can send one more tick, with the
    old page's name, before the new page has come back. Streamlit 1.67 runs a fragment on the page
    its request names, so that tick took the student back to the page they had left (on a busy
    class server, now and then, as a run started or ended).
  - a tick that comes while the session is drawing: a script run under way, or its messages not
    all sent yet. The browser starts a fragment's timer when the message that sets it arrives,
    early in the run that draws the fragment, so on a busy server its first tick can come before
    that run ends. Streamlit then runs the fragment at once after the run, and first throws away
    what of the fragment the run has not yet sent; the run's end then takes out the charts it did
    not send, and the fragment's run draws them anew: the curves blinked out as a run started
    (tests/test_drawing_races.py). The run under way draws the fragment anyway, and the timer's next
    tick comes a moment later.
- and a click on a widget inside a fragment (Replay training, Hidden states' epoch slider) that
  comes while the session is drawing waits until the drawing is over. Streamlit would run it
  right after the drawing, first throwing away what of the fragment the drawing had not sent (as
  for a tick, above), or drop it if the drawing replaced the fragment (page.live makes a new one
  with each drawing of the page): half the clicks on Replay training made as the page was drawn
  again were lost (tests/test_drawing_races.py). Once the drawing is over, a click whose fragment is
  gone runs the whole page, where the same widget is drawn again.

AppTest has no server: it has no upload manager to set, and its script runs never come through a
session's request handler.
"""

from __future__ import annotations

import asyncio
import contextlib
import math
import time
import weakref
from collections.abc import Callable
from dataclasses import dataclass, field

from streamlit import runtime
from streamlit.logger import get_logger
from streamlit.proto.ClientState_pb2 import ClientState
from streamlit.proto.Common_pb2 import FileURLsRequest
from streamlit.proto.WidgetStates_pb2 import WidgetState
from streamlit.runtime.app_session import AppSession
from streamlit.runtime.memory_uploaded_file_manager import MemoryUploadedFileManager

# Streamlit's own merge of two requests' widget states (it keeps the older one's click); pinned with
# streamlit in requirements.txt, and tests/test_serving.py checks what it does.
from streamlit.runtime.scriptrunner_utils.script_requests import _coalesce_widget_states
from streamlit.runtime.uploaded_file_manager import UploadedFileRec

# Streamlit's own logger: its lines carry the time, and the server's `logger.level` shows the debug
# lines below (each request the pacer drops or holds, named by its session)
_log = get_logger(__name__)


def refuse_developer_requests() -> None:
    """Ignore a client's "clear caches" and "load git info" messages.

    Only Streamlit's developer menu and Deploy button send them, and `client.toolbarMode = "viewer"`
    hides both from every browser; but the server takes them from any client.

    - "Clear caches" cleared every `st.cache_resource` of the server process: the training pool,
      the shelf of closed tabs' runs, and each session's guard, whose release stops that session's
      run. One hand-made client's message stopped another student's run mid-training ("Stopped by
      request during epoch 19"). Nothing RNN Lab caches needs clearing while it serves: new code
      needs a restart (.streamlit/config.toml).
    - "Load git info" looks for the app's git repository on the server's event loop, which every
      student's page waits on: 200 such messages cost it 2.1 s of CPU.
    """

    def refuse(session: AppSession) -> None:
        _log.warning("A client sent a developer's request; ignored (session %s)", session.id[:8])

    AppSession._handle_clear_cache_request = refuse
    AppSession._handle_git_information_request = refuse


def limit_upload_requests(most: int) -> None:
    """Ignore a client's request for the upload addresses of more than `most` files.

    A browser asks for an address for each file its student picks, and Streamlit answers with one
    per name, built on the server's event loop, without a limit: a 3 MB message naming a million
    files kept the server busy for 7 s, every student's page with it, and lifted its memory by
    770 MB at the peak (the smallest Streamlit Community Cloud box has 690 MB in all).
    """
    handle = AppSession._handle_file_urls_request

    def limited(session: AppSession, request: FileURLsRequest) -> None:
        if len(request.file_names) > most:
            _log.warning("A client asked for %d upload addresses; ignored", len(request.file_names))
            return
        handle(session, request)

    AppSession._handle_file_urls_request = limited


def keep_one_upload_per_session() -> None:
    """Keep only the newest file each session uploaded in the server's memory.

    Streamlit keeps every file a session sends to /_stcore/upload_file/<session>/<file id> for as
    long as the session lives, each up to maxUploadSize (8 MB) but with no limit on how many: a
    hand-made client sent 20 files in two seconds and the server grew by 140 MB, and nothing stopped
    it at a hundred. The app has one uploader, which takes one file at a time, so a session's
    earlier files are never read again.
    """
    manager = runtime.get_instance().uploaded_file_mgr if runtime.exists() else None
    if not isinstance(manager, MemoryUploadedFileManager):
        return
    add_file = manager.add_file

    def add_newest(session_id: str, file: UploadedFileRec) -> None:
        kept = manager.file_storage.get(session_id, {})
        for earlier in [file_id for file_id in kept if file_id != file.file_id]:
            manager.remove_file(session_id, earlier)
        add_file(session_id, file)

    manager.add_file = add_newest


@dataclass
class RerunPace:
    """One session's allowance of script runs: a token bucket. It holds up to `burst` runs and
    gains `per_second` a second; each run started spends one. A page that polls (every 0.3 s at the
    fastest, views/train.py) and a student who clicks as fast as a hand can never empty it. It also
    keeps what the pacer needs to know of the session's requests."""

    per_second: float
    burst: float
    now: float  # when the bucket was last filled up, on the Pacer's clock (a server's: time.monotonic)
    tokens: float = field(init=False)
    waiting: ClientState | None = None  # the request held back until the session may run again
    # the page the newest full run was asked for, by its script's hash ("" until a request names
    # one: a browser's first request may not, and Streamlit then opens the page its address names)
    page: str = ""
    page_since: float = 0.0  # when that request came
    drawing_since: float | None = None  # when the pacer first saw the session's drawing under way

    def __post_init__(self) -> None:
        self.tokens = self.burst

    def wait(self, now: float) -> float:
        """Seconds until a run may start: 0 (and the run spent) if it may start now."""
        self._fill(now)
        if self.tokens >= 1:
            self.tokens -= 1
            return 0.0
        return (1 - self.tokens) / self.per_second

    def spend(self, now: float) -> None:
        """A held-back run starts, when `wait` said it could."""
        self._fill(now)
        self.tokens -= 1

    def _fill(self, now: float) -> None:
        self.tokens = min(self.burst, self.tokens + (now - self.now) * self.per_second)
        self.now = now


def merge(older: ClientState, newer: ClientState) -> ClientState:
    """One request that does what two did, one after the other.

    The newer request's widget values win, and the older one's click stays (Streamlit's own merge).
    A full run of the page also runs every fragment on it, so a full run and a fragment's run merge
    into the full run (a timer tick that comes after a click that opened another page must not take
    the student back), and two different fragments' runs into a full run.
    """
    merged = ClientState()
    fragments = {older.fragment_id, newer.fragment_id}
    merged.CopyFrom(older if newer.fragment_id and not older.fragment_id else newer)
    if len(fragments) == 2 and "" not in fragments:
        merged.fragment_id, merged.is_auto_rerun = "", False
    elif merged.fragment_id:  # one fragment's: a timer tick only if both were (a click is never one)
        merged.is_auto_rerun = older.is_auto_rerun and newer.is_auto_rerun
    states = _coalesce_widget_states(older.widget_states, newer.widget_states)
    if states is not None:
        merged.widget_states.CopyFrom(states)
    return merged


def left(session: AppSession, tick_page: str, newest_page: str) -> bool:
    """Whether a fragment's run was asked for on a page the student has left since. Only the app's
    own pages are told apart; a name the app does not list is never taken for another page: no name
    ("", the page the address names), or the main script's hash, Streamlit's name for the default
    page until the browser hears the page's own (a first load's `new_session` carries the one, the
    run's `navigation` message the other)."""
    if not tick_page or not newest_page or tick_page == newest_page:
        return False
    pages = session.get_pages()
    return tick_page in pages and newest_page in pages


def tick(client_state: ClientState) -> bool:
    """Whether a request is a fragment's timer tick (not a click on a widget inside a fragment)."""
    return bool(client_state.fragment_id) and client_state.is_auto_rerun


def whole_page(client_state: ClientState) -> ClientState:
    """The same request, for a full run of the page."""
    full = ClientState()
    full.CopyFrom(client_state)
    full.fragment_id, full.is_auto_rerun = "", False
    return full


# The longest the pacer takes a session to be drawing (Pacer._drawing): a drawing takes a fraction
# of a second, seconds on a busy class server. Past it, a tick or a click in a fragment goes on to
# Streamlit's own queue, as before the pacer kept them back: a page must never stop redrawing. It also
# bounds how long after a page was asked for a tick from another page is dropped as one from a page
# left. Without that bound a page froze in CI (every tick unanswered for 120 s, the server idle): the
# same page went by two names, the main script's hash and its own, and its ticks were taken for a
# page left's for good. `left` now tells only the app's own pages apart; the bound stays, so that no
# other mismatch of names can ever freeze a page (test_serving).
DRAWING_WAIT_SECONDS = 10.0


class Pacer:
    """Holds back a session's requests for a script run beyond its `RerunPace`, merging those that
    wait, and hands each request that may run to `handle` (Streamlit's own handler). A fragment's
    run asked for on another of the app's pages than the newest full run was asked for, within
    DRAWING_WAIT_SECONDS of that request, is dropped (a tick from a page the student has left), and
    so is a timer tick while the session is drawing (Streamlit's `AppSession.is_settled`: no script
    run under way or queued, and every message sent). A click inside a fragment waits until the
    drawing is over, and runs the whole page if the fragment is gone by then."""

    def __init__(
        self,
        handle: Callable[[AppSession, ClientState | None], None],
        per_second: float,
        burst: float,
        clock: Callable[[], float] = time.monotonic,
    ):
        self.handle, self.per_second, self.burst, self.clock = handle, per_second, burst, clock
        self.paces: weakref.WeakKeyDictionary[AppSession, RerunPace] = weakref.WeakKeyDictionary()

    def __call__(self, session: AppSession, client_state: ClientState | None = None) -> None:
        if client_state is None:  # "run with the state you have": not from a client
            self.handle(session, client_state)
            return
        pace = self.paces.get(session)
        if pace is None:
            pace = self.paces[session] = RerunPace(self.per_second, self.burst, self.clock())
            session.track_settling()  # for is_settled: from the session's first request on
        if session.is_settled:  # any drawing seen before is over: the next is timed from its start
            pace.drawing_since = None
        if not client_state.fragment_id:
            pace.page, pace.page_since = client_state.page_script_hash, self.clock()
        elif left(session, client_state.page_script_hash, pace.page):
            if self.clock() - pace.page_since < DRAWING_WAIT_SECONDS:
                # a tick from a page the student has left: its own run would take them back
                _log.debug(
                    "Session %s: a run of a fragment on page %s, left for %s, dropped",
                    session.id, client_state.page_script_hash, pace.page,
                )  # fmt: skip
                return
            # Long after the newest page was asked for, the page that still ticks is the one shown
            # (that request's run never came, or named the page otherwise than its ticks do): a
            # tick must never be dropped for good.
            pace.page, pace.page_since = client_state.page_script_hash, self.clock()
        if tick(client_state) and self._drawing(session, pace):
            # the run under way draws the fragment; a run of it next would lose what that one drew
            _log.debug("Session %s: a tick while the page draws, dropped", session.id)
            return
        if pace.waiting is not None:  # a request waits already: this one joins it, in order
            pace.waiting = merge(pace.waiting, client_state)
            return
        if self._kept_back(session, pace, client_state):  # a click in a fragment, mid-drawing
            return
        delay = pace.wait(self.clock())
        if delay == 0:
            self._run(session, client_state)
            return
        pace.waiting = client_state
        asyncio.get_running_loop().call_later(delay, self._release, session)
        _log.debug("Session %s: over its pace, a request waits %.2f s", session.id, delay)

    def _drawing(self, session: AppSession, pace: RerunPace) -> bool:
        """Whether the session is drawing (not `is_settled`), for at most DRAWING_WAIT_SECONDS since
        the pacer first saw it so."""
        if session.is_settled:
            pace.drawing_since = None
            return False
        if pace.drawing_since is None:
            pace.drawing_since = self.clock()
        waited = self.clock() - pace.drawing_since
        if waited < DRAWING_WAIT_SECONDS:
            return True
        _log.debug("Session %s: seen drawing for %.0f s, its requests go on", session.id, waited)
        return False

    def _kept_back(self, session: AppSession, pace: RerunPace, request: ClientState) -> bool:
        """Whether a fragment's request waits for the session's drawing to end: a tick is then
        dropped (the drawing draws its fragment), a click is held until the drawing is over."""
        if not request.fragment_id or not self._drawing(session, pace):
            return False
        if not tick(request):
            pace.waiting = request
            asyncio.get_running_loop().create_task(self._after_drawing(session))
            _log.debug("Session %s: a click in a fragment, held until the page is drawn", session.id)
        return True

    def _release(self, session: AppSession) -> None:
        """The pace lets the request that waits run now, unless the session is drawing again and
        it is a fragment's (_kept_back)."""
        pace = self.paces[session]
        waiting, pace.waiting = pace.waiting, None
        if self._kept_back(session, pace, waiting):
            return
        pace.spend(self.clock())
        self._run(session, waiting)

    async def _after_drawing(self, session: AppSession) -> None:
        """Hand on the click that waits for the session's drawing, once that is over (or after
        DRAWING_WAIT_SECONDS), with any request that came meanwhile merged in."""
        pace = self.paces[session]
        with contextlib.suppress(TimeoutError):
            async with asyncio.timeout(DRAWING_WAIT_SECONDS):
                await session.wait_until_settled()
            pace.drawing_since = None  # that drawing is over: the next one is timed from its own start
        waiting, pace.waiting = pace.waiting, None
        pace.spend(self.clock())
        self._run(session, waiting)

    def _run(self, session: AppSession, client_state: ClientState) -> None:
        """Hand a request to Streamlit; a click in a fragment that a full run has replaced since
        (Streamlit drops a request for a fragment that is gone) runs the whole page."""
        fragment = client_state.fragment_id
        if fragment and not tick(client_state) and not session.has_fragment(fragment):
            client_state = whole_page(client_state)
        self.handle(session, client_state)


def well_kinded(session: AppSession, client_state: ClientState) -> ClientState:
    """The request without the widget values a browser never sends: a number that is not finite,
    or a value whose kind is not the one its widget was drawn with (a widget the session has not
    drawn keeps any kind: a browser that comes back after its server restarted sends its page's
    values before the new session has drawn a widget)."""
    widgets = client_state.widget_states.widgets
    kept = [widget for widget in widgets if _of_its_kind(session, widget) and _finite(widget)]
    if len(kept) == len(widgets):
        return client_state
    checked = ClientState()
    checked.CopyFrom(client_state)
    del checked.widget_states.widgets[:]
    checked.widget_states.widgets.extend(kept)
    return checked


# A number box is drawn as taking a float (its metadata's kind), but a browser sends a whole-number
# box's value as an int, and Streamlit then takes that kind for the widget's own.
NUMBERS = frozenset({"double_value", "int_value"})


def _of_its_kind(session: AppSession, widget: WidgetState) -> bool:
    drawn = session.session_state.get_widget_metadata(widget.id)
    sent = widget.WhichOneof("value")  # None: no value (a number box emptied), which Streamlit reads
    if drawn is None or sent is None or sent == drawn.value_type:
        return True
    return {sent, drawn.value_type} <= NUMBERS


def _finite(widget: WidgetState) -> bool:
    """A number box or a slider's value is a finite number (NaN in a whole-number box crashed the
    page: Streamlit turns it into an int)."""
    sent = widget.WhichOneof("value")
    if sent == "double_value":
        return math.isfinite(widget.double_value)
    if sent == "double_array_value":
        return all(math.isfinite(number) for number in widget.double_array_value.data)
    return True


def pace_reruns(per_second: float, burst: float, most_widgets: int) -> None:
    """Pace every session's requests from its client for a script run, each without the widget
    values of the wrong kind, and ignore one with more than `most_widgets` values (see the module's
    docstring). Streamlit's own reruns (a page's `st.rerun()`) do not come this way and are never
    held back."""
    if isinstance(getattr(AppSession, "_pacer", None), Pacer):
        return  # set already, by an earlier run of pool() (a cleared cache)
    pacer = Pacer(AppSession._handle_rerun_script_request, per_second, burst)

    def paced(session: AppSession, client_state: ClientState | None = None) -> None:
        if client_state is not None:  # from a client
            sent = len(client_state.widget_states.widgets)
            if sent > most_widgets:
                _log.warning("A client sent %d widget values at once; ignored", sent)
                return
            client_state = well_kinded(session, client_state)
        pacer(session, client_state)

    AppSession._pacer = pacer
    AppSession._handle_rerun_script_request = paced
