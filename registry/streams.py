"""Live event streams: what live clients are told, stored first, pushed second.

Every event a websocket client can receive (a metric batch, log lines, a status change,
progress, a sample, a sweep trial, an alert) is appended to its stream's table in the same
transaction as the change it announces, with the next sequence number of that stream. Then:

- with a channel layer that spans processes (Redis), the event is pushed to the stream's group
  when the transaction commits (`LIVE_PUSH`);
- without one (the embedded default), the web process tails the table for the streams someone
  watches (`gallery.live.tails`): a worker process has no way to reach the browsers.

Either way the table is the truth: a client that reconnects with the last sequence it saw gets
exactly the events after it, read from here.
"""

from __future__ import annotations

import asyncio
import atexit
import logging
import os
import threading
import time
from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Any

from django.conf import settings
from django.db import connection, transaction
from django.db.models import Max
from django.db.models.functions import Greatest

from registry.models import EventStream, StreamEvent

logger = logging.getLogger("canvascraft.live")

EVENT_TYPES = ("metric", "status", "log", "progress", "sample", "trial", "alert")
# A metric batch up to this many points travels inline; a bigger one (a script logging a long
# series at once) is stored as step ranges that readers resolve from the metric points.
INLINE_METRIC_POINTS = 2_000
GROUP_MESSAGE_TYPE = "stream.event"


def run_stream(run_id: int) -> str:
    return f"run:{run_id}"


def user_stream(user_id: int) -> str:
    return f"user:{user_id}"


def sweep_stream(sweep_id: int) -> str:
    return f"sweep:{sweep_id}"


def group_name(stream: str) -> str:
    """The channel-layer group of a stream ("run:12" -> "stream.run.12")."""
    return "stream." + stream.replace(":", ".")


def append_event(stream: str, event_type: str, payload: Mapping[str, Any]) -> int:
    """Stores an event with the stream's next sequence number and, where a cross-process
    channel layer is configured, pushes it when the surrounding transaction commits.

    Call it inside the transaction of the change it announces: a rolled-back change then
    announces nothing. Returns the event's sequence number.
    """
    return append_events(stream, [(event_type, payload)])[0]


def append_events(stream: str, events: Sequence[tuple[str, Mapping[str, Any]]]) -> list[int]:
    """Several events of one stream, in order, as `append_event` stores one, but with two
    statements whatever their number (one sequence bump, one insert). Returns their
    sequence numbers."""
    for event_type, _payload in events:
        if event_type not in EVENT_TYPES:
            raise ValueError(f"unknown event type {event_type!r}")
    if not events:
        return []
    payloads = [dict(payload) for _type, payload in events]
    # No savepoint: a failure here fails the caller's whole change, which must not commit
    # unannounced anyway, and a savepoint costs two more round trips per event.
    with transaction.atomic(savepoint=False):
        bumped = _bump(stream, len(events))
        if bumped is None:
            EventStream.objects.bulk_create(
                [EventStream(name=stream, last_seq=0)], ignore_conflicts=True
            )
            bumped = _bump(stream, len(events))
        stream_id, last_seq = bumped
        seqs = list(range(last_seq - len(events) + 1, last_seq + 1))
        StreamEvent.objects.bulk_create(
            [
                StreamEvent(stream_id=stream_id, seq=seq, type=event_type, payload=payload)
                for seq, (event_type, _), payload in zip(seqs, events, payloads, strict=True)
            ]
        )
    if settings.LIVE_PUSH:
        for seq, (event_type, _), payload in zip(seqs, events, payloads, strict=True):
            message = event_message(seq, event_type, payload)
            transaction.on_commit(lambda message=message: publish(stream, message))
    return seqs


def _bump(stream: str, count: int = 1) -> tuple[int, int] | None:
    """Takes the stream's next `count` sequence numbers (returns the last): one UPDATE ...
    RETURNING (SQLite and PostgreSQL both have it), whose row lock lasts until the caller's
    transaction commits."""
    table = connection.ops.quote_name(EventStream._meta.db_table)
    with connection.cursor() as cursor:
        cursor.execute(
            f"UPDATE {table} SET last_seq = last_seq + %s WHERE name = %s RETURNING id, last_seq",
            [count, stream],
        )
        row = cursor.fetchone()
    return (row[0], row[1]) if row else None


def event_message(seq: int, event_type: str, payload: Mapping[str, Any]) -> dict[str, Any]:
    """The JSON object a client receives: `seq`, `type` and the payload's fields."""
    return {**payload, "seq": seq, "type": event_type}


def publish(stream: str, message: dict[str, Any]) -> None:
    """Hands one stored event to this process's publisher, which pushes it to the stream's
    group without making the writer wait. A lost push loses nothing: watching consumers find
    the gap at the next event or the next safety tail and read it from the table."""
    _publisher.submit(group_name(stream), {"type": GROUP_MESSAGE_TYPE, "event": message})


