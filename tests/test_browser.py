"""Real Chromium against `streamlit run`: what only a browser shows.

One server for the module; every test is a separate student: its own tab (a separate Streamlit
session) of a browser the app has never seen (`page`). Debian's Chromium is driven by the playwright
package; nothing is downloaded. Assertions wait on content (`expect`), never on fixed sleeps alone.
"""

import json
import os
import re
import time
from urllib.parse import quote

import pytest

from browser_support import (
    CHROMIUM,
    lab_run_lasting,
    launch_chromium,
    launch_profile,
    link_query,
    long_run_query,
    start_server,
    stop_server,
)

pytestmark = [pytest.mark.browser, pytest.mark.slow, pytest.mark.alone]
if not CHROMIUM.exists() and not os.environ.get("CI"):
    pytest.skip("Debian's chromium is not installed (scripts/test.sh installs it)", allow_module_level=True)

from playwright.sync_api import Locator, Page, expect, sync_playwright  # noqa: E402

from rnn_core import TASKS, TrainConfig, checkpoint, fit  # noqa: E402
from rnn_core.train import make_data  # noqa: E402

TIMEOUT = 30_000  # ms


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    """One server for the module, with one training place: a second browser's run waits in the
    queue (the queued student's test). A browser's own runs train one at a time anyway, and no other
    test has two browsers train at once."""
    log = tmp_path_factory.mktemp("server") / "streamlit.log"
    process, url = start_server(log, RNN_LAB_WORKERS="1")
    yield url
    stop_server(process)


@pytest.fixture(scope="module")
def playwright():
    with sync_playwright() as driver:
        yield driver


@pytest.fixture(scope="module")
def browser(playwright):
    chromium = launch_chromium(playwright)
    yield chromium
    chromium.close()


@pytest.fixture(scope="module")
def profile(playwright, tmp_path_factory):
    """One Chromium profile on disk for the tests' students, one after another. A fresh browser
    context is an incognito profile, which compiles Streamlit's frontend anew for every page it
    opens: about 1.8 s of CPU more per page than a profile on disk, which keeps the compiled code
    (BENCHMARKS.md). `page` wipes everything the app or Streamlit keep in the profile between
    tests; the second of two students at once, or a phone, takes a context of `browser`."""
    context = launch_profile(
        playwright, tmp_path_factory.mktemp("profile"), viewport={"width": 1400, "height": 1000}
    )
    yield context
    context.close()


# What a site can keep in a browser. Chromium's caches are not among them: Playwright's
# `set_storage_state` would empty those too.
SITE_DATA = "cookies,local_storage,indexeddb,service_workers,cache_storage,file_systems"


@pytest.fixture
def page(profile, server):
    """A new student: a new tab (a new Streamlit session) of a browser the app has never seen. The
    cookie that brings a browser's runs back after a reload (dashboard.session) and what Streamlit
    keeps in local storage are wiped; only Chromium's caches stay."""
    page = profile.new_page()
    devtools = profile.new_cdp_session(page)
    devtools.send("Storage.clearDataForOrigin", {"origin": server, "storageTypes": SITE_DATA})
    devtools.detach()
    page.base_url = server
    yield page
    if not page.is_closed():  # a student who closed their tab has nothing left to read
        expect(page.get_by_test_id("stException")).to_have_count(0)  # no uncaught error, ever
        page.close()


def open_app(page: Page, path: str = "/") -> Page:
    page.goto(page.base_url + path)
    expect(page.locator("[data-testid='stApp'][data-test-connection-state='CONNECTED']")).to_be_visible(
        timeout=TIMEOUT
    )
    return page


# The CSS transitions and animations under way on the page now, to their end (one that loops for
# ever, a spinner, is left out): a sidebar sliding open, a slider's ticks fading in. At most 0.5 s:
# on a page that a live run redraws every 0.3 s, a transition is always under way (sampled ten times
# a second: the progress bar's 0.5 s slide in 40 of 40 looks, elements fading as stale for 1.5 s in
# 7), and waiting until nothing moved at all kept a test waiting until its run had ended.
MOTION_OVER = """() => Promise.race([
  Promise.all(document.getAnimations()
    .filter(motion => motion.playState === 'running')
    .filter(motion => motion.effect?.getComputedTiming().endTime !== Infinity)
    .map(motion => motion.finished.catch(() => null))),
  new Promise(resolve => setTimeout(resolve, 500)),
])"""


def wait_until_idle(page: Page) -> None:
    """Until the page's script run has finished (Streamlit marks the app element), every element it
    sent is drawn, and what was moving then has stopped (MOTION_OVER). Streamlit loads the code that
    draws a kind of element (a button, a chart) the first time the page shows one, and until then
    puts a blank stand-in in its place: on two busy cores a fresh browser drew the Train page's
    buttons up to a second after its run had finished. (It waited a fixed 300 ms more, 49 times in
    this file's run. Logged at that moment instead: two of the 49 had a transition still running,
    the sidebar sliding and a slider's ticks fading in, over 0.07 and 0.34 s; the rest nothing.)"""
    expect(page.locator("[data-testid='stApp'][data-test-script-state='notRunning']")).to_have_count(
        1, timeout=TIMEOUT
    )
    expect(page.get_by_test_id("stSkeleton")).to_have_count(0, timeout=TIMEOUT)
    page.evaluate(MOTION_OVER)


