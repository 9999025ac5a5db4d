"""The training engine: the lab sheet's loop, reporting what happens as typed events.

    for each epoch:
        for each batch:  forward pass -> loss -> backpropagation -> weight update
        track loss and accuracy, evaluate on the test set

`train(config)` yields `rnn_core.events` as it goes, so a command line, a notebook and the
dashboard all watch the same run. Stop it with `break` or by setting the `stop` event (checked
before every batch). A loss or gradient that stops being finite ends the run as "diverged" before
its update, so the weights stay finite (the epoch's first weights, if an update overflowed one).

Everything random (data, starting weights, batch order) comes from generators seeded by the
config, never from global state: the same config gives the same run, bit for bit, on a CPU, even
with other runs training in other threads.
"""

from __future__ import annotations

import math
import time
from collections.abc import Iterator
from dataclasses import dataclass
from threading import Event as StopFlag

import numpy as np
import torch

from .config import TrainConfig
from .events import BatchEnd, EpochEnd, Event, RunFinished, RunStarted
from .model import SequenceClassifier, build_model, sequence_loss
from .probes import snapshot
from .tasks import get_task
from .trained import TrainedModel
from .words import counted

PROBE_SIZE = 16  # sequences in the fixed probe set
MAX_SNAPSHOTS = 20  # probe snapshots per run after epoch 0, however many epochs
EVAL_BATCH = 512  # sequences per evaluation batch (rnn_core.cost counts the same)
TRAIN_THREADS = 1  # PyTorch threads a run trains with: the same numbers on every machine (see train)


def make_data(config: TrainConfig) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor, torch.Tensor]:
    """Train tokens, train labels, test tokens, test labels, generated from the config's seed.

    No test sequence appears in the training set (Task.train_test): the test measures learning.
    """
    task = get_task(config.task)
    train, test = task.train_test(config.num_samples, config.num_test, config.seq_len, config.seed)
    as_tensors = torch.from_numpy
    return (
        as_tensors(train.tokens),
        as_tensors(train.labels),
        as_tensors(test.tokens),
        as_tensors(test.labels),
    )


def make_optimizer(config: TrainConfig, model: torch.nn.Module) -> torch.optim.Optimizer:
    # foreach: one vectorised update for all weights; same numbers as the per-weight loop, faster
    if config.optimizer == "sgd":
        return torch.optim.SGD(model.parameters(), lr=config.lr, foreach=True)
    return torch.optim.Adam(model.parameters(), lr=config.lr, foreach=True)


@dataclass
class Tally:
    """Running loss and accuracy over an epoch's batches, as the lab sheet tracks them."""

    loss_sum: float = 0.0
    sequences: int = 0
    correct: torch.Tensor | int = 0  # summed as a tensor, read once per epoch
    scored: int = 0  # predictions scored: one per sequence, or one per step

    def add(self, model: SequenceClassifier, loss: float, logits: torch.Tensor, labels: torch.Tensor) -> None:
        predicted = model.scored_logits(logits).argmax(dim=-1)  # (B,) or (B, T)
        self.loss_sum += loss * len(labels)
        self.sequences += len(labels)
        self.correct = self.correct + (predicted == labels).sum()
        self.scored += labels.numel()

    @property
    def loss(self) -> float:
        return self.loss_sum / self.sequences

    @property
    def accuracy(self) -> float:
        return int(self.correct) / self.scored


@torch.inference_mode()
def evaluate(
    model: SequenceClassifier, tokens: torch.Tensor, labels: torch.Tensor, num_classes: int
) -> tuple[float, float, np.ndarray]:
    """Loss, accuracy and confusion matrix (C, C) of `model` on a data set, without training."""
    was_training = model.training
    model.eval()
    loss_sum, confusion = 0.0, torch.zeros(num_classes, num_classes, dtype=torch.long)
    for start in range(0, len(tokens), EVAL_BATCH):
        batch_tokens, batch_labels = tokens[start : start + EVAL_BATCH], labels[start : start + EVAL_BATCH]
        logits = model(batch_tokens).logits  # (B, T, C)
        loss_sum += float(sequence_loss(model, logits, batch_labels)) * len(batch_tokens)
        predicted = model.scored_logits(logits).argmax(dim=-1)
        index = batch_labels.reshape(-1) * num_classes + predicted.reshape(-1)
        confusion += torch.bincount(index, minlength=num_classes**2).reshape(num_classes, num_classes)
    model.train(was_training)
    accuracy = float(confusion.diagonal().sum()) / max(int(confusion.sum()), 1)
    return loss_sum / max(len(tokens), 1), accuracy, confusion.numpy()


