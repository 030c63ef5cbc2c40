"""`manage.py purge_features [--days N] [--dry-run]`: drop feature sets nobody uses."""

from __future__ import annotations

from django.core.management.base import BaseCommand, CommandError
from django.template.defaultfilters import filesizeformat

from registry.services import feature_sets_purge


class Command(BaseCommand):
    help = (
        "Deletes stored features that no run trained on and that were not used for N days "
        "(default 30), with their files."
    )

    def add_arguments(self, parser) -> None:
        parser.add_argument("--days", type=int, default=30, help="Unused for at least N days.")
        parser.add_argument("--dry-run", action="store_true", help="List, delete nothing.")

    def handle(self, *args, days: int, dry_run: bool, **options) -> None:
        if days < 0:
            raise CommandError("--days must be 0 or more")
        purged = feature_sets_purge(unused_for_days=days, dry_run=dry_run)
        for feature_set in purged:
            self.stdout.write(
                f"  {feature_set} ({filesizeformat(feature_set.size_bytes)}, "
                f"last used {feature_set.last_used_at:%Y-%m-%d})"
            )
        total = sum(feature_set.size_bytes for feature_set in purged)
        verb = "would free" if dry_run else "freed"
        self.stdout.write(f"{len(purged)} feature sets; {verb} {filesizeformat(total)}.")
