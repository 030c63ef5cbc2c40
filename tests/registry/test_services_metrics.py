import math

import pytest

from registry import metric_store
from registry.errors import InvalidInput, LimitExceeded
from registry.models import MetricPoint, MetricSummary
from registry.services import MetricBatch, check_metric_batch, run_log_metric, run_log_metrics

pytestmark = pytest.mark.django_db


def log(run, *points: tuple[str, int, float], timestamp: int | None = None) -> int:
    batch = [
        {"key": key, "step": step, "value": value}
        | ({"timestamp": timestamp} if timestamp is not None else {})
        for key, step, value in points
    ]
    return run_log_metrics(run=run, batch=check_metric_batch(batch))


def stored_points(run, key: str) -> list[tuple[int, float]]:
    return list(
        MetricPoint.objects.filter(run_id=run.pk, key=key)
        .order_by("step")
        .values_list("step", "value")
    )


def summary_of(run, key: str) -> dict:
    summary = MetricSummary.objects.get(run=run, key=key)
    return {
        "last": summary.last_value,
        "last_step": summary.last_step,
        "min": summary.min_value,
        "max": summary.max_value,
        "n_points": summary.n_points,
    }


def test_logged_points_are_stored_exactly_with_their_timestamp(run):
    n_points = log(run, ("loss", 0, 0.1 + 0.2), ("loss", 1, 1e-300), timestamp=1_700_000_000_123)

    assert n_points == 2
    steps, values, stamps = metric_store.fetch_series(run.pk, "loss", with_timestamps=True)
    assert steps == [0, 1]
    assert values == [0.30000000000000004, 1e-300]
    assert stamps == [1_700_000_000_123, 1_700_000_000_123]


def test_summary_after_appending_batches(run):
    log(run, ("loss", 0, 2.0), ("loss", 1, 1.5), ("acc", 0, 0.25))
    log(run, ("loss", 2, 0.5), ("loss", 3, 0.75))

    assert summary_of(run, "loss") == {
        "last": 0.75,
        "last_step": 3,
        "min": 0.5,
        "max": 2.0,
        "n_points": 4,
    }
    assert summary_of(run, "acc") == {
        "last": 0.25,
        "last_step": 0,
        "min": 0.25,
        "max": 0.25,
        "n_points": 1,
    }


def test_a_batch_with_steps_out_of_order_keeps_the_highest_step_as_last(run):
    log(run, ("loss", 5, 0.5), ("loss", 2, 0.9), ("loss", 9, 0.7), ("loss", 0, 1.0))

    assert summary_of(run, "loss") == {
        "last": 0.7,
        "last_step": 9,
        "min": 0.5,
        "max": 1.0,
        "n_points": 4,
    }


def test_logging_a_stored_step_again_replaces_its_value(run):
    log(run, ("loss", 0, 1.0), ("loss", 1, 0.8))

    log(run, ("loss", 1, 0.6))

    assert stored_points(run, "loss") == [(0, 1.0), (1, 0.6)]
    assert summary_of(run, "loss") == {
        "last": 0.6,
        "last_step": 1,
        "min": 0.6,
        "max": 1.0,
        "n_points": 2,
    }


def test_rewriting_the_minimum_with_a_bigger_value_recomputes_the_minimum(run):
    log(run, ("loss", 0, 1.0), ("loss", 1, 0.1), ("loss", 2, 0.5), ("loss", 3, 0.4))
    assert summary_of(run, "loss")["min"] == 0.1

    log(run, ("loss", 1, 0.9))

    assert stored_points(run, "loss") == [(0, 1.0), (1, 0.9), (2, 0.5), (3, 0.4)]
    assert summary_of(run, "loss") == {
        "last": 0.4,
        "last_step": 3,
        "min": 0.4,
        "max": 1.0,
        "n_points": 4,
    }


def test_rewriting_the_maximum_with_a_smaller_value_recomputes_the_maximum(run):
    log(run, ("acc", 0, 0.2), ("acc", 1, 0.95), ("acc", 2, 0.5))

    log(run, ("acc", 1, 0.3), ("acc", 3, 0.6))

    assert summary_of(run, "acc") == {
        "last": 0.6,
        "last_step": 3,
        "min": 0.2,
        "max": 0.6,
        "n_points": 4,
    }


