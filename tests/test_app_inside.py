"""AppTest runs of the look-inside pages: Hidden states, Backprop through time, Compare."""

import json
from dataclasses import replace

import numpy as np
import pyarrow as pa
import pytest
import torch

from app_support import new_app, new_tab, picker, runs, set_config, stop_after_an_epoch, texts, wait_for
from conftest import EPOCH_LINE
from dashboard import charts, limits, state
from rnn_core import FIELDS, bptt
from rnn_core.equations import recurrence
from rnn_core.experiments import EXPERIMENTS
from rnn_core.probes import probe_score


def chart_rows(chart):
    return [pa.ipc.open_stream(d.data.data).read_pandas() for d in chart.proto.datasets]


def charts_titled(at, title):
    return [c for c in at.get("arrow_vega_lite_chart") + at.get("vega_lite_chart") if title in c.proto.spec]


@pytest.fixture(scope="module")
def lab_runs():
    """The runs of a session that trained the lab run: trained once for the module."""
    at = new_app()
    at.button(key=state.TRAIN_BUTTON).click().run()
    return runs(wait_for(at, lambda v: not v.active))


@pytest.fixture
def lab_app(lab_runs):
    """For each test, a new session with those runs, as when a reload brings a browser's runs back
    (dashboard.session): the pages as that session first draws them, whatever a test before it
    typed, moved or picked in its own. (One session for the module ran each test in the state the
    tests before it had left: in another order, with pytest-xdist or `-k`, Hidden states opened at
    the epoch and with the sequence that other tests had set.)"""
    return new_tab(lab_runs)


@pytest.mark.parametrize(
    ("page", "words"),
    [
        ("views/hidden_states.py", "No run yet"),
        ("views/backprop.py", "Train a run with the **rnn** cell"),
        ("views/compare.py", "No runs to compare yet"),
    ],
)
def test_each_page_before_any_run_says_how_to_get_one(page, words):
    at = new_app().switch_page(page).run()
    assert words in texts(at.info) and not at.exception


def test_hidden_states_says_which_layers_h_t_it_shows():
    at = set_config(new_app(), epochs=1, num_samples=200, num_layers=2)
    at.button(key=state.TRAIN_BUTTON).click().run()
    at = wait_for(at, lambda v: not v.active)
    at.switch_page("views/hidden_states.py").run()
    assert "Each column is h_t of the top layer (of 2, the one the output layer reads)" in texts(at.caption)
    view = runs(at).latest()  # the last snapshot was taken with the trained weights
    network = view.model.model
    with torch.no_grad():
        _, last = network.rnn(network.embedding(torch.as_tensor(view.started.probe_tokens)))  # (layers, P, H)
    shown = torch.as_tensor(view.snapshots[-1].hidden[:, -1])  # the heatmap's last column, every probe
    torch.testing.assert_close(shown, last[1], atol=1e-5, rtol=0)  # the top layer's h_T ...
    assert not torch.allclose(shown, last[0], atol=1e-2) and not at.exception  # ... not the first layer's
    at.switch_page("views/backprop.py").run()  # which names the network its equations do not fit
    assert "Run 1 is a 2-layer RNN with tanh. The lab sheet's equations" in texts(at.info)


def test_hidden_states_heatmap_shows_the_recorded_h_t(lab_app):
    at = lab_app.switch_page("views/hidden_states.py").run()
    view = runs(at).latest()
    slider = at.select_slider(key=f"{state.HIDDEN_EPOCH}_{view.run_id}")
    assert slider.options == [str(s.epoch) for s in view.snapshots] and slider.value == 10
    assert "recorded before training (epoch 0) and after each of its 10 epochs." in texts(at.caption)
    picker(at, "Sequence for the heatmap").select(3).run()
    (heatmap,) = chart_rows(charts_titled(at, "Hidden state h_t")[0])
    expected = view.snapshots[-1].hidden[3]  # (T, H)
    got = np.zeros_like(expected)
    got[heatmap["t"] - 1, heatmap["unit"].astype(int)] = heatmap["value"]
    np.testing.assert_allclose(got, expected, rtol=1e-6)


