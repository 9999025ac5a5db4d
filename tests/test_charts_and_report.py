"""Charts show the numbers they are given, in the colour-blind-safe palette; the report is complete."""

import csv
import io
import json
import re
import subprocess
import sys

import numpy as np
import pandas as pd
import pytest
from streamlit import dataframe_util

from conftest import ROOT, run_events
from dashboard import charts, charts_inside, page
from rnn_core import preset
from rnn_core.__main__ import build_parser
from rnn_core.config import FIELDS, TrainConfig
from rnn_core.equations import SHEET_RNN
from rnn_core.events import BatchEnd, EpochEnd, RunFinished
from rnn_core.notebook_text import markdown, network_title
from rnn_core.report import lab_report, metrics_csv
from rnn_core.trained import Prediction
from rnn_core.words import percent

RUN = TrainConfig(num_samples=200, epochs=3)  # trained by the first test that asks, not at collection


@pytest.fixture
def finished() -> RunFinished:
    return run_events(RUN)[-1]


def spec(chart) -> dict:
    """A chart's Vega-Lite spec (an Altair chart, or a spec already built as a dict)."""
    return chart if isinstance(chart, dict) else json.loads(chart.to_json())


def all_colours(obj) -> set[str]:
    found = set()
    if isinstance(obj, dict):
        for key, value in obj.items():
            if key == "range" and isinstance(value, list):
                found |= {v for v in value if isinstance(v, str)}
            found |= all_colours(value)
    elif isinstance(obj, list):
        for item in obj:
            found |= all_colours(item)
    return found


def test_curves_carry_the_epoch_numbers_exactly(finished):
    history = finished.model.history
    losses, accuracies = charts.epoch_rows(history, "loss"), charts.epoch_rows(history, "accuracy")
    assert len(losses) == len(accuracies) == 3 * len(history)  # train (running), train after the epoch, test
    test_rows = [r for r in accuracies if r["split"] == "test"]
    assert [r["accuracy"] for r in test_rows] == [100 * e.test_accuracy for e in history]
    after = [r for r in accuracies if r["split"] == charts.AFTER]
    assert [r["accuracy"] for r in after] == [100 * e.train_accuracy_end for e in history]
    assert [r["rounded"] for r in after] == [f"{100 * e.train_accuracy_end:.2f}%" for e in history]
    assert [r["loss"] for r in losses if r["split"] == charts.AFTER] == [e.train_loss_end for e in history]
    with pytest.raises(ValueError, match="'loss' or 'accuracy', not 'grad_norm'"):
        charts.epoch_rows(history, "grad_norm")  # a chart that is neither is not drawn as accuracy
    # "Show data" lists a chart's first rows: the loss chart's hold losses, the accuracy chart's accuracies
    assert {key for row in losses for key in row} == {"epoch", "split", "loss"}
    assert {key for row in accuracies for key in row} == {"epoch", "split", "accuracy", "rounded"}
    batches = charts.batch_rows([BatchEnd(1, 1, 1, 0.7, 2.0), BatchEnd(1, 2, 2, 0.6, 1.5)], 2)
    spec = charts.live_spec("loss", epochs=losses, batches=batches)
    assert list(spec["datasets"]) == ["epochs", "batches"]  # the epochs first: the table Show data opens
    assert spec["datasets"]["epochs"] == losses and len(spec["datasets"]["batches"]) == 2
    assert all_colours(spec) <= set(charts.PALETTE)
    assert '"tooltip"' in json.dumps(spec)


def test_live_chart_templates_read_only_their_named_datasets():
    for name, datasets in (("loss", {"epochs", "batches"}), ("accuracy", {"epochs"})):
        text = json.dumps(charts.live_spec(name))
        assert {d for d in ("epochs", "batches") if f'"name": "{d}"' in text} == datasets


def test_batches_are_placed_in_epochs():
    rows = charts.batch_rows([BatchEnd(1, 5, 5, 0.5, 1.0), BatchEnd(2, 5, 10, 0.4, 1.0)], batches_per_epoch=5)
    assert [r["epoch"] for r in rows] == [1.0, 2.0]