def snapshot_epochs(epochs: int) -> set[int]:
    """Epochs after which the probe set is recorded: at most MAX_SNAPSHOTS, always the last."""
    every = math.ceil(epochs / MAX_SNAPSHOTS)
    return {e for e in range(1, epochs + 1) if e % every == 0} | {epochs}


def divergence_reason(loss: float, grad_norm: float, config: TrainConfig) -> str | None:
    """Why training must stop here, for a student; None while the loss and gradient are finite."""
    if math.isfinite(loss) and math.isfinite(grad_norm):
        return None
    what, value = ("loss", loss) if not math.isfinite(loss) else ("gradient", grad_norm)
    became = "NaN" if math.isnan(value) else "infinite"
    hint = f"the learning rate {config.lr:g} is probably too high: try a tenth of it"
    if config.clip_grad == 0:
        hint += ", or turn on gradient clipping"
    return f"The {what} became {became}, so training stopped: {hint}."


def kept_weights(epoch: int, batch: int, batches_per_epoch: int, restored: bool) -> str:
    """Which weights a diverged run keeps, for a student who sees its test accuracy fall below the
    last epoch's: they are not that epoch's end, unless no update of this epoch was kept."""
    if restored or batch == 1:
        kept = f"those from the start of epoch {epoch}"
    else:
        kept = f"those of the last finite update (epoch {epoch}, batch {batch - 1} of {batches_per_epoch})"
    return f"The weights kept are {kept}; the test accuracy is measured with them."


def gradient_norm(model: torch.nn.Module) -> torch.Tensor:
    """‖∂L/∂θ‖: the norm of every weight's gradient taken together, as clipping measures it."""
    return torch.cat([p.grad.reshape(-1) for p in model.parameters() if p.grad is not None]).norm()


def shuffled_batches(size: int, batch_size: int, order: torch.Generator) -> list[torch.Tensor]:
    """One epoch's batches: the indices 0..size-1 in a new random order, cut into batch_size pieces."""
    return list(torch.randperm(size, generator=order).split(batch_size))


