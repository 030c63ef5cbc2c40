"""`manage.py reap_runs`: requeue or fail runs whose worker died, now (the worker's schedule
does this every minute)."""

from django.core.management.base import BaseCommand

from pipelines.tasks import reap_stale_runs


class Command(BaseCommand):
    help = "Requeues (or fails, once out of attempts) runs whose worker stopped sending heartbeats."

    def handle(self, *args, **options) -> None:
        outcomes = reap_stale_runs()
        self.stdout.write(", ".join(f"{count} {outcome}" for outcome, count in outcomes.items()))
