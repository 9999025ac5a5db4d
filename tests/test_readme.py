"""The README's promises: its notebook examples run as written, and CI runs its test command."""

import re

import pytest

from conftest import ROOT

pytest_plugins = ["pytester"]  # the quiet-first check runs a pytest of its own

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
    them as an equal and fail on a busy machine rather than on a bug. A browser's page of the test's
    own HTML (`set_content`, no `goto`) waits on nothing but the browser, and a test marked beside
    forces the timing it tests itself (tests/test_drawing_races.py). The replicas behind HAProxy
    (marked quiet) run with nothing beside them at all."""
    programs = ("start_server(", "goto(", "deploy/local.sh", "ProtocolStudent")
    for path in sorted((ROOT / "tests").glob("test_*.py")):
        text = path.read_text()
        marks = text.split("\ndef ", 1)[0]
        if path.name != "test_readme.py" and any(program in text for program in programs):
            assert "pytest.mark.alone" in marks or "pytest.mark.beside" in marks, (
                f"{path.name} is marked neither alone nor beside"
            )
        if path.name != "test_readme.py" and "deploy/local.sh" in text:
            assert "pytest.mark.quiet" in marks, f"{path.name} is not marked quiet"


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


def test_the_quiet_tests_run_first_and_the_file_says_when_they_are_over(pytester, monkeypatch, tmp_path):
    """scripts/test.sh starts the quick tests when RNN_LAB_QUIET_DONE's file exists: after the last
    quiet test and its module's fixtures, never before, and at once if no quiet test was asked for."""
    done, seen = tmp_path / "quiet-done", tmp_path / "seen"
    monkeypatch.setenv("RNN_LAB_QUIET_DONE", str(done))
    pytester.makeconftest("from quiet_first import pytest_collection_modifyitems, pytest_runtest_teardown")
    pytester.makeini("[pytest]\nmarkers =\n    quiet: nothing beside it")
    pytester.syspathinsert()
    pytester.makepyfile(
        notes=f"""
        import pathlib

        def note(what):  # what happened, and whether the file was there then
            with pathlib.Path({str(seen)!r}).open("a") as out:
                out.write(f"{{what}} {{pathlib.Path({str(done)!r}).exists()}}\\n")
        """,
        test_a="""
        from notes import note

        def test_loud():
            note("loud")
        """,
        test_b="""
        import pytest
        from notes import note

        pytestmark = pytest.mark.quiet

        @pytest.fixture(scope="module")
        def replicas():
            yield
            note("replicas stopped")

        def test_quiet_one(replicas):
            note("quiet")

        def test_quiet_two(replicas):
            note("quiet")
        """,
    )
    pytester.runpytest("-p", "no:benchmark").assert_outcomes(passed=3)
    order = ["quiet False", "quiet False", "replicas stopped False", "loud True"]
    assert seen.read_text().splitlines() == order
    done.unlink()
    pytester.runpytest("-p", "no:benchmark", "-m", "not quiet").assert_outcomes(passed=1, deselected=2)
    assert done.exists()
