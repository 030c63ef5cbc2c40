from __future__ import annotations

from django.db import models


class EventStream(models.Model):
    """One live stream (a run's, a sweep's, a user's) and the last sequence number it gave.

    Appending an event increments `last_seq` by an UPDATE in the writer's transaction: the row
    lock makes appends to one stream commit in sequence order, so a reader that has seen every
    event up to n and asks for `seq > n` never misses one that commits later with a lower number.
    """

    name = models.CharField(max_length=64, unique=True, help_text='"run:12", "sweep:3", "user:5".')
    last_seq = models.BigIntegerField(default=0)
    purged_through = models.BigIntegerField(
        default=0, help_text="Events up to this sequence number were purged (old streams)."
    )

    def __str__(self) -> str:
        return f"{self.name} @ {self.last_seq}"


class StreamEvent(models.Model):
    """One event of a stream, as live clients receive it: the database is the source of truth
    and a reconnecting client gets exactly the events after the last sequence it saw."""

    stream = models.ForeignKey(EventStream, on_delete=models.CASCADE, related_name="events")
    seq = models.BigIntegerField()
    type = models.CharField(max_length=16)
    payload = models.JSONField(default=dict)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["stream", "seq"], name="stream_event_unique_seq")
        ]
        ordering = ["stream", "seq"]

    def __str__(self) -> str:
        return f"{self.stream_id}#{self.seq} {self.type}"
