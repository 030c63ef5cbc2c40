"""registry.ingest is plain Python (STYLE.md, point 2): it never imports Django or the web
layers, so it runs in a worker, a management command or a notebook alike."""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

import registry.ingest

PACKAGE = Path(registry.ingest.__file__).parent
ROOT = PACKAGE.parents[1]
FORBIDDEN_TOPS = {"django", "rest_framework", "channels", "django_q", "pipelines", "gallery"}


def imported_tops(path: Path) -> set[str]:
    tops = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            tops.update(alias.name.split(".")[0] for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            tops.add(node.module.split(".")[0])
    return tops


def test_no_module_imports_django_or_upper_layers():
    offenders = {
        path.name: sorted(imported_tops(path) & FORBIDDEN_TOPS)
        for path in sorted(PACKAGE.glob("*.py"))
        if imported_tops(path) & FORBIDDEN_TOPS
    }

    assert offenders == {}
    assert len(list(PACKAGE.glob("*.py"))) > 10  # the walk saw the package


def test_importing_the_package_stays_light():
    # Django imports registry.ingest at start-up; the heavy libraries wait for an upload.
    code = (
        "import sys, registry.ingest; "
        "print(sorted({'pandas', 'pyarrow', 'librosa', 'PIL', 'soundfile'} & set(sys.modules)))"
    )
    finished = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, cwd=ROOT
    )

    assert finished.stdout.strip() == "[]"
