"""The model: shapes, heads, initialisation, and the probes that read it."""

import re
from dataclasses import replace

import numpy as np
import pytest
import torch

from rnn_core import TrainConfig, build_model, fit, get_task, preset
from rnn_core.equations import recurrence
from rnn_core.events import ProbeSnapshot
from rnn_core.model import GATE_BIAS, GATE_ORDER, KEEP_GATE, SequenceClassifier
from rnn_core.probes import hidden_gradient_norms, pca_basis, probe_score, project, spectral_radius


@pytest.mark.parametrize("cell", ["rnn", "lstm", "gru"])
@pytest.mark.parametrize("layers", [1, 2])
def test_forward_returns_logits_and_hidden_states_at_every_step(cell, layers):
    config = TrainConfig(cell=cell, num_layers=layers, hidden_size=7, embed_size=5)
    out = build_model(config)(torch.zeros(4, 9, dtype=torch.long))
    assert out.logits.shape == (4, 9, 2) and out.hidden.shape == (4, 9, 7)


def test_many_to_one_scores_the_last_step_and_many_to_many_every_step():
    logits = torch.randn(3, 5, 2)
    assert build_model(preset("lab")).scored_logits(logits).shape == (3, 2)
    assert build_model(preset("parity")).scored_logits(logits).shape == (3, 5, 2)


def test_initialisation_comes_from_the_seed_not_global_state():
    torch.manual_seed(123)
    a = build_model(TrainConfig(seed=5)).state_dict()
    torch.manual_seed(456)
    b = build_model(TrainConfig(seed=5)).state_dict()
    assert all(torch.equal(a[k], b[k]) for k in a)


@pytest.mark.parametrize(("cell", "gate"), [("lstm", 1), ("gru", 1)])
def test_gated_cells_start_with_their_keep_gate_open(cell, gate):
    model = build_model(TrainConfig(cell=cell, hidden_size=8))
    bias = model.rnn.bias_ih_l0 + model.rnn.bias_hh_l0
    assert torch.all(bias[gate * 8 : (gate + 1) * 8] == GATE_BIAS)


@pytest.mark.parametrize("cell", ["lstm", "gru"])
def test_the_gate_equations_in_GATE_ORDER_are_the_ones_pytorch_computes(cell):
    """The notebook writes each gate's equation under its letter, in GATE_ORDER, and the keep gate is
    KEEP_GATE's chunk: followed by hand with PyTorch's stacked weights, they give nn.LSTM's / nn.GRU's h_t."""
    torch.manual_seed(0)
    layer = {"lstm": torch.nn.LSTM, "gru": torch.nn.GRU}[cell](3, 4, batch_first=True).double()
    x = torch.randn(1, 6, 3, dtype=torch.double)
    expected, _ = layer(x)
    chunk = dict(zip(GATE_ORDER[cell], range(len(GATE_ORDER[cell])), strict=True))

    def part(weights, gate):  # the gate's block of a stacked weight or bias
        return weights[4 * chunk[gate] : 4 * (chunk[gate] + 1)]

    U, W, b_ih, b_hh = layer.weight_ih_l0, layer.weight_hh_l0, layer.bias_ih_l0, layer.bias_hh_l0

    def both(gate, x_t, h):  # U_k x_t + W_k h_{t-1} + b_k, b_k being PyTorch's two biases summed (BIASES)
        return part(U, gate) @ x_t + part(W, gate) @ h + part(b_ih, gate) + part(b_hh, gate)

    h, c, states = torch.zeros(4, dtype=torch.double), torch.zeros(4, dtype=torch.double), []
    for x_t in x[0]:
        if cell == "lstm":
            i, f, o = (torch.sigmoid(both(k, x_t, h)) for k in "ifo")
            c = f * c + i * torch.tanh(both("g", x_t, h))
            h = o * torch.tanh(c)
        else:
            r, z = (torch.sigmoid(both(k, x_t, h)) for k in "rz")
            n = torch.tanh(part(U, "n") @ x_t + part(b_ih, "n") + r * (part(W, "n") @ h + part(b_hh, "n")))
            h = (1 - z) * n + z * h
        states.append(h)
    torch.testing.assert_close(torch.stack(states), expected[0])
    assert GATE_ORDER[cell][KEEP_GATE[cell]] == {"lstm": "f", "gru": "z"}[cell]  # the gate that keeps memory
    written = recurrence(cell)  # what the notebook and the Backprop page show: the same gates, in order
    assert [line[0] for line, _ in written[: len(GATE_ORDER[cell])]] == list(GATE_ORDER[cell])
    assert all(re.fullmatch(r"[a-z ,]+", what) for _, what in written)  # plain words for LaTeX's \text{}


