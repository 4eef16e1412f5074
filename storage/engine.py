"""What every database of childforum offers, whatever the server: `Tx` and `Database`.

Storage modules talk to a `Tx`, never to a driver: `execute` (returns the row count),
`executemany`, `fetchall`, `fetchone`, `fetchval` and `stream`, with `?` placeholders and rows as
tuples. The SQL they write runs on SQLite and PostgreSQL alike (RETURNING instead of lastrowid,
ON CONFLICT, no SQLite-only functions, integers for booleans).

Writers take turns: one transaction at a time in a process, and, on PostgreSQL, across the
processes sharing the database (storage.postgres). A transaction opened inside another one of the
same task joins it (one BEGIN, one COMMIT), so a unit of work can call services that open their
own transactions and commit everything together.

One chat's transaction (`transaction(chat=…)`: a child's update, which writes that chat's rows,
new rows, and counters the database itself keeps right) takes turns only with the same chat's
and with the transactions of everything else; on PostgreSQL, different chats' run side by side.
Inside one, where chats' run side by side, a service that needs everything else to wait
(`transaction()` with no chat, or `take_turn`) raises `TakesTurns`: its caller runs the whole
update again as an ordinary transaction (bot.transport.outbox.Outbox.handle).
"""

from __future__ import annotations

import asyncio
import logging
from abc import ABC, abstractmethod
from collections.abc import (
    AsyncIterator,
    Callable,
    Collection,
    Coroutine,
    Iterable,
    Iterator,
    Sequence,
)
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from contextvars import ContextVar
from dataclasses import dataclass, field
from datetime import UTC, datetime
from importlib import resources
from typing import Any, TypeVar

log = logging.getLogger("childforum.db")
T = TypeVar("T")
Row = tuple[Any, ...]
Params = Sequence[Any]
FETCH_SIZE = 2000
IN_LIST = 500  # values in one IN (…) list


class DatabaseUnavailable(RuntimeError):
    """The database cannot be used now (locked past the timeout, read-only, full, corrupt,
    the server down)."""


class TakesTurns(RuntimeError):
    """Raised inside one chat's transaction by work that needs every other writer to wait:
    the chat's transaction rolls back, and its caller runs it again in turn."""


def within(districts: Collection[str] | None, column: str = "district"
           ) -> tuple[str, list[object]]:
    """" AND <column> IN (?, …)" and its parameters for the areas of a scope: nothing for every
    area (None), a condition nothing meets for none (PostgreSQL refuses an empty IN ())."""
    if districts is None:
        return "", []
    if not districts:
        return " AND 1 = 0", []
    return f" AND {column} IN ({', '.join('?' * len(districts))})", list(sorted(districts))


def in_lists(values: Iterable[Any], size: int = IN_LIST) -> Iterator[tuple[str, list[Any]]]:
    """`values` a few hundred at a time, each with its placeholders ("?, ?, …") for an IN
    list: one statement for thousands of rows stays within every server's limits."""
    values = list(values)
    for start in range(0, len(values), size):
        chunk = values[start:start + size]
        yield ", ".join("?" * len(chunk)), chunk


def utc_now() -> str:
    """An ISO-8601 UTC timestamp, the one format stored in every table."""
    return datetime.now(UTC).isoformat(timespec="seconds")


def migrations(dialect: str) -> list[tuple[int, str, str]]:
    """(version, file name, script) of a dialect's migrations, in order."""
    folder = resources.files("storage") / "migrations" / dialect
    found = [(int(entry.name.split("_", 1)[0]), entry.name, entry.read_text(encoding="utf-8"))
             for entry in folder.iterdir() if entry.name.endswith(".sql")]
    return sorted(found)


class Tx(ABC):
    """Queries inside a transaction, or single statements for a reader."""

    @abstractmethod
    async def execute(self, sql: str, params: Params = ()) -> int:
        """Run one statement; how many rows it changed."""

    @abstractmethod
    async def executemany(self, sql: str, rows: Iterable[Params]) -> None: ...

    @abstractmethod
    async def fetchall(self, sql: str, params: Params = ()) -> list[Row]: ...

    @abstractmethod
    def stream(self, sql: str, params: Params = (), size: int = FETCH_SIZE
               ) -> AsyncIterator[Row]:
        """Rows one at a time, fetched `size` at once, never all in memory."""

    async def fetchone(self, sql: str, params: Params = ()) -> Row | None:
        rows = await self.fetchall(sql, params)
        return rows[0] if rows else None

    async def fetchval(self, sql: str, params: Params = ()) -> Any:
        """The first column of the first row, or None."""
        row = await self.fetchone(sql, params)
        return row[0] if row else None


