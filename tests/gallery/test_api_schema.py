"""The OpenAPI schema and its browsable docs."""

import pytest
import yaml

pytestmark = pytest.mark.django_db


def test_the_schema_lists_the_tracking_endpoints(client):
    response = client.get("/api/schema/")

    assert response.status_code == 200
    schema = yaml.safe_load(response.content)
    paths = schema["paths"]
    for path in (
        "/api/v1/experiments/",
        "/api/v1/runs/",
        "/api/v1/runs/{id}/",
        "/api/v1/runs/{id}/metrics/",
        "/api/v1/runs/{id}/params/",
        "/api/v1/runs/{id}/artifacts/",
        "/api/v1/runs/{id}/finish/",
        "/api/v1/tokens/",
    ):
        assert path in paths, path
    assert set(paths["/api/v1/runs/{id}/metrics/"]) >= {"get", "post"}
    assert schema["info"]["title"] == "CanvasCraft ML Studio API"


def test_the_schema_is_also_served_as_json(client):
    response = client.get("/api/schema/", HTTP_ACCEPT="application/vnd.oai.openapi+json")

    assert response.status_code == 200
    assert "/api/v1/runs/{id}/metrics/" in response.json()["paths"]


def test_the_docs_page_answers(client):
    response = client.get("/api/docs/")

    assert response.status_code == 200
    assert b"swagger" in response.content.lower()
    assert b"/api/schema/" in response.content
