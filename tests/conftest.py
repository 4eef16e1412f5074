"""Fixtures: a simulator per test, and the real bot process talking to it."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from bot.simulator import BotApiSimulator
from tests.e2e import BotProcess, write_config


@pytest.fixture
async def simulator() -> AsyncIterator[BotApiSimulator]:
    sim = BotApiSimulator()
    await sim.start()
    yield sim
    await sim.stop()


@pytest.fixture
def database(tmp_path: Path) -> Path:
    return tmp_path / "forum.sqlite3"


@pytest.fixture
async def bot(simulator: BotApiSimulator, database: Path, tmp_path: Path
              ) -> AsyncIterator[BotProcess]:
    config = write_config(tmp_path / "config.toml", simulator, database)
    process = BotProcess(simulator, config, tmp_path / "bot.log")
    await process.start()
    yield process
    await process.stop()
    assert simulator.errors == [], f"the bot sent invalid requests: {simulator.errors}"
