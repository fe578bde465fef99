"""The layering rules of DESIGN.md, checked on the source with the ast module.

import-linter cannot follow our setuptools package-dir mapping (each top-level
folder is a subpackage of `deskmimic`), so this test does its job: every import,
including lazy ones inside functions, is checked.
"""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
# Higher layers may import lower ones, never the other way round.
LAYERS = ["core", "recorder", "models", "agent", "tasks", "app"]
QT_FREE = {"core", "recorder", "models", "agent", "assets"}
QT_MODULES = ("PySide6", "PyQt5", "PyQt6", "shiboken6", "pyqtgraph")


def _imports(path: Path) -> list[tuple[int, str]]:
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    out = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            out += [(node.lineno, a.name) for a in node.names]
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            out.append((node.lineno, node.module))
            out += [(node.lineno, f"{node.module}.{a.name}") for a in node.names]
    return out


def _violations() -> list[str]:
    bad = []
    for layer in [*LAYERS, "assets"]:
        rank = LAYERS.index(layer) if layer in LAYERS else -1  # assets imports nothing of ours
        for path in sorted((ROOT / layer).rglob("*.py")):
            for line, mod in _imports(path):
                where = f"{path.relative_to(ROOT)}:{line}"
                if layer in QT_FREE and mod.split(".")[0] in QT_MODULES:
                    bad.append(f"{where}: Qt ({mod}) outside app/ and tasks/")
                parts = mod.split(".")
                if parts[0] in LAYERS and parts[0] != layer:
                    bad.append(f"{where}: imports top-level {mod!r}; use deskmimic.{mod}")
                if parts[0] == "deskmimic" and len(parts) > 1 and parts[1] in LAYERS:
                    if LAYERS.index(parts[1]) > rank:
                        bad.append(f"{where}: {layer} must not import the higher layer {mod}")
    return bad


def test_layers_and_qt_rules_hold():
    assert _violations() == []


def test_the_checker_catches_a_violation(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    bad = tmp_path / "x.py"
    bad.write_text("def f():\n    from deskmimic.app import cli\n    import PySide6\n")
    assert [m for _, m in _imports(bad)] == ["deskmimic.app", "deskmimic.app.cli", "PySide6"]


def test_lower_layers_import_without_a_display():
    code = ("import importlib, pkgutil, deskmimic\n"
            "for pkg in ('core', 'recorder', 'models', 'agent'):\n"
            "    p = importlib.import_module('deskmimic.' + pkg)\n"
            "    for m in pkgutil.walk_packages(p.__path__, p.__name__ + '.'):\n"
            "        importlib.import_module(m.name)\n"
            "import sys\n"
            "assert not any(k.startswith(('PySide6', 'pynput')) for k in sys.modules), 'Qt/pynput loaded'\n")
    env = {"PATH": "/usr/bin:/bin", "HOME": str(ROOT)}
    res = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True)
    assert res.returncode == 0, res.stderr


def test_every_package_folder_is_packaged():
    """pyproject names each subpackage; an editable install hides a missing one, a wheel not."""
    import tomllib

    tool = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["tool"]["setuptools"]
    listed = set(tool["packages"])
    folders = {"deskmimic." + ".".join(init.parent.relative_to(ROOT).parts)
               for layer in [*LAYERS, "assets"] for init in (ROOT / layer).rglob("__init__.py")}
    assert folders - listed == set(), "add these to [tool.setuptools] packages in pyproject.toml"
    assert {name for name in listed if name != "deskmimic"} <= folders


def test_every_module_imports():
    """A moved or renamed name breaks an import that only runs when its page or verb does."""
    code = ("import importlib, pkgutil, deskmimic\n"
            "for pkg in ('core', 'recorder', 'models', 'agent', 'tasks', 'app', 'assets'):\n"
            "    p = importlib.import_module('deskmimic.' + pkg)\n"
            "    for m in pkgutil.walk_packages(p.__path__, p.__name__ + '.'):\n"
            "        if not m.name.endswith('__main__'):\n"
            "            importlib.import_module(m.name)\n")
    res = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert res.returncode == 0, res.stderr
