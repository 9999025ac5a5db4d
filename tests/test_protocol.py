"""Students at the protocol level (Streamlit's websocket messages, nothing rendered) on a real server.

- A client that sends only the widget it clicked still gets a working page. Streamlit's browser
  frontend sends every widget's state with each rerun. A client that leaves the settings out (a
  hand-made one, like the benchmarks' protocol-level students) makes Streamlit drop their values;
  the sidebar then keeps each setting's last value (dashboard.controls._keep_values) instead of
  crashing on a missing one, which had stalled a benchmark's whole class.
- The page timers the server sets for a queue: which students' pages look often, and which rarely.
- A timer tick meant for an earlier drawing of a page draws nothing (dashboard.page.live), and one
  from a page the student has left does not take them back to it (dashboard.serving). Ticks and
  clicks that come while a page is drawn: tests/test_drawing_races.py.
- What closed tabs keep makes room for what open ones train (dashboard.keeping), and a browser that
  comes back is told what went.
- Tabs of one browser share one place at a time in the queue, and so do sessions with no cookie.
- A client that asks for script runs as fast as it can gets them at its session's pace, its clicks
  kept; one that sends file after file into its session grows the server by one file at most, and
  one that sends a huge websocket message is cut off before the server reads it.
"""

import asyncio
import contextlib
import functools
import math
import os
import re
import sys
import time

import pytest
import requests
import websockets

from browser_support import (
    lab_run_lasting,
    link_query,
    long_run_query,
    server_report,
    start_server,
    stop_server,
)
from conftest import BIG, ROOT, page_timers
from dashboard import limits, state

sys.path.insert(0, str(ROOT / "benchmarks"))
from procfs import cpu_seconds
from protocol_student import ProtocolStudent
from streamlit.proto.BackMsg_pb2 import BackMsg
from streamlit.proto.Common_pb2 import DoubleArray, StringArray
from streamlit.proto.WidgetStates_pb2 import WidgetState

pytestmark = [pytest.mark.slow, pytest.mark.alone]  # a real server, clients waiting on it


KEPT_MB = 10
SEED = state.CONFIG_KEYS["seed"]


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    """A fresh server with one training place, so that a second run queues, and room for what the
    runs keep (dashboard.keeping) below two of the biggest networks (5.8 MB each). Its log is at
    Streamlit's debug level, and a student that waits in vain says what it holds of the student's
    session, and what the server's threads were doing then (server_report)."""
    log = tmp_path_factory.mktemp("server") / "streamlit.log"
    process, url = start_server(
        log, RNN_LAB_WORKERS="1", RNN_LAB_KEPT_MB=str(KEPT_MB), STREAMLIT_LOGGER_LEVEL="debug"
    )
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(ProtocolStudent, "server_report", staticmethod(server_report(process, log)))
        yield process, url
    stop_server(process)


@pytest.fixture(scope="module")
def url(server):
    return server[1]


def test_clicks_that_leave_the_settings_out_train_the_linked_setup_every_time(url):
    wait = limits.RUN_WALL_SECONDS / 2  # seconds

    async def click_train() -> ProtocolStudent:
        async with ProtocolStudent(url, query="epochs=2&cell=gru&seed=4") as student:
            await student.load()
            # Each 2-epoch run takes seconds, a fresh server's first included. Waiting less than the
            # server's own limit per run (limits.RUN_WALL_SECONDS, 120 s), which would stop a run
            # stuck in its worker and show its model so far, keeps such a hang a failure, told with
            # the server's threads (this test waited 120 s in vain twice in about 25 full runs).
            await student.click("Train")  # the button's state alone: no setting is sent
            await student.read_until(lambda: "Test accuracy" in student.metrics, timeout=wait)
            student.metrics.clear()
            await student.click("Train")  # again, after the page's timer and its reruns: a setting
            # dropped by then crashed the sidebar (KeyError: cfg_task) before it kept its values
            await student.read_until(lambda: "Test accuracy" in student.metrics or student.exceptions, wait)
            return student

    student = asyncio.run(click_train())
    assert student.exceptions == []
    for run in (1, 2):  # both trained the setup the link gave, though no click sent a setting
        assert any(f"Run {run}: lab, gru; hidden size 32, 2 epochs, seed 4" in text for text in student.texts)


