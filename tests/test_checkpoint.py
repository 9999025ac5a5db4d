"""Checkpoints: a faithful round trip, and a clear error for every kind of bad file."""

import json
import pickle
import struct
from dataclasses import replace

import numpy as np
import pytest
import torch
from safetensors.torch import save as save_tensors

from rnn_core import TrainConfig, fit
from rnn_core.checkpoint import CheckpointError, from_bytes, load, save, to_bytes

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
    model = type(trained.model).from_config(trained.config)
    model.load_state_dict(trained.model.state_dict())
    with torch.no_grad():
        model.fc.bias[0] = float("nan")
    broken.model = model
    with pytest.raises(CheckpointError, match="NaN or infinite"):
        from_bytes(to_bytes(broken))


def test_missing_file_is_reported(tmp_path):
    with pytest.raises(CheckpointError, match="No checkpoint at"):
        load(tmp_path / "nothing-here")


def test_loading_never_unpickles(trained, monkeypatch):
    def refuse(*args, **kwargs):
        raise AssertionError("unpickling attempted")

    monkeypatch.setattr(pickle, "loads", refuse)
    monkeypatch.setattr(torch, "load", refuse)
    from_bytes(to_bytes(trained))
