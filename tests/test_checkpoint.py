"""Checkpoints: a faithful round trip, and a clear error for every kind of bad file."""

import json
import pickle
import struct
import tomllib
from dataclasses import asdict, replace

import numpy as np
import pytest
import torch
from safetensors.torch import save as save_tensors

from conftest import ROOT
from rnn_core import TASKS, TrainConfig, build_model, fit, task_defaults
from rnn_core.__main__ import main as cli_main
from rnn_core.checkpoint import (
    MAX_BYTES,
    CheckpointError,
    from_bytes,
    largest_model_bytes,
    load,
    save,
    to_bytes,
)

CONFIG = TrainConfig(num_samples=100, epochs=2)


@pytest.fixture(scope="module")
def trained():
    return fit(CONFIG)


def test_round_trip_keeps_weights_config_history_and_predictions(trained, tmp_path):
    path = save(trained, tmp_path / "run")
    assert path.name == "model.safetensors"
    loaded = load(tmp_path / "run")
    assert loaded.config == trained.config and loaded.history == trained.history
    assert loaded.test_accuracy == trained.test_accuracy and loaded.status == "completed"
    for name, tensor in trained.model.state_dict().items():
        assert torch.equal(tensor, loaded.model.state_dict()[name])
    a, b = trained.predict("1 2 3 9 9"), loaded.predict("1 2 3 9 9")
    np.testing.assert_array_equal(a.prefix_probs, b.prefix_probs)


def test_bytes_and_file_forms_agree(trained, tmp_path):
    path = save(trained, tmp_path / "model.safetensors")
    from_file, from_memory = load(path), from_bytes(to_bytes(trained))
    assert from_file.config == from_memory.config and from_file.history == from_memory.history