def text_colours(layer: dict, rows: list[dict]) -> list[str]:
    """The colour Vega-Lite gives each row's text: the layer's joinaggregate (max of a field), then its
    colour condition, a Vega expression over `datum` fields and arithmetic, read here as Python."""
    (step,) = layer["transform"]
    (aggregate,) = step["joinaggregate"]
    assert aggregate["op"] == "max"
    most = max(row[aggregate["field"]] for row in rows)
    colour = layer["encoding"]["color"]
    test = re.sub(r"datum\.(\w+)", r'datum["\1"]', colour["condition"]["test"])
    return [
        colour["condition"]["value"]
        if eval(test, {}, {"datum": {**row, aggregate["as"]: most}})
        else colour["value"]
        for row in rows
    ]


def test_confusion_chart_writes_in_the_counts_white_on_a_dark_cell():
    confusion = np.array([[5, 1], [2, 7]])
    chart = spec(charts.confusion_chart(confusion, ("low", "high")))
    data = next(iter(chart["datasets"].values()))
    # the rows ("Show data") are what a student reads, nothing a chart needs for itself
    assert data == [
        {"true": "low", "predicted": "low", "count": 5},
        {"true": "low", "predicted": "high", "count": 1},
        {"true": "high", "predicted": "low", "count": 2},
        {"true": "high", "predicted": "high", "count": 7},
    ]
    (text,) = [layer for layer in chart["layer"] if layer["mark"]["type"] == "text"]
    # over half the largest count (7) is a dark cell: its number in white
    assert text_colours(text, data) == ["white", "black", "black", "white"]


def axis_order(chart: dict) -> list[str]:
    """The order Vega-Lite gives a nominal x axis's labels when it sorts them by a field of their rows
    (`charts.in_order_of`): by that field's smallest value among each label's rows."""
    x = chart["encoding"]["x"]
    assert x["sort"]["op"] == "min"
    (rows,) = chart["datasets"].values()
    smallest = {}
    for row in rows:
        smallest[row[x["field"]]] = min(smallest.get(row[x["field"]], np.inf), row[x["sort"]["field"]])
    return sorted(smallest, key=smallest.get)


def test_prefix_chart_keeps_the_tokens_in_order_even_when_they_repeat():
    probs = np.array([[0.9, 0.1], [0.2, 0.8], [0.3, 0.7]])
    chart = spec(charts.prefix_chart(("3", "1", "3"), probs, ("low", "high")))
    assert axis_order(chart) == ["1: 3", "2: 1", "3: 3"]
    assert all_colours(chart) <= set(charts.PALETTE)


def test_metrics_csv_has_one_row_per_epoch_with_exact_values(finished):
    rows = list(csv.DictReader(io.StringIO(metrics_csv(finished.model.history))))
    assert len(rows) == 3
    assert float(rows[-1]["test_accuracy"]) == finished.model.history[-1].test_accuracy


def test_lab_report_holds_config_seed_versions_log_curves_and_result(finished):
    text = lab_report(finished.model.config, finished.model.history, finished)
    for name in FIELDS:
        assert f"| {name} |" in text
    assert "torch " in text and "python " in text
    for event in finished.model.history:
        assert event.log_line() in text
    assert finished.log_line() in text
    assert "| true \\ predicted | low | high |" in text


def test_lab_report_writes_the_network_as_the_notebook_does_and_counts_its_weights(finished):
    """What was trained, in the sheet's notation: the exported notebook's section 2, word for word
    (test_notebook checks its equations and shapes), and the number of weights the model holds."""
    config = finished.model.config
    text = lab_report(finished.model.config, finished.model.history, finished)
    section = text.split(f"\n## {network_title(config)}\n\n", 1)[1].split("\n## ", 1)[0]
    body, count_line = section.rstrip().rsplit("\n\n", 1)
    assert f"## 2. {network_title(config)}\n\n{body}" == markdown(config)["model"]
    assert SHEET_RNN in body
    count = re.fullmatch(r"([\d,]+) weights and biases in all, every one of them trained\.", count_line)
    assert int(count.group(1).replace(",", "")) == sum(p.numel() for p in finished.model.model.parameters())


