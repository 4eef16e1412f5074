"""`childforum migrate` and `childforum backup`, and the [storage] settings, on the command line."""

from __future__ import annotations

import os
import socket
import sqlite3
import subprocess
import sys
import threading
from pathlib import Path

import pytest

from bot.config import ConfigError, load_config
from tests.command_line import Ran
from tests.command_line import childforum as command_line
from tests.stores import Target, query
from tests.test_cli_export import seeded

ROOT = Path(__file__).resolve().parents[1]


def childforum(*args: str, config: Path = ROOT / "config.example.toml") -> Ran:
    return command_line(*args, "--config", str(config))


def test_migrate_creates_then_finds_nothing_to_do(target: Target) -> None:
    first = childforum("migrate", "--database", str(target))
    assert first.returncode == 0, first.stderr
    if isinstance(target, Path):  # children's data: the account that runs the bot reads it
        assert target.stat().st_mode & 0o077 == 0, oct(target.stat().st_mode)
    for name in ("001_initial.sql", "007_inbox_chat.sql"):
        assert f"applied {name}" in first.stdout
    assert "up to date (version 018" in first.stdout
    again = childforum("migrate", "--database", str(target))
    assert again.returncode == 0 and "applied" not in again.stdout
    assert query(target, "SELECT count(*) FROM schema_migrations") == [(18,)]


async def test_backup_copies_the_sqlite_file_while_it_is_open(tmp_path: Path) -> None:
    database, copy = tmp_path / "forum.sqlite3", tmp_path / "copy.sqlite3"
    await seeded(database)
    holder = sqlite3.connect(database)  # another connection open, as the running bot's
    try:
        done = childforum("backup", "--database", str(database), "--out", str(copy))
    finally:
        holder.close()
    assert done.returncode == 0, done.stderr
    assert copy.stat().st_mode & 0o077 == 0, oct(copy.stat().st_mode)  # nobody else reads it
    with sqlite3.connect(copy) as backup:
        assert backup.execute("SELECT ref FROM proposals ORDER BY ref").fetchall() == [
            ("DHA-0001",), ("DHA-0002",), ("KTM-0001",)]
    again = childforum("backup", "--database", str(database), "--out", str(copy))
    assert again.returncode == 2 and "exists already" in again.stderr
    missing = childforum("backup", "--database", str(tmp_path / "none.sqlite3"), "--out",
                         str(tmp_path / "x.sqlite3"))
    assert missing.returncode == 2 and "there is no database" in missing.stderr
    assert not (tmp_path / "x.sqlite3").exists()
    # Before an upgrade: the copy is of the schema as it was, and the file is left alone.
    with sqlite3.connect(database) as db:
        db.execute("DELETE FROM schema_migrations WHERE version = (SELECT max(version)"
                   " FROM schema_migrations)")
        before = db.execute("SELECT max(version) FROM schema_migrations").fetchone()
    older = tmp_path / "before-upgrade.sqlite3"
    assert childforum("backup", "--database", str(database), "--out", str(older)).returncode == 0
    for path in (database, older):
        with sqlite3.connect(path) as db:
            assert db.execute("SELECT max(version) FROM schema_migrations").fetchone() == before


def test_backup_on_postgresql_says_how_with_pg_dump(tmp_path: Path) -> None:
    done = childforum("backup", "--database", "postgresql://forum@db.example.org:5433/forum",
                      "--out", str(tmp_path / "forum.dump"))
    assert done.returncode == 0, done.stderr
    assert "pg_dump --format=custom" in done.stdout
    assert "postgresql://forum@db.example.org:5433/forum" in done.stdout


def write(tmp_path: Path, new: str, old: str = 'path = "childforum.sqlite3"') -> Path:
    """The example config with one line of it replaced."""
    text = (ROOT / "config.example.toml").read_text(encoding="utf-8")
    assert old in text, old
    path = tmp_path / "config.toml"
    path.write_text(text.replace(old, new), encoding="utf-8")
    return path