def test_trajectories_use_one_basis_and_replay_epochs(lab_app):
    at = lab_app.switch_page("views/hidden_states.py").run()
    view = runs(at).latest()
    final = chart_rows(charts_titled(at, "Trajectories")[0])[0]
    # the caption's numbers are the output layer's reading of the recorded end points, per epoch
    right, scored = probe_score(view.snapshots[-1], view.started.probe_labels)
    assert (
        scored == 16
        and f"after epoch 10 it classifies the end points h_T of {right} of these 16" in texts(at.caption)
    )
    assert "fitted once to every recorded epoch" in texts(at.caption)
    at.select_slider(key=f"{state.HIDDEN_EPOCH}_{view.run_id}").set_value(0).run()
    start = chart_rows(charts_titled(at, "Trajectories")[0])[0]
    assert len(final) == len(start) == 16 * view.config.seq_len
    assert not np.allclose(final[["pc1", "pc2"]], start[["pc1", "pc2"]])

    def spread(points):  # distance between the two classes' mean end points, in the shared basis
        ends = points[points["last"]]
        means = ends.groupby("class")[["pc1", "pc2"]].mean().to_numpy()
        return float(np.linalg.norm(means[0] - means[1]))

    assert spread(final) > 2 * spread(start)  # training pulled the classes apart


def test_a_sequence_typed_on_try_it_is_drawn_over_the_cloud(lab_app):
    at = lab_app.switch_page("views/hidden_states.py").run()
    view = runs(at).latest()
    at.select_slider(key=f"{state.HIDDEN_EPOCH}_{view.run_id}").set_value(0).run()  # a look at the start
    at.switch_page("views/try_it.py").run()
    at.text_input(key=state.TRY_TEXT).input("9 9 9 8 9 9").run()
    at.switch_page("views/hidden_states.py").run()
    # a new sequence brings the slider to the last epoch: the trained network, the one that reads it
    assert at.select_slider(key=f"{state.HIDDEN_EPOCH}_{view.run_id}").value == view.snapshots[-1].epoch
    points = chart_rows(charts_titled(at, "Trajectories")[0])[0]
    mine = points[points["class"] == "yours"]
    assert list(mine["token"]) == ["9", "9", "9", "8", "9", "9"]
    # and its own heatmap: the trained network's h_t for what the student typed
    picker(at, "Sequence for the heatmap").select("yours").run()
    (heatmap,) = chart_rows(charts_titled(at, "Hidden state h_t")[0])
    expected = runs(at).latest().model.predict("9 9 9 8 9 9").hidden  # (T, H)
    got = np.zeros_like(expected)
    got[heatmap["t"] - 1, heatmap["unit"].astype(int)] = heatmap["value"]
    np.testing.assert_allclose(got, expected, rtol=1e-6)
    assert "tanh keeps them between -1 and 1" in " ".join(c.value for c in at.caption)
    # an earlier epoch: the cloud is the network then, so the typed path (final network) is left out
    view = runs(at).latest()
    at.select_slider(key=f"{state.HIDDEN_EPOCH}_{view.run_id}").set_value(0).run()
    points = chart_rows(charts_titled(at, "Trajectories")[0])[0]
    assert "yours" not in set(points["class"]) and "drawn at the last epoch" in texts(at.caption)


def test_a_typed_sequence_only_follows_good_input_and_is_explained_when_this_run_cannot_read_it(lab_app):
    at = lab_app.switch_page("views/try_it.py").run()
    at.text_input(key=state.TRY_TEXT).input("9 x 9").run()  # a bad input is not drawn anywhere
    at.switch_page("views/hidden_states.py").run()
    points = chart_rows(charts_titled(at, "Trajectories")[0])[0]
    assert "yours" not in set(points["class"]) and "Type a sequence on the Try it page" in texts(at.caption)
    at.session_state[state.TYPED_TEXT] = "not bad at all"  # typed for a sentiment run of the session
    at.run()
    assert "cannot be drawn for this run" in texts(at.warning) and not at.exception


