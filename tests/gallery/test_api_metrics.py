"""Logging metric batches through the API and reading the series back."""

from __future__ import annotations

import random

import orjson
import pytest

from registry.models import MetricPoint, MetricSummary, RunStatus
from registry.services import run_finish

pytestmark = pytest.mark.django_db


def metrics_url(run_or_id) -> str:
    return f"/api/v1/runs/{getattr(run_or_id, 'pk', run_or_id)}/metrics/"


def post_batch(client, run_or_id, points: list[dict]):
    return client.post(
        metrics_url(run_or_id), orjson.dumps({"metrics": points}), content_type="application/json"
    )


def post_raw(client, run_or_id, body: bytes):
    return client.post(metrics_url(run_or_id), body, content_type="application/json")


def stored_count(run) -> int:
    return MetricPoint.objects.filter(run_id=run.pk).count()


def test_a_batch_posted_is_read_back_exactly(owner_client, run):
    points = [
        {"key": "a", "step": 0, "value": 0.1 + 0.2},
        {"key": "a", "step": 1, "value": 1e-310},
        {"key": "a", "step": 7, "value": -2.5},
        {"key": "b", "step": 3, "value": 1 / 3},
        {"key": "b", "step": 4, "value": 12345678901234567890.0},
        {"key": "c", "step": 0, "value": 9.0},
    ]

    response = post_batch(owner_client, run, points)

    assert response.status_code == 201
    assert response.json() == {"n_points": 6}
    read = owner_client.get(metrics_url(run), {"keys": "a,b"})
    assert read.status_code == 200
    assert read.json() == {
        "series": {
            "a": {
                "steps": [0, 1, 7],
                "values": [0.30000000000000004, 1e-310, -2.5],
                "n_points_total": 3,
            },
            "b": {"steps": [3, 4], "values": [1 / 3, 12345678901234567890.0], "n_points_total": 2},
        }
    }


def test_without_keys_every_metric_comes_back_and_unknown_keys_come_back_empty(owner_client, run):
    post_batch(
        owner_client,
        run,
        [{"key": "loss", "step": 0, "value": 1.0}, {"key": "acc", "step": 0, "value": 0.5}],
    )

    every = owner_client.get(metrics_url(run)).json()["series"]
    unknown = owner_client.get(metrics_url(run), {"keys": "never_logged"}).json()["series"]

    assert sorted(every) == ["acc", "loss"]
    assert unknown == {"never_logged": {"steps": [], "values": [], "n_points_total": 0}}


def test_timestamps_come_back_when_asked(owner_client, run):
    post_batch(
        owner_client,
        run,
        [{"key": "loss", "step": 2, "value": 1.0, "timestamp": 1_700_000_000_000}],
    )

    series = owner_client.get(metrics_url(run), {"keys": "loss", "timestamps": "1"}).json()

    assert series["series"]["loss"]["timestamps"] == [1_700_000_000_000]


def test_posting_a_stored_step_again_replaces_it_and_updates_the_run_summary(owner_client, run):
    post_batch(
        owner_client,
        run,
        [{"key": "loss", "step": s, "value": v} for s, v in [(0, 1.0), (1, 0.1), (2, 0.5)]],
    )
    post_batch(owner_client, run, [{"key": "loss", "step": 1, "value": 0.9}])

    series = owner_client.get(metrics_url(run), {"keys": "loss"}).json()["series"]["loss"]
    summary = owner_client.get(f"/api/v1/runs/{run.pk}/").json()["metrics"]["loss"]

    assert (series["steps"], series["values"]) == ([0, 1, 2], [1.0, 0.9, 0.5])
    assert summary == {"last": 0.5, "step": 2, "min": 0.5, "max": 1.0, "n_points": 3}


def spiky_series(n_points: int, spike_step: int) -> list[dict]:
    rng = random.Random(11)
    points = [
        {"key": "loss", "step": step, "value": 1.0 + rng.random() / 100} for step in range(n_points)
    ]
    points[spike_step]["value"] = 80.0
    return points


