"""A student who speaks Streamlit's websocket protocol and renders nothing: a class on one machine.

30 Chromium renderers on the server's own two cores measure the browsers, not the app. A
protocol-level student costs the server exactly what a browser costs it (the same script runs,
the same fragment polls), and costs the benchmark machine almost nothing. It does what the
frontend does (Streamlit 1.67, checked against its messages):

- open `/_stcore/stream` offering the subprotocols `streamlit`, the XSRF cookie's token (or the
  frontend's placeholder) and, on a reconnect, the session it had; send `rerun_script` with the
  page's query string, and read `ForwardMsg`s;
- click a button: a `rerun_script` whose widget states hold the button's id with a trigger, and,
  for a widget drawn inside a fragment, that fragment's id (Streamlit then reruns only that part);
- honour fragment timers: `auto_rerun(interval, fragment_id)` starts a timer that sends
  `rerun_script(fragment_id, is_auto_rerun=True)`; `stop_auto_rerun` and a full run's
  `new_session` (no fragment ids) cancel them. The frontend starts a timer as its message arrives,
  early in the run that draws the fragment, so on a busy server a tick can reach it before that
  run ends; `tick_at_once` sends each new timer's first tick at once, to be sure of it;
- open another page: its timers stop, then a `rerun_script` with that page's script hash. The page
  on show is named as the frontend names it: by each `new_session` (for a first load, the main
  script's hash), then by the run's `navigation` message (the page's own hash, and every page's).
"""

from __future__ import annotations

import asyncio
import heapq
import itertools
import time
from collections import deque
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import ClassVar

import websockets
from streamlit.proto.BackMsg_pb2 import BackMsg
from streamlit.proto.ForwardMsg_pb2 import ForwardMsg
from streamlit.proto.WidgetStates_pb2 import WidgetState


