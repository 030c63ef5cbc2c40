"""The training pipeline: steps run in order over one context; the first failure stops it.

A step is a small object with a `name` and a `run(context)` method. It reads what earlier steps
left in the context and adds its own results. The pipeline itself knows nothing of Django,
datasets or models: the runner (`pipelines.runner`) builds the steps and owns the run's
lifecycle around them.
"""

from __future__ import annotations

import enum
import time
import traceback
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol


class PipelineStatus(enum.StrEnum):
    PENDING = "pending"
    RUNNING = "running"
    SUCCEEDED = "succeeded"
    FAILED = "failed"
    CANCELLED = "cancelled"


class StepFailed(Exception):
    """A deliberate failure with a message meant for the creator (bad data, a bad config):
    stored as is, without a traceback."""


class PipelineCancelled(Exception):
    """Raised by a step when the run was cancelled (or timed out) mid-way."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


@dataclass
class PipelineContext:
    """What the steps share: the request, intermediate results, the outcome."""

    run_id: int
    config: dict[str, Any]
    status: PipelineStatus = PipelineStatus.PENDING
    error: str = ""
    failed_step: str = ""
    metadata: dict[str, Any] = field(default_factory=dict)
    artifacts: dict[str, bytes] = field(default_factory=dict)
    step_seconds: dict[str, float] = field(default_factory=dict)


class PipelineStep(Protocol):
    name: str

    def run(self, context: PipelineContext) -> None: ...


class TrainingPipeline:
    """Runs steps in order. A step that raises marks the context failed (StepFailed: its
    message; anything else: the exception and its traceback) or cancelled, and stops."""

    def __init__(
        self, steps: Sequence[PipelineStep], *, on_step: Callable[[str], None] | None = None
    ) -> None:
        self.steps = list(steps)
        self.on_step = on_step

    def run(self, context: PipelineContext) -> PipelineContext:
        context.status = PipelineStatus.RUNNING
        for step in self.steps:
            if self.on_step is not None:
                self.on_step(step.name)
            started = time.perf_counter()
            try:
                step.run(context)
            except PipelineCancelled as cancelled:
                context.status = PipelineStatus.CANCELLED
                context.error = cancelled.reason
                context.failed_step = step.name
                return context
            except StepFailed as failure:
                context.status = PipelineStatus.FAILED
                context.error = f"{step.name}: {failure}"
                context.failed_step = step.name
                return context
            except Exception as error:  # a crash inside a step: keep everything to debug it
                context.status = PipelineStatus.FAILED
                context.error = (
                    f"{step.name}: {type(error).__name__}: {error}\n\n{traceback.format_exc()}"
                )
                context.failed_step = step.name
                return context
            finally:
                context.step_seconds[step.name] = round(time.perf_counter() - started, 3)
        context.status = PipelineStatus.SUCCEEDED
        return context