def test_the_reports_command_line_rebuilds_the_same_config():
    config = preset("sentiment")
    args = build_parser().parse_args(config.command_line().split()[3:])
    rebuilt, problems = TrainConfig.from_strings({n: getattr(args, n) for n in FIELDS})
    assert rebuilt == config and problems == []


def test_chart_rows_go_to_the_browser_as_arrow_and_mixed_columns_are_left_to_streamlit():
    """page.chart hands Streamlit its rows as an Arrow table (no pandas on the way); a column pyarrow
    cannot type stays rows, for Streamlit's own conversion, which turns it into text."""
    history = run_events(RUN)[-1].model.history
    rows = [*charts.epoch_rows(history, "accuracy"), {"epoch": 4, "split": "test", "note": "x"}]
    table = page.arrow_table(rows)  # a row without a column has None there, as in a DataFrame
    assert table.to_pylist() == [{"accuracy": None, "rounded": None, "note": None} | row for row in rows]
    assert table.to_pandas().equals(pd.DataFrame(rows))
    mixed = [{"step": 1}, {"step": "one"}]
    assert page.arrow_table(mixed) is mixed
    assert dataframe_util.convert_anything_to_arrow_bytes(mixed)


def only_dataset(chart) -> list[dict]:
    return next(iter(spec(chart)["datasets"].values()))


def test_gradient_flow_counts_steps_back_and_leaves_out_overflowed_norms():
    series = {"tanh": np.array([1e-8, 1e-4, 1.0]), "W alone": np.array([np.inf, 10.0, 1.0])}
    chart = charts_inside.gradient_flow(series, "flow")
    data = only_dataset(chart)
    assert {(d["series"], d["t"], d["back"], d["norm"]) for d in data} == {
        ("tanh", 1, 2, 1e-8), ("tanh", 2, 1, 1e-4), ("tanh", 3, 0, 1.0),
        ("W alone", 2, 1, 10.0), ("W alone", 3, 0, 1.0),
    }  # fmt: skip
    assert spec(chart)["encoding"]["y"]["scale"]["type"] == "log"
    assert all_colours(spec(chart)) <= set(charts.PALETTE)


def test_hidden_heatmap_holds_every_unit_at_every_step_under_its_token():
    hidden = np.array([[0.5, -0.25], [-1.0, 0.75], [0.0, 0.1]])  # (T=3, H=2)
    chart = charts_inside.hidden_heatmap(hidden, ["3", "1", "3"])
    assert {(d["step"], d["unit"], d["value"]) for d in only_dataset(chart)} == {
        ("1: 3", 0, 0.5), ("1: 3", 1, -0.25), ("2: 1", 0, -1.0),
        ("2: 1", 1, 0.75), ("3: 3", 0, 0.0), ("3: 3", 1, 0.1),
    }  # fmt: skip
    assert axis_order(chart) == ["1: 3", "2: 1", "3: 3"]


def test_the_heatmaps_colour_range_is_tanhs_or_a_relu_runs_in_half_steps():
    tanh = spec(charts_inside.hidden_heatmap(np.array([[0.5, -0.9]]), ["1"]))
    assert tanh["encoding"]["color"]["scale"]["domain"] == [-1.0, 1.0]
    a, b = (charts_inside.hidden_heatmap(np.array([[0.0, value]]), ["1"]) for value in (1.3, 1.5))
    assert a["encoding"]["color"]["scale"]["domain"] == [-1.5, 1.5]  # every value inside it
    assert a["encoding"] is b["encoding"]  # one spec while a relu run's largest value moves a little


def test_pandas_is_imported_whole_before_any_page_builds_a_chart():
    """Altair reads pandas from sys.modules without importing it: a chart built in one session while
    another session's thread was still importing pandas failed (dashboard/charts.py says how)."""
    code = "import sys; from dashboard import controls, page, session, state; print('pandas' in sys.modules)"
    done = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, check=True)
    assert done.stdout.split() == ["True"]  # what app.py imports before it runs a page


