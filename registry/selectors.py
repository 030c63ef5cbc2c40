"""Reads used by pages and the API, always scoped to the user asking."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from django.contrib.auth.models import AbstractBaseUser, AnonymousUser
from django.db.models import Count, F, FilteredRelation, Prefetch, Q, QuerySet
from django.db.models.fields.json import KeyTransform

from registry import metric_store
from registry.downsample import largest_triangle_three_buckets
from registry.errors import InvalidInput, NotFound
from registry.models import ApiToken, Artifact, Experiment, MetricSummary, Run, RunFeatureUse
from registry.rollups import ROLLUP_MIN_POINTS, SHIFTS, candidate_points, choose_shift
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


class _MetricJoins:
    """One LEFT JOIN to the summaries table per metric key a filter or sort mentions.

    A join on (run, key), which the unique index answers, lets the planner pick hash or merge
    joins for thousands of runs where a correlated subquery per run would not.
    """

    def __init__(self) -> None:
        self.aliases: dict[str, str] = {}

    def alias(self, runs: QuerySet[Run], key: str) -> tuple[QuerySet[Run], str]:
        if key not in self.aliases:
            self.aliases[key] = f"metric_{len(self.aliases)}"
            runs = runs.alias(
                **{
                    self.aliases[key]: FilteredRelation(
                        "summaries", condition=Q(summaries__key=key)
                    )
                }
            )
        return runs, self.aliases[key]


def _condition_q(condition: Condition, alias: str | None = None) -> Q:
    """The condition as a Q; metric and param conditions name the alias holding their value."""
    lookup = _LOOKUPS[condition.operator]
    negate = condition.operator == "!="
    if condition.target == "metric":
        q = Q(**{f"{alias}__last_value__{lookup}": condition.value})
        if negate:
            # "!=" keeps runs that logged the metric with another value.
            return Q(**{f"{alias}__last_value__isnull": False}) & ~q
        return q
    if condition.target == "param":
        q = Q(**{f"{alias}__{lookup}": condition.value})
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
    with_related: bool = True,
) -> QuerySet[Run]:
    """Runs of the user's experiments, filtered and sorted as the experiment page asks.

    With `with_related`, experiment and summaries come along (pages), so a page of runs costs a
    fixed number of queries; the API asks without and uses `metric_summaries_of`, which skips
    building a model object per summary.
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
    joins = _MetricJoins()
    for index, condition in enumerate(conditions):
        alias = None
        if condition.target == "metric":
            runs, alias = joins.alias(runs, condition.key)
        elif condition.target == "param":
            # An explicit key transform, not "params__<key>__<lookup>": a param named like
            # sklearn's "clf__max_depth" would otherwise be read as nested keys and lookups.
            alias = f"param_{index}"
            runs = runs.alias(**{alias: KeyTransform(condition.key, "params")})
        runs = runs.filter(_condition_q(condition, alias))
    if ordering is not None:
        if ordering.target == "metric":
            runs, alias = joins.alias(runs, ordering.key)
            expression = F(f"{alias}__last_value")
        elif ordering.target == "param":
            expression = KeyTransform(ordering.key, "params")
        else:
            expression = F(ordering.key)
        expression = (
            expression.desc(nulls_last=True)
            if ordering.descending
            else expression.asc(nulls_last=True)
        )
        runs = runs.order_by(expression, "-id")
    if not with_related:
        return runs
    return runs.select_related("experiment").prefetch_related(
        Prefetch("summaries", queryset=MetricSummary.objects.order_by("key"))
    )


def metric_summaries_of(run_ids: Sequence[int]) -> dict[int, dict[str, dict[str, float]]]:
    """{run id: {metric key: {last, step, min, max, n_points}}} in one query."""
    summaries: dict[int, dict[str, dict[str, float]]] = {run_id: {} for run_id in run_ids}
    rows = (
        MetricSummary.objects.filter(run_id__in=run_ids)
        .order_by("run_id", "key")
        .values_list(
            "run_id", "key", "last_value", "last_step", "min_value", "max_value", "n_points"
        )
    )
    for run_id, key, last, step, minimum, maximum, n_points in rows:
        summaries[run_id][key] = {
            "last": last,
            "step": step,
            "min": minimum,
            "max": maximum,
            "n_points": n_points,
        }
    return summaries


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
    # Ids past 64 bits name no run (and SQLite refuses them as parameters).
    storable = [run_id for run_id in run_ids if run_id <= 2**63 - 1]
    runs = {run.pk: run for run in runs_for_user(user).filter(pk__in=storable)}
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
    """A series read from its rollups, or None when it has none or no level fits (then it is
    read whole)."""
    if summary.n_points <= ROLLUP_MIN_POINTS:
        return None
    shift = choose_shift(summary.first_step, summary.last_step, max_points)
    if shift is None:
        return None
    n_buckets = (summary.last_step >> shift) - (summary.first_step >> shift) + 1
    if shift == SHIFTS[0] and 2 * n_buckets < max_points:
        # Even the finest level would give far fewer points than asked; the series is at most
        # 2^shift times max_points long, so reading it whole stays cheap.
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


def feature_uses_of_run(run: Run) -> QuerySet[RunFeatureUse]:
    """Which stored features a run trained on, and whether each was a feature-store hit."""
    return RunFeatureUse.objects.filter(run=run).select_related(
        "feature_set__dataset_version__dataset"
    )


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
