"""Both index backends for the tests: SQLite files always, PostgreSQL where a server is given.

``CAMFIND_TEST_PG`` names a PostgreSQL database the tests may create schemas in
(``postgresql://camfind:camfind@localhost/camfind_test``; ``.ci/run`` sets it up). Each test gets a
fresh schema of its own, dropped afterwards; without the variable the PostgreSQL cases skip,
naming it.
"""

from __future__ import annotations

import os
import sqlite3
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

PG_VAR = "CAMFIND_TEST_PG"
BACKENDS = ("sqlite", "postgresql")


def _pg_errors() -> tuple[type[Exception], ...]:
    try:
        import psycopg
    except ImportError:
        return ()
    return (psycopg.Error,)


#: What either driver raises for a statement the database refuses.
DRIVER_ERRORS: tuple[type[Exception], ...] = (sqlite3.DatabaseError, *_pg_errors())


def pg_server() -> str | None:
    return os.environ.get(PG_VAR) or None


def require_pg() -> str:
    url = pg_server()
    if url is None:
        pytest.skip(f"{PG_VAR} is not set to a PostgreSQL database the tests may use (.ci/run sets one up)")
    return url


def with_schema(url: str, schema: str) -> str:
    """``url`` whose connections work in ``schema`` (pg_trgm stays reachable in public), named after
    it (``application_name``), so a test can find its own connections on the server."""
    sep = "&" if "?" in url else "?"
    return f"{url}{sep}options=-csearch_path%3D{schema},public&application_name={schema}"


@contextmanager
def pg_case() -> Iterator[str]:
    """A fresh, empty PostgreSQL case (a schema of its own) as a URL; dropped afterwards."""
    import psycopg

    from camfind.index.postgres import close_pools

    server = require_pg()
    schema = "t_" + uuid.uuid4().hex[:12]
    with psycopg.connect(server, autocommit=True) as con:
        con.execute(f"CREATE SCHEMA {schema}")
    try:
        yield with_schema(server, schema)
    finally:
        close_pools()
        with psycopg.connect(server, autocommit=True) as con:
            con.execute(f"DROP SCHEMA {schema} CASCADE")


@contextmanager
def case_location(backend: str, folder: Path) -> Iterator[str]:
    """Where a test's fresh index lives on ``backend``: a file in ``folder``, or a PostgreSQL case."""
    if backend == "sqlite":
        yield str(folder / "case.db")
        return
    with pg_case() as url:
        yield url