def test_of_the_queued_runs_only_the_one_next_in_line_has_its_page_look_often(url):
    """A queued page looks every 2.5 s (a class of them is cheap); the run next in line starts as
    soon as the place is free, and its page looks twice a second to show it from its first epochs."""
    seconds = {mode: page_timers()[f"train {mode}"] for mode in ("running", "next", "queued")}

    def timer(student: ProtocolStudent) -> float | None:
        """The page's timer in seconds (the protocol carries it as a 32-bit float)."""
        return None if student.timer_seconds is None else round(student.timer_seconds, 3)

    async def queue() -> None:
        long, short = long_run_query(), "epochs=3"
        async with (
            ProtocolStudent(url, long) as a,
            ProtocolStudent(url, long) as b,
            ProtocolStudent(url, short) as c,
        ):
            for student in (a, b, c):
                await student.load()
            await a.click("Train")
            await a.read_until(lambda: timer(a) == seconds["running"], timeout=60)
            await b.click("Train")
            await b.read_until(lambda: b.timer_seconds is not None)
            await c.click("Train")
            await c.read_until(lambda: c.timer_seconds is not None)
            assert (timer(b), timer(c)) == (seconds["next"], seconds["queued"])
            await a.click("Stop")  # b's run starts; c is next in line now, and its page notices
            await b.read_until(lambda: timer(b) == seconds["running"], timeout=10)
            await c.read_until(lambda: timer(c) == seconds["next"], timeout=10)
            await b.click("Stop")
            await c.read_until(lambda: "Test accuracy" in c.metrics, timeout=60)
            assert a.exceptions == b.exceptions == c.exceptions == []

    asyncio.run(queue())


def test_a_browsers_second_tab_and_sessions_without_a_cookie_queue_behind_other_browsers(url):
    """Tabs of one browser share its cookie, and so one place at a time in the queue
    (pool._line_up); sessions that send no cookie (scripts) share one place between them all."""

    def cookies() -> dict[str, str]:
        browser = requests.Session()
        browser.get(url + "/_stcore/health", timeout=10)
        token = browser.cookies["_streamlit_xsrf"]
        return {"cookie": f"_streamlit_xsrf={token}", "xsrf": token}

    said = []  # whether each page said why it waits behind others' first runs

    async def queue() -> list[int]:
        mine, theirs = cookies(), cookies()
        async with (
            ProtocolStudent(url, long_run_query(), **mine) as first_tab,
            ProtocolStudent(url, "epochs=3", **mine) as second_tab,
            ProtocolStudent(url, "epochs=3") as script,
            ProtocolStudent(url, "epochs=3") as another_script,
            ProtocolStudent(url, "epochs=3", **theirs) as other,
        ):
            students = (second_tab, script, another_script, other)  # they click in this order
            for student in (first_tab, *students):
                await student.load()
            await first_tab.click("Train")
            await first_tab.read_until(lambda: round(first_tab.timer_seconds or 0, 3) == 0.3, timeout=60)
            places = []  # while its run trains (the page redraws every 0.3 s: views/train.py)
            for student in students:
                await student.click("Train")
                await student.read_until(lambda s=student: any("in the queue" in t for t in s.texts))
                place = next(t for t in student.texts if "in the queue" in t)
                places.append(int(re.search(r"you are number (\d+) in the queue", place).group(1)))
                said.append("other students' first runs go before this one" in place)
            return places

    # each place as its page said right after its click (closing the tabs stops their runs)
    second_tab, script, another_script, other = asyncio.run(queue())
    assert (second_tab, script) == (1, 1)  # the second tab, alone in the queue; the script before it
    assert another_script == 3  # the scripts' second run waits behind the second tab's...
    assert other == 2  # ...and another browser's first run goes before both second runs
    assert said == [True, False, True, False]  # and the pages of both second runs say why


