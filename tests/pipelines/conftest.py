"""Brush tests run without Django's database; librosa's numba cache must outlive the test run."""

from __future__ import annotations

import os
from pathlib import Path

# numba reads this when librosa first imports it; without a lasting cache every test run pays
# ~15 s of compilation (STACK.md). `make test` exports it too; this covers a bare `pytest`.
os.environ.setdefault("NUMBA_CACHE_DIR", str(Path.home() / ".cache" / "canvascraft" / "numba"))