def test_the_charts_drawn_again_and_again_keep_their_spec_when_only_their_numbers_change():
    """While a run trains or replays, at every click on Try it, and from one student's run or sequence
    to another's, only the rows and the sentence change: the server builds each spec once (20-100 ms
    of its time each, which every student's first visit to a page paid). The sentence is part of the
    spec the browser compares, so it draws these charts anew when their numbers change; it swaps only
    the rows of the live curves and Compare's curves, whose sentences hold still while a run trains."""
    earlier, later = np.array([[0.5, -0.25], [-1.0, 0.75]]), np.array([[0.1, 0.2], [0.3, -0.4]])
    frame = pd.DataFrame(
        {"sequence": ["1", "1"], "step": [1, 2], "token": ["3", "1"], "class": ["low", "low"],
         "pc1": [0.0, 1.0], "pc2": [0.0, -1.0], "last": [False, True]}
    )  # fmt: skip
    points, moved = frame.to_dict("records"), frame.assign(pc1=[0.5, 2.0]).to_dict("records")
    pairs = [
        (charts_inside.hidden_heatmap(h, ["3", "1"]) for h in (earlier, later)),
        (charts_inside.trajectory_plot(p, ("low", "high")) for p in (points, moved)),
        (charts.confusion_chart(c, ("low", "high")) for c in (np.array([[5, 1], [2, 7]]), np.eye(2) * 4)),
        (charts.probability_bars(np.array(p), ("low", "high")) for p in ([0.2, 0.8], [0.6, 0.4])),
        (
            charts.prefix_chart(("3", "1"), np.array(p), ("low", "high"))
            for p in ([[0.2, 0.8]] * 2, [[0.6, 0.4]] * 2)
        ),
        # another student's sequence, typed or drawn from the task: the same spec
        (
            charts.prefix_chart(t, np.array([[0.2, 0.8]] * 2), ("low", "high"))
            for t in (("3", "1"), ("9", "9"))
        ),
        (charts_inside.hidden_heatmap(earlier, t) for t in (["3", "1"], ["9", "2"])),
        (
            charts_inside.step_shares(np.array(s), t)
            for s, t in (([0.4, 0.6], ["3", "1"]), ([0.7, 0.3], ["9", "2"]))
        ),
        (charts_inside.gradient_flow(np.array(n), "flow") for n in ([1e-3, 1e-1], [1e-4, 1e-2, 1.0])),
        (
            charts_inside.compare_curves(
                pd.DataFrame({"run": ["Run 1"], "epoch": [1], "acc": [a]}), "acc", "A", 10
            )
            for a in (90.0, 95.0)
        ),
        (
            charts_inside.sweep_curve(
                pd.DataFrame({"line": ["rnn", "rnn"], "x": [5, 40], "accuracy": a}), "T"
            )
            for a in ([99.0, 50.0], [98.0, 62.0])
        ),
    ]
    for a, b in pairs:
        fixed = {key: value for key, value in a.items() if key not in ("datasets", "description")}
        assert fixed == {key: value for key, value in b.items() if key not in ("datasets", "description")}
        assert a["datasets"] != b["datasets"] and a["description"] != b["description"]
        assert all(a[key] is b[key] for key in fixed)  # built once: the same objects, from the cache


def test_step_shares_and_compare_curves_use_the_palette_and_keep_the_order():
    shares = spec(charts_inside.step_shares(np.array([0.0, 0.25, 0.75]), ["a", "b", "a"]))
    assert axis_order(shares) == ["1: a", "2: b", "3: a"]
    rows = pd.DataFrame({"run": ["Run 2", "Run 2", "Run 1"], "epoch": [1, 2, 1], "loss": [0.7, 0.5, 0.6]})
    curves = spec(charts_inside.compare_curves(rows, "loss", "Training loss", 2))
    assert curves["encoding"]["color"]["scale"]["domain"] == ["Run 2", "Run 1"]
    # the axes stay put while runs train: epochs 0 to the longest run's, a percentage 0 to 100
    percent = spec(charts_inside.compare_curves(rows, "loss", "Loss (%)", 12, percent=True))["encoding"]
    assert percent["x"]["scale"]["domain"] == [0, 12] and percent["y"]["scale"]["domain"] == [0, 100]
    assert all_colours(curves) <= set(charts.PALETTE) and all_colours(shares) <= set(charts.PALETTE)


