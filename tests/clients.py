"""Django test clients for the server-rendered pages, shared by the page tests of every app.

Page tests sign in with the session (as a browser does), not with an API token: the API
clients live in tests/conftest.py.
"""

from __future__ import annotations

from django.test import Client


def signed_in(user) -> Client:
    """A client whose session belongs to `user`, without going through the login form (the
    login itself is tested in tests/gallery/test_pages.py and by the browser tests)."""
    client = Client()
    client.force_login(user)
    return client