def test_storage_settings(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    config = load_config(write(tmp_path, 'url = "postgresql://forum@db/forum"'))
    assert config.database == "postgresql://forum@db/forum"
    assert config.health_path == tmp_path / "config.health"
    monkeypatch.setenv("CHILDFORUM_DB_PASSWORD", "s3cret")
    assert config.database_password() == "s3cret"
    assert load_config(ROOT / "config.example.toml").database == ROOT / "childforum.sqlite3"
    for new, old, problem in (
            ('url = "postgresql://forum:s3cret@db/forum"', 'path = "childforum.sqlite3"',
             "must not hold the password"),
            ('url = "mysql://forum@db/forum"', 'path = "childforum.sqlite3"', "must start with"),
            ("pool_size = 1", "pool_size = 10", "pool_size"),
            ("workers = 0", "workers = 1", "workers")):
        with pytest.raises(ConfigError, match=problem):
            load_config(write(tmp_path, new, old))


def test_a_server_that_is_not_there_is_one_clear_line() -> None:
    done = childforum("migrate", "--database", "postgresql://nobody@127.0.0.1:9/none")
    assert done.returncode == 1
    assert done.stderr.startswith("childforum migrate: cannot use the database"
                                  " postgresql://nobody@127.0.0.1:9/none")
    assert len(done.stderr.strip().splitlines()) == 1


def test_a_password_missing_from_the_environment_is_named(tmp_path: Path) -> None:
    """A server that asks for a password when the config's password_env is not set: the one
    line names that variable (libpq says only "no password supplied")."""
    with socket.socket() as server:
        server.bind(("127.0.0.1", 0))
        server.listen()
        port = server.getsockname()[1]
        thread = threading.Thread(target=_ask_for_a_password, args=(server,), daemon=True)
        thread.start()
        config = write(tmp_path, 'password_env = "KONTUM_DB_PASSWORD"',
                       'password_env = "CHILDFORUM_DB_PASSWORD"')
        environment = {key: value for key, value in os.environ.items()
                       if key != "KONTUM_DB_PASSWORD"}
        done = subprocess.run(
            [sys.executable, "-m", "handlers.cli", "migrate", "--config", str(config),
             "--database", f"postgresql://forum@127.0.0.1:{port}/forum"],
            capture_output=True, text=True, cwd=ROOT, timeout=60,
            env={**environment, "PGPASSFILE": str(tmp_path / "no.pgpass")})
        server.shutdown(socket.SHUT_RDWR)  # wakes the accept
        thread.join(10)
    assert done.returncode == 1, done.stderr
    assert len(done.stderr.strip().splitlines()) == 1, done.stderr
    assert "no password supplied (the environment variable KONTUM_DB_PASSWORD is not set" in (
        done.stderr)


def _ask_for_a_password(server: socket.socket) -> None:
    """A PostgreSQL server as far as asking each client for a clear-text password: no to
    encryption (SSL, GSS), then the password request to the startup packet."""
    server.settimeout(30)
    while True:
        try:
            client, _ = server.accept()
        except OSError:  # closed, or nobody came
            return
        with client:
            while header := client.recv(4):
                rest = client.recv(int.from_bytes(header, "big") - 4)
                if int.from_bytes(rest[:4], "big") in (80877103, 80877104):
                    client.sendall(b"N")  # SSLRequest, GSSENCRequest: not here
                    continue
                client.sendall(b"R" + (8).to_bytes(4, "big") + (3).to_bytes(4, "big"))
                client.recv(1)  # libpq hangs up: it has no password to send
                break


def test_the_pg_dump_line_never_shows_a_password(tmp_path: Path) -> None:
    done = childforum("backup", "--database",
                      "postgresql://forum:s3cretpw@db.example.org:5433/forum?sslmode=require",
                      "--out", str(tmp_path / "forum.dump"))
    assert done.returncode == 0, done.stderr
    assert "s3cretpw" not in done.stdout + done.stderr
    assert "postgresql://forum@db.example.org:5433/forum?sslmode=require" in done.stdout
    query = childforum("backup", "--database",
                       "postgresql://forum@db.example.org/forum?password=s3cretpw&sslmode=require",
                       "--out", str(tmp_path / "forum2.dump"))
    assert "s3cretpw" not in query.stdout and "sslmode=require" in query.stdout
