"""Creators' sweep pages: my sweeps, one sweep (facts, best trial, charts, trials), its chart
data, its parameter importances, and stop / resume.

The page renders from a fixed number of queries whatever the number of trials (counts and the
best trial come from the database, the table shows one page of 50); the charts read their data
from `sweep_data` (one `values_list` query, columns of numbers) and draw it in the browser
(static/js/sweep_page.js), which then follows the sweep's stream (/ws/sweeps/<id>/).
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta
from typing import Any

import orjson
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.cache import cache
from django.core.paginator import Paginator
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.text import slugify
from django.views.decorators.http import require_GET, require_POST

from gallery import sweep_selectors
from gallery.training_run_page import uplot_available
from registry import streams
from registry.errors import RegistryError
from registry.models import Sweep, SweepStatus, SweepStrategy, SweepTrial, TrialState
from registry.services.live import sweep_status_payload

SWEEPS_PER_PAGE = 30
TRIALS_PER_PAGE = 50
TABLE_ORDERS = ("-number", "number", "value", "-value")
ACTIVE_STATUSES = (SweepStatus.QUEUED, SweepStatus.RUNNING)
RESUMABLE_STATUSES = (SweepStatus.STOPPED, SweepStatus.FAILED)
# Importances (pipelines.search) from at most this many complete trials, cached per (sweep,
# number of finished trials).
IMPORTANCE_MAX_TRIALS = 2_000
IMPORTANCE_CACHE_S = 24 * 3600
PARETO_CACHE_S = 3600


# ---------- formatting (static/js/sweep_page.js formats live rows the same way) ----------
def format_value(value: Any) -> str:
    if not isinstance(value, int | float) or isinstance(value, bool):
        return "—" if value is None else str(value)
    magnitude = abs(value)
    if magnitude and (magnitude >= 1e5 or magnitude < 1e-3):
        mantissa, exponent = f"{value:.3e}".split("e")
        return f"{mantissa}e{int(exponent):+d}"  # 1.235e+5, as JavaScript writes it
    return f"{value:.4f}".rstrip("0").rstrip(".")  # 0.2026, 0.05, 392


def format_param(value: Any) -> str:
    if value is None:
        return "—"
    if isinstance(value, float):
        return f"{value:.4g}"
    return str(value)


def format_duration(duration: timedelta | None) -> str:
    if duration is None:
        return "—"
    seconds = max(0.0, duration.total_seconds())
    if seconds < 60:
        return f"{seconds:.1f} s"
    minutes, rest = divmod(round(seconds), 60)
    if minutes < 60:
        return f"{minutes} min {rest} s" if rest else f"{minutes} min"
    hours, minutes = divmod(minutes, 60)
    return f"{hours} h {minutes} min" if minutes else f"{hours} h"


# ---------- reads ----------
def _sweep_or_404(request: HttpRequest, sweep_id: int) -> Sweep:
    sweep = sweep_selectors.sweep_for_user(request.user, sweep_id)
    if sweep is None:
        raise Http404("sweep not found")
    return sweep


SAMPLER_LABELS = {"tpe": "TPE", "cmaes": "CMA-ES", "gp": "Gaussian process"}


def strategy_label(sweep: Sweep) -> str:
    """ "Random search", "Grid search", "Bayesian search (TPE)" or with its other sampler."""
    if sweep.strategy != SweepStrategy.BAYESIAN:
        return sweep.get_strategy_display()
    sampler = (sweep.strategy_options or {}).get("sampler") or "tpe"
    return f"Bayesian search ({SAMPLER_LABELS.get(sampler, sampler)})"


def _objectives(sweep: Sweep) -> list[dict[str, Any]]:
    return [
        {
            "metric": objective.get("metric", ""),
            "direction": objective.get("direction", "minimize"),
            "arrow": "↑" if objective.get("direction") == "maximize" else "↓",
        }
        for objective in sweep.objectives or []
    ]


def _budget(sweep: Sweep) -> str:
    parts = []
    if sweep.n_trials:
        parts.append(f"{sweep.n_trials:,} trial{'s' if sweep.n_trials != 1 else ''}")
    if sweep.time_budget_s:
        parts.append(format_duration(timedelta(seconds=sweep.time_budget_s)))
    return " or ".join(parts) or "unlimited"


def _values(trial: SweepTrial, n_objectives: int) -> list[str]:
    values = trial.values or []
    return [format_value(values[i] if i < len(values) else None) for i in range(n_objectives)]


def _trial_row(trial: SweepTrial, names: list[str], n_objectives: int) -> dict[str, Any]:
    params = trial.params or {}
    ended = trial.ended_at
    return {
        "trial": trial,
        "params": [format_param(params.get(name)) for name in names],
        "values": _values(trial, n_objectives),
        "duration": format_duration(ended - trial.created_at if ended else None),
    }


def _counts(status: dict[str, Any]) -> dict[str, int]:
    counts = {state: status[f"n_{state}"] for state in TrialState.values}
    counts["done"] = counts["complete"] + counts["pruned"] + counts["failed"]
    counts["started"] = counts["done"] + counts["running"]
    return counts


def _best_card(sweep: Sweep, best: dict | None, objectives: list[dict]) -> dict[str, Any]:
    """The best trial's card from the status's `best` ({number, run, values, params}): its
    value per objective and its params ("—" before any)."""
    values = (best["values"] if best else None) or []
    params = (best["params"] if best else None) or {}
    return {
        "trial": best,
        "values": [
            {**objective, "value": format_value(values[i] if i < len(values) else None)}
            for i, objective in enumerate(objectives)
        ],
        "params": [
            (name, format_param(params.get(name))) for name in sweep_selectors.param_names(sweep)
        ],
    }


def _page_config(sweep: Sweep, order_by: str, page_number: int) -> dict[str, Any]:
    """What static/js/sweep_page.js reads (json_script)."""
    return {
        "sweep": sweep.pk,
        "status": sweep.status,
        "is_active": sweep.status in ACTIVE_STATUSES,
        "stream": f"/ws/sweeps/{sweep.pk}/",
        "data_url": reverse("gallery:sweep-data", args=[sweep.pk]),
        "importances_url": reverse("gallery:sweep-importances", args=[sweep.pk]),
        "run_url": reverse("gallery:run", args=[0]).replace("/0/", "/{id}/"),
        "remix_url": reverse("gallery:run-remix", args=[0]).replace("/0/", "/{id}/"),
        "publish_url": reverse("gallery:run-publish", args=[0]).replace("/0/", "/{id}/"),
        "objectives": _objectives(sweep),
        "params": sweep_selectors.param_names(sweep),
        "n_trials": sweep.n_trials,
        # New trials go into the table only where they belong: page 1, newest first.
        "live_rows": page_number == 1 and order_by == "-number",
        "per_page": TRIALS_PER_PAGE,
    }


# ---------- pages ----------
@login_required
@require_GET
def sweep_list(request: HttpRequest) -> HttpResponse:
    sweeps = sweep_selectors.sweeps_for_user(request.user)
    page = Paginator(sweeps, SWEEPS_PER_PAGE).get_page(request.GET.get("page"))
    rows = []
    for sweep in page.object_list:
        objectives = _objectives(sweep)
        done = sweep.n_done
        rows.append(
            {
                "sweep": sweep,
                "strategy": strategy_label(sweep),
                "objective": objectives[0] if objectives else None,
                "n_objectives": len(objectives),
                "best": format_value(sweep_selectors.best_value(sweep)),
                "done": done,
                "percent": min(100, round(100 * done / sweep.n_trials)) if sweep.n_trials else None,
                "is_active": sweep.status in ACTIVE_STATUSES,
            }
        )
    return render(
        request,
        "gallery/sweeps/list.html",
        {"page": page, "rows": rows, "has_active": any(row["is_active"] for row in rows)},
    )


@login_required
@require_GET
def sweep_detail(request: HttpRequest, sweep_id: int) -> HttpResponse:
    sweep = _sweep_or_404(request, sweep_id)
    status = sweep_status_payload(sweep)  # counts and the best trial, as the stream says them
    counts = _counts(status)
    objectives = _objectives(sweep)
    order_by = request.GET.get("order_by", "")
    if order_by not in TABLE_ORDERS:
        order_by = "-number"
    trials = sweep_selectors.trial_page_queryset(sweep, order_by)
    page = Paginator(trials, TRIALS_PER_PAGE).get_page(request.GET.get("page"))
    names = sweep_selectors.param_names(sweep)
    n_objectives = max(1, len(objectives))
    rows = [_trial_row(trial, names, n_objectives) for trial in page.object_list]
    return render(
        request,
        "gallery/sweeps/detail.html",
        {
            "sweep": sweep,
            "strategy": strategy_label(sweep),
            "counts": counts,
            "percent_done": (
                min(100, round(100 * counts["done"] / sweep.n_trials)) if sweep.n_trials else None
            ),
            "objectives": objectives,
            "param_names": names,
            "budget": _budget(sweep),
            "best": _best_card(sweep, status["best"], objectives),
            "is_active": sweep.status in ACTIVE_STATUSES,
            "can_resume": sweep.status in RESUMABLE_STATUSES,
            "page": page,
            "rows": rows,
            "order_by": order_by,
            "config": _page_config(sweep, order_by, page.number),
            "uplot": uplot_available(),
            "publish_name": slugify(sweep.name)[:100] or f"sweep-{sweep.pk}",
        },
    )


# ---------- chart data ----------
def _json(data: dict[str, Any]) -> HttpResponse:
    response = HttpResponse(orjson.dumps(data), content_type="application/json")
    response["Cache-Control"] = "no-store"
    return response


def _complete_records(rows: list[sweep_selectors.TrialRow]) -> list:
    """The complete trials as `pipelines.search.TrialRecord`s."""
    from pipelines.sweep_pruning import trial_record

    return [
        trial_record(number, params, state, values, {})
        for number, state, values, params, _run in rows
        if state == TrialState.COMPLETE and values
    ]


def _pareto(sweep: Sweep, rows: list[sweep_selectors.TrialRow]) -> list[int] | None:
    """The numbers of the Pareto-optimal trials (multi-objective sweeps only), cached per
    (sweep, number of complete trials): the page reads the data again as trials end."""
    objectives = sweep.objectives or []
    if len(objectives) < 2:
        return None
    n_complete = sum(1 for _n, state, values, *_ in rows if state == TrialState.COMPLETE and values)
    key = f"sweep-pareto:{sweep.pk}:{n_complete}"
    front = cache.get(key)
    if front is None:
        # Imported when used: pipelines.search imports Optuna (~0.2 s).
        from pipelines import search

        directions = [objective["direction"] for objective in objectives]
        front = search.pareto_front(_complete_records(rows), directions)
        cache.set(key, front, PARETO_CACHE_S)
    return front


@login_required
@require_GET
def sweep_data(request: HttpRequest, sweep_id: int) -> HttpResponse:
    """Every trial as columns (see `sweep_selectors.chart_columns`), with `seq`: the sweep
    stream's head, read before the trials, so the data shows at least every event up to
    `seq`. The page applies its stream messages after `seq` again over the data: a trial
    message carries the trial's whole state, so one the data already shows changes nothing."""
    sweep = _sweep_or_404(request, sweep_id)
    seq = streams.stream_head(streams.sweep_stream(sweep.pk))
    rows = sweep_selectors.trial_rows(sweep.pk)
    data = sweep_selectors.chart_columns(sweep, rows)
    data.update(
        sweep=sweep.pk,
        seq=seq,
        objectives=_objectives(sweep),
        pareto=_pareto(sweep, rows),
    )
    return _json(data)