TICK_ROUNDS, TICK_EVERY = 30, 2  # the two ticks, sent again every 2 s until one draws: at most a minute


def test_a_timer_tick_meant_for_an_earlier_drawing_of_the_page_draws_nothing(url):
    """The browser often sends a timer tick together with a click, and Streamlit ran the tick's
    fragment as soon as the click's drawing of the page ended, first throwing away what of that
    fragment the drawing had not sent yet: the curves blinked out and were drawn anew. Each drawing
    of a page now has its own fragment (page.live), so such a tick finds none and draws nothing."""

    async def draw_twice_then_tick() -> tuple[list[list[str]], list[str]]:
        async with ProtocolStudent(url) as student:
            drawings = []
            for _ in range(2):  # the Train page before any run, drawn twice (as a click draws it again)
                student.drawn_in.clear()
                await student.load()
                drawings.append([fragment for fragment in student.drawn_in if fragment])
            student.drawn_in.clear()
            runs = student.finished_runs

            # The server drops a tick that comes while it still draws the page (dashboard.serving), and
            # it can still be drawing just after the student read the drawing's end: once, in a slow
            # hour, both ticks were dropped. A page's timers tick again and again, so these do too.
            def drawn() -> bool:
                return bool(student.drawn_in) and student.finished_runs > runs

            for round_ in range(TICK_ROUNDS):
                await student.tick(drawings[0][0])  # a tick for the first drawing's live part, then
                await student.tick(drawings[1][0])  # one for the part on show, as their timers send them
                try:
                    await student.read_until(drawn, TICK_EVERY)
                    break
                except TimeoutError:  # dropped, both: tick again, or say what the server did
                    if round_ == TICK_ROUNDS - 1:
                        raise
            assert student.exceptions == []
            return drawings, student.drawn_in

    (first, second), after_the_ticks = asyncio.run(draw_twice_then_tick())
    assert first and second and set(first).isdisjoint(second)  # one live part per drawing
    assert after_the_ticks == second  # the part on show drawn once more, nothing for the first


def test_a_hand_made_client_sending_a_task_or_preset_the_app_does_not_offer_gets_a_working_page(url):
    """A browser sends only the options a selectbox shows; a hand-made client may send anything. The
    app's own callbacks looked such a task or preset up and crashed the page (KeyError 'banana').
    (Streamlit's own number inputs still fail on text or NaN from such a client, before any of the
    app's code runs: nothing the app can catch, and only that client's page.)"""

    async def send(key: str) -> ProtocolStudent:
        async with ProtocolStudent(url) as student:
            await student.load()
            await student.set_widget(key, string_value="banana")
            return student

    for key in (state.CONFIG_KEYS["task"], state.PRESET):
        student = asyncio.run(send(key))
        assert student.exceptions == [] and "Train" in student.buttons, (key, student.exceptions)


