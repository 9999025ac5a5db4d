"""Compare: this session's runs side by side, and the classic classroom experiments in one click.

An experiment (rnn_core.experiments) is a pair of runs one setting apart, or a sweep over two
settings, all with the seed the student chose in the sidebar. Its claim is checked on the runs the
student just trained, so the page says whether it held here, and how often it holds over seeds.
"""

from __future__ import annotations

from typing import Any

import pandas as pd
import streamlit as st

from dashboard import charts, charts_inside, limits, page, session, state
from dashboard.runner import JobView
from rnn_core import FIELDS
from rnn_core.experiments import EXPERIMENTS, Experiment
from rnn_core.words import percent

TIMER_SECONDS = {"training": 1.0}  # page.live: redraw once a second while a run trains
# The compared runs' columns, as the table of runs and the charts' "Show data" tables head them
TEST_ACCURACY, TRAINING_LOSS = "test accuracy %", "training loss"


def _start_experiment(name: str) -> None:
    experiment = EXPERIMENTS[name]
    seed = st.session_state[state.CONFIG_KEYS["seed"]]  # the student's seed (callbacks read state)
    runs = [(experiment.run_name(label), config) for label, config in experiment.with_seed(seed)]
    problems = [f"{tag}: {problem}" for tag, config in runs if (problem := limits.too_big(config))]
    if len(runs) > limits.MAX_RUNS_KEPT:
        problems.append(
            f"This server keeps {limits.MAX_RUNS_KEPT} runs per student and the experiment needs {len(runs)}."
        )
    if problems:  # a server set up with a lower limit than the experiments need
        st.session_state[state.START_ERROR] = " ".join(problems)
        return
    jobs = session.runs().start_series(runs, session.pool())
    if jobs is None:
        st.session_state[state.START_ERROR] = (
            "A run is still going: stop it or wait, then start the experiment."
        )
    else:
        st.session_state[state.COMPARE_RUNS] = [job.run_id for job in jobs]  # compare the pair


def experiment_results(experiment: Experiment, views: list[JobView]) -> tuple[int | None, dict[str, float]]:
    """The seed of the newest run of this experiment, and label -> test accuracy of its finished
    runs with that seed (the newest of each label)."""
    mine = [(experiment.label_of(v.label), v) for v in views]
    mine = [(label, v) for label, v in mine if label is not None]
    if not mine:
        return None, {}
    seed = mine[-1][1].config.seed
    found = {}
    for label, view in mine:  # oldest first: a newer run of the same label overwrites an older one
        # a diverged run has a result too: that the rate was too high is the lesson
        if view.config.seed == seed and view.state in ("completed", "diverged"):
            found[label] = view.finished.test_accuracy
    return seed, {label: found[label] for label, _ in experiment.runs if label in found}  # in run order


def how_often(experiment: Experiment) -> str:
    """How often the claim held over seeds, from the record the seed script wrote."""
    record = experiment.seed_record()
    if record is None:
        return "It has not been checked over seeds for these settings."
    return f"Checked over seeds, it held for {record.summary()} (docs/EXPERIMENTS.md)."


def design(experiment: Experiment) -> str:
    """How the experiment's runs differ, in one sentence."""
    varied = experiment.varied_settings()
    if len(experiment.runs) == 2:
        ((setting, (before, after)),) = experiment.differing_setting().items()
        return f"Your seed for both runs; only the {setting_name(setting)} differs: {before} vs {after}."
    crossed = " and ".join(
        f"{FIELDS[name].label.lower()} ({', '.join(map(str, dict.fromkeys(values)))})"
        for name, values in varied.items()
    )
    return (
        f"Your seed for every run; every combination of {crossed}: {len(experiment.runs)} runs, "
        "one after another."
    )


def sweep_rows(experiment: Experiment, results: dict[str, float]) -> pd.DataFrame:
    """One row per finished run of a sweep: its line, its x value and its test accuracy in %."""
    line, x = experiment.series(), experiment.x
    return pd.DataFrame(
        [
            {
                "line": f"{line} {getattr(config, line)}",
                "x": getattr(config, x),
                "accuracy": 100 * results[label],
            }
            for label, config in experiment.runs
            if label in results
        ]
    )


