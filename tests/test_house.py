"""The house: imports between top-level folders point down only.

From the ground up: `core` (configuration, clock, pure rules) imports nothing of ours;
`storage` and `nlu` sit on it and not on each other; `handlers` (use cases) on those;
`bot` (the dialogue engine) on the use cases; `schedules` (jobs, outbox, dispatcher) on the
engine's floor; `staff` (workbench pages, REST API routes) above; `app` (channels, CLI, web
app, console, the composition root) on top. A folder may import its own floor and any
floor below, never one above or beside it."""

from __future__ import annotations

import ast
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent

FLOORS: list[set[str]] = [
    {"core"},
    {"storage", "nlu"},
    {"handlers"},
    {"bot"},
    {"schedules"},
    {"staff"},
    {"app"},
]
FLOOR = {folder: level for level, folders in enumerate(FLOORS) for folder in folders}


def imports_of(path: Path) -> list[tuple[int, str]]:
    found = []
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            found += [(node.lineno, alias.name) for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            found.append((node.lineno, node.module))
    return found


def wrong_way_imports(folder: str) -> list[str]:
    wrong = []
    for path in sorted((ROOT / folder).rglob("*.py")):
        for line, module in imports_of(path):
            target = module.split(".")[0]
            if target not in FLOOR or target == folder:
                continue
            if FLOOR[target] >= FLOOR[folder]:
                wrong.append(f"{path.relative_to(ROOT)}:{line} imports {module}")
    return wrong


@pytest.mark.parametrize("folder", sorted(FLOOR))
def test_a_folder_imports_only_the_floors_below_it(folder):
    assert wrong_way_imports(folder) == []


def test_every_top_level_package_has_a_floor():
    packages = {p.parent.name for p in ROOT.glob("*/__init__.py")} - {"tests", "bench"}
    assert packages <= set(FLOOR), packages - set(FLOOR)


def test_the_house_check_notices_an_upward_import(tmp_path, monkeypatch):
    (tmp_path / "core").mkdir()
    (tmp_path / "core" / "rules.py").write_text("from bot.engine import Engine\n")
    monkeypatch.setattr(sys.modules[__name__], "ROOT", tmp_path)
    assert wrong_way_imports("core") == ["core/rules.py:1 imports bot.engine"]
