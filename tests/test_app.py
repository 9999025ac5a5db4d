"""Headless AppTest runs of every page: widgets found by key, the run driven as a student would."""

import gc
import json

import pandas as pd
import pyarrow as pa
import pytest
import streamlit as st
from streamlit.testing.v1 import AppTest

from app_support import new_app, one_server, picker, runs, set_config, texts, wait_for
from conftest import EPOCH_LINE, TEST_LINE
from dashboard import charts, page, session, state
from dashboard.keeping import SessionRuns
from dashboard.pool import TrainingPool
from rnn_core import FIELDS, EpochEnd, preset
from rnn_core.words import percent


def test_train_page_starts_with_the_lab_run_and_no_error():
    at = new_app()
    assert not at.exception
    assert at.button(key=state.TRAIN_BUTTON).label == "Train"
    assert at.button(key=state.STOP_BUTTON).label == "Stop" and at.button(key=state.STOP_BUTTON).disabled
    assert at.selectbox(key=state.PRESET).value == "lab"
    assert "No run yet" in texts(at.info)
    for name, key in state.CONFIG_KEYS.items():
        assert at.session_state[key] == getattr(preset("lab"), name)


def test_every_setting_has_its_own_widget_in_the_sidebar_with_its_bounds():
    at = new_app()
    widgets = {w.key: w for w in [*at.sidebar.number_input, *at.sidebar.selectbox]}
    for name, spec in FIELDS.items():
        widget = widgets.pop(state.CONFIG_KEYS[name])  # KeyError: a setting a student cannot set
        assert widget.label == spec.label and spec.allowed() in widget.help
        if spec.choices:
            assert widget.options == [widget.format_func(c) for c in spec.choices]
        else:
            assert (widget.min, widget.max) == (spec.low, spec.high)
    assert set(widgets) == {state.PRESET}  # and no widget sets something that is not a setting


def test_a_lab_run_shows_test_accuracy_the_sheets_log_charts_and_downloads():
    at = new_app()
    at.button(key=state.TRAIN_BUTTON).click().run()
    at = wait_for(at, lambda v: not v.active)
    assert not at.exception
    metric = next(m for m in at.metric if m.label == "Test accuracy")
    finished = runs(at).latest().finished
    assert metric.value == charts.accuracy_words(100 * finished.test_accuracy)  # "87.50%"
    log = at.code[0].value.splitlines()
    assert all(EPOCH_LINE.fullmatch(line) for line in log[:-1]) and TEST_LINE.fullmatch(log[-1])
    assert len(log) == 11
    assert len(at.get("vega_lite_chart")) == 3  # loss, accuracy, confusion matrix
    labels = [b.proto.label for b in at.get("download_button")]
    assert labels == ["Metrics (CSV)", "Config (JSON)", "Checkpoint", "Lab report", "Notebook"]


def test_a_run_whose_network_the_server_let_go_keeps_its_results_and_every_page_says_so():
    at = new_app()
    at.button(key=state.TRAIN_BUTTON).click().run()
    at = wait_for(at, lambda v: not v.active)
    assert runs(at).kept is not None  # the session counts against the server's budget (dashboard.keeping)
    job = runs(at).jobs[-1]
    while job.let_go():  # as the budget does when the server is full: snapshots, then the network
        pass
    note = job.view().let_go_note
    assert note.startswith("To make room on the shared server, run 1's hidden-state snapshots and its")
    at.run()
    assert not at.exception and note in texts(at.caption)
    metric = next(m for m in at.metric if m.label == "Test accuracy")
    assert (
        metric.value == charts.accuracy_words(100 * job.view().finished.test_accuracy)
        and len(at.code[0].value.splitlines()) == 11
    )
    labels = [b.proto.label for b in at.get("download_button")]
    assert labels == ["Metrics (CSV)", "Config (JSON)", "Lab report", "Notebook"]  # no network to download
    for name in ("try_it", "hidden_states"):
        at.switch_page(f"views/{name}.py").run()
        assert note in texts(at.info) and not at.exception
    for name in ("backprop", "compare"):
        assert not at.switch_page(f"views/{name}.py").run().exception


def test_try_it_says_how_many_uploaded_models_the_server_let_go():
    at = new_app()
    at.button(key=state.TRAIN_BUTTON).click().run()
    at = wait_for(at, lambda v: not v.active)
    session_runs = runs(at)
    for name in ("a.safetensors", "b.safetensors"):
        session_runs.add_upload(name, session_runs.jobs[-1].view().model)
    said = []
    while session_runs.uploaded:  # the run's snapshots and network go first, then the oldest upload
        session_runs.let_go()
        at.switch_page("views/try_it.py").run()
        said.append(texts(at.caption))
    assert not at.exception and session_runs.uploads_let_go == 2
    assert "1 uploaded model was let go: upload a file again" in said[-2]
    assert "2 uploaded models were let go: upload a file again" in said[-1]


