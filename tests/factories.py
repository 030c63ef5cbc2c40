"""factory_boy factories for the rows most tests start from.

They write rows directly (no services), so a test states only what matters to it; behaviour
under test still goes through the services or the HTTP API.
"""

from __future__ import annotations

import factory
from django.contrib.auth import get_user_model
from django.utils import timezone

from registry.models import Experiment, Run, RunStatus

PASSWORD = "correct-horse-battery-staple"


class UserFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = get_user_model()
        django_get_or_create = ("username",)
        skip_postgeneration_save = True

    username = factory.Sequence(lambda n: f"creator{n}")
    email = factory.LazyAttribute(lambda user: f"{user.username}@example.com")
    password = factory.django.Password(PASSWORD)


class ExperimentFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Experiment

    owner = factory.SubFactory(UserFactory)
    name = factory.Sequence(lambda n: f"experiment {n}")
    description = ""
    tags = factory.LazyFunction(list)


class RunFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Run

    experiment = factory.SubFactory(ExperimentFactory)
    owner = factory.SelfAttribute("experiment.owner")
    name = factory.Sequence(lambda n: f"run {n}")
    status = RunStatus.RUNNING
    params = factory.LazyFunction(dict)
    started_at = factory.LazyFunction(timezone.now)
