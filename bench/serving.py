"""Serving benchmark: the predict endpoint against calling the model in-process, and the gallery
home with 10,000 models.

    .venv/bin/python bench/serving.py [--seconds 8] [--models 10000] [--web-workers 1]

A private studio (`tests.studio.Studio`: its own data dir, SQLite) gets three published models:
a logistic regression on the digits as a 64-column table (scikit-learn's 8x8 digits, the model
`mlflow models serve` was measured with here: 915 req/s with 4 clients, p50 1.85 ms sequential),
a 100-tree random forest on the same table (its export is exact, so `auto` answers it with ONNX
too), and the digits CNN (32x32 PNGs, sent as base64). The studio's ASGI server (uvicorn, as
`make run` serves, with `--web-workers` processes) answers `POST /api/v1/models/<name>/predict/`
with one input per request; 1 and then 4 client processes send requests back to back over
keep-alive connections for `--seconds` each, first with the default runtime (`auto`: the
version's checked ONNX export in ONNX Runtime, for all three) and then `?runtime=in-process`
(PyTorch / scikit-learn with the Python brushes). The first request of each route goes through
Django; the next ones are answered by the predict lane (`gallery/predict_lane.py`). Figures: p50
/ p99 latency and requests per second. Against them, the same single-input prediction called
in-process through each host, no HTTP. Then the gallery home and `/models/` with `--models`
public models, median server time of 20 requests through Django's test client (goal ≤ 150 ms).
"""

from __future__ import annotations

import argparse
import base64
import http.client
import io
import json
import multiprocessing
import os
import sys
import tempfile
import time
from pathlib import Path
from urllib.parse import urlsplit

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from tests.studio import Studio  # noqa: E402  (needs the repo root on sys.path)

MLFLOW_REQ_PER_S_4_CLIENTS = 915.0
GOAL_FACTOR = 1.5
HOME_GOAL_MS = 150.0
# Trains and publishes both models in the studio; prints the token and one input of each.
SETUP = """
import io, json
import numpy as np
from django.contrib.auth import get_user_model
from sklearn.datasets import load_digits
from gallery.demo_datasets import digits_zip
from pipelines.publishing import publish_run
from pipelines.runner import execute_run
from pipelines.services import start_run
from registry import services
user = get_user_model().objects.create_user("bench", password="bench-password-123")
_token, key = services.api_token_create(user=user, name="serving bench")
experiment = services.experiment_create(owner=user, name="serving")
digits = load_digits()
columns = [f"p{i}" for i in range(64)]
pairs = zip(digits.data, digits.target)
rows = "\\n".join(",".join(f"{v:g}" for v in row) + f",{t}" for row, t in pairs)
csv = ",".join(columns) + ",digit\\n" + rows + "\\n"
_, table = services.dataset_create(owner=user, name="digits table", modality="tabular",
                                   upload=io.BytesIO(csv.encode()), original_name="digits.csv")
_, images = services.dataset_create(owner=user, name="digits", modality="image",
                                    upload=io.BytesIO(digits_zip()), original_name="d.zip")
configs = {
    "digits-logreg": {"dataset_version": table.pk, "target": "digit", "task": "classification",
                      "template": "logistic_regression", "device": "cpu"},
    "digits-forest": {"dataset_version": table.pk, "target": "digit", "task": "classification",
                      "template": "random_forest", "device": "cpu"},
    "digits-cnn": {"dataset_version": images.pk, "task": "classification", "template": "cnn",
                   "params": {"epochs": 5}, "device": "cpu"},
}
for name, config in configs.items():
    run = start_run(owner=user, experiment=experiment, name=name, config=config)
    assert execute_run(run.pk) == "succeeded", run.pk
    run.refresh_from_db()
    version = publish_run(user=user, run=run, name=name, visibility="public")
    services.model_alias_move(user=user, model=version.model, alias="production", version=version)
print(json.dumps({"key": key}))
"""


def one_table_row() -> dict:
    from sklearn.datasets import load_digits

    row = load_digits().data[7]
    return {f"p{i}": float(value) for i, value in enumerate(row)}


def one_png() -> str:
    from PIL import Image
    from sklearn.datasets import load_digits

    pixels = (load_digits().images[7] * (255 / 16)).astype("uint8")
    buffer = io.BytesIO()
    Image.fromarray(pixels, mode="L").resize((32, 32)).save(buffer, format="PNG")
    return base64.b64encode(buffer.getvalue()).decode()


def client(url: str, key: str, body: bytes, seconds: float, results) -> None:
    """One client process: requests back to back on one keep-alive connection."""
    parts = urlsplit(url)
    connection = http.client.HTTPConnection(parts.hostname, parts.port, timeout=30)
    headers = {"Authorization": f"Token {key}", "Content-Type": "application/json"}
    latencies, errors = [], 0
    deadline = time.perf_counter() + seconds
    while time.perf_counter() < deadline:
        started = time.perf_counter()
        connection.request("POST", parts.path + "?" + parts.query, body=body, headers=headers)
        response = connection.getresponse()
        response.read()
        if response.status != 200:
            errors += 1
        latencies.append(time.perf_counter() - started)
    results.put((latencies, errors))