def test_a_run_clicked_while_a_fresh_server_starts_its_workers_says_so_then_trains(monkeypatch, held_start):
    starting = TrainingPool(2, 64.0, 120.0)  # what a server's first page finds
    monkeypatch.setattr(session, "pool", lambda: starting)
    try:
        at = new_app(epochs="2")
        at.button(key=state.TRAIN_BUTTON).click().run()
        assert texts(at.info) == (
            "The server is starting its training processes: "
            "you are number 1 in the queue. Your run starts by itself."
        )
        held_start.set()
        at = wait_for(at, lambda v: not v.active)
        assert not at.info and runs(at).latest().state == "completed"
        assert any(m.label == "Test accuracy" for m in at.metric)
    finally:
        held_start.set()
        starting.close()


def chart_data(chart):
    """The rows a chart draws (Streamlit ships them beside the spec, as Arrow)."""
    return [pa.ipc.open_stream(d.data.data).read_pandas() for d in chart.proto.datasets]


def test_curves_chart_holds_the_runs_own_numbers():
    at = new_app()
    at.button(key=state.TRAIN_BUTTON).click().run()
    at = wait_for(at, lambda v: not v.active)
    (accuracy,) = chart_data(at.get("vega_lite_chart")[1])
    history = runs(at).latest().finished.model.history
    test_rows = accuracy[accuracy["split"] == "test"].sort_values("epoch")
    assert list(test_rows["accuracy"]) == [100 * e.test_accuracy for e in history]


def test_replay_draws_the_finished_runs_curves_again_as_they_grew_then_stops():
    """A lab run is often over before its click's page is drawn: Replay training shows its curves
    grow, a step of epochs per timer tick (AppTest: each run() is one tick), from the run's own events."""
    at = set_config(new_app(), epochs=4, num_samples=200)
    at.button(key=state.TRAIN_BUTTON).click().run()
    at = wait_for(at, lambda v: not v.active)
    view = runs(at).latest()
    per_epoch = view.started.batches_per_epoch

    def drawn() -> tuple[list[int], int]:
        """The epochs on the accuracy chart, and the last batch step on the loss chart."""
        (accuracy,) = chart_data(at.get("vega_lite_chart")[1])
        loss = pd.concat(chart_data(at.get("vega_lite_chart")[0]))
        return sorted(set(accuracy["epoch"])), int(loss["step"].dropna().max())

    assert drawn() == ([1, 2, 3, 4], 4 * per_epoch)
    at.button(key=f"{state.TRAIN_REPLAY}_{view.run_id}").click().run()

    def replaying() -> list[str]:
        return [c.value for c in at.caption if c.value.startswith("Replaying")]

    frames, said = [drawn()], replaying()
    while at.session_state[state.TRAIN_REPLAY] is not None:
        at.run()
        frames.append(drawn())
        said += replaying()
        assert len(frames) <= 4
    assert frames == [(list(range(1, n + 1)), n * per_epoch) for n in range(1, 5)]
    assert said == [f"Replaying the run's curves: epoch {n} of 4." for n in range(1, 5)]  # as drawn
    at.run()  # the tick after the last frame draws the whole run again, with no timer
    assert drawn() == ([1, 2, 3, 4], 4 * per_epoch)
    assert "Replaying" not in " ".join(c.value for c in at.caption) and not at.exception
    (accuracy,) = chart_data(at.get("vega_lite_chart")[1])
    history = view.finished.model.history
    test_rows = accuracy[accuracy["split"] == "test"].sort_values("epoch")
    assert list(test_rows["accuracy"]) == [100 * e.test_accuracy for e in history]  # its own numbers
    at.button(key=f"{state.TRAIN_REPLAY}_{view.run_id}").click().run()
    at.button(key=state.TRAIN_BUTTON).click().run()  # a new run mid-replay: the replay is over
    assert at.session_state[state.TRAIN_REPLAY] is None and not at.exception


