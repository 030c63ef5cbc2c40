"""Pick the database, task broker and channel layer from two URLs.

With nothing set the studio runs on embedded defaults (SQLite in WAL mode, the django-q2 ORM
broker, a database-tailing channel layer). `DATABASE_URL` moves storage to PostgreSQL and
`REDIS_URL` moves the broker and the channel layer to Redis. These are pure functions so the
choice can be tested without restarting Django.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import dj_database_url

from canvascraft.env import ImproperlyConfiguredEnv

SQLITE_OPTIONS = {
    # IMMEDIATE takes the write lock at BEGIN, so two writers queue instead of one failing with
    # "database is locked" half-way through a transaction (Django 5.1+).
    "transaction_mode": "IMMEDIATE",
    "timeout": 20,
    "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
}


def database_settings(database_url: str, data_dir: Path, *, pool_size: int = 10) -> dict[str, Any]:
    """The DATABASES["default"] entry: SQLite under the data dir unless a URL says otherwise."""
    if not database_url:
        return {
            "ENGINE": "django.db.backends.sqlite3",
            "NAME": str(data_dir / "canvascraft.sqlite3"),
            "OPTIONS": dict(SQLITE_OPTIONS),
            # A file, not SQLite's in-memory default: training runs write from helper threads
            # (metrics, heartbeats), and in-memory databases refuse concurrent connections.
            # One per test process, so two test runs on one checkout do not share it.
            "TEST": {"NAME": str(data_dir / f"test-canvascraft-{os.getpid()}.sqlite3")},
        }
    try:
        config = dj_database_url.parse(database_url)
    except ValueError as error:
        raise ImproperlyConfiguredEnv(f"DATABASE_URL is not a database URL: {error}") from None
    engine = config.get("ENGINE", "")
    if engine.endswith("sqlite3"):
        config["OPTIONS"] = {**SQLITE_OPTIONS, **config.get("OPTIONS", {})}
        config["CONN_MAX_AGE"] = 0
    elif engine.endswith("postgresql"):
        # One test database per test process, as for SQLite.
        config["TEST"] = {"NAME": f"test_{config.get('NAME') or 'canvascraft'}_{os.getpid()}"}
        # Under ASGI every request runs in a fresh thread, and Django's connections are per
        # thread: without a pool each request would pay a new PostgreSQL connection (~8 ms).
        config["CONN_MAX_AGE"] = 0
        config.setdefault("OPTIONS", {})["pool"] = {"min_size": 1, "max_size": pool_size}
    else:
        raise ImproperlyConfiguredEnv(
            f"DATABASE_URL uses {engine!r}; CanvasCraft supports sqlite:// and postgres:// only"
        )
    return config


DEFAULT_PREFIX = "canvascraft"


def queue_names(prefix: str = DEFAULT_PREFIX) -> dict[str, str]:
    """The task queue of each device class. The prefix keeps studios that share one Redis from
    taking each other's tasks ("canvascraft" and "canvascraft-gpu" by default)."""
    return {"cpu": prefix, "gpu": f"{prefix}-gpu"}


def queue_for_device(device: str, prefix: str = DEFAULT_PREFIX) -> str:
    """The queue a worker on `device` takes runs from: GPU runs only go to GPU workers."""
    device_class = "gpu" if device.startswith(("cuda", "gpu", "mps")) else "cpu"
    return queue_names(prefix)[device_class]


def q_cluster_settings(
    redis_url: str,
    *,
    n_workers: int,
    task_timeout_s: int,
    queue_name: str = DEFAULT_PREFIX,
    prefix: str = DEFAULT_PREFIX,
) -> dict[str, Any]:
    """django-q2 settings: ORM broker by default, Redis broker when REDIS_URL is set.

    `retry` must exceed the longest task, or the ORM broker hands a running task to a second
    worker; training runs keep their own heartbeat for the worker-killed case.
    """
    settings: dict[str, Any] = {
        "name": prefix,
        "cluster_name": queue_name,
        "workers": n_workers,
        "timeout": task_timeout_s,
        "retry": task_timeout_s + 60,
        "max_attempts": 1,
        "poll": 0.2,
        "catch_up": False,
        "save_limit": 500,
        "label": "Task queue",
    }
    if redis_url:
        settings["redis"] = redis_url
    else:
        settings["orm"] = "default"
    return settings


def channel_layer_settings(redis_url: str, *, prefix: str = DEFAULT_PREFIX) -> dict[str, Any]:
    """Channels layer: Redis pub/sub across processes, in-memory within one process otherwise.

    Without Redis the live pages tail the database instead, so nothing is lost between the worker
    process and the web process. `prefix` keeps studios sharing one Redis apart.
    """
    if redis_url:
        return {
            "default": {
                "BACKEND": "channels_redis.pubsub.RedisPubSubChannelLayer",
                "CONFIG": {"hosts": [redis_url], "prefix": prefix},
            }
        }
    # In one process the layer only carries the database tail's events to the consumers; a
    # burst to a slow client beyond `capacity` is dropped and read back from the database.
    return {
        "default": {"BACKEND": "channels.layers.InMemoryChannelLayer", "CONFIG": {"capacity": 1000}}
    }


def forget_inherited_connections() -> None:
    """In a forked child (django-q2 forks its workers): drop the database connections and
    PostgreSQL pools inherited from the parent without closing them.

    Their sockets still belong to the parent; a child that used them would interleave its
    queries with the parent's on one connection ("the last operation didn't produce records"),
    and one that closed them would end the parent's sessions. The child opens its own.
    """
    from django.db import connections

    for connection in connections.all(initialized_only=True):
        connection.connection = None
    try:
        from django.db.backends.postgresql.base import DatabaseWrapper
    except ImportError:  # psycopg is not installed: no pools to forget
        return
    DatabaseWrapper._connection_pools.clear()
