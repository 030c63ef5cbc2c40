"""Who may do what: one contract run over every resource, for the whole cast.

Each resource class names its URLs, how the owner's object is made and what a create and an
update send; `ApiAccessContract` then checks list/retrieve/create/update/delete for an anonymous
client (401, nothing changes), for the collaborator and the stranger (the owner's object is
invisible: 404, nothing changes) and for the owner (it works).
"""

from __future__ import annotations

from typing import Any, ClassVar

import orjson
import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import models

from registry.models import Artifact, Experiment, MetricPoint, Run
from registry.services import check_metric_batch, run_log_artifact, run_log_metrics
from tests.factories import ExperimentFactory, RunFactory

pytestmark = pytest.mark.django_db

NON_OWNERS = ["collaborator_client", "stranger_client"]


class ApiAccessContract:
    list_url: ClassVar[str]
    model: ClassVar[type[models.Model]]
    renamed_field: ClassVar[str] = "name"

    def make(self, owner) -> models.Model:
        raise NotImplementedError

    def create_payload(self, owner_object: models.Model) -> dict[str, Any]:
        raise NotImplementedError

    def detail_url(self, obj: models.Model) -> str:
        return f"{self.list_url}{obj.pk}/"

    def name_of(self, obj: models.Model) -> str:
        return getattr(self.model.objects.get(pk=obj.pk), self.renamed_field)

    @pytest.fixture
    def owned(self, owner):
        return self.make(owner)

    # anonymous --------------------------------------------------------------------------------

    def test_anonymous_cannot_list_or_read(self, anonymous_client, owned, assert_error):
        assert_error(anonymous_client.get(self.list_url), 401, "not_authenticated")
        assert_error(anonymous_client.get(self.detail_url(owned)), 401, "not_authenticated")

    def test_anonymous_cannot_create(self, anonymous_client, owned, assert_error):
        before = self.model.objects.count()

        response = anonymous_client.post(self.list_url, self.create_payload(owned), format="json")

        assert_error(response, 401, "not_authenticated")
        assert self.model.objects.count() == before

    def test_anonymous_cannot_update_or_delete(self, anonymous_client, owned, assert_error):
        original = self.name_of(owned)

        renamed = anonymous_client.patch(
            self.detail_url(owned), {"name": "hijacked"}, format="json"
        )
        deleted = anonymous_client.delete(self.detail_url(owned))

        assert_error(renamed, 401, "not_authenticated")
        assert_error(deleted, 401, "not_authenticated")
        assert self.name_of(owned) == original

    # collaborator and stranger ----------------------------------------------------------------

    @pytest.mark.parametrize("other", NON_OWNERS)
    def test_others_do_not_see_it_listed_or_readable(self, request, owned, assert_error, other):
        client = request.getfixturevalue(other)

        listed = client.get(self.list_url)

        assert listed.status_code == 200
        assert [item["id"] for item in listed.json()["results"]] == []
        assert_error(client.get(self.detail_url(owned)), 404, "not_found")

    @pytest.mark.parametrize("other", NON_OWNERS)
    def test_others_cannot_update_or_delete_it(self, request, owned, assert_error, other):
        client = request.getfixturevalue(other)
        original = self.name_of(owned)

        renamed = client.patch(self.detail_url(owned), {"name": "hijacked"}, format="json")
        deleted = client.delete(self.detail_url(owned))

        assert_error(renamed, 404, "not_found")
        assert_error(deleted, 404, "not_found")
        assert self.name_of(owned) == original

    # owner ------------------------------------------------------------------------------------

    def test_the_owner_lists_reads_creates_updates_and_deletes(self, owner_client, owned):
        assert [item["id"] for item in owner_client.get(self.list_url).json()["results"]] == [
            owned.pk
        ]
        assert owner_client.get(self.detail_url(owned)).json()["id"] == owned.pk

        created = owner_client.post(self.list_url, self.create_payload(owned), format="json")
        assert created.status_code == 201, created.content
        assert self.model.objects.filter(pk=created.json()["id"]).exists()

        renamed = owner_client.patch(self.detail_url(owned), {"name": "renamed"}, format="json")
        assert renamed.status_code == 200
        assert self.name_of(owned) == "renamed"

        assert owner_client.delete(self.detail_url(owned)).status_code == 204
        assert not self.model.objects.filter(pk=owned.pk).exists()


