"""The process's health: one ERROR line per outage, and "back" only when what failed works."""

from __future__ import annotations

import logging
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest

from bot.config import load_config
from bot.transport.health import Health, check

ROOT = Path(__file__).resolve().parents[1]


def test_a_small_write_that_still_fits_does_not_end_the_outage(
        tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    """On a full disk SQLite may rewrite the heartbeat row in place while no update can be
    stored: the heartbeat's success must not say the database is back."""
    path = tmp_path / "childforum.health"
    health = Health(path)
    full = sqlite3.OperationalError("database or disk is full")
    with caplog.at_level(logging.INFO, logger="childforum.health"):
        for _ in range(3):
            health.down("storing an update", full)
            health.up("the heartbeat write")
            health.up("recording sent messages")
        healthy, said = check(path)
        assert not health.ok and not healthy and "storing an update" in said
        health.down("the heartbeat write", full)
        health.up("storing an update", "handling an update")
        assert not health.ok  # the heartbeat still fails
        health.up("the heartbeat write")
    assert health.ok and check(path)[0]
    levels = [(record.levelname, record.getMessage()[:40]) for record in caplog.records]
    assert levels == [("ERROR", "The database is unavailable (storing an "),
                      ("INFO", "The database is back after the heartbeat")], levels


def test_nothing_failing_nothing_said(caplog: pytest.LogCaptureFixture) -> None:
    health = Health()
    with caplog.at_level(logging.INFO, logger="childforum.health"):
        health.up("storing an update")
    assert health.ok and health.problem is None and not caplog.records


async def test_an_update_handled_again_after_a_failure_ends_the_outage(tmp_path: Path) -> None:
    """The failed update is retried (not stored again): its handling, done, says so."""
    from zoneinfo import ZoneInfo

    from bot.transport.outbox import Outbox
    from bot.transport.pacing import Pacing
    from storage.db import open_database

    db = await open_database(tmp_path / "forum.sqlite3")
    try:
        outbox = Outbox(db, Pacing(), ZoneInfo("Asia/Ho_Chi_Minh"))
        outbox.health = health = Health()
        health.down("handling an update", sqlite3.OperationalError("database is locked"))
        async with outbox.work() as work:  # a job's work: no update handled
            assert work.fresh
        assert not health.ok
        async with db.transaction() as tx:
            await tx.execute("INSERT INTO inbox (update_id, payload, received_at) VALUES"
                             " (5, '{}', '2026-01-01')")
        async with outbox.work(5) as work:
            assert work.fresh
        assert health.ok
    finally:
        await db.close()


def _worker_config(folder: Path, name: str, extra: str = "") -> Path:
    """A worker's config on a PostgreSQL server (none needs to run here), in `folder`."""
    text = (ROOT / "config.example.toml").read_text(encoding="utf-8")
    text = text.replace('path = "childforum.sqlite3"', 'url = "postgresql://forum@db/forum"')
    text = text.replace('rate_limit = true', f'rate_limit = true\n{extra}')
    path = folder / name
    path.write_text(text, encoding="utf-8")
    return path


def _health(config: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "handlers.cli", "health", "--config",
                           str(config)], capture_output=True, text=True, cwd=ROOT, timeout=60)


def test_two_workers_in_one_folder_each_have_their_own_heartbeat(tmp_path: Path) -> None:
    """Worker a runs, worker b never started: `childforum health` says so for b."""
    configs = [load_config(_worker_config(tmp_path, name)) for name in ("a.toml", "b.toml")]
    assert [c.health_path for c in configs] == [tmp_path / "a.health", tmp_path / "b.health"]
    Health(configs[0].health_path, configs[0].source).beat()  # worker a is up
    assert _health(tmp_path / "a.toml").returncode == 0
    never = _health(tmp_path / "b.toml")
    assert never.returncode == 1 and "no heartbeat file" in never.stderr


def test_a_heartbeat_file_two_configs_name_is_not_the_other_ones_health(tmp_path: Path) -> None:
    shared = 'health_file = "shared.health"'
    for name in ("a.toml", "b.toml"):
        _worker_config(tmp_path, name, shared)
    Health(tmp_path / "shared.health", tmp_path / "a.toml").beat()
    assert _health(tmp_path / "a.toml").returncode == 0
    other = _health(tmp_path / "b.toml")
    assert other.returncode == 1 and f"bot of {(tmp_path / 'a.toml').resolve()}" in other.stderr


def test_a_bot_that_stopped_cleanly_is_not_ok(tmp_path: Path) -> None:
    """Its last heartbeat says it stopped: `childforum health` does not say "ok" for the next
    half minute."""
    config = load_config(_worker_config(tmp_path, "a.toml"))
    health = Health(config.health_path, config.source)
    health.beat()
    assert _health(tmp_path / "a.toml").returncode == 0
    health.beat(stopped=True)
    stopped = _health(tmp_path / "a.toml")
    assert stopped.returncode == 1 and "stopped" in stopped.stderr
    healthy, said = check(config.health_path, config=config.source)
    assert not healthy and said.startswith("stopped since")


async def test_a_job_that_meets_an_outage_says_one_line(
        tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    """A job that finds the database down (PostgreSQL restarting, its connections used up) is
    one line, none once the outage was said, and no traceback; a bug in a job keeps its own."""
    from telegram.ext import Job

    from handlers.wiring import open_bot
    from tests.e2e import TOKEN

    text = (ROOT / "config.example.toml").read_text(encoding="utf-8")
    config_path = tmp_path / "config.toml"
    config_path.write_text(text.replace('path = "childforum.sqlite3"',
                                        f'path = "{tmp_path / "forum.sqlite3"}"'),
                           encoding="utf-8")
    server = await open_bot(load_config(config_path), TOKEN)

    async def escalate(context: object) -> None: ...

    job = Job(escalate, name="escalate")
    outage = sqlite3.OperationalError("database is locked\nmore of the driver's words")
    try:
        with caplog.at_level(logging.WARNING):
            await server.application.process_error(None, outage, job=job)
            assert [(r.levelname, r.getMessage(), r.exc_info) for r in caplog.records] == [
                ("WARNING", "Job escalate did not run: the database is unavailable (database"
                 " is locked); it runs again at its next turn", None)]
            caplog.clear()
            server.health.down("the heartbeat write", outage)
            caplog.clear()
            await server.application.process_error(None, outage, job=job)
            assert caplog.records == []  # the outage was said once already
            await server.application.process_error(None, RuntimeError("a bug"), job=job)
            (bug,) = caplog.records
            assert bug.getMessage() == "Error in job escalate" and bug.exc_info is not None
    finally:
        await server.application.bot.shutdown()
        await server.db.close()
