"""What the exported notebook says between its code cells: the lab sheet's story, with this run's
network written out in the sheet's notation (U x_t, W h_{t-1}, b_h; V, b_y).

The equations are the run's own (rnn_core.equations: the sheet's tanh RNN, relu, or an LSTM's or
GRU's gates in the order PyTorch stacks them), and the weights' shapes are read from the model the
run builds. rnn_core.notebook puts the cells together.
"""

from __future__ import annotations

from . import tasks
from .config import TrainConfig
from .equations import BIASES, SHEET_RNN, SYMBOLS, aligned, recurrence
from .model import GATE_ORDER, build_model

CELL_NAMES = {"rnn": "a vanilla RNN", "lstm": "an LSTM", "gru": "a GRU"}


def cell_equations(config: TrainConfig) -> str:
    """The recurrent layer's step for this run's cell, as Markdown with LaTeX."""
    lines = recurrence(config.cell, config.nonlinearity)
    if config.cell == "rnn" and config.nonlinearity == "tanh":
        return f"The recurrent layer reads one $x_t$ per step, as on the lab sheet:\n\n$${SHEET_RNN}$$"
    if config.cell == "rnn":
        return (
            "The recurrent layer reads one $x_t$ per step. This run uses relu, $\\max(0, \\cdot)$, where "
            f"the lab sheet has tanh (`NONLINEARITY`):\n\n$${lines[0][0]}$$"
        )
    memory = "a second memory, the cell state $c_t$, and gates" if config.cell == "lstm" else "gates"
    return (
        f"The lab sheet's RNN computes ${SHEET_RNN}$ at every step. This run's {config.cell.upper()} has "
        f"{memory} that decide what to keep ({SYMBOLS}):\n\n$$\n{aligned(lines)}\n$$\n\n{BIASES[config.cell]}"
    )


def weight_names(config: TrainConfig) -> str:
    """Where PyTorch keeps the sheet's weights in this run's model, with their shapes."""
    model = build_model(config)
    shape = {name: " × ".join(map(str, p.shape)) for name, p in model.named_parameters()}
    output = f"`fc.weight` ($V$, {shape['fc.weight']}) and `fc.bias` ($b_y$)"
    if config.cell == "rnn":
        text = (
            f"PyTorch names the sheet's weights `weight_ih_l0` ($U$, {shape['rnn.weight_ih_l0']}), "
            f"`weight_hh_l0` ($W$, {shape['rnn.weight_hh_l0']}), `bias_ih_l0 + bias_hh_l0` ($b_h$), {output}."
        )
    else:
        gates = GATE_ORDER[config.cell]
        u = ", ".join(f"$U_{g}$" for g in gates)
        w = ", ".join(f"$W_{g}$" for g in gates)
        text = (
            f"PyTorch stacks the gates' weights in the order {', '.join(gates)}: `weight_ih_l0` holds {u} "
            f"({shape['rnn.weight_ih_l0']}), `weight_hh_l0` holds {w} ({shape['rnn.weight_hh_l0']}), "
            f"`bias_ih_l0` and `bias_hh_l0` hold the biases; the output layer's weights are {output}."
        )
    if config.num_layers > 1:
        layers = ", ".join(f"`_l{k}`" for k in range(1, config.num_layers))
        text += (
            f"\n\nWith {config.num_layers} layers, each layer above the first reads the $h_t$ of the layer "
            f"below as its $x_t$ (its weights end in {layers}), and the output layer reads the top "
            "layer's $h_t$."
        )
    return text


def network_title(config: TrainConfig) -> str:
    return f"The network: Embedding → {config.cell.upper()} → fully connected"


def network(config: TrainConfig) -> str:
    """The run's network in the sheet's notation, as Markdown with LaTeX: its step, its output layer
    and where PyTorch keeps its weights (the notebook's section 2 and the lab report's Network)."""
    return f"""Each token id becomes a vector $x_t$ (the embedding). {cell_equations(config)}

The output layer turns each hidden state into class probabilities:

$$\\hat y_t = \\mathrm{{softmax}}(V h_t + b_y)$$

{weight_names(config)}"""


def markdown(config: TrainConfig) -> dict[str, str]:
    """The notebook's Markdown cells by name, in order."""
    task = tasks.get_task(config.task)
    loss = (
        "Every step has a label, so the loss adds up one term per step, $L = \\sum_t L_t$."
        if task.many_to_many
        else "Only the last step has a label, so $L = L_T$, the cross-entropy of $\\hat y_T$."
    )
    gated = config.cell != "rnn"
    gradients = f" (for this {config.cell.upper()}, every gate's $U$, $W$ and $b$)" if gated else ""
    return {
        "title": f"""# LAB-9: Build a Recurrent Neural Network — {task.title}

This notebook trains {CELL_NAMES[config.cell]} on RNN Lab's **{task.name}** task, exactly as RNN Lab ran it:
run the cells from top to bottom and it prints the same lines, to the last digit, as RNN Lab and as

    {config.command_line()}

It needs only `torch`, `numpy` and `matplotlib`. Everything random (the data, the first weights, the
batch order) comes from generators seeded with `SEED`, so every run of it prints the same numbers.
Every setting of RNN Lab is reproduced here.""",
        "data": f"""## 1. The data

{task.explanation}

The task's generator (the same code RNN Lab uses), then the split into a training and a test set.""",
        "model": f"## 2. {network_title(config)}\n\n{network(config)}",
        "loss": f"""## 3. Loss and optimizer

CrossEntropyLoss compares $\\hat y_t$ with the true label $y_t$. {loss}
The optimizer ({config.optimizer}) moves every weight against its gradient.""",
        "train": f"""## 4. Training

For each epoch ({config.epochs} in all), for each batch: **forward pass → loss → backpropagation →
weight update**, keeping a running tally of loss and accuracy. Backpropagation through time computes
$\\partial L/\\partial U, \\partial L/\\partial W, \\partial L/\\partial V, \\partial L/\\partial b_h,
\\partial L/\\partial b_y${gradients}
by going back through every step. After each epoch the test set is scored.""",
        "plots": "## 5. Loss and accuracy curves",
        "test": "## 6. Test accuracy\n\nThe share of test sequences (never seen in training) it gets right.",
        "try": "## 7. Try a sequence of your own\n\nChange the text and run the cell again.",
    }
