"""What one client may cost the server (dashboard.serving): the pace of a session's script runs, and
how the requests that wait are merged. tests/test_protocol.py floods a real server."""

import asyncio
import math
from types import SimpleNamespace

from streamlit.proto.ClientState_pb2 import ClientState
from streamlit.proto.Common_pb2 import DoubleArray
from streamlit.proto.WidgetStates_pb2 import WidgetState

from conftest import page_timers
from dashboard import limits
from dashboard.serving import DRAWING_WAIT_SECONDS, Pacer, RerunPace, merge, well_kinded


def request(page: str = "train", fragment: str = "", **widgets: object) -> ClientState:
    """A client's request for a script run: `click="Train"` is a button's trigger; any other
    keyword a number widget's value."""
    state = ClientState(page_script_hash=page, fragment_id=fragment, is_auto_rerun=bool(fragment))
    for name, value in widgets.items():
        if name == "click":
            state.widget_states.widgets.append(WidgetState(id=str(value), trigger_value=True))
        else:
            state.widget_states.widgets.append(WidgetState(id=name, double_value=float(value)))
    return state


def widgets(state: ClientState) -> dict[str, object]:
    return {w.id: getattr(w, w.WhichOneof("value")) for w in state.widget_states.widgets}


def test_a_session_may_run_a_burst_at_once_and_then_at_its_pace():
    pace = RerunPace(per_second=2, burst=3, now=100.0)
    assert [pace.wait(100.0) for _ in range(3)] == [0, 0, 0]
    assert pace.wait(100.0) == 0.5  # the bucket is empty: one run more after half a second
    pace.spend(100.5)
    assert pace.wait(100.6) > 0  # and it was spent
    assert pace.wait(110.0) == 0 and pace.tokens == 2  # ten quiet seconds fill it up to the burst only


def test_a_browser_never_meets_the_pace_its_fastest_page_timer_and_a_burst_of_clicks_run_at_once():
    timers = page_timers()
    assert timers["train running"] == 0.3 and len(timers) >= 6  # the views were read
    fastest = min(timers.values())
    pace = RerunPace(limits.RERUNS_PER_SECOND, limits.RERUN_BURST, now=0.0)
    lesson = [tick * fastest for tick in range(int(3600 / fastest))]  # an hour of a run training
    clicks = [1800.0] * 5  # five clicks at once, half way through
    assert all(pace.wait(now) == 0 for now in sorted(lesson + clicks))


def test_requests_that_wait_merge_newest_values_first_and_keep_every_click():
    merged = merge(request(click="train", seed=1, lr=0.01), request(seed=2))
    assert widgets(merged) == {"seed": 2.0, "train": True}
    assert widgets(merge(request(click="train"), request(click="stop"))) == {"stop": True, "train": True}


def test_a_widget_value_of_another_kind_than_its_widget_was_drawn_with_is_dropped():
    """A hand-made client's, and so is a number that is not finite: Streamlit 1.67 reads any kind
    with the widget's own reader, and crashed the page (tests/test_protocol.py). A value of the
    widget's kind, one with no value (a number box emptied) and one for a widget the session has not
    drawn (a browser back after a restart) stay."""
    drawn = {
        "seed": "double_value",  # as Streamlit draws every number box
        "lr": "double_value",
        "scale": "double_array_value",
        "train": "trigger_value",
    }
    metadata = {name: SimpleNamespace(value_type=kind) for name, kind in drawn.items()}
    session = SimpleNamespace(session_state=SimpleNamespace(get_widget_metadata=metadata.get))
    sent = ClientState(page_script_hash="train", query_string="epochs=2")
    sent.widget_states.widgets.extend(
        [
            WidgetState(id="seed", string_value="x"),  # text for a number box
            WidgetState(id="scale", double_value=0.5),  # one number for a slider's list
            WidgetState(id="train", json_value="{]"),  # JSON for a button
            WidgetState(id="lr", double_value=math.nan),  # a number no browser sends
            WidgetState(id="scale", double_array_value=DoubleArray(data=[0.5, math.inf])),
            WidgetState(id="lr", double_value=0.01),
            WidgetState(id="seed", int_value=7),  # a whole-number box's value, as a browser sends it
            WidgetState(id="scale", double_array_value=DoubleArray(data=[0.5])),
            WidgetState(id="train"),
            WidgetState(id="restored", string_value="kept"),
        ]
    )
    checked = well_kinded(session, sent)
    kinds = [(w.id, w.WhichOneof("value")) for w in checked.widget_states.widgets]
    assert kinds == [
        ("lr", "double_value"),
        ("seed", "int_value"),
        ("scale", "double_array_value"),
        ("train", None),
        ("restored", "string_value"),
    ]
    assert (checked.page_script_hash, checked.query_string) == ("train", "epochs=2")
    assert len(sent.widget_states.widgets) == 10  # the request as it came is left alone
    assert well_kinded(session, checked) is checked  # nothing to drop: the same request


