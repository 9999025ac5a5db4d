"""The command line: the lab run as a student runs it (a separate process), the rest in this process
(`main(argv)` with its output caught: the same code without starting Python and PyTorch each time)."""

import io
import subprocess
import sys
from contextlib import redirect_stderr, redirect_stdout

import pytest

from conftest import EPOCH_LINE, ROOT, TEST_LINE, sheet_log, trained
from rnn_core import TASKS, preset
from rnn_core.__main__ import main


def as_a_student(*args, check=True) -> subprocess.CompletedProcess:
    """`python -m rnn_core ARGS` in a new process."""
    result = subprocess.run(
        [sys.executable, "-m", "rnn_core", *args], cwd=ROOT, capture_output=True, text=True, timeout=120
    )
    if check:
        assert result.returncode == 0, result.stderr
    return result


def cli(*args, check=True) -> subprocess.CompletedProcess:
    """`python -m rnn_core ARGS` run in this process: its exit code and what it printed."""
    out, err = io.StringIO(), io.StringIO()
    with redirect_stdout(out), redirect_stderr(err):
        try:
            code = main(list(args))
        except SystemExit as exit_:  # argparse and parser.exit end the program this way
            code = exit_.code or 0
    result = subprocess.CompletedProcess(args, code, out.getvalue(), err.getvalue())
    if check:
        assert result.returncode == 0, result.stderr
    return result


def test_train_lab_prints_the_sheet_format_and_saves(tmp_path):
    """The lab run as a student types it, in a process of its own: the sheet's lines, digit for digit
    the engine's (so also the notebook export's and the dashboard's, which tests elsewhere hold to
    the engine), a saved run, and a prediction from it that is the engine's."""
    lab = preset("lab")
    out = as_a_student("train", "--preset", "lab", "--save", str(tmp_path / "run")).stdout.splitlines()
    epochs = [EPOCH_LINE.fullmatch(line) for line in out[:10]]
    assert all(epochs) and [int(m.group(1)) for m in epochs] == list(range(1, 11))
    assert TEST_LINE.fullmatch(out[10])
    assert out[:11] == sheet_log(lab) and out[11:] == [f"Saved to {tmp_path / 'run'}/"]
    assert {p.name for p in (tmp_path / "run").iterdir()} == {
        "model.safetensors",
        "metrics.csv",
        "config.json",
    }
    csv_lines = (tmp_path / "run" / "metrics.csv").read_text().splitlines()
    assert csv_lines[0].startswith("epoch,epochs,train_loss,train_accuracy,test_loss,test_accuracy")
    assert len(csv_lines) == 11

    example = TASKS["lab"].example_for(lab.seq_len)  # as the Try it page and the notebook ask
    predicted = as_a_student("predict", str(tmp_path / "run"), example).stdout.splitlines()
    assert predicted == trained(lab).predict(example).report(every_step=False)
    assert predicted[0].startswith("Prediction: ")
    bad = cli("predict", str(tmp_path / "run"), "9 9 x", check=False)
    assert bad.returncode == 2 and "Unknown token 'x' at position 3" in bad.stderr


def test_a_save_folder_may_have_a_dot_in_its_name_and_one_that_cannot_be_made_stops_before_training(
    tmp_path,
):
    small = ("--epochs", "1", "--num-samples", "100")
    cli("train", *small, "--quiet", "--save", str(tmp_path / "runs" / "lr0.002"))  # not a file's suffix
    assert {p.name for p in (tmp_path / "runs" / "lr0.002").iterdir()} == {
        "model.safetensors",
        "metrics.csv",
        "config.json",
    }
    (tmp_path / "taken").write_text("a file, not a folder")
    for folder in (tmp_path / "taken", tmp_path / "taken" / "run"):
        result = cli("train", *small, "--save", str(folder), check=False)
        assert result.returncode == 2 and result.stdout == ""  # not one epoch trained
        assert result.stderr.strip() == f"python -m rnn_core: error: cannot write {folder}: " + (
            "File exists." if folder.name == "taken" else "Not a directory."
        )


def test_a_notebook_into_a_missing_folder_gets_one_clear_line(tmp_path):
    out = tmp_path / "missing" / "lab.ipynb"
    result = cli("notebook", "--epochs", "1", str(out), check=False)
    assert result.returncode == 2 and result.stdout == ""
    assert result.stderr == f"python -m rnn_core: error: cannot write {out}: No such file or directory.\n"


def test_every_config_field_has_a_flag():
    from rnn_core import FIELDS

    help_text = cli("train", "--help").stdout
    for name in FIELDS:
        assert "--" + name.replace("_", "-") in help_text


@pytest.mark.parametrize(
    ("args", "words"),
    [
        (["--lr", "50"], "Learning rate (lr) must be a number from 1e-05 to 10; got 50.0."),
        (["--epochs", "ten"], "Epochs (epochs) must be a whole number from 1 to 200; got 'ten'."),
        (["--cell", "cnn"], "Cell (cell) must be one of rnn, lstm, gru; got 'cnn'."),
        (
            ["--task", "banana"],
            "Task (task) must be one of lab, remember, pattern, sentiment, parity; got 'banana'",
        ),
        (["--preset", "nope"], "Unknown preset 'nope'. Choose one of: lab"),
        (["--bogus", "1"], "unrecognized arguments: --bogus 1"),
    ],
)
def test_bad_flags_get_one_clear_line(args, words):
    result = cli("train", *args, check=False)
    assert result.returncode == 2 and result.stdout == ""
    assert len(result.stderr.strip().splitlines()) == 1 and words in result.stderr


def test_flags_override_the_preset_and_a_new_task_brings_its_length():
    out = cli("train", "--task", "parity", "--epochs", "2", "--num-samples", "100").stdout.splitlines()
    assert out[0].startswith("Epoch 1/2 - ") and TEST_LINE.fullmatch(out[-1])


def test_tasks_lists_every_task_with_its_explanation():
    from rnn_core import TASKS

    out = cli("tasks").stdout
    for task in TASKS.values():
        assert f"{task.name}: {task.title}" in out


def test_gradcheck_reports_every_parameter():
    out = cli("gradcheck").stdout
    for name in ("U", "W", "V", "b_h", "b_y"):
        assert out.count(f"dL/d{name} ") == 2
    assert "OK: the hand-written backward pass matches autograd." in out