def test_compared_curves_keep_their_spec_while_a_run_trains_and_say_which_one_trains():
    first = pd.DataFrame({"run": ["Run 1", "Run 1", "Run 2"], "epoch": [1, 2, 1], "loss": [0.7, 0.5, 0.6]})
    later = pd.concat([first, pd.DataFrame({"run": ["Run 2"], "epoch": [2], "loss": [0.4]})])
    a, b = (
        charts_inside.compare_curves(rows, "loss", "L", 2, training=("Run 2",)) for rows in (first, later)
    )
    assert {k: v for k, v in a.items() if k != "datasets"} == {k: v for k, v in b.items() if k != "datasets"}
    assert [len(c["datasets"]["runs"]) for c in (a, b)] == [3, 4]  # only the rows change
    said = "L at each run's last epoch: Run 1 0.5 (epoch 2); Run 2 still training (named here when it ends)."
    assert a["description"] == said
    over = charts_inside.compare_curves(later, "loss", "L", 2)
    assert over["description"] == "L at each run's last epoch: Run 1 0.5 (epoch 2); Run 2 0.4 (epoch 2)."
    both = charts_inside.compare_curves(first, "loss", "L", 2, training=("Run 1", "Run 2"))
    assert both["description"].endswith(": Run 1 and Run 2 still training (named here when they end).")


def test_trajectories_colour_each_class_and_draw_a_typed_sequence_in_black():
    points = pd.DataFrame(
        {"sequence": ["1", "1", "y", "y"], "step": [1, 2, 1, 2], "token": ["3", "1", "9", "9"],
         "class": ["low", "low", "yours", "yours"], "pc1": [0.0, 1.0, 2.0, 3.0],
         "pc2": [0.0, -1.0, 0.5, 0.5], "last": [False, True, False, True]}
    ).to_dict("records")  # fmt: skip
    chart = spec(charts_inside.trajectory_plot(points, ("low", "high")))
    scale = chart["layer"][0]["encoding"]["color"]["scale"]
    assert scale["domain"] == ["low", "high", "yours"] and scale["range"][2] == "#000000"
    assert len(only_dataset(charts_inside.trajectory_plot(points, ("low", "high")))) == 4
    # the classes are not the heatmap's blue and orange, which mean negative and positive h_t there
    assert not {scale["range"][0], scale["range"][1]} & {charts.PALETTE[0], charts.PALETTE[1]}
    # the legend's keys in full colour: drawn like the faint paths, the classes were hard to tell apart
    assert chart["layer"][0]["encoding"]["color"]["legend"]["symbolOpacity"] == 1
    untyped = spec(
        charts_inside.trajectory_plot([p for p in points if p["class"] != "yours"], ("low", "high"))
    )
    assert untyped["layer"][0]["encoding"]["color"]["scale"]["domain"] == ["low", "high"]  # no "yours" entry


def test_the_sweep_curve_puts_each_run_at_its_setting_on_a_fixed_0_to_100_axis():
    rows = pd.DataFrame(
        {"line": ["cell rnn", "cell rnn", "cell lstm"], "x": [10, 30, 10], "accuracy": [99.5, 48.25, 100.0]}
    )
    chart = charts_inside.sweep_curve(rows, "Sequence length")
    points = {(d["line"], d["x"], d["accuracy"]) for d in only_dataset(chart)}
    assert points == {("cell rnn", 10, 99.5), ("cell rnn", 30, 48.25), ("cell lstm", 10, 100.0)}
    encoding = spec(chart)["encoding"]
    assert encoding["y"]["scale"]["domain"] == [0, 100]
    assert encoding["color"]["scale"]["domain"] == ["cell rnn", "cell lstm"]
    assert all_colours(spec(chart)) <= set(charts.PALETTE)


