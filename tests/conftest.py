"""Fixtures: a simulator per test, and the real bot process talking to it."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest

from bot.simulator import BotApiSimulator, ZaloSimulator
from tests.e2e import (
    ZALO_SECRET,
    BotProcess,
    Child,
    Meet,
    ZaloPerson,
    running_bot,
    write_config,
    zalo_config,
)
from tests.stores import Target
from tests.stores import database as make_database


@pytest.fixture(params=["sqlite", "postgres"])
def target(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Target]:
    """A test's database, on SQLite and again on PostgreSQL (tests.stores)."""
    with make_database(request.param, tmp_path) as found:
        yield found


@pytest.fixture
async def simulator() -> AsyncIterator[BotApiSimulator]:
    sim = BotApiSimulator()
    await sim.start()
    yield sim
    await sim.stop()


@pytest.fixture
async def zalo(monkeypatch: pytest.MonkeyPatch) -> AsyncIterator[ZaloSimulator]:
    """A Zalo simulator, its token and the webhook's secret in the bot's environment."""
    sim = ZaloSimulator()
    await sim.start()
    monkeypatch.setenv("CHILDFORUM_ZALO_TOKEN", sim.token)
    monkeypatch.setenv("CHILDFORUM_ZALO_SECRET", ZALO_SECRET)
    yield sim
    await sim.stop()
    assert sim.errors == [], f"the bot sent Zalo invalid requests: {sim.errors}"


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


@pytest.fixture(params=["telegram", "zalo"])
async def meet(request: pytest.FixtureRequest, simulator: BotApiSimulator, zalo: ZaloSimulator,
               database: Path, tmp_path: Path) -> AsyncIterator[Meet]:
    """The bot running, and a way to meet a child on one channel or the other."""
    if request.param == "telegram":
        config = write_config(tmp_path / "config.toml", simulator, database)
        async with running_bot(simulator, config):
            yield lambda code: Child(simulator, 600, language_code=code)
        return
    config = zalo_config(tmp_path / "config.toml", simulator, zalo, database)
    async with running_bot(simulator, config):
        yield lambda code: ZaloPerson(zalo, 600)
