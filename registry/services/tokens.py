"""Writes for API tokens: create (the key is returned once) and revoke."""

from __future__ import annotations

import hashlib
import secrets

from django.contrib.auth.models import AbstractBaseUser
from django.db import transaction
from django.utils import timezone

from registry.errors import InvalidInput
from registry.models import ApiToken

KEY_PREFIX = "cc_"
MAX_ACTIVE_TOKENS = 20


def token_digest(key: str) -> str:
    return hashlib.sha256(key.encode()).hexdigest()


@transaction.atomic
def api_token_create(*, user: AbstractBaseUser, name: str) -> tuple[ApiToken, str]:
    """Creates a token and returns it with its key; only the key's digest is stored."""
    name = (name or "").strip()
    if not name or len(name) > 100:
        raise InvalidInput("a token needs a name of 1-100 characters", field="name")
    active = ApiToken.objects.filter(user=user, revoked_at__isnull=True).count()
    if active >= MAX_ACTIVE_TOKENS:
        raise InvalidInput(
            f"at most {MAX_ACTIVE_TOKENS} active tokens; revoke one first", field="name"
        )
    key = KEY_PREFIX + secrets.token_urlsafe(32)
    token = ApiToken.objects.create(
        user=user, name=name, prefix=key[:10], key_digest=token_digest(key)
    )
    return token, key


@transaction.atomic
def api_token_revoke(*, token: ApiToken) -> ApiToken:
    """Revokes a token for good; requests carrying it are refused from now on."""
    if token.revoked_at is None:
        token.revoked_at = timezone.now()
        token.save(update_fields=["revoked_at"])
    return token


def api_token_touch(*, token: ApiToken) -> None:
    """Records use at most once a minute, so authentication does not write on every request."""
    now = timezone.now()
    if token.last_used_at is None or (now - token.last_used_at).total_seconds() > 60:
        ApiToken.objects.filter(pk=token.pk).update(last_used_at=now)
        token.last_used_at = now
