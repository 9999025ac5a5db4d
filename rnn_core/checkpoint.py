"""Save and load a trained model as one safetensors file: weights plus config, task and metrics.

safetensors stores raw tensors and a JSON header; nothing in it is executed, so loading a file a
student uploads is safe (a pickle-based `torch.load` of an untrusted file could run any code).
The config, task name, history and a format marker live in the header's `__metadata__`.
Every way a file can be wrong (not safetensors, truncated, from another program, the wrong shapes,
a header crafted to break a parser: nested 200,000 levels deep, a 5,000-digit number) becomes a
`CheckpointError` that says what is wrong in one sentence; nothing else escapes `from_bytes`.
"""

from __future__ import annotations

import json
import struct
from dataclasses import MISSING, asdict, fields, replace
from pathlib import Path

import torch
from safetensors.torch import load as load_tensors
from safetensors.torch import save as save_tensors

from .config import FIELDS, ConfigError, TrainConfig, task_defaults
from .cost import parameter_count
from .events import EpochEnd
from .model import build_model
from .trained import TrainedModel

FORMAT = "rnn-lab-checkpoint"
VERSION = "1"
FILENAME = "model.safetensors"
MAX_HEADER_BYTES = 1_000_000  # config, 200 epochs of history and the tensor index need < 60 kB
MAX_NESTING = 32  # the deepest JSON an RNN Lab header holds is 3 levels


def largest_model_bytes() -> int:
    """The weights of the biggest network any valid config builds (LSTM, every size at its bound)."""
    sizes = {name: int(FIELDS[name].high) for name in ("num_layers", "embed_size", "hidden_size")}
    return max(
        parameter_count(replace(task_defaults(task), cell="lstm", **sizes)) * 4
        for task in FIELDS["task"].choices
    )


MAX_BYTES = largest_model_bytes() + MAX_HEADER_BYTES  # about 7 MB


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


def _nesting(text: bytes) -> int:
    """How deep JSON brackets nest in `text` (brackets inside strings counted too: an upper bound)."""
    depth = deepest = 0
    for byte in text:
        if byte in b"[{":
            depth += 1
            deepest = max(deepest, depth)
        elif byte in b"]}":
            depth -= 1
    return deepest


def _parse_json(text: bytes | str, what: str) -> object:
    """JSON from a file, bounded before parsing; any failure is a CheckpointError naming `what`."""
    raw = text.encode() if isinstance(text, str) else text
    if _nesting(raw) > MAX_NESTING:
        raise CheckpointError(f"The checkpoint's {what} is nested too deeply to be from RNN Lab.")
    try:
        return json.loads(raw)
    except (ValueError, RecursionError, MemoryError):  # JSONDecodeError, bad UTF-8, huge numbers
        raise CheckpointError(f"The checkpoint's {what} is not readable JSON.") from None


def read_metadata(data: bytes) -> dict[str, str]:
    """The `__metadata__` of a safetensors header (8-byte little-endian length, then JSON)."""
    if len(data) < 8:
        raise CheckpointError("The file is too short to be a checkpoint (fewer than 8 bytes).")
    (header_len,) = struct.unpack("<Q", data[:8])
    if header_len > len(data) - 8:
        raise CheckpointError("The file is not a safetensors checkpoint, or it was cut short.")
    if header_len > MAX_HEADER_BYTES:
        raise CheckpointError(
            f"The file's header is {header_len:,} bytes; "
            f"an RNN Lab checkpoint's is under {MAX_HEADER_BYTES:,}."
        )
    header = _parse_json(data[8 : 8 + header_len], "header")
    metadata = header.get("__metadata__") if isinstance(header, dict) else None
    if not isinstance(metadata, dict) or metadata.get("format") != FORMAT:
        raise CheckpointError("This safetensors file was not saved by RNN Lab (no RNN Lab metadata).")
    if metadata.get("version") != VERSION:
        raise CheckpointError(
            f"This checkpoint's format version is not supported: RNN Lab reads version {VERSION}."
        )
    if not all(isinstance(value, str) for value in metadata.values()):
        raise CheckpointError("The checkpoint's metadata is damaged (its values must be text).")
    return metadata