@pytest.mark.parametrize("spike_step", [1, 1234, 4998])
def test_max_points_downsamples_to_real_points_keeping_ends_and_a_spike(
    owner_client, run, spike_step
):
    points = spiky_series(5000, spike_step)
    post_batch(owner_client, run, points)
    stored = {point["step"]: point["value"] for point in points}

    body = owner_client.get(metrics_url(run), {"keys": "loss", "max_points": "100"}).json()
    series = body["series"]["loss"]

    assert series["n_points_total"] == 5000
    assert len(series["steps"]) <= 100
    assert series["steps"] == sorted(set(series["steps"]))
    assert (series["steps"][0], series["steps"][-1]) == (0, 4999)
    assert [stored[step] for step in series["steps"]] == series["values"]
    assert spike_step in series["steps"]


def test_a_downsampled_read_gives_each_kept_point_its_own_timestamp(owner_client, run):
    points = spiky_series(3000, 1500)
    for point in points:
        point["timestamp"] = 1_700_000_000_000 + point["step"] * 7
    post_batch(owner_client, run, points)

    query = {"keys": "loss", "max_points": "50", "timestamps": "true"}
    series = owner_client.get(metrics_url(run), query).json()["series"]["loss"]

    assert len(series["steps"]) <= 50
    assert series["timestamps"] == [1_700_000_000_000 + step * 7 for step in series["steps"]]


def test_downsampling_across_appended_batches_with_sparse_steps_returns_stored_points(
    owner_client, run
):
    rng = random.Random(5)
    stored = {step: rng.random() for step in range(0, 37 * 4000, 37)}
    stored[37 * 2500] = -50.0  # a dip inside the third batch
    items = sorted(stored.items())
    for start in range(0, len(items), 1000):
        post_batch(
            owner_client,
            run,
            [
                {"key": "loss", "step": step, "value": value}
                for step, value in items[start : start + 1000]
            ],
        )

    series = owner_client.get(metrics_url(run), {"max_points": "120"}).json()["series"]["loss"]

    assert series["n_points_total"] == 4000
    assert len(series["steps"]) <= 120
    assert (series["steps"][0], series["steps"][-1]) == (0, 37 * 3999)
    assert [stored[step] for step in series["steps"]] == series["values"]
    assert 37 * 2500 in series["steps"]


def test_a_rewritten_spike_is_gone_from_downsampled_reads(owner_client, run):
    post_batch(owner_client, run, spiky_series(5000, 2500))
    post_batch(owner_client, run, [{"key": "loss", "step": 2500, "value": 1.0}])

    series = owner_client.get(metrics_url(run), {"max_points": "100"}).json()["series"]["loss"]

    assert max(series["values"]) < 1.02
    assert 80.0 not in series["values"]


def test_max_points_larger_than_the_series_returns_it_whole(owner_client, run):
    post_batch(owner_client, run, spiky_series(50, 10))

    series = owner_client.get(metrics_url(run), {"max_points": "500"}).json()["series"]["loss"]

    assert series["steps"] == list(range(50))


@pytest.mark.parametrize("max_points", ["0", "1", "2", "-5", "many", "2.5", "\u00b2"])
def test_a_bad_max_points_is_refused(owner_client, run, assert_error, max_points):
    post_batch(owner_client, run, spiky_series(10, 3))

    response = owner_client.get(metrics_url(run), {"max_points": max_points})

    assert_error(response, 400, "invalid", field="max_points")


def test_asking_for_too_many_keys_is_refused(owner_client, run, assert_error):
    keys = ",".join(f"k{i}" for i in range(21))

    assert_error(owner_client.get(metrics_url(run), {"keys": keys}), 400, "invalid", field="keys")


def test_one_hundred_thousand_points_in_ten_batches_read_back_exactly(owner_client, run):
    rng = random.Random(2024)
    steps = list(range(100_000))
    values = [rng.uniform(-1e6, 1e6) * rng.random() for _ in steps]
    values[0] = 0.1 + 0.2
    values[99_999] = 5e-324

    for start in range(0, 100_000, 10_000):
        batch = [
            {"key": "train/loss", "step": step, "value": values[step]}
            for step in steps[start : start + 10_000]
        ]
        response = post_batch(owner_client, run, batch)
        assert response.status_code == 201, response.content
        assert response.json() == {"n_points": 10_000}

    read = owner_client.get(metrics_url(run), {"keys": "train/loss"})

    series = orjson.loads(read.content)["series"]["train/loss"]
    assert series["n_points_total"] == 100_000
    assert series["steps"] == steps
    assert series["values"] == values
    summary = MetricSummary.objects.get(run=run, key="train/loss")
    assert (summary.n_points, summary.min_value, summary.max_value) == (
        100_000,
        min(values),
        max(values),
    )
    assert (summary.last_step, summary.last_value) == (99_999, 5e-324)

    chart = owner_client.get(metrics_url(run), {"keys": "train/loss", "max_points": "1000"})
    downsampled = chart.json()["series"]["train/loss"]
    assert 3 <= len(downsampled["steps"]) <= 1000
    assert [values[step] for step in downsampled["steps"]] == downsampled["values"]


