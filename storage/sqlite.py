"""The embedded database: one SQLite file in WAL mode through aiosqlite."""

from __future__ import annotations

import asyncio
import contextlib
import contextvars
import logging
import sqlite3
from collections.abc import AsyncIterator, Awaitable, Callable, Coroutine, Iterable
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import aiosqlite

from storage.engine import (
    FETCH_SIZE,
    Database,
    DatabaseUnavailable,
    Frame,
    Params,
    Row,
    Suspended,
    T,
    Tx,
    in_one_go,
    run_after,
)

log = logging.getLogger("childforum.db")

BUSY_TIMEOUT_MS = 5000


def is_unavailable(error: BaseException) -> bool | None:
    """True when an SQLite error says the file cannot be used now, False when the query is
    wrong, None for an error that is not SQLite's."""
    if isinstance(error, sqlite3.IntegrityError | sqlite3.ProgrammingError):
        return False
    if isinstance(error, sqlite3.OperationalError):
        text = str(error).lower()
        return any(word in text for word in ("locked", "busy", "readonly", "read-only",
                                             "disk", "full", "unable to open", "i/o"))
    if isinstance(error, sqlite3.DatabaseError):
        return True
    return None


class _NowTx(Tx):
    """Statements run at once on the sqlite3 connection itself: only on aiosqlite's thread,
    for work run there in one go (SqliteDatabase.apply)."""

    def __init__(self, connection: sqlite3.Connection) -> None:
        self._connection = connection

    async def execute(self, sql: str, params: Params = ()) -> int:
        return int(self._connection.execute(sql, params).rowcount)

    async def executemany(self, sql: str, rows: Iterable[Params]) -> None:
        self._connection.executemany(sql, rows)

    async def fetchall(self, sql: str, params: Params = ()) -> list[Row]:
        return [tuple(row) for row in self._connection.execute(sql, params).fetchall()]

    async def stream(self, sql: str, params: Params = (),
                     size: int = FETCH_SIZE) -> AsyncIterator[Row]:
        cursor = self._connection.execute(sql, params)
        try:
            while chunk := cursor.fetchmany(size):
                for row in chunk:
                    yield tuple(row)
        finally:
            cursor.close()


class SqliteTx(Tx):
    def __init__(self, connection: aiosqlite.Connection) -> None:
        self._connection = connection

    async def execute(self, sql: str, params: Params = ()) -> int:
        cursor = await self._connection.execute(sql, params)
        return int(cursor.rowcount)

    async def executemany(self, sql: str, rows: Iterable[Params]) -> None:
        await self._connection.executemany(sql, rows)

    async def fetchall(self, sql: str, params: Params = ()) -> list[Row]:
        return [tuple(row) for row in await self._connection.execute_fetchall(sql, params)]

    async def stream(self, sql: str, params: Params = (),
                     size: int = FETCH_SIZE) -> AsyncIterator[Row]:
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


