"""Where a run computes: device choice and CPU threads.

A worker is started for one device class (DESIGN.md: one queue per device class); these helpers
turn its setting into a torch device string and keep CPU training from oversubscribing cores.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Callable

import torch

from pipelines.training.errors import TrainingError

logger = logging.getLogger(__name__)

THREADS_VARIABLE = "CANVASCRAFT_TORCH_THREADS"
# Small networks stop gaining past a few threads, and a worker shares its machine with others.
DEFAULT_MAX_THREADS = 4


class DeviceRequestError(TrainingError, ValueError):
    """A device setting that is not one of the spellings `pick_device` understands."""


def _mps_available() -> bool:
    backend = getattr(torch.backends, "mps", None)
    return bool(backend is not None and backend.is_available())


def pick_device(requested: str, *, log: Callable[[str], None] | None = None) -> str:
    """The torch device to train on for a setting: "auto", "gpu", "cuda", "cuda:N", "mps", "cpu".

    "auto" and "gpu" take CUDA, then Apple's MPS; "auto" then settles for the CPU quietly, while
    an explicit request that this machine cannot honour (no CUDA, CUDA index out of range, no
    MPS) falls back to the CPU with a log line, so a misrouted task still runs rather than fails.
    Returns "cuda:N", "mps" or "cpu".
    """
    say = log or logger.warning
    setting = requested.strip().lower()
    if setting in ("auto", "gpu"):
        if torch.cuda.is_available():
            return "cuda:0"
        if _mps_available():
            return "mps"
        if setting == "gpu":
            say("device 'gpu' requested but no CUDA or MPS device is available: using the CPU")
        return "cpu"
    if setting == "cpu":
        return "cpu"
    if setting == "mps":
        if _mps_available():
            return "mps"
        say("device 'mps' requested but MPS is not available: using the CPU")
        return "cpu"
    if setting == "cuda" or setting.startswith("cuda:"):
        return _cuda_device(setting, say)
    raise DeviceRequestError(
        f"unknown device {requested!r}; use auto, gpu, cuda, cuda:N, mps or cpu"
    )


def _cuda_device(setting: str, say: Callable[[str], None]) -> str:
    index_text = setting.partition(":")[2] or "0"
    if not index_text.isdigit():
        raise DeviceRequestError(f"unknown device {setting!r}; a CUDA device is cuda:N")
    index = int(index_text)
    if not torch.cuda.is_available():
        say(f"device {setting!r} requested but CUDA is not available: using the CPU")
        return "cpu"
    if index >= torch.cuda.device_count():
        say(
            f"device {setting!r} requested but this machine has {torch.cuda.device_count()} "
            "CUDA device(s): using the CPU"
        )
        return "cpu"
    return f"cuda:{index}"


def configure_threads(device: str) -> int:
    """Sets torch's intra-op threads for training on `device` and returns the count.

    On the CPU: the `CANVASCRAFT_TORCH_THREADS` environment variable when set (a positive
    integer), else min(cpu count, 4). On an accelerator the CPU only feeds batches: 1 thread
    (or the variable) leaves the cores to other workers. Call it once per worker process, before
    training: torch's thread pool is process-wide.
    """
    configured = os.environ.get(THREADS_VARIABLE)
    if configured is not None:
        if not configured.strip().isdigit() or int(configured) < 1:
            raise DeviceRequestError(
                f"{THREADS_VARIABLE} must be a positive integer, got {configured!r}"
            )
        threads = int(configured)
    elif device == "cpu":
        threads = min(os.cpu_count() or 1, DEFAULT_MAX_THREADS)
    else:
        threads = 1
    torch.set_num_threads(threads)
    return threads
