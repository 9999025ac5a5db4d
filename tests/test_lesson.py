"""The backprop-through-time lesson: the numbers the Backprop through time page shows."""

from dataclasses import replace

import numpy as np
import pytest
import torch

from rnn_core import build_model, fit, get_task, lesson, preset, task_defaults
from rnn_core.words import apart

QUICK = replace(preset("lab"), epochs=2, num_samples=200)


@pytest.fixture(scope="module")
def trained():
    return fit(QUICK)


def one_example(task_name: str, seed: int = 3):
    data = get_task(task_name).generate(1, 10, seed=seed)
    return data.tokens[0].tolist(), data.labels[0]


def test_the_walkthrough_reproduces_the_trained_network_and_autograd(trained):
    tokens, label = one_example("lab")
    walk = lesson.walkthrough(trained.model, "lab", tokens, label)
    with torch.no_grad():
        hidden = trained.model(torch.tensor([tokens])).hidden[0].double()  # (T, H)
    assert torch.allclose(walk.cache.h, hidden, atol=1e-5)  # the sheet's h_t are the model's
    assert max(walk.largest_difference().values()) < 1e-10  # hand BPTT = autograd
    assert walk.tokens == tuple(get_task("lab").decode(tokens))
    # δ_t = (1 - h_t²) ⊙ ∂L/∂h_t, and h_t = tanh(a_t)
    assert torch.allclose(walk.trace.delta, (1 - walk.cache.h**2) * walk.trace.dh)
    assert torch.allclose(walk.cache.h, torch.tanh(walk.cache.a))


@pytest.mark.parametrize("seed", range(5))
def test_step_shares_are_what_the_label_says_parts_of_dW_that_add_up_to_it(trained, seed):
    walk = lesson.walkthrough(trained.model, "lab", *one_example("lab", seed))
    shares = walk.step_shares("W")
    assert shares.shape == (len(walk.tokens),) and shares.sum() == pytest.approx(1.0, abs=1e-9)
    assert shares[0] == 0.0  # step 1 multiplies h_0 = 0: it adds nothing to ∂L/∂W
    parts, dW = walk.trace.terms["W"], walk.grads["W"]
    assert torch.allclose(parts.sum(dim=0), dW)  # the parts are a split of ∂L/∂W
    # each share is part_t's component along ∂L/∂W: shares × ∂L/∂W is the parts' projection onto it
    projected = sum((part * dW).sum() for part in parts) / (dW * dW).sum()
    assert float(projected) == pytest.approx(1.0)
    sizes = parts.flatten(1).norm(dim=1)
    assert float(sizes.sum()) >= float(dW.norm()) * (1 - 1e-12)  # why a share of norms would mislead


def test_the_autograd_column_is_the_real_networks_gradient_and_can_disagree(trained):
    tokens, label = one_example("lab")
    walk = lesson.walkthrough(trained.model, "lab", tokens, label)
    differences = walk.largest_difference()
    assert set(differences) == {"U", "W", "V", "b_ih", "b_hh", "b_y"}
    assert max(differences.values()) < 1e-10  # the sheet's equations are what nn.RNN computes
    other = fit(replace(trained.config, seed=1)).model  # another network's gradients differ
    foreign = lesson.model_gradients(other, tokens, label)
    assert float((foreign["W"] - walk.grads["W"]).abs().max()) > 1e-3


def test_many_to_many_labels_are_accepted_as_a_list():
    config = task_defaults("parity", preset("lab"))
    model = build_model(config)
    tokens, labels = one_example("parity")
    walk = lesson.walkthrough(model, "parity", tokens, list(labels))
    assert (walk.cache.L_t > 0).all()  # a label, and so a loss, at every step