def test_a_timer_tick_from_a_page_the_student_left_does_not_bring_that_page_back(url):
    """The frontend stops a page's timers when another page is picked, but a redraw of the old page
    already under way (page.live reruns the whole page when a run starts or ends) can send its
    timer again, and a tick from it carries the old page's hash if the new page has not come back within
    the timer's interval (0.3 s while training, on a busy class server). Streamlit 1.67's ScriptRunner
    takes the page from the request even for a fragment rerun, so the session and the browser went
    back to the old page, and the student had to pick the page again. The server now drops a tick
    for another page than the newest full run was asked for (dashboard.serving); the new page's own
    ticks come through."""

    async def switch_then_stale_tick() -> tuple[str, str, list[str]]:
        async with ProtocolStudent(url, query=long_run_query()) as student:
            await student.load()
            await student.click("Train")
            training = 0.3  # views/train.py's timer while a run trains
            await student.read_until(lambda: round(student.timer_seconds or 0, 3) == training, 60)
            train, fragment = student.page_hash, student.timer_fragment  # the live part of the Train page
            assert train == student.pages["Train"]  # by its own name, as a browser names it
            hidden = student.pages["Hidden states"]
            await student.go_to("Hidden states")
            await student.tick(fragment, page_hash=train)  # the old page's late tick, as the new one is drawn
            student.drawn_in.clear()
            await student.read_until(lambda: student.page_hash == hidden, 60)  # the new page's run begins
            with contextlib.suppress(TimeoutError):  # all the server answers within 5 s, or until the
                # race shows: a run of the old page after the new one's (the Train run the click
                # cut short may still end meanwhile)
                await student.read_until(lambda: student.page_hash == train, timeout=5)
            return student.page_hash, hidden, student.drawn_in

    shown, hidden, drawn_in = asyncio.run(switch_then_stale_tick())
    assert shown == hidden
    # Hidden states drawn whole, then redrawn by its own timer (every second while a run trains)
    assert "" in drawn_in and any(drawn_in), drawn_in


def test_a_closed_tabs_network_makes_room_for_an_open_tabs_and_its_browser_is_told_when_back(url):
    browser = requests.Session()  # a browser's cookie jar: the XSRF cookie keys the shelf (session.py)
    assert browser.get(url + "/_stcore/health", timeout=10).text == "ok"
    token, query = browser.cookies["_streamlit_xsrf"], link_query(BIG)

    async def train_big(cookies: bool) -> ProtocolStudent:
        with_cookies = {"cookie": f"_streamlit_xsrf={token}", "xsrf": token} if cookies else {}
        async with ProtocolStudent(url, query, **with_cookies) as student:
            await student.load()
            if not cookies or not any("Welcome back" in text for text in student.texts):
                await student.click("Train")
                await student.read_until(lambda: "Test accuracy" in student.metrics, timeout=120)
            return student

    async def lesson() -> tuple[ProtocolStudent, ProtocolStudent, ProtocolStudent]:
        first = await train_big(cookies=True)  # then the tab closes: its run waits on the shelf
        other = await train_big(cookies=False)  # 2 × 5.8 MB > KEPT_MB: the closed tab's must go
        return first, other, await train_big(cookies=True)  # the first browser comes back

    first, other, back = asyncio.run(lesson())
    note = "To make room on the shared server, run 1's hidden-state snapshots and its trained network"
    assert not any(note in text for text in [*first.texts, *other.texts])
    assert any("Welcome back" in text for text in back.texts)  # its run, from the shelf
    assert (
        any(note in text for text in back.texts)
        and back.metrics["Test accuracy"] == first.metrics["Test accuracy"]
    )
    assert not (first.exceptions or other.exceptions or back.exceptions)


