"""How much the engine's bookkeeping costs: `train(config)` against a bare PyTorch loop.

Both train the same model from the same starting weights on the same data in the same batch order
with the same optimizer. The bare loop does only forward, loss, backward and step; the engine adds
gradient norms, running accuracy, a test-set evaluation per epoch, probe snapshots and events.
The ratio engine / bare is what counts (the goal: at most 1.15 on a run of several seconds).

    python benchmarks/bench_engine.py            # prints a Markdown table row
"""

from __future__ import annotations

import sys
import time
from dataclasses import replace
from pathlib import Path

import torch

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from rnn_core import TrainConfig, build_model, train
from rnn_core.probes import sequence_loss
from rnn_core.train import make_data, make_optimizer

CONFIG = replace(TrainConfig(), hidden_size=64, num_samples=8000, epochs=5, seq_len=20)


def bare_loop(config: TrainConfig) -> float:
    """The lab sheet's loop with nothing else: seconds taken."""
    started = time.perf_counter()
    train_x, train_y, _, _ = make_data(config)
    model = build_model(config)
    optimizer = make_optimizer(config, model)
    order = torch.Generator().manual_seed(config.seed + 1)
    for _ in range(config.epochs):
        permutation = torch.randperm(len(train_x), generator=order)
        for start in range(0, len(train_x), config.batch_size):
            index = permutation[start : start + config.batch_size]
            loss = sequence_loss(model, model(train_x[index]).logits, train_y[index])
            optimizer.zero_grad(set_to_none=True)
            loss.backward()
            optimizer.step()
    return time.perf_counter() - started


def engine(config: TrainConfig) -> float:
    started = time.perf_counter()
    for _ in train(config):
        pass
    return time.perf_counter() - started


def main(repeats: int = 7) -> None:
    torch.set_num_threads(1)
    engine(replace(CONFIG, epochs=1))  # warm up both paths once
    bare_loop(replace(CONFIG, epochs=1))
    bare, full = [], []
    for _ in range(repeats):  # alternate so drift in machine speed hits both alike
        bare.append(bare_loop(CONFIG))
        full.append(engine(CONFIG))
    b, e = min(bare), min(full)  # the least disturbed run of each: noise only ever adds time
    print("| run | bare loop (s) | engine (s) | engine / bare |")
    print("|---|---|---|---|")
    print(
        f"| H={CONFIG.hidden_size}, T={CONFIG.seq_len}, {CONFIG.num_train} train seqs, "
        f"{CONFIG.epochs} epochs, batch {CONFIG.batch_size} | {b:.2f} | {e:.2f} | {e / b:.3f} |"
    )


if __name__ == "__main__":
    main()