def test_hidden_gradient_norms_match_autograd_through_a_hand_unroll():
    model = build_model(replace(preset("lab"), hidden_size=6)).double()
    tokens = torch.tensor([[1, 2, 3, 4, 5], [9, 8, 7, 6, 5]])
    labels = torch.tensor([0, 1])
    norms = hidden_gradient_norms(model, tokens, labels)
    # the same ∂L/∂h_t with the sheet's equations by hand (bptt) per sequence, averaged
    from rnn_core import bptt

    params = bptt.params_from_model(model)
    expected = np.mean(
        [
            bptt.backward_steps(params, bptt.forward(params, bptt.embed(model, t), int(y)))
            .dh.norm(dim=1)
            .numpy()
            for t, y in zip(tokens, labels, strict=True)
        ],
        axis=0,
    )
    np.testing.assert_allclose(norms, expected, rtol=1e-6)


def test_spectral_radius_is_the_largest_eigenvalue_of_W():
    model = build_model(preset("lab"))
    eigenvalues = np.linalg.eigvals(model.rnn.weight_hh_l0.detach().double().numpy())
    assert spectral_radius(model) == pytest.approx(np.abs(eigenvalues).max())
    assert spectral_radius(build_model(TrainConfig(cell="lstm"))) is None


def test_pca_basis_is_stable_and_orthonormal():
    points = np.random.default_rng(0).normal(size=(50, 6)) * [5, 3, 1, 1, 1, 1]
    mean, basis = pca_basis(points)
    np.testing.assert_allclose(basis @ basis.T, np.eye(2), atol=1e-12)
    assert abs(basis[0, 0]) > 0.9  # the widest direction first
    directions = np.linalg.svd(points - mean, full_matrices=False)[2][:2]  # PCA's textbook form
    same_sign = np.sign((directions * basis).sum(axis=1))[:, None]  # each direction up to its sign
    np.testing.assert_allclose(basis, directions * same_sign, atol=1e-12)
    np.testing.assert_allclose(pca_basis(points)[1], basis)
    assert project(points, mean, basis).shape == (50, 2)
    assert pca_basis(points[:, :1])[1].shape == (2, 1)  # one hidden unit: second axis is zero


def test_prediction_per_prefix_ends_with_the_whole_sequence_prediction():
    trained = fit(replace(preset("sentiment"), num_samples=200, epochs=1))
    prediction = trained.predict("The film was not bad")
    assert prediction.tokens == ("the", "film", "was", "not", "bad")
    assert prediction.prefix_probs.shape == (5, 2)
    np.testing.assert_array_equal(prediction.prefix_probs[-1], prediction.probs)
    assert prediction.label == get_task("sentiment").class_names[int(prediction.probs.argmax())]
    # the sentence is left-padded to the trained length and read by the network itself
    task = get_task("sentiment")
    padded = [task.pad_id] * (trained.config.seq_len - 5) + task.encode("The film was not bad")
    with torch.no_grad():
        logits = trained.model(torch.tensor([padded])).logits[0, -5:]  # (5, C)
    np.testing.assert_allclose(prediction.prefix_probs, torch.softmax(logits, dim=-1).numpy(), rtol=1e-6)


def test_build_model_is_the_one_way_to_a_model_and_gives_gated_cells_an_open_keep_gate():
    for cell in ("lstm", "gru"):
        model = build_model(TrainConfig(cell=cell, hidden_size=8))
        gate = model.rnn.bias_ih_l0[8:16] + model.rnn.bias_hh_l0[8:16]  # chunk 1: LSTM f, GRU z
        assert torch.all(gate == GATE_BIAS)
    with pytest.raises(TypeError):
        SequenceClassifier(vocab_size=10, num_classes=2)  # no second set of defaults beside TrainConfig's


def test_the_probe_score_counts_what_the_output_layer_reads_right_from_h_T_or_every_h_t():
    """Hidden states' caption says it in counts: a parity network wrong at 1 of 16 × 25 steps
    classifies 399 of 400, where a share rounded to whole percent read "100%"."""
    labels = np.zeros((16, 25), dtype=np.int64)  # a label per step
    probs = np.tile(np.array([0.9, 0.1], dtype=np.float32), (16, 25, 1))
    probs[3, 7] = [0.2, 0.8]  # one step read wrong
    snap = ProbeSnapshot(1, np.zeros((16, 25, 4)), probs, np.zeros(25), None)
    assert probe_score(snap, labels) == (399, 400)
    assert probe_score(snap, labels[:, 0]) == (16, 16)  # a label per sequence: read from h_T only
    assert probe_score(snap, np.ones(16, dtype=np.int64)) == (0, 16)
