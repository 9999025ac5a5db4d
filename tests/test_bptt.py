"""The hand-written BPTT must give autograd's numbers: the same gradients computed two ways."""

import pytest
import torch

from rnn_core import bptt, build_model, preset
from rnn_core.bptt import PARAM_NAMES


def autograd_reference(params, x, y):
    """The sheet's forward pass once more, in torch with autograd, float64."""
    leaves = {k: v.clone().requires_grad_(True) for k, v in params.items()}
    labels = bptt.step_labels(y, x.shape[0])
    h = torch.zeros(leaves["W"].shape[0], dtype=torch.float64)
    loss = torch.zeros((), dtype=torch.float64)
    hs = []
    for t in range(x.shape[0]):
        h = torch.tanh(leaves["U"] @ x[t] + leaves["W"] @ h + leaves["b_h"])
        h.retain_grad()
        hs.append(h)
        if labels[t] >= 0:
            loss = loss + torch.nn.functional.cross_entropy(
                (leaves["V"] @ h + leaves["b_y"])[None], labels[t : t + 1]
            )
    loss.backward()
    return loss, {k: v.grad for k, v in leaves.items()}, torch.stack([h.grad for h in hs])


def random_case(seed, many_to_many):
    g = torch.Generator().manual_seed(seed)
    T, E, H, C = (
        int(torch.randint(lo, hi, (1,), generator=g)) for lo, hi in ((1, 9), (1, 6), (1, 8), (2, 5))
    )
    params = bptt.init_params(E, H, C, seed=seed, dtype=torch.float64, scale=2.0)
    x = torch.randn(T, E, generator=g, dtype=torch.float64)
    y = (
        torch.randint(0, C, (T,), generator=g)
        if many_to_many
        else int(torch.randint(0, C, (1,), generator=g))
    )
    return params, x, y


@pytest.mark.parametrize("many_to_many", [False, True])
@pytest.mark.parametrize("seed", range(8))
def test_hand_gradients_equal_autograd(seed, many_to_many):
    params, x, y = random_case(seed, many_to_many)
    cache = bptt.forward(params, x, y)
    trace = bptt.backward_steps(params, cache)
    loss, expected, expected_dh = autograd_reference(params, x, y)
    torch.testing.assert_close(cache.L, loss.detach(), rtol=1e-12, atol=1e-12)
    for name, grad in bptt.backward(params, cache).items():
        torch.testing.assert_close(grad, expected[name], rtol=1e-10, atol=1e-12, msg=name)
    torch.testing.assert_close(trace.dh, expected_dh, rtol=1e-10, atol=1e-12)


def test_forward_follows_the_sheet_equations():
    params, x, y = random_case(3, many_to_many=True)
    cache = bptt.forward(params, x, y)
    h_prev = torch.zeros(params["W"].shape[0], dtype=torch.float64)
    for t in range(x.shape[0]):
        h_t = torch.tanh(params["U"] @ x[t] + params["W"] @ h_prev + params["b_h"])
        y_hat = torch.softmax(params["V"] @ h_t + params["b_y"], dim=0)
        torch.testing.assert_close(cache.h[t], h_t)
        torch.testing.assert_close(cache.y_hat[t], y_hat)
        torch.testing.assert_close(cache.L_t[t], -torch.log(y_hat[y[t]]))
        h_prev = h_t
    torch.testing.assert_close(cache.L, cache.L_t.sum())


def test_many_to_one_has_loss_only_at_the_last_step():
    params, x, y = random_case(5, many_to_many=False)
    cache = bptt.forward(params, x, y)
    assert torch.all(cache.L_t[:-1] == 0) and cache.L_t[-1] > 0


@pytest.mark.parametrize("name", PARAM_NAMES)
def test_finite_differences_agree(name):
    params, x, y = random_case(11, many_to_many=True)
    grads = bptt.backward(params, bptt.forward(params, x, y))
    eps = 1e-6
    for index in [(0,) * params[name].dim(), tuple(s - 1 for s in params[name].shape)]:
        bumped = {k: v.clone() for k, v in params.items()}
        bumped[name][index] += eps
        up = bptt.forward(bumped, x, y).L
        bumped[name][index] -= 2 * eps
        down = bptt.forward(bumped, x, y).L
        assert float((up - down) / (2 * eps)) == pytest.approx(float(grads[name][index]), rel=1e-6, abs=1e-9)


