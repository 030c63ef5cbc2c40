"""Errors: JSON with a request id on /api/, HTML pages elsewhere, failures logged once."""

from __future__ import annotations

import logging
import re
from pathlib import Path

import pytest
from django.conf import settings as django_settings
from django.test import Client

TEMPLATES_DIR = Path(django_settings.BASE_DIR) / "templates"
REQUEST_ID = re.compile(r"^[0-9a-f]{32}$")


def requires_templates(*names: str):
    missing = [name for name in names if not (TEMPLATES_DIR / name).is_file()]
    return pytest.mark.skipif(bool(missing), reason=f"templates not written yet: {missing}")


@pytest.fixture
def boom_urls(settings):
    settings.ROOT_URLCONF = "tests.canvascraft.urls_boom"


@pytest.fixture
def client_keeping_errors() -> Client:
    """A client that returns the 500 response instead of re-raising the view's exception."""
    return Client(raise_request_exception=False)


@pytest.mark.django_db
def test_unknown_api_url_answers_json_404_with_the_request_id(client):
    response = client.get("/api/v1/nope/")

    assert response.status_code == 404
    assert response["Content-Type"] == "application/json"
    body = response.json()
    assert body == {
        "detail": "Not found.",
        "code": "not_found",
        "request_id": response["X-Request-ID"],
    }
    assert REQUEST_ID.match(body["request_id"])


@requires_templates("errors/404.html")
@pytest.mark.django_db
def test_unknown_page_answers_an_html_404(client):
    response = client.get("/nope/")

    assert response.status_code == 404
    assert response["Content-Type"].startswith("text/html")


@pytest.mark.django_db
def test_a_sane_client_request_id_is_echoed(client):
    response = client.get("/health/", HTTP_X_REQUEST_ID="script-run-0042")

    assert response.status_code == 200
    assert response["X-Request-ID"] == "script-run-0042"


@pytest.mark.django_db
@pytest.mark.parametrize(
    "offered", ["short", "has spaces in it", "x" * 65, "<script>alert</script>"]
)
def test_an_odd_client_request_id_is_replaced(client, offered):
    response = client.get("/health/", HTTP_X_REQUEST_ID=offered)

    assert REQUEST_ID.match(response["X-Request-ID"])


@pytest.mark.django_db
def test_every_response_gets_a_fresh_request_id(client):
    first = client.get("/health/")["X-Request-ID"]
    second = client.get("/health/")["X-Request-ID"]

    assert REQUEST_ID.match(first)
    assert first != second


@pytest.mark.django_db
def test_an_api_error_body_carries_the_offered_request_id(client):
    response = client.get("/api/v1/experiments/", HTTP_X_REQUEST_ID="trace-abcdef12")

    assert response.status_code == 401
    assert response.json()["request_id"] == "trace-abcdef12"
    assert response["X-Request-ID"] == "trace-abcdef12"


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("url", "message"),
    [("/api/boom/", "palette tipped over"), ("/api/v1/boom/", "easel collapsed")],
    ids=["django-view", "drf-view"],
)
def test_a_failing_api_view_answers_json_500_and_logs_the_traceback_with_the_request_id(
    boom_urls, client_keeping_errors, caplog, url, message
):
    with caplog.at_level(logging.ERROR, logger="canvascraft.request"):
        response = client_keeping_errors.get(url, HTTP_X_REQUEST_ID="boom-request-01")

    assert response.status_code == 500
    assert response.json() == {
        "detail": "Internal server error.",
        "code": "server_error",
        "request_id": "boom-request-01",
    }
    assert message not in response.content.decode()  # no internals leak to the client
    failures = [record for record in caplog.records if record.exc_info]
    assert len(failures) == 1
    assert failures[0].request_id == "boom-request-01"
    assert failures[0].getMessage() == f"unhandled PaintSpilled on GET {url}"
    assert message in str(failures[0].exc_info[1])


@pytest.mark.django_db
def test_permission_denied_on_the_api_answers_json_403(boom_urls, client):
    response = client.get("/api/forbidden/")

    assert response.status_code == 403
    assert response.json() == {
        "detail": "Permission denied.",
        "code": "permission_denied",
        "request_id": response["X-Request-ID"],
    }


@requires_templates("errors/500.html")
@pytest.mark.django_db
def test_a_failing_page_answers_the_html_error_page(boom_urls, client_keeping_errors, caplog):
    with caplog.at_level(logging.ERROR, logger="canvascraft.request"):
        response = client_keeping_errors.get("/page-boom/", HTTP_X_REQUEST_ID="page-request-01")

    assert response.status_code == 500
    assert response["Content-Type"].startswith("text/html")
    assert "page-request-01" in response.content.decode()
    assert [r.request_id for r in caplog.records if r.exc_info] == ["page-request-01"]


@pytest.mark.django_db
def test_health_answers_ok_with_the_database_vendor(client):
    from django.db import connection

    response = client.get("/health/")

    assert response.status_code == 200
    assert response.json() == {"status": "ok", "database": connection.vendor}
