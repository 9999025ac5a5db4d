"""Hidden states: what h_t does while the network learns.

During training the engine records the hidden states of a fixed probe set (16 test sequences)
before training and after up to 20 evenly spaced epochs, always the last (rnn_core.probes). This
page draws them: one sequence's h_t as a heatmap, and every probe sequence's path h_1..h_T in one
2-D PCA view fitted to all the recorded epochs, so the epoch slider replays how the classes moved.
It works while a run is still training.
"""

from __future__ import annotations

from functools import partial

import numpy as np
import streamlit as st

from dashboard import charts_inside, page, plain, session, state
from dashboard.runner import SNAPSHOTS_LET_GO, JobView, find
from rnn_core import EncodeError, Prediction, get_task
from rnn_core.probes import probe_score, project, snapshot_basis
from rnn_core.train import MAX_SNAPSHOTS
from rnn_core.words import counted

YOURS = "yours"  # the heatmap choice that shows the Try it sequence
TIMER_SECONDS = {"training": 1.0, "replay": 0.8}  # a replay shows each epoch for 0.8 s


def runs_with_snapshots() -> list[JobView]:
    return [v for v in reversed(session.runs().views()) if v.snapshots and v.started is not None]


def probe_class(view: JobView, index: int) -> str:
    labels = view.started.probe_labels[index]
    label = labels[-1] if np.ndim(labels) else labels  # many-to-many: the last step's label
    return get_task(view.config.task).class_names[int(label)]


def typed_prediction(view: JobView, typed: str | None) -> tuple[Prediction | None, str | None]:
    """The trained network's reading of the Try it page's sequence, or why there is none."""
    if not typed or view.model is None:
        return None, None
    try:
        return view.model.predict(typed), None
    except EncodeError as err:
        return None, f"Your sequence from Try it cannot be drawn for this run: {err}"


def trajectory_points(view: JobView, epoch_index: int, mine: Prediction | None) -> list[dict]:
    """PCA coordinates of every probe sequence at one epoch (and of a typed sequence, if given)."""
    task = get_task(view.config.task)
    mean, basis = snapshot_basis(view.snapshots)
    coords = project(view.snapshots[epoch_index].hidden, mean, basis)  # (P, T, 2)
    rows, T = [], coords.shape[1]
    for p, tokens in enumerate(view.started.probe_tokens):
        words, sequence, name = task.decode(tokens), f"{p + 1}: {task.render(tokens)}", probe_class(view, p)
        for t in range(T):
            rows.append(
                {"sequence": sequence, "step": t + 1, "token": words[t], "class": name,
                 "pc1": float(coords[p, t, 0]), "pc2": float(coords[p, t, 1]), "last": t == T - 1}
            )  # fmt: skip
    if mine is not None and epoch_index == len(view.snapshots) - 1:  # the model is the final one
        path = project(mine.hidden, mean, basis)  # (T, 2)
        for t, token in enumerate(mine.tokens):
            rows.append(
                {"sequence": f"yours: {' '.join(mine.tokens)}", "step": t + 1, "token": token,
                 "class": "yours", "pc1": float(path[t, 0]), "pc2": float(path[t, 1]),
                 "last": t == len(mine.tokens) - 1}
            )  # fmt: skip
    return rows


def value_range(config) -> str:
    """What values h_t can take in this network, for the heatmap's caption."""
    if config.cell == "rnn" and config.nonlinearity == "relu":
        return "relu keeps them at 0 or above, with no upper bound"
    if config.cell == "rnn":
        return "tanh keeps them between -1 and 1"
    return f"the {config.cell.upper()}'s h_t is a gated tanh, so it stays between -1 and 1"


def render_heatmap(view: JobView, snap, mine: Prediction | None) -> None:
    task = get_task(view.config.task)
    probes = view.started.probe_tokens
    labels = {
        p: f"{p + 1}: {task.render(tokens)} (true class: {probe_class(view, p)})"
        for p, tokens in enumerate(probes)
    }
    if mine is not None:
        labels[YOURS] = f"yours, from Try it: {' '.join(mine.tokens)} (the trained network)"
    chosen = page.choose("Sequence for the heatmap", labels, state.HIDDEN_SEQUENCE)
    if chosen == YOURS:
        hidden, tokens = mine.hidden, list(mine.tokens)
    else:
        hidden, tokens = snap.hidden[chosen], task.decode(probes[chosen])
    page.chart(charts_inside.hidden_heatmap(hidden, tokens))
    layers = view.config.num_layers
    top = f" of the top layer (of {layers}, the one the output layer reads)" if layers > 1 else ""
    st.caption(
        f"Each column is h_t{top} after reading token x_t; each row is one of the H hidden units. "
        f"Orange is positive, blue negative ({value_range(view.config)})."
    )


def snapshots_caption(view: JobView, epochs: list[int]) -> str:
    """Which epochs the slider can show, in words, while the run trains and after it."""
    if view.active:
        so_far = counted(len(epochs), "snapshot")
        return f"Still training: showing {so_far} so far (epoch 0 is before training)."
    after, trained = len(epochs) - 1, len(view.epochs)
    before = "The hidden states were recorded before training (epoch 0)"
    if after == 0:  # it ended in its first epoch, or was stopped before the first one it records
        return f"{before} only: the run ended before any epoch it would record."
    if after == trained:
        each = "its one epoch" if trained == 1 else f"each of its {trained} epochs"
        return f"{before} and after {each}."
    spaced = f"at most {MAX_SNAPSHOTS}, evenly spaced"
    return f"{before} and after {after} of the {trained} epochs it trained ({spaced})."