def test_a_small_W_makes_the_gradient_vanish_and_the_page_says_so(trained):
    flow = lesson.gradient_flow(trained.model, "lab", length=40, scale=0.25, seed=0)
    assert flow.with_tanh.shape == flow.w_alone.shape == (40,)
    assert flow.with_tanh[0] < flow.with_tanh[-1] * 1e-3  # h_1 gets almost nothing back
    assert flow.factor_with_tanh < 1 and "vanishing" in flow.describe()


def test_a_scaled_up_W_explodes_when_tanh_is_left_out(trained):
    small = lesson.gradient_flow(trained.model, "lab", length=30, scale=1.0, seed=0)
    big = lesson.gradient_flow(trained.model, "lab", length=30, scale=3.0, seed=0)
    assert big.spectral_radius == pytest.approx(3 * small.spectral_radius)
    assert big.spectral_radius > 1 and big.factor_w_alone > 1
    assert big.w_alone[0] > big.w_alone[-1]  # grows going back
    assert "exploding" in big.describe()
    # a large W saturates tanh: its slope 1 - h_t² drops and damps the growth
    assert big.mean_slope < small.mean_slope and big.factor_with_tanh < big.factor_w_alone


def test_the_description_explains_when_tanh_tames_an_exploding_W():
    flow = lesson.GradientFlow(
        scale=3.0, with_tanh=np.ones(3), w_alone=np.ones(3), spectral_radius=2.0, mean_slope=0.2,
        factor_with_tanh=0.8, factor_w_alone=1.9, gradient_norm=1.0,
    )  # fmt: skip
    said = flow.describe()
    assert "0.8 in the sheet's RNN (vanishing)" in said and "1.9 for W alone (exploding)" in said
    assert "saturates tanh" in said


def test_clipping_caps_the_gradient_norm(trained):
    flow = lesson.gradient_flow(trained.model, "lab", length=20, scale=1.0, seed=0)
    assert flow.clipped_norm(0) == flow.gradient_norm
    assert flow.clipped_norm(flow.gradient_norm / 2) == pytest.approx(flow.gradient_norm / 2)
    assert flow.clipped_norm(flow.gradient_norm * 2) == flow.gradient_norm


def test_one_small_gradient_step_lowers_the_loss_on_its_example(trained):
    walk = lesson.walkthrough(trained.model, "lab", *one_example("lab"))
    step = lesson.training_step(walk, lr=0.01)
    assert step.loss == pytest.approx(float(walk.cache.L))
    assert step.loss_after < step.loss
    assert set(step.grad_norms) == {"U", "W", "V", "b_h", "b_y"}
    assert np.isclose(step.last_y_hat.sum(), 1.0)


def test_a_step_on_a_learned_example_is_told_with_two_losses_that_read_differently():
    """The Backprop page says "the loss on this example goes from … to …". A learned example's loss
    is tiny and one step moves it in its fifth digit: four decimals said 0.0001 twice, or 0.0000."""
    from conftest import trained as trained_once

    model = trained_once(preset("lab")).model
    steps = [
        lesson.training_step(lesson.walkthrough(model, "lab", *one_example("lab", seed)), lr)
        for seed in range(5)
        for lr in (0.001, 0.5)  # the page's smallest and first learning rate
    ]
    assert any(f"{s.loss:.4f}" == f"{s.loss_after:.4f}" for s in steps)  # the case that read the same
    for step in steps:
        before, after = apart(step.loss, step.loss_after)
        assert before != after and float(after) > 0  # a loss is never shown as 0.0000
        assert float(before) == pytest.approx(step.loss, rel=1e-3)
        assert float(after) == pytest.approx(step.loss_after, rel=1e-3)
    assert apart(60, 60.3, "f", 0) == ("60.0", "60.3") and apart(2600.4, 64, "f", 0) == ("2,600", "64")


def test_cells_the_sheet_does_not_describe_are_refused(trained):
    lstm = build_model(replace(preset("lab"), cell="lstm"))
    with pytest.raises(ValueError, match="one-layer RNN with tanh"):
        lesson.walkthrough(lstm, "lab", *one_example("lab"))
