"""The version of the studio's code, recorded in each published model's lineage.

`CANVASCRAFT_CODE_VERSION` wins (a deployment sets it from its build); otherwise the git commit
of the checkout, read from `.git` without running git; otherwise the package version alone.
"""

from __future__ import annotations

import functools
import os
from pathlib import Path

PACKAGE_VERSION = "0.1.0"
ROOT = Path(__file__).resolve().parent.parent


@functools.cache
def code_version() -> str:
    configured = os.environ.get("CANVASCRAFT_CODE_VERSION", "").strip()
    if configured:
        return configured[:100]
    commit = _git_commit(ROOT / ".git")
    return f"{PACKAGE_VERSION}+g{commit[:12]}" if commit else PACKAGE_VERSION


def _git_commit(git_dir: Path) -> str | None:
    """HEAD's commit: a detached hash, a loose ref, or a line of packed-refs."""
    try:
        head = (git_dir / "HEAD").read_text().strip()
        if not head.startswith("ref: "):
            return head if _is_hash(head) else None
        ref = head.removeprefix("ref: ")
        loose = git_dir / ref
        if loose.is_file():
            commit = loose.read_text().strip()
            return commit if _is_hash(commit) else None
        for line in (git_dir / "packed-refs").read_text().splitlines():
            commit, _, name = line.partition(" ")
            if name == ref and _is_hash(commit):
                return commit
    except OSError:
        return None
    return None


def _is_hash(text: str) -> bool:
    return len(text) == 40 and all(char in "0123456789abcdef" for char in text)
