"""Writes for metric points and the per-run summaries that listing pages sort and filter by."""

from __future__ import annotations

import math
import re
import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from django.conf import settings
from django.db import transaction

from registry import metric_store
from registry.errors import InvalidInput, LimitExceeded
from registry.models import MetricSummary, Run
from registry.rollups import ROLLUP_MIN_POINTS, level_extrema
from registry.services import live
from registry.services.runs import ensure_open

METRIC_KEY = re.compile(r"^[A-Za-z0-9_.\-/ :]{1,250}$")
MAX_STEP = 2**63 - 1
# Milliseconds between 1970 and 2200: anything outside is a unit mistake (seconds, nanoseconds).
MAX_TIMESTAMP_MS = 7_258_118_400_000


@dataclass(slots=True)
class MetricBatch:
    """Validated points, column by column; (key, step) pairs are unique within a batch."""

    keys: list[str] = field(default_factory=list)
    steps: list[int] = field(default_factory=list)
    values: list[float] = field(default_factory=list)
    timestamps_ms: list[int] = field(default_factory=list)

    def __len__(self) -> int:
        return len(self.keys)


def _point_error(index: int, message: str) -> InvalidInput:
    return InvalidInput(f"metrics[{index}]: {message}", field="metrics")


def check_metric_batch(points: Any, *, max_points: int | None = None) -> MetricBatch:
    """Validates an untrusted list of {key, step, value, timestamp?} objects.

    Steps are integers >= 0, values finite numbers (NaN and infinity are refused: they cannot be
    charted, compared or sent as JSON), timestamps epoch milliseconds (default: now). When the
    same (key, step) appears twice, the later point wins, as it would across two batches.
    """
    limit = settings.MAX_METRIC_BATCH if max_points is None else max_points
    if not isinstance(points, list):
        raise InvalidInput("metrics must be a list of points", field="metrics")
    if not points:
        raise InvalidInput("metrics must contain at least one point", field="metrics")
    if len(points) > limit:
        raise LimitExceeded(
            f"a batch holds at most {limit} points; this one has {len(points)}", field="metrics"
        )
    now_ms = int(time.time() * 1000)
    position: dict[tuple[str, int], int] = {}
    batch = MetricBatch()
    known_keys: set[str] = set()
    for index, point in enumerate(points):
        if not isinstance(point, Mapping):
            raise _point_error(index, "each point must be an object with key, step and value")
        key = point.get("key")
        # isinstance first: an unhashable key (a list from JSON) must be refused, not crash.
        if not isinstance(key, str) or key not in known_keys:
            if not isinstance(key, str) or not METRIC_KEY.match(key):
                raise _point_error(
                    index,
                    "key must be 1-250 letters, digits, spaces or _ . - / :",
                )
            known_keys.add(key)
        step = point.get("step", 0)
        if type(step) is not int or not 0 <= step <= MAX_STEP:
            raise _point_error(index, f"step must be an integer from 0 to {MAX_STEP}")
        value = point.get("value")
        if type(value) not in (float, int) or not math.isfinite(value):
            raise _point_error(
                index, "value must be a finite number (NaN and infinity are refused)"
            )
        stamp = point.get("timestamp")
        if stamp is None:
            stamp = now_ms
        elif type(stamp) is not int or not 0 <= stamp <= MAX_TIMESTAMP_MS:
            raise _point_error(index, "timestamp must be an integer in epoch milliseconds")
        slot = position.get((key, step))
        if slot is None:
            position[(key, step)] = len(batch.keys)
            batch.keys.append(key)
            batch.steps.append(step)
            batch.values.append(float(value))
            batch.timestamps_ms.append(stamp)
        else:
            batch.values[slot] = float(value)
            batch.timestamps_ms[slot] = stamp
    return batch


@dataclass(slots=True)
class _KeyStats:
    n_points: int
    min_value: float
    max_value: float
    first_step: int
    first_value: float
    last_step: int
    last_value: float
    last_timestamp_ms: int


def _batch_statistics(batch: MetricBatch) -> dict[str, _KeyStats]:
    stats: dict[str, _KeyStats] = {}
    for key, step, value, stamp in zip(
        batch.keys, batch.steps, batch.values, batch.timestamps_ms, strict=True
    ):
        current = stats.get(key)
        if current is None:
            stats[key] = _KeyStats(1, value, value, step, value, step, value, stamp)
            continue
        current.n_points += 1
        if value < current.min_value:
            current.min_value = value
        if value > current.max_value:
            current.max_value = value
        if step < current.first_step:
            current.first_step, current.first_value = step, value
        if step > current.last_step:
            current.last_step, current.last_value, current.last_timestamp_ms = step, value, stamp
    return stats


