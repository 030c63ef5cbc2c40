"""Shared fixtures: three named users, API clients holding their tokens, signed-in page
clients, a private data dir.

Every permission test meets the same cast: `owner` owns what is under test, `collaborator` is
another signed-up creator (no sharing exists yet, so they are a non-owner like `stranger`) and
`anonymous_client` carries no credentials at all.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest
from django.test import Client
from rest_framework.test import APIClient

from registry import services
from tests.clients import signed_in
from tests.factories import ExperimentFactory, RunFactory, UserFactory


def pytest_configure(config: pytest.Config) -> None:
    # A paginated list without a stable order shows rows twice or never across pages.
    config.addinivalue_line(
        "filterwarnings", "error::django.core.paginator.UnorderedObjectListWarning"
    )


@pytest.fixture(scope="session", autouse=True)
def no_test_tasks_left_in_redis():
    """Tests enqueue tasks nobody runs; with Redis they would stay in its queues. `make test`
    gives the test run queues of its own (CANVASCRAFT_REDIS_PREFIX), emptied at the end; a
    studio's own queues are never touched."""
    yield
    from django.conf import settings

    if not settings.REDIS_URL or settings.REDIS_PREFIX == "canvascraft":
        return
    import redis

    client = redis.Redis.from_url(settings.REDIS_URL)
    for queue in settings.TASK_QUEUES.values():
        client.delete(f"django_q:{queue}:q")


@pytest.fixture(autouse=True)
def data_dir(settings, tmp_path: Path) -> Path:
    """Artifacts and upload temp files of each test go to its own directory."""
    settings.ARTIFACT_DIR = tmp_path / "artifacts"
    # The default PBKDF2 hasher costs ~0.2 s per user; these tests do not test hashing.
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
    settings.FILE_UPLOAD_TEMP_DIR = str(tmp_path / "uploads")
    # Pages link plain static names: a manifest left in var/ by `make run` would name hashed
    # files that the test server (serving from the app folders) does not have.
    settings.STORAGES = {
        **settings.STORAGES,
        "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
    }
    (tmp_path / "uploads").mkdir()
    return tmp_path


@pytest.fixture
def owner(db):
    return UserFactory(username="olivia_owner")


@pytest.fixture
def collaborator(db):
    return UserFactory(username="carmen_collaborator")


@pytest.fixture
def stranger(db):
    return UserFactory(username="sam_stranger")


@pytest.fixture
def owner_pages(owner) -> Client:
    """The owner, signed in to the pages with a session, as in a browser."""
    return signed_in(owner)


@pytest.fixture(params=["collaborator", "stranger"])
def other_pages(request) -> Client:
    """Each of the two users who do not own what is under test, signed in to the pages."""
    return signed_in(request.getfixturevalue(request.param))


@pytest.fixture
def api_client_for(db) -> Callable[..., APIClient]:
    """An API client that sends `Authorization: Token <key>` of a fresh token of `user`."""

    def make(user) -> APIClient:
        _token, key = services.api_token_create(user=user, name="pytest")
        client = APIClient()
        client.credentials(HTTP_AUTHORIZATION=f"Token {key}")
        return client

    return make


@pytest.fixture
def owner_client(api_client_for, owner) -> APIClient:
    return api_client_for(owner)


@pytest.fixture
def collaborator_client(api_client_for, collaborator) -> APIClient:
    return api_client_for(collaborator)


@pytest.fixture
def stranger_client(api_client_for, stranger) -> APIClient:
    return api_client_for(stranger)


@pytest.fixture
def anonymous_client(db) -> APIClient:
    return APIClient()


def assert_error(response, status: int, code: str, *, field: str | None = None) -> dict:
    """Checks the studio's error body: detail, code, request_id (+ errors for a bad field)."""
    assert response.status_code == status, response.content[:500]
    body = response.json()
    expected_keys = {"detail", "code", "request_id"} | ({"errors"} if field else set())
    assert set(body) == expected_keys, body
    assert body["code"] == code, body
    assert isinstance(body["detail"], str) and body["detail"]
    assert body["request_id"] == response["X-Request-ID"]
    if field:
        assert field in body["errors"], body
    return body


@pytest.fixture(name="assert_error")
def assert_error_fixture() -> Callable[..., dict]:
    return assert_error


@pytest.fixture
def experiment(owner):
    return ExperimentFactory(owner=owner, name="sketch brushes")


@pytest.fixture
def run(experiment):
    return RunFactory(experiment=experiment, name="baseline", params={"lr": 0.01})
