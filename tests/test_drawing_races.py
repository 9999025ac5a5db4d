"""Ticks and clicks that reach the server while it draws a student's page (dashboard.serving), by
protocol-level students on a real server.

A page is drawn in one script run, and its messages go out as the run goes. A request that comes
meanwhile for a part of the page that keeps itself up to date (a fragment: its timer's tick, a
click on a widget in it) was queued by Streamlit behind the drawing: it then threw away what of
that part the drawing had not sent yet, or dropped the request if the drawing had replaced the
part. These tests send such requests at once, so that they come mid-drawing on any machine, and
what they check does not depend on how fast the server answers: they are marked `beside` and run
with the quick tests, beside those that wait on a page (scripts/test.sh), with generous timeouts.
"""

import asyncio
import contextlib
import sys

import pytest

from browser_support import long_run_query, server_report, start_server, stop_server
from conftest import ROOT, page_timers
from dashboard import limits, state

sys.path.insert(0, str(ROOT / "benchmarks"))
from protocol_student import ProtocolStudent
from streamlit.proto.Common_pb2 import DoubleArray

# a real server, one for both tests; beside the tests that wait on a page (the docstring says why)
pytestmark = [pytest.mark.slow, pytest.mark.beside, pytest.mark.xdist_group("drawing-races")]

CLICKS = 6  # Train clicks in the tick test: a tick lost charts in half of them, so 1 in 64 passed all
REDRAWS = 4  # page drawings clicked into in the live-part test: half of those clicks were lost
SLIDES = 10  # Backprop drawings a slider is moved into: a third lost their chart, so 1 in 57 passed all
TIMEOUT = 120  # seconds: the whole answer to one request, on a machine busy with the other tests
REPLAY_WAIT = 30  # seconds for a click on Replay training to show the replay: a lost click waits it out


@pytest.fixture(scope="module")
def url(tmp_path_factory):
    """A fresh server with one training place: these students train one run at a time."""
    log = tmp_path_factory.mktemp("server") / "streamlit.log"
    process, url = start_server(log, RNN_LAB_WORKERS="1", STREAMLIT_LOGGER_LEVEL="debug")
    with pytest.MonkeyPatch.context() as patch:  # a wait in vain says what the server did
        patch.setattr(ProtocolStudent, "server_report", staticmethod(server_report(process, log)))
        yield url
    stop_server(process)


def test_a_timer_tick_that_comes_while_a_click_draws_the_page_loses_none_of_its_charts(url):
    """The browser starts a page's timer as the message that sets it arrives, early in the click's
    drawing of the page, so on a busy server a tick can reach the server before that drawing ends.
    Streamlit then ran the tick's fragment as soon as the drawing ended, first throwing away what of
    that fragment the drawing had not sent yet; the drawing's end took out the charts it had not
    sent, and the fragment's run drew them anew: the curves blinked out as a run started (the
    browser test of the run pickers saw it in slow hours). The student here sends each timer's first
    tick at once: 20 of 40 clicks lost a chart, 15 of them both. The server now drops a tick while
    the session is still drawing (dashboard.serving), and every click's drawing keeps its charts."""

    training = page_timers()["train running"]

    async def click_train_then_stop() -> list[list[str]]:
        async with ProtocolStudent(url, query=long_run_query(), tick_at_once=True) as student:
            await student.load()
            drawings = []  # what each Train click's drawing of the page drew, the run training
            for _ in range(CLICKS):
                drawn, student.timer_seconds = len(student.full_runs), None
                await student.click("Train")
                # the click's drawing: the first full run since that sets the page's timer (a drawing
                # of the run stopped before may still come first)
                await student.read_until(
                    lambda d=drawn: any("timer" in r for r in student.full_runs[d:]), TIMEOUT
                )
                drawings.append(next(r for r in student.full_runs[drawn:] if "timer" in r))
                await student.read_until(lambda: round(student.timer_seconds or 0, 3) == training, TIMEOUT)
                await student.click("Stop")  # once the run trains
                await student.read_until(lambda: "Test accuracy" in student.metrics, TIMEOUT)
                student.metrics.clear()
            assert student.exceptions == []
            return drawings

    drawings = asyncio.run(click_train_then_stop())
    charts = [drawing.count("vega_lite_chart") for drawing in drawings]
    assert charts == [2] * CLICKS, drawings  # the loss and accuracy curves, every time


