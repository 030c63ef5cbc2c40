"""Signals the registry sends so other rooms can react without the registry knowing them.

Receivers live in `pipelines/observers.py` and must only enqueue work.
"""

from __future__ import annotations

from dataclasses import dataclass

from django.dispatch import Signal

run_finished = Signal()


@dataclass(frozen=True, slots=True)
class RunFinished:
    run_id: int
    experiment_id: int
    status: str


def send_run_finished(event: RunFinished) -> None:
    run_finished.send(sender=RunFinished, event=event)
