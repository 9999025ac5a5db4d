"""rnn_core: build, train and look inside a small recurrent network (the lab sheet's RNN).

    from rnn_core import TrainConfig, train, preset
    for event in train(preset("lab")):
        print(event)

Everything here is plain PyTorch and NumPy; the dashboard is one viewer of this API, a notebook or
the command line (`python -m rnn_core`) are others.
"""

from .config import FIELDS, PRESETS, ConfigError, TrainConfig, preset, task_defaults
from .events import BatchEnd, EpochEnd, Event, ProbeSnapshot, RunFinished, RunStarted
from .model import SequenceClassifier, build_model
from .tasks import TASKS, EncodeError, Task, get_task
from .train import evaluate, fit, limit_threads, train, warm_up
from .trained import Prediction, TrainedModel

__all__ = [
    "FIELDS",
    "PRESETS",
    "TASKS",
    "BatchEnd",
    "ConfigError",
    "EncodeError",
    "EpochEnd",
    "Event",
    "Prediction",
    "ProbeSnapshot",
    "RunFinished",
    "RunStarted",
    "SequenceClassifier",
    "Task",
    "TrainConfig",
    "TrainedModel",
    "build_model",
    "evaluate",
    "fit",
    "get_task",
    "limit_threads",
    "preset",
    "task_defaults",
    "train",
    "warm_up",
]  # fmt: skip