def test_a_widget_click_during_a_run_does_not_stop_it_and_stop_keeps_the_model():
    at = set_config(new_app(), epochs=200, num_samples=3000)
    at.button(key=state.TRAIN_BUTTON).click().run()
    at = wait_for(at, lambda v: len(v.epochs) >= 1)
    assert at.button(key=state.TRAIN_BUTTON).disabled and not at.button(key=state.STOP_BUTTON).disabled
    steps_before = runs(at).latest().steps_done
    at.number_input(key=state.CONFIG_KEYS["seed"]).increment().run()  # a click while it trains
    at.selectbox(key=state.CONFIG_KEYS["cell"]).select("gru").run()
    at = wait_for(at, lambda v: v.steps_done > steps_before + 20)
    assert runs(at).latest().state == "running" and runs(at).latest().config.seed == 0
    at.button(key=state.STOP_BUTTON).click().run()  # the page drawn after the click shows the run stopped
    view = runs(at).latest()
    assert view.state == "stopped" and view.model is not None
    assert "Stopped by request" in texts(at.warning)
    assert any(m.label == "Test accuracy" for m in at.metric)
    assert not at.button(key=state.TRAIN_BUTTON).disabled and at.button(key=state.STOP_BUTTON).disabled


def test_train_gets_the_focus_back_after_stop_even_when_the_page_drawn_after_train_was_cut_short(
    monkeypatch,
):
    """A click on Stop while the page drawn after Train is still being drawn cuts that drawing short
    (Streamlit starts the next at once): seen on a fresh, busy server, where the keyboard focus then
    stayed on the page's body. Here the drawing after Train stops where the curves begin."""
    live = page.live
    at = set_config(new_app(), epochs=200, num_samples=3000)
    monkeypatch.setattr(page, "live", lambda *args: st.stop())
    at.button(key=state.TRAIN_BUTTON).click().run()
    monkeypatch.setattr(page, "live", live)
    assert not at.html  # no focus script while it trains
    at.button(key=state.STOP_BUTTON).click().run()
    assert runs(at).latest().state == "stopped"
    assert [h.proto.body for h in at.html] == [page.FOCUS_TRAIN]


def test_a_run_that_ends_before_its_page_is_drawn_is_the_run_shown(monkeypatch):
    """A lab run can end while the Train click's page waits for it (train.QUICK_RUN_WAIT), the more
    often the faster the machine. The page went on showing the run picked before, so the click
    looked lost (benchmarks/bench_classroom.py hit it at the third click). Here every run ends first."""
    start = SessionRuns.start

    def start_and_end(self, config, pool, label=""):
        job = start(self, config, pool, label)
        assert job is not None and job.done.wait(60)
        return job

    monkeypatch.setattr(SessionRuns, "start", start_and_end)
    at = set_config(new_app(), epochs=1, num_samples=200)
    for run in (1, 2, 3):
        at.button(key=state.TRAIN_BUTTON).click().run()
        assert runs(at).latest().state == "completed" and not at.exception
        assert f"Run {run}: lab, rnn; hidden size 32, 1 epoch, seed 0" in texts(at.caption)
    assert picker(at, "Show run").value == 3


def test_a_diverging_run_says_so_and_why():
    at = set_config(new_app(), lr=10.0, hidden_size=64, epochs=30, num_samples=200)
    at = set_config(at, optimizer="sgd", nonlinearity="relu")
    at.button(key=state.TRAIN_BUTTON).click().run()
    at = wait_for(at, lambda v: not v.active)
    message = texts(at.error)
    assert "The run diverged." in message and "learning rate 10 is probably too high" in message
    assert "(epoch 1, batch 3 of 5)" in message  # in its first epoch: Hidden states has epoch 0 only
    at.switch_page("views/hidden_states.py").run()
    only_before = "before training (epoch 0) only: the run ended before any epoch it would record."
    assert only_before in texts(at.caption)
    assert not at.exception


def test_a_one_epoch_run_is_counted_in_the_singular():
    at = set_config(new_app(), epochs=1, num_samples=200)
    at.button(key=state.TRAIN_BUTTON).click().run()
    at = wait_for(at, lambda v: not v.active)
    assert "Trained for 1 epoch." in texts(at.success)
    assert "Run 1: lab, rnn; hidden size 32, 1 epoch, seed 0" in texts(at.caption)
    at.switch_page("views/hidden_states.py").run()
    assert "recorded before training (epoch 0) and after its one epoch." in texts(at.caption)


@pytest.mark.parametrize(("back", "words"), [(1, "1 run is"), (2, "2 runs are")])
def test_welcome_back_counts_the_runs_brought_back(back, words):
    at = new_app()
    at.session_state[state.WELCOME_BACK] = back  # as session.py notes it for a reloaded tab
    at.run()
    assert f"Welcome back: {words} here again from this browser's earlier tab." in texts(at.info)


