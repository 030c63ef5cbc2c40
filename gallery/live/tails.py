"""One database tail per watched stream per web process, however many clients watch it.

Embedded default (no Redis): a worker process cannot reach the browsers, so the web process
polls the event table every `LIVE_TAIL_INTERVAL_MS` for each stream someone watches and hands
new events to the stream's group on the in-process channel layer.

With Redis the workers push their own events; the tail then only announces the stream's head
every couple of seconds, so a consumer whose push was lost (a worker killed between commit and
push) notices the gap and reads it from the table.
"""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass, field

from channels.db import database_sync_to_async
from django.conf import settings

from registry import streams

logger = logging.getLogger("canvascraft.live")

# At most this many events are handed over per poll; a longer gap is left to the consumers,
# which read it from the table themselves.
MAX_EVENTS_PER_POLL = 500
HEAD_MESSAGE_TYPE = "stream.head"


@dataclass
class StreamTail:
    stream: str
    layer: object
    after: int
    subscribers: int = 0
    task: asyncio.Task | None = field(default=None, repr=False)

    async def run(self) -> None:
        group = streams.group_name(self.stream)
        interval = settings.LIVE_TAIL_INTERVAL_MS / 1000
        while True:
            await asyncio.sleep(interval)
            try:
                await self._poll(group)
            except asyncio.CancelledError:
                raise
            except Exception:  # a locked or restarting database: try again next time
                logger.warning("tail of %s failed", self.stream, exc_info=True)

    async def _poll(self, group: str) -> None:
        if settings.LIVE_PUSH:
            head = await database_sync_to_async(streams.stream_head)(self.stream)
            if head > self.after:
                self.after = head
                await self.layer.group_send(group, {"type": HEAD_MESSAGE_TYPE, "head": head})
            return
        events = await database_sync_to_async(streams.events_after)(
            self.stream, self.after, limit=MAX_EVENTS_PER_POLL
        )
        if events is None:  # a burst: tell consumers where the head is, they fill the gap
            head = await database_sync_to_async(streams.stream_head)(self.stream)
            self.after = head
            await self.layer.group_send(group, {"type": HEAD_MESSAGE_TYPE, "head": head})
            return
        for event in events:
            await self.layer.group_send(group, {"type": streams.GROUP_MESSAGE_TYPE, "event": event})
            self.after = event["seq"]


# Keyed by event loop too: tests run one loop per test, and a tail belongs to its loop.
_tails: dict[tuple[int, str], StreamTail] = {}


def subscribe(stream: str, layer: object, *, after: int) -> None:
    """Counts one more watcher of `stream`; the first starts its tail from `after` (the
    sequence number the watcher has caught up to)."""
    key = (id(asyncio.get_running_loop()), stream)
    tail = _tails.get(key)
    if tail is None:
        tail = _tails[key] = StreamTail(stream, layer, after)
        tail.task = asyncio.get_running_loop().create_task(tail.run(), name=f"tail {stream}")
    tail.subscribers += 1


def unsubscribe(stream: str) -> None:
    """Counts one watcher less; the last one stops the tail."""
    key = (id(asyncio.get_running_loop()), stream)
    tail = _tails.get(key)
    if tail is None:
        return
    tail.subscribers -= 1
    if tail.subscribers <= 0:
        del _tails[key]
        if tail.task is not None:
            tail.task.cancel()


def active_tails() -> list[str]:
    """The streams tailed in the running loop (for tests and the admin's curiosity)."""
    loop_id = id(asyncio.get_running_loop())
    return sorted(stream for (owner, stream) in _tails if owner == loop_id)
