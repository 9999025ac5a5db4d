"""The README's promises: its notebook examples run as written, and CI runs its test command."""

import re

from conftest import ROOT

README = (ROOT / "README.md").read_text()


def test_the_notebook_examples_run_as_written(capsys):
    blocks = re.findall(r"```python\n(.*?)```", README, flags=re.S)
    assert len(blocks) >= 3
    namespace: dict = {}
    for block in blocks:  # one notebook: later blocks use what earlier ones made
        exec(compile(block, "README.md", "exec"), namespace)  # our own README, run as a notebook would
    printed = capsys.readouterr().out
    assert "Epoch 10/10 - Loss:" in printed and "Spectral radius of W" in printed


def test_ci_runs_exactly_the_readme_test_command():
    command = re.search(r"## Test it.*?\n    (\S[^\n]*)\n", README, flags=re.S).group(1)
    assert command == "bash scripts/test.sh"
    assert command in (ROOT / ".ci" / "run").read_text()


def test_every_test_that_waits_on_a_page_or_a_class_runs_alone_and_the_proxys_with_nothing_beside():
    """scripts/test.sh spreads the other tests over the cores, at the lowest priority, beside the
    tests marked alone: unmarked, a test that waits on a page or a server would share the cores with
    them as an equal and fail on a busy machine rather than on a bug. The replicas behind HAProxy
    (marked quiet) run with nothing beside them at all."""
    programs = ("start_server(", "sync_playwright", "deploy/local.sh", "ProtocolStudent")
    for path in sorted((ROOT / "tests").glob("test_*.py")):
        text = path.read_text()
        marks = text.split("\ndef ", 1)[0]
        if path.name != "test_readme.py" and any(program in text for program in programs):
            assert "pytest.mark.alone" in marks, f"{path.name} is not marked alone"
        if path.name != "test_readme.py" and "deploy/local.sh" in text:
            assert "pytest.mark.quiet" in marks, f"{path.name} is not marked quiet"