def render_experiment(number: int, experiment: Experiment, views: list[JobView], busy: bool) -> None:
    left, right = st.columns([4, 1], vertical_alignment="center")
    left.markdown(f"**{experiment.name}**: {experiment.question}  \n{design(experiment)}")
    count = len(experiment.runs)
    right.button(
        "Run both" if count == 2 else f"Run all {count}",
        key=f"{state.EXPERIMENT_BUTTON}_{number}",
        on_click=_start_experiment,
        args=(experiment.name,),
        disabled=busy,
    )
    seed, results = experiment_results(experiment, views)
    if experiment.x and results:  # a sweep draws its curve as the runs come in
        chart = charts_inside.sweep_curve(sweep_rows(experiment, results), FIELDS[experiment.x].label)
        page.chart(chart, left)
    if len(results) < count:
        left.caption(f"What to expect: {experiment.claim} {how_often(experiment)}")
        return
    scores = ", ".join(
        f"{label}: {percent(accuracy, exact_ends=True)}" for label, accuracy in results.items()
    )
    if experiment.holds(results):
        left.success(
            f"Your runs with seed {seed} ({scores}): {experiment.claim} It held. {how_often(experiment)}"
        )
    else:
        left.warning(
            f"It did not hold this time. Your runs with seed {seed}: {scores}. The claim: "
            f"{experiment.claim} The outcome depends on the random start the seed fixes (the data, the "
            f"first weights, the batch order). {how_often(experiment)} Try another seed."
        )


def render_experiments(views: list[JobView]) -> None:
    st.header("Classroom experiments")
    notes = st.container()  # always there: the charts further down keep their place (page.live)
    if error := st.session_state.pop(state.START_ERROR, None):
        notes.error(error)
    busy = any(v.active for v in views)
    for number, experiment in enumerate(EXPERIMENTS.values()):
        with st.container(border=True):
            render_experiment(number, experiment, views, busy)


def config_table(views: list[JobView]) -> tuple[pd.DataFrame, list[str]]:
    """The runs' results and settings, one row per run, and the settings in which they differ.

    Results first, then the settings that differ, then the rest: on a narrow page the columns that
    matter are in sight, not behind the table's scroll bar."""
    rows = []
    for v in views:
        accuracy = 100 * v.finished.test_accuracy if v.finished else None  # written by accuracy_cell
        rows.append({"run": v.name, "status": v.state, TEST_ACCURACY: accuracy, **v.config.to_dict()})
    table = pd.DataFrame(rows).set_index("run")
    changed = {name for v in views[1:] for name in v.config.changes_from(views[0].config)}
    differing = [name for name in FIELDS if name in changed]  # in the order the settings are listed
    same = [name for name in FIELDS if name not in differing]
    return table[["status", TEST_ACCURACY, *differing, *same]], differing


def setting_columns() -> dict[str, Any]:
    """The table's setting columns: each named as in the page address (short), its header's tooltip
    saying what the setting is."""
    return {name: st.column_config.Column(help=f"{spec.label}: {spec.help}") for name, spec in FIELDS.items()}


def setting_name(key: str) -> str:
    """'learning rate (lr)'; just 'cell' when the label is the key."""
    label = FIELDS[key].label.lower()
    return label if label == key else f"{label} ({key})"


def default_choice(views: list[JobView]) -> list[int]:
    """The newest experiment's runs if the newest run belongs to one, else the two newest runs."""
    for experiment in EXPERIMENTS.values():
        if experiment.label_of(views[-1].label) is not None:
            return [v.run_id for v in views if experiment.label_of(v.label) is not None]
    return [v.run_id for v in views][-2:]


