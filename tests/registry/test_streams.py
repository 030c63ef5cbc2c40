"""The live event streams as the registry keeps them: one sequence per stream, stored in the
transaction of the change it announces, readable after any sequence number."""

from __future__ import annotations

import threading

import pytest
from django.db import connection, transaction
from django.utils import timezone

from registry import services, streams
from registry.models import EventStream, RunStatus, StreamEvent
from tests.factories import ExperimentFactory


def events_of(stream: str) -> list[tuple[int, str, dict]]:
    return list(
        StreamEvent.objects.filter(stream__name=stream)
        .order_by("seq")
        .values_list("seq", "type", "payload")
    )


@pytest.fixture
def run(owner):
    experiment = ExperimentFactory(owner=owner)
    return services.run_create(owner=owner, experiment=experiment, name="r")


@pytest.mark.django_db
def test_each_stream_numbers_its_events_from_one():
    assert streams.append_event("run:1", "log", {"lines": ["a"]}) == 1
    assert streams.append_event("run:1", "log", {"lines": ["b"]}) == 2
    assert streams.append_event("run:2", "log", {"lines": ["c"]}) == 1

    assert streams.stream_head("run:1") == 2
    assert streams.stream_head("run:404") == 0
    assert streams.events_after("run:1", 1, limit=10) == [{"seq": 2, "type": "log", "lines": ["b"]}]


@pytest.mark.django_db
def test_several_events_appended_at_once_take_consecutive_numbers_in_order():
    streams.append_event("sweep:1", "status", {"n": 0})

    seqs = streams.append_events("sweep:1", [("trial", {"number": 0}), ("status", {"n": 1})])

    assert seqs == [2, 3]
    assert events_of("sweep:1")[1:] == [(2, "trial", {"number": 0}), (3, "status", {"n": 1})]
    assert streams.append_events("sweep:2", [("trial", {}), ("trial", {})]) == [1, 2]
    with pytest.raises(ValueError, match="unknown event type 'gossip'"):
        streams.append_events("sweep:1", [("trial", {}), ("gossip", {})])
    assert streams.stream_head("sweep:1") == 3


@pytest.mark.django_db
def test_an_unknown_event_type_is_refused():
    with pytest.raises(ValueError, match="unknown event type 'gossip'"):
        streams.append_event("run:1", "gossip", {})


@pytest.mark.django_db
def test_a_change_that_rolls_back_announces_nothing(run):
    head = streams.stream_head(streams.run_stream(run.pk))

    with pytest.raises(RuntimeError), transaction.atomic():
        services.run_append_log(run_id=run.pk, lines=["never happened"])
        raise RuntimeError("the request failed")

    assert streams.stream_head(streams.run_stream(run.pk)) == head


@pytest.mark.django_db(transaction=True)
def test_concurrent_writers_get_every_number_once_and_in_commit_order(run):
    stream = streams.run_stream(run.pk)
    head = streams.stream_head(stream)
    errors: list[BaseException] = []

    def write(worker: int) -> None:
        try:
            for step in range(10):
                services.run_log_metrics(
                    run=run,
                    batch=services.check_metric_batch(
                        [{"key": f"w{worker}", "step": step, "value": 1.0}]
                    ),
                )
        except BaseException as error:
            errors.append(error)
        finally:
            connection.close()

    threads = [threading.Thread(target=write, args=(worker,)) for worker in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert not errors
    seqs = [seq for seq, _, _ in events_of(stream)]
    assert seqs[-40:] == list(range(head + 1, head + 41))
    # Each writer's own events are in its order.
    for worker in range(4):
        steps = [
            payload["points"][f"w{worker}"][0][0]
            for _, _, payload in events_of(stream)
            if f"w{worker}" in payload.get("points", {})
        ]
        assert steps == list(range(10))


@pytest.mark.django_db
def test_a_small_batch_travels_inline_and_a_big_one_as_ranges(run):
    services.run_log_metrics(
        run=run,
        batch=services.check_metric_batch(
            [{"key": "loss", "step": 0, "value": 2.0}, {"key": "acc", "step": 0, "value": 0.5}]
        ),
    )
    n = streams.INLINE_METRIC_POINTS + 1
    services.run_log_metrics(
        run=run,
        batch=services.check_metric_batch(
            [{"key": "loss", "step": s, "value": 1.0} for s in range(1, n + 1)]
        ),
    )

    metric_events = [e for e in events_of(streams.run_stream(run.pk)) if e[1] == "metric"]
    assert metric_events[0][2] == {"points": {"loss": [[0, 2.0]], "acc": [[0, 0.5]]}}
    assert metric_events[1][2] == {"ranges": {"loss": [1, n, n]}}


@pytest.mark.django_db
def test_every_status_change_is_told_to_the_run_and_its_owner(owner, run):
    queued = services.run_create(
        owner=owner, experiment=run.experiment, name="q", status=RunStatus.QUEUED, config={"a": 1}
    )
    services.run_claim(run_id=queued.pk, device="cpu")
    services.run_request_cancel(run=queued)
    services.run_finish(run=queued, status=RunStatus.CANCELLED, error_text="Cancelled.")

    statuses = [
        (payload["status"], payload["cancel_requested"])
        for _, kind, payload in events_of(streams.run_stream(queued.pk))
        if kind == "status"
    ]
    assert statuses == [
        ("queued", False),
        ("running", False),
        ("running", True),
        ("cancelled", True),
    ]
    personal = [
        payload
        for _, _, payload in events_of(streams.user_stream(owner.pk))
        if payload["run"] == queued.pk
    ]
    assert [p["status"] for p in personal] == ["queued", "running", "running", "cancelled"]
    assert personal[-1]["error"] == "Cancelled." and personal[-1]["name"] == "q"


@pytest.mark.django_db
def test_progress_is_recorded_and_told_only_while_running(owner, run):
    services.run_report_progress(run_id=run.pk, progress={"phase": "train", "epoch": 2})
    services.run_finish(run=run, status=RunStatus.SUCCEEDED)
    services.run_report_progress(run_id=run.pk, progress={"phase": "late"})

    run.refresh_from_db()
    assert run.progress == {"phase": "train", "epoch": 2}
    progress = [p for _, kind, p in events_of(streams.run_stream(run.pk)) if kind == "progress"]
    assert progress == [{"phase": "train", "epoch": 2}]


@pytest.mark.django_db
def test_purged_events_make_an_old_cursor_ask_for_a_snapshot(run):
    stream = streams.run_stream(run.pk)
    for line in ("a", "b", "c"):
        services.run_append_log(run_id=run.pk, lines=[line])
    head = streams.stream_head(stream)
    StreamEvent.objects.filter(stream__name=stream).update(
        created_at=timezone.now() - timezone.timedelta(days=40)
    )
    services.run_append_log(run_id=run.pk, lines=["fresh"])

    deleted = streams.purge_events(older_than=timezone.now() - timezone.timedelta(days=30))

    assert deleted == head
    assert EventStream.objects.get(name=stream).purged_through == head
    assert streams.events_after(stream, head - 1, limit=10) is None  # the gap is gone
    assert streams.events_after(stream, head, limit=10) == [
        {"seq": head + 1, "type": "log", "lines": ["fresh"]}
    ]
