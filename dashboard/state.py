"""Every session_state key and widget key of the dashboard, named once.

Widget keys for config fields are the field names prefixed with `cfg_`, so `controls.py` can build
them from `rnn_core.FIELDS` and tests can find each widget by key.
"""

from rnn_core import FIELDS

CONFIG_PREFIX = "cfg_"
CONFIG_KEYS = {name: CONFIG_PREFIX + name for name in FIELDS}  # field -> widget key

PRESET = "preset"  # the preset picker
PROJECTOR = "projector"  # projector mode: larger text and charts (the sidebar toggle)
LINK_PROBLEMS = "link_problems"  # what a shared link asked for that could not be used
RESTORED = "restored_from_link"  # set once the URL has been read in this session
RUNS = "runs"  # this session's SessionRuns
BROWSER_KEY = "browser_key"  # the hashed secret under which this browser's runs are kept (or None)
WELCOME_BACK = "welcome_back"  # how many runs a reloaded tab got back (shown once)
MOVED = "moved"  # this browser reconnected here after its server stopped or restarted (said once)
CONFIG = "config"  # the TrainConfig the sidebar describes now (None when a setting is invalid)
JUST_STARTED = "just_started"  # set by the Train button's callback for the run that follows
START_ERROR = "start_error"  # why the last Train click could not start a run
WAS_TRAINING = "was_training"  # a run was training when the Train page was last drawn, or just started

TRAIN_BUTTON = "train"
STOP_BUTTON = "stop"
RUN_PICKED = "run_picked"  # the run the student last picked on the Train page
TRAIN_REPLAY = "train_replay"  # the run whose curves the Train page replays (and its button + run id)
TRAIN_REPLAY_SHOWN = "train_replay_shown"  # how many epochs the replay drew last

TRY_TEXT = "try_text"
TRY_EXAMPLE_FOR = "try_example_for"  # (task, seq_len) of the network the text box's example was drawn for
TRY_RANDOM = "try_random"
TRY_UPLOAD = "try_upload"
UPLOAD_ERROR = "upload_error"  # why the last uploaded file could not be loaded
TRY_MODEL = "try_model"  # which trained model the Try it page uses (its label)
TRY_NEWEST_RUN = "try_newest_run"  # the newest run with a model when the Try it page was last drawn
EXAMPLE_COUNT = "example_count"  # seeds the Random example button
TYPED_TEXT = "typed_text"  # the last sequence typed on Try it that the model could read

HIDDEN_RUN = "hidden_run"  # the run the student last picked on the Hidden states page
HIDDEN_EPOCH = "hidden_epoch"  # + run id: the epoch slider of that run
HIDDEN_SEQUENCE = "hidden_sequence"
HIDDEN_NEWEST = "hidden_newest"  # + run id: the newest epoch the slider was last shown
HIDDEN_REPLAY = "hidden_replay"  # the run whose epochs are being replayed (and its button + run id)
HIDDEN_REPLAY_SHOWN = "hidden_replay_shown"  # the epoch the replay showed last
HIDDEN_TYPED_SHOWN = "hidden_typed_shown"  # the Try it sequence the Hidden states page last drew

BPTT_RUN = "bptt_run"
BPTT_EXAMPLE = "bptt_example"
BPTT_STEP = "bptt_step"  # + run id and example: the Time step t slider of that example
BPTT_LENGTH = "bptt_length"
BPTT_SCALE = "bptt_scale"
BPTT_CLIP = "bptt_clip"
BPTT_LR = "bptt_lr"
BPTT_STAGE = "bptt_stage"  # how far the step-through has got (0 = not started)
BPTT_NEXT = "bptt_next"

COMPARE_RUNS = "compare_runs"
COMPARE_NEWEST = "compare_newest"  # the newest run when the Compare page was last drawn
EXPERIMENT_BUTTON = "experiment"  # + the experiment's number

# Widget values kept while another page is shown (page.keep_widget_values): these keys, and those
# that start with a per-run prefix (+ the run id). A widget here takes its first value from
# session_state, never from a default argument: Streamlit warns about both.
KEPT_ACROSS_PAGES = (TRY_TEXT, BPTT_LENGTH, BPTT_SCALE, BPTT_CLIP, BPTT_LR, COMPARE_RUNS)
KEPT_PER_RUN = (f"{HIDDEN_EPOCH}_", f"{BPTT_STEP}_")
# Everything kept for one run (+ the run id): dropped with its run, so a long lesson's session does
# not pile them up (page.keep_widget_values).
PER_RUN = (*KEPT_PER_RUN, f"{HIDDEN_NEWEST}_")


def run_of(key: str) -> int | None:
    """The run a per-run key was kept for ("bptt_step_3_1": run 3's example 1); None for another key."""
    for prefix in PER_RUN:
        if key.startswith(prefix):
            run = key.removeprefix(prefix).split("_")[0]
            return int(run) if run.isdigit() else None
    return None