def test_a_run_too_big_for_the_shared_server_is_refused_with_what_to_shrink():
    at = set_config(new_app(), num_samples=20000, epochs=200, hidden_size=64, seq_len=100)
    at.button(key=state.TRAIN_BUTTON).click().run()
    assert "would take too long on the shared classroom server" in texts(at.error)
    assert "fewer epochs (now 200)" in texts(at.error)
    assert runs(at).latest() is None


def test_invalid_settings_are_explained_in_the_sidebar_and_block_training():
    at = set_config(new_app(), seq_len=3)
    at = set_config(at, task="sentiment")  # the task brings its own length: valid again
    assert not at.error and at.session_state[state.CONFIG_KEYS["seq_len"]] == 14
    at = set_config(at, seq_len=4)
    assert "The sentiment task needs a sequence length of at least 6" in texts(at.sidebar.error)
    at.button(key=state.TRAIN_BUTTON).click().run()
    assert "Fix the settings" in texts(at.error) and runs(at).latest() is None


def test_choosing_a_preset_fills_every_setting_and_a_change_keeps_its_name_and_lists_the_change():
    at = new_app()
    at.selectbox(key=state.PRESET).select("remember-lstm").run()
    for name, key in state.CONFIG_KEYS.items():
        assert at.session_state[key] == getattr(preset("remember-lstm"), name)
    at = set_config(at, seed=5)
    assert at.selectbox(key=state.PRESET).value == "remember-lstm"
    assert "Changed from remember-lstm: seed 0 → 5." in texts(at.sidebar.caption)
    link = {k: v[0] if isinstance(v, list) else v for k, v in at.query_params.items()}
    assert link == {"preset": "remember-lstm", "seed": "5"}  # short, and named
    at.selectbox(key=state.PRESET).select("custom").run()
    link = {k: v[0] if isinstance(v, list) else v for k, v in at.query_params.items()}
    assert link["cell"] == "lstm" and "preset" not in link  # custom: every change from the defaults


def test_a_shared_link_restores_its_setup_and_reports_bad_values():
    at = new_app(task="pattern", cell="gru", epochs="7", lr="oops")
    values = {name: at.session_state[key] for name, key in state.CONFIG_KEYS.items()}
    assert (values["task"], values["cell"], values["epochs"], values["seq_len"]) == ("pattern", "gru", 7, 12)
    assert values["lr"] == preset("lab").lr
    assert "Learning rate (lr) must be a number from 1e-05 to 10; got 'oops'" in texts(at.sidebar.warning)
    assert not at.exception


def test_a_link_to_a_task_there_is_not_says_which_tasks_there_are():
    at = new_app(task="sentimnet", epochs="7")  # a typo in a teacher's link
    values = {name: at.session_state[key] for name, key in state.CONFIG_KEYS.items()}
    assert (values["task"], values["epochs"]) == ("lab", 7)
    assert f"Task (task) must be {FIELDS['task'].allowed()}; got 'sentimnet'." in texts(at.sidebar.warning)
    assert not at.exception


def test_try_it_before_any_run_says_how_to_get_one():
    at = new_app()
    at.switch_page("views/try_it.py").run()
    assert "No trained network yet" in texts(at.info)
    assert not at.exception


@pytest.fixture(scope="module")
def trained_app():
    at = new_app()
    at.button(key=state.TRAIN_BUTTON).click().run()
    at = wait_for(at, lambda v: not v.active)
    return at.switch_page("views/try_it.py").run()


def test_try_it_predicts_a_typed_sequence_with_prefix_probabilities(trained_app):
    at = trained_app
    at.text_input(key=state.TRY_TEXT).input("9 9 9 9 9 8 9 9 9 9").run()
    assert "Prediction: high (" in texts(at.header)
    assert len(at.get("vega_lite_chart")) == 2  # class probabilities, and after every prefix
    model = runs(at).latest().model
    expected = model.predict("9 9 9 9 9 8 9 9 9 9").probs
    assert f"({percent(expected.max())})" in texts(at.header)


@pytest.mark.parametrize(
    ("text", "words"),
    [
        ("1 2 x 4", "Unknown token 'x' at position 3. Allowed: 0 1 2 3 4 5 6 7 8 9"),
        ("7" * 201, "at most 200"),
    ],
)
def test_try_it_explains_bad_input(trained_app, text, words):
    at = trained_app
    at.text_input(key=state.TRY_TEXT).input(text).run()
    assert words in texts(at.error) and not at.exception