def render_comparison(views: list[JobView]) -> None:
    st.header("Your runs")
    labels = {v.run_id: v.picker_label for v in views}
    picked = st.session_state.get(state.COMPARE_RUNS)
    if page.changed_since_drawn(views[-1].run_id, state.COMPARE_NEWEST) or picked is None:
        picked = default_choice(views)  # a run has come since (it is in the choice), or a first visit
    # runs older than the session keeps drop out of the choice
    st.session_state[state.COMPARE_RUNS] = [run_id for run_id in picked if run_id in labels]
    # A run the session does not have (only a hand-made client names one) reads as what was sent,
    # and is compared with nothing: Streamlit keeps an unknown choice and writes it with format_func.
    chosen_ids = st.multiselect(
        "Runs to compare",
        list(labels),
        format_func=lambda run_id: labels.get(run_id, str(run_id)),
        key=state.COMPARE_RUNS,
    )
    chosen = [v for v in views if v.run_id in chosen_ids]
    if not chosen:
        st.info("Pick at least one run.")
        return
    rows = pd.DataFrame(
        [
            {
                "run": v.name,
                "epoch": e.epoch,
                TEST_ACCURACY: 100 * e.test_accuracy,
                TRAINING_LOSS: e.train_loss,
            }
            for v in chosen
            for e in v.epochs
        ]
    )
    if rows.empty:
        st.info("The chosen runs have no finished epoch yet: their curves appear here as they train.")
    else:
        training = tuple(v.name for v in chosen if v.active)
        epochs = max(v.config.epochs for v in chosen)  # the axes span the longest run from the start
        left, right = st.columns(2)
        accuracy = charts_inside.compare_curves(
            rows, TEST_ACCURACY, "Test accuracy (%)", epochs, training, percent=True
        )
        page.chart(accuracy, left)
        loss = charts_inside.compare_curves(rows, TRAINING_LOSS, "Training loss", epochs, training)
        page.chart(loss, right)
        st.caption(
            f"Test accuracy: {charts.SPLIT_MEANING['test']}. Training loss: {charts.SPLIT_MEANING['train']}; "
            "the Train page's 'train' line."
        )
    table, differing = config_table(chosen)
    if len(chosen) == 2:
        changes = chosen[1].config.changes_from(chosen[0].config)
        if changes:
            said = "; ".join(f"{setting_name(k)}: {a} → {b}" for k, (a, b) in changes.items())
            st.write(f"{chosen[0].name} and {chosen[1].name} differ in: **{said}**.")
        else:
            st.write("These two runs have the same settings: with the same seed they are the same run.")
    st.dataframe(
        table.style.set_properties(subset=differing, **{"background-color": "#FCE3C0", "font-weight": "bold"})
        .format(accuracy_cell, subset=[TEST_ACCURACY], na_rep="")  # a run not finished: no result yet
        .format(lambda value: f"{value:g}", subset=[n for n in FIELDS if table[n].dtype.kind == "f"]),
        column_config={
            # wide enough for "completed": the table keeps the widths it was first drawn with ("running")
            "status": st.column_config.TextColumn(width=100),
            **setting_columns(),
        },
    )
    st.caption("Highlighted: the settings in which the chosen runs differ.")


def accuracy_cell(accuracy: float) -> str:
    """A test accuracy in the table's "%" column, as the Train page writes it (two decimals, as the
    lab sheet), and never 100.00 when a prediction was wrong."""
    return charts.accuracy_words(accuracy).removesuffix("%")


def timer_mode() -> str | None:
    """What this page's timer follows (page.live): "training" while any of the session's runs trains."""
    return "training" if session.runs().active is not None else None


def render_page() -> None:
    views = session.runs().views()
    render_experiments(views)
    if views:
        render_comparison(views)
    else:
        st.info("No runs to compare yet: train on the Train page, or start an experiment above.")


def main() -> None:
    page.title("Compare")
    page.live(render_page, timer_mode(), timer_mode, TIMER_SECONDS)
    st.caption(f"A session keeps its {limits.MAX_RUNS_KEPT} newest runs.")


main()