class SqliteDatabase(Database):
    """One aiosqlite connection; writers take turns (BEGIN IMMEDIATE)."""

    dialect = "sqlite"

    def __init__(self, connection: aiosqlite.Connection, path: str) -> None:
        super().__init__(path)
        self._connection = connection
        self._tx = SqliteTx(connection)
        self._stepping = False  # a transaction is open statement by statement (`_begin`)
        self._chores: set[asyncio.Task[bool]] = set()  # the log emptied after an erasure

    @classmethod
    async def open(cls, path: Path | str) -> SqliteDatabase:
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
            database.applied = await database._migrate()
        except sqlite3.Error as error:
            await connection.close()
            raise DatabaseUnavailable(f"{path}: {error}") from error
        except DatabaseUnavailable:
            await connection.close()
            raise
        return database

    @property
    def path(self) -> str:
        return self.target

    async def close(self) -> None:
        for chore in list(self._chores):
            with contextlib.suppress(Exception):
                await chore
        await self._connection.close()

    @asynccontextmanager
    async def _begin(self, chat: int | None) -> AsyncIterator[Tx]:
        """SQLite has one writer: a chat's transaction is everyone's."""
        self._stepping = True
        try:
            begin = asyncio.ensure_future(self._connection.execute("BEGIN IMMEDIATE"))
            try:
                await asyncio.shield(begin)
            except asyncio.CancelledError:
                # Cancelled (a shutdown) while BEGIN ran on SQLite's thread: it may have begun;
                # wait for it and roll back, or the next transaction finds this one open.
                with contextlib.suppress(Exception):
                    await begin
                await self._rollback()
                raise
            try:
                yield self._tx
            except BaseException:
                await self._rollback()
                raise
            try:
                await self._connection.execute("COMMIT")
            except BaseException:
                await self._rollback()
                raise
        finally:
            self._stepping = False

    async def _rollback(self) -> None:
        if not self._connection.in_transaction:
            return
        try:
            await self._connection.execute("ROLLBACK")
        except sqlite3.OperationalError:
            # Cancelled while its COMMIT ran on SQLite's thread: the COMMIT finished meanwhile,
            # and "no transaction is active" must not replace the cancellation (a sender being
            # stopped would then take it for an error and poll on, and the stop never end).
            if self._connection.in_transaction:
                raise

    async def apply(self, chat: int | None, work: Callable[[Tx], Coroutine[Any, Any, T]]) -> T:
        """`work` in one go on aiosqlite's thread: one hand-off for the whole transaction
        (BEGIN, its statements, COMMIT) instead of one for each, so the write lock is held
        for the work itself, not for the event loop's turns in between. Work that awaits
        anything else is rolled back and run again statement by statement."""
        if self.in_transaction:
            return await super().apply(chat, work)
        try:
            async with self._write_lock:
                on_its_thread: Callable[..., Awaitable[tuple[T, list[Callable[[], None]]]]] = (
                    self._connection._execute)  # aiosqlite has no public way to run a function
                job = asyncio.ensure_future(on_its_thread(
                    contextvars.copy_context().run, self._in_one_go, work))
                try:
                    result, after = await asyncio.shield(job)
                except asyncio.CancelledError:
                    # Cancelled (a shutdown) while the thread works: it goes on to its COMMIT,
                    # so what it committed is followed up (messages handed to the sender, an
                    # erased chat forgotten) before the cancellation goes on.
                    with contextlib.suppress(Exception):
                        run_after((await job)[1])
                    raise
        except Suspended as why:
            log.warning("A transaction ran statement by statement: %s", why)
            return await super().apply(chat, work)
        run_after(after)
        return result

    def _in_one_go(self, work: Callable[[Tx], Coroutine[Any, Any, T]]
                   ) -> tuple[T, list[Callable[[], None]]]:
        raw = self._connection._conn

        def rollback() -> None:
            if raw.in_transaction:
                raw.execute("ROLLBACK")

        return in_one_go(Frame(self, _NowTx(raw), None), work,  # one writer: everyone's
                         lambda: raw.execute("BEGIN IMMEDIATE"),
                         lambda: raw.execute("COMMIT"), rollback)

    def erased(self) -> None:
        """Once the transaction commits, empty the write-ahead log (a TRUNCATE checkpoint):
        until its frames are overwritten they hold the deleted rows as they were."""
        self.after_commit(self._truncate_log_soon)

    def _truncate_log_soon(self) -> None:
        task = asyncio.get_running_loop().create_task(self._truncate_log())
        self._chores.add(task)
        task.add_done_callback(self._chores.discard)

    async def _truncate_log(self) -> bool:
        """Checkpoint and truncate the write-ahead log, between transactions, waiting for no
        one: a reader still on an older snapshot (an export) leaves it for the next erasure or
        the clean stop. True when the log was emptied."""
        try:
            async with self._write_lock:
                await self._connection.execute("PRAGMA busy_timeout = 0")
                try:
                    rows = await self._connection.execute_fetchall(
                        "PRAGMA wal_checkpoint(TRUNCATE)")
                finally:
                    await self._connection.execute(f"PRAGMA busy_timeout = {BUSY_TIMEOUT_MS}")
        except (sqlite3.Error, ValueError) as error:  # ValueError: closed meanwhile
            log.warning("Could not empty the write-ahead log after an erasure: %s", error)
            return False
        busy = next(iter(rows), (1,))[0]
        if busy:
            log.info("The write-ahead log is still read: emptied at the next erasure or stop")
        return not busy

    @asynccontextmanager
    async def single(self) -> AsyncIterator[Tx]:
        """One write statement: one round trip to SQLite, not three."""
        inside = self.current()
        if inside is not None:
            yield inside
            return
        if not self._stepping:
            # Its statement goes into the queue of aiosqlite's thread at once, before or after
            # a whole transaction run in one go there (`apply`), never inside one: no need to
            # wait for the write lock that such a transaction holds.
            yield self._tx
            return
        async with self._write_lock:  # a transaction statement by statement is open
            yield self._tx

    @property
    def reader(self) -> Tx:
        """Inside work run in one go on aiosqlite's thread, its own statements (waiting for
        the thread from itself would never end)."""
        inside = self.current()
        return inside if isinstance(inside, _NowTx) else self._tx

    @asynccontextmanager
    async def snapshot(self) -> AsyncIterator[Tx]:
        """A second, read-only connection (WAL mode); an in-memory database has no file to
        reopen: its own connection is used."""
        if self.path in ("", ":memory:"):
            yield self._tx
            return
        connection = await _connect(f"{Path(self.path).resolve().as_uri()}?mode=ro", uri=True)
        try:
            await connection.execute(f"PRAGMA busy_timeout = {BUSY_TIMEOUT_MS}")
            await connection.execute("BEGIN")
            yield SqliteTx(connection)
            await connection.execute("COMMIT")
        finally:
            await connection.close()

    async def _run_script(self, tx: Tx, script: str) -> None:
        for statement in _statements(script):
            await tx.execute(statement)


async def copy_file(source: Path, target: Path) -> None:
    """A consistent copy of the SQLite file `source` (SQLite's online backup, while the bot
    runs), read as it is: no migration, so that a copy taken before an upgrade is of the
    schema before it; a read-only file is copied too."""

    def copy() -> None:
        origin = sqlite3.connect(f"{source.resolve().as_uri()}?mode=ro", uri=True,
                                 timeout=BUSY_TIMEOUT_MS / 1000)
        try:
            destination = sqlite3.connect(target)
            try:
                origin.backup(destination)
            finally:
                destination.close()
        finally:
            origin.close()

    try:
        await asyncio.to_thread(copy)
    except sqlite3.Error as error:
        raise DatabaseUnavailable(f"{source}: {error}") from error


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
