"""Imports run one way: gallery -> pipelines -> registry (STYLE.md, point 1)."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]

FORBIDDEN = {
    "registry": ("pipelines", "gallery"),
    "pipelines": ("gallery",),
}


def imported_modules(path: Path) -> list[tuple[int, str]]:
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found.extend((node.lineno, alias.name) for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            found.append((node.lineno, node.module))
        elif (
            isinstance(node, ast.Call)
            and isinstance(node.func, ast.Name | ast.Attribute)
            and getattr(node.func, "id", getattr(node.func, "attr", "")) == "import_module"
            and node.args
            and isinstance(node.args[0], ast.Constant)
            and isinstance(node.args[0].value, str)
        ):
            found.append((node.lineno, node.args[0].value))
    return found


def back_arrows(app: str) -> list[str]:
    forbidden = FORBIDDEN[app]
    problems = []
    for path in sorted((ROOT / app).rglob("*.py")):
        for line, module in imported_modules(path):
            top = module.split(".")[0]
            if top in forbidden:
                problems.append(f"{path.relative_to(ROOT)}:{line} imports {module}")
    return problems


@pytest.mark.parametrize("app", sorted(FORBIDDEN))
def test_no_import_points_back_up_the_layers(app):
    assert (ROOT / app).is_dir()
    assert back_arrows(app) == []


def test_the_checker_sees_a_back_arrow(tmp_path):
    sample = tmp_path / "sample.py"
    sample.write_text(
        "import gallery.views\nfrom pipelines.tasks import train\n"
        "importlib.import_module('gallery.api')\nfrom . import sibling\n"
    )

    assert [module for _line, module in imported_modules(sample)] == [
        "gallery.views",
        "pipelines.tasks",
        "gallery.api",
    ]