def test_try_it_empty_input_says_what_is_allowed(trained_app):
    at = trained_app
    at.text_input(key=state.TRY_TEXT).input("").run()
    assert "Allowed tokens: 0 1 2 3 4 5 6 7 8 9" in texts(at.info)


def test_random_example_fills_in_a_sequence_from_the_task(trained_app):
    at = trained_app
    at.button(key=state.TRY_RANDOM).click().run()
    typed = at.text_input(key=state.TRY_TEXT).value
    assert len(typed.split()) == 10 and "Prediction:" in texts(at.header)


def test_try_it_keeps_the_network_picked_and_the_sequence_typed_while_other_pages_are_shown():
    at = new_app(epochs="1", num_samples="200")
    for _ in range(2):
        at.button(key=state.TRAIN_BUTTON).click().run()
        at = wait_for(at, lambda v: not v.active)
    at.switch_page("views/try_it.py").run()
    assert picker(at, "Network").value.startswith("Run 2: ")  # the newest run's model first
    picker(at, "Network").select(runs(at).view(1).picker_label).run()
    at.text_input(key=state.TRY_TEXT).input("1 2 3").run()
    at.switch_page("views/hidden_states.py").run()
    at.switch_page("views/try_it.py").run()
    assert picker(at, "Network").value.startswith("Run 1: ")
    assert at.text_input(key=state.TRY_TEXT).value == "1 2 3" and "Prediction:" in texts(at.header)
    at.switch_page("views/train.py").run()
    at.button(key=state.TRAIN_BUTTON).click().run()
    at = wait_for(at, lambda v: not v.active)
    at.switch_page("views/try_it.py").run()
    assert picker(at, "Network").value.startswith("Run 3: ")  # a run that ended since is shown
    assert at.text_input(key=state.TRY_TEXT).value == "1 2 3" and not at.exception


def test_many_to_many_runs_show_a_prediction_at_every_step():
    at = new_app(preset="parity", epochs="2", num_samples="200")
    at.button(key=state.TRAIN_BUTTON).click().run()
    at = wait_for(at, lambda v: not v.active)
    assert isinstance(runs(at).latest().epochs[-1], EpochEnd)
    at.switch_page("views/try_it.py").run()
    first = at.text_input(key=state.TRY_TEXT).value  # as long as the run's sequences, not parity's example
    assert len(first.split()) == runs(at).latest().config.seq_len == 12 and "Prediction:" in texts(at.header)
    at.text_input(key=state.TRY_TEXT).input("1 0 1").run()
    assert "Prediction at every step:" in texts(at.markdown)


def test_a_projector_link_turns_projector_mode_on_and_the_toggle_keeps_it_in_the_address():
    at = new_app(projector="on", epochs="3")
    assert at.toggle(key=state.PROJECTOR).value is True
    assert "folded away in projector mode: the arrow at the top left opens it" in texts(at.info)
    loss = json.loads(at.get("vega_lite_chart")[0].proto.spec)
    assert loss["config"]["axis"]["labelFontSize"] >= 18
    at.toggle(key=state.PROJECTOR).set_value(False).run()
    link = {k: v[0] if isinstance(v, list) else v for k, v in at.query_params.items()}
    assert link == {"epochs": "3"}
    assert json.loads(at.get("vega_lite_chart")[0].proto.spec)["config"]["axis"]["labelFontSize"] == 13
    assert "No run yet. Pick a preset or settings in the sidebar and click" in texts(at.info)


def test_the_server_leaves_what_it_imported_out_of_full_collections():
    """Python's full collection walked every object PyTorch, Streamlit and pandas made at import,
    170-300 ms holding the interpreter lock while every student waited; the server freezes them
    when it starts its pool (dashboard/session.py), as the workers do."""
    new_app()
    assert gc.get_freeze_count() > 100_000


def test_a_settings_callback_finds_the_other_settings_when_a_hand_made_client_left_them_out():
    """A callback runs before the script. When a hand-made client had left the settings out of a
    request (Streamlit then drops their values) and that run was cut short by its next request, a
    setting's callback found none of the others and crashed the page (KeyError: cfg_task, seen in a
    flood of requests, tests/test_protocol.py): it brings them back first, from the last config."""

    def changed_seed_with_nothing_else() -> None:
        import streamlit as st

        from dashboard import controls, state

        controls._on_setting()
        st.write(st.session_state[state.CONFIG_KEYS["task"]], st.session_state[state.PRESET])

    at = one_server(AppTest.from_function(changed_seed_with_nothing_else, default_timeout=60)).run()
    assert not at.exception and [m.value for m in at.markdown] == ["lab lab"]  # the task, and its preset
