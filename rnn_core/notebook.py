"""Any run as a Jupyter notebook of plain PyTorch that prints the same numbers as RNN Lab.

    python -m rnn_core notebook --preset lab out.ipynb     # or: notebook_bytes(config)

The notebook is the lab sheet's program with this run's settings filled in: settings, data, model,
loss and optimizer, the training loop printing `Epoch 1/10 - Loss: ... Accuracy: ...%`, the plots,
the test accuracy and a sequence to try. It needs only torch, numpy and matplotlib (never rnn_core).

It reproduces the engine step for step: the data cell is the task's own generator, copied from
rnn_core/sequences.py's source (so it cannot drift), and the rest is plain code that draws the same
seeded numbers in the same order as rnn_core.train (the data's NumPy generator, the weights' torch
generator and its draw order in `SequenceClassifier.init_weights`, the batch order from seed + 1,
the foreach optimizer, evaluation in batches of EVAL_BATCH). tests/test_notebook.py executes
notebooks and compares their printed lines with the engine's (the lab run's also with the command
line's).
"""

from __future__ import annotations

import inspect
from typing import Any

import nbformat
from nbformat import v4

from . import sequences, tasks, words
from .config import FIELDS, TrainConfig
from .model import GATE_BIAS, GATE_ORDER, KEEP_GATE
from .notebook_text import markdown
from .train import EVAL_BATCH, TRAIN_THREADS

# What each task's generator needs, in order: constants (written out as their values) and functions
# (their source from rnn_core/sequences.py). A task missing here has no notebook form: a test says so.
DATA_SOURCES: dict[str, tuple[str, ...]] = {
    "lab": ("digit_sum",),
    "remember": ("remember_first",),
    "pattern": ("PATTERN", "contains", "pattern"),
    "sentiment": (
        "SUBJECTS", "VERBS", "NEGATIONS", "INTENSIFIERS", "POSITIVE", "NEGATIVE", "LIKE_VERBS", "LIKE_BASE",
        "SENTIMENT_VOCAB", "clause", "sentence", "sentiment",
    ),
    "parity": ("running_parity",),
}  # fmt: skip

SETTING_NAMES = {name: name.upper() for name in FIELDS}  # hidden_size -> HIDDEN_SIZE in the notebook
CELL_CLASSES = {"rnn": "nn.RNN", "lstm": "nn.LSTM", "gru": "nn.GRU"}


def data_source(task_name: str) -> str:
    """The task's generator as notebook code: its constants and functions, ending with
    `generate = <the task's generator>`."""
    parts = []
    for name in DATA_SOURCES[task_name]:
        value = getattr(sequences, name)
        parts.append(inspect.getsource(value).rstrip() if callable(value) else f"{name} = {value!r}")
    generator = tasks.TASKS[task_name]._generate.__name__
    return "\n\n\n".join(parts) + f"\n\n\ngenerate = {generator}  # this task's generator"


def first_sentence(text: str) -> str:
    return text.split(". ")[0].rstrip(".") + "."


def settings_source(config: TrainConfig) -> str:
    lines = ["import math", "import re", "", "import matplotlib.pyplot as plt", "import numpy as np",
             "import torch", "from torch import nn", "",
             f"torch.set_num_threads({TRAIN_THREADS})  # as RNN Lab: more threads add some sums up in",
             "# another order, and the last digits would depend on the computer", "",
             "# This run's settings, each with what it means"]  # fmt: skip
    for name, spec in FIELDS.items():
        lines.append(f"{SETTING_NAMES[name]} = {getattr(config, name)!r}  # {first_sentence(spec.help)}")
    return "\n".join(lines)


def split_source(config: TrainConfig) -> str:
    task = tasks.get_task(config.task)
    return f"""from collections import namedtuple

Dataset = namedtuple("Dataset", ["tokens", "labels"])  # tokens (N, T) int64; labels (N,) or (N, T)
VOCAB = {task.vocab!r}  # token id i is VOCAB[i]
CLASSES = {task.class_names!r}


{data_source(config.task)}"""


