from __future__ import annotations

import os
from collections.abc import Iterator

import pytest

from tests.studio import Studio


@pytest.fixture
def studio(tmp_path) -> Iterator[Studio]:
    """A migrated private studio (SQLite, or PostgreSQL under DATABASE_URL; no Redis)."""
    running = Studio(tmp_path / "studio")
    try:
        running.manage("migrate", "--noinput", "-v0")
        yield running
    finally:
        running.close()


def redis_url() -> str:
    return os.environ.get("REDIS_URL") or "redis://127.0.0.1:6379/0"


@pytest.fixture
def redis_studio(tmp_path) -> Iterator[Studio]:
    """Like `studio`, with the Redis broker and channel layer at REDIS_URL (or the local
    default) under a prefix of its own; skipped when that Redis does not answer."""
    import redis

    url = redis_url()
    try:
        redis.Redis.from_url(url, socket_connect_timeout=2, socket_timeout=2).ping()
    except (redis.RedisError, OSError) as error:
        pytest.skip(f"Redis does not answer at {url} ({error}); the Redis variant needs one")
    running = Studio(tmp_path / "studio", redis=True)
    try:
        running.manage("migrate", "--noinput", "-v0")
        yield running
    finally:
        running.close()
