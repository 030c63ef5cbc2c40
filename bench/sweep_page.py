"""Sweep page benchmark: the server time of a sweep's page and of its chart data, 10,000 trials.

    .venv/bin/python bench/sweep_page.py                      # SQLite (+ PostgreSQL, see below)
    DATABASE_URL=postgres://postgres@127.0.0.1:5432/test .venv/bin/python bench/sweep_page.py
    .venv/bin/python bench/sweep_page.py --trials 2000 --requests 50

Each database gets a fresh schema in a child process (SQLite in a temporary data dir; with
DATABASE_URL pointing at PostgreSQL, also a fresh database `canvascraft_bench_sweeps` on that
server, dropped at the end), one user and two sweeps of 10,000 trials written straight to the
tables (tests/sweep_rows.py: a run per trial, ~9% pruned, ~4% failed), one with one objective
and one with two. Requests go through Django's test client (the whole request: middleware,
session, view, template, JSON), so the figures are server time without the socket. Printed:
the median (and the slowest) of 20 requests, the number of queries, and the response size, for
  - the sweep page (newest trials first, and sorted by value),
  - the chart data endpoint (one objective; two objectives, with the Pareto front),
  - the importances endpoint, computed (cache cleared) and cached.
Goal: the page within 300 ms.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import scratch_postgres  # bench/scratch_postgres.py, beside this script

ROOT = Path(__file__).resolve().parent.parent
PAGE_GOAL_MS = 300
BENCH_DATABASE = "canvascraft_bench_sweeps"


def _measure(client, url: str, repeats: int, before=None) -> dict:
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    timings = []
    size = 0
    for _ in range(repeats):
        if before:
            before()
        started = time.perf_counter()
        response = client.get(url)
        timings.append((time.perf_counter() - started) * 1000)
        assert response.status_code == 200, (url, response.status_code)
        size = len(response.content)
    if before:
        before()
    with CaptureQueriesContext(connection) as queries:
        client.get(url)
    return {
        "median_ms": statistics.median(timings),
        "max_ms": max(timings),
        "queries": len(queries),
        "size_kb": size / 1024,
    }


def run_one_database(n_trials: int, repeats: int) -> dict[str, dict]:
    """Runs inside a child process whose environment names the database."""
    sys.path.insert(0, str(ROOT))
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "canvascraft.settings")
    import django

    django.setup()
    from django.contrib.auth import get_user_model
    from django.core.cache import cache
    from django.core.management import call_command
    from django.test import Client
    from django.test.utils import setup_test_environment

    from tests.sweep_rows import make_sweep

    call_command("migrate", verbosity=0)
    setup_test_environment()  # the test client's host, "testserver", is allowed
    user = get_user_model().objects.create_user("bench", password="bench-password-123")
    started = time.perf_counter()
    single = make_sweep(user, n_trials=n_trials, n_running=4, name="one objective")
    double = make_sweep(user, n_trials=n_trials, n_running=4, name="two", n_objectives=2)
    setup_s = time.perf_counter() - started
    client = Client()
    client.force_login(user)
    for url in (f"/sweeps/{single.pk}/", f"/sweeps/{double.pk}/data.json"):
        client.get(url)  # warm: imports (Optuna), template loading
    results = {
        "page": _measure(client, f"/sweeps/{single.pk}/", repeats),
        "page sorted by value": _measure(client, f"/sweeps/{single.pk}/?order_by=value", repeats),
        "page, two objectives": _measure(client, f"/sweeps/{double.pk}/", repeats),
        "data": _measure(client, f"/sweeps/{single.pk}/data.json", repeats),
        "data, two objectives + front": _measure(client, f"/sweeps/{double.pk}/data.json", repeats),
        "importances, computed": _measure(
            client, f"/sweeps/{single.pk}/importances.json", max(3, repeats // 4), cache.clear
        ),
        "importances, cached": _measure(client, f"/sweeps/{single.pk}/importances.json", repeats),
    }
    results["setup"] = {"seconds": setup_s}
    return results


def _report(database: str, n_trials: int, results: dict[str, dict]) -> bool:
    setup_s = results["setup"]["seconds"]
    print(f"\n{database}: {n_trials:,} trials per sweep (written in {setup_s:.1f} s)")
    print(f"  {'':34} {'median':>9} {'slowest':>9} {'queries':>8} {'size':>9}")
    for name, figures in results.items():
        if name == "setup":
            continue
        print(
            f"  {name:34} {figures['median_ms']:7.1f} ms {figures['max_ms']:6.1f} ms"
            f" {figures['queries']:8d} {figures['size_kb']:6.0f} KB"
        )
    met = results["page"]["median_ms"] <= PAGE_GOAL_MS
    print(f"  page goal ≤ {PAGE_GOAL_MS} ms: {'met' if met else 'MISSED'}")
    return met


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--trials", type=int, default=10_000)
    parser.add_argument("--requests", type=int, default=20)
    parser.add_argument("--child", action="store_true", help=argparse.SUPPRESS)
    arguments = parser.parse_args()
    if arguments.child:
        print("RESULTS " + json.dumps(run_one_database(arguments.trials, arguments.requests)))
        return
    print(
        f"CanvasCraft sweep page benchmark — {os.cpu_count()} CPUs, Python {sys.version.split()[0]}"
    )
    database_url = os.environ.get("DATABASE_URL", "")
    databases = ["sqlite"] + (["postgres"] if database_url.startswith("postgres") else [])
    all_met = True
    for database in databases:
        with tempfile.TemporaryDirectory(prefix="canvascraft-bench-") as data_dir:
            environment = {**os.environ, "CANVASCRAFT_DATA_DIR": data_dir, "LOG_LEVEL": "WARNING"}
            environment.pop("REDIS_URL", None)
            if database == "postgres":
                environment["DATABASE_URL"] = scratch_postgres.fresh_database(
                    BENCH_DATABASE, database_url
                )
            else:
                environment.pop("DATABASE_URL", None)
            try:
                completed = subprocess.run(
                    [
                        sys.executable,
                        __file__,
                        "--child",
                        "--trials",
                        str(arguments.trials),
                        "--requests",
                        str(arguments.requests),
                    ],
                    env=environment,
                    cwd=ROOT,
                    capture_output=True,
                    text=True,
                )
            finally:
                if database == "postgres":
                    scratch_postgres.drop_database(BENCH_DATABASE, database_url)
            lines = [line for line in completed.stdout.splitlines() if line.startswith("RESULTS ")]
            if completed.returncode != 0 or not lines:
                print(completed.stdout[-3000:], completed.stderr[-3000:], sep="\n")
                raise SystemExit(f"{database}: benchmark failed")
            results = json.loads(lines[-1].removeprefix("RESULTS "))
            all_met &= _report(database, arguments.trials, results)
    print("\nall goals met" if all_met else "\nsome goals missed")


if __name__ == "__main__":
    main()
