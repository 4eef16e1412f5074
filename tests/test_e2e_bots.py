"""Several bots from one process (one bot per province, docs/scale.md): `childforum run --config
a.toml --also b.toml`, each with its own token, database and Bot API."""

from __future__ import annotations

import asyncio
import os
import signal
import sys
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from bot.simulator import BotApiSimulator
from tests.e2e import ROOT, TOKEN, Child, texts, write_config
from tests.stores import query


@pytest.fixture
async def second() -> AsyncIterator[BotApiSimulator]:
    sim = BotApiSimulator()
    await sim.start()
    yield sim
    await sim.stop()


def _configs(tmp_path: Path, first: BotApiSimulator, second: BotApiSimulator) -> list[Path]:
    (tmp_path / "b").mkdir()
    a = write_config(tmp_path / "a.toml", first, tmp_path / "a.sqlite3")
    b = write_config(tmp_path / "b" / "b.toml", second, tmp_path / "b.sqlite3", changes={
        'token_env = "CHILDFORUM_TOKEN"': 'token_env = "CHILDFORUM_TOKEN_B"'})
    return [a, b]


async def _run(*args: str, log: Path, second_token: str = "654321:OTHER-BOT"
               ) -> asyncio.subprocess.Process:
    env = {**os.environ, "CHILDFORUM_TOKEN": TOKEN, "CHILDFORUM_TOKEN_B": second_token}
    with log.open("ab") as out:
        return await asyncio.create_subprocess_exec(
            sys.executable, "-m", "handlers.cli", "run", *args, env=env, stdout=out, stderr=out,
            cwd=ROOT)


async def test_one_process_serves_two_provinces_bots(
        simulator: BotApiSimulator, second: BotApiSimulator, tmp_path: Path) -> None:
    a, b = _configs(tmp_path, simulator, second)
    process = await _run("--config", str(a), "--also", str(b), log=tmp_path / "bots.log")
    try:
        for sim in (simulator, second):
            await sim.wait_until(lambda sim=sim: any(  # type: ignore[misc]
                method == "getUpdates" for method, _ in sim.requests), 30)
        for sim, user in ((simulator, 501), (second, 601)):
            child = Child(sim, user)
            await child.register()
            await child.answer_topic("2.", "Suối sâu gần trường", "Làm rào chắn", "Xã")
            assert "DHA-0001" in texts(await child.tap("✅"))
    finally:
        process.send_signal(signal.SIGTERM)
        assert await asyncio.wait_for(process.wait(), 20) == 0
    # Each bot kept its own children and proposals.
    assert query(tmp_path / "a.sqlite3", "SELECT chat_id FROM proposals") == [(501,)]
    assert query(tmp_path / "b.sqlite3", "SELECT chat_id FROM proposals") == [(601,)]
    assert simulator.errors == [] and second.errors == []


async def test_two_bots_may_not_share_a_token_or_a_database(
        simulator: BotApiSimulator, second: BotApiSimulator, tmp_path: Path) -> None:
    a, b = _configs(tmp_path, simulator, second)
    process = await _run("--config", str(a), "--also", str(a), log=tmp_path / "same.log")
    assert await asyncio.wait_for(process.wait(), 20) == 2
    assert "each bot needs its own token" in (tmp_path / "same.log").read_text()
    shared = b.read_text().replace(f'"{tmp_path}/b.sqlite3"', f'"{tmp_path}/a.sqlite3"')
    b.write_text(shared, encoding="utf-8")
    process = await _run("--config", str(a), "--also", str(b), log=tmp_path / "db.log")
    assert await asyncio.wait_for(process.wait(), 20) == 2
    assert "each bot needs its own database" in (tmp_path / "db.log").read_text()
    # Two variables, one bot: both provinces would get (some of) each other's updates.
    process = await _run("--config", str(a), "--also", str(b), log=tmp_path / "token.log",
                         second_token=TOKEN)
    assert await asyncio.wait_for(process.wait(), 20) == 2
    assert "each bot needs its own token" in (tmp_path / "token.log").read_text()
