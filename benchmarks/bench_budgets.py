"""A run's cost estimated before it starts (rnn_core.cost) against what it really costs.

    python benchmarks/bench_budgets.py

Each run trains in a fresh process with one PyTorch thread (as a dashboard worker does), after
PyTorch's start-up has been paid. Memory is the growth of the process's peak resident memory
(VmHWM) over what it held before the run; time is wall clock, extrapolated from the first 20 s
for the longest runs. A ratio above 1 means the estimate is on the safe side.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from rnn_core import TrainConfig  # noqa: E402
from rnn_core.cost import estimate  # noqa: E402

RUNS = [
    {},
    {"task": "remember", "cell": "lstm", "seq_len": 30, "num_samples": 2000, "epochs": 3, "lr": 0.005},
    {"hidden_size": 64, "seq_len": 20, "num_samples": 2000, "epochs": 2},
    {"hidden_size": 1, "seq_len": 100, "num_samples": 1000, "epochs": 1, "batch_size": 1},
    {"cell": "lstm", "hidden_size": 128, "seq_len": 50, "num_samples": 2000, "epochs": 1, "batch_size": 256},
    {"hidden_size": 256, "seq_len": 100, "num_samples": 2000, "epochs": 1, "batch_size": 128},
    {"cell": "gru", "hidden_size": 128, "num_layers": 2, "seq_len": 60, "num_samples": 2000, "epochs": 1,
     "batch_size": 512},
    {"cell": "lstm", "hidden_size": 256, "num_layers": 2, "seq_len": 100, "num_samples": 600, "epochs": 1,
     "batch_size": 256},
]  # fmt: skip

MEASURE = """
import json, resource, sys, time
sys.path.insert(0, {root!r})
import rnn_core
from rnn_core import BatchEnd, TrainConfig
rnn_core.warm_up(num_threads=1)
config = TrainConfig(**json.loads({settings!r}))
before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
with open("/proc/self/statm") as statm:
    resident = int(statm.read().split()[1]) * 4096 / 1024
started, steps = time.perf_counter(), 0
for event in rnn_core.train(config, num_threads=1):
    steps += isinstance(event, BatchEnd)
    if time.perf_counter() - started > 20:
        break
seconds = time.perf_counter() - started
peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
print(json.dumps({{"grown_mb": (peak - max(before, resident)) * 1024 / 1e6, "seconds": seconds,
                  "steps": steps}}))
"""


def measure(settings: dict) -> dict:
    code = MEASURE.format(root=str(ROOT), settings=json.dumps(settings))
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    return json.loads(out.strip().splitlines()[-1])


def main() -> None:
    print("| run | memory: estimate / measured (MB) | time: estimate / measured (s) |")
    print("|---|---|---|")
    for settings in RUNS:
        config = TrainConfig(**settings)
        cost, real = estimate(config), measure(settings)
        batches = -(-config.num_train // min(config.batch_size, config.num_train)) * config.epochs
        seconds = real["seconds"] * batches / max(real["steps"], 1)  # the whole run
        name = ", ".join(f"{k}={v}" for k, v in settings.items()) or "lab (defaults)"
        print(
            f"| {name} | {cost.memory_mb:.0f} / {real['grown_mb']:.0f} = "
            f"{cost.memory_mb / max(real['grown_mb'], 1):.2f} | {cost.seconds:.2f} / {seconds:.2f} = "
            f"{cost.seconds / seconds:.2f} |"
        )


if __name__ == "__main__":
    main()
