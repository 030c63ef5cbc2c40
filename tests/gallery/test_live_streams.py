"""The websocket streams, driven through Channels' WebsocketCommunicator against the real ASGI
application: who may connect, what a client gets first, what it gets as things happen, and
what it gets when it comes back."""

from __future__ import annotations

import asyncio
import json

import pytest
from channels.db import database_sync_to_async as sync_to_async
from channels.layers import get_channel_layer

from gallery.live import tails
from registry import services, streams
from registry.models import RunStatus, StreamEvent
from tests.clients import signed_in
from tests.factories import ExperimentFactory, UserFactory
from tests.gallery.sockets import (
    Header,
    closed_with,
    connect,
    open_socket,
    receive,
    receive_until,
    token_of,
)

pytestmark = [pytest.mark.asyncio, pytest.mark.django_db(transaction=True)]

SAME_ORIGIN = (b"origin", b"http://localhost:8000")


@pytest.fixture(autouse=True)
def quick_tail(settings):
    settings.LIVE_TAIL_INTERVAL_MS = 20
    settings.LIVE_CLIENT_MESSAGES_PER_S = 5


@pytest.fixture
def owner_run(owner):
    experiment = ExperimentFactory(owner=owner, name="watched")
    return services.run_create(owner=owner, experiment=experiment, name="watched run")


@pytest.fixture
def token_header(owner) -> Header:
    return token_of(owner)


@pytest.fixture
def session_cookie(owner) -> Header:
    client = signed_in(owner)
    return (b"cookie", f"sessionid={client.cookies['sessionid'].value}".encode())


def snapshot_done(messages: list[dict]) -> bool:
    return any(m["type"] == "log" and m.get("snapshot") for m in messages)


log_metrics = sync_to_async(
    lambda run, points: services.run_log_metrics(run=run, batch=services.check_metric_batch(points))
)
append_log = sync_to_async(lambda run, lines: services.run_append_log(run_id=run.pk, lines=lines))


# --- who may connect ----------------------------------------------------------------------------
async def test_an_anonymous_client_is_told_why_and_closed(owner_run):
    communicator = await open_socket(f"/ws/runs/{owner_run.pk}/", SAME_ORIGIN)

    error = await receive(communicator)
    assert (error["type"], error["code"]) == ("error", "not_authenticated")
    assert await closed_with(communicator) == 4401


async def test_a_revoked_or_wrong_token_is_not_authenticated(owner_run):
    header = (b"authorization", b"Token not-a-real-key")
    communicator = await open_socket(f"/ws/runs/{owner_run.pk}/", header)

    assert (await receive(communicator))["code"] == "not_authenticated"
    assert await closed_with(communicator) == 4401


async def test_a_script_with_a_token_and_no_origin_gets_the_stream(owner_run, token_header):
    communicator, connected, _ = await connect(f"/ws/runs/{owner_run.pk}/", token_header)

    messages = await receive_until(communicator, snapshot_done)
    assert connected
    status = next(m for m in messages if m["type"] == "status")
    assert status["status"] == RunStatus.RUNNING and status["run"] == owner_run.pk
    await communicator.disconnect()


async def test_a_browser_session_from_our_origin_gets_the_stream(owner_run, session_cookie):
    communicator, connected, _ = await connect(
        f"/ws/runs/{owner_run.pk}/", SAME_ORIGIN, session_cookie
    )

    assert connected
    assert snapshot_done(await receive_until(communicator, snapshot_done))
    await communicator.disconnect()


async def test_a_page_of_another_site_cannot_open_a_socket_with_our_cookie(
    owner_run, session_cookie
):
    evil = (b"origin", b"https://evil.example")
    _communicator, connected, code = await connect(
        f"/ws/runs/{owner_run.pk}/", evil, session_cookie
    )

    assert not connected
    assert code == 4403


async def test_someone_else_s_run_and_a_missing_run_look_the_same(owner_run, stranger):
    header = await sync_to_async(token_of)(stranger)
    for path in (f"/ws/runs/{owner_run.pk}/", "/ws/runs/999999/"):
        communicator = await open_socket(path, header)

        error = await receive(communicator)
        assert error["code"] == "not_found"
        assert await closed_with(communicator) == 4404


async def test_a_cursor_that_is_not_a_number_is_a_bad_request(owner_run, token_header):
    communicator = await open_socket(f"/ws/runs/{owner_run.pk}/?after=soon", token_header)

    assert (await receive(communicator))["code"] == "invalid"
    assert await closed_with(communicator) == 4400


