"""PostgreSQL, for more than one machine: psycopg 3 (async) and a psycopg-pool pool.

The storage modules' SQL runs unchanged: `?` placeholders become `%s` (and `%` becomes `%%`),
booleans go in as integers like on SQLite. Several `childforum run` processes may share one
database:

- writers take turns across all of them, as on SQLite: each write transaction first takes one
  transaction-level advisory lock (`pg_advisory_xact_lock`), so every invariant the code keeps on
  SQLite (a district's next reference, a version check then a write) holds on PostgreSQL;
- but one chat's transaction (a child's update: storage.engine) takes that lock shared, then its
  chat's lock: different chats' updates are applied side by side, in any process, one chat's
  one after another, and an ordinary transaction still waits for all of them (and they for it);
- the jobs (digests, schedules, reminders, escalation, retention) run in the one process holding a
  session-level advisory lock (`holds_jobs`): when it dies, its session ends, the lock is free,
  and another process takes the jobs over at its next tick;
- reads need no lock: each statement sees committed data, a snapshot sees one moment.
"""

from __future__ import annotations

import asyncio
import itertools
from collections.abc import AsyncIterator, Iterable
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from functools import lru_cache
from typing import Any

import psycopg
import psycopg_pool
from psycopg.adapt import Dumper
from psycopg.conninfo import conninfo_to_dict, make_conninfo
from psycopg.postgres import types as pg_types

from storage.engine import FETCH_SIZE, Database, DatabaseUnavailable, Params, Row, Tx

WRITE_LOCK = 0x43_46_57_31  # "CFW1": one writer at a time, across processes
JOBS_LOCK = 0x43_46_4A_31  # "CFJ1": the process that runs the jobs
CHAT_LOCKS = 0x43_46_43_31  # "CFC1": with a chat's id folded to 32 bits, that chat's writer
CONNECT_TIMEOUT = 10.0
NO_PASSWORD = "no password supplied"  # libpq: the server asked for one and none was given
_cursor_names = itertools.count(1)


def is_unavailable(error: BaseException) -> bool | None:
    """True when a PostgreSQL error says the server cannot be used now (down, restarting, the
    pool exhausted past its timeout), False when the query is wrong, None for other errors."""
    if isinstance(error, psycopg_pool.PoolTimeout | psycopg.OperationalError |
                  psycopg.InterfaceError):
        return True
    if isinstance(error, psycopg.Error):
        return False
    return None


class _BoolAsInt(Dumper):
    """Booleans are stored as integers (0/1), the same as on SQLite."""

    oid = pg_types["int8"].oid

    def dump(self, obj: Any) -> bytes:
        return b"1" if obj else b"0"


@lru_cache(maxsize=4096)
def _pg(sql: str) -> str:
    """SQLite's `?` placeholders as psycopg's `%s`; a literal `%` doubled."""
    out, quote = [], ""
    for char in sql:
        if char == "%":
            out.append("%%")
        elif quote:
            out.append(char)
            if char == quote:
                quote = ""
        elif char in "'\"":
            quote = char
            out.append(char)
        else:
            out.append("%s" if char == "?" else char)
    return "".join(out)


class PgTx(Tx):
    """Statements on one connection (inside a transaction, or a snapshot)."""

    def __init__(self, connection: psycopg.AsyncConnection[Any]) -> None:
        self._connection = connection

    async def execute(self, sql: str, params: Params = ()) -> int:
        cursor = await self._connection.execute(_pg(sql), tuple(params))
        return max(cursor.rowcount, 0)

    async def executemany(self, sql: str, rows: Iterable[Params]) -> None:
        async with self._connection.cursor() as cursor:
            await cursor.executemany(_pg(sql), [tuple(row) for row in rows])

    async def fetchall(self, sql: str, params: Params = ()) -> list[Row]:
        cursor = await self._connection.execute(_pg(sql), tuple(params))
        return await cursor.fetchall() if cursor.description else []

    async def stream(self, sql: str, params: Params = (),
                     size: int = FETCH_SIZE) -> AsyncIterator[Row]:
        # A server-side cursor: other statements may run on this connection meanwhile.
        async with self._connection.cursor(name=f"stream{next(_cursor_names)}") as cursor:
            await cursor.execute(_pg(sql), tuple(params))
            while rows := await cursor.fetchmany(size):
                for row in rows:
                    yield row

    async def script(self, script: str) -> None:
        """Several statements at once (a migration), no parameters."""
        await self._connection.execute(script.encode())


class PgReader(Tx):
    """Each statement on a connection of the pool, in autocommit."""

    def __init__(self, pool: psycopg_pool.AsyncConnectionPool[Any]) -> None:
        self._pool = pool

    async def execute(self, sql: str, params: Params = ()) -> int:
        async with self._pool.connection() as connection:
            return await PgTx(connection).execute(sql, params)

    async def executemany(self, sql: str, rows: Iterable[Params]) -> None:
        async with self._pool.connection() as connection:
            await PgTx(connection).executemany(sql, rows)

    async def fetchall(self, sql: str, params: Params = ()) -> list[Row]:
        async with self._pool.connection() as connection:
            return await PgTx(connection).fetchall(sql, params)

    async def stream(self, sql: str, params: Params = (),
                     size: int = FETCH_SIZE) -> AsyncIterator[Row]:
        async with self._pool.connection() as connection, connection.transaction():
            async for row in PgTx(connection).stream(sql, params, size):
                yield row