def from_bytes(data: bytes) -> TrainedModel:
    """A TrainedModel from checkpoint bytes, or a CheckpointError saying what is wrong."""
    if len(data) > MAX_BYTES:
        raise CheckpointError(
            f"The file is {len(data) / 1e6:.1f} MB; "
            f"an RNN Lab checkpoint is at most {MAX_BYTES / 1e6:.1f} MB."
        )
    try:
        return _from_bytes(data)
    except CheckpointError:
        raise
    except Exception as err:  # a file from outside: whatever broke, the student reads one sentence
        raise CheckpointError(
            f"The file could not be read as an RNN Lab checkpoint ({type(err).__name__})."
        ) from None


def _from_bytes(data: bytes) -> TrainedModel:
    metadata = read_metadata(data)
    try:
        config = TrainConfig.from_dict(_as_dict(_parse_json(metadata["config"], "config")))
        history = [_epoch(e) for e in _as_list(_parse_json(metadata.get("history", "[]"), "history"))]
        test_accuracy = _parse_json(metadata.get("test_accuracy", "null"), "test accuracy")
    except ConfigError as err:
        raise CheckpointError(f"The checkpoint's config is not valid: {err}") from None
    except (KeyError, TypeError):
        raise CheckpointError(
            "The checkpoint's metadata is damaged (config or history unreadable)."
        ) from None
    if test_accuracy is not None and not isinstance(test_accuracy, int | float):
        raise CheckpointError("The checkpoint's test accuracy is not a number.")
    try:
        state = load_tensors(data)
    except Exception:  # safetensors raises its own error types for every malformed layout
        raise CheckpointError("The checkpoint's weights are damaged or cut short.") from None
    model = build_model(config)  # its first weights are replaced by the file's below
    expected = model.state_dict()
    missing, extra = sorted(set(expected) - set(state)), sorted(set(state) - set(expected))
    if missing or extra:
        raise CheckpointError(
            f"The weights do not match the config: {len(missing)} missing, {len(extra)} unexpected."
        )
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
    status = metadata.get("status", "completed")
    if status not in ("completed", "stopped", "diverged"):
        raise CheckpointError("The checkpoint's status is not one RNN Lab writes.")
    return TrainedModel(model, config, history, status, test_accuracy)


def _epoch(value: object) -> EpochEnd:
    """One history entry: exactly EpochEnd's fields, every one a number."""
    entry = _as_dict(value)
    names = {f.name for f in fields(EpochEnd)}
    required = {f.name for f in fields(EpochEnd) if f.default is MISSING}
    if not required <= set(entry) <= names:
        raise TypeError("not an epoch")
    if not all(v is None or (isinstance(v, int | float) and not isinstance(v, bool)) for v in entry.values()):
        raise TypeError("an epoch's values must be numbers")
    if any(entry[name] is None for name in required):
        raise TypeError("an epoch's values must be numbers")
    return EpochEnd(**entry)


def _as_dict(value: object) -> dict:
    if not isinstance(value, dict):
        raise TypeError("expected an object")
    return value


def _as_list(value: object) -> list:
    if not isinstance(value, list):
        raise TypeError("expected a list")
    return value


def load(path: str | Path) -> TrainedModel:
    """Load a checkpoint file, or the model.safetensors inside a folder saved by `save`."""
    path = Path(path)
    if path.is_dir():
        path = path / FILENAME
    if not path.is_file():
        raise CheckpointError(f"No checkpoint at {path}.")
    try:
        if path.stat().st_size > MAX_BYTES:
            raise CheckpointError(f"{path} is too large to be an RNN Lab checkpoint.")
        data = path.read_bytes()
    except OSError as err:  # a file this user may not read, say
        raise CheckpointError(f"Cannot read {path}: {err.strerror}.") from err
    return from_bytes(data)
