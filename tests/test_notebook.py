"""A run as a notebook: executed headless, it prints the engine's lines, digit for digit.

Each notebook is executed by nbclient in a real ipykernel, the way a student's Jupyter runs it, and
its printed epoch lines, test accuracy and prediction are compared with RNN Lab's engine trained
with the same settings (in this process, while the kernel runs). test_cli holds the command line,
run as a separate process, to the same engine.
"""

import re
import subprocess
import sys
from concurrent.futures import ThreadPoolExecutor
from dataclasses import replace

import nbformat
import numpy as np
import pytest
import torch
from nbclient import NotebookClient

from conftest import EPOCH_LINE, ROOT, TEST_LINE, run_events, sheet_log
from rnn_core import FIELDS, PRESETS, TASKS, TrainConfig, build_model, preset
from rnn_core.equations import BIASES
from rnn_core.model import GATE_ORDER
from rnn_core.notebook import DATA_SOURCES, data_source, notebook, notebook_bytes
from rnn_core.notebook_text import markdown
from rnn_core.tasks import EncodeError
from rnn_core.trained import Prediction

# The lab run as the sheet trains it; every other preset with its task, cell and every setting it
# ships but for 3 epochs (each epoch runs the same code, and 3 already cover a second shuffle and
# the running tally across epochs); an LSTM and a GRU run, one that turns every other knob (relu,
# two layers, SGD, clipping, another batch size, test share and seed), and one that diverges in
# its third epoch.
RUNS = {
    **{name: preset(name) if name == "lab" else replace(preset(name), epochs=3) for name in PRESETS},
    "lab-lstm": replace(preset("lab"), cell="lstm", epochs=4),
    "parity-gru": replace(preset("parity"), cell="gru", epochs=4, num_samples=800),
    "diverges": replace(preset("lab"), optimizer="sgd", lr=1.0, nonlinearity="relu", epochs=5),
    "every-knob": TrainConfig(
        task="pattern", nonlinearity="relu", num_layers=2, embed_size=8, hidden_size=20, num_samples=600,
        test_fraction=0.25, epochs=3, batch_size=50, optimizer="sgd", lr=0.05, clip_grad=0.5, seed=3,
    ),
}  # fmt: skip


def sheet_lines(text: str) -> list[str]:
    return [line for line in text.splitlines() if EPOCH_LINE.fullmatch(line) or TEST_LINE.fullmatch(line)]


def prediction_lines(text: str) -> list[str]:
    lines = text.splitlines()
    first = next(i for i, line in enumerate(lines) if line.startswith("Prediction: "))
    return lines[first:]


def notebook_output(config: TrainConfig, tmp_path) -> str:
    """Everything the notebook printed, run top to bottom in a fresh kernel."""
    book = notebook(config)
    where = {"metadata": {"path": str(tmp_path)}}  # the kernel's working folder
    # Everything printed has come back once the last cell has run, so the kernel is then killed: a
    # graceful shutdown cost 1.6 s of wall time and 1.2 s of machine CPU more per notebook (the ten
    # notebooks one after another, /proc/stat), spent on nothing a notebook's user sees.
    NotebookClient(
        book, timeout=600, kernel_name="python3", resources=where, shutdown_kernel="immediate"
    ).execute()
    outputs = [output for cell in book.cells if cell.cell_type == "code" for output in cell.outputs]
    return "".join(output.get("text", "") for output in outputs)


@pytest.mark.slow  # a Jupyter kernel per notebook
@pytest.mark.parametrize("name", RUNS)
def test_the_notebook_prints_the_engines_numbers_and_prediction(name, tmp_path):
    config = RUNS[name]
    with ThreadPoolExecutor(1) as engine:  # trains on the other core while the notebook runs
        events = engine.submit(run_events, config)
        printed = notebook_output(config, tmp_path)
        events = events.result()
    finished, expected = events[-1], sheet_log(config)
    assert len(expected) == (3 if name == "diverges" else config.epochs + 1)  # epochs trained, then test
    assert sheet_lines(printed) == expected
    if name == "diverges":  # which weights the test accuracy is measured with, as the engine says
        kept = re.search(
            r"The weights kept are (those of the last finite update \(epoch 3, batch \d+ of 25\));",
            finished.reason,
        )
        assert kept, finished.reason
        assert f"The weights kept are {kept[1]}; the test accuracy is theirs." in printed
    example = TASKS[config.task].example_for(config.seq_len)  # as the app's Try it page
    predicted = finished.model.predict(example).report(every_step=finished.model.task.many_to_many)
    assert prediction_lines(printed) == predicted


