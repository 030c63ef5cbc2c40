"""Tracking benchmark: metric logging and reading, run listing — on SQLite and PostgreSQL.

    .venv/bin/python bench/tracking.py                 # both databases (PostgreSQL if it answers)
    .venv/bin/python bench/tracking.py --database sqlite

Each database gets a fresh schema, a real ASGI server (uvicorn, as `make run` serves) on a free
local port and a keep-alive HTTP client, so the HTTP figures include parsing, validation, auth,
JSON and the socket. Figures are medians of several repetitions. Goals and MLflow 3.17 figures,
measured on the same kind of 2-core machine, are printed beside ours.
"""

from __future__ import annotations

import argparse
import http.client
import math
import os
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import scratch_postgres  # bench/scratch_postgres.py, beside this script

ROOT = Path(__file__).resolve().parent.parent
PG_BENCH_DB = "canvascraft_bench"
N_POINTS = 100_000
BATCH = 10_000
N_RUNS_LISTED = 2_000

GOALS = [
    # (name, unit, ours must be, goal, MLflow 3.17 on this machine)
    ("service batch logging", "points/s", ">=", 100_000, "11,350 (log_batch)"),
    ("HTTP batch logging", "points/s", ">=", 50_000, "8,600 (server)"),
    ("HTTP full read of 100,000 points", "s", "<=", 0.25, "3.8 s"),
    ("HTTP read downsampled to 500", "ms", "<=", 30, "250 ms (sampled chart call)"),
    ("HTTP 100 best of 2,000 runs, filtered", "ms", "<=", 15, "120-150 ms (search_runs)"),
]


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


class Client:
    """A keep-alive HTTP client speaking to the studio's API with a token."""

    def __init__(self, port: int, token: str) -> None:
        self.connection = http.client.HTTPConnection("127.0.0.1", port, timeout=120)
        self.headers = {"Authorization": f"Token {token}"}

    def request(self, method: str, path: str, body: bytes | None = None) -> tuple[int, bytes]:
        headers = dict(self.headers)
        if body is not None:
            headers["Content-Type"] = "application/json"
        try:
            self.connection.request(method, path, body=body, headers=headers)
            response = self.connection.getresponse()
        except (http.client.RemoteDisconnected, ConnectionResetError, BrokenPipeError):
            # uvicorn closes a keep-alive connection idle for 5 s (while runs are created
            # through the service): open a new one and send again, as HTTP clients do.
            self.connection.close()
            self.connection.request(method, path, body=body, headers=headers)
            response = self.connection.getresponse()
        return response.status, response.read()


def _points(offset: int, count: int, key: str = "loss") -> list[dict]:
    return [
        {"key": key, "step": step, "value": math.sin(step / 500) + step * 1e-6}
        for step in range(offset, offset + count)
    ]


def _median_time(repeats: int, action) -> float:
    timings = []
    for _ in range(repeats):
        started = time.perf_counter()
        action()
        timings.append(time.perf_counter() - started)
    return statistics.median(timings)


def _setup_django():
    sys.path.insert(0, str(ROOT))
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "canvascraft.settings")
    import django

    django.setup()
    from django.core.management import call_command

    call_command("migrate", verbosity=0)


def _wait_for_server(port: int, process: subprocess.Popen) -> None:
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise SystemExit("the server exited during start-up")
        try:
            connection = http.client.HTTPConnection("127.0.0.1", port, timeout=1)
            connection.request("GET", "/health/")
            if connection.getresponse().status == 200:
                return
        except OSError:
            time.sleep(0.2)
    raise SystemExit("the server did not answer within 30 s")