async def test_a_client_that_floods_is_closed(owner_run, token_header):
    communicator = await open_socket(f"/ws/runs/{owner_run.pk}/", token_header)
    await receive_until(communicator, snapshot_done)

    for _ in range(30):
        await communicator.send_to(text_data=json.dumps({"type": "ping"}))

    messages = []
    output = await communicator.receive_output(timeout=5)
    while output["type"] != "websocket.close":
        messages.append(json.loads(output["text"]))
        output = await communicator.receive_output(timeout=5)
    await communicator.disconnect()
    assert output["code"] == 4429
    assert messages[-1]["code"] == "throttled"
    # The burst allowance was answered before the throttle closed it.
    assert 5 <= sum(m["type"] == "pong" for m in messages) <= 12


async def test_a_ping_is_answered_with_the_last_sequence_sent(owner_run, token_header):
    communicator = await open_socket(f"/ws/runs/{owner_run.pk}/", token_header)
    snapshot = await receive_until(communicator, snapshot_done)

    await communicator.send_to(text_data='{"type": "ping"}')

    assert await receive(communicator) == {"type": "pong", "seq": snapshot[0]["seq"]}
    await communicator.disconnect()


# --- what a client gets -------------------------------------------------------------------------
async def test_the_snapshot_shows_what_is_stored_then_each_new_event_follows(
    owner_run, token_header
):
    await log_metrics(
        owner_run, [{"key": "val_loss", "step": s, "value": 1 / (s + 1)} for s in range(3)]
    )
    await append_log(owner_run, ["epoch 1/3", "epoch 2/3"])
    communicator = await open_socket(f"/ws/runs/{owner_run.pk}/", token_header)

    snapshot = await receive_until(communicator, snapshot_done)
    head = await sync_to_async(streams.stream_head)(streams.run_stream(owner_run.pk))
    assert {m["seq"] for m in snapshot} == {head} and all(m["snapshot"] for m in snapshot)
    metric = next(m for m in snapshot if m["type"] == "metric")
    assert metric["points"]["val_loss"] == [[0, 1.0], [1, 0.5], [2, 1 / 3]]
    log = next(m for m in snapshot if m["type"] == "log")
    assert log["lines"][-2:] == ["epoch 1/3", "epoch 2/3"] and log["replace"]

    await log_metrics(owner_run, [{"key": "val_loss", "step": 3, "value": 0.2}])
    await append_log(owner_run, ["epoch 3/3"])
    live = await receive_until(communicator, lambda ms: len(ms) == 2)

    assert [m["seq"] for m in live] == [head + 1, head + 2]
    assert live[0] == {"type": "metric", "seq": head + 1, "points": {"val_loss": [[3, 0.2]]}}
    assert live[1] == {"type": "log", "seq": head + 2, "lines": ["epoch 3/3"]}
    await communicator.disconnect()


async def test_a_reconnecting_client_gets_exactly_the_gap(owner_run, token_header):
    communicator = await open_socket(f"/ws/runs/{owner_run.pk}/", token_header)
    snapshot = await receive_until(communicator, snapshot_done)
    last_seen = snapshot[0]["seq"]
    await log_metrics(owner_run, [{"key": "loss", "step": 0, "value": 3.0}])
    first = await receive(communicator)
    assert first["seq"] == last_seen + 1
    last_seen = first["seq"]
    await communicator.disconnect()

    # While the client is away: five events.
    for step in range(1, 4):
        await log_metrics(owner_run, [{"key": "loss", "step": step, "value": 3.0 - step}])
    await append_log(owner_run, ["away"])
    await sync_to_async(services.run_finish)(run=owner_run, status=RunStatus.SUCCEEDED)

    communicator = await open_socket(f"/ws/runs/{owner_run.pk}/?after={last_seen}", token_header)
    gap = await receive_until(communicator, lambda ms: ms and ms[-1]["type"] == "status")

    assert [m["seq"] for m in gap] == list(range(last_seen + 1, last_seen + 6))
    assert [m["type"] for m in gap] == ["metric", "metric", "metric", "log", "status"]
    assert [m["points"]["loss"][0][0] for m in gap[:3]] == [1, 2, 3]
    assert gap[-1]["status"] == "succeeded"
    assert not any(m.get("snapshot") for m in gap)
    assert await communicator.receive_nothing(timeout=0.3)  # nothing twice, nothing more
    await communicator.disconnect()


async def test_a_cursor_from_the_future_gets_a_fresh_snapshot(owner_run, token_header):
    communicator = await open_socket(f"/ws/runs/{owner_run.pk}/?after=10000", token_header)

    messages = await receive_until(communicator, snapshot_done)

    assert all(m.get("snapshot") for m in messages)
    await communicator.disconnect()


async def test_an_event_pushed_out_of_order_makes_the_consumer_read_the_gap(
    owner_run, token_header, settings
):
    settings.LIVE_TAIL_INTERVAL_MS = 60_000  # no tail: only what we push arrives
    communicator = await open_socket(f"/ws/runs/{owner_run.pk}/", token_header)
    head = (await receive_until(communicator, snapshot_done))[0]["seq"]
    await log_metrics(owner_run, [{"key": "loss", "step": 0, "value": 1.0}])
    await append_log(owner_run, ["second"])
    stored = await sync_to_async(streams.events_after)(
        streams.run_stream(owner_run.pk), head, limit=10
    )

    # Only the second event reaches the group (the first push was lost).
    await get_channel_layer().group_send(
        streams.group_name(streams.run_stream(owner_run.pk)),
        {"type": streams.GROUP_MESSAGE_TYPE, "event": stored[1]},
    )
    messages = await receive_until(communicator, lambda ms: len(ms) == 2)

    assert messages == stored
    await communicator.disconnect()


