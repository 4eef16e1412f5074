"""`childforum migrate`, `backup` and `move-to-postgres`: the database, from the command line."""

from __future__ import annotations

import argparse
import shlex
import sys
from datetime import UTC, date, datetime
from pathlib import Path
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

from bot.config import Config
from bot.transport.health import STALE_AFTER
from handlers.wiring import open_configured
from storage import heartbeat
from storage.db import (
    DatabaseUnavailable,
    is_server,
    is_unavailable,
    migrations,
    open_database,
)
from storage.sqlite import copy_file
from storage.transfer import CannotCopy, copy_sqlite_to_postgres


def missing(config: Config) -> str | None:
    """Why a command that reads the forum's data cannot start: no database file yet."""
    if config.database_url or config.database_path.is_file():
        return None
    return (f"there is no database at {config.database_path} (check --database or [storage]"
            " path in the config)")


def known_areas(config: Config) -> str:
    """The codes an area may be given by on the command line: the forum year's, then the
    records' (earlier years' areas, such as the 2023 districts in a commune config)."""
    now = ", ".join(area.code for area in config.districts)
    before = ", ".join(area.code for area in config.past_areas)
    return (f"known: {now} (the forum year's)"
            + (f"; {before} (earlier years' and others of the list)" if before else "")
            + "; or all")


def output_problem(out: Path, database: Path, force: bool) -> str | None:
    """Why a command must not write its file to `out` (the database, a folder, a file there
    already without `force`), or None."""
    target = out.resolve()
    if target in {database.resolve().with_name(database.name + suffix)
                  for suffix in ("", "-wal", "-shm", "-journal")}:
        return f"{out} is the database itself: choose another --out"
    if target.is_dir():
        return f"{out} is a folder: give a file name, for example {out / 'kien-nghi.xlsx'}"
    if not target.parent.is_dir():
        return f"the folder {out.parent} does not exist"
    if target.exists() and not force:
        return f"{out} exists already: choose another name, or add --force to replace it"
    return None


def without_password(url: str) -> str:
    """A server's address as it may be printed: a password in it is left out (pg_dump takes
    it from the environment or ~/.pgpass)."""
    parts = urlsplit(url)
    query = [(key, value) for key, value in parse_qsl(parts.query, keep_blank_values=True)
             if key != "password"]  # libpq reads ?password= too
    netloc = parts.netloc
    if parts.password is not None:
        host = parts.hostname or ""
        if ":" in host:
            host = f"[{host}]"  # an IPv6 address
        netloc = (f"{parts.username}@" if parts.username else "") + host + (
            f":{parts.port}" if parts.port else "")
    return urlunsplit(parts._replace(netloc=netloc, query=urlencode(query)))


def add_parsers(commands: argparse._SubParsersAction,  # type: ignore[type-arg]
                ) -> list[argparse.ArgumentParser]:
    migrate = commands.add_parser(
        "migrate", help="create the database or bring it to this version's tables")
    backup = commands.add_parser(
        "backup", help="copy the SQLite database while the bot runs (PostgreSQL: pg_dump)")
    backup.add_argument("--out", type=Path, default=None,
                        help="the copy to write (SQLite; it must not exist yet)")
    move = commands.add_parser(
        "move-to-postgres", help="copy the forum from its SQLite file into an empty PostgreSQL"
        " database (the bot stopped), to serve it past one machine")
    move.add_argument("--to", required=True, metavar="URL",
                      help="the PostgreSQL database, postgresql://user@host:port/name (the"
                      " password from the config's password_env or ~/.pgpass)")
    return [migrate, backup, move]


async def migrate(config: Config) -> int:
    try:
        db = await open_configured(config)
    except DatabaseUnavailable as error:
        print(f"childforum migrate: cannot use the database {error}", file=sys.stderr)
        return 1
    try:
        known = {version: name for version, name, _ in migrations(db.dialect)}
        for version in db.applied:
            print(f"applied {known[version]}")
        latest = max(known)
        print(f"{db.target}: up to date (version {latest:03d}, {db.dialect})")
    finally:
        await db.close()
    return 0


