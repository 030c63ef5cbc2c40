"""A forked process (django-q2 forks its workers) must not share the parent's database
connection or pool: both go on querying, each on its own connection."""

from __future__ import annotations

import os

import pytest
from django.db import connection

from registry.models import Experiment
from tests.factories import ExperimentFactory


@pytest.mark.django_db(transaction=True)
def test_a_forked_child_and_its_parent_each_keep_a_working_connection(owner):
    ExperimentFactory(owner=owner, name="before the fork")
    parent_backend_before = _backend_id()

    child = os.fork()
    if child == 0:  # the child: query, write, and report through the exit code
        try:
            ok = Experiment.objects.filter(name="before the fork").exists()
            ExperimentFactory(owner=owner, name="from the child")
            os._exit(0 if ok and _backend_id() != parent_backend_before else 1)
        except BaseException:
            os._exit(2)
    _, status = os.waitpid(child, 0)

    assert os.waitstatus_to_exitcode(status) == 0
    assert _backend_id() == parent_backend_before  # the parent's session survived the child
    assert set(Experiment.objects.values_list("name", flat=True)) == {
        "before the fork",
        "from the child",
    }


def _backend_id() -> object:
    """The server-side id of this connection's session (PostgreSQL) or the connection object
    itself (SQLite)."""
    connection.ensure_connection()
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_backend_pid()")
            return cursor.fetchone()[0]
    return id(connection.connection)
