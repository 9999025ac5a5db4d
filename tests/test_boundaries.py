"""The walls between the parts: the core knows no UI, the UI does no training math."""

import ast

from conftest import ROOT


def imported_modules(folder: str) -> dict[str, set[str]]:
    """Top-level module names each .py file under `folder` imports."""
    found = {}
    for path in (ROOT / folder).rglob("*.py"):
        names = set()
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.Import):
                names |= {alias.name for alias in node.names}
            elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
                names.add(node.module)
        found[str(path.relative_to(ROOT))] = names
    return found


def test_rnn_core_imports_no_ui_library():
    for path, names in imported_modules("rnn_core").items():
        ui = {n for n in names if n.split(".")[0] in {"streamlit", "altair", "pandas"}}
        assert not ui, f"{path} imports {ui}"


def autograd_calls(source: str) -> list[int]:
    """Lines that call `.backward(...)` on anything but rnn_core's hand-written `bptt.backward`."""
    return [
        node.lineno
        for node in ast.walk(ast.parse(source))
        if isinstance(node, ast.Call)
        and isinstance(node.func, ast.Attribute)
        and node.func.attr == "backward"
        and not (isinstance(node.func.value, ast.Name) and node.func.value.id == "bptt")
    ]


def test_autograd_calls_are_found_and_the_hand_written_backward_is_allowed():
    assert autograd_calls("loss.backward()\nmodel(x).L.backward()") == [1, 2]
    assert autograd_calls("grads = bptt.backward(params, cache)") == []


def test_dashboard_does_no_training_math():
    """The dashboard imports neither torch nor an optimiser and never runs autograd's backward."""
    for path, names in imported_modules("dashboard").items():
        assert not {n for n in names if n.split(".")[0] == "torch"}, f"{path} imports torch"
        source = (ROOT / path).read_text()
        assert "torch.optim" not in source, path
        assert not autograd_calls(source), f"{path} calls .backward() on lines {autograd_calls(source)}"
