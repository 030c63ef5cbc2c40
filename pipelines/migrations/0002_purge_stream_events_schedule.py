"""Schedules the daily purge of old live events (see pipelines.tasks.purge_stream_events)."""

from django.db import migrations

PURGE_NAME = "canvascraft: purge old live events"


def add_schedule(apps, schema_editor):
    Schedule = apps.get_model("django_q", "Schedule")
    Schedule.objects.update_or_create(
        name=PURGE_NAME,
        defaults={
            "func": "pipelines.tasks.purge_stream_events",
            "schedule_type": "D",  # daily
            "repeats": -1,
        },
    )


def remove_schedule(apps, schema_editor):
    apps.get_model("django_q", "Schedule").objects.filter(name=PURGE_NAME).delete()


class Migration(migrations.Migration):
    dependencies = [("pipelines", "0001_reaper_schedule")]

    operations = [migrations.RunPython(add_schedule, remove_schedule)]
