"""Signals the registry sends so other rooms can react without the registry knowing them:
a run finished, a model version was published, an alias moved. Each is sent on commit with a
frozen payload of ids.

Receivers live in `pipelines/observers.py` (or a room's apps.py) and must only enqueue work or
warm caches.
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


model_version_created = Signal()
alias_moved = Signal()


@dataclass(frozen=True, slots=True)
class ModelVersionCreated:
    model_id: int
    version_id: int
    number: int


@dataclass(frozen=True, slots=True)
class AliasMoved:
    model_id: int
    alias: str
    from_version_id: int | None
    to_version_id: int
    moved_by_id: int | None


def send_model_version_created(event: ModelVersionCreated) -> None:
    model_version_created.send(sender=ModelVersionCreated, event=event)


def send_alias_moved(event: AliasMoved) -> None:
    alias_moved.send(sender=AliasMoved, event=event)