@pytest.mark.parametrize("task", TASKS)
def test_every_task_has_a_notebook_form_that_generates_the_engines_data(task):
    assert task in DATA_SOURCES, (
        f"task '{task}' has no notebook form: add it to rnn_core.notebook.DATA_SOURCES"
    )
    namespace = {"np": np, "Dataset": lambda tokens, labels: (tokens, labels)}
    exec(data_source(task), namespace)  # the notebook's own data cell, without a kernel
    seq_len = TASKS[task].default_seq_len
    tokens, labels = namespace["generate"](50, seq_len, np.random.default_rng(7))
    engine = TASKS[task].generate(50, seq_len, np.random.default_rng(7))
    assert np.array_equal(tokens, engine.tokens) and np.array_equal(labels, engine.labels)


def test_the_notebook_lists_every_setting_and_uses_only_torch_numpy_and_matplotlib():
    book = notebook(preset("sentiment"))
    code = "\n".join(cell.source for cell in book.cells if cell.cell_type == "code")
    written = {"task": "generate = sentiment", "cell": "nn.RNN(", "optimizer": "torch.optim.Adam("}
    for name in FIELDS:  # a new setting fails here until the notebook reproduces it
        assert re.search(rf"^{name.upper()} = ", code, re.M), f"setting {name} is missing"
        uses = len(re.findall(rf"\b{name.upper()}\b", code)) >= 2
        assert written[name] in code if name in written else uses, f"the code does not follow setting {name}"
    imported = set(re.findall(r"^(?:from|import) (\w+)", code, re.M))
    assert imported == {"math", "re", "matplotlib", "numpy", "torch", "collections"}  # re: predict's tokens
    assert "rnn_core" not in code
    nbformat.validate(nbformat.reads(notebook_bytes(preset("lab")).decode(), as_version=4))


@pytest.mark.parametrize("name", ["lab", "lab-lstm", "parity-gru", "every-knob"])
def test_the_notebook_writes_the_runs_own_cell_and_its_weights_shapes(name):
    """A relu run's notebook says relu, an LSTM's or GRU's gives its gates in the order PyTorch stacks
    them (test_model checks those equations against nn.LSTM and nn.GRU), and every shape it names is
    the shape of the weight in the run's model."""
    config = RUNS[name]
    text = markdown(config)["model"]
    if config.cell == "rnn":
        written = {"tanh": r"\tanh", "relu": r"\mathrm{relu}"}[config.nonlinearity]
        assert f"$$h_t = {written}(U x_t" in text
        assert ("relu" in text) == (config.nonlinearity == "relu")
    else:
        block = text[text.index(r"\begin{aligned}") : text.index(r"\end{aligned}")]
        gates = GATE_ORDER[config.cell]
        assert re.findall(r"^(\w)_t &=", block, re.M)[: len(gates)] == list(gates)
        assert "h_t &=" in block and BIASES[config.cell] in text  # test_model adds the biases up so too
    named = re.findall(r"`(weight_ih_l0|weight_hh_l0|fc\.weight)` [^(]*\((?:\$\w\$, )?(\d+) × (\d+)\)", text)
    shapes = {key: tuple(p.shape) for key, p in build_model(config).named_parameters()}
    assert len(named) == 3
    for weight, rows, columns in named:
        assert shapes[weight if weight.startswith("fc") else f"rnn.{weight}"] == (int(rows), int(columns))
    layers = re.search(r"With (\d+) layers", text)
    assert (int(layers.group(1)) if layers else 1) == config.num_layers


