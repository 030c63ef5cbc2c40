"""`manage.py register_model NAME RUN_ID [--user NAME] [--description TEXT] [--public]`:
publish a succeeded run as the next version of model NAME (created on first use), as
`POST /api/v1/models/NAME/versions/ {"run": RUN_ID}` does."""

from __future__ import annotations

from django.core.management.base import BaseCommand, CommandError

from canvascraft.command_users import user_named
from pipelines.publishing import publish_run
from registry.errors import RegistryError
from registry.models import Run


class Command(BaseCommand):
    help = "Publishes a succeeded run as the next version of a model."

    def add_arguments(self, parser) -> None:
        parser.add_argument("name", help="Model name: lower-case letters, digits and hyphens.")
        parser.add_argument("run_id", type=int)
        parser.add_argument("--user", default="demo", help="Owner of the run (default: demo).")
        parser.add_argument("--description", default="")
        parser.add_argument("--public", action="store_true", help="Make the model public.")

    def handle(self, *args, name: str, run_id: int, user: str, description: str, public, **_):
        owner = user_named(user)
        run = Run.objects.filter(pk=run_id, owner=owner).first()
        if run is None:
            raise CommandError(f"no run {run_id} of {user}")
        try:
            version = publish_run(
                user=owner,
                run=run,
                name=name,
                description=description,
                visibility="public" if public else None,
            )
        except RegistryError as error:
            raise CommandError(f"{error.field or 'request'}: {error.message}") from None
        signature = version.signature
        self.stdout.write(
            f"{version.model.name} version {version.number} published from run {run_id} "
            f"({version.model.visibility}; {signature.get('modality')} input, "
            f"{len(version.label_names) or 'no'} classes)"
        )
