"""Choosing the database, task broker and channel layer from DATABASE_URL and REDIS_URL."""

import os
from pathlib import Path

import pytest

from canvascraft.backends import (
    channel_layer_settings,
    database_settings,
    q_cluster_settings,
    queue_for_device,
    queue_names,
)
from canvascraft.env import ImproperlyConfiguredEnv


def test_without_a_url_the_database_is_sqlite_in_wal_mode_with_immediate_transactions():
    config = database_settings("", Path("/srv/canvascraft"))

    assert config == {
        "ENGINE": "django.db.backends.sqlite3",
        "NAME": "/srv/canvascraft/canvascraft.sqlite3",
        "OPTIONS": {
            "transaction_mode": "IMMEDIATE",
            "timeout": 20,
            "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
        },
        "TEST": {"NAME": f"/srv/canvascraft/test-canvascraft-{os.getpid()}.sqlite3"},
    }


def test_a_sqlite_url_keeps_the_wal_and_immediate_options():
    config = database_settings("sqlite:////tmp/studio.sqlite3", Path("/unused"))

    assert config["ENGINE"] == "django.db.backends.sqlite3"
    assert config["NAME"] == "/tmp/studio.sqlite3"
    assert config["OPTIONS"]["transaction_mode"] == "IMMEDIATE"
    assert "journal_mode=WAL" in config["OPTIONS"]["init_command"]
    assert config["CONN_MAX_AGE"] == 0


def test_a_postgres_url_selects_postgresql_with_a_connection_pool():
    config = database_settings(
        "postgres://studio:secret@db.internal:5433/canvas", Path("/x"), pool_size=7
    )

    assert config["ENGINE"] == "django.db.backends.postgresql"
    assert (config["NAME"], config["USER"], config["PASSWORD"]) == ("canvas", "studio", "secret")
    assert (config["HOST"], config["PORT"]) == ("db.internal", 5433)
    # ASGI serves each request in a new thread: the pool, not persistent per-thread
    # connections, is what lets requests reuse a connection.
    assert config["CONN_MAX_AGE"] == 0
    assert config["OPTIONS"]["pool"] == {"min_size": 1, "max_size": 7}
    # Two test runs on one server (two checkouts, two sessions) do not share a test database.
    assert config["TEST"]["NAME"] == f"test_canvas_{os.getpid()}"


def test_a_mysql_url_is_refused_naming_the_variable():
    with pytest.raises(ImproperlyConfiguredEnv, match=r"^DATABASE_URL uses .*mysql"):
        database_settings("mysql://root@localhost/canvas", Path("/x"))


def test_a_url_of_an_unknown_scheme_is_refused_naming_the_variable():
    with pytest.raises(ImproperlyConfiguredEnv, match=r"^DATABASE_URL"):
        database_settings("nosuchdb://host/name", Path("/x"))


def test_q_cluster_uses_redis_when_a_redis_url_is_set():
    config = q_cluster_settings("redis://cache:6379/1", n_workers=4, task_timeout_s=600)

    assert config["redis"] == "redis://cache:6379/1"
    assert "orm" not in config
    assert (config["workers"], config["timeout"], config["retry"]) == (4, 600, 660)
    assert config["max_attempts"] == 1


def test_q_cluster_uses_the_orm_broker_without_redis():
    config = q_cluster_settings("", n_workers=1, task_timeout_s=3600)

    assert config["orm"] == "default"
    assert "redis" not in config
    assert config["retry"] > config["timeout"]


def test_channel_layer_uses_redis_pubsub_when_a_redis_url_is_set():
    assert channel_layer_settings("redis://cache:6379/2", prefix="studio-a") == {
        "default": {
            "BACKEND": "channels_redis.pubsub.RedisPubSubChannelLayer",
            "CONFIG": {"hosts": ["redis://cache:6379/2"], "prefix": "studio-a"},
        }
    }


def test_channel_layer_is_in_memory_without_redis():
    assert channel_layer_settings("") == {
        "default": {"BACKEND": "channels.layers.InMemoryChannelLayer", "CONFIG": {"capacity": 1000}}
    }


def test_studios_sharing_one_redis_get_queues_of_their_own():
    assert queue_names() == {"cpu": "canvascraft", "gpu": "canvascraft-gpu"}
    assert queue_names("studio-b") == {"cpu": "studio-b", "gpu": "studio-b-gpu"}
    assert queue_for_device("cuda:1", "studio-b") == "studio-b-gpu"
    assert queue_for_device("cpu", "studio-b") == "studio-b"
    config = q_cluster_settings(
        "redis://r", n_workers=1, task_timeout_s=60, queue_name="studio-b-gpu", prefix="studio-b"
    )
    assert (config["name"], config["cluster_name"]) == ("studio-b", "studio-b-gpu")
