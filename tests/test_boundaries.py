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


def test_dashboard_does_no_training_math():
    for path in (ROOT / "dashboard").rglob("*.py"):
        source = path.read_text()
        assert "torch.optim" not in source and ".backward(" not in source, path
        names = imported_modules("dashboard").get(str(path.relative_to(ROOT)), set())
        assert not {n for n in names if n.startswith("torch.optim")}, path
