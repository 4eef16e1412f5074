"""The database: one SQLite file in WAL mode, numbered migrations, serialised transactions.

Storage modules talk to a `Tx`, never to the driver: `execute` (returns the row count),
`fetchall`, `fetchone`, `fetchval` and `stream`, with `?` placeholders and rows as tuples. The
SQL they write runs on SQLite and PostgreSQL alike (RETURNING instead of lastrowid, ON CONFLICT,
no SQLite-only functions), so a second dialect only needs a second `Tx`.
"""

from __future__ import annotations

import asyncio
import logging
import sqlite3
from collections.abc import AsyncIterator, Callable, Iterable, Sequence
from contextlib import asynccontextmanager
from contextvars import ContextVar
from datetime import UTC, datetime
from importlib import resources
from pathlib import Path
from typing import Any

import aiosqlite

log = logging.getLogger("childforum.db")
Row = tuple[Any, ...]
Params = Sequence[Any]
FETCH_SIZE = 2000
BUSY_TIMEOUT_MS = 5000


class DatabaseUnavailable(RuntimeError):
    """The database cannot be used now (locked past the timeout, read-only, full, corrupt)."""


def is_unavailable(error: BaseException) -> bool:
    """True for an error that says the database is down, not that the query is wrong."""
    if isinstance(error, DatabaseUnavailable):
        return True
    if isinstance(error, sqlite3.IntegrityError | sqlite3.ProgrammingError):
        return False
    if isinstance(error, sqlite3.OperationalError):
        text = str(error).lower()
        return any(word in text for word in ("locked", "busy", "readonly", "read-only",
                                             "disk", "full", "unable to open", "i/o"))
    return isinstance(error, sqlite3.DatabaseError)


# The database whose transaction the running task is inside: a transaction opened inside another
# one of the same task joins it (one BEGIN, one COMMIT), so a unit of work can call services that
# open their own transactions and commit everything together.
_inside: ContextVar[Database | None] = ContextVar("childforum_transaction", default=None)


def utc_now() -> str:
    """An ISO-8601 UTC timestamp, the one format stored in every table."""
    return datetime.now(UTC).isoformat(timespec="seconds")


def _migrations() -> list[tuple[int, str]]:
    folder = resources.files("storage") / "migrations"
    found = []
    for entry in folder.iterdir():
        if entry.name.endswith(".sql"):
            found.append((int(entry.name.split("_", 1)[0]), entry.read_text(encoding="utf-8")))
    return sorted(found)


class Tx:
    """Queries inside a transaction (or a single statement) on SQLite."""

    def __init__(self, connection: aiosqlite.Connection) -> None:
        self._connection = connection

    async def execute(self, sql: str, params: Params = ()) -> int:
        """Run one statement; how many rows it changed."""
        cursor = await self._connection.execute(sql, params)
        return int(cursor.rowcount)

    async def executemany(self, sql: str, rows: Iterable[Params]) -> None:
        await self._connection.executemany(sql, rows)

    async def fetchall(self, sql: str, params: Params = ()) -> list[Row]:
        return [tuple(row) for row in await self._connection.execute_fetchall(sql, params)]

    async def fetchone(self, sql: str, params: Params = ()) -> Row | None:
        rows = await self._connection.execute_fetchall(sql, params)
        for row in rows:
            return tuple(row)
        return None

    async def fetchval(self, sql: str, params: Params = ()) -> Any:
        """The first column of the first row, or None."""
        row = await self.fetchone(sql, params)
        return row[0] if row else None

    async def stream(self, sql: str, params: Params = (),
                     size: int = FETCH_SIZE) -> AsyncIterator[Row]:
        """Rows one at a time, fetched `size` at once, never all in memory."""
        async with self._connection.execute(sql, params) as cursor:
            # Ask for the next chunk before handing out this one: SQLite steps through it in
            # aiosqlite's thread while the caller works on these rows.
            ahead = asyncio.ensure_future(cursor.fetchmany(size))
            try:
                while chunk := await ahead:
                    ahead = asyncio.ensure_future(cursor.fetchmany(size))
                    for row in chunk:
                        yield tuple(row)
            finally:
                if not ahead.done():
                    await asyncio.wait([ahead])


