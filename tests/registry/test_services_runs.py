import pytest
from django.utils import timezone

from registry.errors import Conflict, InvalidInput
from registry.models import MetricPoint, Run, RunStatus
from registry.services import (
    check_metric_batch,
    run_claim,
    run_create,
    run_finish,
    run_log_metrics,
    run_log_params,
)
from registry.signals import RunFinished, run_finished
from tests.factories import ExperimentFactory, RunFactory

pytestmark = pytest.mark.django_db


def test_run_create_opens_a_running_run_with_params(owner, experiment):
    run = run_create(
        owner=owner, experiment=experiment, name="first", params={"lr": 0.01, "brush": "ink"}
    )

    stored = Run.objects.get(pk=run.pk)
    assert stored.status == RunStatus.RUNNING
    assert stored.started_at is not None
    assert stored.ended_at is None
    assert stored.params == {"lr": 0.01, "brush": "ink"}
    assert stored.name == "first"


def test_run_create_names_an_unnamed_run_after_its_id(owner, experiment):
    run = run_create(owner=owner, experiment=experiment)

    assert Run.objects.get(pk=run.pk).name == f"run-{run.pk}"


def test_a_queued_run_has_no_start_time_until_a_worker_claims_it(owner, experiment):
    run = run_create(owner=owner, experiment=experiment, status=RunStatus.QUEUED)
    assert run.started_at is None

    assert run_claim(run_id=run.pk, device="cpu") is not None
    assert run_claim(run_id=run.pk, device="cuda:0") is None  # a second worker gets nothing

    stored = Run.objects.get(pk=run.pk)
    assert (stored.status, stored.device, stored.attempt) == (RunStatus.RUNNING, "cpu", 1)
    assert stored.started_at is not None


@pytest.mark.parametrize(
    "params",
    [
        ["lr", 0.1],
        {"lr": [0.1]},
        {"lr": {"value": 0.1}},
        {"lr": float("nan")},
        {"": 1},
        {"x" * 251: 1},
        {"long": "x" * 6001},
    ],
    ids=["list", "list-value", "dict-value", "nan", "blank-key", "long-key", "long-value"],
)
def test_run_create_refuses_bad_params_and_stores_nothing(owner, experiment, params):
    with pytest.raises(InvalidInput) as caught:
        run_create(owner=owner, experiment=experiment, params=params)

    assert caught.value.field == "params"
    assert not Run.objects.exists()


def test_run_create_refuses_a_parent_from_another_experiment(owner, experiment):
    elsewhere = RunFactory(experiment=ExperimentFactory(owner=owner))

    with pytest.raises(InvalidInput):
        run_create(owner=owner, experiment=experiment, parent=elsewhere)

    assert not experiment.runs.exists()


def test_run_log_params_adds_new_params_and_accepts_the_same_value_again(run):
    run_log_params(run=run, params={"brush": "ink", "n_epochs": 10})
    run_log_params(run=run, params={"lr": 0.01, "brush": "ink"})

    assert Run.objects.get(pk=run.pk).params == {"lr": 0.01, "brush": "ink", "n_epochs": 10}


def test_run_log_params_refuses_to_change_a_logged_value(run):
    with pytest.raises(Conflict) as caught:
        run_log_params(run=run, params={"lr": 0.1, "new": "kept?"})

    assert "'lr'" in caught.value.message
    assert Run.objects.get(pk=run.pk).params == {"lr": 0.01}


def test_run_finish_sets_status_and_end_time(run):
    before = timezone.now()

    finished = run_finish(run=run, status=RunStatus.FAILED, error_text="out of memory")

    stored = Run.objects.get(pk=run.pk)
    assert finished.status == stored.status == RunStatus.FAILED
    assert stored.error_text == "out of memory"
    assert before <= stored.ended_at <= timezone.now()
    assert stored.duration == stored.ended_at - stored.started_at


def test_run_finish_of_a_queued_run_sets_both_start_and_end(owner, experiment):
    run = run_create(owner=owner, experiment=experiment, status=RunStatus.QUEUED)

    run_finish(run=run, status=RunStatus.CANCELLED)

    stored = Run.objects.get(pk=run.pk)
    assert stored.status == RunStatus.CANCELLED
    assert stored.started_at == stored.ended_at


def test_finishing_twice_is_a_conflict_and_keeps_the_first_outcome(run):
    run_finish(run=run, status=RunStatus.SUCCEEDED)
    ended_at = Run.objects.get(pk=run.pk).ended_at

    with pytest.raises(Conflict):
        run_finish(run=run, status=RunStatus.FAILED, error_text="late")

    stored = Run.objects.get(pk=run.pk)
    assert (stored.status, stored.ended_at, stored.error_text) == (
        RunStatus.SUCCEEDED,
        ended_at,
        "",
    )


def test_run_finish_refuses_a_non_terminal_status(run):
    with pytest.raises(InvalidInput):
        run_finish(run=run, status=RunStatus.RUNNING)

    assert Run.objects.get(pk=run.pk).status == RunStatus.RUNNING


def test_a_finished_run_takes_no_more_params_or_metrics(run):
    run_finish(run=run, status=RunStatus.SUCCEEDED)

    with pytest.raises(Conflict):
        run_log_params(run=run, params={"late": 1})
    with pytest.raises(Conflict):
        run_log_metrics(run=run, batch=check_metric_batch([{"key": "loss", "value": 1.0}]))

    assert Run.objects.get(pk=run.pk).params == {"lr": 0.01}
    assert not MetricPoint.objects.filter(run_id=run.pk).exists()
    assert not run.summaries.exists()


def test_run_finish_announces_the_run_once_the_transaction_commits(
    run, django_capture_on_commit_callbacks
):
    received: list[RunFinished] = []

    def receiver(sender, event, **kwargs):
        received.append(event)

    run_finished.connect(receiver)
    try:
        with django_capture_on_commit_callbacks(execute=False) as callbacks:
            run_finish(run=run, status=RunStatus.SUCCEEDED)
        assert received == []  # nothing is announced before the commit
        for callback in callbacks:
            callback()
    finally:
        run_finished.disconnect(receiver)

    assert received == [
        RunFinished(run_id=run.pk, experiment_id=run.experiment_id, status=RunStatus.SUCCEEDED)
    ]
