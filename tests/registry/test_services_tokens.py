from datetime import timedelta

import pytest
from django.utils import timezone

from registry import selectors
from registry.errors import InvalidInput
from registry.models import ApiToken
from registry.services import api_token_create, api_token_revoke, api_token_touch, token_digest

pytestmark = pytest.mark.django_db


def test_a_created_token_is_found_by_the_digest_of_its_key(owner):
    token, key = api_token_create(user=owner, name="  laptop  ")

    assert token.name == "laptop"
    assert selectors.api_token_by_digest(token_digest(key)) == token
    assert len(key) > 40


def test_every_key_is_different(owner):
    keys = {api_token_create(user=owner, name=f"t{i}")[1] for i in range(5)}

    assert len(keys) == 5


@pytest.mark.parametrize("name", ["", "   ", "x" * 101])
def test_a_token_needs_a_name(owner, name):
    with pytest.raises(InvalidInput):
        api_token_create(user=owner, name=name)

    assert not ApiToken.objects.exists()


def test_a_revoked_token_is_no_longer_found(owner):
    token, key = api_token_create(user=owner, name="laptop")

    api_token_revoke(token=token)
    revoked_at = ApiToken.objects.get(pk=token.pk).revoked_at
    api_token_revoke(token=token)  # revoking again changes nothing

    assert selectors.api_token_by_digest(token_digest(key)) is None
    assert ApiToken.objects.get(pk=token.pk).revoked_at == revoked_at


def test_revoked_tokens_do_not_count_towards_the_limit(owner):
    tokens = [api_token_create(user=owner, name=f"t{i}")[0] for i in range(20)]
    with pytest.raises(InvalidInput):
        api_token_create(user=owner, name="21st")

    api_token_revoke(token=tokens[0])

    assert api_token_create(user=owner, name="21st")[0].name == "21st"


def test_touch_records_use_at_most_once_a_minute(owner):
    token, _key = api_token_create(user=owner, name="laptop")

    api_token_touch(token=token)
    first = ApiToken.objects.get(pk=token.pk).last_used_at
    api_token_touch(token=token)
    assert ApiToken.objects.get(pk=token.pk).last_used_at == first

    token.last_used_at = timezone.now() - timedelta(seconds=61)
    api_token_touch(token=token)
    assert ApiToken.objects.get(pk=token.pk).last_used_at > first