def test_a_full_run_and_a_fragment_run_merge_into_the_full_run():
    opened = request(page="compare")  # a click on another page, then a tick of the page it left
    for merged in (
        merge(opened, request(page="train", fragment="live")),
        merge(request(fragment="live"), opened),
    ):
        assert (merged.page_script_hash, merged.fragment_id, merged.is_auto_rerun) == ("compare", "", False)
    ticks = merge(request(fragment="live", seed=1), request(fragment="live", seed=2))
    assert (ticks.fragment_id, ticks.is_auto_rerun, widgets(ticks)) == ("live", True, {"seed": 2.0})
    two = merge(request(fragment="live"), request(fragment="other"))
    assert (two.fragment_id, two.is_auto_rerun) == ("", False)  # a full run runs both


class Session:
    """Stands for Streamlit's AppSession: the pacer tells sessions apart, asks whether one is still
    drawing (`is_settled`, `wait_until_settled`: Streamlit keeps them once `track_settling` was
    called), whether a fragment is still on its page (`has_fragment`), and which pages the app has
    (`get_pages`, keyed by each page's script hash; the main script's, "main", is not one once
    st.navigation has run). The pacer's log names it by its `id`."""

    PAGES = ("train", "hidden", "backprop", "compare")

    def __init__(self, fragments: set[str] = frozenset({"live"})):
        self.id = "a-session"
        self.tracked, self.fragments, self.settled = False, set(fragments), asyncio.Event()
        self.settled.set()

    def track_settling(self) -> None:
        self.tracked = True

    @property
    def is_settled(self) -> bool:
        return self.settled.is_set()

    async def wait_until_settled(self) -> None:
        await self.settled.wait()

    def has_fragment(self, fragment_id: str) -> bool:
        return fragment_id in self.fragments

    def get_pages(self) -> dict[str, dict[str, str]]:
        return {page: {"page_script_hash": page} for page in self.PAGES}


def click_in(fragment: str, button: str, page: str = "train") -> ClientState:
    """A click on a button drawn inside a fragment: the browser asks for that fragment's run."""
    state = request(page, fragment=fragment, click=button)
    state.is_auto_rerun = False
    return state


async def settle() -> None:
    """Let the pacer's waiting tasks see a session's drawing end."""
    for _ in range(5):
        await asyncio.sleep(0)


def test_a_flooding_session_runs_at_its_pace_and_its_last_request_keeps_what_the_others_asked():
    async def flood() -> list[tuple[Session, ClientState, float]]:
        loop = asyncio.get_running_loop()
        handled = []
        pacer = Pacer(lambda s, state: handled.append((s, state, loop.time())), 20, 2, clock=loop.time)
        flooding, other = Session(), Session()
        start = loop.time()
        for number in range(10):  # at once: two run, the other eight wait as one
            pacer(
                flooding,
                request(page=f"page {number}", seed=number, **({"click": "train"} if number == 3 else {})),
            )
        pacer(other, request(page="other"))  # another session is not held back by this one
        pacer(flooding, None)  # not from a client (Streamlit's "run again as you are"): never held
        await asyncio.sleep(0.2)
        return [(s, state, when - start) for s, state, when in handled]

    handled = asyncio.run(flood())
    assert [state.page_script_hash if state else None for _, state, _ in handled] == [
        "page 0",
        "page 1",
        "other",
        None,
        "page 9",
    ]
    *_, (_, last, when) = handled
    assert widgets(last) == {"seed": 9.0, "train": True}  # the newest value, and the click of request 3
    assert when >= 0.05 - 1e-3  # one run more after 1/20 s


def test_a_tick_from_a_page_the_student_left_is_dropped_and_the_new_pages_own_ticks_run():
    async def switch() -> list[ClientState]:
        handled = []
        pacer = Pacer(lambda s, state: handled.append(state), 5, 10)
        session = Session()
        pacer(session, request(page=""))  # a browser's first request: the page its address names
        pacer(session, request(page="train", fragment="live"))  # that page's ticks: its name was not sent
        pacer(session, request(page="hidden"))  # the student picks Hidden states
        pacer(session, request(page="train", fragment="live"))  # Train's late tick: dropped
        pacer(session, request(page="hidden", fragment="live"))  # Hidden states' own
        return handled

    handled = asyncio.run(switch())
    assert [(state.page_script_hash, state.fragment_id) for state in handled] == [
        ("", ""), ("train", "live"), ("hidden", ""), ("hidden", "live")
    ]  # fmt: skip