def _importances(sweep: Sweep) -> dict[str, Any]:
    from pipelines import search

    rows = sweep_selectors.trial_rows(sweep.pk, states=(TrialState.COMPLETE,))
    records = _complete_records(rows)
    importances = search.param_importances(
        sweep.space,
        records,
        direction=sweep.objectives[0]["direction"],
        max_trials=IMPORTANCE_MAX_TRIALS,
        seed=sweep.seed,
    )
    return {
        "importances": importances,
        "n_trials": min(len(records), IMPORTANCE_MAX_TRIALS),
        "reason": (
            "" if importances else "Importances need at least 2 complete trials that differ."
        ),
    }


@login_required
@require_GET
def sweep_importances(request: HttpRequest, sweep_id: int) -> HttpResponse:
    """{param: importance} of the primary objective, computed on at most 2,000 complete
    trials and cached until another trial finishes."""
    sweep = _sweep_or_404(request, sweep_id)
    n_done = SweepTrial.objects.filter(
        sweep_id=sweep.pk, state__in=sweep_selectors.FINISHED_STATES
    ).count()
    key = f"sweep-importances:{sweep.pk}:{n_done}"
    result = cache.get(key)
    if result is None:
        result = _importances(sweep)
        cache.set(key, result, IMPORTANCE_CACHE_S)
    return _json({**result, "sweep": sweep.pk, "n_done": n_done})


# ---------- stop / resume ----------
def _change_sweep(
    request: HttpRequest, sweep_id: int, change: Callable[..., Sweep], done: str
) -> HttpResponse:
    """Stops or resumes the creator's sweep and goes back to its page. A refusal (nothing to
    stop, nothing to resume, no budget left) is news to the creator, not an error."""
    sweep = _sweep_or_404(request, sweep_id)
    try:
        sweep = change(sweep=sweep)
    except RegistryError as error:
        messages.info(request, error.message)
    else:
        messages.success(request, f"“{sweep.name}” {done}")
    return redirect("gallery:sweep", sweep_id=sweep.pk)


@login_required
@require_POST
def sweep_stop(request: HttpRequest, sweep_id: int) -> HttpResponse:
    # Imported when used: orchestration pulls in the search strategies (Optuna).
    from pipelines.sweeps import stop_sweep

    return _change_sweep(
        request, sweep_id, stop_sweep, "stopped: no new trials start, running ones are cancelled."
    )


@login_required
@require_POST
def sweep_resume(request: HttpRequest, sweep_id: int) -> HttpResponse:
    from pipelines.sweeps import resume_sweep

    return _change_sweep(request, sweep_id, resume_sweep, "resumed.")
