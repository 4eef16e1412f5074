"""A forum moved from its SQLite file to PostgreSQL mid-year (`childforum move-to-postgres`):
the real bot runs on the file, stops, the copy is made, and the bot carries on on the server
with every child where they were: proposals, a half-written draft, the reference numbers."""

from __future__ import annotations

import asyncio
import sys
from pathlib import Path

import pytest

from bot.simulator import BotApiSimulator
from tests.e2e import ROOT, Child, running_bot, texts, write_config
from tests.stores import fresh_postgres, query

pytestmark = pytest.mark.timeout(180)
TOPIC = "2. Tai nạn thương tích, đuối nước, giao thông"


async def move(config: Path, url: str) -> tuple[int, str, str]:
    process = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "handlers.cli", "move-to-postgres", "--config", str(config),
        "--to", url, cwd=ROOT, stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE)
    out, err = await process.communicate()
    return process.returncode or 0, out.decode(), err.decode()


def tables(target: Path | str, names: list[str]) -> dict[str, list[tuple[object, ...]]]:
    """The rows of each table named, in one order, on either database."""
    return {name: sorted(query(target, f'SELECT * FROM "{name}"'), key=repr) for name in names}


async def test_a_forum_moves_to_postgresql_and_carries_on(
        simulator: BotApiSimulator, tmp_path: Path) -> None:
    database = tmp_path / "forum.sqlite3"
    config = write_config(tmp_path / "config.toml", simulator, database)
    sent, halfway = Child(simulator, 700), Child(simulator, 701)
    with fresh_postgres() as url:
        async with running_bot(simulator, config):
            await sent.register()
            await sent.tap(TOPIC)
            await sent.say("Suối sau trường sâu, <b>không</b> có biển báo & rào chắn")
            await sent.say("Làm rào chắn và dạy bơi cho chúng em")
            await sent.tap("Xã")
            await sent.tap("✔️")
            await sent.skip_to_review()
            assert "DHA-0001" in texts(await sent.tap("✅"))
            await halfway.register()
            await halfway.tap(TOPIC)
            await halfway.say("Đường tới trường không có đèn")  # then the bot stops
            # While the bot runs, the copy would leave its next updates behind: refused.
            code, _, err = await move(config, url)
            assert code == 2 and "stop it first" in err, err
        assert query(url, "SELECT count(*) FROM information_schema.tables"
                     " WHERE table_schema = current_schema()") == [(0,)]  # not touched

        code, out, err = await move(config, url)
        assert code == 0, err
        assert "every table counted on both sides" in out and "[storage] url" in out
        names = [name for (name,) in query(
            database, "SELECT name FROM sqlite_master WHERE type = 'table'"
            " AND name NOT IN ('schema_migrations', 'heartbeat')")]
        assert len(names) > 20 and all(f"  {name} " in out for name in names)
        copied = tables(url, names)
        assert copied == tables(database, names)
        assert all(copied[name] for name in ("children", "proposals", "inbox", "ref_counters"))

        # Once copied, the server holds data: a second copy would double it.
        code, _, err = await move(config, url)
        assert code == 2 and "holds data already" in err and "proposals" in err

        on_server = write_config(tmp_path / "server.toml", simulator, url)
        async with running_bot(simulator, on_server):
            assert "DHA-0001" in texts(await sent.say("/my"))
            # The half-written draft goes on at the step it had reached.
            await halfway.say("Cần lắp đèn giao thông trước cổng trường")
            await halfway.tap("Xã")
            await halfway.tap("✔️")
            await halfway.skip_to_review()
            review = texts(simulator.messages(701))
            assert "Đường tới trường không có đèn" in review
            # The next reference, and the next row id, follow the copied ones.
            assert "DHA-0002" in texts(await halfway.tap("✅"))
        assert query(url, "SELECT ref, chat_id FROM proposals ORDER BY id") == [
            ("DHA-0001", 700), ("DHA-0002", 701)]
        # The file is left as it was.
        assert query(database, "SELECT count(*) FROM proposals") == [(1,)]


def test_the_copy_refuses_what_it_cannot_do(tmp_path: Path) -> None:
    import subprocess

    def move_now(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run([sys.executable, "-m", "handlers.cli", "move-to-postgres",
                               "--config", str(ROOT / "config.example.toml"), *args],
                              capture_output=True, text=True, cwd=ROOT, timeout=60)

    missing = move_now("--database", str(tmp_path / "none.sqlite3"), "--to",
                       "postgresql://nobody@127.0.0.1:1/x")
    assert missing.returncode == 2 and "there is no database" in missing.stderr
    not_a_server = move_now("--database", str(tmp_path / "none.sqlite3"), "--to",
                            str(tmp_path / "other.sqlite3"))
    assert not_a_server.returncode == 2 and "postgresql://" in not_a_server.stderr
    already = move_now("--database", "postgresql://nobody@127.0.0.1:1/x", "--to",
                       "postgresql://nobody@127.0.0.1:1/y")
    assert already.returncode == 2 and "already uses PostgreSQL" in already.stderr
    assert "Traceback" not in missing.stderr + not_a_server.stderr + already.stderr


async def test_a_row_the_server_refuses_is_one_line_and_nothing_is_copied(
        tmp_path: Path) -> None:
    """A character PostgreSQL's text cannot hold (NUL, which SQLite keeps): the copy names the
    table, and rolls everything back."""
    import sqlite3

    from tests.test_cli_export import seeded

    database = tmp_path / "forum.sqlite3"
    await seeded(database)
    with sqlite3.connect(database) as db:
        db.execute("UPDATE proposals SET seen = 'suối' || char(0) || 'sâu' WHERE ref = 'DHA-0001'")
    with fresh_postgres() as url:
        process = await asyncio.create_subprocess_exec(
            sys.executable, "-m", "handlers.cli", "move-to-postgres", "--config",
            str(ROOT / "config.example.toml"), "--database", str(database), "--to", url,
            cwd=ROOT, stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE)
        _, err = await process.communicate()
        said = err.decode()
        assert process.returncode == 2, said
        assert "the server refused a row of proposals" in said and "Traceback" not in said
        assert query(url, "SELECT count(*) FROM children") == [(0,)]
