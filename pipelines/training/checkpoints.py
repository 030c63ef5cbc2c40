"""Checkpoints: the resumable state of a run as bytes that load with ``weights_only=True``.

A checkpoint is a `torch.save`d dict of tensors, numbers, strings, lists and dicts only: model,
optimiser, schedule and gradient-scaler state dicts, the epoch, early-stopping state with the best
weights, the history, and every random generator's state, so that a resumed run continues the
very same sequence as one that never stopped.
"""

from __future__ import annotations

import io
import random
from typing import TYPE_CHECKING, Any

import numpy as np
import torch

from pipelines.training.errors import CheckpointError

if TYPE_CHECKING:
    from pipelines.training.torch_loop import TorchRun

CHECKPOINT_FORMAT_VERSION = 1


def capture_random_states() -> dict[str, Any]:
    """torch (CPU and every CUDA device), NumPy's global and Python's generators, as tensors and
    lists (not the tuples and arrays they natively are) so the checkpoint stays weights-only."""
    numpy_state = np.random.get_state()
    python_state = random.getstate()
    return {
        "torch": torch.get_rng_state(),
        "cuda": torch.cuda.get_rng_state_all() if torch.cuda.is_available() else [],
        "numpy": {
            "keys": torch.from_numpy(numpy_state[1].astype(np.int64)),
            "position": int(numpy_state[2]),
            "has_gauss": int(numpy_state[3]),
            "cached_gaussian": float(numpy_state[4]),
        },
        "python": {
            "version": python_state[0],
            "internal": list(python_state[1]),
            "gauss_next": python_state[2],
        },
    }


def restore_random_states(states: dict[str, Any]) -> None:
    """Puts back what `capture_random_states` captured (CUDA only where both have CUDA)."""
    torch.set_rng_state(states["torch"])
    if states["cuda"] and torch.cuda.is_available():
        torch.cuda.set_rng_state_all(states["cuda"])
    numpy_state = states["numpy"]
    np.random.set_state(
        (
            "MT19937",
            numpy_state["keys"].numpy().astype(np.uint32),
            numpy_state["position"],
            numpy_state["has_gauss"],
            numpy_state["cached_gaussian"],
        )
    )
    python_state = states["python"]
    random.setstate(
        (python_state["version"], tuple(python_state["internal"]), python_state["gauss_next"])
    )


def to_bytes(state: dict[str, Any]) -> bytes:
    buffer = io.BytesIO()
    torch.save({"format_version": CHECKPOINT_FORMAT_VERSION, **state}, buffer)
    return buffer.getvalue()


def from_bytes(data: bytes, *, expected: dict[str, Any]) -> dict[str, Any]:
    """The state saved by `to_bytes`, after checking that `expected` entries (template, params,
    seed, shapes) match: resuming under another configuration would silently train a
    different model. Raises CheckpointError."""
    try:
        state = torch.load(io.BytesIO(data), map_location="cpu", weights_only=True)
    except Exception as error:  # unpickling, zip and format errors all mean "not ours"
        raise CheckpointError(f"the checkpoint cannot be read: {error}") from error
    if not isinstance(state, dict) or state.get("format_version") != CHECKPOINT_FORMAT_VERSION:
        raise CheckpointError(
            f"the checkpoint is not in format version {CHECKPOINT_FORMAT_VERSION}"
        )
    for key, value in expected.items():
        if state.get(key) != value:
            raise CheckpointError(
                f"the checkpoint was written with {key} {state.get(key)!r}, this run has "
                f"{value!r}; start the run afresh instead of resuming"
            )
    return state


def cpu_copy(state_dict: dict[str, torch.Tensor]) -> dict[str, torch.Tensor]:
    """A detached CPU copy of a state dict (the best weights must not change with training)."""
    return {key: value.detach().to("cpu", copy=True) for key, value in state_dict.items()}


def torch_checkpoint(run: TorchRun, epoch: int) -> bytes:
    """The state of a torch run after `epoch`, as `TrainingCallbacks.save_checkpoint` gets it."""
    return to_bytes(
        {
            **run.identity(),
            "epoch": epoch,
            "model": cpu_copy(run.network.state_dict()),
            "optimizer": run.optimizer.state_dict(),
            "scheduler": None if run.scheduler is None else run.scheduler.state_dict(),
            "scaler": run.precision.state_dict(),
            "early_stopping": run.early_stopping.state_dict(),
            "best_state": run.best_state,
            "history": run.history,
            "random_states": capture_random_states(),
        }
    )


def resume_torch_run(run: TorchRun, data: bytes) -> None:
    """Puts a freshly built run in the state of `torch_checkpoint`'s output, so that it continues
    after that epoch as if it had never stopped."""
    state = from_bytes(data, expected=run.identity())
    run.network.load_state_dict(state["model"])
    run.optimizer.load_state_dict(state["optimizer"])
    if run.scheduler is not None:
        run.scheduler.load_state_dict(state["scheduler"])
    run.precision.load_state_dict(state["scaler"])
    run.early_stopping.load_state_dict(state["early_stopping"])
    run.best_state = state["best_state"]
    run.history = state["history"]
    restore_random_states(state["random_states"])
    run.next_epoch = state["epoch"] + 1