def corrupt_cases(good: bytes) -> dict[str, tuple[bytes, str]]:
    header_len = struct.unpack("<Q", good[:8])[0]
    header = json.loads(good[8 : 8 + header_len])
    foreign = save_tensors({"x": torch.zeros(3)}, metadata={"format": "something-else"})
    header["__metadata__"]["config"] = json.dumps({**CONFIG.to_dict(), "hidden_size": 99})
    wrong_shape_header = json.dumps(header).encode()
    wrong_shape = struct.pack("<Q", len(wrong_shape_header)) + wrong_shape_header + good[8 + header_len :]
    bad_config = good.replace(b'\\"epochs\\": 2', b'\\"epochs\\": 0')
    return {
        "empty": (b"", "too short"),
        "random": (bytes(range(256)) * 4, "not a safetensors checkpoint"),
        "pickle": (pickle.dumps({"weights": [1, 2, 3]}), "not a safetensors checkpoint"),
        "truncated": (good[: len(good) // 2], "damaged or cut short"),
        "foreign": (foreign, "not saved by RNN Lab"),
        "wrong shape": (wrong_shape, "has shape"),
        "bad config": (bad_config, "config is not valid"),
    }


@pytest.mark.parametrize(
    "case", ["empty", "random", "pickle", "truncated", "foreign", "wrong shape", "bad config"]
)
def test_bad_files_raise_a_clear_error(trained, case):
    data, words = corrupt_cases(to_bytes(trained))[case]
    with pytest.raises(CheckpointError, match=words):
        from_bytes(data)


def test_nan_weights_are_refused(trained):
    broken = replace(trained)
    model = build_model(trained.config)
    model.load_state_dict(trained.model.state_dict())
    with torch.no_grad():
        model.fc.bias[0] = float("nan")
    broken.model = model
    with pytest.raises(CheckpointError, match="NaN or infinite"):
        from_bytes(to_bytes(broken))


def test_missing_file_is_reported(tmp_path):
    with pytest.raises(CheckpointError, match="No checkpoint at"):
        load(tmp_path / "nothing-here")


def test_a_file_that_cannot_be_read_is_reported_as_such(tmp_path, monkeypatch):
    """Not as the command line's "cannot write", which is for the files it writes."""
    locked = tmp_path / "locked.safetensors"
    locked.write_bytes(b"")

    def refused(path):
        raise PermissionError(13, "Permission denied", str(path))

    monkeypatch.setattr(type(locked), "read_bytes", refused)
    with pytest.raises(CheckpointError, match=f"^Cannot read {locked}: Permission denied.$"):
        load(locked)


def test_loading_never_unpickles(trained, monkeypatch):
    def refuse(*args, **kwargs):
        raise AssertionError("unpickling attempted")

    monkeypatch.setattr(pickle, "loads", refuse)
    monkeypatch.setattr(torch, "load", refuse)
    from_bytes(to_bytes(trained))


def with_metadata(good: bytes, **changes: str) -> bytes:
    """The same checkpoint with some `__metadata__` values replaced by raw text."""
    header_len = struct.unpack("<Q", good[:8])[0]
    header = json.loads(good[8 : 8 + header_len])
    header["__metadata__"].update(changes)
    raw = json.dumps(header).encode()
    return struct.pack("<Q", len(raw)) + raw + good[8 + header_len :]


def crafted_cases(good: bytes) -> dict[str, bytes]:
    """Files made to break a parser, each as an attacker in a class would send it."""
    deep = (
        b'{"__metadata__": {"format": "rnn-lab-checkpoint"}, "x": ' + b"[" * 200_000 + b"]" * 200_000 + b"}"
    )
    digits = json.dumps({**CONFIG.to_dict(), "hidden_size": "HUGE"}).replace('"HUGE"', "1" * 5000)
    return {
        "header nested 200,000 deep": struct.pack("<Q", len(deep)) + deep,
        "config with a 5,000-digit integer": with_metadata(good, config=digits),
        "history nested 100,000 deep": with_metadata(good, history="[" * 100_000 + "]" * 100_000),
        "history of strings": with_metadata(good, history=json.dumps([{"epoch": "**one**"}])),
        "history with wrong types": with_metadata(
            good, history=json.dumps([{**asdict(trained_epoch()), "train_loss": "[x](https://e.example)"}])
        ),
        "config that is a list": with_metadata(good, config="[1, 2, 3]"),
        "test accuracy that is text": with_metadata(good, test_accuracy='"high"'),
        "a markdown version": with_metadata(good, version="[Log in](https://evil.example/login)"),
        "a header of 2 MB": struct.pack("<Q", 2_000_000) + b" " * 2_000_000,
    }


def trained_epoch():
    from rnn_core import EpochEnd

    return EpochEnd(1, 1, 0.5, 0.5, 0.5, 0.5, 0.1)


@pytest.mark.parametrize(
    "case",
    [
        "header nested 200,000 deep",
        "config with a 5,000-digit integer",
        "history nested 100,000 deep",
        "history of strings",
        "history with wrong types",
        "config that is a list",
        "test accuracy that is text",
        "a markdown version",
        "a header of 2 MB",
    ],
)
def test_crafted_files_end_in_one_sentence_and_never_a_traceback(trained, case, tmp_path, capsys):
    data = crafted_cases(to_bytes(trained))[case]
    with pytest.raises(CheckpointError) as caught:
        from_bytes(data)
    message = str(caught.value)
    assert message.endswith(".") and "\n" not in message and len(message) < 300
    assert "evil.example" not in message  # the file's own text is not repeated back
    (tmp_path / "crafted.safetensors").write_bytes(data)
    with pytest.raises(SystemExit) as exited:  # the command line: one line on stderr, exit 2
        cli_main(["predict", str(tmp_path / "crafted.safetensors"), "1 2 3"])
    assert exited.value.code == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "Traceback" not in err


def test_the_upload_limit_fits_the_largest_checkpoint_any_config_makes():
    sizes = {"cell": "lstm", "num_layers": 3, "embed_size": 128, "hidden_size": 256}  # every bound at its top
    models = [build_model(replace(task_defaults(task), **sizes)) for task in TASKS]
    assert largest_model_bytes() == max(4 * sum(p.numel() for p in m.parameters()) for m in models)
    config = tomllib.loads((ROOT / ".streamlit" / "config.toml").read_text())
    upload_mb = config["server"]["maxUploadSize"]  # Streamlit's unit: megabytes
    assert MAX_BYTES <= upload_mb * 1e6 <= 2 * MAX_BYTES
