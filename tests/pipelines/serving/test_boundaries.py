"""Serving stays plain Python: the predict API calls it, but it never reaches back into Django,
the API layer or the gallery, and importing it loads neither Django nor torch."""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

import pipelines.serving

PACKAGE = Path(pipelines.serving.__file__).parent


def imported_roots(path: Path) -> set[str]:
    roots = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            roots |= {alias.name.split(".")[0] for alias in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module:
            roots.add(node.module.split(".")[0])
    return roots


def test_no_module_of_serving_imports_django_or_the_gallery():
    modules = sorted(PACKAGE.glob("*.py"))

    names = {path.name for path in modules}
    assert {"__init__.py", "errors.py", "inputs.py", "predictor.py", "signature.py"} <= names
    for path in modules:
        forbidden = imported_roots(path) & {"django", "rest_framework", "gallery", "canvascraft"}
        assert not forbidden, f"{path.name} imports {forbidden}"


def test_importing_serving_loads_neither_django_nor_torch_nor_librosa():
    code = (
        "import sys, pipelines.serving; "
        "print(sorted({'django', 'torch', 'librosa'} & set(sys.modules)))"
    )

    result = subprocess.run(
        [sys.executable, "-c", code],
        capture_output=True,
        text=True,
        check=True,
        cwd=PACKAGE.parent.parent,
    )

    assert result.stdout.strip() == "[]"