class TestExperimentAccess(ApiAccessContract):
    list_url = "/api/v1/experiments/"
    model = Experiment

    def make(self, owner):
        return ExperimentFactory(owner=owner, name="private palette")

    def create_payload(self, owner_object):
        return {"name": "another palette"}


class TestRunAccess(ApiAccessContract):
    list_url = "/api/v1/runs/"
    model = Run

    def make(self, owner):
        return RunFactory(experiment=ExperimentFactory(owner=owner), name="private run")

    def create_payload(self, owner_object):
        return {"experiment": owner_object.experiment_id, "name": "sneaky run"}

    @pytest.mark.parametrize("other", NON_OWNERS)
    def test_others_cannot_open_a_run_in_the_owners_experiment(
        self, request, owned, assert_error, other
    ):
        client = request.getfixturevalue(other)

        response = client.post(self.list_url, self.create_payload(owned), format="json")

        assert_error(response, 404, "not_found")
        assert Run.objects.count() == 1

    @pytest.mark.parametrize("other", NON_OWNERS)
    def test_others_cannot_attach_the_owners_run_as_parent(
        self, request, owned, assert_error, other
    ):
        client = request.getfixturevalue(other)
        mine = client.post("/api/v1/experiments/", {"name": "mine"}, format="json").json()["id"]

        for field in ("parent", "remix_of"):
            response = client.post(
                self.list_url, {"experiment": mine, field: owned.pk}, format="json"
            )
            assert_error(response, 400, "invalid", field=field)
        assert Run.objects.count() == 1


@pytest.fixture
def run_with_data(run):
    run_log_metrics(run=run, batch=check_metric_batch([{"key": "loss", "step": 0, "value": 1.0}]))
    artifact = run_log_artifact(run=run, path="model.bin", stream=SimpleUploadedFile("m", b"w"))
    return run, artifact


@pytest.mark.parametrize("other", NON_OWNERS)
def test_others_cannot_read_a_runs_metrics_params_or_artifacts(
    request, run_with_data, assert_error, other
):
    client = request.getfixturevalue(other)
    run, artifact = run_with_data
    base = f"/api/v1/runs/{run.pk}"

    for url in (
        f"{base}/metrics/",
        f"{base}/params/",
        f"{base}/artifacts/",
        f"{base}/artifacts/{artifact.pk}/",
    ):
        assert_error(client.get(url), 404, "not_found")


@pytest.mark.parametrize("other", NON_OWNERS)
def test_others_cannot_write_into_a_run(request, run_with_data, settings, assert_error, other):
    client = request.getfixturevalue(other)
    run, _artifact = run_with_data
    base = f"/api/v1/runs/{run.pk}"

    metrics = client.post(
        f"{base}/metrics/",
        orjson.dumps({"metrics": [{"key": "loss", "step": 1, "value": 0.0}]}),
        content_type="application/json",
    )
    params = client.post(f"{base}/params/", {"params": {"lr": 9}}, format="json")
    artifact = client.post(
        f"{base}/artifacts/",
        {"file": SimpleUploadedFile("evil.bin", b"evil")},
        format="multipart",
    )
    finish = client.post(f"{base}/finish/", {"status": "cancelled"}, format="json")

    for response in (metrics, params, artifact, finish):
        assert_error(response, 404, "not_found")
    stored = Run.objects.get(pk=run.pk)
    assert (stored.status, stored.params) == ("running", {"lr": 0.01})
    assert list(MetricPoint.objects.values_list("step", "value")) == [(0, 1.0)]
    assert list(Artifact.objects.values_list("path", flat=True)) == ["model.bin"]


def test_anonymous_cannot_read_or_write_a_runs_data(anonymous_client, run_with_data, assert_error):
    run, artifact = run_with_data
    base = f"/api/v1/runs/{run.pk}"

    for url in (
        f"{base}/metrics/",
        f"{base}/params/",
        f"{base}/artifacts/",
        f"{base}/artifacts/{artifact.pk}/",
    ):
        assert_error(anonymous_client.get(url), 401, "not_authenticated")
    posted = anonymous_client.post(
        f"{base}/metrics/",
        orjson.dumps({"metrics": [{"key": "loss", "step": 1, "value": 0.0}]}),
        content_type="application/json",
    )
    assert_error(posted, 401, "not_authenticated")
    assert MetricPoint.objects.count() == 1
