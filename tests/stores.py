"""The two databases every storage test runs on: a SQLite file, and a fresh PostgreSQL database.

PostgreSQL is found through CHILDFORUM_TEST_POSTGRES, an address of a server where the tests may
create and drop databases (`.ci/run` starts one and sets it). Without it the PostgreSQL half of
each test is skipped, except under CI=true, where a skip would hide a failure: it fails instead.
"""

from __future__ import annotations

import os
import sqlite3
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest

SERVER_ENV = "CHILDFORUM_TEST_POSTGRES"
Target = Path | str  # a SQLite file, or a postgresql:// address


def server() -> str:
    """The test server's address, or skip (fail under CI) when there is none."""
    address = os.environ.get(SERVER_ENV, "")
    if not address:
        if os.environ.get("CI", "").lower() == "true":
            pytest.fail(f"CI=true but {SERVER_ENV} is not set: the PostgreSQL tests cannot run")
        pytest.skip(f"no PostgreSQL server ({SERVER_ENV} is not set)")
    return address


@contextmanager
def fresh_postgres(admin: str | None = None) -> Iterator[str]:
    """A new, empty database on the test server (or on `admin`), dropped afterwards."""
    import psycopg
    from psycopg.conninfo import make_conninfo

    admin = admin or server()
    name = f"childforum_test_{uuid.uuid4().hex[:12]}"
    with psycopg.connect(admin, autocommit=True) as connection:
        connection.execute(f'CREATE DATABASE "{name}"')
    try:
        yield address_of(make_conninfo(admin, dbname=name))
    finally:
        with psycopg.connect(admin, autocommit=True) as connection:
            connection.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def address_of(conninfo: str) -> str:
    """A postgresql:// address (what [storage] url takes) for a libpq connection string."""
    from psycopg.conninfo import conninfo_to_dict

    parts = conninfo_to_dict(conninfo)
    user = f"{parts['user']}@" if parts.get("user") else ""
    host = parts.get("host", "localhost")
    port = f":{parts['port']}" if parts.get("port") else ""
    return f"postgresql://{user}{host}{port}/{parts['dbname']}"


@contextmanager
def database(kind: str, tmp_path: Path) -> Iterator[Target]:
    """`kind` "sqlite" or "postgres": where a test's database lives."""
    if kind == "sqlite":
        yield tmp_path / "forum.sqlite3"
        return
    with fresh_postgres() as address:
        yield address


def query(target: Target, sql: str, *params: Any) -> list[tuple[Any, ...]]:
    """Run one statement (with `?` placeholders) on either database, outside the bot; the rows."""
    if isinstance(target, Path):
        with sqlite3.connect(target) as connection:
            return connection.execute(sql, params).fetchall()
    import psycopg

    from storage.postgres import _pg

    with psycopg.connect(target, autocommit=True) as connection:
        cursor = connection.execute(_pg(sql), tuple(params))  # type: ignore[arg-type]
        return cursor.fetchall() if cursor.description else []