def test_every_chart_says_in_a_sentence_what_it_shows_now_from_its_own_numbers(finished):
    """A screen reader reads the description as the chart's name (Vega puts it on aria-label)."""
    history = finished.model.history
    accuracy = charts.live_spec("accuracy", 3, epochs=charts.epoch_rows(history, "accuracy"))["description"]
    assert f"test {100 * history[-1].test_accuracy:.4g}%" in accuracy and "after epoch 3" in accuracy
    confusion = spec(charts.confusion_chart(np.array([[90, 4], [3, 103]]), ("low", "high")))["description"]
    assert (
        "193 of 200" in confusion
        and "4 low taken for high" in confusion
        and "3 high taken for low" in confusion
    )
    bars = spec(charts.probability_bars(np.array([0.25, 0.75]), ("low", "high")))["description"]
    assert bars == "Class probabilities: low 25.0%, high 75.0%."
    prefixes = np.array([[0.4, 0.6], [0.9, 0.1]])
    assert (
        "token 2 (8), low (90.0%)"
        in spec(charts.prefix_chart(("9", "8"), prefixes, ("low", "high")))["description"]
    )
    hidden = np.array([[0.9, -0.9, 0.0], [0.6, 0.7, -0.8]])
    said = spec(charts_inside.hidden_heatmap(hidden, ["3", "1"]))["description"]
    assert "3 units over 2 steps" in said and "2 units are above 0.5 and 1 below -0.5" in said
    shares = spec(charts_inside.step_shares(np.array([0.1, 0.7, 0.2]), ["a", "b", "c"]))["description"]
    assert shares == "Step 2 (b) gives the largest share of ∂L/∂W, 70.0%; the first step gives 10.0%."
    # W's first part is δ_1 h_0ᵀ: zero when h_0 = 0, said why; a small share is not written as 0.0%
    for first, said in ((0.0, "nothing, since h_0 = 0"), (-0.00004, "-0.004%"), (0.00031, "0.031%")):
        shares = spec(charts_inside.step_shares(np.array([first, 0.7, 0.3 - first]), ["a", "b", "c"]))
        assert shares["description"].endswith(f"the first step gives {said}.")
    flow = spec(charts_inside.gradient_flow(np.array([1e-5, 1e-3, 1e-1]), "flow"))["description"]
    assert "from 1.0e-01 at 0 steps back to 1.0e-05 at 2 steps back" in flow
    rows = pd.DataFrame({"run": ["Run 1", "Run 1", "Run 2"], "epoch": [1, 2, 1], "loss": [0.7, 0.5, 0.6]})
    assert (
        "Run 1 0.5 (epoch 2); Run 2 0.6 (epoch 1)"
        in spec(charts_inside.compare_curves(rows, "loss", "L", 3))["description"]
    )
    points = pd.DataFrame(
        {"sequence": ["1", "1", "2", "2"], "step": [1, 2, 1, 2], "token": ["3", "1", "9", "9"],
         "class": ["low", "low", "high", "high"], "pc1": [0.0, 1.0, 2.0, -3.0],
         "pc2": [0.0, -1.0, 0.5, 0.5], "last": [False, True, False, True]}
    ).to_dict("records")  # fmt: skip
    where = spec(charts_inside.trajectory_plot(points, ("low", "high")))["description"]
    assert "2 sequences" in where and "low at (1.00, -1.00); high at (-3.00, 0.50)" in where


def text_sizes(spec: dict) -> list[int]:
    config = spec["config"]
    axis, legend = config["axis"], config["legend"]
    sizes = [axis["labelFontSize"], axis["titleFontSize"], legend["labelFontSize"], legend["titleFontSize"]]
    return [*sizes, config["title"]["fontSize"], config["text"]["fontSize"]]


