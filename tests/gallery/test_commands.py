"""The shell commands `make run` and scripts rely on: create_token and seed_demo."""

from __future__ import annotations

import io
from io import StringIO

import pytest
from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.management import CommandError, call_command
from rest_framework.test import APIClient

from pipelines.runner import execute_run
from pipelines.services import start_run
from registry import services
from registry.models import (
    ApiToken,
    Artifact,
    Experiment,
    MetricPoint,
    ModelVersion,
    RegisteredModel,
    Run,
    RunStatus,
)


def test_create_token_prints_a_key_that_authenticates_once_shown(owner):
    stdout = StringIO()
    call_command("create_token", owner.username, "--name", "ci", stdout=stdout, stderr=StringIO())
    key = stdout.getvalue().strip()
    assert key.startswith("cc_")
    token = ApiToken.objects.get(user=owner)
    assert token.name == "ci"
    assert key not in (token.key_digest, token.prefix)  # the key itself is not stored
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {key}")
    assert client.get("/api/v1/experiments/").status_code == 200


def test_create_token_for_an_unknown_user_fails_and_creates_nothing(db):
    with pytest.raises(CommandError, match="no user named 'ghost'"):
        call_command("create_token", "ghost", stdout=StringIO(), stderr=StringIO())
    assert ApiToken.objects.count() == 0


def test_create_token_refuses_an_inactive_user(owner):
    owner.is_active = False
    owner.save()
    with pytest.raises(CommandError, match="inactive"):
        call_command("create_token", owner.username, stdout=StringIO(), stderr=StringIO())
    assert ApiToken.objects.count() == 0


def _counts() -> tuple[int, ...]:
    return (
        get_user_model().objects.count(),
        Experiment.objects.count(),
        Run.objects.count(),
        MetricPoint.objects.count(),
        Artifact.objects.count(),
        ModelVersion.objects.count(),
    )


# seed_demo trains the demo models: the runner's writer threads must see committed rows.
@pytest.mark.django_db(transaction=True)
def test_seed_demo_creates_the_demo_accounts_and_realistic_runs_once():
    call_command("seed_demo", stdout=StringIO())
    creator_name, creator_password = settings.DEMO_CREATOR
    operator_name, _ = settings.DEMO_OPERATOR
    creator = get_user_model().objects.get(username=creator_name)
    assert creator.check_password(creator_password)
    assert not creator.is_staff
    assert get_user_model().objects.get(username=operator_name).is_superuser
    runs = Run.objects.filter(owner=creator)
    assert set(runs.values_list("status", flat=True)) == {
        RunStatus.SUCCEEDED,
        RunStatus.FAILED,
        RunStatus.CANCELLED,
    }
    failed = runs.get(status=RunStatus.FAILED)
    assert "NaN" in failed.error_text
    assert failed.summaries.filter(key="val_acc").exists()
    demo_models = RegisteredModel.objects.filter(visibility="public").order_by("name")
    assert [model.name for model in demo_models] == ["sketch-digits", "wine-cultivars"]
    for model in demo_models:
        assert model.aliases.get(name="production").version == model.latest_version
        assert model.headline_value > 0.8, (model.name, model.headline_value)

    first = _counts()
    stdout = StringIO()
    call_command("seed_demo", stdout=stdout)
    assert _counts() == first
    assert "nothing changed" in stdout.getvalue()

    # A studio seeded by an older release: its forest's export predates float64 tables.
    version = ModelVersion.objects.get(model__name="wine-cultivars")
    lineage = version.lineage
    del lineage["onnx"]["input_dtype"]
    ModelVersion.objects.filter(pk=version.pk).update(lineage=lineage)
    stdout = StringIO()
    call_command("seed_demo", stdout=stdout)
    assert "re-exported model 'wine-cultivars' version 1 to ONNX: ready" in stdout.getvalue()
    assert "(1 datasets, experiments and models added or refreshed)" in stdout.getvalue()
    version.refresh_from_db()
    assert (version.lineage["onnx"]["input_dtype"], version.lineage["onnx"]["exact"]) == (
        "float64",
        True,
    )
    assert _counts() == first


def test_seed_demo_leaves_an_existing_demo_password_alone(db, settings):
    settings.SEED_DEMO_MODELS = False  # trained in the test above; not what this one checks
    creator_name, creator_password = settings.DEMO_CREATOR
    user = get_user_model().objects.create_user(creator_name, password="changed-by-the-user-1")
    call_command("seed_demo", stdout=StringIO())
    user.refresh_from_db()
    assert user.check_password("changed-by-the-user-1")
    assert not user.check_password(creator_password)


@pytest.mark.django_db(transaction=True)
def test_register_model_and_set_alias_publish_move_and_roll_back(owner, experiment):
    from tests.gallery.test_api_training import WINE_LIKE_CSV, config_for

    _dataset, table = services.dataset_create(
        owner=owner,
        name="wine notes",
        modality="tabular",
        upload=io.BytesIO(WINE_LIKE_CSV.encode()),
        original_name="wine.csv",
    )
    run = start_run(owner=owner, experiment=experiment, name="forest", config=config_for(table))
    assert execute_run(run.pk) == "succeeded"

    def command(*args) -> str:
        stdout = StringIO()
        call_command(*args, "--user", owner.username, stdout=stdout)
        return stdout.getvalue().strip()

    assert command("register_model", "wine-notes", str(run.pk), "--public") == (
        f"wine-notes version 1 published from run {run.pk} (public; tabular input, 3 classes)"
    )
    command("register_model", "wine-notes", str(run.pk))
    assert command("set_alias", "wine-notes", "production", "1") == (
        "wine-notes@production: nothing -> version 1"
    )
    assert command("set_alias", "wine-notes", "production", "2", "--reason", "newer") == (
        "wine-notes@production: version 1 -> version 2"
    )
    assert command("set_alias", "wine-notes", "production", "--rollback") == (
        "wine-notes@production: version 2 -> version 1 (rollback)"
    )
    with pytest.raises(CommandError, match="has no version 9"):
        command("set_alias", "wine-notes", "production", "9")
    with pytest.raises(CommandError, match="a model name is"):
        command("register_model", "Wine Notes", str(run.pk))
    assert ModelVersion.objects.count() == 2
