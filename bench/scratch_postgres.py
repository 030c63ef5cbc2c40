"""A scratch PostgreSQL database for a benchmark, made fresh and dropped again.

`BENCH_PG_ADMIN_URL` names a database to connect to for CREATE/DROP (the local server's
`postgres` database by default).
"""

from __future__ import annotations

import os

ADMIN_URL = os.environ.get("BENCH_PG_ADMIN_URL", "postgres://postgres@127.0.0.1:5432/postgres")


def answers(admin_url: str = ADMIN_URL) -> bool:
    """Whether the server takes connections (benchmarks skip PostgreSQL when not)."""
    try:
        import psycopg

        with psycopg.connect(admin_url, connect_timeout=3):
            return True
    except Exception:
        return False


def fresh_database(name: str, admin_url: str = ADMIN_URL) -> str:
    """Drops `name` if it exists, creates it empty and returns its URL."""
    import psycopg

    with psycopg.connect(admin_url, autocommit=True, connect_timeout=3) as admin:
        admin.execute(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")
        admin.execute(f"CREATE DATABASE {name}")
    return admin_url.rsplit("/", 1)[0] + "/" + name


def drop_database(name: str, admin_url: str = ADMIN_URL) -> None:
    import psycopg

    with psycopg.connect(admin_url, autocommit=True, connect_timeout=3) as admin:
        admin.execute(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")
