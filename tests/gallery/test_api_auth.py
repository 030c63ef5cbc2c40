"""`Authorization: Token <key>` authentication and the tokens endpoint."""

import pytest
from rest_framework.test import APIClient

from registry.models import ApiToken
from registry.services import api_token_create, api_token_revoke, token_digest

pytestmark = pytest.mark.django_db

EXPERIMENTS = "/api/v1/experiments/"


def client_with_header(value: str) -> APIClient:
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=value)
    return client


def test_a_token_authenticates_its_user_and_records_its_use(owner, experiment):
    token, key = api_token_create(user=owner, name="laptop")
    assert token.last_used_at is None

    response = client_with_header(f"Token {key}").get(EXPERIMENTS)

    assert response.status_code == 200
    assert [e["name"] for e in response.json()["results"]] == ["sketch brushes"]
    assert ApiToken.objects.get(pk=token.pk).last_used_at is not None


def test_bearer_is_accepted_as_well(owner, experiment):
    _token, key = api_token_create(user=owner, name="laptop")

    assert client_with_header(f"Bearer {key}").get(EXPERIMENTS).status_code == 200


def test_only_a_digest_of_the_key_is_stored(owner):
    token, key = api_token_create(user=owner, name="laptop")

    stored = ApiToken.objects.get(pk=token.pk)
    assert key.startswith("cc_")
    assert stored.key_digest == token_digest(key)
    assert key not in (stored.key_digest, stored.prefix, stored.name)
    assert stored.prefix == key[:10]


def test_a_revoked_token_is_refused(owner, assert_error):
    token, key = api_token_create(user=owner, name="laptop")
    api_token_revoke(token=token)

    response = client_with_header(f"Token {key}").get(EXPERIMENTS)

    assert_error(response, 401, "authentication_failed")
    assert response["WWW-Authenticate"] == "Token"


def test_a_token_of_a_deactivated_user_is_refused(owner, assert_error):
    _token, key = api_token_create(user=owner, name="laptop")
    owner.is_active = False
    owner.save(update_fields=["is_active"])

    assert_error(client_with_header(f"Token {key}").get(EXPERIMENTS), 401, "authentication_failed")


@pytest.mark.parametrize(
    "header", ["Token cc_made_up_key", "Token", "Token two parts", "Token \u00e9t\u00e9"]
)
def test_a_wrong_or_malformed_token_is_refused(db, assert_error, header):
    assert_error(client_with_header(header).get(EXPERIMENTS), 401, "authentication_failed")


def test_anonymous_requests_are_refused_with_401(anonymous_client, assert_error):
    response = anonymous_client.get(EXPERIMENTS)

    body = assert_error(response, 401, "not_authenticated")
    assert body["detail"] == "Authentication credentials were not provided."
    assert response["WWW-Authenticate"] == "Token"


def test_a_session_login_works_for_the_browser_api(owner, experiment):
    client = APIClient()
    client.force_login(owner)

    assert client.get(EXPERIMENTS).status_code == 200


def test_creating_a_token_through_the_api_shows_the_key_once(owner_client, owner):
    response = owner_client.post("/api/v1/tokens/", {"name": "render farm"}, format="json")

    assert response.status_code == 201
    body = response.json()
    key = body["key"]
    assert ApiToken.objects.get(pk=body["id"]).key_digest == token_digest(key)
    listing = owner_client.get("/api/v1/tokens/").json()["results"]
    assert sorted(token["name"] for token in listing) == ["pytest", "render farm"]
    assert all("key" not in token and "key_digest" not in token for token in listing)
    assert client_with_header(f"Token {key}").get(EXPERIMENTS).status_code == 200


def test_revoking_a_token_through_the_api_stops_it(owner_client, owner):
    token, key = api_token_create(user=owner, name="old script")

    assert owner_client.delete(f"/api/v1/tokens/{token.pk}/").status_code == 204

    assert ApiToken.objects.get(pk=token.pk).revoked_at is not None
    assert client_with_header(f"Token {key}").get(EXPERIMENTS).status_code == 401


@pytest.mark.parametrize("other", ["collaborator_client", "stranger_client"])
def test_nobody_else_sees_or_revokes_your_tokens(request, owner, assert_error, other):
    client = request.getfixturevalue(other)
    token, _key = api_token_create(user=owner, name="mine")

    names = [t["name"] for t in client.get("/api/v1/tokens/").json()["results"]]
    response = client.delete(f"/api/v1/tokens/{token.pk}/")

    assert names == ["pytest"]  # only their own
    assert_error(response, 404, "not_found")
    assert ApiToken.objects.get(pk=token.pk).revoked_at is None


@pytest.mark.parametrize("token_id", ["\u00b2", "99999999999999999999", "abc"])
def test_revoking_an_odd_token_id_is_404(owner_client, assert_error, token_id):
    assert_error(owner_client.delete(f"/api/v1/tokens/{token_id}/"), 404, "not_found")


def test_a_user_holds_at_most_twenty_active_tokens(owner, owner_client, assert_error):
    for index in range(19):  # owner_client already holds one
        api_token_create(user=owner, name=f"token {index}")

    response = owner_client.post("/api/v1/tokens/", {"name": "one too many"}, format="json")

    assert_error(response, 400, "invalid", field="name")
    assert ApiToken.objects.filter(user=owner).count() == 20
