"""One fix to skl2onnx 1.20, so that histogram gradient boosting exports.

skl2onnx writes a leaf's `nodes_missing_value_tracks_true` as the Python bool False (a branch's
as scikit-learn's uint8), and protobuf refuses a bool in an `ints` attribute: every
HistGradientBoosting export failed with "Expected an int, got a boolean". `add_node`, which
skl2onnx's tree converters call through their module, is wrapped once to hand it an int. The
export check compares each export with the Python model on sample inputs anyway, and a test
exports a boosting model, so an skl2onnx that moves or renames the function fails loudly.
"""

from __future__ import annotations

import functools
import threading
from typing import Any

_lock = threading.Lock()
_applied = False


def apply() -> None:
    """Wraps skl2onnx's `add_node` (once per process; idempotent, thread-safe)."""
    global _applied
    with _lock:
        if _applied:
            return
        from skl2onnx.common import tree_ensemble

        original = tree_ensemble.add_node

        @functools.wraps(original)
        def add_node(*args: Any, nodes_missing_value_tracks_true: Any = 0, **kwargs: Any) -> Any:
            return original(
                *args,
                nodes_missing_value_tracks_true=int(nodes_missing_value_tracks_true),
                **kwargs,
            )

        tree_ensemble.add_node = add_node
        _applied = True