@dataclass
class ProtocolStudent:
    """One browser session, driven over the websocket."""

    url: str  # http://127.0.0.1:PORT
    query: str = ""  # the page address's query string, without "?"
    cookie: str = ""  # the Cookie header a browser would send (a proxy's affinity cookie)
    xsrf: str = ""  # the _streamlit_xsrf cookie's token, which the frontend offers as a subprotocol
    old_session: str = ""  # on a reconnect, the session the browser had, as the frontend names it
    session_id: str = ""  # this connection's session, as the server names it in new_session
    buttons: dict[str, str] = field(default_factory=dict)  # label -> widget id
    fragment_of: dict[str, str] = field(default_factory=dict)  # widget id -> the fragment it is in, or ""
    widgets: dict[str, str] = field(default_factory=dict)  # the app's key for a widget -> widget id
    metrics: dict[str, str] = field(default_factory=dict)  # label -> value shown
    texts: list[str] = field(default_factory=list)  # every text, caption and message box drawn, in order
    exceptions: list[str] = field(default_factory=list)  # uncaught errors the page showed
    page_hash: str = ""  # the page on show, as the newest new_session or navigation message names it
    pages: dict[str, str] = field(default_factory=dict)  # page name -> page script hash
    timer_seconds: float | None = None  # the interval of the newest fragment timer the server set
    timer_fragment: str = ""  # the fragment that timer reruns
    finished_runs: int = 0  # script runs (full or fragment) the server has finished
    follow_timers: bool = True  # False: a tab nobody looks at, whose page timers never fire
    drawn_in: list[str] = field(default_factory=list)  # each element's fragment id ("": not in one)
    tick_at_once: bool = False  # each new timer's first tick goes as soon as the timer is set
    # what each full run of the page that ended as it should (FINISHED_SUCCESSFULLY) drew, in order:
    # its elements' kinds ("vega_lite_chart", "button", ...), all the browser then keeps, and "timer"
    # where it set a fragment's timer
    full_runs: list[list[str]] = field(default_factory=list)
    # the newest messages each way, in words, for a failure to say what was going on: a deque each,
    # so that a page's timer ticking three times a second for minutes keeps what the server sent last
    sent: deque[tuple[int, str]] = field(default_factory=lambda: deque(maxlen=40))  # (order, words)
    got: deque[tuple[int, str]] = field(default_factory=lambda: deque(maxlen=40))
    # what else a TimeoutError should say, given this student's session id: a test sets it to read
    # the server's log and threads (browser_support.server_report)
    server_report: ClassVar[Callable[[str], str] | None] = None
    _born: float = field(default_factory=time.monotonic)  # the times in `recent` count from here
    _order: Iterator[int] = field(default_factory=itertools.count)  # numbers the notes, both ways
    _timers: dict[str, asyncio.Task] = field(default_factory=dict)
    # the run under way: whether it is a full run, and what it has drawn so far
    _run: tuple[bool, list[str]] = field(default_factory=lambda: (False, []))
    _ws: object = None

    async def connect(self) -> None:
        stream = self.url.replace("http://", "ws://") + "/_stcore/stream"
        headers = {"Cookie": self.cookie} if self.cookie else {}
        offered = [  # as the frontend offers them (its getSessionTokens)
            "streamlit",
            self.xsrf or "PLACEHOLDER_AUTH_TOKEN",
            *([self.old_session] if self.old_session else []),
        ]
        # max_queue=None: messages the student has not read yet never stop the connection, so a
        # student that sat waiting while its timers ran closes at once (not after a 10 s timeout)
        self._ws = await websockets.connect(
            stream, subprotocols=offered, additional_headers=headers, max_size=None, max_queue=None
        )

    @property
    def answer_headers(self) -> dict[str, str]:
        """The headers of the server's answer to the websocket's opening (a proxy adds its own)."""
        return self._ws.response.headers

    async def close(self) -> None:
        for timer in self._timers.values():
            timer.cancel()
        await self._ws.close()

    async def __aenter__(self) -> ProtocolStudent:
        await self.connect()
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.close()

    async def _send(
        self,
        widget_states: list[WidgetState] = (),
        fragment_id: str = "",
        page_hash: str | None = None,
        timer: bool = False,
    ) -> None:
        """A `rerun_script`: of the page, or of one fragment (`timer`: its timer's tick)."""
        message = BackMsg()
        state = message.rerun_script
        state.query_string = self.query
        state.page_script_hash = self.page_hash if page_hash is None else page_hash
        state.widget_states.widgets.extend(widget_states)
        state.fragment_id, state.is_auto_rerun = fragment_id, timer
        clicked = [w.id.rsplit("-", 1)[-1] for w in widget_states if w.HasField("trigger_value")]
        self._note(
            self.sent, f"sent: run {'fragment ' + fragment_id[:8] if fragment_id else 'page'}", *clicked
        )
        await self._ws.send(message.SerializeToString())

    def _note(self, way: deque[tuple[int, str]], *words: str) -> None:
        way.append((next(self._order), f"{time.monotonic() - self._born:.2f} s " + " ".join(words)))

    @property
    def recent(self) -> list[str]:
        """The newest messages each way, in the order they were sent and read."""
        return [words for _, words in heapq.merge(self.sent, self.got)]

    async def load(self) -> None:
        """Open the page: one full script run."""
        runs = self.finished_runs
        await self._send()
        await self.read_until(lambda: self.finished_runs > runs)

    async def rerun(self, widget_states: list[WidgetState] = ()) -> None:
        """Ask for a full run of the page, with these widgets' values only (as a hand-made client
        may: Streamlit then drops the others'), and read nothing of it."""
        await self._send(widget_states)

    async def send(self, message: BackMsg) -> None:
        """Any message a client may send (a hand-made one: "clear caches", upload addresses, ...),
        and read nothing of what comes back."""
        await self._ws.send(message.SerializeToString())

    async def click(self, label: str) -> None:
        widget = self.buttons[label]
        await self._send([WidgetState(id=widget, trigger_value=True)], self.fragment_of.get(widget, ""))

    async def set_widget(self, key: str, **value: object) -> None:
        """Send one widget's value as a hand-made client may, such as an option the widget does not
        offer (`set_widget("cfg_task", string_value="banana")`), and read until the page is drawn."""
        runs = self.finished_runs
        await self.send_widget(key, **value)
        await self.read_until(lambda: self.finished_runs > runs)

    async def send_widget(self, key: str, **value: object) -> None:
        """Send one widget's value, as the frontend does when it changes (in the fragment it is
        drawn in, if any), and read nothing of what it draws."""
        widget = self.widgets[key]
        await self._send([WidgetState(id=widget, **value)], self.fragment_of.get(widget, ""))

    async def go_to(self, name: str) -> None:
        """Open another page from the navigation, as the frontend does (its onPageChange): stop the
        page's timers, then ask for a full run of the other page."""
        self.stop_timers(list(self._timers))
        await self._send(page_hash=self.pages[name])

    async def open(self, name: str) -> None:
        """Open another page and read until it is drawn. Its own run's end, not any earlier run's:
        a timer's run of the page left may end after the click, unread, as it does in a browser."""
        await self.go_to(name)
        wanted = self.pages[name]
        await self.read_until(lambda: self.page_hash == wanted)  # that page's run has begun
        runs = self.finished_runs
        await self.read_until(lambda: self.finished_runs > runs)

    async def read_until(self, done, timeout: float = 300) -> None:
        """Read and handle messages until `done()` holds. Past the timeout, a TimeoutError that lists
        the newest messages each way and the timers still running."""
        deadline = time.monotonic() + timeout
        while not done():
            try:
                raw = await asyncio.wait_for(self._ws.recv(), max(0.1, deadline - time.monotonic()))
            except TimeoutError:
                said = "\n  ".join(self.recent)
                timers = ", ".join(f[:8] for f in self._timers) or "none"
                report = type(self).server_report
                server = f"\n{report(self.session_id)}" if report else ""
                raise TimeoutError(
                    f"nothing more in {timeout:g} s; timers: {timers}; last:\n  {said}{server}"
                ) from None
            self._handle(ForwardMsg.FromString(raw))

    def _handle(self, message: ForwardMsg) -> None:
        """Do what the frontend does with a message, and keep a line in `recent` for those that say
        what the page does: a run's start and end (with the fragments it ran), a timer set or
        stopped, a metric, message box or error."""
        kind = message.WhichOneof("type")
        if kind in ("new_session", "script_finished"):
            run = message.metadata.run
            ran = "fragment " + ",".join(f[:8] for f in run.fragment_ids) if run.fragment_ids else "page"
            self._note(self.got, f"got: {kind} (run {run.script_run_id[:6]}, {ran})")
        if kind == "new_session":
            self._run = (not message.metadata.run.fragment_ids, [])
            self.session_id = message.new_session.initialize.session_id
            self.page_hash = message.new_session.page_script_hash
            self.pages = {page.page_name: page.page_script_hash for page in message.new_session.app_pages}
            if not message.metadata.run.fragment_ids:  # a full run: the frontend drops its timers
                self.stop_timers(list(self._timers))
        elif kind == "navigation":  # st.navigation ran: the page's own name, and every page's
            self.page_hash = message.navigation.page_script_hash
            self.pages = {page.page_name: page.page_script_hash for page in message.navigation.app_pages}
        elif kind == "delta" and message.delta.WhichOneof("type") == "new_element":
            self.drawn_in.append(message.delta.fragment_id)
            element = message.delta.new_element
            what = element.WhichOneof("type")
            self._run[1].append(what)
            widget = getattr(element, what)
            if "id" in widget.DESCRIPTOR.fields_by_name:
                self.fragment_of[widget.id] = message.delta.fragment_id
                if widget.id.count("-") >= 2:
                    self.widgets[widget.id.split("-", 2)[2]] = widget.id  # "$$ID-<hash>-<key>"
            said = None
            if what == "button":
                self.buttons[element.button.label] = element.button.id
            elif what == "metric":
                self.metrics[element.metric.label] = element.metric.body
                said = f"{element.metric.label} {element.metric.body}"
            elif what == "markdown":
                self.texts.append(element.markdown.body)
            elif what == "alert":
                self.texts.append(said := element.alert.body)
            elif what == "exception":
                self.exceptions.append(said := f"{element.exception.type}: {element.exception.message}")
            if said is not None:
                self._note(
                    self.got,
                    f"got: {what} (fragment {message.delta.fragment_id[:8] or 'none'}): {said[:100]!r}",
                )
        elif kind == "auto_rerun":
            rerun = message.auto_rerun
            self._run[1].append("timer")
            self._note(self.got, f"got: timer {rerun.interval:g} s, fragment {rerun.fragment_id[:8]}")
            self.timer_seconds, self.timer_fragment = rerun.interval, rerun.fragment_id
            if self.follow_timers and rerun.fragment_id not in self._timers:
                self._timers[rerun.fragment_id] = asyncio.create_task(
                    self._tick(rerun.fragment_id, rerun.interval, at_once=self.tick_at_once)
                )
        elif kind == "stop_auto_rerun":
            self._note(self.got, "got: stop timers", *(f[:8] for f in message.stop_auto_rerun.fragment_ids))
            self.stop_timers(list(message.stop_auto_rerun.fragment_ids))
        elif kind == "script_finished":
            self.finished_runs += 1
            full, drawn = self._run
            if full and message.script_finished == ForwardMsg.FINISHED_SUCCESSFULLY:
                self.full_runs.append(drawn)

    def stop_timers(self, fragment_ids: list[str]) -> None:
        """Stop these fragments' timers, as the frontend does on `stop_auto_rerun`."""
        for fragment_id in fragment_ids:
            if timer := self._timers.pop(fragment_id, None):
                timer.cancel()

    async def tick(self, fragment_id: str, page_hash: str | None = None) -> None:
        """What a fragment's timer sends: run that fragment again, on the page the frontend believes
        it shows (`page_hash`: another one, such as a page just left)."""
        await self._send(fragment_id=fragment_id, page_hash=page_hash, timer=True)

    async def _tick(self, fragment_id: str, interval: float, at_once: bool = False) -> None:
        if at_once:
            await self.tick(fragment_id)
        while True:  # the frontend's setInterval
            await asyncio.sleep(interval)
            await self.tick(fragment_id)


async def train_once(url: str, query: str, start: asyncio.Event, timeout: float = 300) -> float:
    """Load the page, wait for the shared start, click Train: seconds until Test accuracy shows."""
    async with ProtocolStudent(url, query) as student:
        await student.load()
        await start.wait()
        started = time.perf_counter()
        await student.click("Train")
        await student.read_until(lambda: "Test accuracy" in student.metrics, timeout)
        return time.perf_counter() - started