def wait_for_charts(page: Page) -> None:
    """Until the page's script run has finished and every chart on it has drawn its marks."""
    wait_until_idle(page)
    # the charts on the page at each look: one an ending rerun removes is not waited for
    page.wait_for_function(
        """() => [...document.querySelectorAll('[data-testid=stVegaLiteChart]')]
                   .every(chart => chart.querySelector('svg g.role-mark'))""",
        timeout=TIMEOUT,
    )


def click(page: Page, name: str) -> None:
    page.get_by_role("button", name=name, exact=True).click()


def pick(page: Page, box: Locator, option: str | re.Pattern) -> None:
    """Choose an option of a selectbox. The box is scrolled to first and left to settle: a list that
    opens while the page is still scrolling closes again (seen on Backprop, whose Run picker is below
    the equations)."""
    box.scroll_into_view_if_needed()
    page.wait_for_timeout(500)
    box.click()
    page.get_by_role("option", name=option).click()


def go_to(page: Page, name: str) -> None:
    """Open one of the app's pages from its navigation (in a window narrower than an XGA projector,
    some of the pages along the top are in an "N more" menu; on a phone they are in the sidebar,
    folded away). Already there, nothing is clicked: that would run the page again while the test
    reads it."""
    if page.get_by_role("heading", name=name, level=1).is_visible():
        return
    if page.get_by_test_id("stSidebarNav").count() and page.get_by_test_id("stExpandSidebarButton").count():
        page.get_by_test_id("stExpandSidebarButton").click()
    link = page.get_by_role("link", name=name)
    more = page.get_by_role("button", name=re.compile(r"^\d+ more$"))
    expect(link.or_(more).first).to_be_visible(timeout=TIMEOUT)  # the navigation is drawn
    if link.is_visible():
        link.click()
    else:
        more.click()
        page.get_by_role("menuitem", name=name).click()
    expect(page.get_by_role("heading", name=name, level=1)).to_be_visible(timeout=TIMEOUT)


def accuracy_metric(page: Page):
    return page.get_by_test_id("stMetric").filter(has_text="Test accuracy")


SPLITS = 3  # points per epoch on the accuracy chart: train (running), train after the epoch, test


POINTS = "g.mark-symbol.role-mark path"  # a line chart's points, as Vega draws them in SVG


def epoch_points(page: Page) -> int:
    """Points drawn on the accuracy chart (the page's second): SPLITS per epoch."""
    return page.get_by_test_id("stVegaLiteChart").nth(1).locator(POINTS).count()


