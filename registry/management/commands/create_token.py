"""`manage.py create_token USERNAME [--name NAME]`: print a new API token for a user, once."""

from __future__ import annotations

from django.core.management.base import BaseCommand, CommandError

from canvascraft.command_users import user_named
from registry.errors import RegistryError
from registry.services import api_token_create


class Command(BaseCommand):
    help = "Creates an API token for an existing user and prints its key (shown only this once)."

    def add_arguments(self, parser) -> None:
        parser.add_argument("username")
        parser.add_argument("--name", default="created from the shell", help="Token label.")

    def handle(self, *args, username: str, name: str, **options) -> None:
        user = user_named(username)
        if not user.is_active:
            raise CommandError(f"user {username!r} is inactive")
        try:
            _token, key = api_token_create(user=user, name=name)
        except RegistryError as error:
            raise CommandError(error.message) from None
        self.stdout.write(key)
        self.stderr.write(
            f"Token {name!r} for {username}: use it as 'Authorization: Token <key>'. "
            "It is not stored in clear and will not be shown again."
        )
