"""The websocket streams: `/ws/runs/{id}/`, `/ws/sweeps/{id}/`, `/ws/events/`.

Every message is a JSON object with the stream's `seq` and a `type` (`metric`, `status`, `log`,
`progress`, `sample`, `trial`, `alert`). On connect the client gets the stored state (messages
marked `"snapshot": true`, all carrying the sequence number S they show) and then each event
after S in order; with `?after=N` it gets exactly the events after N instead. Events reach the
consumer through its stream's group (pushed by workers with Redis, handed over by the web
process's tail without); the consumer drops what it has sent already and reads any gap from
the database, so nothing arrives twice and nothing is missing.

Close codes: 4400 bad request, 4401 not authenticated, 4403 origin not allowed, 4404 no such
stream (or not yours), 4429 flooding.
"""

from __future__ import annotations

import time
from typing import Any
from urllib.parse import parse_qs

import orjson
from channels.db import database_sync_to_async
from channels.generic.websocket import AsyncWebsocketConsumer
from django.conf import settings

from gallery import sweep_selectors
from gallery.live import snapshots, tails
from gallery.live.auth import origin_allowed
from registry import streams

# A client further behind than this gets a fresh snapshot instead of the events one by one.
MAX_REPLAY_EVENTS = 5_000
MAX_CLIENT_MESSAGE_BYTES = 4_096


class StreamError(Exception):
    def __init__(self, close_code: int, code: str, detail: str) -> None:
        super().__init__(detail)
        self.close_code, self.code, self.detail = close_code, code, detail


def parse_after(query_string: bytes) -> int | None:
    values = parse_qs(query_string.decode("latin1")).get("after")
    if not values:
        return None
    text = values[-1].strip()
    if not text.isdigit() or int(text) > 2**63 - 1:
        raise StreamError(4400, "invalid", "after must be a sequence number (an integer ≥ 0)")
    return int(text)


class TokenBucket:
    """`rate` messages a second with bursts of twice that: a chatty client is fine, a flood
    is not."""

    def __init__(self, rate: float) -> None:
        self.rate, self.capacity = rate, 2 * rate
        self.tokens, self.stamp = self.capacity, time.monotonic()

    def take(self) -> bool:
        now = time.monotonic()
        self.tokens = min(self.capacity, self.tokens + (now - self.stamp) * self.rate)
        self.stamp = now
        if self.tokens < 1:
            return False
        self.tokens -= 1
        return True