def test_per_step_contributions_have_one_slice_per_step():
    params = bptt.init_params(3, 4, 2, seed=2, dtype=torch.float64)
    x = torch.randn(6, 3, generator=torch.Generator().manual_seed(2), dtype=torch.float64)
    trace = bptt.backward_steps(params, bptt.forward(params, x, 1))
    for name, part in trace.terms.items():
        assert part.shape == (x.shape[0], *params[name].shape)
    # many-to-one: V and b_y only get a gradient where the label is, the last step
    assert torch.all(trace.terms["V"][:-1] == 0)
    assert torch.count_nonzero(trace.terms["W"][-1]) > 0


def test_small_W_makes_the_gradient_vanish_back_in_time():
    params = bptt.init_params(3, 8, 2, seed=0, dtype=torch.float64, scale=0.3)
    x = torch.randn(30, 3, generator=torch.Generator().manual_seed(0), dtype=torch.float64)
    dh = bptt.backward_steps(params, bptt.forward(params, x, 1)).dh.norm(dim=1)
    assert dh[0] < 1e-6 * dh[-1]


def test_trained_model_weights_map_onto_the_sheet_names():
    config = preset("lab")
    model = build_model(config).double()
    params = bptt.params_from_model(model)
    tokens = [3, 1, 4, 1, 5, 9, 2, 6]
    x = bptt.embed(model, tokens)
    cache = bptt.forward(params, x, 1)
    with torch.no_grad():
        out = model(torch.tensor([tokens]))
    torch.testing.assert_close(cache.h, out.hidden[0])
    torch.testing.assert_close(cache.y_hat, torch.softmax(out.logits[0], dim=-1))
    assert params["U"].shape == (config.hidden_size, config.embed_size)
    torch.testing.assert_close(params["b_h"], model.rnn.bias_ih_l0 + model.rnn.bias_hh_l0)


@pytest.mark.parametrize("change", [{"cell": "lstm"}, {"num_layers": 2}, {"nonlinearity": "relu"}])
def test_models_the_equations_do_not_describe_are_refused_with_a_reason(change):
    from dataclasses import replace

    with pytest.raises(ValueError, match="one-layer RNN with tanh"):
        bptt.params_from_model(build_model(replace(preset("lab"), **change)))


def test_autograd_backward_is_an_independent_check_of_the_hand_gradients():
    params, x, y = random_case(4, many_to_many=True)
    hand = bptt.backward(params, bptt.forward(params, x, y))
    _, reference, _ = autograd_reference(params, x, y)
    for name, grad in bptt.autograd_backward(params, x, y).items():
        torch.testing.assert_close(grad, reference[name])
        torch.testing.assert_close(grad, hand[name], rtol=1e-10, atol=1e-12)


def test_spectral_radius_scales_with_W():
    params = bptt.init_params(3, 6, 2, seed=1, dtype=torch.float64)
    rho = bptt.spectral_radius(params["W"])
    assert bptt.spectral_radius(2.5 * params["W"]) == pytest.approx(2.5 * rho)


def test_sgd_update_moves_against_the_gradient():
    params, x, y = random_case(1, many_to_many=True)
    cache = bptt.forward(params, x, y)
    updated = bptt.sgd_update(params, bptt.backward(params, cache), lr=1e-3)
    assert bptt.forward(updated, x, y).L < cache.L


def test_backflow_through_W_is_the_power_of_W_transposed():
    params = bptt.init_params(2, 4, 2, seed=3, dtype=torch.float64)
    dh = torch.randn(4, generator=torch.Generator().manual_seed(3), dtype=torch.float64)
    norms = bptt.backflow_through_W(params["W"], dh, 5)
    assert norms[-1] == pytest.approx(float(dh.norm()))
    assert norms[0] == pytest.approx(float((torch.linalg.matrix_power(params["W"].T, 4) @ dh).norm()))


def test_per_step_factor_is_the_geometric_mean_change():
    assert bptt.per_step_factor(torch.tensor([8.0, 4.0, 2.0, 1.0])) == pytest.approx(2.0)
    assert bptt.per_step_factor(torch.tensor([1.0, 10.0, 100.0])) == pytest.approx(0.1)