def test_hidden_states_work_while_training_and_for_an_lstm():
    at = set_config(new_app(), epochs=60, num_samples=3000)
    at = set_config(at, cell="lstm")
    at.button(key=state.TRAIN_BUTTON).click().run()
    at = wait_for(at, lambda v: len(v.snapshots) >= 3)
    at.switch_page("views/hidden_states.py").run()
    assert "Still training" in " ".join(c.value for c in at.caption)
    assert "it is refitted as epochs arrive, so it may turn, and it settles when the run ends" in texts(
        at.caption
    )
    assert charts_titled(at, "Trajectories") and not at.exception
    # the caption's claim about the range of an LSTM's h_t, checked on the recorded states
    assert "gated tanh, so it stays between -1 and 1" in texts(at.caption)
    assert "Each column is h_t after reading token x_t" in texts(at.caption)  # one layer: no word of layers
    assert all(np.abs(s.hidden).max() <= 1 for s in runs(at).latest().snapshots)
    slider_key = f"{state.HIDDEN_EPOCH}_{runs(at).latest().run_id}"

    def newest_shown() -> int:
        """The slider's epoch, checked to be the newest of those the page had (more may have come
        in since the page was drawn: the run trains on)."""
        slider, recorded = at.select_slider(key=slider_key), [s.epoch for s in runs(at).latest().snapshots]
        shown = [int(option) for option in slider.options]
        assert shown == recorded[: len(shown)] and slider.value == shown[-1]
        return slider.value

    first = newest_shown()
    assert at.button(key=f"{state.HIDDEN_REPLAY}_1").disabled  # nothing to replay until it ends
    seen = len(runs(at).latest().snapshots)
    at = wait_for(at, lambda v: len(v.snapshots) > seen)  # new epochs: the slider follows them
    assert newest_shown() > first
    at.select_slider(key=slider_key).set_value(0).run()  # a student looks back...
    seen = len(runs(at).latest().snapshots)
    at = wait_for(at, lambda v: len(v.snapshots) > seen)
    assert at.select_slider(key=slider_key).value == 0  # ...and stays there
    at.switch_page("views/train.py").run()
    at = stop_after_an_epoch(at)
    at.switch_page("views/hidden_states.py").run()  # stopped: which epochs were recorded, in words
    trained = len(runs(at).latest().epochs)
    recorded = [e for e in range(1, trained + 1) if e % 3 == 0]  # 60 epochs: every third, 20 in all
    assert [s.epoch for s in runs(at).latest().snapshots] == [0, *recorded]
    said = f"after {len(recorded)} of the {trained} epochs it trained (at most 20, evenly spaced)."
    assert said in texts(at.caption)


def test_backprop_page_fills_the_equations_and_matches_autograd(lab_app):
    at = lab_app.switch_page("views/backprop.py").run()
    table = at.dataframe[0].value
    assert list(table["hand (the sheet)"]) == ["∂L/∂U", "∂L/∂W", "∂L/∂V", "∂L/∂b_h", "∂L/∂b_h", "∂L/∂b_y"]
    assert list(table["autograd (nn.RNN)"]) == ["∂L/∂U", "∂L/∂W", "∂L/∂V", "∂L/∂b_ih", "∂L/∂b_hh", "∂L/∂b_y"]
    assert table["largest |hand − autograd|"].max() < 1e-10
    assert list(table.columns).index("largest |hand − autograd|") == 1  # in sight on a phone
    view = runs(at).latest()
    params = bptt.params_from_model(view.model.model)
    x = bptt.embed(view.model.model, [int(i) for i in view.started.probe_tokens[0]])
    cache = bptt.forward(params, x, int(view.started.probe_labels[0]))
    # L_T is small once the network has learned: written with a power of ten, never as 0.0014 or 0.0000
    loss, T = float(cache.L_t[-1]), len(cache.L_t)
    power = int(np.floor(np.log10(loss)))
    assert power < -1 and rf"L_{{{T}}} = {loss / 10.0**power:.3f} \times 10^{{{power}}}" in " ".join(
        m.value for m in at.latex
    )
    # ∂L/∂h_T is small: written with a common power of ten, its leading entry in 3 decimals
    trace = bptt.backward_steps(params, cache)
    dh = trace.dh[-1].numpy()
    power = int(np.floor(np.log10(np.abs(dh).max())))
    dh_line = r"\frac{\partial L}{\partial h_{"  # the numbers line (h_{10}), not the general h_t
    (line,) = [m.value for m in at.latex if m.value.lstrip("$ \n").startswith(dh_line)]
    assert f"10^{{{power}}} \\times" in line and f"{dh[0] / 10.0**power:.3f}" in line
    shares = chart_rows(charts_titled(at, "each step's contribution")[0])[0]
    assert shares["share"].sum() == pytest.approx(1.0)