def train(
    config: TrainConfig, stop: StopFlag | None = None, num_threads: int = TRAIN_THREADS
) -> Iterator[Event]:
    """Train the network `config` describes, yielding events; see rnn_core.events for the order.

    `num_threads` sets PyTorch's intra-op threads in the thread that trains (and keeps them set).
    RNN Lab trains with one: several threads split some sums differently (an LSTM's, at these
    sizes), so a run's last digits would depend on the machine's cores, and the dashboard, the
    command line and the notebook export would not print the same numbers. One is also faster for
    networks this small. OpenMP keeps the setting per thread: a server training in several threads
    gets it in each.
    """
    torch.set_num_threads(num_threads)
    started = time.perf_counter()
    train_x, train_y, test_x, test_y = make_data(config)
    model = build_model(config)
    optimizer = make_optimizer(config, model)
    order = torch.Generator().manual_seed(config.seed + 1)  # the batch order, epoch after epoch
    num_classes = get_task(config.task).num_classes
    probe_x, probe_y = test_x[:PROBE_SIZE], test_y[:PROBE_SIZE]
    batches_per_epoch = math.ceil(len(train_x) / config.batch_size)
    yield RunStarted(config, batches_per_epoch, probe_x.numpy(), probe_y.numpy())
    yield snapshot(model, 0, probe_x, probe_y)

    result = TrainedModel(model=model, config=config)  # its history is the run's EpochEnd events
    status, reason = "completed", f"Trained for {counted(config.epochs, 'epoch')}."
    probe_at, step = snapshot_epochs(config.epochs), 0
    for epoch in range(1, config.epochs + 1):
        tally = Tally()
        # the weights at the start of this epoch: a finite gradient can still overflow a weight,
        # and then the run goes back to these
        epoch_start = {k: v.clone() for k, v in model.state_dict().items()}
        for batch, index in enumerate(shuffled_batches(len(train_x), config.batch_size, order), start=1):
            if stop is not None and stop.is_set():
                status, reason = "stopped", f"Stopped by request during epoch {epoch}."
                break
            tokens, labels = train_x[index], train_y[index]
            logits = model(tokens).logits  # forward pass, (B, T, C)
            loss = sequence_loss(model, logits, labels)  # L = Σ_t L_t, averaged over the batch
            optimizer.zero_grad(set_to_none=True)
            loss.backward()  # backpropagation through time: ∂L/∂θ for every weight θ
            grad_norm = gradient_norm(model)
            loss_value, norm_value = loss.item(), grad_norm.item()
            if (why := divergence_reason(loss_value, norm_value, config)) is not None:
                restored = not all(torch.isfinite(p).all() for p in model.parameters())
                if restored:
                    model.load_state_dict(epoch_start)
                kept = kept_weights(epoch, batch, batches_per_epoch, restored)
                status, reason = "diverged", f"{why} {kept}"
                break
            if config.clip_grad > 0:  # rescale ∂L/∂θ to norm clip_grad if it is longer
                torch.nn.utils.clip_grads_with_norm_(model.parameters(), config.clip_grad, grad_norm)
            optimizer.step()  # the weight update
            step += 1
            tally.add(model, loss_value, logits.detach(), labels)
            yield BatchEnd(epoch, batch, step, loss_value, norm_value)
        if status != "completed":
            break
        test_loss, test_acc, confusion = evaluate(model, test_x, test_y, num_classes)
        train_loss_end, train_acc_end, _ = evaluate(model, train_x, train_y, num_classes)
        result.history.append(
            EpochEnd(epoch, config.epochs, tally.loss, tally.accuracy, test_loss, test_acc,
                     time.perf_counter() - started, train_loss_end, train_acc_end)
        )  # fmt: skip
        yield result.history[-1]
        if epoch in probe_at:
            yield snapshot(model, epoch, probe_x, probe_y)
    model.eval()
    if status != "completed" or not result.history:  # weights moved since the last evaluation
        test_loss, test_acc, confusion = evaluate(model, test_x, test_y, num_classes)
    result.status, result.test_accuracy = status, test_acc
    elapsed = time.perf_counter() - started
    yield RunFinished(status, reason, len(result.history), test_loss, test_acc, confusion, elapsed, result)


def warm_up(num_threads: int | None = None) -> None:
    """Pay PyTorch's one-off start-up costs now, not in a student's first run.

    The first optimizer a process builds makes PyTorch import torch._dynamo (about 1 s); a tiny
    run also loads every kernel the engine uses. `num_threads` sets PyTorch's intra-op threads for
    the whole process (a server running many small jobs at once does best with 1 each).
    """
    if num_threads is not None:
        torch.set_num_threads(num_threads)
    for _ in train(TrainConfig(num_samples=20, epochs=1, batch_size=1024)):
        pass


def limit_threads(num_threads: int) -> None:
    """Use at most `num_threads` PyTorch threads in this process (for example 1 on a shared server)."""
    torch.set_num_threads(num_threads)


def fit(config: TrainConfig, stop: StopFlag | None = None) -> TrainedModel:
    """Train to the end and return the trained model (for notebooks and scripts)."""
    for event in train(config, stop):
        if isinstance(event, RunFinished):
            return event.model
    raise AssertionError("train() always ends with RunFinished")


__all__ = ["evaluate", "fit", "limit_threads", "make_data", "train", "warm_up"]
