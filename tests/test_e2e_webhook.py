"""Webhook mode: updates arrive by HTTPS POST with Telegram's secret token header."""

from __future__ import annotations

import json
import socket
import sqlite3
from collections.abc import AsyncIterator
from pathlib import Path

import aiohttp
import pytest

from bot.simulator import BotApiSimulator
from tests.e2e import BotProcess, texts, write_config

SECRET = "webhook-secret-for-tests-0123456789abcdef"


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@pytest.fixture
async def webhook_bot(simulator: BotApiSimulator, database: Path, tmp_path: Path,
                      monkeypatch: pytest.MonkeyPatch) -> AsyncIterator[str]:
    port = free_port()
    config = write_config(tmp_path / "config.toml", simulator, database)
    text = config.read_text(encoding="utf-8").replace('mode = "polling"', 'mode = "webhook"')
    config.write_text(text.replace("port = 8443", f"port = {port}"), encoding="utf-8")
    monkeypatch.setenv("CHILDFORUM_WEBHOOK_SECRET", SECRET)
    process = BotProcess(simulator, config, tmp_path / "bot.log")
    await process.start(ready_on="setWebhook")
    yield f"http://127.0.0.1:{port}/childforum"
    await process.stop()
    assert simulator.errors == []


async def test_updates_by_webhook_with_the_secret(simulator: BotApiSimulator,
                                                  webhook_bot: str, database: Path) -> None:
    webhook = [params for method, params in simulator.requests if method == "setWebhook"][-1]
    assert webhook["url"] == "https://forum.example.org/childforum"
    assert webhook["secret_token"] == SECRET
    update = simulator.send_text(1201, "/start")  # builds the update and makes the chat known
    async with aiohttp.ClientSession() as http:
        forged = await http.post(webhook_bot, json=update,
                                 headers={"X-Telegram-Bot-Api-Secret-Token": "wrong"})
        assert forged.status == 403
        accepted = await http.post(webhook_bot, json=update,
                                   headers={"X-Telegram-Bot-Api-Secret-Token": SECRET})
        assert accepted.status == 200
    replies = await simulator.wait_for_messages(1201, 1, timeout=15)
    assert "Em có đồng ý" in texts(replies)


async def test_a_lone_surrogate_by_webhook_is_answered(simulator: BotApiSimulator,
                                                       webhook_bot: str, database: Path) -> None:
    """Half of a surrogate pair in a POSTed update: kept in the inbox and answered (as U+FFFD),
    not a failure that Telegram would post again and again."""
    update = simulator.send_text(1202, "\ud800 xin chào")  # builds it, makes the chat known
    async with aiohttp.ClientSession() as http:
        accepted = await http.post(webhook_bot, data=json.dumps(update).encode(), headers={
            "X-Telegram-Bot-Api-Secret-Token": SECRET, "Content-Type": "application/json"})
        assert accepted.status == 200
    replies = await simulator.wait_for_messages(1202, 1, timeout=15)
    assert "Em đồng ý" in texts(replies)  # as to any first words
    with sqlite3.connect(database) as db:
        assert db.execute("SELECT count(*) FROM inbox WHERE done_at IS NULL").fetchone() == (0,)