def test_a_click_in_the_pages_live_part_as_the_page_is_drawn_again_is_never_lost(url):
    """Replay training sits in the part of the Train page that keeps itself up to date (page.live),
    and each drawing of the whole page makes that part anew. The browser sends a click there for
    the part as it last drew it, and Streamlit dropped such a click that reached the server as the
    page was drawn again (a click elsewhere, a run's end): the drawing replaced the part, and
    Streamlit drops a request for a part that is gone. Here 6 of 12 such clicks were lost. The
    server now holds the click until the drawing is over, then runs the whole page for it if its
    part is gone (dashboard.serving): every click replays, and the drawing keeps its charts."""
    replaying = "Replaying the run's curves"

    async def redraw_and_click() -> list[tuple[bool, int]]:
        async with ProtocolStudent(url, query="epochs=3") as student:
            await student.load()
            await student.click("Train")
            await student.read_until(lambda: "Replay training" in student.buttons, TIMEOUT)  # the run is over
            seen = []  # each time: whether the click replayed, and the charts the drawing kept
            runs = student.full_runs  # what each full run drew, as the student reads on
            for _ in range(REDRAWS):
                student.texts.clear()
                drawn = len(runs)
                await student.rerun()  # the page drawn again...
                await student.click("Replay training")  # ...as the student clicks its live part
                with contextlib.suppress(TimeoutError):
                    await student.read_until(lambda: any(replaying in t for t in student.texts), REPLAY_WAIT)
                replayed = any(replaying in t for t in student.texts)
                if replayed:  # until the replay is over: the page drawn once more, with no timer
                    await student.read_until(lambda d=drawn: len(runs) > d + 1 and "timer" not in runs[-1])
                seen.append((replayed, runs[drawn].count("vega_lite_chart")))
            assert student.exceptions == []
            return seen

    seen = asyncio.run(redraw_and_click())
    assert seen == [(True, 3)] * REDRAWS  # replayed; the curves and the confusion matrix kept


def test_a_slider_moved_in_a_part_of_the_page_as_the_page_is_drawn_again_leaves_its_chart_in_place(url):
    """Backprop's gradient flow is a fragment of its own, with its sliders and its chart: a slider
    there reruns that part only. A slider moved while the whole page was drawn again ran the part
    straight after the drawing, and Streamlit first threw away what of the part the drawing had not
    sent: the drawing's end took the chart out, and the part's run drew it anew. Here 4 of 12
    drawings lost the chart. The server now holds the slider's request until the drawing is over
    (dashboard.serving), and the part then runs as it should: 12 of 12 kept it."""

    async def redraw_and_slide() -> tuple[int, list[int]]:
        async with ProtocolStudent(url, query="epochs=3") as student:
            await student.load()
            await student.click("Train")
            await student.read_until(lambda: "Replay training" in student.buttons, TIMEOUT)
            await student.open("Backprop through time")
            runs = student.full_runs
            charts = runs[-1].count("vega_lite_chart")  # as the page is drawn with nothing beside
            kept = []
            for scale in [0.5 + 0.25 * (i % 4) for i in range(SLIDES)]:
                drawn, finished = len(runs), student.finished_runs
                await student.rerun()  # the page drawn again...
                scaled = DoubleArray(data=[scale])  # ...as the student moves "Scale W by"
                await student.send_widget(state.BPTT_SCALE, double_array_value=scaled)
                await student.read_until(  # the drawing, then the part's own run
                    lambda d=drawn, f=finished: len(runs) > d and student.finished_runs > f + 1, TIMEOUT
                )
                kept.append(runs[drawn].count("vega_lite_chart"))
                # two requests a time, at the pace the server allows a session (beyond it, the two
                # that wait are merged into one drawing of the page: dashboard.serving)
                with contextlib.suppress(TimeoutError):
                    await student.read_until(lambda: False, 2 / limits.RERUNS_PER_SECOND)
            assert student.exceptions == []
            return charts, kept

    charts, kept = asyncio.run(redraw_and_slide())
    assert charts >= 1 and kept == [charts] * SLIDES, (charts, kept)
