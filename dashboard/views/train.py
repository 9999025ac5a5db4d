"""Train: set up a run in the sidebar, click Train, and watch the network learn.

Execution model: the Train button's callback starts a background job (dashboard.runner) and
returns at once. While the job trains, the run's part of the page redraws itself on a timer
(page.live; TIMER_SECONDS: a bit over twice a second while training, every 2.5 s while queued,
twice a second once next in line) from the job's recorded events; clicking other widgets reruns
the script but never touches the job. When the run ends the whole page is drawn once more, so
polling stops and the buttons come back. A finished run's curves can be drawn again as they grew
(Replay training): a lab run is often over before its click's page is drawn.
"""

from __future__ import annotations

import math
from functools import partial

import streamlit as st

from dashboard import charts, limits, page, session, state
from dashboard.runner import JobView, find
from rnn_core import TrainConfig, checkpoint, report
from rnn_core.notebook import notebook_bytes
from rnn_core.tasks import get_task
from rnn_core.words import counted, counted_are

# Redraw timer per state, none once a run is over. A running run redraws often (at most every
# 0.3 s: the browser's timer ticks on, and the server drops a tick that comes while the page is
# still being drawn, dashboard.serving); a queued one only shows its place, and a class of queued
# pages polling fast costs the server and browsers dearly.
# The run next in line starts as soon as a worker is free: its page looks often, so that the
# student sees its curves from the first epochs (a lab run is over in well under 2.5 s). A replay
# draws a frame per tick, as a run in training does.
TIMER_SECONDS = {"running": 0.3, "next": 0.5, "queued": 2.5, "replay": 0.3}
REPLAY_FRAMES = 15  # a replay takes at most this many steps through the epochs: about 5 s
QUICK_RUN_WAIT = 1.0  # a run this short (the lab run) shows its result without a polling round trip
STOP_WAIT = 2.0  # the longest a Stop click waits for its run to end
BINARY = "application/octet-stream"
STATUS = {"completed": st.success, "stopped": st.warning, "diverged": st.error, "failed": st.error}


def _start() -> None:
    """Train button: start a job for the sidebar's config (runs before the script body)."""
    config = st.session_state.get(state.CONFIG)
    if config is None:
        st.session_state[state.START_ERROR] = "Fix the settings marked in the sidebar first."
    elif problem := limits.too_big(config):
        st.session_state[state.START_ERROR] = problem
    elif session.runs().start(config, session.pool()) is not None:
        st.session_state[state.JUST_STARTED] = True
        # Noted here, not only at the end of the page drawn next: a click on Stop before that
        # drawing ends cuts it short (Streamlit starts the next drawing at once), and the page
        # after Stop would not know a run had trained, nor give Train back the focus.
        st.session_state[state.WAS_TRAINING] = True


def _stop() -> None:
    """Stop button: the run stops at its next batch and keeps its model. The click waits for that
    (20-60 ms here; at most STOP_WAIT), so the page drawn next shows the stopped run and brings
    Train back, rather than showing the run still training until the page's timer notices."""
    session.runs().stop_active(wait=STOP_WAIT)


def render_progress(view: JobView) -> None:
    if view.state == "queued" and view.queue_place is None:
        st.info(view.message)  # the next run of a series, waiting for the one before it
        return
    if view.state == "queued":
        pool = session.pool()
        place = f"you are number {view.queue_place or 1} in the queue"
        if pool.starting:  # as timer_mode: the server is starting workers (just started, or again)
            why = f"The server is starting its training processes: {place}."
        else:
            why = f"Waiting for a free place: {place} ({counted_are(pool.running, 'run')} training now)."
        if view.behind_own_run:  # the pool's fair queue (pool._line_up)
            why += (
                " This browser has another run waiting or training in another tab, so other "
                "students' first runs go before this one."
            )
        st.info(f"{why} Your run starts by itself.")
        return
    epochs_done = len(view.epochs)
    left = f" · about {view.seconds_left:.0f} s left" if view.seconds_left is not None else ""
    text = f"Epoch {min(epochs_done + 1, view.config.epochs)} of {view.config.epochs}{left}"
    st.progress(view.progress, text=text)


