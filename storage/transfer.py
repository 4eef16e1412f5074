"""A forum's SQLite file copied into an empty PostgreSQL database, table by table.

Both are at the same schema version (each was brought up to date when opened), so every table
has the same columns on both sides. The copy reads the file inside one write transaction (a bot
that starts meanwhile waits for it) and writes the server inside one transaction holding the
writers' lock: either every row arrives, counted on both sides, or nothing does. Tables go
parents first (the foreign keys); each identity column then continues after the highest id
copied, so the next proposal, answer or case gets a new number.
"""

from __future__ import annotations

from dataclasses import dataclass

from storage.db import is_unavailable
from storage.engine import Database, Row, Tx

# The schema's own bookkeeping (each side keeps its own) and the running bot's proof of life.
NOT_COPIED = frozenset({"schema_migrations", "heartbeat"})
BATCH = 1000


class CannotCopy(Exception):
    """Why the copy did not start, or was rolled back (one line, for the operator)."""


@dataclass(frozen=True)
class Copied:
    table: str
    rows: int


async def copy_sqlite_to_postgres(source: Database, target: Database) -> list[Copied]:
    """Copy every table of `source` (SQLite) into `target` (PostgreSQL, with no data yet);
    the tables and their rows, parents first. Raises CannotCopy."""
    if source.dialect != "sqlite" or target.dialect != "postgres":
        raise CannotCopy(f"copies SQLite to PostgreSQL, not {source.dialect} to"
                         f" {target.dialect}")
    async with source.transaction() as read, target.transaction() as write:
        tables = await _tables_parents_first(read)
        await _same_columns(read, write, tables)
        if held := [table for table in await _server_tables(write) if table not in NOT_COPIED
                    and await write.fetchall(f'SELECT 1 FROM "{table}" LIMIT 1')]:
            raise CannotCopy("the PostgreSQL database holds data already (in "
                             + ", ".join(sorted(held)) + "): copy into an empty one")
        copied = [Copied(table, await _copy_table(read, write, table)) for table in tables]
        for done in copied:
            (arrived,), = await write.fetchall(f'SELECT count(*) FROM "{done.table}"')
            if arrived != done.rows:  # rolls both back
                raise CannotCopy(f"{done.table}: {done.rows} rows read, {arrived} written")
        await _identities_follow(write)
    return copied


async def _tables_parents_first(read: Tx) -> list[str]:
    names = [name for (name,) in await read.fetchall(
        "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%'"
        " ORDER BY name") if name not in NOT_COPIED]
    parents = {name: {row[2] for row in await read.fetchall(
        f"SELECT * FROM pragma_foreign_key_list('{name}')")} - {name} for name in names}
    ordered: list[str] = []
    while len(ordered) < len(names):
        ready = [name for name in names if name not in ordered
                 and parents[name] <= set(ordered)]
        if not ready:
            raise CannotCopy("the tables' foreign keys go round in a circle: "
                             + ", ".join(name for name in names if name not in ordered))
        ordered.extend(ready)
    return ordered


async def _columns(read: Tx, table: str) -> list[str]:
    return [row[1] for row in await read.fetchall(
        f"SELECT * FROM pragma_table_info('{table}') ORDER BY cid")]


async def _server_tables(write: Tx) -> list[str]:
    return [name for (name,) in await write.fetchall(
        "SELECT table_name FROM information_schema.tables"
        " WHERE table_schema = current_schema() AND table_type = 'BASE TABLE'")]


async def _same_columns(read: Tx, write: Tx, tables: list[str]) -> None:
    server: dict[str, set[str]] = {}
    for table, column in await write.fetchall(
            "SELECT table_name, column_name FROM information_schema.columns"
            " WHERE table_schema = current_schema()"):
        server.setdefault(table, set()).add(column)
    for table in tables:
        mine, theirs = set(await _columns(read, table)), server.get(table, set())
        if mine != theirs:
            raise CannotCopy(f"the table {table} differs between the file and the server"
                             f" (columns only in the file: {sorted(mine - theirs)},"
                             f" only on the server: {sorted(theirs - mine)})")


async def _copy_table(read: Tx, write: Tx, table: str) -> int:
    columns = await _columns(read, table)
    names = ", ".join(f'"{column}"' for column in columns)
    insert = (f'INSERT INTO "{table}" ({names}) VALUES ('
              + ", ".join("?" for _ in columns) + ")")
    batch: list[Row] = []
    count = 0

    async def flush() -> None:
        try:
            await write.executemany(insert, batch)
        except Exception as error:  # a row the server refuses: one line, all rolled back
            if is_unavailable(error):
                raise
            reason = (str(error).strip().splitlines() or [type(error).__name__])[0]
            raise CannotCopy(f"the server refused a row of {table}: {reason}") from error

    async for row in read.stream(f'SELECT {names} FROM "{table}" ORDER BY rowid'):
        batch.append(row)
        if len(batch) == BATCH:
            await flush()
            count, batch = count + len(batch), []
    if batch:
        await flush()
    return count + len(batch)


async def _identities_follow(write: Tx) -> None:
    """Each identity column goes on after the highest value copied into it."""
    for table, column in await write.fetchall(
            "SELECT table_name, column_name FROM information_schema.columns"
            " WHERE table_schema = current_schema() AND is_identity = 'YES'"):
        await write.fetchall(
            f"SELECT setval(pg_get_serial_sequence('\"{table}\"', '{column}'), max(\"{column}\"))"
            f' FROM "{table}" HAVING max("{column}") IS NOT NULL')