def test_a_page_asked_for_by_the_main_scripts_name_runs_the_ticks_under_its_own():
    """The same page can go by two names: Streamlit names a first load's page by the main script's
    hash in its `new_session`, and by the page's own in its `navigation` message and later runs. A
    page whose click carried the one name and its ticks the other had every tick dropped as one from
    a page left (a protocol test waited 120 s in vain, the server's log full of such drops). Only the
    app's own pages are told apart."""

    async def two_names() -> list[tuple[str, str]]:
        handled = []
        pacer = Pacer(lambda s, state: handled.append(state), 5, 10)
        session = Session()
        pacer(session, request(page="main"))  # the click, sent with the first load's name
        pacer(session, request(page="train", fragment="live"))  # ticks under the page's own: run
        pacer(session, request(page="hidden"))  # the student picks Hidden states
        pacer(session, request(page="train", fragment="live"))  # Train's late tick: dropped
        pacer(session, request(page="main", fragment="live"))  # a tick under no page of the app's: run
        return [(state.page_script_hash, state.fragment_id) for state in handled]

    assert asyncio.run(two_names()) == [("main", ""), ("train", "live"), ("hidden", ""), ("main", "live")]


def test_a_page_whose_ticks_name_another_page_than_its_newest_click_runs_again_after_the_wait():
    """Whatever else makes a page's ticks name another page than the newest click did (a click whose
    run never came), a tick is taken for one from a page left only within DRAWING_WAIT_SECONDS of
    that click; past it, the page that ticks is the one shown, and a page never freezes."""

    async def mismatched() -> list[tuple[str, str]]:
        now = [0.0]
        handled = []
        pacer = Pacer(lambda s, state: handled.append(state), 5, 10, clock=lambda: now[0])
        session = Session()
        pacer(session, request(page="hidden"))
        now[0] = 1.0
        pacer(session, request(page="train", fragment="live"))  # another page's tick: dropped
        now[0] = DRAWING_WAIT_SECONDS + 0.1
        pacer(session, request(page="train", fragment="live"))  # past the wait: runs
        now[0] += 0.3
        pacer(session, request(page="train", fragment="live"))  # and so on
        now[0] += 0.3
        pacer(session, request(page="hidden", fragment="live"))  # the click's page is now a page left
        return [(state.page_script_hash, state.fragment_id) for state in handled]

    assert asyncio.run(mismatched()) == [("hidden", ""), ("train", "live"), ("train", "live")]


def test_a_click_in_a_fragment_waits_for_every_drawing_however_long_the_page_keeps_being_drawn():
    """A student who moves a slider in Backprop's gradient flow each time the page is drawn again:
    each click waits for its own drawing. The pacer timed a drawing from the first it saw and never
    again once a held click had waited for the end of one, so after DRAWING_WAIT_SECONDS of such
    clicks it handed them on mid-drawing, where Streamlit lost one (a protocol test waited 120 s for
    the part's run, test_drawing_races; the server's log said "seen drawing for 12 s")."""

    async def slide_while_drawn() -> list[tuple[str, bool]]:
        now = [0.0]
        handled = []

        def seen(session: Session, state: ClientState) -> None:  # what ran, and whether mid-drawing
            handled.append((state.fragment_id, session.is_settled))

        pacer = Pacer(seen, 100, 100, clock=lambda: now[0])
        session = Session({"flow"})
        for drawing in range(8):  # one every 2 s, each over in a moment
            now[0] = 2.0 * drawing
            pacer(session, request(page="backprop"))  # the page drawn again...
            session.settled.clear()
            pacer(session, click_in("flow", "scale", page="backprop"))  # ...as the slider moves
            await settle()
            session.settled.set()
            await settle()
        return handled

    # each click handed on after its drawing
    assert asyncio.run(slide_while_drawn()) == [("", True), ("flow", True)] * 8


def test_a_timer_tick_while_the_session_is_drawing_is_dropped_and_a_click_waits_for_the_drawing():
    async def draw() -> tuple[Session, list[tuple[str, dict]]]:
        handled = []
        pacer = Pacer(lambda s, state: handled.append((state.fragment_id, widgets(state))), 5, 10)
        session = Session({"live", "steps"})
        pacer(session, request(click="train"))  # a click: the page is drawn, and sets its timer
        session.settled.clear()  # still drawing when that timer's first tick comes
        pacer(session, request(fragment="live"))  # dropped: the drawing under way draws it
        pacer(session, click_in("steps", "next"))  # a button in a fragment: after the drawing
        await settle()
        assert len(handled) == 1
        session.settled.set()
        await settle()
        pacer(session, request(fragment="live"))  # the next tick, once the drawing is over
        return session, handled

    session, handled = asyncio.run(draw())
    assert session.tracked  # from the session's first request on
    assert handled == [("", {"train": True}), ("steps", {"next": True}), ("live", {})]