MALFORMED = {
    "missing-key": orjson.dumps({"metrics": [{"step": 0, "value": 1.0}]}),
    "string-value": orjson.dumps({"metrics": [{"key": "a", "step": 0, "value": "1.0"}]}),
    "null-value": orjson.dumps({"metrics": [{"key": "a", "step": 0, "value": None}]}),
    "negative-step": orjson.dumps({"metrics": [{"key": "a", "step": -1, "value": 1.0}]}),
    "list-key": orjson.dumps({"metrics": [{"key": ["a"], "step": 0, "value": 1.0}]}),
    "metrics-not-a-list": orjson.dumps({"metrics": {"key": "a", "step": 0, "value": 1.0}}),
    "no-metrics-field": orjson.dumps({"points": [{"key": "a", "step": 0, "value": 1.0}]}),
    "empty-body": b"",
    "body-is-a-list": orjson.dumps([{"key": "a", "step": 0, "value": 1.0}]),
    "good-point-then-bad": orjson.dumps(
        {"metrics": [{"key": "a", "step": 0, "value": 1.0}, {"key": "a", "step": 1}]}
    ),
}


@pytest.mark.parametrize("body", MALFORMED.values(), ids=MALFORMED.keys())
def test_a_malformed_batch_is_refused_with_a_field_error_and_stores_nothing(
    owner_client, run, assert_error, body
):
    response = post_raw(owner_client, run, body)

    detail = assert_error(response, 400, "invalid", field="metrics")["detail"]
    assert "metrics" in detail
    assert stored_count(run) == 0
    assert not MetricSummary.objects.filter(run=run).exists()


@pytest.mark.parametrize(
    "body",
    [
        b'{"metrics":[{"key":"a","step":0,"value":NaN}]}',
        b'{"metrics":[{"key":"a","step":0,"value":Infinity}]}',
        b'{"metrics":[{"key":"a","step":0,"value":1e400}]}',
        b'{"metrics":[{"key":"a","step":0,"value":1.0}',
    ],
    ids=["nan", "infinity", "overflow", "truncated"],
)
def test_a_body_that_is_not_strict_json_is_refused_and_stores_nothing(
    owner_client, run, assert_error, body
):
    response = post_raw(owner_client, run, body)

    assert_error(response, 400, "parse_error")
    assert stored_count(run) == 0


def test_a_batch_of_ten_thousand_and_one_points_is_too_large_and_stores_nothing(
    owner_client, run, assert_error
):
    points = [{"key": "a", "step": step, "value": 1.0} for step in range(10_001)]

    response = post_batch(owner_client, run, points)

    body = assert_error(response, 413, "too_large")
    assert "10000" in body["detail"] and "10001" in body["detail"]
    assert stored_count(run) == 0


def test_posting_to_an_unknown_run_is_404_and_stores_nothing(owner_client, run, assert_error):
    response = post_batch(owner_client, run.pk + 1000, [{"key": "a", "step": 0, "value": 1.0}])

    assert_error(response, 404, "not_found")
    assert not MetricPoint.objects.exists()


def test_posting_to_a_finished_run_is_a_conflict_and_stores_nothing(
    owner_client, run, assert_error
):
    run_finish(run=run, status=RunStatus.SUCCEEDED)

    response = post_batch(owner_client, run, [{"key": "a", "step": 0, "value": 1.0}])

    assert_error(response, 409, "conflict")
    assert stored_count(run) == 0


def test_a_form_encoded_batch_is_refused_as_unsupported(owner_client, run, assert_error):
    response = owner_client.post(metrics_url(run), {"metrics": "a"})

    assert_error(response, 415, "unsupported_media_type")
    assert stored_count(run) == 0