def end_points_caption(view: JobView, index: int) -> str:
    """What the trajectory view shows, and how well the output layer reads its end points now."""
    snap = view.snapshots[index]
    right, scored = probe_score(snap, view.started.probe_labels)
    count = len(view.started.probe_labels)
    basis = (
        "fitted to the epochs recorded so far: it is refitted as epochs arrive, so it may turn, and it "
        "settles when the run ends"
        if view.active
        else "fitted once to every recorded epoch, so the epochs can be compared"
    )
    if get_task(view.config.task).many_to_many:
        which = f"the h_t of {right} of the {scored} steps of these {count} sequences"
    else:
        which = f"the end points h_T of {right} of these {count} sequences"
    return (
        "Every line is one probe sequence's path through the hidden space, projected onto the two "
        f"directions in which the recorded hidden states vary most (one view {basis}). The output "
        f"layer V h_T + b_y can only draw straight boundaries through the hidden space: after epoch "
        f"{snap.epoch} it classifies {which} correctly."
    )


def timer_mode(view: JobView) -> str | None:
    """Why the view redraws itself (page.live): a run still training, a replay playing, or not at all."""
    if view.active:
        return "training"
    return "replay" if st.session_state.get(state.HIDDEN_REPLAY) == view.run_id else None


def _replay(run_id: int, first_epoch: int) -> None:
    st.session_state[state.HIDDEN_REPLAY] = run_id
    st.session_state[f"{state.HIDDEN_EPOCH}_{run_id}"] = first_epoch
    st.session_state[state.HIDDEN_REPLAY_SHOWN] = None  # show the first epoch before stepping on


def choose_epoch(view: JobView, epochs: list[int], to_last: bool = False) -> int:
    """The epoch slider. It stays where the student left it, also while they look at other pages
    (page.keep_widget_values); it follows new epochs while a run trains (unless moved back), goes to
    the last epoch when told `to_last`, and steps forward by itself while a replay plays."""
    key, newest_key = f"{state.HIDDEN_EPOCH}_{view.run_id}", f"{state.HIDDEN_NEWEST}_{view.run_id}"
    stored = st.session_state.get(key)
    replaying = timer_mode(view) == "replay"
    if to_last or stored not in epochs or stored == st.session_state.get(newest_key):
        st.session_state[key] = epochs[-1]  # at the newest epoch: stay there as epochs arrive
    elif replaying and stored == st.session_state.get(state.HIDDEN_REPLAY_SHOWN):
        st.session_state[key] = epochs[epochs.index(stored) + 1]  # the next frame of the replay
    if replaying:
        st.session_state[state.HIDDEN_REPLAY_SHOWN] = st.session_state[key]
        if st.session_state[key] == epochs[-1]:
            st.session_state[state.HIDDEN_REPLAY] = None  # the replay reached the end
    st.session_state[newest_key] = epochs[-1]
    row = st.container(horizontal=True, vertical_alignment="bottom")  # the button as wide as its label
    epoch = row.select_slider("Epoch (0 = before training)", options=epochs, key=key)
    row.button(
        "Replay training",
        key=f"{state.HIDDEN_REPLAY}_{view.run_id}",
        on_click=_replay,
        args=(view.run_id, epochs[0]),
        disabled=view.active or len(epochs) < 2,
        help="Step through the recorded epochs, from before training to the end.",
    )
    return epoch


def render_view(run_id: int) -> None:
    view = session.runs().view(run_id)
    task = get_task(view.config.task)
    epochs = [s.epoch for s in view.snapshots]
    st.caption(snapshots_caption(view, epochs))  # in both states, so the charts under it keep their place
    typed = st.session_state.get(state.TYPED_TEXT)
    # a sequence typed on Try it since this page was drawn is shown at once: it is drawn at the last
    # epoch only (the trained network reads it), wherever the slider was left
    new_sequence = page.changed_since_drawn(typed, state.HIDDEN_TYPED_SHOWN) and typed is not None
    epoch = choose_epoch(view, epochs, to_last=new_sequence)
    index = epochs.index(epoch)
    mine, problem = typed_prediction(view, typed)
    render_heatmap(view, view.snapshots[index], mine)
    points = trajectory_points(view, index, mine)
    page.chart(charts_inside.trajectory_plot(points, task.class_names))
    st.caption(end_points_caption(view, index))
    if problem:
        plain.warning(problem)
    elif mine is not None and index == len(epochs) - 1:
        st.caption(f"Black: your sequence from Try it, {plain.code(typed)}, read by the trained network.")
    elif mine is not None:
        st.caption("Your sequence from Try it is drawn at the last epoch: that network is the trained one.")
    elif view.model is not None:
        st.caption("Type a sequence on the Try it page to draw it here too.")


def main() -> None:
    page.title("Hidden states")
    latest = session.runs().latest()
    lost = latest is not None and SNAPSHOTS_LET_GO in latest.let_go
    if lost:
        st.info(latest.let_go_note)  # the newest run's states were let go to make room: say so
    views = runs_with_snapshots()
    if not views:
        if not lost:
            st.info(
                "No run yet. Click **Train** on the Train page; this page shows the run's hidden states, "
                "even while it trains."
            )
        return
    run_id = page.run_picker("Run", views, state.HIDDEN_RUN, views[0].run_id)  # views: newest first
    now = timer_mode(find(views, run_id))
    page.live(partial(render_view, run_id), now, page.run_mode(run_id, timer_mode), TIMER_SECONDS)


main()
