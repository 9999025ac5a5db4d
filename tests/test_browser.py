"""Real Chromium against `streamlit run`: what only a browser shows.

One server for the module; every test opens its own browser context, which is a separate
Streamlit session (a separate student). Debian's Chromium is driven by the playwright package;
nothing is downloaded. Assertions wait on content (`expect`), never on fixed sleeps alone.
"""

import os
import re
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest
from conftest import ROOT

pytestmark = pytest.mark.browser
CHROMIUM = Path("/usr/bin/chromium")
if not CHROMIUM.exists() and not os.environ.get("CI"):
    pytest.skip("Debian's chromium is not installed (scripts/test.sh installs it)", allow_module_level=True)

from playwright.sync_api import Page, expect, sync_playwright  # noqa: E402

from rnn_core import TASKS, TrainConfig, checkpoint, fit  # noqa: E402

LONG_RUN = "?epochs=200&num_samples=4000"  # about half a minute: long enough to act during it
TIMEOUT = 30_000  # ms


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    port = free_port()
    log = open(tmp_path_factory.mktemp("server") / "streamlit.log", "w")  # noqa: SIM115
    command = [sys.executable, "-m", "streamlit", "run", "dashboard/app.py", "--server.headless", "true"]
    command += ["--server.port", str(port), "--server.fileWatcherType", "none"]
    command += ["--browser.gatherUsageStats", "false"]
    process = subprocess.Popen(command, cwd=ROOT, stdout=log, stderr=subprocess.STDOUT)
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 90
    while True:
        try:
            if urllib.request.urlopen(f"{url}/_stcore/health", timeout=2).read() == b"ok":
                break
        except OSError:
            pass
        assert process.poll() is None and time.monotonic() < deadline, "streamlit did not start"
        time.sleep(0.3)
    yield url
    process.terminate()
    process.wait(timeout=20)
    log.close()


@pytest.fixture(scope="module")
def browser():
    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(
            executable_path=str(CHROMIUM),
            args=[
                "--no-sandbox",
                "--disable-gpu",
                "--disable-background-networking",
                "--disable-component-update",
            ],
        )
        yield chromium
        chromium.close()


@pytest.fixture
def page(browser, server):
    context = browser.new_context(viewport={"width": 1400, "height": 1000})
    page = context.new_page()
    page.base_url = server
    yield page
    expect(page.get_by_test_id("stException")).to_have_count(0)  # no uncaught error, ever
    context.close()


def open_app(page: Page, path: str = "/") -> Page:
    page.goto(page.base_url + path)
    expect(page.locator("[data-testid='stApp'][data-test-connection-state='CONNECTED']")).to_be_visible(
        timeout=TIMEOUT
    )
    return page


def click(page: Page, name: str) -> None:
    page.get_by_role("button", name=name, exact=True).click()


def accuracy_metric(page: Page):
    return page.get_by_test_id("stMetric").filter(has_text="Test accuracy")


def epoch_points(page: Page) -> int:
    """Points drawn on the accuracy chart: one per epoch for train and one for test."""
    return page.get_by_test_id("stVegaLiteChart").nth(1).locator("g.mark-symbol.role-mark path").count()


def wait_for_epochs(page: Page, epochs: int, timeout: float = 30.0) -> int:
    """Wait until the accuracy chart shows at least `epochs` epochs; return how many it shows."""
    deadline = time.monotonic() + timeout
    while (shown := epoch_points(page) // 2) < epochs:
        assert time.monotonic() < deadline, f"only {shown} epochs drawn"
        time.sleep(0.1)
    return shown


def test_a_full_run_draws_its_curves_live_and_ends_with_accuracy_metric(page):
    open_app(page, "/?epochs=40&num_samples=3000")
    expect(page.get_by_text("No run yet")).to_be_visible(timeout=TIMEOUT)
    click(page, "Train")
    expect(page.get_by_test_id("stProgress")).to_contain_text("Epoch", timeout=TIMEOUT)
    counts = []
    deadline = time.monotonic() + 60
    while not page.get_by_test_id("stMetric").count() and time.monotonic() < deadline:
        counts.append(epoch_points(page))
        time.sleep(0.25)
    drawn = [c for c in counts if c]  # 0 while the browser swaps in a redrawn chart
    assert len(set(drawn)) >= 3, f"the chart did not grow while training: {counts}"
    assert drawn == sorted(drawn)
    expect(accuracy_metric(page)).to_contain_text("%", timeout=TIMEOUT)
    assert epoch_points(page) == 2 * 40
    expect(page.get_by_text("Epoch 40/40 - Loss:")).to_be_visible()


def test_stop_ends_a_run_at_once_and_keeps_the_model(page):
    open_app(page, "/" + LONG_RUN)
    click(page, "Train")
    wait_for_epochs(page, 3)
    click(page, "Stop")
    expect(page.get_by_text("Stopped by request")).to_be_visible(timeout=5_000)
    expect(accuracy_metric(page)).to_contain_text("%")
    expect(page.get_by_role("button", name="Train", exact=True)).to_be_enabled()


def test_clicking_a_widget_during_a_run_does_not_kill_it(page):
    open_app(page, "/" + LONG_RUN)
    click(page, "Train")
    wait_for_epochs(page, 2)
    sidebar = page.get_by_test_id("stSidebar")
    seed = sidebar.get_by_role("spinbutton", name="Seed")
    sidebar.get_by_test_id("stNumberInput").filter(has_text="Seed").get_by_role(
        "button", name="Increment"
    ).click()
    expect(seed).to_have_value("1")
    wait_for_epochs(page, epoch_points(page) // 2 + 3)  # still training, three epochs further on
    expect(page.get_by_text("Stopped by request")).to_have_count(0)
    click(page, "Stop")
    expect(page.get_by_text("Stopped by request")).to_be_visible(timeout=5_000)


def test_try_it_answers_a_good_input_and_explains_a_bad_one(page):
    open_app(page)
    click(page, "Train")
    expect(accuracy_metric(page)).to_be_visible(timeout=TIMEOUT)
    page.get_by_role("link", name="Try it").click()
    box = page.get_by_role("textbox", name="Your sequence")
    expect(box).to_be_visible(timeout=TIMEOUT)
    box.fill("9 9 9 9 9 8 9 9 9 9")
    box.press("Enter")
    expect(page.get_by_text("Prediction:")).to_contain_text("high", timeout=TIMEOUT)
    expect(page.get_by_test_id("stVegaLiteChart")).to_have_count(2, timeout=TIMEOUT)
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
