"""Try it: type a sequence and see what the trained network says, step by step.

The prediction comes from `TrainedModel.predict`, which also gives the probabilities after every
prefix: what the network would answer if the sequence stopped at token t. A checkpoint downloaded
from the Train page can be uploaded here to bring a model back.
"""

from __future__ import annotations

import streamlit as st

from dashboard import charts, limits, page, plain, session, state
from dashboard.runner import NETWORK_LET_GO
from rnn_core import EncodeError, TrainedModel, checkpoint
from rnn_core.tasks import EXAMPLE_SEED, MAX_INPUT_TOKENS
from rnn_core.words import counted_were, percent


def available_models() -> dict[str, TrainedModel]:
    """Label -> model, for every run of this session that has one, newest first, then uploads."""
    runs = session.runs()
    models = {}
    for view in reversed(runs.views()):
        if view.model is not None and view.model.history:
            models[view.picker_label] = view.model
    return models | runs.uploaded


def _on_upload() -> None:
    """The uploader's callback: runs before the script, the one moment it may pick the model shown."""
    uploaded = st.session_state.get(state.TRY_UPLOAD)
    if uploaded is None:  # the student removed the file
        return
    try:
        model = checkpoint.from_bytes(uploaded.getvalue())
    except checkpoint.CheckpointError as err:
        st.session_state[state.UPLOAD_ERROR] = f"That file could not be loaded: {err}"
        return
    st.session_state[state.TRY_MODEL] = session.runs().add_upload(uploaded.name, model)


def render_upload() -> None:
    st.file_uploader(
        "Bring back a model from a checkpoint (.safetensors) downloaded from the Train page",
        type=["safetensors"],
        key=state.TRY_UPLOAD,
        on_change=_on_upload,
        help=f"This session keeps the {limits.MAX_UPLOADS} newest uploaded models.",
    )
    if error := st.session_state.pop(state.UPLOAD_ERROR, None):
        plain.error(error)  # the message quotes the file's own metadata
    if let_go := session.runs().uploads_let_go:
        st.caption(
            f"To make room on the shared server, {counted_were(let_go, 'uploaded model')} let go: "
            "upload a file again to bring its model back."
        )


def _random_example(model: TrainedModel) -> None:
    count = st.session_state.get(state.EXAMPLE_COUNT, 0) + 1
    st.session_state[state.EXAMPLE_COUNT] = count
    text, _ = model.task.random_example(model.config.seq_len, seed=EXAMPLE_SEED + count)
    st.session_state[state.TRY_TEXT] = text


def render_prediction(model: TrainedModel, text: str) -> None:
    task = model.task
    allowed = " ".join(task.typeable)
    if not text.strip():
        st.session_state[state.TYPED_TEXT] = None
        st.info(f"Type a sequence above, for example `{task.example}`. Allowed tokens: {allowed}")
        return
    try:
        prediction = model.predict(text)
    except EncodeError as err:
        st.session_state[state.TYPED_TEXT] = None  # nothing to draw on the Hidden states page
        plain.error(err)  # the message quotes what was typed
        return
    # the Hidden states page draws what the student typed, not the example shown to start with
    st.session_state[state.TYPED_TEXT] = text if text != task.example_for(model.config.seq_len) else None
    st.header(f"Prediction: {prediction.label} ({percent(prediction.confidence)})")
    page.chart(charts.probability_bars(prediction.probs, prediction.class_names))
    page.chart(charts.prefix_chart(prediction.tokens, prediction.prefix_probs, prediction.class_names))
    if task.many_to_many:
        st.write("Prediction at every step: " + " ".join(f"`{label}`" for label in prediction.step_labels))
    if task.pad_id is not None and len(prediction.tokens) < model.config.seq_len:
        padding = model.config.seq_len - len(prediction.tokens)
        st.caption(
            f"The network was trained on sentences padded on the left to {model.config.seq_len} words, so it "
            f"first reads {padding} × <pad> here. The prediction after word t comes from that same pass: "
            "typing only the first t words gives a little more padding, and so slightly different numbers."
        )


def choose_network(models: dict[str, TrainedModel]) -> str:
    """The Network picker; the label chosen. It keeps the student's pick across pages, and shows a
    run's model as soon as that run has ended (an upload is shown by the uploader's callback)."""
    uploaded = session.runs().uploaded
    newest_run = next((label for label in models if label not in uploaded), None)
    if page.changed_since_drawn(newest_run, state.TRY_NEWEST_RUN):  # a run has ended since
        st.session_state[state.TRY_MODEL] = newest_run
    return page.choose("Network", {label: label for label in models}, state.TRY_MODEL)


def main() -> None:
    page.title("Try it")
    models = available_models()
    if not models:
        latest = session.runs().latest()
        if latest is not None and NETWORK_LET_GO in latest.let_go:
            st.info(latest.let_go_note)
        st.info(
            "No trained network yet. Open **Train**, click **Train**, and come back here; "
            "or upload a checkpoint you downloaded earlier."
        )
        render_upload()
        return
    label = choose_network(models)
    model = models[label]
    trained_on = (model.config.task, model.config.seq_len)
    if st.session_state.get(state.TRY_EXAMPLE_FOR) != trained_on:
        # a real example of this network's task and length, so the first view already shows a prediction
        st.session_state[state.TRY_TEXT] = model.task.example_for(model.config.seq_len)
        st.session_state[state.TRY_EXAMPLE_FOR] = trained_on
    st.caption(model.task.explanation)
    row = st.container(horizontal=True, vertical_alignment="bottom")  # the button as wide as its label
    text = row.text_input(
        f"Your sequence ({'words' if model.task.word_level else 'tokens'}: {' '.join(model.task.typeable)})",
        key=state.TRY_TEXT,
        placeholder=model.task.example,
        max_chars=MAX_INPUT_TOKENS * 20,
    )
    row.button("Random example", key=state.TRY_RANDOM, on_click=_random_example, args=(model,))
    render_prediction(model, text)
    with st.expander("Upload a checkpoint"):
        render_upload()


main()
