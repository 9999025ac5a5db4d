"""The README's promises: its notebook examples run as written, and CI runs its test command."""

import re

import pytest

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
    """scripts/test.sh runs the other tests at the lowest priority, beside the tests marked alone:
    unmarked, a test that waits on a page or a server would share the cores with them as an equal
    and fail on a busy machine rather than on a bug. A browser's page of the test's own HTML
    (`set_content`, no `goto`) waits on nothing but the browser, and a test marked beside forces the
    timing it tests itself (tests/test_drawing_races.py)."""
    programs = ("start_server(", "goto(", "deploy/local.sh", "ProtocolStudent")
    for path in sorted((ROOT / "tests").glob("test_*.py")):
        text = path.read_text()
        marks = text.split("\ndef ", 1)[0]
        if path.name != "test_readme.py" and any(program in text for program in programs):
            assert "pytest.mark.alone" in marks or "pytest.mark.beside" in marks, (
                f"{path.name} is marked neither alone nor beside"
            )


def test_the_test_command_ends_with_how_near_the_suite_came_to_the_floor_its_cpu_sets(capsys, monkeypatch):
    """scripts/test.sh reads the clocks before pytest (`now`) and prints, after it, the wall time
    against the machine's CPU over its cores (`since`), with the machine's pace."""
    import importlib.util

    spec = importlib.util.spec_from_file_location("suite_cpu", ROOT / "benchmarks" / "suite_cpu.py")
    suite_cpu = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(suite_cpu)
    script = (ROOT / "scripts" / "test.sh").read_text()
    before, after = script.index("suite_cpu.py now"), script.rindex("suite_cpu.py since")
    assert before < script.index("python -m pytest") and script.rindex("python -m pytest") < after

    assert suite_cpu.floor_line(299, 563, cores=2) == (
        "299 s of wall time, 563 s of the machine's CPU: a floor of 282 s on 2 cores, however the tests "
        "are spread; this run took 1.06× the floor"
    )
    suite_cpu.main(["now"])
    wall, cpu = map(float, capsys.readouterr().out.split())
    sum(range(3_000_000))  # time passes and CPU is spent before `since`: its line has numbers to show
    monkeypatch.setattr(suite_cpu, "machine_pace", lambda: (0.05, 0.3))  # one lab epoch, a loop: seconds
    suite_cpu.main(["since", str(wall), str(cpu)])
    floor, pace = capsys.readouterr().out.splitlines()
    assert re.fullmatch(r"\d+ s of wall time, \d+ s of the machine's CPU: a floor of \d+ s on \d+ .*", floor)
    assert pace == "this machine's pace now: a lab epoch 0.050 s, 10 million Python additions 0.30 s"
    with pytest.raises(SystemExit, match="since WALL CPU"):
        suite_cpu.main(["since"])