def test_every_chart_is_drawn_with_readable_text_and_taller_on_a_projector():
    chart = spec(charts_inside.step_shares(np.array([0.5, 0.5]), ["a", "b"]))
    laptop, projector = charts.readable(chart), charts.readable(chart, projector=True)
    assert min(text_sizes(laptop)) >= 13 and min(text_sizes(projector)) >= 18
    assert projector["height"] > laptop["height"] == chart["height"] >= 300
    # the height is the plot area's: the title, axes and legend are laid out around it
    assert laptop["autosize"] == {"type": "fit-x", "contains": "padding"}
    assert "height" not in charts.readable({"mark": "bar"})


def test_while_a_run_trains_its_curves_change_only_their_rows_between_tenths_of_the_run():
    """The browser rebuilds a chart whose spec changed and only swaps the rows of one whose spec did
    not; the sentence a screen reader reads is part of the spec, so it moves on every tenth of a run."""

    def rows(epochs):
        return [
            {"epoch": e, "split": split, "loss": 1 / e, "accuracy": 50.0 + e}
            for e in range(1, epochs + 1)
            for split in ("train", "test")
        ]

    def spec_without_rows(epochs, training=True):
        spec = charts.live_spec("loss", 40, training, epochs=rows(epochs), batches=[{"step": 1, "loss": 1.0}])
        return {key: value for key, value in spec.items() if key != "datasets"}

    assert spec_without_rows(2) == spec_without_rows(3)  # epoch 1 described until epoch 4
    assert spec_without_rows(4) == spec_without_rows(7) != spec_without_rows(8)
    said = charts.live_spec("accuracy", 40, True, epochs=rows(13))["description"]
    assert said.startswith("Accuracy after epoch 12: train 62%") and "up to date every 4 epochs" in said
    assert "Accuracy after epoch 1: " in charts.live_spec("accuracy", 40, True, epochs=rows(3))["description"]
    stopped = charts.live_spec("accuracy", 40, epochs=rows(13))["description"]  # over: its last epoch
    assert stopped.startswith("Accuracy after epoch 13: train 63%") and "every" not in stopped
    short = charts.live_spec("accuracy", 5, True, epochs=rows(3))["description"]  # a tenth is one epoch
    assert short.startswith("Accuracy after epoch 3: ") and "every" not in short


def test_the_live_curves_span_the_whole_run_from_the_first_redraw(finished):
    empty = charts.live_spec("loss", 25)
    assert empty["layer"][0]["encoding"]["x"]["scale"]["domain"] == [0, 25]
    assert empty["layer"][0]["encoding"]["y"]["scale"]["domain"] == [0, 1]  # not a lone tick at 0
    grown = charts.live_spec("loss", 25, epochs=charts.epoch_rows(finished.model.history, "loss"))
    assert "scale" not in grown["layer"][0]["encoding"]["y"]  # the losses set the axis once there are some
    assert charts.live_spec("accuracy", 7)["encoding"]["x"]["scale"]["domain"] == [0, 7]


