"""Reads used by pages and the API, always scoped to the user asking."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from django.contrib.auth.models import AbstractBaseUser, AnonymousUser
from django.db.models import Count, Exists, F, OuterRef, Prefetch, Q, QuerySet, Subquery

from registry import metric_store
from registry.downsample import largest_triangle_three_buckets
from registry.errors import InvalidInput, NotFound
from registry.models import ApiToken, Artifact, Experiment, MetricSummary, Run
from registry.rollups import candidate_points, choose_shift
from registry.run_filters import Condition, FilterSyntaxError, parse_filter, parse_ordering

User = AbstractBaseUser | AnonymousUser

_LOOKUPS = {">": "gt", ">=": "gte", "<": "lt", "<=": "lte", "=": "exact", "!=": "exact"}
MAX_SERIES_KEYS = 20


def experiments_for_user(user: User) -> QuerySet[Experiment]:
    if not user.is_authenticated:
        return Experiment.objects.none()
    # Explicit order: Meta.ordering is ignored once the query groups (Count), and the pages
    # and the API paginate this list.
    return (
        Experiment.objects.filter(owner=user)
        .annotate(n_runs=Count("runs"))
        .order_by("-created_at", "-id")
    )


def experiment_for_user(user: User, experiment_id: int | str) -> Experiment:
    try:
        return experiments_for_user(user).get(pk=int(experiment_id))
    except (Experiment.DoesNotExist, ValueError, TypeError):
        raise NotFound(f"experiment {experiment_id} not found", field="experiment") from None


def _condition_q(condition: Condition) -> Q:
    lookup = _LOOKUPS[condition.operator]
    negate = condition.operator == "!="
    if condition.target == "metric":
        matching = MetricSummary.objects.filter(
            run=OuterRef("pk"), key=condition.key, **{f"last_value__{lookup}": condition.value}
        )
        if negate:
            matching = MetricSummary.objects.filter(run=OuterRef("pk"), key=condition.key).exclude(
                last_value=condition.value
            )
        return Q(Exists(matching))
    if condition.target == "param":
        q = Q(**{f"params__{condition.key}__{lookup}": condition.value})
        return ~q if negate else q
    q = Q(**{condition.key: condition.value})
    return ~q if negate else q


def runs_for_user(
    user: User,
    *,
    experiment_id: int | None = None,
    status: str | None = None,
    filter_text: str = "",
    order_by: str = "",
) -> QuerySet[Run]:
    """Runs of the user's experiments, filtered and sorted as the experiment page asks.

    Summaries come prefetched, so a page of runs costs a fixed number of queries.
    """
    if not user.is_authenticated:
        return Run.objects.none()
    runs = Run.objects.filter(experiment__owner=user)
    if experiment_id is not None:
        runs = runs.filter(experiment_id=experiment_id)
    if status:
        runs = runs.filter(status=status)
    try:
        conditions = parse_filter(filter_text)
        ordering = parse_ordering(order_by)
    except FilterSyntaxError as error:
        raise InvalidInput(str(error), field="filter") from None
    for condition in conditions:
        runs = runs.filter(_condition_q(condition))
    if ordering is not None:
        if ordering.target == "metric":
            runs = runs.annotate(
                sort_value=Subquery(
                    MetricSummary.objects.filter(run=OuterRef("pk"), key=ordering.key).values(
                        "last_value"
                    )[:1]
                )
            )
            expression = F("sort_value")
        elif ordering.target == "param":
            expression = F(f"params__{ordering.key}")
        else:
            expression = F(ordering.key)
        expression = (
            expression.desc(nulls_last=True)
            if ordering.descending
            else expression.asc(nulls_last=True)
        )
        runs = runs.order_by(expression, "-id")
    return runs.select_related("experiment").prefetch_related(
        Prefetch("summaries", queryset=MetricSummary.objects.order_by("key"))
    )


def run_for_user(user: User, run_id: int | str) -> Run:
    if not user.is_authenticated:
        raise NotFound(f"run {run_id} not found")
    try:
        return (
            Run.objects.select_related("experiment", "parent", "remix_of")
            .prefetch_related("summaries")
            .get(pk=int(run_id), experiment__owner=user)
        )
    except (Run.DoesNotExist, ValueError, TypeError):
        raise NotFound(f"run {run_id} not found", field="run") from None


def runs_for_compare(user: User, run_ids: Sequence[int]) -> list[Run]:
    """The runs named, in the order named; unknown or foreign ids are a 404 for the whole set."""
    runs = {run.pk: run for run in runs_for_user(user).filter(pk__in=run_ids)}
    missing = [run_id for run_id in run_ids if run_id not in runs]
    if missing:
        raise NotFound(f"run {missing[0]} not found")
    return [runs[run_id] for run_id in run_ids]


def run_metric_keys(run: Run) -> list[str]:
    return sorted(summary.key for summary in run.summaries.all())


@dataclass(frozen=True, slots=True)
class Series:
    steps: list[int]
    values: list[float]
    timestamps_ms: list[int] | None
    n_points_total: int


def _downsampled(
    run: Run, key: str, summary: MetricSummary, max_points: int, with_timestamps: bool
) -> Series | None:
    """A series read from its rollups, or None when no rollup level fits (then read it all)."""
    shift = choose_shift(summary.first_step, summary.last_step, max_points)
    if shift is None:
        return None
    steps, values = candidate_points(*metric_store.fetch_rollup(run.pk, key, shift))
    # The first and last points are part of the curve's shape whatever their values; the
    # summary knows both, so they join the candidates without another query. They are added
    # rather than put in place of the end candidates, which may be a spike of the first or
    # last bucket; LTTB always keeps the two ends.
    if steps[0] != summary.first_step:
        steps.insert(0, summary.first_step)
        values.insert(0, summary.first_value)
    if steps[-1] != summary.last_step:
        steps.append(summary.last_step)
        values.append(summary.last_value)
    kept = largest_triangle_three_buckets(steps, values, max_points)
    steps = [steps[i] for i in kept]
    values = [values[i] for i in kept]
    stamps = None
    if with_timestamps:
        stamped = metric_store.fetch_points_at(run.pk, key, steps)
        stamps = [stamped[step][1] for step in steps]
    return Series(steps, values, stamps, summary.n_points)


def run_metric_series(
    run: Run,
    keys: Sequence[str],
    *,
    max_points: int | None = None,
    with_timestamps: bool = False,
) -> dict[str, Series]:
    """Each requested metric of a run, whole or downsampled to at most `max_points` points.

    A downsampled read uses the rollups: its cost depends on `max_points`, not on the length
    of the series. Keys the run never logged come back empty rather than as an error, so a
    chart of several runs can ask every run for the same keys.
    """
    if len(keys) > MAX_SERIES_KEYS:
        raise InvalidInput(f"ask for at most {MAX_SERIES_KEYS} keys at once", field="keys")
    if max_points is not None and max_points < 3:
        raise InvalidInput("max_points must be at least 3", field="max_points")
    summaries = {summary.key: summary for summary in run.summaries.all()}
    series: dict[str, Series] = {}
    for key in keys:
        summary = summaries.get(key)
        if summary is None:
            series[key] = Series([], [], [] if with_timestamps else None, 0)
            continue
        if max_points is not None and summary.n_points > max_points:
            downsampled = _downsampled(run, key, summary, max_points, with_timestamps)
            if downsampled is not None:
                series[key] = downsampled
                continue
        steps, values, stamps = metric_store.fetch_series(
            run.pk, key, with_timestamps=with_timestamps
        )
        if max_points is not None and len(steps) > max_points:
            kept = largest_triangle_three_buckets(steps, values, max_points)
            steps = [steps[i] for i in kept]
            values = [values[i] for i in kept]
            stamps = [stamps[i] for i in kept] if stamps is not None else None
        series[key] = Series(steps, values, stamps, summary.n_points)
    return series


def artifacts_of_run(run: Run) -> QuerySet[Artifact]:
    return Artifact.objects.filter(run=run).order_by("path")


def artifact_of_run(run: Run, artifact_id: int | str) -> Artifact:
    try:
        return Artifact.objects.get(run=run, pk=int(artifact_id))
    except (Artifact.DoesNotExist, ValueError, TypeError):
        raise NotFound(f"artifact {artifact_id} not found") from None


def api_tokens_for_user(user: User) -> QuerySet[ApiToken]:
    if not user.is_authenticated:
        return ApiToken.objects.none()
    return ApiToken.objects.filter(user=user)


def api_token_by_digest(digest: str) -> ApiToken | None:
    return (
        ApiToken.objects.select_related("user")
        .filter(key_digest=digest, revoked_at__isnull=True, user__is_active=True)
        .first()
    )
