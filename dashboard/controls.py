"""The sidebar: every setting of a run, and the page URL that turns a lesson into a link.

This is the only place the dashboard builds a `TrainConfig`. Widgets take their bounds, help and
starting values from `rnn_core.FIELDS` and `TrainConfig()`, never from numbers written here.

Execution model: Streamlit reruns this whole script on every click. Widget values live in
st.session_state under the keys in `state.CONFIG_KEYS`; callbacks (on_change) run before the
script, which is the only moment one widget may change another's value.
"""

from __future__ import annotations

import contextlib
from collections.abc import Mapping

import streamlit as st

from dashboard import plain, state
from rnn_core import FIELDS, PRESETS, TASKS, ConfigError, TrainConfig, get_task, preset, task_defaults

CUSTOM = "custom"
PROJECTOR = "projector"  # a view setting in the link (?projector=on), not part of a run's config
ON = "on"
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
    if params.get(PROJECTOR, ON) != ON:
        problems.append(f"Projector mode is set with '{PROJECTOR}={ON}'; leave it out for a laptop.")
    settings = {k: v for k, v in params.items() if k not in ("preset", PROJECTOR)}
    config, unusable = TrainConfig.from_strings(settings, config)
    return config, problems + unusable


def link_params(config: TrainConfig, base: str = CUSTOM, projector: bool = False) -> dict[str, str]:
    """Query parameters for a config: its preset by name and only what differs from that preset
    (or from the defaults), so a lesson's link stays short and says what it is."""
    start = preset(base) if base in PRESETS else TrainConfig()
    named = {"preset": base} if base in PRESETS else {}
    view = {PROJECTOR: ON} if projector else {}
    return named | {k: str(after) for k, (_, after) in config.changes_from(start).items()} | view


def preset_changes(config: TrainConfig, base: str) -> str:
    """'epochs 15 → 20, seed 0 → 3': how the setup differs from the preset it started from."""
    changes = config.changes_from(preset(base))
    return ", ".join(f"{FIELDS[name].label.lower()} {before:g} → {after:g}" if isinstance(before, int | float)
                     else f"{FIELDS[name].label.lower()} {before} → {after}"
                     for name, (before, after) in changes.items())  # fmt: skip


def matching_preset(config: TrainConfig) -> str:
    return next((name for name, (_, p) in PRESETS.items() if p == config), CUSTOM)


def _load(config: TrainConfig, base: str | None = None) -> None:
    """Put a config into the widgets (only from a callback or before the widgets are drawn).

    `base` is the preset the setup started from; the picker keeps showing it after changes."""
    for name, key in state.CONFIG_KEYS.items():
        st.session_state[key] = getattr(config, name)
    st.session_state[state.PRESET] = base if base in PRESETS else matching_preset(config)


def _current_values() -> dict:
    return {name: st.session_state[key] for name, key in state.CONFIG_KEYS.items()}


def _on_preset() -> None:
    chosen = st.session_state[state.PRESET]
    if chosen in PRESETS:  # not custom (nor what a hand-made client may send instead of an option)
        _load(preset(chosen))


def _on_setting() -> None:
    """After any setting changes: keep the others consistent. The preset the setup started from
    stays named (the sidebar lists what changed from it); a custom setup that now equals a preset
    takes that preset's name. (A callback runs before the script: a client that left the other
    settings out, with the run that would have kept them cut short, has them back first.)"""
    _keep_values()
    values = _current_values()
    if values["cell"] != "rnn":
        st.session_state[state.CONFIG_KEYS["nonlinearity"]] = "tanh"  # only the rnn cell has one
    if st.session_state[state.PRESET] == CUSTOM:
        with contextlib.suppress(ConfigError):
            st.session_state[state.PRESET] = matching_preset(TrainConfig(**_current_values()))


def _on_task() -> None:
    task = st.session_state[state.CONFIG_KEYS["task"]]
    if task in TASKS:  # a hand-made client may send anything: the config's check then says what is allowed
        st.session_state[state.CONFIG_KEYS["seq_len"]] = task_defaults(task).seq_len  # its own length
    _on_setting()


def restore_from_link() -> None:
    """On a session's first run, read the URL into the widgets (once: later the widgets lead)."""
    if st.session_state.get(state.RESTORED):
        _keep_values()
        return
    params = st.query_params.to_dict()
    config, problems = config_from_link(params)
    _load(config, params.get("preset"))
    st.session_state[state.PROJECTOR] = params.get(PROJECTOR) == ON
    st.session_state[state.LINK_PROBLEMS] = problems
    st.session_state[state.RESTORED] = True


def _keep_values() -> None:
    """Every setting keeps a value between runs. Streamlit drops a widget's value when a rerun
    request leaves the widget out (a browser always sends them all; a hand-made client may not),
    and reading it then would crash the page: such a setting goes back to the last config."""
    if all(key in st.session_state for key in (*state.CONFIG_KEYS.values(), state.PRESET, state.PROJECTOR)):
        return
    last = st.session_state.get(state.CONFIG) or TrainConfig()
    for name, key in state.CONFIG_KEYS.items():
        st.session_state.setdefault(key, getattr(last, name))
    st.session_state.setdefault(state.PRESET, matching_preset(last))
    st.session_state.setdefault(state.PROJECTOR, False)


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
        st.toggle(
            "Projector mode",
            key=state.PROJECTOR,
            help="For a class watching one screen: larger text and taller charts. Kept in the page address.",
        )
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
            help="Ready-made runs for class. Settings changed below are listed under the preset and kept "
            "in the page address.",
        )
        if (chosen := st.session_state[state.PRESET]) != CUSTOM:
            st.caption(PRESETS[chosen][0])
            try:
                if changed := preset_changes(TrainConfig(**_current_values()), chosen):
                    st.caption(f"Changed from {chosen}: {changed}.")
            except ConfigError:
                pass  # the settings' own error is shown below them
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
    link = link_params(config, st.session_state[state.PRESET], st.session_state[state.PROJECTOR])
    if st.query_params.to_dict() != link:
        st.query_params.from_dict(link)
    return config