def _summary(run_id: int, key: str, stats: _KeyStats) -> MetricSummary:
    return MetricSummary(
        run_id=run_id,
        key=key,
        n_points=stats.n_points,
        min_value=stats.min_value,
        max_value=stats.max_value,
        first_step=stats.first_step,
        first_value=stats.first_value,
        last_step=stats.last_step,
        last_value=stats.last_value,
        last_timestamp_ms=stats.last_timestamp_ms,
    )


def _stored_statistics(run_id: int, key: str) -> _KeyStats:
    recomputed = metric_store.key_statistics(run_id, key)
    assert recomputed is not None  # the batch has just been written
    return _KeyStats(*recomputed)


def _merged(stored: MetricSummary, batch: _KeyStats) -> _KeyStats:
    return _KeyStats(
        n_points=stored.n_points + batch.n_points,
        min_value=min(stored.min_value, batch.min_value),
        max_value=max(stored.max_value, batch.max_value),
        # Appending never moves the first point.
        first_step=stored.first_step,
        first_value=stored.first_value,
        last_step=batch.last_step,
        last_value=batch.last_value,
        last_timestamp_ms=batch.last_timestamp_ms,
    )


def _positions_by_key(batch: MetricBatch) -> dict[str, list[int]]:
    positions: dict[str, list[int]] = {}
    for index, key in enumerate(batch.keys):
        positions.setdefault(key, []).append(index)
    return positions


@transaction.atomic
def run_log_metrics(*, run: Run, batch: MetricBatch) -> int:
    """Stores a validated batch and brings the run's summaries and rollups up to date.

    Locks the run row, so concurrent writers to one run merge one after the other. A batch that
    only appends (every step beyond the stored last step, the usual case) is merged into the
    summary and rollups; a batch that rewrites stored steps recomputes the keys it touched.
    Returns the number of points written.
    """
    locked = Run.objects.select_for_update().only("id", "status").get(pk=run.pk)
    ensure_open(locked)
    stats = _batch_statistics(batch)
    existing = {
        summary.key: summary
        for summary in MetricSummary.objects.filter(run_id=run.pk, key__in=list(stats))
    }
    metric_store.upsert_points(run.pk, batch.keys, batch.steps, batch.values, batch.timestamps_ms)
    live.announce_metrics(run.pk, batch.keys, batch.steps, batch.values)
    positions = _positions_by_key(batch) if len(stats) > 1 else {}
    summaries = []
    for key, batch_stats in stats.items():
        stored = existing.get(key)
        if stored is not None and batch_stats.first_step <= stored.last_step:
            recomputed = _stored_statistics(run.pk, key)
            summaries.append(_summary(run.pk, key, recomputed))
            if recomputed.n_points > ROLLUP_MIN_POINTS:
                metric_store.rebuild_rollups(run.pk, key)
            continue
        merged = batch_stats if stored is None else _merged(stored, batch_stats)
        summaries.append(_summary(run.pk, key, merged))
        if merged.n_points <= ROLLUP_MIN_POINTS:
            continue  # short series are read whole; no rollups to keep
        if stored is None or stored.n_points <= ROLLUP_MIN_POINTS:
            metric_store.rebuild_rollups(run.pk, key)  # the series just became long
            continue
        if key in positions:
            steps = [batch.steps[i] for i in positions[key]]
            values = [batch.values[i] for i in positions[key]]
        else:
            steps, values = batch.steps, batch.values
        metric_store.merge_rollups(run.pk, key, level_extrema(steps, values))
    MetricSummary.objects.bulk_create(
        summaries,
        update_conflicts=True,
        unique_fields=["run", "key"],
        update_fields=[
            "n_points",
            "min_value",
            "max_value",
            "first_step",
            "first_value",
            "last_step",
            "last_value",
            "last_timestamp_ms",
        ],
    )
    return len(batch)


def run_log_metric(*, run: Run, key: str, value: float, step: int) -> int:
    """Convenience for one point (trainers log per epoch)."""
    return run_log_metrics(
        run=run, batch=check_metric_batch([{"key": key, "value": value, "step": step}])
    )