def test_a_duplicate_key_and_step_in_one_batch_keeps_the_later_point(run):
    batch = check_metric_batch(
        [
            {"key": "loss", "step": 0, "value": 1.0, "timestamp": 1000},
            {"key": "loss", "step": 1, "value": 0.5},
            {"key": "loss", "step": 0, "value": 3.0, "timestamp": 2000},
        ]
    )
    assert (batch.keys, batch.steps, batch.values) == (["loss", "loss"], [0, 1], [3.0, 0.5])
    assert batch.timestamps_ms[0] == 2000

    assert run_log_metrics(run=run, batch=batch) == 2

    assert stored_points(run, "loss") == [(0, 3.0), (1, 0.5)]
    assert summary_of(run, "loss")["n_points"] == 2
    assert summary_of(run, "loss")["max"] == 3.0


def test_run_log_metric_logs_one_point(run):
    run_log_metric(run=run, key="val_acc", value=0.93, step=4)

    assert stored_points(run, "val_acc") == [(4, 0.93)]


def test_metrics_of_two_runs_stay_apart(run, experiment):
    from tests.factories import RunFactory

    other = RunFactory(experiment=experiment)
    log(run, ("loss", 0, 1.0))
    log(other, ("loss", 0, 2.0))

    assert stored_points(run, "loss") == [(0, 1.0)]
    assert stored_points(other, "loss") == [(0, 2.0)]


def test_a_check_without_timestamp_stamps_now_in_milliseconds():
    import time

    before = int(time.time() * 1000)
    batch = check_metric_batch([{"key": "loss", "step": 0, "value": 1}])
    after = int(time.time() * 1000)

    assert before <= batch.timestamps_ms[0] <= after
    assert batch.values == [1.0]
    assert type(batch.values[0]) is float


def test_a_missing_step_means_step_zero():
    assert check_metric_batch([{"key": "loss", "value": 1.5}]).steps == [0]


BAD_BATCHES = {
    "not-a-list": {"key": "loss", "step": 0, "value": 1.0},
    "empty": [],
    "point-not-object": [["loss", 0, 1.0]],
    "nan": [{"key": "loss", "step": 0, "value": math.nan}],
    "inf": [{"key": "loss", "step": 0, "value": math.inf}],
    "minus-inf": [{"key": "loss", "step": 0, "value": -math.inf}],
    "bool-value": [{"key": "loss", "step": 0, "value": True}],
    "string-value": [{"key": "loss", "step": 0, "value": "0.5"}],
    "missing-value": [{"key": "loss", "step": 0}],
    "negative-step": [{"key": "loss", "step": -1, "value": 1.0}],
    "float-step": [{"key": "loss", "step": 1.0, "value": 1.0}],
    "bool-step": [{"key": "loss", "step": True, "value": 1.0}],
    "huge-step": [{"key": "loss", "step": 2**63, "value": 1.0}],
    "missing-key": [{"step": 0, "value": 1.0}],
    "empty-key": [{"key": "", "step": 0, "value": 1.0}],
    "bad-key-characters": [{"key": "loss<script>", "step": 0, "value": 1.0}],
    "long-key": [{"key": "k" * 251, "step": 0, "value": 1.0}],
    "list-key": [{"key": ["loss"], "step": 0, "value": 1.0}],
    "timestamp-in-ns": [{"key": "loss", "step": 0, "value": 1.0, "timestamp": 1.7e18}],
    "timestamp-too-late": [
        {"key": "loss", "step": 0, "value": 1.0, "timestamp": 7_258_118_400_001}
    ],
    "good-then-bad": [
        {"key": "loss", "step": 0, "value": 1.0},
        {"key": "loss", "step": 1, "value": math.nan},
    ],
}