def test_scaling_W_shows_vanishing_and_exploding_as_computed(lab_app):
    at = lab_app.switch_page("views/backprop.py").run()

    def flow(scale):
        at.slider(key=state.BPTT_SCALE).set_value(scale).run()
        (rows,) = chart_rows(charts_titled(at, "back in time")[0])
        caption = next(c.value for c in at.caption if "Spectral radius" in c.value)
        far = rows["back"].max()
        ratio = {
            name: group[group["back"] == far]["norm"].item() / group[group["back"] == 0]["norm"].item()
            for name, group in rows.groupby("series")
        }
        return ratio, caption

    small, small_caption = flow(0.25)
    large, large_caption = flow(3.0)
    assert all(r < 1e-6 for r in small.values())  # everything vanishes with a small W
    assert large["W alone (no tanh)"] > 1e6  # W alone explodes once its spectral radius passes 1
    assert "vanishing" in small_caption and "exploding" in large_caption
    assert "saturates tanh" in large_caption  # and tanh's squashing is named as what stops it here


def test_the_spectral_radius_recorded_while_training_is_shown(lab_app):
    at = lab_app.switch_page("views/backprop.py").run()
    snapshots = runs(at).latest().snapshots
    radii = [s.spectral_radius for s in snapshots]
    assert len(radii) == 11 and len(set(radii)) > 1  # before training and after each of 10 epochs
    caption = next(c.value for c in at.caption if "While this run trained" in c.value)
    assert f"from {radii[0]:.2f} before training to {radii[-1]:.2f} after epoch 10" in caption
    assert ("above 1" if radii[-1] > 1 else "below 1") in caption
    assert radii[-1] == pytest.approx(
        bptt.spectral_radius(runs(at).latest().model.model.rnn.weight_hh_l0.detach())
    )


def test_step_through_walks_forward_loss_backward_update(lab_app):
    at = lab_app.switch_page("views/backprop.py").run()
    labels = []
    for _ in range(4):
        labels.append(at.button(key=state.BPTT_NEXT).label)
        at.button(key=state.BPTT_NEXT).click().run()
    assert labels == ["Next: forward", "Next: loss", "Next: backward", "Next: update"]
    assert at.button(key=state.BPTT_NEXT).label == "Start over"  # it says what the next click does
    said = " ".join(m.value for m in at.markdown)
    for stage in ("**Forward:**", "**Loss:**", "**Backward:**", "**Update:**"):
        assert stage in said
    before, after = said.split("goes from ")[1].rstrip(".").split(" to ")
    assert f"L = Σ_t L_t = {before}" in said  # the loss the step starts from, as the update says it
    assert float(after) < float(before)


def test_backprop_page_writes_an_lstms_own_step_and_fills_in_with_the_next_sheet_run():
    at = set_config(new_app(), epochs=60, num_samples=3000)
    at = set_config(at, cell="lstm")
    at.button(key=state.TRAIN_BUTTON).click().run()
    at.switch_page("views/backprop.py").run()
    assert "Run 1 is still training: its step and gradient flow appear when it ends." in texts(at.info)
    at.switch_page("views/train.py").run()
    at = stop_after_an_epoch(at)  # a stopped run keeps its model
    at.switch_page("views/backprop.py").run()
    said = texts(at.info)
    assert "Run 1 is a one-layer LSTM. The lab sheet's equations at the top describe a one-layer" in said
    assert "but the LSTM's gates have equations of their own (above), so the hand computation" in said
    assert "Train a run with the **rnn** cell" in said
    drawn = [latex.value for latex in at.latex]  # the sheet's equations, then the LSTM's step
    lstm = [line for line, _ in recurrence("lstm")]
    assert [line.split(" = ")[0] for line in lstm] == ["i_t", "f_t", "g_t", "o_t", "c_t", "h_t"]
    assert [line.strip("$\n").removesuffix(r"\;") for line in drawn[-len(lstm) :]] == lstm
    assert "f_t: the forget gate, how much of the old cell state to keep" in texts(at.caption)
    assert "Each gate's $b$ is the sum of PyTorch's two biases" in texts(at.caption)  # as test_model computes
    assert charts_titled(at, "probe set mean") and not at.exception
    # then a run of the sheet's network: the page says it fills in with it, and does when it ends
    at.switch_page("views/train.py").run()
    at = set_config(at, cell="rnn", epochs=60, num_samples=3000)
    at.button(key=state.TRAIN_BUTTON).click().run()
    at.switch_page("views/backprop.py").run()
    assert "Run 2 is still training: this page fills in with its numbers when it ends." in texts(at.info)
    assert picker(at, "Run").value == 1 and not at.dataframe  # the LSTM, until then
    at.switch_page("views/train.py").run()
    at = stop_after_an_epoch(at)
    at.switch_page("views/backprop.py").run()
    assert picker(at, "Run").value == 2 and at.dataframe[0].value["largest |hand − autograd|"].max() < 1e-10
    picker(at, "Run").select(1).run()  # the LSTM is still one pick away, without the call to train
    assert (
        "Train a run with the **rnn** cell" not in texts(at.info) and len(charts_titled(at, "probe set")) == 1
    )