def render_curves(view: JobView | None, config: TrainConfig, replayed: int | None = None) -> None:
    """Loss and accuracy so far, on axes spanning the whole run (before a run, the sidebar's run:
    the curves will grow there). `replayed`: a replay's frame, the run as it was after that many
    epochs."""
    batches, epochs, per_epoch = (), (), 1
    if view is not None:
        batches, epochs = view.batches, view.epochs
        per_epoch = view.started.batches_per_epoch if view.started else 1
    if replayed is not None:
        epochs = epochs[:replayed]
        batches = [batch for batch in batches if batch.step <= replayed * per_epoch]
    left, right = st.columns(2)
    losses, accuracies = charts.epoch_rows(epochs, "loss"), charts.epoch_rows(epochs, "accuracy")
    batch_rows = charts.batch_rows(batches, per_epoch)
    training = view is not None and (view.active or replayed is not None)  # growing, either way
    loss = charts.live_spec("loss", config.epochs, training, epochs=losses, batches=batch_rows)
    page.chart(loss, left)
    page.chart(charts.live_spec("accuracy", config.epochs, training, epochs=accuracies), right)
    st.caption(charts.MEANING)


def render_outcome(view: JobView) -> None:
    """How the run ended and its test accuracy: the headline, drawn first."""
    finished = view.finished
    if finished is None:
        STATUS.get(view.state, st.error)(view.message)
        return
    headline = "**The run diverged.** " if finished.status == "diverged" else ""
    STATUS[finished.status](f"{headline}{finished.reason} Training took {finished.elapsed:.2f} s.")
    chance = 100 / get_task(view.config.task).num_classes
    shown = charts.accuracy_words(100 * finished.test_accuracy)  # the sheet's two decimals
    st.metric("Test accuracy", shown, help=f"Guessing scores about {chance:.0f}%.")


def render_details(view: JobView) -> None:
    """The epoch log in the sheet's format, the confusion matrix and the downloads."""
    finished = view.finished
    if finished is None:
        return
    # Side by side where both fit, else the matrix goes under the log: in a half-width column a
    # projector's large type or a small laptop hid the accuracies behind a scroll bar.
    side_by_side = st.container(horizontal=True, gap="large")
    log = "\n".join([*(e.log_line() for e in view.epochs), finished.log_line()])
    side_by_side.code(log, language=None, width="content", wrap_lines=True)  # wraps only on a phone
    matrix = charts.confusion_chart(finished.confusion, get_task(view.config.task).class_names)
    page.chart(matrix, side_by_side, "content")
    render_downloads(view)


def render_downloads(view: JobView) -> None:
    """The run's files. Each is built when its button is clicked, not on every redraw. A run whose
    network the server let go of has no checkpoint, and says so."""
    finished, name = view.finished, f"rnn-lab-run-{view.run_id}"
    report_of_run = partial(report.lab_report, view.config, view.epochs, finished)
    files = [
        ("Metrics (CSV)", partial(report.metrics_csv, view.epochs), f"{name}-metrics.csv", "text/csv"),
        ("Config (JSON)", view.config.to_json, f"{name}-config.json", "application/json"),
    ]
    if view.model is not None:  # a network the server let go of cannot be downloaded
        files.append(("Checkpoint", partial(checkpoint.to_bytes, view.model), f"{name}.safetensors", BINARY))
    files += [
        ("Lab report", report_of_run, f"{name}-report.md", "text/markdown"),
        ("Notebook", partial(notebook_bytes, view.config), f"{name}.ipynb", "application/x-ipynb+json"),
    ]
    row = st.container(horizontal=True)  # each button as wide as its label, on a second line if need be
    for label, data, filename, mime in files:
        row.download_button(
            label, data, filename, mime, key=f"download_{label}_{view.run_id}", on_click="ignore"
        )
    if view.let_go:
        st.caption(view.let_go_note)


def _replay(run_id: int) -> None:
    """Replay training button: the run's curves drawn again from its first epoch (page.live then
    draws the next frame on each tick of the "replay" timer)."""
    st.session_state[state.TRAIN_REPLAY] = run_id
    st.session_state[state.TRAIN_REPLAY_SHOWN] = 0


def replay_frame(view: JobView) -> int | None:
    """While the run's replay plays, the epochs this drawing shows: a step more than the last one
    (every epoch of a short run, at most REPLAY_FRAMES steps for a long one). The last frame ends the
    replay, and the page's next tick then draws the whole run again, with no timer. None: no replay."""
    if view.active or st.session_state.get(state.TRAIN_REPLAY) != view.run_id:
        return None
    total = len(view.epochs)
    shown = min(total, st.session_state.get(state.TRAIN_REPLAY_SHOWN, 0) + math.ceil(total / REPLAY_FRAMES))
    st.session_state[state.TRAIN_REPLAY_SHOWN] = shown
    if shown >= total:
        st.session_state[state.TRAIN_REPLAY] = None
    return shown


