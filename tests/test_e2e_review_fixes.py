"""Reviewed defects, each through the real bot: the queue card's length, a failing handler,
district names on buttons, the pseudonym key, `childforum simulate` twice, and group chats."""

from __future__ import annotations

import asyncio
import sqlite3
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, cast

import pytest
from telegram import Update
from telegram.ext import CommandHandler, ContextTypes

from bot.config import load_config
from bot.conversation.catalog import load_catalog
from bot.simulator import BotApiSimulator
from bot.simulator.validation import parsed_text
from bot.staff.desk import StaffDesk
from bot.staff.moderation import QueueItem
from handlers.cli import simulation
from handlers.wiring import open_bot, serve
from tests.e2e import ROOT, TOKEN, BotProcess, Child, texts, write_config
from tests.test_e2e_exports import answer, documents, start_forum
from tests.test_e2e_staff import MOD, STAFF, query, running_bot

MAX_TEXT = 4096
KEY_ENV = "CHILDFORUM_PSEUDONYM_KEY"
ADMIN = 123456789  # config.example.toml: admin of the whole province (export duty included)
LONG_REF = "DHA-0901"


def long_text(words: str, length: int) -> str:
    return (words * (length // len(words) + 1))[:length]


def no_pseudonym_key(monkeypatch: pytest.MonkeyPatch) -> None:
    """Unset the key for this test (set first, so that the end of the test puts it back)."""
    monkeypatch.setenv(KEY_ENV, "placeholder")
    monkeypatch.delenv(KEY_ENV)


# --- 1. the queue card always fits one message -------------------------------------------------

def insert_longest_group_proposal(database: Path) -> None:
    """A facilitator's group proposal with every answer at its longest (800 characters)."""
    now = datetime.now(UTC).isoformat(timespec="seconds")
    with sqlite3.connect(database) as db:
        db.execute(
            "INSERT INTO proposals (ref, chat_id, forum_year, district, topic, seen, proposal,"
            " actors, message, lang, status, created_at, updated_at, is_group, group_size,"
            " group_age_range, school, commune, facilitator_chat_id) VALUES (?, NULL, 2023,"
            " 'DHA', 'online', ?, ?, ?, ?, 'vi', 'pending', ?, ?, 1, 12, '10-12,13-15', ?, ?,"
            " 9010)",
            (LONG_REF, long_text("Người lạ nhắn tin <b>&</b> làm quen. ", 800),
             long_text("Trường dạy an toàn trên mạng. ", 800),
             "family,school,commune,district,province,nation",
             long_text("Mong người lớn lắng nghe. ", 800), now, now,
             long_text("Trường THCS Đắk Hà ", 800), long_text("Xã Hà Mòn ", 800)))


async def test_the_queue_card_fits_with_every_field_at_its_longest(
        simulator: BotApiSimulator, database: Path, tmp_path: Path) -> None:
    async with running_bot(simulator, database, tmp_path, STAFF):
        insert_longest_group_proposal(database)
        mod = Child(simulator, MOD)
        card = (await mod.say("/queue"))[-1]
        assert LONG_REF in card.plain and len(card.plain) <= MAX_TEXT and card.buttons()
        for field, new in (("Trường", "Trường phổ thông dân tộc bán trú "),
                           ("Xã", "Xã Đắk Hring, huyện Đắk Hà, tỉnh Kon Tum ")):
            await mod.tap("✏️")
            await mod.tap(field)
            shown = await mod.say(long_text(new, 1200))  # the longest edit allowed
            assert f"Đã sửa {LONG_REF}" in texts(shown)
            card = shown[-1]
            assert LONG_REF in card.plain and len(card.plain) <= MAX_TEXT and card.buttons()
        assert query(database, "SELECT length(school), length(commune) FROM proposals"
                               " WHERE ref = ?", LONG_REF) == [(1200, 1200)]
        again = (await mod.say("/queue"))[-1]  # and /queue keeps working
        assert LONG_REF in again.plain and again.buttons()


def test_every_part_of_the_card_is_bounded(tmp_path: Path) -> None:
    """Every text of the item at 1200 characters (the most an edit or the config allows), a
    translator's Vietnamese of each of the child's fields too (up to 3000 characters)."""
    config = load_config(ROOT / "config.example.toml").with_database(tmp_path / "x.sqlite3")
    staff = StaffDesk(cast(Any, None), load_catalog(config), cast(Any, None), config,
                      cast(Any, None))
    huge = long_text("Chữ & <dài> ", 1200)
    item = QueueItem(
        id=1, ref=huge, version=1, status="pending", district=huge, topic=huge, age_band=huge,
        gender=None, notify_chat_id=None, notify_lang="vi", forum_year=2023, origin="bot",
        held_by_case=10**9, hold_reason=f"{huge}|{huge}|{huge}",
        lang=huge, needs_translation=True, is_group=True, group_size=10**100,
        group_age_range=huge, school=huge, commune=huge, seen=huge, proposal=huge,
        actors=",".join(["family"] * 300), message=huge, created_at="2023-06-30T10:00:00+00:00",
        remaining=10**9, seen_vi=huge * 3, proposal_vi=huge * 3, message_vi=huge * 3,
        translated=True)
    for lang in ("vi", "en"):
        assert len(parsed_text(staff._card(item, lang), "HTML")) <= MAX_TEXT


# --- 2. a failing handler: one apology, no child answer, the update done -------------------------

async def test_a_failing_staff_handler_stops_the_update_there(
        simulator: BotApiSimulator, database: Path, tmp_path: Path) -> None:
    config = load_config(write_config(tmp_path / "config.toml", simulator, database))
    server = await open_bot(config, TOKEN)

    async def broken(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        raise RuntimeError("a staff handler failed")

    server.application.add_handler(CommandHandler("boom", broken), group=-1)  # as staff's are
    stop = asyncio.Event()
    task = asyncio.create_task(serve(server, config, stop))
    try:
        update_id = simulator.send_text(ADMIN, "/boom")["update_id"]
        await simulator.wait_for_messages(ADMIN, 1, timeout=30)
        await simulator.wait_idle(quiet=0.5, timeout=20)
        said = [m.plain for m in simulator.messages(ADMIN)]
        # staff are adults: the apology speaks to them as such, and says nothing was done
        assert len(said) == 1 and said[0].startswith("Hệ thống gặp lỗi"), said
        # the bot carries on with the next update
        simulator.send_text(ADMIN, "/help")
        assert await simulator.wait_for_messages(ADMIN, 1, timeout=20)
    finally:
        stop.set()
        await task
    assert query(database, "SELECT done_at IS NOT NULL FROM inbox WHERE update_id = ?",
                 update_id) == [(1,)]  # not replayed at the next start


# --- 3. a district name with an apostrophe on a button -----------------------------------------

async def test_district_buttons_show_names_as_written(
        simulator: BotApiSimulator, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(KEY_ENV, "test-pseudonym-key-0123456789")
    forum = await start_forum(simulator, tmp_path)
    try:
        admin = Child(simulator, ADMIN)
        menu = (await admin.say("/export"))[-1]
        labels = [label for label, _ in menu.buttons()]
        assert "Huyện Ia H'Drai" in labels and not any("&" in label for label in labels)
        await admin.tap("Huyện Ia H'Drai")
        assert "Huyện: Huyện Ia H'Drai" in admin.latest_keyboard().plain  # the menu, edited
    finally:
        await forum.bot.stop()
    assert simulator.errors == []


# --- 4. the pseudonym key ----------------------------------------------------------------------

async def test_without_a_pseudonym_key_run_warns_and_export_says_what_is_missing(
        simulator: BotApiSimulator, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    no_pseudonym_key(monkeypatch)
    forum = await start_forum(simulator, tmp_path)
    try:
        log = (tmp_path / "bot.log").read_text(encoding="utf-8")
        assert "WARNING" in log and KEY_ENV in log
        admin = Child(simulator, ADMIN)
        await admin.say("/export")
        await admin.tap("Huyện Đắk Hà")
        await admin.tap("CSV")
        await admin.tap("Tiếp")
        said = texts(await admin.tap("Năm diễn đàn"))
        assert KEY_ENV in said and "quản trị viên" in said
        assert "Chưa tạo được tệp. Xin báo" not in said
        assert documents(simulator, ADMIN) == []
    finally:
        await forum.bot.stop()
    assert simulator.errors == []


async def test_simulate_makes_exports_work_without_a_key(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    no_pseudonym_key(monkeypatch)
    config = load_config(ROOT / "config.example.toml").with_database(tmp_path / "demo.sqlite3")
    async with simulation(config) as simulator:
        simulator.send_text(ADMIN, "/export")
        await simulator.wait_for_messages(ADMIN, 1, timeout=30)
        admin = Child(simulator, ADMIN)
        await admin.tap("Huyện Đắk Hà")
        await admin.tap("CSV")
        await admin.tap("Tiếp")
        await admin.tap("Năm diễn đàn")
        await simulator.wait_until(lambda: bool(documents(simulator, ADMIN)), timeout=20)
        assert simulator.errors == []


# --- 5. `childforum simulate` twice on the same database ---------------------------------------

async def test_a_second_simulation_on_the_same_database_is_answered(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(KEY_ENV, "test-pseudonym-key-0123456789")
    config = load_config(ROOT / "config.example.toml").with_database(tmp_path / "demo.sqlite3")
    for _ in range(2):
        async with simulation(config) as simulator:
            simulator.send_text(1001, "/start")
            simulator.send_text(1001, "/help")
            assert len(await simulator.wait_for_messages(1001, 2, timeout=30)) == 2
    assert query(tmp_path / "demo.sqlite3", "SELECT count(*) FROM inbox") == [(4,)]


async def test_a_simulation_with_a_webhook_config_still_answers(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The production config (webhook mode) given to `childforum simulate`: the demo polls its
    own simulator (it answered nothing, and took the webhook's port)."""
    from dataclasses import replace

    monkeypatch.setenv(KEY_ENV, "test-pseudonym-key-0123456789")
    config = replace(load_config(ROOT / "config.example.toml").with_database(
        tmp_path / "demo.sqlite3"), mode="webhook")
    async with simulation(config) as simulator:
        simulator.send_text(1002, "/start")
        assert await simulator.wait_for_messages(1002, 1, timeout=30)


# --- 6. group chats: only commands meant for this bot ------------------------------------------

async def test_a_group_hears_only_commands_for_this_bot(
        simulator: BotApiSimulator, bot: BotProcess) -> None:
    group = -1001234567890
    for command in ("/start@otherbot", "/help@some_other_bot hi", "hello"):
        simulator.send_text(9001, command, chat_id=group, chat_type="supergroup")
    await answer(simulator, group)
    assert simulator.messages(group) == []
    for command in ("/start@childforum_bot", "/start@ChildForum_Bot", "/start"):
        simulator.send_text(9001, command, chat_id=group, chat_type="supergroup")
        (reply,) = await simulator.wait_for_messages(group, 1, timeout=20)
        assert "https://t.me/childforum_bot?start=hi" in reply.plain