SPLIT = '''def train_test(num_samples, num_test, seq_len, seed):
    """The first num_test sequences are the test set and the rest the training set; a test sequence
    that is also in the training set is replaced by a fresh one, so the test measures learning."""
    rng = np.random.default_rng(seed)
    data = generate(num_samples, seq_len, rng)
    train = Dataset(data.tokens[num_test:], data.labels[num_test:])
    seen = {row.tobytes() for row in train.tokens}

    def unseen(tokens, labels):
        keep = [i for i, row in enumerate(tokens) if row.tobytes() not in seen]
        return tokens[keep], labels[keep]

    test_tokens, test_labels = unseen(data.tokens[:num_test], data.labels[:num_test])
    while len(test_tokens) < num_test:
        missing = num_test - len(test_tokens)
        more = generate(max(2 * missing, 16), seq_len, rng)
        fresh_tokens, fresh_labels = unseen(more.tokens, more.labels)
        test_tokens = np.concatenate([test_tokens, fresh_tokens[:missing]])
        test_labels = np.concatenate([test_labels, fresh_labels[:missing]])
    return train, Dataset(test_tokens, test_labels)


NUM_TEST = round(NUM_SAMPLES * TEST_FRACTION)
train, test = train_test(NUM_SAMPLES, NUM_TEST, SEQ_LEN, SEED)
train_x, train_y = torch.from_numpy(train.tokens), torch.from_numpy(train.labels)
test_x, test_y = torch.from_numpy(test.tokens), torch.from_numpy(test.labels)
print(f"{len(train_x)} training and {len(test_x)} test sequences of {SEQ_LEN} tokens")
print("first training sequence:", [VOCAB[i] for i in train.tokens[0]], "label:", train.labels[0])'''


def model_source(config: TrainConfig) -> str:
    extra = ", nonlinearity=NONLINEARITY" if config.cell == "rnn" else ""
    h_t = (
        f"h_t = {config.nonlinearity}(U x_t + W h_(t-1) + b_h)"
        if config.cell == "rnn"
        else f"h_t from the {config.cell} cell's gates"
    )
    weights = "U, W and b_h" if config.cell == "rnn" else "each gate's U, W and b"
    gate = ""
    if config.cell in KEEP_GATE:
        k, half = KEEP_GATE[config.cell], GATE_BIAS / 2
        keep, order = GATE_ORDER[config.cell][k], ", ".join(GATE_ORDER[config.cell])
        gate = f"""
        # The gate that keeps the memory, {keep}_t (section 2), starts open, so the cell starts out
        # remembering: bias {GATE_BIAS:g}, split over PyTorch's two bias vectors (gates stacked {order}).
        H = HIDDEN_SIZE
        for layer in range(NUM_LAYERS):
            getattr(self.rnn, f"bias_ih_l{{layer}}")[{k} * H : {k + 1} * H] = {half!r}
            getattr(self.rnn, f"bias_hh_l{{layer}}")[{k} * H : {k + 1} * H] = {half!r}"""
    return f'''class SequenceClassifier(nn.Module):
    """Embedding -> {config.cell.upper()} -> Linear, with the output layer applied at every time step."""

    def __init__(self):
        super().__init__()
        self.embedding = nn.Embedding(len(VOCAB), EMBED_SIZE)  # token id -> x_t
        # {weights} of every layer:
        self.rnn = {CELL_CLASSES[config.cell]}(
            EMBED_SIZE, HIDDEN_SIZE, num_layers=NUM_LAYERS{extra}, batch_first=True
        )
        self.fc = nn.Linear(HIDDEN_SIZE, len(CLASSES))  # V and b_y

    def forward(self, tokens):  # tokens: (B, T) token ids
        x = self.embedding(tokens)  # (B, T, E)
        h, _ = self.rnn(x)  # (B, T, H): {h_t} at every step
        return self.fc(h)  # (B, T, C): the scores V h_t + b_y; softmax turns them into ŷ_t

    @torch.no_grad()
    def init_weights(self, generator):
        """PyTorch's default initialisation, drawn from a seeded generator: the same every run."""
        self.embedding.weight.normal_(0.0, 1.0, generator=generator)
        bound = 1.0 / math.sqrt(HIDDEN_SIZE)
        for weight in self.rnn.parameters():  # {weights} (PyTorch keeps each bias as two vectors)
            weight.uniform_(-bound, bound, generator=generator){gate}
        self.fc.weight.uniform_(-bound, bound, generator=generator)
        self.fc.bias.uniform_(-bound, bound, generator=generator)


model = SequenceClassifier()
model.init_weights(torch.Generator().manual_seed(SEED))
print(model)'''


def loss_source(config: TrainConfig) -> str:
    many = tasks.get_task(config.task).many_to_many
    scores = (
        "return logits  # (B, T, C): a label at every step"
        if many
        else "return logits[:, -1]  # (B, C): one label per sequence, read after the last step"
    )
    optimizer = {"adam": "Adam", "sgd": "SGD"}[config.optimizer]
    return f'''def scores(logits):
    """The scores the loss looks at."""
    {scores}


def sequence_loss(logits, labels):
    """L = Σ_t L_t of each sequence (cross-entropy of ŷ_t against y_t), averaged over the batch."""
    scored = scores(logits)
    total = nn.functional.cross_entropy(
        scored.reshape(-1, scored.shape[-1]), labels.reshape(-1), reduction="sum"
    )
    return total / labels.shape[0]


# foreach=True: one vectorised update of all the weights (RNN Lab's choice; the same arithmetic)
optimizer = torch.optim.{optimizer}(model.parameters(), lr=LR, foreach=True)'''