def test_a_client_asking_for_script_runs_as_fast_as_it_can_gets_them_at_its_pace_and_loses_no_click(server):
    """A browser asks for a script run when its student acts or its page's timer comes due, 3.3 times
    a second at most. A hand-made client asking for 100 a second kept the server, which draws every
    student's page, busy: 70 page runs' worth of its CPU in 1.6 s. The server runs each session's
    requests at its pace (dashboard.serving, limits.RERUNS_PER_SECOND); those that wait are merged,
    so a click of Train in the middle of a flood still trains. (A setting sent after runs that the
    flood cut short crashed the page: controls._on_setting.)"""
    process, url = server
    server_cpu = functools.partial(cpu_seconds, [process.pid])

    async def flood(student: ProtocolStudent, click_at: int | None = None) -> tuple[float, float]:
        """100 requests, one every 10 ms, then a page load: the server's CPU seconds, and the wall's.
        With `click_at`, that one clicks Train and the last one sets the seed to 7."""
        cpu, started = server_cpu(), time.monotonic()
        for number in range(100):
            if number == click_at:
                await student.click("Train")
            else:
                seed = (
                    [WidgetState(id=student.widgets[SEED], int_value=7)] if click_at and number == 99 else []
                )
                await student.rerun(seed)
            await asyncio.sleep(0.01)
        await student.load()  # the last request waits its turn too
        return server_cpu() - cpu, time.monotonic() - started

    async def measure() -> tuple[float, float, float, ProtocolStudent]:
        async with ProtocolStudent(url, query="epochs=1", follow_timers=False) as student:
            for _ in range(2):
                await student.load()  # the page's first runs fill Streamlit's caches
            cpu = server_cpu()
            for _ in range(10):
                await student.load()
            page_run = (server_cpu() - cpu) / 10
            flooded, seconds = await flood(student)
        async with ProtocolStudent(url, query="epochs=1") as clicked:
            await clicked.load()
            await flood(clicked, click_at=50)
            await clicked.read_until(lambda: "Test accuracy" in clicked.metrics or clicked.exceptions, 120)
        return page_run, flooded, seconds, clicked

    page_run, flooded, seconds, clicked = asyncio.run(measure())
    allowed = limits.RERUN_BURST + limits.RERUNS_PER_SECOND * seconds + 1
    assert flooded <= 1.5 * allowed * page_run, (flooded / page_run, allowed)  # (70 page runs before)
    assert clicked.exceptions == []
    run = re.compile(r"Run 1: lab, rnn; hidden size 32, 1 epoch, seed [07]\b")  # the seed may come first
    assert any(run.search(text) for text in clicked.texts)


def test_a_clients_developer_requests_stop_no_students_run_and_cost_the_server_nothing(server):
    """Streamlit's "clear caches" and "load git info" messages (its developer menu and Deploy
    button, hidden from every browser here) came from any client. "Clear caches" cleared every
    st.cache_resource: each session's guard was released, which stops its run, and one such message
    stopped another student's run mid-training. 200 "load git info" cost the server 2.1 s of CPU on
    the loop every page waits on. Both are now ignored (dashboard.serving.refuse_developer_requests)."""
    process, url = server

    async def send_while_training() -> tuple[ProtocolStudent, ProtocolStudent, float]:
        async with ProtocolStudent(url, link_query(lab_run_lasting(3))) as student:
            await student.load()
            await student.click("Train")
            training = page_timers()["train running"]  # the page's timer while its run trains
            await student.read_until(lambda: round(student.timer_seconds or 0, 3) == training, timeout=60)
            async with ProtocolStudent(url, query="epochs=1") as client:
                await client.load()
                cpu = cpu_seconds([process.pid])
                for request in ["clear_cache"] + ["load_git_info"] * 200:
                    await client.send(BackMsg(**{request: True}))
                await client.load()  # after the messages: a session's messages are handled in order
                spent = cpu_seconds([process.pid]) - cpu
            await student.read_until(lambda: "Test accuracy" in student.metrics, timeout=60)
            return student, client, spent

    student, client, spent = asyncio.run(send_while_training())
    assert not any("Stopped by request" in text for text in student.texts)
    assert any(text.startswith("Trained for ") for text in student.texts)
    assert client.pages and not (student.exceptions or client.exceptions)  # the client's page is drawn
    assert spent < 0.5  # a page run and 201 messages ignored (2.1 s before)


# Values no browser sends a widget here: each is another kind than most widgets take, a number that
# is not finite is one no widget takes, and no run has the name sent for the runs to compare.
NONSENSE = [
    {"string_value": "x"},
    {"double_value": math.nan},
    {"double_array_value": DoubleArray(data=[1e9, 2])},
    {"json_value": "{]"},
    {"bool_value": True},
    {"string_array_value": StringArray(data=["zz"])},
]