def wait_for_epochs(page: Page, epochs: int, timeout: float = 30.0) -> int:
    """Wait until the accuracy chart shows at least `epochs` epochs; return how many it shows."""
    deadline = time.monotonic() + timeout
    while (shown := epoch_points(page) // SPLITS) < epochs:
        assert time.monotonic() < deadline, f"only {shown} epochs drawn"
        time.sleep(0.1)
    return shown


# Inside the page: every new number of points on the accuracy chart, as the browser draws it. The
# browser keeps the record itself, so a slow test process misses no redraw between its looks.
RECORD_POINTS = f"""() => {{
  window.pointsDrawn = [];
  setInterval(() => {{
    const chart = document.querySelectorAll('[data-testid=stVegaLiteChart]')[1];
    const points = chart ? chart.querySelectorAll('{POINTS}').length : 0;
    if (points && points !== window.pointsDrawn.at(-1)) window.pointsDrawn.push(points);
  }}, 25);
}}"""


# Streamlit updates a chart that keeps its place on the page, and takes out and draws anew one that
# moved: the curves blink out and the page jumps. These tell the two apart.
CHARTS = "[...document.querySelectorAll('[data-testid=stVegaLiteChart]')]"
# Inside the page, from the marking on: each marked chart taken out of the page (its place when it was
# marked), with the time and whether a script was running, so that a failure says what happened when.
WATCH_REMOVALS = """() => {
  if (window.chartsRemoved) return;
  window.chartsRemoved = [];
  const app = document.querySelector('[data-testid=stApp]');
  new MutationObserver(changes => changes.forEach(change => change.removedNodes.forEach(node => {
    if (node.nodeType !== 1) return;
    const marked = [node, ...node.querySelectorAll('[data-seen]')].filter(e => e.dataset?.seen);
    const when = `at ${Math.round(performance.now())} ms, script ${app.dataset.testScriptState}`;
    marked.forEach(chart => window.chartsRemoved.push(`chart ${chart.dataset.seen} ${when}`));
  }))).observe(document.body, {childList: true, subtree: true});
}"""


def mark_charts(page: Page, count: int = 2) -> None:
    """Mark the page's `count` chart elements, once drawn (a fresh page draws its first charts a
    moment after its script has run), and watch for them being taken out."""
    expect(page.get_by_test_id("stVegaLiteChart")).to_have_count(count, timeout=TIMEOUT)
    wait_for_charts(page)
    page.evaluate(WATCH_REMOVALS)
    page.evaluate(f"() => {CHARTS}.forEach((chart, i) => chart.dataset.seen = i)")
    page.evaluate("() => window.chartsRemoved.length = 0")


def assert_charts_kept(page: Page, count: int, new: list[int], when: str) -> None:
    """That, once the page shows `count` charts (while Streamlit swaps a new element in, the old one
    can still be on the page), the charts at places `new` are the only ones not marked by
    mark_charts: the rest kept their elements, they were not drawn anew."""
    expect(page.get_by_test_id("stVegaLiteChart")).to_have_count(count, timeout=TIMEOUT)
    anew = page.evaluate(f"() => {CHARTS}.flatMap((chart, i) => chart.dataset.seen ? [] : [i])")
    removed = page.evaluate("() => window.chartsRemoved")
    assert anew == new, f"charts drawn anew {when}: places {anew}, taken out: {removed}"


def test_a_full_run_draws_its_curves_live_and_ends_with_accuracy_metric(page):
    run = lab_run_lasting(5)
    open_app(page, "/?" + link_query(run))
    expect(page.get_by_text("No run yet")).to_be_visible(timeout=TIMEOUT)
    mark_charts(page)  # the empty curves of the run to come
    page.evaluate(RECORD_POINTS)
    click(page, "Train")
    expect(page.get_by_test_id("stProgress")).to_contain_text("Epoch", timeout=TIMEOUT)
    expect(accuracy_metric(page)).to_contain_text("%", timeout=60_000)
    wait_until_idle(page)  # the page drawn to its end: a chart it replaced is gone
    assert_charts_kept(page, 3, new=[2], when="as the run trained and ended")
    drawn = page.evaluate("() => window.pointsDrawn")  # 0 (a chart being swapped in) is left out
    # the page redraws every 0.3 s once the click's own drawing is over (after the run's first
    # second): about a dozen sizes in 5 s; three on the way to the last leave room for a slow browser
    assert len(drawn) >= 4 and drawn == sorted(drawn), f"the chart did not grow while training: {drawn}"
    assert drawn[-1] == epoch_points(page) == SPLITS * run.epochs
    expect(page.get_by_text(f"Epoch {run.epochs}/{run.epochs} - Loss:")).to_be_visible()


def test_replay_grows_a_finished_runs_curves_again_in_place(page):
    open_app(page, "/")  # the lab run: on a fast machine over before its click's page is drawn
    click(page, "Train")
    expect(accuracy_metric(page)).to_contain_text("%", timeout=TIMEOUT)
    wait_until_idle(page)
    mark_charts(page, 3)  # the curves and the confusion matrix
    page.evaluate(RECORD_POINTS)
    replay = page.get_by_role("button", name="Replay training")
    replay.click()
    expect(page.get_by_text("Replaying the run's curves")).to_be_visible(timeout=TIMEOUT)
    expect(page.get_by_text("Replaying the run's curves")).to_have_count(0, timeout=TIMEOUT)
    wait_until_idle(page)
    drawn = page.evaluate("() => window.pointsDrawn")  # the whole run first, then each frame
    assert drawn[0] == drawn[-1] == SPLITS * 10 and len(drawn) >= 6, drawn
    assert drawn[1:] == sorted(drawn[1:]) and drawn[1] < SPLITS * 5, f"the curves did not grow again: {drawn}"
    assert_charts_kept(page, 3, new=[], when="by the replay")
    expect(replay).to_be_focused()  # a keyboard user can play it again


def test_stop_ends_a_run_at_once_and_keeps_the_model(page):
    open_app(page, "/?" + long_run_query())
    click(page, "Train")
    wait_for_epochs(page, 3)
    mark_charts(page)
    click(page, "Stop")
    expect(page.get_by_text("Stopped by request")).to_be_visible(timeout=5_000)
    expect(accuracy_metric(page)).to_contain_text("%")
    wait_until_idle(page)  # the page drawn to its end: a chart it replaced is gone
    assert_charts_kept(page, 3, new=[2], when="at Stop")
    expect(page.get_by_role("button", name="Train", exact=True)).to_be_enabled()


def test_clicking_a_widget_during_a_run_does_not_kill_it(page):
    open_app(page, "/?" + long_run_query())
    click(page, "Train")
    wait_for_epochs(page, 2)
    sidebar = page.get_by_test_id("stSidebar")
    seed = sidebar.get_by_role("spinbutton", name="Seed")
    sidebar.get_by_test_id("stNumberInput").filter(has_text="Seed").get_by_role(
        "button", name="Increment"
    ).click()
    expect(seed).to_have_value("1")
    wait_for_epochs(page, epoch_points(page) // SPLITS + 3)  # still training, three epochs further on
    expect(page.get_by_text("Stopped by request")).to_have_count(0)
    click(page, "Stop")
    expect(page.get_by_text("Stopped by request")).to_be_visible(timeout=5_000)


def test_try_it_answers_a_good_input_and_explains_a_bad_one(page):
    open_app(page)
    click(page, "Train")
    expect(accuracy_metric(page)).to_be_visible(timeout=TIMEOUT)
    go_to(page, "Try it")
    box = page.get_by_role("textbox", name="Your sequence")
    expect(box).to_be_visible(timeout=TIMEOUT)
    box.fill("9 9 9 9 9 8 9 9 9 9")
    box.press("Enter")
    expect(page.get_by_text("Prediction:")).to_contain_text("high", timeout=TIMEOUT)
    expect(page.get_by_test_id("stVegaLiteChart")).to_have_count(2, timeout=TIMEOUT)
    chart = page.get_by_test_id("stVegaLiteChart").first
    bars, values = chart.locator("g.mark-rect.role-mark path"), chart.locator("g.mark-text.role-mark text")
    expect(bars).to_have_count(2, timeout=TIMEOUT)  # one bar per class...
    expect(values).to_have_count(2)  # ...each with its probability written beside it
    boxes = [bars.nth(i).evaluate("bar => [bar.getBBox().width, bar.getBBox().height]") for i in range(2)]
    assert all(height >= 24 for width, height in boxes if width > 0), boxes  # a 0% bar has no width
    assert all(values.nth(i).text_content().endswith("%") for i in range(2))
    box.fill("9 9 banana")
    box.press("Enter")
    alert = page.get_by_test_id("stAlert").filter(has_text="Unknown token 'banana' at position 3")
    expect(alert).to_contain_text("Allowed: 0 1 2 3 4 5 6 7 8 9", timeout=TIMEOUT)


def test_try_it_brings_back_an_uploaded_checkpoint_and_refuses_a_bad_file(page, tmp_path):
    trained = fit(TrainConfig(task="parity", seq_len=10, num_samples=200, epochs=2))
    good = checkpoint.save(trained, tmp_path / "parity.safetensors")
    bad = tmp_path / "broken.safetensors"
    bad.write_bytes(b"not a checkpoint at all")
    open_app(page, "/try_it")
    expect(page.get_by_text("No trained network yet")).to_be_visible(timeout=TIMEOUT)
    page.locator("input[type=file]").set_input_files(str(bad))
    expect(page.get_by_test_id("stAlert").filter(has_text="could not be loaded")).to_be_visible(
        timeout=TIMEOUT
    )
    page.locator("input[type=file]").set_input_files(str(good))
    box = page.get_by_role("textbox", name="Your sequence")
    expect(box).to_be_visible(timeout=TIMEOUT)
    box.fill("1 0 1 1")
    box.press("Enter")
    expect(page.get_by_text("Prediction at every step:")).to_be_visible(timeout=TIMEOUT)


def test_a_shared_link_restores_the_setup_and_reports_a_bad_value(page):
    open_app(page, "/?task=pattern&cell=gru&epochs=7&lr=lots")
    sidebar = page.get_by_test_id("stSidebar")
    expect(sidebar.get_by_role("spinbutton", name="Epochs")).to_have_value("7", timeout=TIMEOUT)
    expect(sidebar.get_by_role("spinbutton", name="Sequence length")).to_have_value("12")
    expect(sidebar.get_by_role("combobox", name="Cell")).to_have_value("gru")
    expect(sidebar.get_by_role("combobox", name="Task")).to_have_value(TASKS["pattern"].title)
    expect(sidebar.get_by_test_id("stAlert")).to_contain_text("got 'lots'")
    sidebar.get_by_role("spinbutton", name="Hidden size").fill("48")
    sidebar.get_by_role("spinbutton", name="Hidden size").press("Enter")
    expect(page).to_have_url(re.compile(r"[?&]hidden_size=48(&|$)"), timeout=TIMEOUT)
    assert "cell=gru" in page.url and "task=pattern" in page.url and "lr=" not in page.url


def test_a_queued_student_sees_their_place_and_starts_when_a_closed_tab_frees_it(page, browser):
    second = browser.new_context()  # another browser: student B's runs are not A's
    try:
        a, b = page, second.new_page()
        b.base_url = a.base_url
        open_app(b)  # B's page first: A's run need not train while B's browser starts
        mark_charts(b)
        open_app(a, "/?" + long_run_query())
        click(a, "Train")
        wait_for_epochs(a, 1)
        click(b, "Train")  # the server's one place is A's
        waiting = "Waiting for a free place: you are number 1 in the queue (1 run is training now)."
        expect(b.get_by_text(waiting)).to_be_visible(timeout=TIMEOUT)
        a.close()  # student A closes the tab mid-run: their job stops and frees the place
        expect(accuracy_metric(b)).to_contain_text("%", timeout=TIMEOUT)
        expect(b.get_by_text("Trained for 10 epochs.")).to_be_visible()
        wait_until_idle(b)
        assert_charts_kept(b, 3, new=[2], when="after the queue")
    finally:
        second.close()


def test_the_look_inside_pages_draw_their_charts_after_a_run(page):
    open_app(page, "/?epochs=4")  # a replay shows each epoch for 0.8 s: the lab run's 10 add 5 s here
    click(page, "Train")
    expect(accuracy_metric(page)).to_be_visible(timeout=TIMEOUT)
    for name, charts_drawn in (("Hidden states", 2), ("Backprop through time", 2)):
        go_to(page, name)
        charts = page.get_by_test_id("stVegaLiteChart")
        expect(charts).to_have_count(charts_drawn, timeout=TIMEOUT)
        for i in range(charts_drawn):
            expect(charts.nth(i).locator("svg g.role-mark").first).to_be_attached(timeout=TIMEOUT)
        if name == "Hidden states":  # the replay walks the epoch slider from 0 back to 4 by itself
            thumb = page.get_by_test_id("stSliderThumbValue").first
            click(page, "Replay training")
            for epoch in ("0", "2", "4"):
                expect(thumb).to_have_text(epoch, timeout=TIMEOUT)
        if name == "Backprop through time":  # a step back in time: a caption comes, the charts stay
            mark_charts(page)
            page.get_by_role("slider", name="Time step t").press("ArrowLeft")
            expect(page.get_by_text("Step 9 has no label")).to_be_visible(timeout=TIMEOUT)
            wait_until_idle(page)
            assert_charts_kept(page, 2, new=[], when="when t moved")
    expect(page.locator(".katex").first).to_be_visible()  # the equations are typeset
    go_to(page, "Compare")
    page.get_by_role("button", name="Run both").nth(2).click()  # learning rate: right vs too high
    expect(page.get_by_text("It held.")).to_be_visible(timeout=60_000)
    expect(page.get_by_test_id("stVegaLiteChart")).to_have_count(2, timeout=TIMEOUT)
    expect(page.get_by_text("differ in:")).to_contain_text("learning rate (lr): 0.002 → 0.2")


# Markdown, HTML and KaTeX that would show a link, a remote image or a styled lie if rendered.
EVIL = (
    "**Your session expired**[Log in to your school account](https://evil.example/login)"
    "![t](https://evil.example/t.png)<img src='https://evil.example/h.png'><a href='https://evil.example/a'>x</a>"
    "$\\href{https://evil.example/k}{k}$:red[alarm]"
)


def injected(page: Page) -> int:
    """Links or images pointing where the injected text points: 0 unless Markdown or HTML ran."""
    return page.locator("a[href*='evil.example'], img[src*='evil.example']").count()


def test_a_preset_link_keeps_its_name_in_the_address_and_the_sidebar(page):
    open_app(page, "/?preset=remember-lstm&epochs=20")
    sidebar = page.get_by_test_id("stSidebar")
    expect(sidebar.get_by_role("combobox", name="Preset")).to_have_value("remember-lstm", timeout=TIMEOUT)
    expect(sidebar.get_by_text("Changed from remember-lstm: epochs 15 → 20.")).to_be_visible()
    expect(sidebar.get_by_role("spinbutton", name="Epochs")).to_have_value("20")
    page.wait_for_timeout(500)  # the address is rewritten after the first script run, if at all
    assert page.url.endswith("/?preset=remember-lstm&epochs=20")


def test_text_from_a_link_a_text_box_or_a_file_is_shown_as_text_never_as_markdown(page, tmp_path):
    evil = quote(EVIL, safe="")
    open_app(page, f"/?preset={evil}&{evil}=1&epochs={evil}")
    alert = page.get_by_test_id("stSidebar").get_by_test_id("stAlert")
    expect(alert).to_contain_text("Unknown preset", timeout=TIMEOUT)
    expect(alert).to_contain_text("Your session expired")  # shown, as plain text
    assert injected(page) == 0

    trained = fit(TrainConfig(num_samples=100, epochs=1))
    good = checkpoint.to_bytes(trained)
    header_len = int.from_bytes(good[:8], "little")
    header = json.loads(good[8 : 8 + header_len])
    header["__metadata__"]["version"] = EVIL
    header["__metadata__"]["status"] = EVIL
    raw = json.dumps(header).encode()
    crafted = tmp_path / "crafted.safetensors"
    crafted.write_bytes(len(raw).to_bytes(8, "little") + raw + good[8 + header_len :])
    go_to(page, "Try it")
    page.locator("input[type=file]").set_input_files(str(crafted))
    expect(page.get_by_test_id("stAlert").filter(has_text="could not be loaded")).to_be_visible(
        timeout=TIMEOUT
    )
    assert injected(page) == 0

    (tmp_path / "first.safetensors").write_bytes(good)
    markdown_name = tmp_path / "[x](https:evil.example)![i](https:evil.example)**b**.safetensors"
    markdown_name.write_bytes(checkpoint.to_bytes(fit(TrainConfig(num_samples=100, epochs=1, seed=1))))
    page.locator("input[type=file]").set_input_files(str(tmp_path / "first.safetensors"))
    network = page.get_by_role("combobox", name="Network")
    expect(network).to_have_value("Uploaded 1: first.safetensors", timeout=TIMEOUT)
    wait_until_idle(page)  # the page has been redrawn around the uploader: upload into the new one
    page.locator("input[type=file]").set_input_files(str(markdown_name))  # a second upload in a row
    expect(network).to_have_value(re.compile(r"^Uploaded 2: _x__https_evil\.example"), timeout=TIMEOUT)
    box = page.get_by_role("textbox", name="Your sequence")
    box.fill(EVIL[:190])
    box.press("Enter")
    expect(page.get_by_test_id("stAlert").filter(has_text="Unknown token")).to_be_visible(timeout=TIMEOUT)
    assert injected(page) == 0


def test_uploading_after_a_run_brings_the_uploaded_model_in_front(page, tmp_path):
    open_app(page)
    click(page, "Train")
    expect(accuracy_metric(page)).to_be_visible(timeout=TIMEOUT)
    path = checkpoint.save(
        fit(TrainConfig(task="parity", seq_len=10, num_samples=200, epochs=1)), tmp_path / "p.safetensors"
    )
    go_to(page, "Try it")
    network = page.get_by_role("combobox", name="Network")
    expect(network).to_have_value(re.compile(r"^Run 1: lab"), timeout=TIMEOUT)
    page.get_by_text("Upload a checkpoint").click()
    page.locator("input[type=file]").set_input_files(str(path))
    expect(network).to_have_value("Uploaded 1: p.safetensors", timeout=TIMEOUT)
    box = page.get_by_role("textbox", name="Your sequence")
    box.fill("1 0 1 1")
    box.press("Enter")
    expect(page.get_by_text("Prediction at every step:")).to_be_visible(timeout=TIMEOUT)


def test_a_reload_brings_the_runs_back_to_the_same_browser_only(page, browser):
    open_app(page, "/?epochs=3")
    click(page, "Train")
    expect(accuracy_metric(page)).to_be_visible(timeout=TIMEOUT)
    expect(page.get_by_text("wait on this server for 30 minutes")).to_be_visible()
    page.reload()  # F5 mid-lesson
    expect(
        page.get_by_text("Welcome back: 1 run is here again from this browser's earlier tab.")
    ).to_be_visible(timeout=TIMEOUT)
    expect(accuracy_metric(page)).to_be_visible(timeout=TIMEOUT)
    expect(page.get_by_text("Trained for 3 epochs.")).to_be_visible()
    other = browser.new_context()  # another student opening the same link
    try:
        stranger = other.new_page()
        stranger.base_url = page.base_url
        open_app(stranger, "/?epochs=3")
        expect(stranger.get_by_text("No run yet")).to_be_visible(timeout=TIMEOUT)
    finally:
        other.close()


PAGES = ("Train", "Try it", "Hidden states", "Backprop through time", "Compare")


def serious_violations(page: Page) -> list[str]:
    """axe-core's serious and critical findings on the page as it is now (WCAG 2.1 AA rules)."""
    from axe_playwright_python.sync_playwright import Axe

    rules = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "best-practice"]
    # resultTypes: axe checks every rule on every element as before, but works out where each
    # passing element is only for the first (axe-core's API.md, "Performance"): a third of the time
    found = Axe().run(page, options={"runOnly": rules, "resultTypes": ["violations"]})
    return [
        f"{v['id']} ({v['impact']}): {v['nodes'][0]['target']}"
        for v in found.response["violations"]
        if v["impact"] in ("serious", "critical")
    ]


def sweep(page: Page, moment: str, found: dict) -> None:
    """Visit every page and keep what axe-core finds on each."""
    for name in PAGES:
        go_to(page, name)
        wait_for_charts(page)
        found[f"{name}, {moment}"] = serious_violations(page)


def test_every_page_has_no_serious_accessibility_violation_before_and_after_a_run(page):
    page.set_viewport_size({"width": 1280, "height": 720})
    # first, that the check can fail: a page with a nameless button and faint text
    page.set_content("<main><button></button><p style='color:#eee'>faint</p></main>")
    assert {"button-name", "color-contrast"} <= {v.split(" ")[0] for v in serious_violations(page)}
    open_app(page, "/?epochs=3")
    found = {}
    sweep(page, "before a run", found)
    for run, cell in enumerate(("rnn", "lstm"), start=1):
        open_app(page, f"/?epochs=3&cell={cell}")  # a reload: the browser's runs come back with it
        click(page, "Train")
        if run == 1:
            expect(accuracy_metric(page)).to_be_visible(timeout=TIMEOUT)
        else:  # the page shows the newest run, and a picker for the older one
            picker = page.get_by_role("combobox", name="Show run")
            done = re.compile(rf"^Run {run}: lab, {cell}, completed, test ")
            expect(picker).to_have_value(done, timeout=TIMEOUT)
        sweep(page, f"after an {cell} run", found)
    # Backprop shows the sheet's run first; picked, the LSTM's gate equations and gradient flow
    go_to(page, "Backprop through time")
    wait_for_charts(page)
    pick(page, page.get_by_role("combobox", name="Run", exact=True), re.compile(r"^Run 2: lab, lstm"))
    expect(page.get_by_text("Run 2's recurrent layer, one step")).to_be_visible(timeout=TIMEOUT)
    wait_for_charts(page)
    found["Backprop through time, the LSTM picked"] = serious_violations(page)
    assert not any(found.values()), {k: v for k, v in found.items() if v}


def set_epochs(page: Page, epochs: int) -> None:
    sidebar = page.get_by_test_id("stSidebar")
    sidebar.get_by_role("spinbutton", name="Epochs").fill(str(epochs))
    sidebar.get_by_role("spinbutton", name="Epochs").press("Enter")
    expect(page).to_have_url(re.compile(rf"epochs={epochs}(&|$)"), timeout=TIMEOUT)


def test_the_run_pickers_say_what_each_run_is_doing_now(page):
    open_app(page, "/?epochs=3")
    click(page, "Train")
    expect(accuracy_metric(page)).to_be_visible(timeout=TIMEOUT)
    second, third = lab_run_lasting(4), lab_run_lasting(6)  # seen running, the third on Hidden states too
    set_epochs(page, second.epochs)
    mark_charts(page, 3)  # the first run's curves and confusion matrix
    click(page, "Train")  # the second run brings a run picker above the curves
    picker = page.get_by_role("combobox", name="Show run")
    expect(picker).to_have_value("Run 2: lab, rnn, running", timeout=TIMEOUT)
    expect(page.get_by_text(f"Trained for {second.epochs} epochs.")).to_be_visible(timeout=TIMEOUT)
    wait_until_idle(page)
    assert_charts_kept(page, 3, new=[2], when="by the picker")
    completed = r", completed, test \d+\.\d%$"
    expect(picker).to_have_value(re.compile(r"^Run 2: lab, rnn" + completed), timeout=2_000)
    set_epochs(page, third.epochs)  # watched on Hidden states, whose picker must change too
    seed = page.get_by_test_id("stSidebar").get_by_role("spinbutton", name="Seed")
    seed.fill("1")  # other data: its own sequences to pick from
    seed.press("Enter")
    expect(page).to_have_url(re.compile(r"seed=1(&|$)"), timeout=TIMEOUT)
    click(page, "Train")
    expect(picker).to_have_value("Run 3: lab, rnn, running", timeout=TIMEOUT)
    go_to(page, "Hidden states")
    picker = page.get_by_role("combobox", name="Run", exact=True)
    expect(picker).to_have_value("Run 3: lab, rnn, running", timeout=TIMEOUT)
    mark_charts(page)
    expect(picker).to_have_value(re.compile(r"^Run 3: lab, rnn" + completed), timeout=TIMEOUT)
    wait_until_idle(page)  # the page drawn to its end: a chart it replaced is gone
    assert_charts_kept(page, 2, new=[], when="at the end")
    # the sequence picker names the picked run's own first sequence, after another run is picked too
    sequence = page.get_by_role("combobox", name="Sequence for the heatmap")
    for run, seed in ((3, 1), (2, 0)):
        if run == 2:
            pick(page, picker, re.compile(r"^Run 2: "))
        first = TASKS["lab"].render(make_data(TrainConfig(seed=seed))[2][0])
        expect(sequence).to_have_value(re.compile(rf"^1: {first} \(true class"), timeout=TIMEOUT)


def focused(page: Page) -> str:
    """What has the keyboard focus: a button's label, or the element's tag."""
    return page.evaluate(
        "() => { const e = document.activeElement; return e.innerText?.trim() || e.tagName }"
    )


def test_train_and_stop_are_three_tab_presses_away_and_focus_comes_back_to_train_after_a_run(page):
    open_app(page, "/?" + link_query(lab_run_lasting(8, num_samples=2000)))  # Stop lands mid-run
    wait_until_idle(page)
    page.keyboard.press("Tab")  # Streamlit's "Skip to main content" link
    expect(page.get_by_test_id("stSkipToContent")).to_be_focused()
    page.keyboard.press("Enter")  # the link moves the focus to the page's main part
    expect(page.get_by_test_id("stMain")).to_be_focused()
    page.keyboard.press("Tab")  # the page's first button
    page.wait_for_function("() => document.activeElement !== document.getElementById('stMain')")
    assert focused(page) == "Train"
    page.keyboard.press("Space")
    expect(page.locator(".st-key-stop button")).to_be_enabled(timeout=TIMEOUT)
    page.keyboard.press("Tab")  # Train is disabled while it trains: the next stop is Stop
    assert focused(page) == "Stop"
    page.keyboard.press("Space")
    expect(page.get_by_text("Stopped")).to_be_visible(timeout=TIMEOUT)
    page.wait_for_function("() => document.activeElement?.innerText?.trim() === 'Train'", timeout=TIMEOUT)
    page.keyboard.press("Space")  # a second Space trains again
    expect(page.get_by_role("combobox", name="Show run")).to_have_value(re.compile(r"Run 2"), timeout=TIMEOUT)


# Per chart: its accessible name (Vega puts the spec's description there), the plot area's height,
# the share of the chart's width the plot area spans, its smallest text, whether it is a bar chart
# (the probability bars are sized per class), what its x axis says it spans (Vega names each axis,
# e.g. "... linear scale with values from 0 to 15"), any of its text drawn past its box, where the
# page cuts it off (a legend's last key, say), and any text Vega cut short itself to fit the chart's
# width (a title that ends with "…").
MEASURE_CHARTS = """() => [...document.querySelectorAll('[data-testid=stVegaLiteChart]')].map(chart => {
  const plot = chart.querySelector('g.role-frame.root > g > path.background');
  const sizes = [...chart.querySelectorAll('svg text')].filter(t => t.textContent.trim())
    .map(t => parseFloat(getComputedStyle(t).fontSize));
  const name = chart.getAttribute('aria-label') || '';
  const x = [...chart.querySelectorAll('g[aria-label^="X-axis"]')].map(g => g.getAttribute('aria-label'));
  const box = chart.getBoundingClientRect();
  const outside = [...chart.querySelectorAll('svg text')].filter(t => {
    const r = t.getBoundingClientRect();  // a rotated axis title's box overhangs its glyphs: left out
    const rotated = /rotate/.test(t.getAttribute('transform') || '');
    return t.textContent.trim() && !rotated && (r.right > box.right + 3 || r.left < box.left - 3);
  }).map(t => t.textContent.trim());
  const cut = [...chart.querySelectorAll('svg text')].map(t => t.textContent.trim())
    .filter(t => t.endsWith('…'));
  return {name: name, plot: plot ? plot.getBBox().height : 0, text: Math.min(...sizes),
          spans: plot ? plot.getBoundingClientRect().width / box.width : 0,
          bars: name.startsWith('Class probabilities'), x_axis: x.join(' '), outside: outside, cut: cut};
})"""
# Text on the page cut short: a label the browser ends with "…" (a button too narrow for its word),
# or a block whose end is behind a scroll bar (the epoch log, an equation). KaTeX's hidden MathML
# copy of each equation is left out; an equation is named by its LaTeX. So is a picked run's chip in
# Compare's multiselect on a phone: Streamlit cuts a chip to the box's width by design and keeps its
# whole name in the chip's title, as the list of runs and the table under the charts show it too.
CLIPPED_TEXT = """() => [...document.querySelectorAll('[data-testid=stMain] *')].filter(e => {
  if (!e.innerText || !e.innerText.trim() || e.closest('.katex-mathml')) return false;
  if (e.closest('[data-testid=stMultiSelectTagsContainer]') && e.title === e.innerText.trim()) return false;
  const style = getComputedStyle(e);
  if (style.textOverflow === 'ellipsis') {
    const text = document.createRange();
    text.selectNodeContents(e);
    return text.getBoundingClientRect().width > e.getBoundingClientRect().width + 0.01;
  }
  return style.overflowX !== 'visible' && e.scrollWidth > e.clientWidth + 1;
}).map(e => (e.querySelector('annotation') || e).textContent.trim().slice(0, 60))"""


# A small laptop with the sidebar open, an old classroom projector (XGA, the sidebar folded away) and
# a phone (360 px, the narrowest common Android, as Playwright describes one: its user agent too, on
# which Streamlit folds the sidebar away again once a page is picked): the narrowest pages RNN Lab is
# drawn on in front of a class, and in a student's hand.
@pytest.mark.parametrize(
    ("screen", "link", "plot", "text"),
    [((1024, 768), "", 300, 13), ((1024, 768), "&projector=on", 400, 18), ("Galaxy S24", "", 300, 13)],
    ids=["laptop", "projector", "phone"],
)
def test_every_chart_is_named_readable_and_one_click_from_its_numbers(
    playwright, browser, page, screen, link, plot, text
):
    phone = None
    if isinstance(screen, str):  # a phone's user agent and touch screen take a context of their own
        phone = browser.new_context(**playwright.devices[screen])
        on_phone = phone.new_page()
        on_phone.base_url = page.base_url
        page = on_phone
    else:
        page.set_viewport_size({"width": screen[0], "height": screen[1]})
    epochs = 15  # an axis over 0-15 is one Vega-Lite likes to round up to 16
    try:
        open_app(page, f"/?epochs={epochs}{link}")
        click(page, "Train")
        expect(accuracy_metric(page)).to_be_visible(timeout=TIMEOUT)
        if link:  # projector mode: larger page text, the pages along the top, the settings folded away
            paragraph = page.get_by_test_id("stMarkdownContainer").locator("p").first
            assert paragraph.evaluate("p => parseFloat(getComputedStyle(p).fontSize)") >= 20
            expect(page.get_by_test_id("stSidebarNav")).to_have_count(0)
            for name in PAGES:  # every page's name in sight along the top, none in an "N more" menu
                expect(page.get_by_test_id("stTopNav").get_by_role("link", name=name)).to_be_visible()
        measured, clipped = {}, {}
        for name in PAGES:
            go_to(page, name)
            wait_for_charts(page)
            measured[name] = page.evaluate(MEASURE_CHARTS)
            clipped[name] = page.evaluate(CLIPPED_TEXT)
            charts = page.get_by_test_id("stVegaLiteChart")
            assert charts.count() == len(measured[name]) >= 2
            assert page.get_by_role("button", name="Show data").count() == charts.count()
        problems = [
            f"{page_name}: {chart}"
            for page_name, found in measured.items()
            for chart in found
            if len(chart["name"]) < 30
            or chart["text"] < text
            or chart["plot"] < (plot / 3 if chart["bars"] else plot)
            or chart["outside"]
            or chart["cut"]
        ]
        assert not problems
        assert clipped == {name: [] for name in PAGES}  # every button, log line and equation whole
        # the curves side by side, on Train and on Compare, span the run's epochs from the start, no more
        curves = [
            chart for name in ("Train", "Compare") for chart in measured[name] if "'Epoch'" in chart["x_axis"]
        ]
        assert [chart["x_axis"] for chart in curves] == [
            f"X-axis titled 'Epoch' for a linear scale with values from 0 to {epochs}"
        ] * 4
        # ... across most of their chart: their keys are under the plot (Compare's, beside it, left a
        # phone's plot 170 of 300 px)
        assert min(chart["spans"] for chart in curves) > 0.7, [round(chart["spans"], 2) for chart in curves]
        # the numbers behind a chart, one key press away: Streamlit's "Show data" opens them as a table
        tables = page.get_by_test_id("stDataFrame").count()  # the Compare page may have its own
        page.get_by_role("button", name="Show data").first.focus()
        page.keyboard.press("Enter")
        expect(page.get_by_test_id("stDataFrame")).to_have_count(tables + 1, timeout=TIMEOUT)
    finally:
        if phone:
            phone.close()


def test_the_notebook_download_is_this_run_and_the_run_printed_the_command_lines_numbers(page):
    from conftest import sheet_log
    from rnn_core.notebook import notebook_bytes

    open_app(page, "/?epochs=3&cell=gru")
    click(page, "Train")
    expect(accuracy_metric(page)).to_be_visible(timeout=TIMEOUT)
    with page.expect_download() as download:
        click(page, "Notebook")
    config = TrainConfig(epochs=3, cell="gru")
    assert download.value.suggested_filename.endswith(".ipynb")
    with open(download.value.path(), "rb") as downloaded:  # tests/test_notebook.py runs the notebook
        assert downloaded.read() == notebook_bytes(config)
    shown = page.get_by_test_id("stCode").first.inner_text().splitlines()
    assert shown == sheet_log(config)  # the engine's lines, which the command line prints