def render_run(run_id: int) -> None:
    """Everything about one run: while it is queued or training, or its curves are replayed,
    page.live redraws it on a timer."""
    view = session.runs().view(run_id)
    config = view.config
    epochs = counted(config.epochs, "epoch")
    replayed = replay_frame(view)
    st.caption(f"{view.title}; hidden size {config.hidden_size}, {epochs}, seed {config.seed}")
    with st.container():  # progress, then outcome: one place, so the curves under it stay put
        if view.state == "queued" or view.active:
            render_progress(view)
        else:
            render_outcome(view)
            render_replay(view, replayed)  # above the curves: they stay in sight while it plays
    render_curves(view, view.config, replayed)  # empty while queued: the curves fill in where they are
    if not view.active:
        render_details(view)


def render_replay(view: JobView, replayed: int | None) -> None:
    """The Replay training button, and while the replay plays, which epoch it has reached."""
    row = st.container(horizontal=True, vertical_alignment="center")
    row.button(
        "Replay training",
        key=f"{state.TRAIN_REPLAY}_{view.run_id}",
        on_click=_replay,
        args=(view.run_id,),
        disabled=len(view.epochs) < 2,  # never while it plays: a disabled button drops the focus
        help="Draw the curves again, epoch by epoch, as they grew while the run trained.",
    )
    if replayed is not None:
        row.caption(f"Replaying the run's curves: epoch {replayed} of {len(view.epochs)}.")


def render_before_a_run() -> None:
    """Where to start, and the empty curves of the sidebar's run, laid out as render_run lays out a
    run: when the first run starts, the curves stay in their place and fill in."""
    st.info(f"No run yet. Pick a preset or settings in {page.settings_place()} and click **Train**.")
    st.container()  # where a run's progress goes
    render_curves(None, st.session_state.get(state.CONFIG) or TrainConfig())


def timer_mode(view: JobView) -> str | None:
    """What the Train page's timer follows: "running", "next" (first in the queue, or waiting only
    for a fresh server's workers), "queued", "replay" (a finished run's curves drawn again), or
    None."""
    if view.state == "queued" and (view.queue_place == 1 or session.pool().starting):
        return "next"
    if view.active:
        return view.state
    return "replay" if st.session_state.get(state.TRAIN_REPLAY) == view.run_id else None


def main() -> None:
    page.title("Train")
    st.write(
        "Each epoch runs the lab sheet's loop over every batch: **forward pass → loss → "
        f"backpropagation → weight update**. Set up a run in {page.settings_place()}, then click Train."
    )
    runs = session.runs()
    if st.session_state.pop(state.JUST_STARTED, False) and runs.jobs[-1].state != "queued":
        runs.jobs[-1].done.wait(QUICK_RUN_WAIT)  # a quick run then shows its result at once
    views = runs.views()  # one snapshot for the whole page: buttons and timer agree
    going = [v for v in views if v.active]  # one run, or the runs of an experiment still to go
    latest = going[0] if going else (views[-1] if views else None)
    active = bool(going)
    buttons = st.container(horizontal=True)  # each as wide as its label, whatever the text size
    buttons.button("Train", key=state.TRAIN_BUTTON, type="primary", on_click=_start, disabled=active)
    buttons.button("Stop", key=state.STOP_BUTTON, on_click=_stop, disabled=not active)
    # The curves keep their place from before the first run to after the last (page.live says why):
    # this redraw's messages and the run picker go in containers that are always there (an empty
    # one shows nothing), and the focus script goes last.
    notes, picker_place = st.container(), st.container()
    if error := st.session_state.pop(state.START_ERROR, None):
        notes.error(error)
    if back := st.session_state.pop(state.WELCOME_BACK, None):
        notes.info(f"Welcome back: {counted_are(back, 'run')} here again from this browser's earlier tab.")
    if latest is None:
        page.live(render_before_a_run, None, lambda: None, TIMER_SECONDS)  # nothing to follow
    else:
        chosen = latest.run_id
        if len(views) > 1:  # the student's own pick, unless a run is training: that one is shown
            with picker_place:
                chosen = page.run_picker("Show run", views, state.RUN_PICKED, latest.run_id, follow=active)
        if st.session_state.get(state.TRAIN_REPLAY) not in (None, chosen):
            st.session_state[state.TRAIN_REPLAY] = None  # a new run, or another picked: the replay is over
        now = timer_mode(find(views, chosen))
        page.live(partial(render_run, chosen), now, page.run_mode(chosen, timer_mode), TIMER_SECONDS)
        st.caption(session.keeping_note())
    if st.session_state.get(state.WAS_TRAINING) and not active:
        page.focus_train()  # the run ended (or was stopped) since this page was last drawn
    st.session_state[state.WAS_TRAINING] = active


main()
