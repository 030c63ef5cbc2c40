"""The sweep stream /ws/sweeps/{id}/, driven through Channels' WebsocketCommunicator against the
real ASGI application: only the owner may watch; a client first gets the sweep's status and its
newest trials as they are stored, then each trial event as the services announce it."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from channels.db import database_sync_to_async as sync_to_async

from gallery.live.snapshots import SNAPSHOT_TRIALS
from registry import services, streams
from registry.models import SweepStatus, SweepTrial, TrialState
from registry.services import live
from tests.gallery.sockets import Header, closed_with, open_socket, receive, receive_until, token_of
from tests.sweep_rows import add_trials, make_sweep, trial_params, trial_values

pytestmark = [pytest.mark.asyncio, pytest.mark.django_db(transaction=True)]


@pytest.fixture(autouse=True)
def quick_tail(settings):
    settings.LIVE_TAIL_INTERVAL_MS = 20


@pytest.fixture
def owner_token(owner) -> Header:
    return token_of(owner)


def n_messages(n: int) -> Callable[[list[dict]], bool]:
    return lambda messages: len(messages) >= n


# --- who may watch ------------------------------------------------------------------------------
async def test_a_stranger_and_a_missing_sweep_look_the_same(owner, stranger):
    sweep = await sync_to_async(make_sweep)(owner, n_trials=2)
    header = await sync_to_async(token_of)(stranger)
    for path in (f"/ws/sweeps/{sweep.pk}/", "/ws/sweeps/999999/"):
        communicator = await open_socket(path, header)

        error = await receive(communicator)
        assert (error["type"], error["code"]) == ("error", "not_found")
        assert await closed_with(communicator) == 4404


async def test_an_anonymous_client_is_refused(owner):
    sweep = await sync_to_async(make_sweep)(owner, n_trials=1)
    communicator = await open_socket(f"/ws/sweeps/{sweep.pk}/", (b"origin", b"http://localhost"))

    assert (await receive(communicator))["code"] == "not_authenticated"
    assert await closed_with(communicator) == 4401


# --- the snapshot -------------------------------------------------------------------------------
async def test_the_owner_gets_the_status_then_every_trial_oldest_first(owner, owner_token):
    sweep = await sync_to_async(make_sweep)(owner, n_trials=12, n_running=2)
    runs = await sync_to_async(
        lambda: dict(SweepTrial.objects.filter(sweep=sweep).values_list("number", "run_id"))
    )()
    communicator = await open_socket(f"/ws/sweeps/{sweep.pk}/", owner_token)

    snapshot = await receive_until(communicator, n_messages(13))

    status, trials = snapshot[0], snapshot[1:]
    assert {m["seq"] for m in snapshot} == {0} and all(m["snapshot"] for m in snapshot)
    complete = [n for n in range(10) if n % 10 != 7 and n % 23 != 5]
    best = min(complete, key=lambda n: (trial_values(trial_params(n), 1)[0], n))
    assert status == {
        "type": "status",
        "seq": 0,
        "snapshot": True,
        "sweep": sweep.pk,
        "status": SweepStatus.RUNNING,
        "error": "",
        "n_trials": 12,
        "n_complete": len(complete),
        "n_running": 2,
        "n_pruned": 1,
        "n_failed": 10 - len(complete) - 1,
        "best": {
            "number": best,
            "run": runs[best],
            "values": trial_values(trial_params(best), 1),
            "params": trial_params(best),
        },
        "truncated": False,
    }
    assert [m["number"] for m in trials] == list(range(12))
    assert trials[7] == {
        "type": "trial",
        "seq": 0,
        "snapshot": True,
        "sweep": sweep.pk,
        "number": 7,
        "run": runs[7],
        "state": TrialState.PRUNED,
        "params": trial_params(7),
        "values": None,
        "pruned_at_step": 2,
    }
    assert trials[11]["state"] == TrialState.RUNNING
    assert await communicator.receive_nothing(timeout=0.2)
    await communicator.disconnect()


async def test_a_long_sweep_sends_its_newest_trials_and_says_it_truncated(owner, owner_token):
    sweep = await sync_to_async(make_sweep)(owner, n_trials=SNAPSHOT_TRIALS + 20, with_runs=False)
    communicator = await open_socket(f"/ws/sweeps/{sweep.pk}/", owner_token)

    snapshot = await receive_until(communicator, n_messages(SNAPSHOT_TRIALS + 1))

    assert snapshot[0]["type"] == "status" and snapshot[0]["truncated"] is True
    numbers = [m["number"] for m in snapshot[1:]]
    assert numbers == list(range(20, SNAPSHOT_TRIALS + 20))
    assert await communicator.receive_nothing(timeout=0.2)
    await communicator.disconnect()


async def test_the_snapshot_shows_exactly_the_events_up_to_its_sequence(owner, owner_token):
    sweep = await sync_to_async(make_sweep)(owner, n_trials=3, n_running=1)
    trial = await sync_to_async(SweepTrial.objects.get)(sweep=sweep, number=2)
    # Two events announced before the client connects: the snapshot already shows them.
    await sync_to_async(live.announce_trial)(trial, step=1, value=0.7)
    await sync_to_async(live.announce_sweep_status)(sweep)
    communicator = await open_socket(f"/ws/sweeps/{sweep.pk}/", owner_token)

    snapshot = await receive_until(communicator, n_messages(4))

    assert {m["seq"] for m in snapshot} == {2}
    assert await communicator.receive_nothing(timeout=0.2)
    await communicator.disconnect()


# --- as it happens ------------------------------------------------------------------------------
async def test_a_new_trial_and_its_end_arrive_as_the_services_announce_them(owner, owner_token):
    sweep = await sync_to_async(make_sweep)(owner, n_trials=2)
    communicator = await open_socket(f"/ws/sweeps/{sweep.pk}/", owner_token)
    head = (await receive_until(communicator, n_messages(3)))[0]["seq"]

    [trial] = await sync_to_async(add_trials)(sweep, [2], n_running=1)
    await sync_to_async(live.announce_trial)(trial)
    await sync_to_async(live.announce_trial)(trial, step=1, value=0.5)
    started, reported = await receive_until(communicator, n_messages(2))

    assert started == {
        "type": "trial",
        "seq": head + 1,
        "sweep": sweep.pk,
        "number": 2,
        "run": trial.run_id,
        "state": TrialState.RUNNING,
        "params": trial_params(2),
        "values": None,
        "pruned_at_step": None,
    }
    assert (reported["seq"], reported["step"], reported["value"]) == (head + 2, 1, 0.5)

    await sync_to_async(services.trial_finish)(
        trial=trial, state=TrialState.COMPLETE, values=[0.123]
    )
    ended = await receive_until(communicator, lambda ms: any(m["type"] == "trial" for m in ms))
    finished = next(m for m in ended if m["type"] == "trial")
    assert (finished["number"], finished["state"], finished["values"]) == (2, "complete", [0.123])
    assert finished["seq"] > head + 2
    await communicator.disconnect()


async def test_a_reconnecting_client_gets_exactly_the_trials_it_missed(owner, owner_token):
    sweep = await sync_to_async(make_sweep)(owner, n_trials=1)
    communicator = await open_socket(f"/ws/sweeps/{sweep.pk}/", owner_token)
    last_seen = (await receive_until(communicator, n_messages(2)))[0]["seq"]
    await communicator.disconnect()

    trials = await sync_to_async(add_trials)(sweep, [1, 2], n_running=2)
    for trial in trials:
        await sync_to_async(live.announce_trial)(trial)
    communicator = await open_socket(f"/ws/sweeps/{sweep.pk}/?after={last_seen}", owner_token)

    gap = await receive_until(communicator, n_messages(2))

    assert [(m["seq"], m["number"]) for m in gap] == [(last_seen + 1, 1), (last_seen + 2, 2)]
    assert not any(m.get("snapshot") for m in gap)
    assert await communicator.receive_nothing(timeout=0.2)
    await communicator.disconnect()


async def test_someone_else_s_sweep_events_never_reach_me(owner, owner_token, stranger):
    mine = await sync_to_async(make_sweep)(owner, n_trials=1, name="mine")
    theirs = await sync_to_async(make_sweep)(stranger, n_trials=1, name="theirs")
    communicator = await open_socket(f"/ws/sweeps/{mine.pk}/", owner_token)
    await receive_until(communicator, n_messages(2))

    [trial] = await sync_to_async(add_trials)(theirs, [1], n_running=1)
    await sync_to_async(live.announce_trial)(trial)

    assert await communicator.receive_nothing(timeout=0.3)
    assert await sync_to_async(streams.stream_head)(streams.sweep_stream(theirs.pk)) == 1
    await communicator.disconnect()