def test_a_probability_or_an_accuracy_is_never_written_as_a_certainty_it_is_not():
    """A softmax is never exactly 1 or 0 (in float32 it can round to them): a trained network's
    0.99996 read "100.0%" on Try it, in the command line's prediction and in the notebook's. An
    accuracy (Compare's verdicts and sweep, the run pickers, the seed record) reads 100.0% only
    when every prediction is right."""
    cases = {0.62: "62.0%", 0.9994: "99.9%", 0.99996: "> 99.9%", 1.0: "> 99.9%", 0.0012: "0.1%",
             0.0004: "< 0.1%", 0.0: "< 0.1%"}  # fmt: skip
    assert {p: percent(p) for p in cases} == cases
    sure = np.array([4e-5, 1 - 4e-5], dtype=np.float32)
    bars = spec(charts.probability_bars(sure, ("low", "high")))
    assert bars["description"] == "Class probabilities: low < 0.1%, high > 99.9%."
    (rows,) = bars["datasets"].values()
    assert [row["rounded"] for row in rows] == ["< 0.1%", "> 99.9%"]  # the words at the bars' ends
    prefixes = np.array([[0.4, 0.6], sure])
    prefix = spec(charts.prefix_chart(("9", "8"), prefixes, ("low", "high")))["description"]
    assert prefix.endswith("after the last, token 2 (8), high (> 99.9%).")
    said = Prediction(("9", "8"), ("low", "high"), sure, prefixes, np.zeros((2, 4))).report(every_step=True)
    assert said == ["Prediction: high (> 99.9%)", "  low: < 0.1%", "  high: > 99.9%", "Per step: high high"]
    # an accuracy can be exact: every one of 2,000 right reads 100.0%, 1,999 of them does not
    assert [percent(a, exact_ends=True) for a in (1.0, 1999 / 2000, 0.0, 1 / 4000)] == [
        "100.0%", "> 99.9%", "0.0%", "< 0.1%"
    ]  # fmt: skip
    # Train's test accuracy and Compare's table have the sheet's two decimals, by the same rule: one
    # wrong of 40,000 step predictions (a long many-to-many test set) is not "100.00%"
    assert [percent(a, exact_ends=True, decimals=2) for a in (1.0, 0.875, 39999 / 40000, 0.0, 1 / 40000)] == [
        "100.00%", "87.50%", "> 99.99%", "0.00%", "< 0.01%"
    ]  # fmt: skip
    # Train's sentences follow a curve to four significant digits, by the same rule
    assert [percent(a, exact_ends=True, significant=4) for a in (1.0, 0.9638, 19999 / 20000, 0.0, 0.075)] == [
        "100%", "96.38%", "> 99.99%", "0%", "7.5%"
    ]  # fmt: skip
    rows = pd.DataFrame({"line": ["cell rnn"] * 2, "x": [5, 40], "accuracy": [100.0, 100 * 1999 / 2000]})
    swept = spec(charts_inside.sweep_curve(rows, "Sequence length"))
    assert "cell rnn 100.0% at 5, > 99.9% at 40" in swept["description"]
    assert shown_on_hover(swept) == ["100.00%", "99.95%"]
    # Train's curves: their sentence to four digits, their tooltips to the sheet's two decimals
    history = [EpochEnd(e, 2, 0.1, a, 0.1, a, elapsed=0.1) for e, a in ((1, 1.0), (2, 39999 / 40000))]
    said = charts.live_spec("accuracy", 2, epochs=charts.epoch_rows(history, "accuracy"))
    assert said["description"] == "Accuracy after epoch 2: train > 99.99%, from 100% after epoch 1; " + (
        "test > 99.99%, from 100% after epoch 1."
    )
    assert shown_on_hover(said) == ["100.00%", "100.00%", "> 99.99%", "> 99.99%"]
    # and Compare's: "Run 1 > 99.99%", not "Run 1 100"
    rows = pd.DataFrame(
        {"run": ["Run 1"] * 2, "epoch": [1, 2], "acc": [100.0, 100 * 39999 / 40000], "loss": [0.1, 0.2]}
    )
    compared = spec(charts_inside.compare_curves(rows, "acc", "Test accuracy (%)", 2, percent=True))
    assert compared["description"] == "Test accuracy (%) at each run's last epoch: Run 1 > 99.99% (epoch 2)."
    assert shown_on_hover(compared) == ["100.00%", "> 99.99%"]
    # its "Show data" lists what it draws, not the other chart's loss
    assert {key for row in compared["datasets"]["runs"] for key in row} == {"run", "epoch", "acc", "rounded"}
    losses = spec(charts_inside.compare_curves(rows, "loss", "Training loss", 2))["datasets"]["runs"]
    assert losses == [{"run": "Run 1", "epoch": 1, "loss": 0.1}, {"run": "Run 1", "epoch": 2, "loss": 0.2}]


def shown_on_hover(chart: dict) -> list[str]:
    """What a chart's tooltips say of its accuracy: its rows' `rounded` field, which they read."""
    tooltips = chart["encoding"]["tooltip"]
    assert next(t for t in tooltips if t["field"] == "rounded")["type"] == "nominal"  # its words, as written
    (rows,) = chart["datasets"].values()
    return [row["rounded"] for row in rows]