def test_a_client_sending_its_widgets_values_no_browser_sends_gets_its_pages_drawn_as_before(url):
    """Streamlit 1.67 reads whatever kind of value comes with a widget's own reader: text or NaN in
    a number box, JSON for a button or one number for a slider crashed the page, most of them for
    good (the session's every later drawing of that page raised again). The server drops a value a
    browser never sends (dashboard.serving.well_kinded), and the widget keeps its value. Compare's
    choice of runs, sent a run the session does not have, crashed too: it now picks none."""

    async def send_nonsense() -> tuple[ProtocolStudent, list[str], list[str], list[str]]:
        async with ProtocolStudent(url, query="epochs=1&seed=3") as student:
            await student.load()
            await student.click("Train")
            await student.read_until(lambda: "Test accuracy" in student.metrics, timeout=60)
            shown = []
            for name in ("Backprop through time", "Compare", "Train"):  # sliders; runs; settings, buttons
                await student.open(name)
                for value in NONSENSE:  # to every widget of the page at once
                    finished = student.finished_runs
                    await student.rerun(
                        [WidgetState(id=widget, **value) for widget in student.widgets.values()]
                    )
                    await student.read_until(lambda f=finished: student.finished_runs > f, timeout=60)
                student.texts.clear()
                await student.load()
                shown.append(list(student.texts))
            await student.click("Train")  # with the settings as they were
            second = re.compile(r"Run 2: lab, rnn; hidden size 32, 1 epoch, seed 3\b")
            await student.read_until(lambda: any(second.search(text) for text in student.texts), timeout=60)
            return student, *shown

    student, backprop, compare, train = asyncio.run(send_nonsense())
    assert student.exceptions == []
    assert any("one step" in text for text in backprop), backprop
    assert "Pick at least one run." in compare and "A session keeps its 10 newest runs." in compare
    assert any("Run 1: lab, rnn; hidden size 32, 1 epoch, seed 3" in text for text in train), train


def test_a_client_sending_file_after_file_into_its_session_grows_the_server_by_one_file_at_most(server):
    """Streamlit keeps each file a session uploads until the session ends, and takes any number;
    the app keeps the newest only (serving.keep_one_upload_per_session)."""
    process, url = server
    browser = requests.Session()
    browser.get(url + "/_stcore/health", timeout=10)
    token, size = browser.cookies["_streamlit_xsrf"], 7 * 1024 * 1024  # under maxUploadSize (8 MB)

    async def send_files(count: int) -> list[int]:
        async with ProtocolStudent(url, cookie=f"_streamlit_xsrf={token}", xsrf=token) as student:
            await student.load()
            answers = []
            for number in range(count):
                answer = browser.put(
                    f"{url}/_stcore/upload_file/{student.session_id}/file-{number}",
                    files={"file": (f"{number}.safetensors", os.urandom(size), "application/octet-stream")},
                    headers={"X-Xsrftoken": token},
                    timeout=30,
                )
                answers.append(answer.status_code)
            return answers

    asyncio.run(send_files(1))  # the server's first upload: what any upload costs it, once
    before = memory_mb(process, "VmRSS")
    assert asyncio.run(send_files(12)) == [204] * 12  # Streamlit took every one: 84 MB sent
    assert memory_mb(process, "VmRSS") - before < 3 * size / 2**20  # (every one kept: +88 MB)


def test_a_client_asking_for_upload_addresses_or_a_run_with_values_by_the_100000_costs_the_server_little(
    server,
):
    """Streamlit answers a request for upload addresses with one per file named, on the server's
    event loop: a 3 MB message naming a million files held the server 7 s and lifted its memory by
    770 MB at the peak. And it reads every widget value a request for a script run carries: 100,000
    (3 MB) cost 2.2 s of CPU a run. A browser asks for an address per file its student picks, and
    sends a value per widget on its page; the server ignores a request for more than a few
    addresses (limits.UPLOAD_ADDRESSES_PER_REQUEST) or with more values than any page has widgets
    (limits.WIDGETS_PER_REQUEST)."""
    process, url = server
    values = [
        WidgetState(id=f"$$ID-{number:032x}-key{number}", int_value=number) for number in range(100_000)
    ]

    async def send(what: str) -> float:
        async with ProtocolStudent(url) as student:
            await student.load()
            cpu, finished = cpu_seconds([process.pid]), student.finished_runs
            if what == "addresses":
                message = BackMsg()
                request = message.file_urls_request
                request.request_id, request.session_id = "r", student.session_id
                request.file_names.extend(["a.safetensors"] * 300_000)
                await student.send(message)
                await student.load()  # after the request: a session's messages are handled in order
            else:
                await student.rerun(values)
                with contextlib.suppress(TimeoutError):  # what the server does in the next 3 s
                    await student.read_until(lambda: False, timeout=3)
                assert student.finished_runs == finished  # no run
            assert student.exceptions == []
            return cpu_seconds([process.pid]) - cpu

    assert asyncio.run(send("addresses")) < 0.5  # (2 s before)
    assert asyncio.run(send("values")) < 0.5  # (2.2 s before)


