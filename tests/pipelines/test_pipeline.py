"""TrainingPipeline: order, stop at the first failure, keep the error, cancellation."""

from __future__ import annotations

from dataclasses import dataclass

from pipelines.pipeline import (
    PipelineCancelled,
    PipelineContext,
    PipelineStatus,
    StepFailed,
    TrainingPipeline,
)


@dataclass
class Step:
    name: str
    raises: Exception | None = None

    def run(self, context: PipelineContext) -> None:
        context.metadata.setdefault("ran", []).append(self.name)
        if self.raises is not None:
            raise self.raises


def run_steps(*steps: Step) -> PipelineContext:
    return TrainingPipeline(steps).run(PipelineContext(run_id=1, config={}))


def test_steps_run_in_order_and_the_pipeline_succeeds():
    context = run_steps(Step("load"), Step("split"), Step("train"))

    assert context.status == PipelineStatus.SUCCEEDED
    assert context.metadata["ran"] == ["load", "split", "train"]
    assert set(context.step_seconds) == {"load", "split", "train"}


def test_a_deliberate_failure_stops_the_pipeline_with_its_message():
    context = run_steps(
        Step("load"), Step("split", StepFailed("no column 'species'")), Step("train")
    )

    assert context.status == PipelineStatus.FAILED
    assert context.error == "split: no column 'species'"
    assert context.failed_step == "split"
    assert context.metadata["ran"] == ["load", "split"]


def test_a_crash_keeps_the_exception_and_its_traceback():
    context = run_steps(Step("train", ZeroDivisionError("division by zero")), Step("evaluate"))

    assert context.status == PipelineStatus.FAILED
    assert context.error.startswith("train: ZeroDivisionError: division by zero")
    assert "Traceback" in context.error
    assert context.metadata["ran"] == ["train"]


def test_a_cancellation_ends_cancelled_with_the_reason():
    context = run_steps(Step("train", PipelineCancelled("cancelled")), Step("evaluate"))

    assert (context.status, context.error) == (PipelineStatus.CANCELLED, "cancelled")