def test_compare_runs_an_experiment_and_says_whether_its_claim_held():
    at = set_config(new_app(), epochs=2, num_samples=200, seed=3)
    at.button(key=state.TRAIN_BUTTON).click().run()
    at = wait_for(at, lambda v: not v.active)  # an earlier run of the student's own
    at.switch_page("views/compare.py").run()
    at.button(key=f"{state.EXPERIMENT_BUTTON}_2").click().run()  # learning rate: right vs too high
    assert at.multiselect(key=state.COMPARE_RUNS).value == [2, 3]  # the experiment's pair is chosen
    assert all(b.disabled for b in at.button if b.key.startswith(state.EXPERIMENT_BUTTON))
    at = wait_for(at, lambda v: len(runs(at).jobs) == 3 and not v.active and v.label.endswith("lr 0.2"))
    assert [v.config.seed for v in runs(at).views()] == [3, 3, 3]  # the student's seed, not a fixed one
    said = texts(at.success)
    assert "It held." in said and "seed 3" in said
    record = EXPERIMENTS["Learning rate: right vs too high"].seed_record()
    assert f"it held for {sum(record.held)} of the 10 seeds 0-9" in said
    assert "differ in: **learning rate (lr): 0.002 → 0.2**" in " ".join(m.value for m in at.markdown)
    assert "only the learning rate (lr) differs: 0.002 vs 0.2" in " ".join(m.value for m in at.markdown)
    table = at.dataframe[0].value
    assert list(table.index) == ["Run 2", "Run 3"] and list(table["lr"]) == [0.002, 0.2]
    assert list(table.columns[:3]) == ["status", "test accuracy %", "lr"]  # what differs, in sight
    shown = pa.ipc.open_stream(at.dataframe[0].proto.arrow_data.styler.display_values).read_pandas()
    accuracies = [v.finished.test_accuracy for v in runs(at).views()[1:]]
    written = [charts.accuracy_words(100 * a).removesuffix("%") for a in accuracies]  # as on Train
    assert list(shown["test accuracy %"]) == written
    columns = json.loads(at.dataframe[0].proto.columns)  # each named as in a link, saying what it is
    tooltips = {name: column.get("help") for name, column in columns.items()}
    assert tooltips["lr"] == f"Learning rate: {FIELDS['lr'].help}"
    assert all(tooltips.get(name, "").startswith(f"{FIELDS[name].label}: ") for name in FIELDS)
    assert len(charts_titled(at, "Test accuracy (%)")) == 1
    at.multiselect(key=state.COMPARE_RUNS).set_value([1, 2, 3]).run()  # and any number of runs
    settings = [v.config.to_dict() for v in runs(at).views()]
    differ = [name for name in settings[0] if len({s[name] for s in settings}) > 1]
    assert len(differ) > 1 and list(at.dataframe[0].value.columns[2 : 2 + len(differ)]) == differ


def test_a_claim_that_did_not_hold_says_so_with_the_numbers_and_how_often_it_holds(monkeypatch):
    name = "Learning rate: right vs too high"
    never = replace(EXPERIMENTS[name], check=lambda accuracy: False)  # the same claim, failing here
    monkeypatch.setitem(EXPERIMENTS, name, never)
    at = new_app().switch_page("views/compare.py").run()
    at.button(key=f"{state.EXPERIMENT_BUTTON}_2").click().run()
    at = wait_for(at, lambda v: len(runs(at).jobs) == 2 and not v.active)
    said = texts(at.warning)
    assert "It did not hold this time. Your runs with seed 0: lr 0.002: " in said
    assert "depends on the random start" in said and "of the 10 seeds 0-9" in said and not at.success