@dataclass
class Frame:
    """The transaction the running task is inside: its database, its queries, one chat's or
    everyone's, and what runs once it has committed."""

    db: Database
    tx: Tx
    chat: int | None
    after: list[Callable[[], None]] = field(default_factory=list)


_inside: ContextVar[Frame | None] = ContextVar("childforum_transaction", default=None)


def run_after(callbacks: list[Callable[[], None]]) -> None:
    """What waited for a commit, now that it happened."""
    for callback in callbacks:
        try:
            callback()
        except Exception:  # what was committed stays committed
            log.exception("A callback after commit failed")


class Suspended(RuntimeError):
    """Work run in one go awaited something other than its statements: it was rolled back,
    and runs again statement by statement."""


def in_one_go(frame: Frame, work: Callable[[Tx], Coroutine[Any, Any, T]],
              begin: Callable[[], object], commit: Callable[[], object],
              rollback: Callable[[], object]) -> tuple[T, list[Callable[[], None]]]:
    """Run `work` to its end without an event loop, inside `frame` (call it in a copy of the
    caller's context, on the thread where `frame.tx` executes statements at once): its result
    and what to run after the commit. Raises Suspended, rolled back, when `work` awaits
    anything else."""
    _inside.set(frame)
    begin()
    try:
        running = work(frame.tx)
        try:
            running.send(None)
        except StopIteration as done:
            result: T = done.value
        else:
            running.close()
            raise Suspended("it awaited more than its statements")
    except RuntimeError as error:  # asyncio called where no event loop runs
        rollback()
        if "event loop" in str(error):
            raise Suspended(f"it needed an event loop: {error}") from error
        raise
    except BaseException:
        rollback()
        raise
    try:
        commit()
    except BaseException:  # (a full disk, a deferred constraint): nothing stays half-open
        rollback()
        raise
    return result, frame.after


