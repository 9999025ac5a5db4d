"""A client that sends only the widget it clicked still gets a working page.

Streamlit's browser frontend sends every widget's state with each rerun. A client that leaves the
settings out (a hand-made one, like the benchmarks' protocol-level students) makes Streamlit drop
their values; the sidebar then keeps each setting's last value (dashboard.controls._keep_values)
instead of crashing on a missing one, which had stalled a benchmark's whole class.
"""

import asyncio
import sys

import pytest

from browser_support import start_server, stop_server
from conftest import ROOT

sys.path.insert(0, str(ROOT / "benchmarks"))
from protocol_student import ProtocolStudent

pytestmark = [pytest.mark.slow, pytest.mark.alone]  # a real server, clients waiting on it


def test_clicks_that_leave_the_settings_out_train_the_linked_setup_every_time(tmp_path):
    process, url = start_server(tmp_path / "streamlit.log")

    async def click_train() -> ProtocolStudent:
        async with ProtocolStudent(url, query="epochs=2&cell=gru&seed=4") as student:
            await student.load()
            await student.click("Train")  # the button's state alone: no setting is sent
            await student.read_until(lambda: "Test accuracy" in student.metrics, timeout=120)
            student.metrics.clear()
            await student.click("Train")  # again, after the page's timer and its reruns: a setting
            # dropped by then crashed the sidebar (KeyError: cfg_task) before it kept its values
            await student.read_until(lambda: "Test accuracy" in student.metrics or student.exceptions, 120)
            return student

    try:
        student = asyncio.run(click_train())
    finally:
        stop_server(process)
    assert student.exceptions == []
    for run in (1, 2):  # both trained the setup the link gave, though no click sent a setting
        assert any(f"Run {run}: lab, gru; hidden size 32, 2 epochs, seed 4" in text for text in student.texts)
