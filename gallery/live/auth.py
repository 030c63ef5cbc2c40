"""Who is on the other end of a websocket, and whether its page may talk to us.

Browsers authenticate with their session cookie (Channels' `AuthMiddlewareStack`); scripts send
`Authorization: Token <key>` in the handshake, checked like the API's tokens. Browsers always
send an `Origin` header on a websocket handshake: it must name one of `ALLOWED_HOSTS`, which is
what stops another site's page from opening a socket with our visitor's cookie. Clients that
are not browsers send none and are let through on their token (or session) alone.
"""

from __future__ import annotations

from urllib.parse import urlparse

from channels.db import database_sync_to_async
from channels.middleware import BaseMiddleware
from django.conf import settings
from django.contrib.auth.models import AnonymousUser
from django.http.request import validate_host

from registry import selectors, services

TOKEN_KEYWORDS = (b"token", b"bearer")


def _header(scope: dict, name: bytes) -> bytes | None:
    for key, value in scope.get("headers", []):
        if key.lower() == name:
            return value
    return None


def origin_allowed(scope: dict) -> bool:
    """True when the handshake has no Origin (not a browser) or one of ALLOWED_HOSTS."""
    origin = _header(scope, b"origin")
    if origin is None:
        return True
    parsed = urlparse(origin.decode("latin1"))
    if parsed.scheme not in ("http", "https") or not parsed.hostname:
        return False
    allowed = list(settings.ALLOWED_HOSTS)
    if settings.DEBUG and not allowed:
        allowed = [".localhost", "127.0.0.1", "[::1]"]
    return validate_host(parsed.hostname, allowed)


@database_sync_to_async
def _token_user(key: str):
    token = selectors.api_token_by_digest(services.token_digest(key))
    if token is None:
        return None
    services.api_token_touch(token=token)
    return token.user


class TokenAuthMiddleware(BaseMiddleware):
    """Sets `scope["user"]` from an `Authorization: Token <key>` header when there is one.

    Goes inside `AuthMiddlewareStack`, so it overrides the session's user. A header with a bad
    or revoked key leaves the user anonymous (the consumer then closes with 4401) rather than
    falling back to a session: a script that sent a token meant it.
    """

    async def __call__(self, scope, receive, send):
        header = _header(scope, b"authorization")
        if header is not None:
            parts = header.split()
            user = None
            if len(parts) == 2 and parts[0].lower() in TOKEN_KEYWORDS:
                try:
                    user = await _token_user(parts[1].decode())
                except UnicodeDecodeError:
                    user = None
            scope = dict(scope)
            scope["user"] = user if user is not None else AnonymousUser()
            scope["auth"] = "token"
        return await super().__call__(scope, receive, send)
