"""What several browser tests do on the way to the page they test.

Kept out of conftest.py so that tests import it like any module, by name.
"""

from __future__ import annotations

from tests.factories import PASSWORD


def log_in(page, base_url: str, username: str, password: str = PASSWORD) -> None:
    """Signs `username` in through the real login form, as a creator would, and waits for the
    redirect home, so that the next `goto` already carries the session cookie."""
    page.goto(f"{base_url}/accounts/login/")
    page.fill("input[name=username]", username)
    page.fill("input[name=password]", password)
    page.click("form button[type=submit], form input[type=submit]")
    page.wait_for_url(f"{base_url}/")
