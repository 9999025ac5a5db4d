"""A run's recurrent layer in the lab sheet's notation, as LaTeX: one line per equation.

The sheet's RNN is h_t = tanh(U x_t + W h_{t-1} + b_h). A relu run puts relu where tanh is; an LSTM or
a GRU has gates, each with its own U, W and b, written here in the order PyTorch stacks them in one
weight matrix (model.GATE_ORDER; tests/test_model.py follows these equations by hand through
nn.LSTM's and nn.GRU's weights and gets their h_t). The exported notebook and the Backprop page
show them.
"""

from __future__ import annotations

from .model import GATE_ORDER

SHEET_RNN = r"h_t = \tanh(U x_t + W h_{t-1} + b_h)"

# Each gate's equation and what it does, keyed by its letter in GATE_ORDER. The words go into LaTeX's
# \text{}, so they hold no symbols.
GATES = {
    "lstm": {
        "i": (r"i_t = \sigma(U_i x_t + W_i h_{t-1} + b_i)", "the input gate, how much new content to write"),
        "f": (
            r"f_t = \sigma(U_f x_t + W_f h_{t-1} + b_f)",
            "the forget gate, how much of the old cell state to keep",
        ),
        "g": (r"g_t = \tanh(U_g x_t + W_g h_{t-1} + b_g)", "the new content"),
        "o": (
            r"o_t = \sigma(U_o x_t + W_o h_{t-1} + b_o)",
            "the output gate, how much of the cell state to show",
        ),
    },
    "gru": {
        "r": (
            r"r_t = \sigma(U_r x_t + W_r h_{t-1} + b_r)",
            "the reset gate, how much of the old state to propose from",
        ),
        "z": (
            r"z_t = \sigma(U_z x_t + W_z h_{t-1} + b_z)",
            "the update gate, how much of the old state to keep",
        ),
        "n": (r"n_t = \tanh(U_n x_t + b_{in} + r_t \odot (W_n h_{t-1} + b_{hn}))", "the proposed new state"),
    },
}
NEW_STATE = {
    "lstm": (
        (r"c_t = f_t \odot c_{t-1} + i_t \odot g_t", "the cell state, the old kept and the new written"),
        (r"h_t = o_t \odot \tanh(c_t)", "the hidden state, the cell state squashed and shown"),
    ),
    "gru": ((r"h_t = (1 - z_t) \odot n_t + z_t \odot h_{t-1}", "the hidden state, old and proposed mixed"),),
}
BIASES = {  # PyTorch keeps two bias vectors per layer, bias_ih and bias_hh; how the lines above use them
    "lstm": "Each gate's $b$ is the sum of PyTorch's two biases, `bias_ih` and `bias_hh`.",
    "gru": (
        "Each gate's $b$ is the sum of PyTorch's two biases, `bias_ih` and `bias_hh`, except in $n_t$: there "
        "they stay apart as $b_{in}$ and $b_{hn}$, because $r_t$ scales only the second."
    ),
}
SYMBOLS = r"$\sigma$ is the sigmoid, between 0 and 1, and $\odot$ multiplies element by element"


def recurrence(cell: str, nonlinearity: str = "tanh") -> list[tuple[str, str]]:
    """One step of the recurrent layer: (equation in LaTeX, what it is in words; "" for the sheet's
    own line), a gated cell's gates in the order PyTorch stacks them."""
    if cell == "rnn":
        if nonlinearity == "tanh":
            return [(SHEET_RNN, "")]
        line = SHEET_RNN.replace(r"\tanh", rf"\mathrm{{{nonlinearity}}}")
        return [(line, f"{nonlinearity} where the sheet has tanh")]
    return [GATES[cell][gate] for gate in GATE_ORDER[cell]] + list(NEW_STATE[cell])


def aligned(lines: list[tuple[str, str]]) -> str:
    """The lines as one LaTeX aligned block, each equation's words beside it."""
    rows = [eq.replace(" = ", " &= ", 1) + (rf" && \text{{{what}}}" if what else "") for eq, what in lines]
    return "\\begin{aligned}\n" + " \\\\\n".join(rows) + "\n\\end{aligned}"
