"""End to end: a browser-like websocket client watches a run that a real `qcluster` worker
trains, through the real ASGI server (daphne).

Once on the embedded default (no Redis: the web process tails the event table) and once with
Redis (the worker pushes each event on commit). Either way the client gets the stored state
first, then every event once, in sequence order, while the run trains; reconnecting with
`?after=N` gives exactly the events after N; the personal stream `/ws/events/` follows the
run's status. See docs/live.md for the protocol.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from websockets.sync.client import ClientConnection, connect

from tests.studio import Studio

pytestmark = pytest.mark.slow

N_EPOCHS = 60
# Generous bounds for a busy 2-core machine; they only stop a hung test, nothing is timed.
MESSAGE_TIMEOUT_S = 60
TERMINAL = ("succeeded", "failed", "cancelled")

Message = dict[str, Any]


def _queue_run(studio: Studio, tmp_path: Path, version: int) -> int:
    request = {
        "experiment": "live stream",
        "name": "watched mlp",
        "config": {
            "dataset_version": version,
            "task": "classification",
            "template": "mlp",
            "device": "cpu",
            "params": {"epochs": N_EPOCHS, "patience": N_EPOCHS, "batch_size": 32},
        },
    }
    config_file = tmp_path / "run.json"
    config_file.write_text(json.dumps(request))
    output = studio.manage("train", str(config_file), "--user", "worker-test")
    return int(output.split("run ")[1].split()[0])


def _open(studio: Studio, path: str, key: str) -> ClientConnection:
    url = studio.base_url.replace("http://", "ws://", 1) + path
    return connect(url, additional_headers={"Authorization": f"Token {key}"}, open_timeout=30)


def _receive(connection: ClientConnection) -> Message:
    return json.loads(connection.recv(timeout=MESSAGE_TIMEOUT_S))


def _ping(connection: ClientConnection) -> Message:
    """The consumer answers in order, after whatever it had to send before: the pong's `seq`
    is the last event it sent."""
    connection.send(json.dumps({"type": "ping"}))
    return _receive(connection)


def _stream_head(studio: Studio, stream: str) -> int:
    rows = studio.query("SELECT last_seq FROM registry_eventstream WHERE name = ?", (stream,))
    return rows[0][0] if rows else 0


def _run_status(studio: Studio, run_id: int) -> str:
    return studio.query("SELECT status FROM registry_run WHERE id = ?", (run_id,))[0][0]


def _watch_until_finished(studio: Studio, connection: ClientConnection, run_id: int):
    """Every message until the run's final status and any event stored after it; for each
    `val_loss` metric message, the run's stored status when it arrived."""
    messages: list[Message] = []
    status_on_arrival: list[str] = []
    finished = False
    while not finished or messages[-1]["seq"] < _stream_head(studio, f"run:{run_id}"):
        message = _receive(connection)
        messages.append(message)
        if message["type"] == "metric" and "val_loss" in message["points"]:
            status_on_arrival.append(_run_status(studio, run_id))
        finished = finished or (message["type"] == "status" and message["status"] in TERMINAL)
    return messages, status_on_arrival


def _events_until(connection: ClientConnection, run_id: int, final_status: str) -> list[Message]:
    messages: list[Message] = []
    while not (
        messages and messages[-1].get("run") == run_id and messages[-1]["status"] == final_status
    ):
        messages.append(_receive(connection))
    return messages


def _assert_snapshot_then_each_event_once(received: list[Message], head: int) -> list[Message]:
    """The stored state first, all at one sequence number S; then S+1, S+2, … up to the
    stream's head, none twice. Returns the events after the snapshot."""
    snapshot = [message for message in received if message.get("snapshot")]
    live = received[len(snapshot) :]
    snapshot_seq = received[0]["seq"]
    assert [message["type"] for message in snapshot] == ["status", "metric", "log"]
    assert {message["seq"] for message in snapshot} == {snapshot_seq}
    assert not any(message.get("snapshot") for message in live)
    assert [message["seq"] for message in live] == list(range(snapshot_seq + 1, head + 1))
    return live


def _assert_trained_in_order(live: list[Message], status_on_arrival: list[str]) -> None:
    """Epochs in order, each once, arriving while the run trained; progress with an ETA; log
    lines; the final status last."""
    val_loss_steps = [
        step
        for message in live
        if message["type"] == "metric"
        for step, _value in message["points"].get("val_loss", [])
    ]
    assert val_loss_steps == list(range(N_EPOCHS))
    assert status_on_arrival[0] == "running"
    assert [m["status"] for m in live if m["type"] == "status"] == ["running", "succeeded"]
    assert live[-1]["type"] == "status"

    training = [m for m in live if m["type"] == "progress" and "epoch" in m]
    epochs = [message["epoch"] for message in training]
    assert epochs and epochs == sorted(epochs) and epochs[-1] == N_EPOCHS
    assert all({"n_epochs", "percent", "eta_s"} <= message.keys() for message in training)
    assert (training[-1]["n_epochs"], training[-1]["percent"], training[-1]["eta_s"]) == (
        N_EPOCHS,
        100.0,
        0.0,
    )
    log_lines = [line for message in live if message["type"] == "log" for line in message["lines"]]
    assert any(line.endswith("train…") for line in log_lines)


def _assert_resumes_after_the_middle(studio: Studio, key: str, run_id: int, live: list[Message]):
    """`?after=N` gives exactly the events after N, as they came the first time."""
    middle, last = live[len(live) // 2]["seq"], live[-1]["seq"]
    with _open(studio, f"/ws/runs/{run_id}/?after={middle}", key) as connection:
        resumed = [_receive(connection) for _ in range(last - middle)]
        assert _ping(connection) == {"type": "pong", "seq": last}  # and nothing more
    assert resumed == [message for message in live if message["seq"] > middle]


@pytest.mark.parametrize("studio_fixture", ["studio", "redis_studio"])
def test_a_watched_run_streams_its_epochs_in_order_while_it_trains(
    studio_fixture, request, tmp_path
):
    studio: Studio = request.getfixturevalue(studio_fixture)
    version = studio.setup_digits()
    key = studio.manage("create_token", "worker-test", "--name", "live test").strip()
    studio.serve()

    with _open(studio, "/ws/events/", key) as personal:
        assert _ping(personal)["type"] == "pong"  # subscribed before the run exists
        run_id = _queue_run(studio, tmp_path, version)
        with _open(studio, f"/ws/runs/{run_id}/", key) as watcher:
            first = _receive(watcher)
            assert (first["snapshot"], first["type"]) == (True, "status")
            assert (first["run"], first["status"]) == (run_id, "queued")
            studio.start_worker()
            rest, status_on_arrival = _watch_until_finished(studio, watcher, run_id)
        changes = _events_until(personal, run_id, "succeeded")

    head = _stream_head(studio, f"run:{run_id}")
    live = _assert_snapshot_then_each_event_once([first, *rest], head)
    _assert_trained_in_order(live, status_on_arrival)
    _assert_resumes_after_the_middle(studio, key, run_id, live)

    # The owner's personal stream saw the run queued, start and succeed, in order.
    assert [(m["type"], m["run"], m["status"]) for m in changes] == [
        ("status", run_id, "queued"),
        ("status", run_id, "running"),
        ("status", run_id, "succeeded"),
    ]
    assert {(m["name"], m["experiment_name"]) for m in changes} == {("watched mlp", "live stream")}
    assert [m["seq"] for m in changes] == sorted({m["seq"] for m in changes})