def run_one_database() -> dict[str, float]:
    """Runs inside a child process whose environment names the database."""
    _setup_django()
    import orjson
    from django.contrib.auth.models import User

    from canvascraft.server import server_command, server_environment
    from registry import selectors, services

    user = User.objects.create_user("bench", password="bench-password-123")
    _token, key = services.api_token_create(user=user, name="bench")
    experiment = services.experiment_create(owner=user, name="bench")
    results: dict[str, float] = {}

    # 1. Through the service: validation + upsert + summaries + rollups, 10 batches of 10,000.
    points = _points(0, N_POINTS)

    def log_through_service() -> None:
        run = services.run_create(owner=user, experiment=experiment, name="service")
        for start in range(0, N_POINTS, BATCH):
            batch = services.check_metric_batch(points[start : start + BATCH])
            services.run_log_metrics(run=run, batch=batch)

    results["service batch logging"] = N_POINTS / _median_time(3, log_through_service)

    port = _free_port()
    server = subprocess.Popen(
        server_command("127.0.0.1", port),
        cwd=ROOT,
        env=server_environment({**os.environ, "LOG_LEVEL": "WARNING"}),
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        _wait_for_server(port, server)
        client = Client(port, key)
        bodies = [
            orjson.dumps({"metrics": points[start : start + BATCH]})
            for start in range(0, N_POINTS, BATCH)
        ]
        run_ids: list[int] = []

        def log_over_http() -> None:
            status, body = client.request(
                "POST", "/api/v1/runs/", orjson.dumps({"experiment": experiment.pk, "name": "http"})
            )
            assert status == 201, body
            run_id = orjson.loads(body)["id"]
            run_ids.append(run_id)
            for payload in bodies:
                status, body = client.request("POST", f"/api/v1/runs/{run_id}/metrics/", payload)
                assert status == 201, body

        results["HTTP batch logging"] = N_POINTS / _median_time(3, log_over_http)

        run_id = run_ids[-1]
        expected_values = [point["value"] for point in points]

        def read_full() -> None:
            status, body = client.request("GET", f"/api/v1/runs/{run_id}/metrics/?keys=loss")
            series = orjson.loads(body)["series"]["loss"]
            assert status == 200 and series["values"] == expected_values, "not read back exactly"

        results["HTTP full read of 100,000 points"] = _median_time(5, read_full)

        def read_downsampled() -> None:
            status, body = client.request(
                "GET", f"/api/v1/runs/{run_id}/metrics/?keys=loss&max_points=500"
            )
            series = orjson.loads(body)["series"]["loss"]
            assert status == 200 and 0 < len(series["steps"]) <= 500

        read_downsampled()
        results["HTTP read downsampled to 500"] = _median_time(20, read_downsampled) * 1000

        listed = services.experiment_create(owner=user, name="two thousand runs")
        for index in range(N_RUNS_LISTED):
            run = services.run_create(
                owner=user,
                experiment=listed,
                name=f"trial-{index}",
                params={"lr": 10 ** -(1 + index % 4), "hidden_units": 32 * (1 + index % 8)},
            )
            accuracy = 0.5 + 0.5 * ((index * 7919) % N_RUNS_LISTED) / N_RUNS_LISTED
            services.run_log_metrics(
                run=run,
                batch=services.check_metric_batch(
                    [
                        {"key": "val_acc", "step": 0, "value": accuracy},
                        {"key": "val_loss", "step": 0, "value": 1 - accuracy},
                        {"key": "train_loss", "step": 0, "value": 0.9 - accuracy / 2},
                    ]
                ),
            )
        # A live database keeps planner statistics current (autovacuum, SQLite's optimize);
        # a freshly filled benchmark database has none yet, so gather them as that would.
        from django.db import connection

        with connection.cursor() as cursor:
            cursor.execute("ANALYZE")
        list_path = (
            f"/api/v1/runs/?experiment={listed.pk}&filter=val_acc%20%3E%200.9"
            "&order_by=-metrics.val_acc&page_size=100"
        )
        expected_ids = [
            run.pk
            for run in selectors.runs_for_user(
                user,
                experiment_id=listed.pk,
                filter_text="val_acc > 0.9",
                order_by="-metrics.val_acc",
            )[:100]
        ]

        def list_best() -> None:
            status, body = client.request("GET", list_path)
            page = orjson.loads(body)
            assert status == 200 and [run["id"] for run in page["results"]] == expected_ids
            assert all(run["metrics"]["val_acc"]["last"] > 0.9 for run in page["results"])

        list_best()
        results["HTTP 100 best of 2,000 runs, filtered"] = _median_time(20, list_best) * 1000
    finally:
        server.terminate()
        server.wait(timeout=10)
    return results


def _report(database: str, results: dict[str, float]) -> bool:
    print(f"\n{database}")
    print(f"  {'measure':40} {'ours':>14}   {'goal':>12}   MLflow 3.17 here")
    all_met = True
    for name, unit, direction, goal, mlflow in GOALS:
        value = results[name]
        met = value >= goal if direction == ">=" else value <= goal
        all_met &= met
        shown = f"{value:,.0f} {unit}" if unit == "points/s" else f"{value:.3g} {unit}"
        print(
            f"  {name:40} {shown:>14}   {direction} {goal:<9,} {'ok ' if met else 'MISS'}  {mlflow}"
        )
    return all_met


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--database", choices=["sqlite", "postgres", "both"], default="both")
    parser.add_argument("--child", action="store_true", help=argparse.SUPPRESS)
    arguments = parser.parse_args()
    if arguments.child:
        import json

        print("RESULTS " + json.dumps(run_one_database()))
        return
    databases = ["sqlite", "postgres"] if arguments.database == "both" else [arguments.database]
    print(
        f"CanvasCraft tracking benchmark — {os.cpu_count()} CPUs, Python {sys.version.split()[0]}"
    )
    all_met = True
    for database in databases:
        with tempfile.TemporaryDirectory(prefix="canvascraft-bench-") as data_dir:
            environment = {**os.environ, "CANVASCRAFT_DATA_DIR": data_dir, "LOG_LEVEL": "WARNING"}
            environment.pop("REDIS_URL", None)
            if database == "postgres":
                if not scratch_postgres.answers():
                    print("\npostgres: not reachable, skipped")
                    continue
                environment["DATABASE_URL"] = scratch_postgres.fresh_database(PG_BENCH_DB)
            else:
                environment.pop("DATABASE_URL", None)
            completed = subprocess.run(
                [sys.executable, __file__, "--child"],
                env=environment,
                cwd=ROOT,
                capture_output=True,
                text=True,
            )
            lines = [line for line in completed.stdout.splitlines() if line.startswith("RESULTS ")]
            if completed.returncode != 0 or not lines:
                print(completed.stdout[-3000:], completed.stderr[-3000:], sep="\n")
                raise SystemExit(f"{database}: benchmark failed")
            import json

            all_met &= _report(database, json.loads(lines[-1].removeprefix("RESULTS ")))
    print("\nall goals met" if all_met else "\nsome goals missed")


if __name__ == "__main__":
    main()