async def test_a_big_batch_arrives_as_points_read_back_from_the_database(owner_run, token_header):
    communicator = await open_socket(f"/ws/runs/{owner_run.pk}/", token_header)
    await receive_until(communicator, snapshot_done)
    n = streams.INLINE_METRIC_POINTS + 500

    await log_metrics(owner_run, [{"key": "x", "step": s, "value": float(s)} for s in range(n)])
    message = await receive(communicator)

    stored = await sync_to_async(
        lambda: StreamEvent.objects.filter(type="metric").latest("seq").payload
    )()
    assert stored == {"ranges": {"x": [0, n - 1, n]}}  # the table keeps no copy of the points
    points = message["points"]["x"]
    assert message["downsampled"] and len(points) == 2_000
    assert points[0] == [0, 0.0] and points[-1] == [n - 1, float(n - 1)]
    await communicator.disconnect()


async def test_many_clients_of_one_run_share_one_tail(owner_run, token_header):
    communicators = []
    for _ in range(3):
        communicator = await open_socket(f"/ws/runs/{owner_run.pk}/", token_header)
        await receive_until(communicator, snapshot_done)
        communicators.append(communicator)

    assert tails.active_tails() == [streams.run_stream(owner_run.pk)]
    await log_metrics(owner_run, [{"key": "loss", "step": 0, "value": 1.0}])
    for communicator in communicators:
        assert (await receive(communicator))["points"] == {"loss": [[0, 1.0]]}

    for communicator in communicators:
        await communicator.disconnect()
    await asyncio.sleep(0)
    assert tails.active_tails() == []


# --- the personal stream ------------------------------------------------------------------------
async def test_my_events_carry_my_runs_status_changes_and_nobody_else_s(
    owner, owner_run, token_header
):
    communicator = await open_socket("/ws/events/", token_header)
    snapshot = await receive_until(communicator, lambda ms: len(ms) == 1)
    assert snapshot[0]["run"] == owner_run.pk and snapshot[0]["snapshot"]

    other = await sync_to_async(UserFactory)(username="someone_else")
    other_experiment = await sync_to_async(ExperimentFactory)(owner=other)
    await sync_to_async(services.run_create)(owner=other, experiment=other_experiment)
    await sync_to_async(services.run_finish)(
        run=owner_run, status=RunStatus.FAILED, error_text="boom"
    )

    change = await receive(communicator)
    assert change["type"] == "status"
    assert (change["run"], change["status"], change["error"]) == (owner_run.pk, "failed", "boom")
    assert change["experiment_name"] == "watched"
    assert await communicator.receive_nothing(timeout=0.3)
    await communicator.disconnect()


async def test_a_sweep_that_does_not_exist_cannot_be_watched(token_header):
    communicator = await open_socket("/ws/sweeps/1/", token_header)

    assert (await receive(communicator))["code"] == "not_found"
    assert await closed_with(communicator) == 4404


# --- delivery ------------------------------------------------------------------------------------
async def test_with_redis_the_writer_pushes_each_event_on_commit(owner_run, token_header, settings):
    if not settings.LIVE_PUSH:
        pytest.skip("needs REDIS_URL: without Redis the web process tails the database")
    settings.LIVE_TAIL_INTERVAL_MS = 60_000  # no tail: the push alone must bring it
    communicator = await open_socket(f"/ws/runs/{owner_run.pk}/", token_header)
    head = (await receive_until(communicator, snapshot_done))[0]["seq"]

    await append_log(owner_run, ["pushed"])

    assert await receive(communicator) == {"type": "log", "seq": head + 1, "lines": ["pushed"]}
    await communicator.disconnect()


async def test_without_redis_the_web_process_tail_brings_what_another_process_wrote(
    owner_run, token_header, settings
):
    if settings.LIVE_PUSH:
        pytest.skip("with REDIS_URL set the writer pushes; this is the embedded default")
    communicator = await open_socket(f"/ws/runs/{owner_run.pk}/", token_header)
    head = (await receive_until(communicator, snapshot_done))[0]["seq"]

    # Written as a worker process would: straight to the table, no channel layer involved.
    await sync_to_async(streams.append_event)(
        streams.run_stream(owner_run.pk), "log", {"lines": ["from the worker"]}
    )

    assert await receive(communicator) == {
        "type": "log",
        "seq": head + 1,
        "lines": ["from the worker"],
    }
    await communicator.disconnect()