def load(url: str, key: str, body: bytes, n_clients: int, seconds: float) -> dict:
    results = multiprocessing.Queue()
    processes = [
        multiprocessing.Process(target=client, args=(url, key, body, seconds, results))
        for _ in range(n_clients)
    ]
    for process in processes:
        process.start()
    gathered = [results.get() for _ in processes]
    for process in processes:
        process.join()
    latencies = sorted(value for values, _ in gathered for value in values)
    return {
        "p50_ms": 1000 * latencies[len(latencies) // 2],
        "p99_ms": 1000 * latencies[min(len(latencies) - 1, int(0.99 * len(latencies)))],
        "per_s": len(latencies) / seconds,
        "errors": sum(errors for _, errors in gathered),
    }


def in_process(studio: Studio, name: str, input_json: str, runtime: str) -> dict:
    """The same one-input prediction through this runtime's host, in a studio process, no HTTP."""
    script = f"""
import json, time
from gallery.hosting import host_for
from registry.models import ModelVersion
version = ModelVersion.objects.get(model__name={name!r}, number=1)
host = host_for({runtime!r})
inputs = [json.loads({input_json!r})]
host.predict(version, inputs)
times = []
deadline = time.perf_counter() + 3
while time.perf_counter() < deadline:
    started = time.perf_counter()
    host.predict(version, inputs)
    times.append(time.perf_counter() - started)
times.sort()
print(json.dumps({{"p50_ms": 1000 * times[len(times) // 2],
                  "p99_ms": 1000 * times[int(0.99 * len(times))], "per_s": len(times) / 3}}))
"""
    return json.loads(studio.manage("shell", "-c", script).strip().splitlines()[-1])


HOME = """
import json, statistics, time
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.db import connection
from django.contrib.auth import get_user_model
from registry.models import RegisteredModel
owner = get_user_model().objects.get(username="bench")
existing = RegisteredModel.objects.count()
RegisteredModel.objects.bulk_create(
    [RegisteredModel(owner=owner, name=f"model-{{i:05d}}", modality="image", task="classification",
                     visibility="public", headline_metric="test_accuracy",
                     headline_value=0.5 + (i % 500) / 1000, headline_score=0.5 + (i % 500) / 1000,
                     n_predictions=i % 97, description="a benchmark model")
     for i in range({n_models} - existing)], batch_size=2000)
client = Client()
result = {{}}
for path in ("/", "/models/", "/models/?sort=best", "/models/?q=model-09&page=3"):
    client.get(path)
    times = []
    for _ in range(20):
        started = time.perf_counter()
        response = client.get(path)
        times.append(1000 * (time.perf_counter() - started))
        assert response.status_code == 200
    with CaptureQueriesContext(connection) as queries:
        client.get(path)
    result[path] = {{"ms": statistics.median(times), "queries": len(queries.captured_queries)}}
print(json.dumps({{"n": RegisteredModel.objects.count(), "pages": result}}))
"""


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=8.0)
    parser.add_argument("--models", type=int, default=10_000)
    parser.add_argument("--web-workers", type=int, default=1)
    arguments = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="canvascraft-serving-") as data_dir:
        studio = Studio(Path(data_dir))
        studio.env["CANVASCRAFT_SEED_DEMO_MODELS"] = "false"
        studio.env["CANVASCRAFT_PREDICTION_LOG_EVERY"] = "1"
        try:
            studio.manage("migrate", "-v0")
            key = json.loads(studio.manage("shell", "-c", SETUP).strip().splitlines()[-1])["key"]
            base = studio.serve(workers=arguments.web_workers)
            print(
                f"CanvasCraft serving — {os.cpu_count()} CPUs, uvicorn "
                f"({arguments.web_workers} process{'es' if arguments.web_workers > 1 else ''}), "
                "SQLite"
            )
            inputs = {
                "digits-logreg": one_table_row(),
                "digits-forest": one_table_row(),  # trees, through an exact export
                "digits-cnn": one_png(),
            }
            for name, value in inputs.items():
                report(studio, base, key, name, value, arguments.seconds)
            pages = json.loads(
                studio.manage("shell", "-c", HOME.format(n_models=arguments.models))
                .strip()
                .splitlines()[-1]
            )
            print(f"\ngallery with {pages['n']:,} models (Django test client, median of 20):")
            for path, figures in pages["pages"].items():
                verdict = "ok" if figures["ms"] <= HOME_GOAL_MS else "MISS"
                print(
                    f"  {path:<28} {figures['ms']:7.1f} ms  {figures['queries']} queries  "
                    f"(goal ≤ {HOME_GOAL_MS:.0f} ms: {verdict})"
                )
        finally:
            studio.close()


def report(studio: Studio, base: str, key: str, name: str, value, seconds: float) -> None:
    body = json.dumps({"inputs": [value]}).encode()
    url = f"{base}/api/v1/models/{name}/predict/?alias=production"
    print(f"\n{name}  ({len(body):,} bytes a request)")
    for runtime in ("onnx", "in-process"):
        local = in_process(studio, name, json.dumps(value), runtime)
        print(
            f"  {runtime + ' host, no HTTP':<27} p50 {local['p50_ms']:6.2f} ms  "
            f"p99 {local['p99_ms']:6.2f} ms  {local['per_s']:8.0f} predictions/s"
        )
    for label, query in (("auto", ""), ("in-process", "&runtime=in-process")):
        load(url + query, key, body, 1, 1.0)  # warm: the model loads, the lane learns the route
        for n_clients in (1, 4):
            figures = load(url + query, key, body, n_clients, seconds)
            line = (
                f"  HTTP {label}, {n_clients} client{'s' if n_clients > 1 else ' '}"
                f"{' ' * (13 - len(label))}p50 {figures['p50_ms']:6.2f} ms  "
                f"p99 {figures['p99_ms']:6.2f} ms  {figures['per_s']:8.0f} req/s  "
                f"errors {figures['errors']}"
            )
            if name == "digits-logreg" and n_clients == 4 and label == "auto":
                goal = GOAL_FACTOR * MLFLOW_REQ_PER_S_4_CLIENTS
                verdict = "ok" if figures["per_s"] >= goal else "MISS"
                line += f"  (goal ≥ {goal:.0f} req/s: {verdict})"
            print(line)


if __name__ == "__main__":
    main()
