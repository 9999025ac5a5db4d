"""The focus script (dashboard.page.FOCUS_TRAIN) in real Chromium, on a page of the test's own HTML.

No server: these tests wait on the script's own timer, not on what a server sends, so
scripts/test.sh runs them with the quick tests, not one at a time with the ones marked `alone`.
"""

import os

import pytest

from browser_support import CHROMIUM, launch_chromium

pytestmark = [pytest.mark.browser, pytest.mark.slow]
if not CHROMIUM.exists() and not os.environ.get("CI"):
    pytest.skip("Debian's chromium is not installed (scripts/test.sh installs it)", allow_module_level=True)

from playwright.sync_api import Page, expect, sync_playwright  # noqa: E402

from dashboard.page import FOCUS_TRAIN  # noqa: E402

# The Train and Stop buttons as Streamlit draws them, for the focus script alone (dashboard.page).
BUTTONS = """<div class="st-key-train"><button disabled>Train</button></div>
<div class="st-key-stop"><button>Stop</button></div><button>Show data</button>"""
RUN_ENDS = """() => { document.querySelector('.st-key-stop button').disabled = true;
  document.querySelector('.st-key-train button').disabled = false }"""

WHERE = "() => document.activeElement === document.body ? 'the body' : document.activeElement.innerText"


@pytest.fixture(scope="module")
def browser():
    with sync_playwright() as driver:
        chromium = launch_chromium(driver)
        yield chromium
        chromium.close()


@pytest.fixture
def bare_page(browser):
    """A page of this test's own HTML, no server: for what a script does in the browser."""
    context = browser.new_context()
    yield context.new_page()
    context.close()


def start_focus_script(page: Page) -> None:
    page.add_script_tag(content=FOCUS_TRAIN.removeprefix("<script>").removesuffix("</script>"))
    # A timer of the same interval set after the script's: a browser runs timers that are due in the
    # order they were set, so when this one has run n times the script has looked at least n times
    # (a fixed wait would see fewer looks on a busy machine, and pass a script that moves the focus).
    page.evaluate("() => { window.looked = 0; setInterval(() => window.looked++, 100) }")


def looks(page: Page, count: int) -> None:
    """Wait until the focus script, had it kept looking, would have looked `count` times more."""
    page.wait_for_function(f"() => window.looked >= {page.evaluate('() => window.looked') + count}")


def test_the_focus_script_waits_for_a_slow_browser_to_enable_train_and_again_when_train_is_drawn_anew(
    bare_page,
):
    """The browser may enable Train, or drop the focus from Stop, seconds after the script starts
    (a busy CI machine once took longer than the 2 s the script used to look for), and Streamlit
    may draw Train anew after the script has focused it."""
    page = bare_page
    page.set_content(BUTTONS)
    stop, train = page.get_by_role("button", name="Stop"), page.locator(".st-key-train button")
    stop.focus()
    start_focus_script(page)
    page.wait_for_timeout(3000)  # the browser is slow to draw the run's end
    expect(stop).to_be_focused()  # still on Stop, enabled: the student's place is kept
    page.evaluate(RUN_ENDS)
    expect(train).to_be_focused()
    page.evaluate("() => document.querySelector('.st-key-train').innerHTML = '<button>Train</button>'")
    expect(train).to_be_focused()  # the new Train button


def test_the_focus_script_leaves_the_focus_where_the_student_put_it(bare_page):
    """Whether the student moves on with the keyboard or the mouse while the run ends."""
    page = bare_page

    def tab_and_redraw() -> None:  # Streamlit draws "Show data" anew: the focus falls to the body
        page.keyboard.press("Tab")
        page.evaluate("() => document.querySelector('body > button').remove()")

    for move in (lambda: page.keyboard.press("Tab"), tab_and_redraw, lambda: page.mouse.click(5, 300)):
        page.set_content(BUTTONS)
        page.get_by_role("button", name="Stop").focus()
        start_focus_script(page)
        move()  # Tab; Tab, and Streamlit draws "Show data" anew; a click on the page's blank part
        where = page.evaluate(WHERE)
        page.evaluate(RUN_ENDS)
        looks(page, 5)  # however busy the machine
        assert page.evaluate(WHERE) == where
