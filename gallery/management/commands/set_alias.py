"""`manage.py set_alias NAME ALIAS VERSION [--reason TEXT] [--user NAME]` points an alias at a
version; `manage.py set_alias NAME ALIAS --rollback` moves it back to where it was before its
last move. Each move is recorded in the model's alias history."""

from __future__ import annotations

from django.core.management.base import BaseCommand, CommandError

from canvascraft.command_users import user_named
from gallery import model_selectors
from registry import services
from registry.errors import RegistryError
from registry.models import PromotionRequest


class Command(BaseCommand):
    help = "Points a model's alias at a version (or rolls it back) and records the move."

    def add_arguments(self, parser) -> None:
        parser.add_argument("name")
        parser.add_argument("alias")
        parser.add_argument("version", type=int, nargs="?")
        parser.add_argument("--rollback", action="store_true")
        parser.add_argument("--reason", default="")
        parser.add_argument("--user", default="demo", help="Who moves it (default: demo).")

    def handle(self, *args, name, alias, version, rollback, reason, user, **options):
        if rollback == (version is not None):
            raise CommandError("give a VERSION, or --rollback, not both")
        mover = user_named(user)
        try:
            model = model_selectors.model_owned_by(mover, name)
            if rollback:
                outcome = services.model_alias_rollback(
                    user=mover, model=model, alias=alias, reason=reason
                )
            else:
                outcome = services.model_alias_move(
                    user=mover,
                    model=model,
                    alias=alias,
                    version=model_selectors.version_of(model, version),
                    reason=reason,
                )
        except RegistryError as error:
            raise CommandError(f"{error.field or 'request'}: {error.message}") from None
        if isinstance(outcome, PromotionRequest):
            self.stdout.write(
                f"{name}@{alias} -> version {outcome.version.number} waits for an operator's "
                "approval (admin: promotion requests)"
            )
            return
        before = f"version {outcome.from_version.number}" if outcome.from_version else "nothing"
        self.stdout.write(
            f"{name}@{alias}: {before} -> version {outcome.to_version.number}"
            + (" (rollback)" if outcome.is_rollback else "")
        )