@pytest.mark.parametrize("points", BAD_BATCHES.values(), ids=BAD_BATCHES.keys())
def test_check_metric_batch_refuses_bad_points(points):
    with pytest.raises(InvalidInput) as caught:
        check_metric_batch(points)

    assert caught.value.field == "metrics"
    assert caught.value.http_status == 400


def test_a_refused_point_names_its_index():
    points = [{"key": "loss", "step": i, "value": 1.0} for i in range(3)]
    points.append({"key": "loss", "step": 3, "value": math.inf})

    with pytest.raises(InvalidInput, match=r"^metrics\[3\]: value must be a finite number"):
        check_metric_batch(points)


def test_check_metric_batch_refuses_more_points_than_the_limit(settings):
    settings.MAX_METRIC_BATCH = 3
    points = [{"key": "loss", "step": i, "value": 1.0} for i in range(4)]

    with pytest.raises(LimitExceeded) as caught:
        check_metric_batch(points)

    assert caught.value.http_status == 413
    assert len(check_metric_batch(points[:3])) == 3
    assert len(check_metric_batch(points, max_points=4)) == 4


def test_the_default_limit_is_ten_thousand_points():
    points = [{"key": "loss", "step": i, "value": 0.5} for i in range(10_001)]

    assert len(check_metric_batch(points[:10_000])) == 10_000
    with pytest.raises(LimitExceeded):
        check_metric_batch(points)


@pytest.mark.parametrize("points", BAD_BATCHES.values(), ids=BAD_BATCHES.keys())
def test_nothing_is_stored_after_a_refused_batch(run, points):
    log(run, ("loss", 0, 1.0))

    with pytest.raises(InvalidInput):
        run_log_metrics(run=run, batch=check_metric_batch(points))

    assert stored_points(run, "loss") == [(0, 1.0)]
    assert summary_of(run, "loss")["n_points"] == 1
    assert MetricPoint.objects.filter(run_id=run.pk).count() == 1


def test_an_empty_prepared_batch_writes_nothing(run):
    assert run_log_metrics(run=run, batch=MetricBatch()) == 0

    assert not MetricPoint.objects.exists()
    assert not MetricSummary.objects.exists()


def test_extreme_but_valid_values_round_trip(run):
    values = [0.0, -0.0, 5e-324, 1.7976931348623157e308, -1.7976931348623157e308, 123456789]
    log(run, *(("edge", step, value) for step, value in enumerate(values)))
    log(run, ("big_step", 2**63 - 1, 1.0))

    assert [value for _step, value in stored_points(run, "edge")] == [float(v) for v in values]
    assert stored_points(run, "big_step") == [(2**63 - 1, 1.0)]
    assert summary_of(run, "edge")["min"] == -1.7976931348623157e308


def _log_series(run, steps: range, value_of) -> None:
    points = [{"key": "loss", "step": step, "value": value_of(step)} for step in steps]
    for start in range(0, len(points), 2500):
        run_log_metrics(run=run, batch=check_metric_batch(points[start : start + 2500]))


def test_short_series_keep_no_rollups_and_long_ones_get_them_when_they_cross_the_line(run):
    from registry.models import MetricRollup
    from registry.rollups import ROLLUP_MIN_POINTS
    from registry.selectors import run_metric_series

    _log_series(run, range(ROLLUP_MIN_POINTS), lambda step: math.sin(step / 50))
    assert MetricRollup.objects.filter(run=run).count() == 0

    def spike(step: int) -> float:
        return 9.0 if step == ROLLUP_MIN_POINTS + 1234 else math.sin(step / 50)

    _log_series(run, range(ROLLUP_MIN_POINTS, 3 * ROLLUP_MIN_POINTS), spike)
    assert MetricRollup.objects.filter(run=run).exists()
    run.refresh_from_db()
    series = run_metric_series(run, ["loss"], max_points=300)["loss"]
    assert len(series.steps) <= 300 and series.n_points_total == 3 * ROLLUP_MIN_POINTS
    assert (series.steps[0], series.steps[-1]) == (0, 3 * ROLLUP_MIN_POINTS - 1)
    assert 9.0 in series.values  # the spike survives, from rollups built across the crossing
    assert series.steps == sorted(series.steps)
