"""The database: SQLite (one file, the default) or PostgreSQL (`[storage] url`).

Everything else imports from here: `Database` and `Tx` (storage.engine), `open_database`,
`is_unavailable`, `utc_now`. PostgreSQL's driver is an optional extra (`.[postgres]`), imported
only when a server is configured.
"""

from __future__ import annotations

from pathlib import Path

from storage import sqlite
from storage.engine import (
    FETCH_SIZE,
    Database,
    DatabaseUnavailable,
    Params,
    Row,
    TakesTurns,
    Tx,
    in_lists,
    migrations,
    utc_now,
    within,
)

__all__ = ["FETCH_SIZE", "Database", "DatabaseUnavailable", "Params", "Row", "TakesTurns", "Tx",
           "in_lists", "is_server", "is_unavailable", "migrations", "open_database", "utc_now",
           "within"]


def is_server(target: Path | str) -> bool:
    """A PostgreSQL address rather than an SQLite file."""
    return isinstance(target, str) and target.startswith(("postgresql://", "postgres://"))


async def open_database(target: Path | str, password: str | None = None,
                        pool_size: int = 10, password_env: str = "") -> Database:
    """Open the SQLite file at `target`, or connect to the PostgreSQL server it names, and apply
    the pending migrations. Raises DatabaseUnavailable (one line: which database, why).
    `password_env`: the environment variable the password comes from (named when it is
    missing)."""
    if not is_server(target):
        return await sqlite.SqliteDatabase.open(target)
    try:
        from storage.postgres import PostgresDatabase
    except ImportError as error:
        raise DatabaseUnavailable(
            f"{target}: PostgreSQL needs the postgres extra: pip install 'childforum[postgres]'"
            f" ({error})") from error
    return await PostgresDatabase.open(str(target), password, pool_size, password_env)


def is_unavailable(error: BaseException) -> bool:
    """True for an error that says the database is down, not that the query is wrong."""
    if isinstance(error, DatabaseUnavailable):
        return True
    verdict = sqlite.is_unavailable(error)
    if verdict is None and type(error).__module__.startswith("psycopg"):
        from storage import postgres
        verdict = postgres.is_unavailable(error)
    return bool(verdict)