class Database:
    """One aiosqlite connection; writers take turns through `transaction()`."""

    def __init__(self, connection: aiosqlite.Connection, path: str) -> None:
        self._connection = connection
        self.path = path
        self._write_lock = asyncio.Lock()
        self._tx = Tx(connection)
        self._after: list[Callable[[], None]] = []

    @classmethod
    async def open(cls, path: Path | str) -> Database:
        """Open (creating if needed) the database file and apply pending migrations.

        Raises DatabaseUnavailable, naming the file and the reason, when it cannot be used;
        nothing is left running then.
        """
        try:
            connection = await _connect(str(path))
        except sqlite3.Error as error:
            raise DatabaseUnavailable(f"{path}: {error}") from error
        database = cls(connection, str(path))
        try:
            await connection.execute("PRAGMA journal_mode = WAL")
            # NORMAL in WAL mode: a commit survives a crash of the process (SIGKILL);
            # only a power cut can lose the last commits.
            await connection.execute("PRAGMA synchronous = NORMAL")
            await connection.execute("PRAGMA foreign_keys = ON")
            # Erased data is overwritten, not left in free pages of the file.
            await connection.execute("PRAGMA secure_delete = ON")
            await connection.execute(f"PRAGMA busy_timeout = {BUSY_TIMEOUT_MS}")
            await database._migrate()
        except sqlite3.Error as error:
            await connection.close()
            raise DatabaseUnavailable(f"{path}: {error}") from error
        return database

    async def close(self) -> None:
        await self._connection.close()

    @property
    def in_transaction(self) -> bool:
        """True inside a transaction of this task (a new one would join it)."""
        return _inside.get() is self

    @asynccontextmanager
    async def transaction(self) -> AsyncIterator[Tx]:
        """A write transaction; commits on success, rolls back on any error.

        Inside a transaction of the same task it joins that one: the outer one commits.
        """
        if self.in_transaction:
            yield self._tx
            return
        async with self._write_lock:
            await self._connection.execute("BEGIN IMMEDIATE")
            token = _inside.set(self)
            self._after = []
            try:
                yield self._tx
            except BaseException:
                await self._rollback()
                raise
            else:
                try:
                    await self._connection.execute("COMMIT")
                except BaseException:
                    await self._rollback()
                    raise
            finally:
                _inside.reset(token)
                after, self._after = self._after, []
        for callback in after:
            try:
                callback()
            except Exception:  # what was committed stays committed
                log.exception("A callback after commit failed")

    def after_commit(self, callback: Callable[[], None]) -> None:
        """Run `callback` once the current transaction has committed (never if it rolls back);
        outside a transaction, at once."""
        if self.in_transaction:
            self._after.append(callback)
        else:
            callback()

    async def _rollback(self) -> None:
        if self._connection.in_transaction:
            await self._connection.execute("ROLLBACK")

    @asynccontextmanager
    async def single(self) -> AsyncIterator[Tx]:
        """For one write statement, atomic by itself: one round trip to SQLite, not three."""
        if self.in_transaction:
            yield self._tx
            return
        async with self._write_lock:
            yield self._tx

    @property
    def reader(self) -> Tx:
        """For reads that need no transaction (each statement sees a consistent state)."""
        return self._tx

    @asynccontextmanager
    async def snapshot(self) -> AsyncIterator[Tx]:
        """A read-only connection holding one read transaction, so counts and rows agree.

        A second connection keeps a long export from seeing, or blocking, the bot's writes
        (WAL mode). An in-memory database has no file to reopen: its own connection is used.
        """
        if self.path in ("", ":memory:"):
            yield self._tx
            return
        connection = await _connect(f"{Path(self.path).resolve().as_uri()}?mode=ro", uri=True)
        try:
            await connection.execute(f"PRAGMA busy_timeout = {BUSY_TIMEOUT_MS}")
            await connection.execute("BEGIN")
            yield Tx(connection)
            await connection.execute("COMMIT")
        finally:
            await connection.close()

    async def _migrate(self) -> None:
        async with self.transaction() as tx:
            await tx.execute(
                "CREATE TABLE IF NOT EXISTS schema_migrations"
                " (version INTEGER PRIMARY KEY, applied_at TEXT NOT NULL)"
            )
            applied = {row[0] for row in await tx.fetchall(
                "SELECT version FROM schema_migrations")}
            for version, script in _migrations():
                if version in applied:
                    continue
                for statement in _statements(script):
                    await tx.execute(statement)
                await tx.execute(
                    "INSERT INTO schema_migrations (version, applied_at) VALUES (?, ?)",
                    (version, utc_now()),
                )


async def _connect(target: str, uri: bool = False) -> aiosqlite.Connection:
    """An aiosqlite connection whose thread never keeps the process alive: a path that forgets
    to close it (a crash at start, a failed test) must not hang the exit."""
    pending = aiosqlite.connect(target, uri=uri, isolation_level=None)
    pending._thread.daemon = True  # aiosqlite has no public switch for this
    return await pending


def _statements(script: str) -> list[str]:
    """Split a migration into statements (executescript would commit our transaction)."""
    statements, current = [], ""
    for line in script.splitlines():
        if line.strip().startswith("--"):
            continue
        current += line + "\n"
        if sqlite3.complete_statement(current):
            statements.append(current.strip())
            current = ""
    return statements