@pytest.mark.parametrize(
    ("name", "typed", "said"),
    [
        ("sentiment", "The plot was slow, but the acting was great!", "Prediction: "),  # as the app reads it
        ("sentiment", "the plot was banana, banana", "Unknown: banana. Allowed: acting awful bad"),
        ("sentiment", "?!", "Nothing to read. Allowed: acting"),
        ("lab", "3, 1, 4", "Prediction: "),
        ("lab", "314 1 5", "Prediction: "),
        ("lab", "9 8 x", "Unknown: x. Allowed: 0 1 2 3 4 5 6 7 8 9"),
        ("lab", "3 banana 4", "Unknown: banana. Allowed: 0 1"),  # the word, not b a n a n a
        ("lab", "1" * 201, "That is 201 tokens; at most 200 are allowed."),  # the app's message
    ],
)
def test_the_notebooks_try_cell_reads_what_the_app_reads_and_names_what_it_cannot(name, typed, said, capsys):
    """A student changes the text and runs the cell again: a comma or an unknown word is not a traceback,
    and the cell cuts the text into the tokens the app does (the same function)."""
    config = RUNS[name]
    code = next(cell.source for cell in notebook(config).cells if "def predict(" in cell.source)
    task = TASKS[config.task]
    namespace = {"re": re, "torch": torch, "VOCAB": task.vocab, "CLASSES": task.class_names, "SEQ_LEN": 14}
    namespace["model"] = lambda tokens: torch.zeros(1, tokens.shape[1], task.num_classes)  # any network
    exec(code.replace(f"predict({task.example_for(config.seq_len)!r})", ""), namespace)
    split = (
        namespace["split_words"](typed)
        if task.word_level
        else namespace["split_symbols"](typed, task.typeable)
    )
    assert split == task.split(typed)
    namespace["predict"](typed)
    assert capsys.readouterr().out.startswith(said)
    if said.startswith("Prediction: "):
        task.encode(typed)  # the app reads it too (an EncodeError if not)
    else:
        with pytest.raises(EncodeError) as refused:  # the app does not read it either
            task.encode(typed)
        assert str(refused.value) == said or not said.startswith("That is")  # too long: word for word


@pytest.mark.parametrize("name", ["lab", "parity-gru"])  # one label, and a label at every step
def test_the_notebooks_try_cell_prints_a_prediction_as_the_command_line_does(name, capsys):
    """Word for word as `python -m rnn_core predict` (Prediction.report), for a network all but
    certain at the last step: its probability reads "> 99.9%" in both, never "100.0%"."""
    config = RUNS[name]
    task = TASKS[config.task]
    typed = task.example_for(config.seq_len)
    steps = len(task.split(typed))
    logits = torch.linspace(-3, 3, steps * task.num_classes).reshape(1, steps, task.num_classes)
    logits[0, -1] = torch.arange(task.num_classes) * 12.0  # the last class, by e^12 to 1
    code = next(cell.source for cell in notebook(config).cells if "def predict(" in cell.source)
    namespace = {"re": re, "torch": torch, "VOCAB": task.vocab, "CLASSES": task.class_names}
    namespace |= {"SEQ_LEN": config.seq_len, "model": lambda tokens: logits}
    exec(code, namespace)  # the cell as it is, ending with predict(the example)
    probs = torch.softmax(logits[0], dim=-1).numpy()
    expected = Prediction(tuple(task.split(typed)), task.class_names, probs[-1], probs, probs).report(
        every_step=task.many_to_many
    )
    assert capsys.readouterr().out.splitlines() == expected
    assert f"Prediction: {task.class_names[-1]} (> 99.9%)" == expected[0]


def test_the_command_line_writes_a_notebook_with_every_train_flag(tmp_path):
    out = tmp_path / "run.ipynb"
    flags = ["--preset", "lab", "--cell", "gru", "--epochs", "7"]
    subprocess.run([sys.executable, "-m", "rnn_core", "notebook", *flags, str(out)], cwd=ROOT, check=True)
    code = "\n".join(
        cell.source for cell in nbformat.read(out, as_version=4).cells if cell.cell_type == "code"
    )
    assert "CELL = 'gru'" in code and "EPOCHS = 7" in code and "nn.GRU(" in code
