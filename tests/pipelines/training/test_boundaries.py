"""The training core stays plain Python, and listing templates does not import torch."""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

import pipelines.training

PACKAGE = Path(pipelines.training.__file__).parent


def imported_roots(path: Path) -> set[str]:
    roots = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            roots |= {alias.name.split(".")[0] for alias in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module:
            roots.add(node.module.split(".")[0])
    return roots


def test_no_module_of_the_training_core_imports_django_or_the_other_apps():
    for path in PACKAGE.rglob("*.py"):
        forbidden = imported_roots(path) & {"django", "rest_framework", "registry", "gallery"}
        assert not forbidden, f"{path.relative_to(PACKAGE)} imports {forbidden}"


def test_listing_templates_imports_neither_torch_nor_scikit_learn():
    code = (
        "import sys; from pipelines.training.templates import list_templates; list_templates(); "
        "print(sorted({'torch', 'sklearn', 'django'} & set(sys.modules)))"
    )

    result = subprocess.run(
        [sys.executable, "-c", code],
        capture_output=True,
        text=True,
        check=True,
        cwd=PACKAGE.parent.parent,
    )

    assert result.stdout.strip() == "[]"