TRAINING = '''@torch.no_grad()
def evaluate(x, y):
    """Loss and accuracy on a data set, without training (in batches of {eval_batch}, as RNN Lab scores)."""
    loss_sum, correct = 0.0, 0
    for start in range(0, len(x), {eval_batch}):
        logits = model(x[start : start + {eval_batch}])  # (B, T, C)
        labels = y[start : start + {eval_batch}]
        loss_sum += float(sequence_loss(logits, labels)) * len(labels)
        correct += int((scores(logits).argmax(dim=-1) == labels).sum())
    return loss_sum / len(x), correct / y.numel()


order = torch.Generator().manual_seed(SEED + 1)  # the batch order, seeded too
history = {{"train_loss": [], "train_accuracy": [], "test_loss": [], "test_accuracy": []}}
diverged = False
batches = math.ceil(len(train_x) / BATCH_SIZE)  # per epoch
for epoch in range(1, EPOCHS + 1):
    permutation = torch.randperm(len(train_x), generator=order)
    start_weights = {{k: v.clone() for k, v in model.state_dict().items()}}  # kept in case training blows up
    loss_sum, correct, scored = 0.0, 0, 0
    for batch, start in enumerate(range(0, len(train_x), BATCH_SIZE), start=1):
        index = permutation[start : start + BATCH_SIZE]
        tokens, labels = train_x[index], train_y[index]
        logits = model(tokens)  # forward pass, (B, T, C)
        loss = sequence_loss(logits, labels)  # loss L
        optimizer.zero_grad(set_to_none=True)
        loss.backward()  # backpropagation through time: ∂L/∂U, ∂L/∂W, ∂L/∂V, ∂L/∂b_h, ∂L/∂b_y
        grads = [p for p in model.parameters() if p.grad is not None]
        grad_norm = torch.cat([p.grad.reshape(-1) for p in grads]).norm()  # ‖∂L/∂θ‖ over all weights
        if not (math.isfinite(loss.item()) and math.isfinite(grad_norm.item())):
            diverged = True  # the loss or the gradient is no longer a number: stop before updating
            break
        if CLIP_GRAD > 0:  # gradient clipping: scale the gradient down to norm CLIP_GRAD
            torch.nn.utils.clip_grads_with_norm_(grads, CLIP_GRAD, grad_norm)
        optimizer.step()  # weight update
        # the lab sheet's running tally: each batch scored before its update
        loss_sum += loss.item() * len(labels)
        correct += int((scores(logits).argmax(dim=-1) == labels).sum())
        scored += labels.numel()
    if diverged:
        print(f"Training diverged in epoch {{epoch}}: the learning rate is probably too high.")
        restored = not all(torch.isfinite(p).all() for p in model.parameters())
        if restored:
            model.load_state_dict(start_weights)  # back to the last weights that were all numbers
        if restored or batch == 1:  # no update of this epoch is kept
            kept = f"those from the start of epoch {{epoch}}"
        else:
            kept = f"those of the last finite update (epoch {{epoch}}, batch {{batch - 1}} of {{batches}})"
        print(f"The weights kept are {{kept}}; the test accuracy is theirs.")
        break
    train_loss, train_accuracy = loss_sum / len(train_x), correct / scored
    test_loss, test_accuracy = evaluate(test_x, test_y)
    for name, value in zip(history, (train_loss, train_accuracy, test_loss, test_accuracy)):
        history[name].append(value)
    print(f"Epoch {{epoch}}/{{EPOCHS}} - Loss: {{train_loss:.4f}} Accuracy: {{100 * train_accuracy:.2f}}%")'''


PLOTS = """epochs = range(1, len(history["train_loss"]) + 1)
figure, (left, right) = plt.subplots(1, 2, figsize=(11, 4))
left.plot(epochs, history["train_loss"], "o-", label="train")
left.plot(epochs, history["test_loss"], "o-", label="test")
left.set(title="Loss", xlabel="Epoch", ylabel="Loss L")
right.plot(epochs, [100 * a for a in history["train_accuracy"]], "o-", label="train")
right.plot(epochs, [100 * a for a in history["test_accuracy"]], "o-", label="test")
right.set(title="Accuracy", xlabel="Epoch", ylabel="Accuracy (%)", ylim=(0, 100))
for axes in (left, right):
    axes.legend()
    axes.grid(alpha=0.3)
plt.show()"""

