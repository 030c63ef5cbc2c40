"""`manage.py seed_demo`: demo accounts and content; running it again changes nothing."""

from __future__ import annotations

from django.core.management.base import BaseCommand

from gallery.demo import seed_demo


class Command(BaseCommand):
    help = "Creates the demo accounts, datasets, experiments and models (idempotent)."

    def handle(self, *args, **options) -> None:
        created = seed_demo(log=lambda message: self.stdout.write(f"  {message}"))
        if created:
            self.stdout.write(
                self.style.SUCCESS(
                    f"Demo content ready ({created} datasets, experiments and models "
                    "added or refreshed)"
                )
            )
        else:
            self.stdout.write("Demo content already present; nothing changed.")