def chart_places(at) -> list[tuple[int, ...]]:
    """Where the page's charts are in its element tree. Streamlit draws anew a chart whose place
    changed (it blinks out in the browser), so a message coming or going must not move them."""
    places = []

    def walk(block, path):
        for i, child in getattr(block, "children", {}).items():
            if child.type in ("arrow_vega_lite_chart", "vega_lite_chart"):
                places.append((*path, i))
            walk(child, (*path, i))

    walk(at.main, ())
    return places


def test_compare_draws_any_two_runs_and_names_the_setting_between_them(monkeypatch):
    at = set_config(new_app(), epochs=2, num_samples=200)
    at.button(key=state.TRAIN_BUTTON).click().run()
    at = wait_for(at, lambda v: not v.active)
    at = set_config(at, hidden_size=8)
    at.button(key=state.TRAIN_BUTTON).click().run()
    at = wait_for(at, lambda v: not v.active and v.run_id == 2)
    at.switch_page("views/compare.py").run()
    assert at.multiselect(key=state.COMPARE_RUNS).value == [1, 2]
    assert "differ in: **hidden size (hidden_size): 32 → 8**" in " ".join(m.value for m in at.markdown)
    (rows,) = chart_rows(charts_titled(at, "Training loss")[0])
    assert set(rows["run"]) == {"Run 1", "Run 2"} and len(rows) == 4  # 2 runs × 2 epochs
    # the training loss drawn is the one the lab sheet's log prints, and the caption says so
    logged = [EPOCH_LINE.fullmatch(e.log_line()).group(3) for v in runs(at).views() for e in v.epochs]
    assert [f"{loss:.4f}" for loss in rows["training loss"]] == logged  # the table's own heading
    assert "Training loss: the running average over the epoch's batches" in texts(at.caption)
    places = chart_places(at)
    monkeypatch.setattr(limits, "RUN_SECONDS", 0.1)  # an experiment refused: a message above the charts
    at.button(key=f"{state.EXPERIMENT_BUTTON}_0").click().run()
    assert "would take too long" in texts(at.error) and len(places) == 2 and chart_places(at) == places
    at.multiselect(key=state.COMPARE_RUNS).set_value([]).run()
    assert "Pick at least one run." in texts(at.info) and not at.exception


def test_the_look_inside_pages_keep_what_the_student_set_while_other_pages_are_shown():
    at = set_config(new_app(), epochs=1, num_samples=200)

    def train(run_id):
        at.switch_page("views/train.py").run()
        at.button(key=state.TRAIN_BUTTON).click().run()
        return wait_for(at, lambda v: not v.active and v.run_id == run_id)

    for run_id in (1, 2, 3):
        at = train(run_id)
    at.switch_page("views/backprop.py").run()
    at.slider(key=state.BPTT_LENGTH).set_value(60).run()
    at.slider(key=state.BPTT_SCALE).set_value(2.0).run()
    at.number_input(key=state.BPTT_CLIP).set_value(5.0).run()
    at.number_input(key=state.BPTT_LR).set_value(1.5).run()
    step = f"{state.BPTT_STEP}_3_0"  # run 3's first example
    assert at.slider(key=step).value == len(runs(at).latest().started.probe_tokens[0])  # the last step
    at.slider(key=step).set_value(2).run()
    at.switch_page("views/compare.py").run()
    assert at.multiselect(key=state.COMPARE_RUNS).value == [2, 3]  # the two newest to start with
    at.multiselect(key=state.COMPARE_RUNS).set_value([1, 3]).run()
    at.switch_page("views/hidden_states.py").run()
    at.select_slider(key=f"{state.HIDDEN_EPOCH}_3").set_value(0).run()  # before training
    at.switch_page("views/backprop.py").run()
    sliders = [at.slider(key=key).value for key in (state.BPTT_LENGTH, state.BPTT_SCALE)]
    numbers = [at.number_input(key=key).value for key in (state.BPTT_CLIP, state.BPTT_LR)]
    assert sliders + numbers == [60, 2.0, 5.0, 1.5]
    assert at.slider(key=step).value == 2 and any(r"h_{2} = \tanh" in m.value for m in at.latex)
    (rows,) = chart_rows(charts_titled(at, "W scaled by 2")[0])  # what is drawn follows what is shown
    assert rows["back"].max() == 59 and "clipping at 5 rescales" in texts(at.caption)
    at.switch_page("views/compare.py").run()
    assert at.multiselect(key=state.COMPARE_RUNS).value == [1, 3]
    at.switch_page("views/hidden_states.py").run()
    assert at.select_slider(key=f"{state.HIDDEN_EPOCH}_3").value == 0
    at = train(4)
    at.switch_page("views/compare.py").run()
    assert at.multiselect(key=state.COMPARE_RUNS).value == [3, 4] and not at.exception  # a new run is in