class PostgresDatabase(Database):
    dialect = "postgres"

    side_by_side = True  # chats' transactions: storage.engine

    def __init__(self, pool: psycopg_pool.AsyncConnectionPool[Any], conninfo: str,
                 target: str) -> None:
        super().__init__(target)
        self._pool = pool
        self._conninfo = conninfo
        self._reader = PgReader(pool)
        self._jobs: psycopg.AsyncConnection[Any] | None = None
        self._chat_slots = asyncio.Semaphore(max(1, (pool.max_size or 2) - 2))

    @classmethod
    async def open(cls, url: str, password: str | None = None,
                   pool_size: int = 10, password_env: str = "") -> PostgresDatabase:
        """Connect (a pool of up to `pool_size` connections) and apply pending migrations.

        Raises DatabaseUnavailable, naming the server (never the password), when it cannot be
        used; nothing is left running then. A server that asks for a password none was given
        for is told apart: the message names `password_env`, where it was looked for.
        """
        target = shown(url)
        try:
            conninfo = make_conninfo(url, **({"password": password} if password else {}))
        except psycopg.ProgrammingError as error:
            raise DatabaseUnavailable(f"{target}: {error}") from error
        problem = await _why_not(conninfo)  # at once, in the server's words
        if problem:
            if password is None and NO_PASSWORD in problem:
                where = password_env or "named by [storage] password_env"
                problem += f" (the environment variable {where} is not set, nor ~/.pgpass)"
            raise DatabaseUnavailable(f"{target}: {problem}")
        pool: psycopg_pool.AsyncConnectionPool[Any] = psycopg_pool.AsyncConnectionPool(
            conninfo, min_size=1, max_size=max(2, pool_size), open=False,
            kwargs={"autocommit": True}, configure=_configure, timeout=CONNECT_TIMEOUT,
            name="childforum")
        try:
            await pool.open(wait=True, timeout=CONNECT_TIMEOUT)
        except psycopg_pool.PoolTimeout as error:
            await pool.close()
            problem = await _why_not(conninfo)
            raise DatabaseUnavailable(f"{target}: {problem or error}") from error
        database = cls(pool, conninfo, target)
        try:
            database.applied = await database._migrate()
        except psycopg.Error as error:
            await database.close()
            raise DatabaseUnavailable(f"{target}: {error}") from error
        except DatabaseUnavailable:
            await database.close()
            raise
        return database

    async def close(self) -> None:
        if self._jobs is not None:
            await self._jobs.close()
            self._jobs = None
        await self._pool.close()

    @asynccontextmanager
    async def _begin(self, chat: int | None) -> AsyncIterator[Tx]:
        async with self._pool.connection() as connection, connection.transaction():
            if chat is None:
                await connection.execute("SELECT pg_advisory_xact_lock(%s)", (WRITE_LOCK,))
            else:  # in this order: a chat's waits for everyone's before it holds its chat
                await connection.execute("SELECT pg_advisory_xact_lock_shared(%s)",
                                         (WRITE_LOCK,))
                await connection.execute("SELECT pg_advisory_xact_lock(%s, %s)",
                                         (CHAT_LOCKS, _folded(chat)))
            yield PgTx(connection)

    def _turn(self, chat: int | None) -> AbstractAsyncContextManager[object]:
        """Everyone's transactions take turns here first (one pool connection waits for the
        server's lock, not all of them); chats' take one of the pool's connections but two,
        which stay for reads and for everyone's."""
        return self._write_lock if chat is None else self._chat_slots

    @property
    def reader(self) -> Tx:
        return self._reader

    @asynccontextmanager
    async def snapshot(self) -> AsyncIterator[Tx]:
        async with self._pool.connection() as connection, connection.transaction():
            await connection.execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ, READ ONLY")
            yield PgTx(connection)

    async def holds_jobs(self) -> bool:
        """True when this process runs the jobs: it holds, or has just taken, the jobs lock
        (on a connection of its own, kept open: the lock lives as long as the session)."""
        try:
            if self._jobs is None or self._jobs.closed:
                self._jobs = await psycopg.AsyncConnection.connect(
                    self._conninfo, autocommit=True, connect_timeout=int(CONNECT_TIMEOUT))
                cursor = await self._jobs.execute("SELECT pg_try_advisory_lock(%s)",
                                                  (JOBS_LOCK,))
                row = await cursor.fetchone()
                if not (row and row[0]):
                    await self._jobs.close()
                    self._jobs = None
                    return False
                return True
            await self._jobs.execute("SELECT 1")  # still connected, so still the holder
            return True
        except psycopg.Error:
            if self._jobs is not None:
                await self._jobs.close()
            self._jobs = None
            return False

    async def _run_script(self, tx: Tx, script: str) -> None:
        assert isinstance(tx, PgTx)
        await tx.script(script)


async def _configure(connection: psycopg.AsyncConnection[Any]) -> None:
    connection.adapters.register_dumper(bool, _BoolAsInt)


async def _why_not(conninfo: str) -> str:
    """The server's own words for a failed connection (the pool only says it timed out)."""
    try:
        connection = await psycopg.AsyncConnection.connect(conninfo,
                                                           connect_timeout=int(CONNECT_TIMEOUT))
    except psycopg.Error as error:
        return str(error).strip().splitlines()[0] if str(error).strip() else type(error).__name__
    await connection.close()
    return ""


def _folded(chat: int) -> int:
    """A chat's id (64 bits) as an advisory lock's second key (32 bits, signed): two chats
    that fold to the same key merely take turns."""
    return (chat + 2**31) % 2**32 - 2**31


def shown(url: str) -> str:
    """The server's address for messages and logs: never the password."""
    try:
        parts = conninfo_to_dict(url)
    except psycopg.ProgrammingError:
        return "postgresql://…"
    host, port, name = parts.get("host", "localhost"), parts.get("port", "5432"), parts.get(
        "dbname", "")
    user = f"{parts['user']}@" if parts.get("user") else ""
    return f"postgresql://{user}{host}:{port}/{name}"