def test_a_click_in_a_fragment_that_the_drawing_replaced_runs_the_whole_page():
    """page.live draws a new fragment each time the whole page is drawn, and Streamlit drops a
    request for a fragment that is gone: a click on Replay training as the page was redrawn was lost."""

    async def draw() -> list[tuple[str, dict]]:
        handled = []
        pacer = Pacer(lambda s, state: handled.append((state.fragment_id, widgets(state))), 5, 10)
        session = Session({"live.1"})
        pacer(session, request())  # the page is drawn again...
        session.settled.clear()
        pacer(session, click_in("live.1", "replay"))  # ...as the student clicks in its old drawing
        session.fragments = {"live.2"}  # the drawing's end replaces the fragment
        session.settled.set()
        await settle()
        pacer(session, click_in("live.1", "replay"))  # and a late click, the page long drawn
        return handled

    assert asyncio.run(draw()) == [("", {}), ("", {"replay": True}), ("", {"replay": True})]


def test_a_tick_held_back_by_the_pace_is_dropped_if_the_session_is_drawing_when_its_turn_comes():
    async def hold(drawing: bool) -> list[ClientState]:
        loop = asyncio.get_running_loop()
        handled = []
        pacer = Pacer(lambda s, state: handled.append(state), 20, 1, clock=loop.time)
        session = Session()
        pacer(session, request(click="train"))  # the one run the bucket holds
        pacer(session, request(fragment="live"))  # waits 1/20 s for its turn
        if drawing:
            session.settled.clear()
        await asyncio.sleep(0.1)
        return handled

    assert [state.fragment_id for state in asyncio.run(hold(drawing=True))] == [""]
    assert [state.fragment_id for state in asyncio.run(hold(drawing=False))] == ["", "live"]


def test_a_click_and_a_tick_of_one_fragment_merge_into_a_click():
    merged = merge(click_in("live", "replay"), request(fragment="live"))
    assert (merged.fragment_id, merged.is_auto_rerun, widgets(merged)) == ("live", False, {"replay": True})


def test_a_click_held_back_by_the_pace_waits_for_the_drawing_if_one_is_under_way_when_its_turn_comes():
    async def hold() -> tuple[list[tuple[str, dict]], list[tuple[str, dict]]]:
        loop = asyncio.get_running_loop()
        handled = []
        pacer = Pacer(lambda s, state: handled.append((state.fragment_id, widgets(state))), 20, 1, loop.time)
        session = Session({"steps"})
        pacer(session, request(click="train"))  # the one run the bucket holds
        pacer(session, click_in("steps", "next"))  # waits 1/20 s for its turn...
        session.settled.clear()  # ...and then for the drawing under way
        await asyncio.sleep(0.1)
        during = list(handled)
        session.settled.set()
        await settle()
        return during, handled

    during, after = asyncio.run(hold())
    assert during == [("", {"train": True})]
    assert after == [("", {"train": True}), ("steps", {"next": True})]


def test_a_session_that_seems_to_draw_for_good_gets_its_ticks_again_after_the_drawing_wait():
    """A page must never stop redrawing: past DRAWING_WAIT_SECONDS of one drawing, as the pacer saw
    it, a tick goes on to Streamlit as it did before the pacer kept ticks back."""

    async def stuck() -> list[str]:
        now = [0.0]
        handled = []
        pacer = Pacer(lambda s, state: handled.append(state.fragment_id), 5, 10, clock=lambda: now[0])
        session = Session()
        pacer(session, request())
        session.settled.clear()  # and never set again
        pacer(session, request(fragment="live"))  # dropped: the drawing is under way
        now[0] = DRAWING_WAIT_SECONDS - 0.1
        pacer(session, request(fragment="live"))  # still within the wait
        now[0] = DRAWING_WAIT_SECONDS + 0.1
        pacer(session, request(fragment="live"))  # on to Streamlit
        session.settled.set()
        pacer(session, request(fragment="live"))
        session.settled.clear()  # a new drawing: its own wait
        pacer(session, request(fragment="live"))
        return handled

    assert asyncio.run(stuck()) == ["", "live", "live"]
