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


def test_every_test_that_waits_on_a_page_or_a_class_runs_alone():
    """scripts/test.sh spreads the other tests over the cores; these would then wait on a page or a
    server slowed down by them, and fail on a busy machine rather than on a bug."""
    programs = ("start_server(", "sync_playwright", "deploy/local.sh", "ProtocolStudent")
    for path in sorted((ROOT / "tests").glob("test_*.py")):
        text = path.read_text()
        if path.name != "test_readme.py" and any(program in text for program in programs):
            assert "pytest.mark.alone" in text.split("\ndef ", 1)[0], f"{path.name} is not marked alone"