def test_what_the_pages_kept_for_a_run_goes_when_the_session_drops_the_run(monkeypatch):
    monkeypatch.setattr(limits, "MAX_RUNS_KEPT", 2)
    at = set_config(new_app(), epochs=1, num_samples=200)

    def train_and_look(run_id):
        at.switch_page("views/train.py").run()
        at.button(key=state.TRAIN_BUTTON).click().run()
        wait_for(at, lambda v: not v.active and v.run_id == run_id)
        at.switch_page("views/hidden_states.py").run()
        at.switch_page("views/backprop.py").run()
        return at

    def kept_for_runs():
        return {state.run_of(key) for key in at.session_state} - {None}

    for run_id in (1, 2):
        at = train_and_look(run_id)
    assert kept_for_runs() == {1, 2}  # the epoch slider, its newest epoch and t, for each run
    run_1 = {f"{state.HIDDEN_EPOCH}_1", f"{state.HIDDEN_NEWEST}_1", f"{state.BPTT_STEP}_1_0"}
    assert run_1 <= set(at.session_state)
    at = train_and_look(3)  # the session keeps 2 runs: run 1 is dropped, and what was kept for it
    assert runs(at).run_ids() == {2, 3} and kept_for_runs() == {2, 3}
    assert state.run_of("bptt_step_12_1") == 12 and state.run_of("bptt_length") is None


def test_every_experiment_fits_the_classroom_server_limits():
    for experiment in EXPERIMENTS.values():
        assert all(limits.too_big(config) is None for _, config in experiment.runs), experiment.name


def test_an_experiment_too_big_for_this_server_is_refused_with_a_reason(monkeypatch):
    monkeypatch.setattr(limits, "RUN_SECONDS", 0.1)
    at = new_app().switch_page("views/compare.py").run()
    at.button(key=f"{state.EXPERIMENT_BUTTON}_0").click().run()
    assert "would take too long on the shared classroom server" in texts(at.error)
    assert not runs(at).jobs and not at.exception


def test_replay_steps_through_every_recorded_epoch_and_stops_at_the_end(lab_app):
    at = lab_app.switch_page("views/hidden_states.py").run()
    view = runs(at).latest()
    slider_key = f"{state.HIDDEN_EPOCH}_{view.run_id}"
    at.button(key=f"{state.HIDDEN_REPLAY}_{view.run_id}").click().run()
    shown = [at.select_slider(key=slider_key).value]
    while at.session_state[state.HIDDEN_REPLAY] is not None:  # AppTest: each run() is one timer tick
        shown.append(at.run().select_slider(key=slider_key).value)
        assert len(shown) <= 20
    assert shown == [s.epoch for s in view.snapshots]  # 0, 1, ..., 10, each once
    assert at.run().select_slider(key=slider_key).value == 10 and not at.exception  # it stays


def test_backprop_page_says_a_run_is_still_training_and_fills_in_when_it_ends():
    at = set_config(new_app(), epochs=60, num_samples=3000)
    at.button(key=state.TRAIN_BUTTON).click().run()
    at.switch_page("views/backprop.py").run()
    assert "Run 1 is still training" in texts(at.info) and not at.dataframe
    at.switch_page("views/train.py").run()
    at = stop_after_an_epoch(at)  # a stopped run keeps its model
    at.switch_page("views/backprop.py").run()
    assert at.dataframe[0].value["largest |hand − autograd|"].max() < 1e-10


def test_the_run_pickers_show_a_new_run_and_keep_a_hand_pick_until_one_comes():
    """A student who trains another run and opens Hidden states or Backprop sees that run (the pages
    went on showing the run they had shown first); a run picked by hand stays picked until then."""
    at = set_config(new_app(), epochs=2, num_samples=200)

    def train_one():
        at.switch_page("views/train.py").run()
        at.button(key=state.TRAIN_BUTTON).click().run()
        return wait_for(at, lambda v: not v.active)

    pages = {"views/hidden_states.py": "Run", "views/backprop.py": "Run"}
    at = train_one()
    for path, label in pages.items():
        assert picker(at.switch_page(path).run(), label).value == 1
    at = train_one()
    for path, label in pages.items():
        assert picker(at.switch_page(path).run(), label).value == 2  # the new run
        picker(at, label).select(1).run()  # picked by hand...
    for path, label in pages.items():
        assert picker(at.switch_page(path).run(), label).value == 1  # ...stays, page after page
    at = train_one()
    for path, label in pages.items():
        assert picker(at.switch_page(path).run(), label).value == 3
    assert not at.exception


