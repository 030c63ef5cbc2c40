"""What `manage.py train` and `manage.py sweep` both do with the JSON file they are given: read
it as the API's request body, and find (or make) the experiment it names.

Not under commands/: Django would take a module there for a command of its own.
"""

from __future__ import annotations

import json
from pathlib import Path

from django.core.management.base import CommandError

from registry import services
from registry.models import Experiment


def read_request(config_file: Path) -> dict:
    """The JSON object in `config_file`; a CommandError that says why when there is none."""
    try:
        request = json.loads(config_file.read_text())
    except (OSError, json.JSONDecodeError) as error:
        raise CommandError(f"cannot read {config_file}: {error}") from None
    if not isinstance(request, dict):
        raise CommandError("the file must hold a JSON object")
    return request


def experiment_for(owner, reference, *, default_name: str) -> Experiment:
    """The owner's experiment `reference` names: an id must exist; a name (or nothing, which
    means `default_name`) is created when the owner has none of that name. Anything else (JSON
    `true`, which Python would count as 1, a list, an object) is refused."""
    if isinstance(reference, bool) or not isinstance(reference, int | str | None):
        raise CommandError(
            f"experiment must be an experiment id or a name, got {json.dumps(reference)}"
        )
    if isinstance(reference, int):
        experiment = Experiment.objects.filter(owner=owner, pk=reference).first()
        if experiment is None:
            raise CommandError(f"no experiment {reference} of {owner.username}")
        return experiment
    name = str(reference or default_name)
    existing = Experiment.objects.filter(owner=owner, name=name).first()
    return existing or services.experiment_create(owner=owner, name=name)