class _Publisher:
    """One event loop in a daemon thread per process, sending pushes in the order they were
    handed over. (`async_to_sync` per push would build a loop and a Redis connection each
    time.) Started on first use, and again in a forked child, which inherits no threads."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.pid: int | None = None
        self.loop: asyncio.AbstractEventLoop | None = None
        self.queue: asyncio.Queue | None = None
        self.pending = 0

    def submit(self, group: str, message: dict[str, Any]) -> None:
        loop, queue = self._started()
        with self.lock:
            self.pending += 1
        loop.call_soon_threadsafe(queue.put_nowait, (group, message))

    def _started(self) -> tuple[asyncio.AbstractEventLoop, asyncio.Queue]:
        with self.lock:
            if self.pid != os.getpid() or self.loop is None:
                loop = asyncio.new_event_loop()
                queue: asyncio.Queue = asyncio.Queue()
                ready = threading.Event()
                thread = threading.Thread(
                    target=self._serve,
                    args=(loop, queue, ready),
                    name="live-publisher",
                    daemon=True,
                )
                thread.start()
                ready.wait()
                self.pid, self.loop, self.queue, self.pending = os.getpid(), loop, queue, 0
            return self.loop, self.queue

    def _serve(self, loop, queue, ready) -> None:
        asyncio.set_event_loop(loop)
        loop.call_soon(ready.set)
        loop.run_until_complete(self._send_forever(queue))

    async def _send_forever(self, queue: asyncio.Queue) -> None:
        from channels.layers import get_channel_layer

        layer = get_channel_layer()
        while True:
            group, message = await queue.get()
            try:
                await layer.group_send(group, message)
            except Exception:
                logger.warning("push to %s failed", group, exc_info=True)
            finally:
                with self.lock:
                    self.pending -= 1

    def flush(self, timeout_s: float) -> bool:
        """Waits (a little) until every push handed over is sent; True when none is left."""
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            with self.lock:
                if self.pending <= 0 or self.pid != os.getpid():
                    return True
            time.sleep(0.005)
        return False


_publisher = _Publisher()
# A command that exits right after its last change (`manage.py train --sync`) still pushes it.
atexit.register(_publisher.flush, 1.0)


def flush_pushes(timeout_s: float = 1.0) -> bool:
    """Waits until this process's pushes are sent (tests, commands about to exit)."""
    return _publisher.flush(timeout_s)


def stream_head(stream: str) -> int:
    """The last sequence number a stream gave (0 for a stream with no event yet)."""
    return EventStream.objects.filter(name=stream).values_list("last_seq", flat=True).first() or 0


def events_after(
    stream: str, after: int, *, limit: int, partial: bool = False
) -> list[dict[str, Any]] | None:
    """The stored events after `after`, oldest first, as client messages; None when some were
    purged, or when more than `limit` are missing (the client is better served by a snapshot)
    unless `partial` asks for the first `limit` of them."""
    purged_through = (
        EventStream.objects.filter(name=stream).values_list("purged_through", flat=True).first()
    )
    if purged_through and after < purged_through:
        return None
    rows = list(
        StreamEvent.objects.filter(stream__name=stream, seq__gt=after)
        .order_by("seq")
        .values_list("seq", "type", "payload")[: limit + 1]
    )
    if len(rows) > limit:
        if not partial:
            return None
        rows = rows[:limit]
    return [event_message(seq, event_type, payload) for seq, event_type, payload in rows]


def metric_event_payload(keys: list[str], steps: list[int], values: list[float]) -> dict[str, Any]:
    """A metric batch as an event: inline points `{key: [[step, value], ...]}` when small,
    else `{key: [first_step, last_step, n_points]}` ranges for readers to resolve."""
    if len(keys) <= INLINE_METRIC_POINTS:
        points: dict[str, list[list[float]]] = {}
        for key, step, value in zip(keys, steps, values, strict=True):
            points.setdefault(key, []).append([step, value])
        return {"points": points}
    ranges: dict[str, list[int]] = {}
    for key, step in zip(keys, steps, strict=True):
        known = ranges.get(key)
        if known is None:
            ranges[key] = [step, step, 1]
        else:
            known[0], known[1], known[2] = min(known[0], step), max(known[1], step), known[2] + 1
    return {"ranges": ranges}


def purge_events(*, older_than: datetime) -> int:
    """Deletes events stored before `older_than` and records, per stream, up to which sequence
    number they are gone (a client resuming from before that gets a snapshot). Returns the
    number of events deleted. Snapshots read the runs themselves, so nothing shown is lost."""
    deleted = 0
    stale = (
        StreamEvent.objects.filter(created_at__lt=older_than)
        .values("stream_id")
        .annotate(through=Max("seq"))
    )
    for row in stale:
        with transaction.atomic():
            EventStream.objects.filter(pk=row["stream_id"]).update(
                purged_through=Greatest("purged_through", row["through"])
            )
            deleted += StreamEvent.objects.filter(
                stream_id=row["stream_id"], seq__lte=row["through"]
            ).delete()[0]
    return deleted
