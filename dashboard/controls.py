"""The sidebar: every setting of a run, and the page URL that turns a lesson into a link.

This is the only place the dashboard builds a `TrainConfig`. Widgets take their bounds, help and
starting values from `rnn_core.FIELDS` and `TrainConfig()`, never from numbers written here.

Execution model: Streamlit reruns this whole script on every click. Widget values live in
st.session_state under the keys in `state.CONFIG_KEYS`; callbacks (on_change) run before the
script, which is the only moment one widget may change another's value.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import replace

import streamlit as st

from dashboard import plain, state
from rnn_core import FIELDS, PRESETS, TASKS, ConfigError, TrainConfig, get_task, preset, task_defaults

CUSTOM = "custom"
SECTIONS = {
    "Network": ("cell", "nonlinearity", "num_layers", "embed_size", "hidden_size"),
    "Data": ("seq_len", "num_samples", "test_fraction"),
    "Training": ("epochs", "batch_size", "optimizer", "lr", "clip_grad", "seed"),
}
STEPS = {"num_samples": 100, "test_fraction": 0.05, "lr": 0.001, "clip_grad": 0.5}
FORMATS = {"lr": "%g", "clip_grad": "%g", "test_fraction": "%.2f"}


def config_from_link(params: Mapping[str, str]) -> tuple[TrainConfig, list[str]]:
    """The config a shared link describes, and a sentence for each part of it that was unusable.

    Good values are kept even when others are bad: a typo in one setting does not lose a lesson.
    """
    problems: list[str] = []
    config = TrainConfig()
    if "preset" in params:
        try:
            config = preset(params["preset"])
        except KeyError as err:
            problems.append(err.args[0])
    values = {k: v for k, v in params.items() if k != "preset"}
    problems += [f"Unknown setting '{k}' in the link." for k in values if k not in FIELDS]
    if values.get("task") in TASKS:  # the linked task's own length, unless the link sets a good one
        config = task_defaults(values["task"], config)
    for name in FIELDS:  # task first (FIELDS order), so later checks see the linked task
        if name in values:
            try:
                config = config.with_strings({name: values[name]})
            except ConfigError as err:
                problems += err.problems
    return config, problems


def link_params(config: TrainConfig) -> dict[str, str]:
    """Query parameters for a config: only what differs from the defaults, so links stay short."""
    default = TrainConfig().to_dict()
    return {k: str(v) for k, v in config.to_dict().items() if v != default[k]}


def matching_preset(config: TrainConfig) -> str:
    return next((name for name, (_, p) in PRESETS.items() if p == config), CUSTOM)


def _load(config: TrainConfig) -> None:
    """Put a config into the widgets (only from a callback or before the widgets are drawn)."""
    for name, key in state.CONFIG_KEYS.items():
        st.session_state[key] = getattr(config, name)
    st.session_state[state.PRESET] = matching_preset(config)


def _current_values() -> dict:
    return {name: st.session_state[key] for name, key in state.CONFIG_KEYS.items()}


def _on_preset() -> None:
    chosen = st.session_state[state.PRESET]
    if chosen != CUSTOM:
        _load(preset(chosen))


def _on_setting() -> None:
    """After any setting changes: keep the others consistent and name the matching preset."""
    values = _current_values()
    if values["cell"] != "rnn":
        st.session_state[state.CONFIG_KEYS["nonlinearity"]] = "tanh"  # only the rnn cell has one
    try:
        st.session_state[state.PRESET] = matching_preset(TrainConfig(**_current_values()))
    except ConfigError:
        st.session_state[state.PRESET] = CUSTOM


def _on_task() -> None:
    st.session_state[state.CONFIG_KEYS["seq_len"]] = get_task(
        st.session_state[state.CONFIG_KEYS["task"]]
    ).default_seq_len
    _on_setting()


def restore_from_link() -> None:
    """On a session's first run, read the URL into the widgets (once: later the widgets lead)."""
    if st.session_state.get(state.RESTORED):
        return
    config, problems = config_from_link(st.query_params.to_dict())
    _load(config)
    st.session_state[state.LINK_PROBLEMS] = problems
    st.session_state[state.RESTORED] = True


def _widget(name: str, disabled: bool = False) -> None:
    spec, key = FIELDS[name], state.CONFIG_KEYS[name]
    common = {"key": key, "help": spec.help + f" Allowed: {spec.allowed()}.", "disabled": disabled}
    on_change = _on_task if name == "task" else _on_setting
    if spec.choices:
        labels = {t: f"{TASKS[t].title}" for t in TASKS} if name == "task" else {}
        st.selectbox(
            spec.label, spec.choices, format_func=lambda v: labels.get(v, v), on_change=on_change, **common
        )
    elif spec.kind is int:
        st.number_input(
            spec.label, int(spec.low), int(spec.high), step=STEPS.get(name, 1), on_change=on_change, **common
        )
    else:
        st.number_input(
            spec.label,
            float(spec.low),
            float(spec.high),
            step=STEPS.get(name, 0.01),
            format=FORMATS.get(name, "%g"),
            on_change=on_change,
            **common,
        )


def render_sidebar() -> TrainConfig | None:
    """Draw the settings; return the config they describe, or None (with a message) if invalid."""
    restore_from_link()
    with st.sidebar:
        st.header("Setup")
        if problems := st.session_state.get(state.LINK_PROBLEMS):
            listed = "".join(f"\n- {plain.escape(problem)}" for problem in problems)  # a link is outside text
            st.warning("This link had settings that could not be used:\n" + listed)
        options = [*PRESETS, CUSTOM]
        st.selectbox(
            "Preset",
            options,
            key=state.PRESET,
            on_change=_on_preset,
            help="Ready-made runs for class. Changing any setting below makes it 'custom'.",
        )
        if (chosen := st.session_state[state.PRESET]) != CUSTOM:
            st.caption(PRESETS[chosen][0])
        _widget("task")
        st.caption(get_task(st.session_state[state.CONFIG_KEYS["task"]]).explanation)
        for title, names in SECTIONS.items():
            st.subheader(title)
            for name in names:
                _widget(
                    name,
                    disabled=name == "nonlinearity" and st.session_state[state.CONFIG_KEYS["cell"]] != "rnn",
                )
        try:
            config = TrainConfig(**_current_values())
        except ConfigError as err:
            listed = "".join(f"\n- {plain.escape(problem)}" for problem in err.problems)
            st.error("These settings cannot be used:\n" + listed)
            return None
        st.caption("The page address holds these settings: copy it to share this setup as a link.")
    if st.query_params.to_dict() != link_params(config):
        st.query_params.from_dict(link_params(config))
    return replace(config)