async def backup(config: Config, out: Path | None) -> int:
    def fail(problem: str, code: int = 2) -> int:
        print(f"childforum backup: {problem}", file=sys.stderr)
        return code

    if config.database_url:
        print("PostgreSQL is backed up with its own tool, pg_dump, from any machine that"
              " reaches the server (the password from the environment or ~/.pgpass):")
        out = out or Path(f"childforum-{date.today():%Y%m%d}.dump")
        print(f"  pg_dump --format=custom --file={shlex.quote(str(out))}"
              f" {shlex.quote(without_password(config.database_url))}")
        print("Restore with pg_restore. Keep dumps no longer than docs/privacy.md says: an old"
              " dump still holds what children erased since.")
        return 0
    if (problem := missing(config)) is not None:
        return fail(problem)
    if out is None:
        return fail("give the file to write: --out forum-backup.sqlite3")
    if out.exists():
        return fail(f"{out} exists already: choose another name")
    if not out.parent.is_dir():
        return fail(f"the folder {out.parent} does not exist")
    partial = out.with_name(f".{out.name}.partial")
    try:  # the file as it is: no migration (a copy before an upgrade is of the old schema)
        await copy_file(config.database_path, partial)
        partial.replace(out)
    except DatabaseUnavailable as error:
        return fail(f"cannot use the database {error}", 1)
    except OSError as error:
        return fail(f"cannot write {out}: {error.strerror or error}", 1)
    finally:
        partial.unlink(missing_ok=True)
    print(f"{config.database_path} copied to {out} ({out.stat().st_size} bytes)")
    return 0


async def move_to_postgres(config: Config, url: str) -> int:
    """Copy the config's SQLite file into the empty PostgreSQL database at `url`."""
    def fail(problem: str, code: int = 2) -> int:
        print(f"childforum move-to-postgres: {problem}", file=sys.stderr)
        return code

    if config.database_url:
        return fail("this config already uses PostgreSQL ([storage] url): name the SQLite file"
                    " to copy with --database FILE")
    if not is_server(url):
        return fail(f"--to takes a postgresql:// address, not {url!r}")
    if (problem := missing(config)) is not None:
        return fail(problem)
    try:
        source = await open_database(config.database_path)
    except DatabaseUnavailable as error:
        return fail(f"cannot use the database {error}", 1)
    try:
        if (beat := await heartbeat.last(source.reader)) is not None:
            age = (datetime.now(UTC) - datetime.fromisoformat(beat)).total_seconds()
            if age < STALE_AFTER:
                return fail(f"a bot wrote to {config.database_path} {max(age, 0):.0f}s ago:"
                            " stop it first, then copy (what it received meanwhile would stay"
                            " behind in the file)")
        try:
            target = await open_database(url, config.database_password(), 2,
                                         config.password_env)
        except DatabaseUnavailable as error:
            return fail(f"cannot use the database {error}", 1)
        try:
            copied = await copy_sqlite_to_postgres(source, target)
        except CannotCopy as error:
            return fail(f"nothing was copied: {error}")
        except Exception as error:
            if not is_unavailable(error):
                raise
            return fail(f"nothing was copied: a database stopped answering ({error})", 1)
        finally:
            await target.close()
    finally:
        await source.close()
    shown = without_password(url)
    width = max(len(done.table) for done in copied)
    print(f"Copied {config.database_path} to {shown}, every table counted on both sides:")
    for done in copied:
        print(f"  {done.table:<{width}}  {done.rows:>9,}")
    print(f"The file is left as it was. Next: set [storage] url = \"{shown}\" in the config and"
          " start the bot. Once it runs there, erase the file and its backups"
          " (docs/privacy.md): they still hold the children's data.")
    return 0