class StreamConsumer(AsyncWebsocketConsumer):
    """One client watching one stream. Subclasses say which stream and what its snapshot is."""

    stream: str | None = None
    last_seq = 0
    closing = False

    # --- what subclasses provide (sync: they run in a database thread) -------------------
    def resolve_stream(self, user) -> str | None:
        raise NotImplementedError

    def snapshot(self) -> tuple[int, list[dict[str, Any]]]:
        raise NotImplementedError

    def resolve(self, message: dict[str, Any]) -> dict[str, Any]:
        return message

    # --- connection ----------------------------------------------------------------------
    async def connect(self) -> None:
        if not origin_allowed(self.scope):
            await self.close(code=4403)  # a foreign page: refuse the handshake itself
            return
        await self.accept()
        self.bucket = TokenBucket(settings.LIVE_CLIENT_MESSAGES_PER_S)
        try:
            user = self.scope.get("user")
            if user is None or not user.is_authenticated:
                raise StreamError(
                    4401,
                    "not_authenticated",
                    "log in, or send 'Authorization: Token <key>' with the handshake",
                )
            after = parse_after(self.scope.get("query_string", b""))
            stream = await database_sync_to_async(self.resolve_stream)(user)
            if stream is None:
                raise StreamError(4404, "not_found", "no such stream, or not one of yours")
        except StreamError as error:
            await self._refuse(error)
            return
        self.stream = stream
        self.group = streams.group_name(stream)
        await self.channel_layer.group_add(self.group, self.channel_name)
        await self._catch_up(after)
        tails.subscribe(stream, self.channel_layer, after=self.last_seq)

    async def disconnect(self, code: int) -> None:
        if self.stream is not None:
            tails.unsubscribe(self.stream)
            await self.channel_layer.group_discard(self.group, self.channel_name)
            self.stream = None

    async def _refuse(self, error: StreamError) -> None:
        self.closing = True
        await self._send({"type": "error", "code": error.code, "detail": error.detail})
        await self.disconnect(error.close_code)  # stop watching now, not when the peer is gone
        await self.close(code=error.close_code)

    async def _send(self, message: dict[str, Any]) -> None:
        await self.send(text_data=orjson.dumps(message).decode())

    # --- catching up -----------------------------------------------------------------------
    async def _catch_up(self, after: int | None) -> None:
        if after is not None:
            events = await database_sync_to_async(self._stored_events)(after)
            if events is not None:
                for event in events:
                    await self._send(event)
                self.last_seq = events[-1]["seq"] if events else after
                return
        seq, messages = await database_sync_to_async(self.snapshot)()
        for message in messages:
            await self._send(message)
        self.last_seq = seq

    def _stored_events(self, after: int) -> list[dict[str, Any]] | None:
        """The events after `after`, or None when a snapshot serves better (too far behind,
        or a cursor from the future, e.g. a database that was reset)."""
        if after > streams.stream_head(self.stream):
            return None
        events = streams.events_after(self.stream, after, limit=MAX_REPLAY_EVENTS)
        return None if events is None else [self.resolve(event) for event in events]

    async def _fill_gap(self) -> None:
        events = await database_sync_to_async(self._stored_events)(self.last_seq)
        if events is None:
            await self._catch_up(None)
            return
        for event in events:
            await self._send(event)
            self.last_seq = event["seq"]

    # --- group messages ----------------------------------------------------------------------
    async def stream_event(self, message: dict[str, Any]) -> None:
        event = message["event"]
        seq = event["seq"]
        if self.stream is None or self.closing or seq <= self.last_seq:
            return
        if seq > self.last_seq + 1:
            await self._fill_gap()
            return
        if "ranges" in event:
            event = await database_sync_to_async(self.resolve)(event)
        await self._send(event)
        self.last_seq = seq

    async def stream_head(self, message: dict[str, Any]) -> None:
        if self.stream is not None and message["head"] > self.last_seq:
            await self._fill_gap()

    # --- what the client sends ---------------------------------------------------------------
    async def receive(self, text_data: str | None = None, bytes_data: bytes | None = None) -> None:
        if self.closing:
            return  # what a flood left queued after we closed
        if not self.bucket.take():
            await self._refuse(StreamError(4429, "throttled", "too many messages; slow down"))
            return
        size = len(text_data.encode()) if text_data is not None else len(bytes_data or b"")
        if size > MAX_CLIENT_MESSAGE_BYTES:
            await self._refuse(StreamError(4400, "invalid", "messages are at most 4 KB"))
            return
        try:
            message = orjson.loads(text_data if text_data is not None else bytes_data)
        except orjson.JSONDecodeError:
            message = None
        if isinstance(message, dict) and message.get("type") == "ping":
            await self._send({"type": "pong", "seq": self.last_seq})
            return
        await self._send(
            {
                "type": "error",
                "code": "invalid",
                "detail": 'the only message understood is {"type": "ping"}',
            }
        )


class RunStreamConsumer(StreamConsumer):
    """/ws/runs/{id}/: metrics, log lines, status, progress with ETA and samples of one run."""

    def resolve_stream(self, user) -> str | None:
        run_id = snapshots.visible_run_id(user, self.scope["url_route"]["kwargs"]["run_id"])
        if run_id is None:
            return None
        self.run_id = run_id
        return streams.run_stream(run_id)

    def snapshot(self) -> tuple[int, list[dict[str, Any]]]:
        return snapshots.run_snapshot(self.run_id)

    def resolve(self, message: dict[str, Any]) -> dict[str, Any]:
        return snapshots.resolve_metric_ranges(self.run_id, message)


class EventsConsumer(StreamConsumer):
    """/ws/events/: status changes of the user's runs (and, later, drift alerts)."""

    def resolve_stream(self, user) -> str | None:
        self.user_id = user.pk
        return streams.user_stream(user.pk)

    def snapshot(self) -> tuple[int, list[dict[str, Any]]]:
        return snapshots.user_snapshot(self.user_id)


class SweepStreamConsumer(StreamConsumer):
    """/ws/sweeps/{id}/: the sweep's status (counts, best trial) and its trials as they start,
    report and finish. Only the sweep's owner may watch it."""

    def resolve_stream(self, user) -> str | None:
        sweep_id = sweep_selectors.visible_sweep_id(
            user, self.scope["url_route"]["kwargs"]["sweep_id"]
        )
        if sweep_id is None:
            return None
        self.sweep_id = sweep_id
        return streams.sweep_stream(sweep_id)

    def snapshot(self) -> tuple[int, list[dict[str, Any]]]:
        return snapshots.sweep_snapshot(self.sweep_id)
