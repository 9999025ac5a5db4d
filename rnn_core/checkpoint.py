"""Save and load a trained model as one safetensors file: weights plus config, task and metrics.

safetensors stores raw tensors and a JSON header; nothing in it is executed, so loading a file a
student uploads is safe (a pickle-based `torch.load` of an untrusted file could run any code).
The config, task name, history and a format marker live in the header's `__metadata__`.
Every way a file can be wrong (not safetensors, truncated, from another program, the wrong shapes)
becomes a `CheckpointError` that says what is wrong.
"""

from __future__ import annotations

import json
import struct
from dataclasses import asdict
from pathlib import Path

import torch
from safetensors.torch import load as load_tensors
from safetensors.torch import save as save_tensors

from .config import ConfigError, TrainConfig
from .events import EpochEnd
from .model import SequenceClassifier
from .trained import TrainedModel

FORMAT = "rnn-lab-checkpoint"
VERSION = "1"
FILENAME = "model.safetensors"
MAX_BYTES = 64 * 1024 * 1024  # far above the largest model the config allows


class CheckpointError(ValueError):
    """A checkpoint cannot be loaded; the message says why."""


def to_bytes(trained: TrainedModel) -> bytes:
    """The whole checkpoint as bytes (for a download button or a file)."""
    metadata = {
        "format": FORMAT,
        "version": VERSION,
        "config": trained.config.to_json(),
        "status": trained.status,
        "test_accuracy": json.dumps(trained.test_accuracy),
        "history": json.dumps([asdict(e) for e in trained.history]),
    }
    state = {k: v.detach().contiguous() for k, v in trained.model.state_dict().items()}
    return save_tensors(state, metadata=metadata)


def save(trained: TrainedModel, path: str | Path) -> Path:
    """Write the checkpoint to `path` (a file, or a folder that gets model.safetensors)."""
    path = Path(path)
    if path.is_dir() or not path.suffix:
        path.mkdir(parents=True, exist_ok=True)
        path = path / FILENAME
    path.write_bytes(to_bytes(trained))
    return path


def read_metadata(data: bytes) -> dict[str, str]:
    """The `__metadata__` of a safetensors header (8-byte little-endian length, then JSON)."""
    if len(data) < 8:
        raise CheckpointError("The file is too short to be a checkpoint (fewer than 8 bytes).")
    (header_len,) = struct.unpack("<Q", data[:8])
    if header_len > len(data) - 8:
        raise CheckpointError("The file is not a safetensors checkpoint, or it was cut short.")
    try:
        header = json.loads(data[8 : 8 + header_len])
    except (UnicodeDecodeError, json.JSONDecodeError):
        raise CheckpointError("The file is not a safetensors checkpoint (its header is not JSON).") from None
    metadata = header.get("__metadata__") if isinstance(header, dict) else None
    if not isinstance(metadata, dict) or metadata.get("format") != FORMAT:
        raise CheckpointError("This safetensors file was not saved by RNN Lab (no RNN Lab metadata).")
    if metadata.get("version") != VERSION:
        raise CheckpointError(
            f"Checkpoint format version {metadata.get('version')!r} is not supported; expected {VERSION}."
        )
    return metadata


def from_bytes(data: bytes) -> TrainedModel:
    """A TrainedModel from checkpoint bytes, or a CheckpointError saying what is wrong."""
    if len(data) > MAX_BYTES:
        raise CheckpointError(
            f"The file is {len(data) / 1e6:.0f} MB; "
            f"an RNN Lab checkpoint is at most {MAX_BYTES // 2**20} MiB."
        )
    metadata = read_metadata(data)
    try:
        config = TrainConfig.from_json(metadata["config"])
        history = [EpochEnd(**e) for e in json.loads(metadata.get("history", "[]"))]
        test_accuracy = json.loads(metadata.get("test_accuracy", "null"))
    except ConfigError as err:
        raise CheckpointError(f"The checkpoint's config is not valid: {err}") from None
    except (KeyError, TypeError, json.JSONDecodeError):
        raise CheckpointError(
            "The checkpoint's metadata is damaged (config or history unreadable)."
        ) from None
    try:
        state = load_tensors(data)
    except Exception as err:  # safetensors raises its own error types for every malformed layout
        raise CheckpointError(f"The checkpoint's weights are damaged or cut short ({err}).") from None
    model = SequenceClassifier.from_config(config)
    expected = model.state_dict()
    missing, extra = sorted(set(expected) - set(state)), sorted(set(state) - set(expected))
    if missing or extra:
        raise CheckpointError(f"The weights do not match the config: missing {missing}, unexpected {extra}.")
    for name, tensor in state.items():
        if tensor.shape != expected[name].shape or tensor.dtype != expected[name].dtype:
            raise CheckpointError(
                f"Weight '{name}' has shape {tuple(tensor.shape)} ({tensor.dtype}) but the config needs "
                f"{tuple(expected[name].shape)} ({expected[name].dtype})."
            )
        if not torch.isfinite(tensor).all():
            raise CheckpointError(f"Weight '{name}' contains NaN or infinite values.")
    model.load_state_dict(state)
    model.eval()
    return TrainedModel(model, config, history, metadata.get("status", "completed"), test_accuracy)


def load(path: str | Path) -> TrainedModel:
    """Load a checkpoint file, or the model.safetensors inside a folder saved by `save`."""
    path = Path(path)
    if path.is_dir():
        path = path / FILENAME
    if not path.is_file():
        raise CheckpointError(f"No checkpoint at {path}.")
    if path.stat().st_size > MAX_BYTES:
        raise CheckpointError(f"{path} is too large to be an RNN Lab checkpoint.")
    return from_bytes(path.read_bytes())