class Database(ABC):
    """A database: transactions (serialised writers), a reader, snapshots, migrations."""

    dialect: str  # "sqlite" or "postgres": the folder of its migrations
    # Different chats' transactions run side by side (a server); with one writer (SQLite) a
    # chat's transaction is everyone's, and nothing in it needs to take turns.
    side_by_side = False

    def __init__(self, target: str) -> None:
        self.target = target  # the file, or the server's address without the password
        self._write_lock = asyncio.Lock()
        self.applied: list[int] = []  # the migrations applied when it was opened
        self.taken_in_turn = 0  # chats' transactions run again in turn (TakesTurns)

    @abstractmethod
    async def close(self) -> None: ...

    @abstractmethod
    def _begin(self, chat: int | None) -> AbstractAsyncContextManager[Tx]:
        """One write transaction: BEGIN on entry, COMMIT on success, ROLLBACK on error; for one
        chat (taking turns with that chat's and with everyone's) or everyone's."""

    def _turn(self, chat: int | None) -> AbstractAsyncContextManager[object]:
        """What a transaction waits for in this process before it begins: the one writer's
        turn (SQLite has one writer; a database server may let chats' run side by side)."""
        return self._write_lock

    @property
    @abstractmethod
    def reader(self) -> Tx:
        """For reads that need no transaction (each statement sees a consistent state)."""

    @abstractmethod
    def snapshot(self) -> AbstractAsyncContextManager[Tx]:
        """A read-only transaction of its own, so that counts and rows agree, and a long export
        neither sees nor blocks the bot's writes."""

    @property
    def in_transaction(self) -> bool:
        """True inside a transaction of this task (a new one would join it)."""
        frame = _inside.get()
        return frame is not None and frame.db is self

    @asynccontextmanager
    async def transaction(self, chat: int | None = None) -> AsyncIterator[Tx]:
        """A write transaction; commits on success, rolls back on any error. `chat`: one
        chat's (see the module docstring).

        Inside a transaction of the same task it joins that one: the outer one commits. Inside
        one chat's, a transaction for everyone, or for another chat, raises TakesTurns.
        """
        frame = _inside.get()
        if frame is not None and frame.db is self:
            if frame.chat is not None and chat != frame.chat:
                raise TakesTurns(f"a transaction for {chat or 'everyone'} inside chat"
                                 f" {frame.chat}'s")
            yield frame.tx
            return
        async with self._turn(chat), self._begin(chat) as tx:
            frame = Frame(self, tx, chat if self.side_by_side else None)
            token = _inside.set(frame)
            try:
                yield tx
            finally:
                _inside.reset(token)
        run_after(frame.after)

    async def apply(self, chat: int | None, work: Callable[[Tx], Coroutine[Any, Any, T]]) -> T:
        """`work` in one write transaction (one chat's, or everyone's): work that awaits
        nothing but its statements (an update's whole unit of work). A database may run it
        all in one go where its statements run (SQLite: on aiosqlite's thread, one hand-off
        instead of one per statement); here, statement by statement."""
        async with self.transaction(chat) as tx:
            return await work(tx)

    def chat_of_transaction(self) -> int | None:
        """The chat whose transaction this task is inside (None: everyone's, or none)."""
        frame = _inside.get()
        return frame.chat if frame is not None and frame.db is self else None

    def current(self) -> Tx | None:
        """The transaction of this task on this database, if any."""
        frame = _inside.get()
        return frame.tx if frame is not None and frame.db is self else None

    def take_turn(self) -> None:
        """Say that the work under way changes rows several chats share (a recommendation
        worded after a proposal): inside one chat's transaction that others' run beside,
        raise TakesTurns, so that it runs again in turn with every writer."""
        frame = _inside.get()
        if frame is not None and frame.db is self and frame.chat is not None:
            raise TakesTurns(f"shared rows changed in chat {frame.chat}'s transaction")

    def erased(self) -> None:
        """Say that the work under way deletes a person's data: once it commits, copies of it
        the database keeps outside its tables are let go of where that can be done at once
        (SQLite's write-ahead log); a server's are docs/privacy.md's (vacuum, WAL recycling)."""
        return None

    def single(self) -> AbstractAsyncContextManager[Tx]:
        """For one write statement, atomic by itself (SQLite saves two round trips)."""
        return self.transaction()

    def after_commit(self, callback: Callable[[], None]) -> None:
        """Run `callback` once the current transaction has committed (never if it rolls back);
        outside a transaction, at once."""
        frame = _inside.get()
        if frame is not None and frame.db is self:
            frame.after.append(callback)
        else:
            callback()

    async def holds_jobs(self) -> bool:
        """True when this process runs the jobs (digests, schedules, retention...): always on
        SQLite, one process's file; on PostgreSQL, the one process holding the jobs lock."""
        return True

    async def _migrate(self) -> list[int]:
        """Apply the migrations not applied yet; the versions applied now."""
        applied_now = []
        async with self.transaction() as tx:
            await tx.execute(
                "CREATE TABLE IF NOT EXISTS schema_migrations"
                " (version INTEGER PRIMARY KEY, applied_at TEXT NOT NULL)"
            )
            applied = {row[0] for row in await tx.fetchall(
                "SELECT version FROM schema_migrations")}
            newest = max((version for version, _, _ in migrations(self.dialect)), default=0)
            if applied and max(applied) > newest:  # written by a newer childforum
                raise DatabaseUnavailable(
                    f"{self.target}: its schema is version {max(applied):03d}, newer than this"
                    f" childforum's ({newest:03d}): run the childforum that wrote it")
            for version, _, script in migrations(self.dialect):
                if version in applied:
                    continue
                await self._run_script(tx, script)
                await tx.execute(
                    "INSERT INTO schema_migrations (version, applied_at) VALUES (?, ?)",
                    (version, utc_now()),
                )
                applied_now.append(version)
        return applied_now

    @abstractmethod
    async def _run_script(self, tx: Tx, script: str) -> None:
        """Run a migration's statements inside `tx`."""
