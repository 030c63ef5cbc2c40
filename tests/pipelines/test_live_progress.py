"""What a training run tells its watchers while it trains: the order of its status changes,
its phases, per-epoch progress with an ETA, and every epoch's metrics exactly once."""

from __future__ import annotations

import io

import pytest

from pipelines.runner import execute_run
from pipelines.services import start_run
from registry import services, streams
from registry.models import StreamEvent

CSV = "a,b,label\n" + "".join(
    f"{index % 7 * 0.5:.1f},{index % 5 * 0.2:.1f},{'xy'[index % 2]}\n" for index in range(80)
)


@pytest.mark.django_db(transaction=True)
def test_a_training_run_streams_its_status_phases_progress_and_epochs(owner, experiment):
    _, version = services.dataset_create(
        owner=owner,
        name="tiny",
        modality="tabular",
        upload=io.BytesIO(CSV.encode()),
        original_name="tiny.csv",
    )
    run = start_run(
        owner=owner,
        experiment=experiment,
        name="watched",
        config={
            "dataset_version": version.pk,
            "target": "label",
            "task": "classification",
            "template": "mlp",
            "device": "cpu",
            "params": {"epochs": 6, "patience": 6},
        },
    )

    assert execute_run(run.pk) == "succeeded"

    events = list(
        StreamEvent.objects.filter(stream__name=streams.run_stream(run.pk))
        .order_by("seq")
        .values_list("seq", "type", "payload")
    )
    assert [seq for seq, _, _ in events] == list(range(1, len(events) + 1))
    statuses = [payload["status"] for _, kind, payload in events if kind == "status"]
    assert statuses == ["queued", "running", "succeeded"]
    progress = [payload for _, kind, payload in events if kind == "progress"]
    phases = list(dict.fromkeys(p["phase"] for p in progress))
    assert phases == ["load dataset", "split", "preprocess", "train", "evaluate", "save artifacts"]
    training = [p for p in progress if p["phase"] == "train" and "epoch" in p]
    assert training[-1]["epoch"] == training[-1]["n_epochs"] == 6
    assert training[-1]["percent"] == 100 and training[-1]["eta_s"] == 0
    assert all(p["eta_s"] >= 0 for p in training)
    val_loss_steps = [
        step
        for _, kind, payload in events
        if kind == "metric"
        for step, _ in payload.get("points", {}).get("val_loss", [])
    ]
    assert val_loss_steps == list(range(6))  # every epoch once, in order
    logged = [line for _, kind, p in events if kind == "log" for line in p["lines"]]
    assert any("epoch 6/6" in line for line in logged)
    # The status event that ends the stream comes after everything the run logged.
    assert events[-1][1] == "status" and events[-1][2]["status"] == "succeeded"