TEST = """test_loss, test_accuracy = evaluate(test_x, test_y)
print(f"Test Accuracy : {100 * test_accuracy:.2f}%")"""


def try_source(config: TrainConfig) -> str:
    """The last cell: type a sequence, see the prediction (printed as `python -m rnn_core predict`)."""
    task = tasks.get_task(config.task)
    split = tasks.split_words if task.word_level else tasks.split_symbols
    lines = [
        f"typeable = tuple(t for t in VOCAB if t != {tasks.PAD!r})  # every token but padding may be typed"
        if task.pad_id is not None
        else "typeable = tuple(VOCAB)  # every token may be typed",
        f"MAX_TOKENS = {tasks.MAX_INPUT_TOKENS}  # the longest sequence RNN Lab lets a student type",
        "",
        "",
        inspect.getsource(split).rstrip(),  # as RNN Lab cuts typed text into tokens (rnn_core/tasks.py)
        "",
        "",
        inspect.getsource(words.percent).rstrip(),  # as RNN Lab writes a probability (rnn_core/words.py)
        "",
        "",
        "def predict(text):",
        '    """What the trained network says about a typed sequence."""',
        "    tokens = split_words(text)" if task.word_level else "    tokens = split_symbols(text, typeable)",
        "    unknown = list(dict.fromkeys(t for t in tokens if t not in typeable))  # each named once",
        "    if unknown or not tokens:  # as RNN Lab: what is wrong, and what may be typed",
        '        problem = f"Unknown: {\' \'.join(unknown)}." if unknown else "Nothing to read."',
        '        print(problem, "Allowed:", *typeable)',
        "        return",
        "    if len(tokens) > MAX_TOKENS:",
        '        print(f"That is {len(tokens)} tokens; at most {MAX_TOKENS} are allowed.")',
        "        return",
        "    ids = [VOCAB.index(t) for t in tokens]",
    ]
    if task.pad_id is not None:
        pad = f"VOCAB.index({tasks.PAD!r})"
        lines.append(f"    pad = [{pad}] * (SEQ_LEN - len(ids))  # trained on sentences padded on the left")
    else:
        lines.append("    pad = []")
    lines += [
        "    with torch.no_grad():",
        "        logits = model(torch.tensor([pad + ids]))[0, len(pad) :]  # (T, C): the typed steps only",
        "    probs = torch.softmax(logits, dim=-1)  # ŷ_t at every step",
        "    last = probs[-1]  # ŷ_T: the prediction after the whole sequence",
        '    print(f"Prediction: {CLASSES[int(last.argmax())]} ({percent(float(last.max()))})")',
        "    for name, p in zip(CLASSES, last):",
        '        print(f"  {name}: {percent(float(p))}")',
    ]
    if task.many_to_many:
        lines.append('    print("Per step: " + " ".join(CLASSES[int(c)] for c in probs.argmax(dim=-1)))')
    lines += ["", "", f"predict({task.example_for(config.seq_len)!r})"]  # what Try it shows first
    return "\n".join(lines)


def notebook(config: TrainConfig) -> nbformat.NotebookNode:
    """The notebook of one run."""
    text = markdown(config)  # the cells between the code, from rnn_core.notebook_text
    cells: list[Any] = [
        v4.new_markdown_cell(text["title"]),
        v4.new_code_cell(settings_source(config)),
        v4.new_markdown_cell(text["data"]),
        v4.new_code_cell(split_source(config)),
        v4.new_code_cell(SPLIT),
        v4.new_markdown_cell(text["model"]),
        v4.new_code_cell(model_source(config)),
        v4.new_markdown_cell(text["loss"]),
        v4.new_code_cell(loss_source(config)),
        v4.new_markdown_cell(text["train"]),
        v4.new_code_cell(TRAINING.format(eval_batch=EVAL_BATCH)),
        v4.new_markdown_cell(text["plots"]),
        v4.new_code_cell(PLOTS),
        v4.new_markdown_cell(text["test"]),
        v4.new_code_cell(TEST),
        v4.new_markdown_cell(text["try"]),
        v4.new_code_cell(try_source(config)),
    ]
    for number, cell in enumerate(cells, start=1):
        cell.id = f"cell-{number}"  # not nbformat's random ids: the same run gives the same file
    book = v4.new_notebook(cells=cells)
    book.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    book.metadata["language_info"] = {"name": "python"}
    nbformat.validate(book)
    return book


def notebook_bytes(config: TrainConfig) -> bytes:
    """The notebook as the bytes of an .ipynb file (for a download button)."""
    return nbformat.writes(notebook(config)).encode()


__all__ = ["DATA_SOURCES", "notebook", "notebook_bytes"]