def test_a_client_sending_a_huge_message_is_cut_off_before_the_server_holds_it(server):
    """Streamlit's own limit (server.maxMessageSize, 200 MB) let one 150 MB message lift the server
    by 290 MB; .streamlit/config.toml sets 16 MB, so it stops at the message's first frame."""
    process, url = server
    huge = os.urandom(100_000_000)  # random: the connection's compression cannot shrink it

    async def send_huge() -> ProtocolStudent:
        async with ProtocolStudent(url) as student:
            await student.load()
            with pytest.raises(websockets.ConnectionClosedError, match="message too big"):
                await student._ws.send(huge)
                await student.read_until(lambda: False, timeout=30)  # the server's answer: it closes
        async with ProtocolStudent(url) as other:
            await other.load()  # and the server goes on serving
            return other

    peak = memory_mb(process, "VmHWM")  # the server's highest memory so far
    other = asyncio.run(send_huge())
    assert (
        memory_mb(process, "VmHWM") - peak < 16 and not other.exceptions and other.pages
    )  # (+200 MB before)


def memory_mb(process, field: str) -> float:
    """A line of the process's /proc status: VmRSS (resident now) or VmHWM (its peak so far)."""
    with open(f"/proc/{process.pid}/status") as status:
        return next(int(line.split()[1]) / 1024 for line in status if line.startswith(field + ":"))


def test_a_student_who_waits_in_vain_says_what_the_page_did_meanwhile(url):
    """A protocol test that times out says what the page did last (a test once waited 120 s for a
    second Test accuracy and said nothing more): the runs, timers and message boxes, each way; then
    what the server's log says of the student's session, and what the server's threads do."""

    async def wait_in_vain() -> tuple[str, str]:
        async with ProtocolStudent(url, query="lr=lots") as student:
            await student.load()
            for _ in range(45):  # a page's timer ticking on (here for a fragment the page never had)
                await student.tick("0" * 32)
            with pytest.raises(TimeoutError) as waited:
                await student.read_until(lambda: False, timeout=0.5)
            return str(waited.value), student.session_id

    said, session_id = asyncio.run(wait_in_vain())
    assert said.startswith("nothing more in 0.5 s; timers: none; last:")
    report, server = said.split(f"\nthe server's log on session {session_id[:8]} (its last 30 lines):\n")
    log, stacks = server.split("\nthe server's threads now:\n")
    lines = report.splitlines()[1:]
    times = [float(line.split(" s ", 1)[0]) for line in lines]
    assert times == sorted(times)  # both ways, in the order they happened
    # the newest 40 it sent, no older (a page's timer ticking on for minutes once took every line)...
    assert report.count("sent: run fragment 00000000") == 40 and "sent: run page" not in report
    # ...and beside them what the server sent
    assert re.search(r"got: new_session \(run \w+, page\)", report)
    assert "got: alert (fragment none): 'This link had settings that could not be used" in report
    assert re.search(r"got: script_finished \(run \w+, page\)", report)
    # the server's log (at debug level) on this session, and on no other
    assert "Created new session for client" in log and session_id in log
    assert all(session_id[:8] in line for line in log.splitlines())
    assert re.search(r"Process \d+: .*streamlit run dashboard/app.py", stacks)  # py-spy names the server