SWEEP = "Memory as the sequence grows: RNN vs LSTM"


def test_the_length_sweep_draws_accuracy_against_length_for_both_cells(monkeypatch):
    """The sweep's six runs, one after another, drawn as a curve from their own test accuracies and
    judged by the experiment's own check. Its runs here are the shipped ones shrunk to 200 sequences
    and 2 epochs, crossed the same way: that the shipped sweep's claim holds (the LSTM above 90% at
    40 steps, the RNN failing there) is test_experiments' check, on the engine's fresh seed-0 runs,
    which the app's workers reproduce digit for digit (test_browser's notebook-download test).
    Trained here as shipped, the six runs checked that claim once more, for 30 s more of the
    machine's CPU in a slow hour (37.5 s against 7.7 s, suite_cpu, a lab epoch 0.07-0.10 s)."""
    shipped = EXPERIMENTS[SWEEP]
    small = tuple((label, replace(config, num_samples=200, epochs=2)) for label, config in shipped.runs)
    monkeypatch.setitem(EXPERIMENTS, SWEEP, replace(shipped, runs=small))
    at = new_app().switch_page("views/compare.py").run()
    at.button(key=f"{state.EXPERIMENT_BUTTON}_3").click().run()
    assert at.multiselect(key=state.COMPARE_RUNS).value == [1, 2, 3, 4, 5, 6]
    at = wait_for(at, lambda v: len(runs(at).jobs) == 6 and v.state == "completed", timeout=120)
    views = runs(at).views()
    assert [v.config for v in views] == [config for _, config in small]  # in the sweep's order
    (rows,) = chart_rows(charts_titled(at, "at the end of each run")[0])
    curve = {(r.line, r.x): r.accuracy for r in rows.itertuples(index=False)}
    trained = {(f"cell {v.config.cell}", v.config.seq_len): v.finished.test_accuracy for v in views}
    assert curve == {key: 100 * accuracy for key, accuracy in trained.items()}
    results = {label: v.finished.test_accuracy for (label, _), v in zip(small, views, strict=True)}
    held = EXPERIMENTS[SWEEP].holds(results)
    verdict = texts(at.success) if held else texts(at.warning)
    assert ("It held." if held else "It did not hold this time.") in verdict
    at.switch_page("views/train.py").run()  # leaving the page forgets the choice...
    at.switch_page("views/compare.py").run()
    assert at.multiselect(key=state.COMPARE_RUNS).value == [1, 2, 3, 4, 5, 6]  # ...the sweep is still shown


class HeldPool:
    """A training pool that takes runs and never starts them: a series stays where it is."""

    def submit(self, job):
        pass


def test_the_train_page_follows_the_series_run_that_goes_next_not_its_last():
    at = new_app()
    runs(at).start_series(list(EXPERIMENTS[SWEEP].runs), HeldPool())  # as the Compare page's button
    at.switch_page("views/train.py").run()
    assert picker(at, "Show run").value == 1  # run 1 goes first; the five after it wait for it
    assert [v.state for v in runs(at).views()] == ["queued"] * 6 and not at.exception


def test_an_experiment_bigger_than_the_runs_a_session_keeps_is_refused(monkeypatch):
    monkeypatch.setattr(limits, "MAX_RUNS_KEPT", 4)
    at = new_app().switch_page("views/compare.py").run()
    at.button(key=f"{state.EXPERIMENT_BUTTON}_3").click().run()
    assert "keeps 4 runs per student and the experiment needs 6" in texts(at.error)
    assert not runs(at).jobs


def test_the_heatmap_caption_states_a_relu_networks_range_as_recorded():
    at = set_config(new_app(), epochs=1, num_samples=200, nonlinearity="relu")
    at.button(key=state.TRAIN_BUTTON).click().run()
    at = wait_for(at, lambda v: not v.active)
    at.switch_page("views/hidden_states.py").run()
    assert "relu keeps them at 0 or above" in texts(at.caption)
    assert all(s.hidden.min() >= 0 for s in runs(at).latest().snapshots)
