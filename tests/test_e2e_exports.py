"""Exports end to end: the scheduled files and reminders, and /export in chat.

The real bot process, the simulator and a real SQLite file. The schedule uses the real clock: the
weekly time and the reminder time are set two minutes in the past with nothing recorded, so the
catch-up at start sends them at once — the same path a run missed while the bot was down takes.
"""

from __future__ import annotations

import asyncio
import csv
import io
import re
import sqlite3
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import docx
import openpyxl
import pytest

from bot.jobs.schedule import WEEKDAYS
from bot.simulator import BotApiSimulator, SentMessage
from storage.db import open_database
from tests.e2e import BotProcess, Child, texts, write_config
from tests.test_schedule import KEY, Proposal, seed

ADMIN, MODERATOR = 123456789, 234567890  # config.example.toml: whole province; DHA and KTM
OFFICER, STRANGER = 345678901, 9001
OFFICER_STAFF = f"""
[[staff]]
user_id = {OFFICER}
role = "officer"
districts = ["DHA", "KTM"]
"""
PROPOSALS = [
    Proposal("DHA", "approved", "Làm rào chắn quanh ao hồ"),         # DHA-0001
    Proposal("DHA", "approved", "Dạy bơi cho học sinh"),             # DHA-0002
    Proposal("DHA", "pending", "Đèn đường gần trường"),              # DHA-0003
    Proposal("KTM", "approved", "Biển cảnh báo đuối nước"),          # KTM-0001
    Proposal("KTM", "pending", "Áo phao cho đò ngang"),              # KTM-0002
    Proposal("KTM", "rejected", "Ngoài chủ đề"),                     # KTM-0003
    Proposal("NHO", "approved", "Ngoài phạm vi của cán bộ"),         # NHO-0001
    Proposal("NHO", "pending", "Cũng ngoài phạm vi"),                # NHO-0002
]
REF = re.compile(r"^[A-Z]{3}-\d{4}$")


@dataclass(frozen=True)
class Forum:
    simulator: BotApiSimulator
    bot: BotProcess
    database: Path


def minutes_ago(minutes: int) -> datetime:
    return datetime.now(ZoneInfo("Asia/Ho_Chi_Minh")) - timedelta(minutes=minutes)


def schedule_due_now(formats: str, districts: str = '"all"') -> str:
    """An officer's weekly time two minutes ago (nothing recorded: caught up at start)."""
    due = minutes_ago(2)
    return OFFICER_STAFF + f"""
[[schedules]]
user_id = {OFFICER}
districts = {districts}
formats = {formats}
weekly = ["{WEEKDAYS[due.weekday()]} {due:%H:%M}"]
"""


def reminder_due_now() -> tuple[tuple[str, str], str]:
    """A deadline tomorrow, with the 1-day reminder two minutes ago."""
    due = minutes_ago(2)
    deadline = f"""
[[deadlines]]
name = "Hạn thử nghiệm"
name_en = "Test deadline"
date = {(due + timedelta(days=1)).date().isoformat()}
"""
    timetable = ('reminder_days_before = [7, 1]\nreminder_time = "08:00"',
                 f'reminder_days_before = [1]\nreminder_time = "{due:%H:%M}"')
    return timetable, deadline


async def start_forum(simulator: BotApiSimulator, tmp_path: Path, extra: str = "",
                      *changes: tuple[str, str]) -> Forum:
    """The example config plus `extra` (and text changes), the proposals seeded, the bot up."""
    database = tmp_path / "forum.sqlite3"
    path = write_config(tmp_path / "config.toml", simulator, database, extra)
    text = path.read_text(encoding="utf-8")
    for old, new in changes:
        assert old in text
        text = text.replace(old, new)
    path.write_text(text, encoding="utf-8")
    db = await open_database(database)
    await seed(db, PROPOSALS)
    await db.close()
    bot = BotProcess(simulator, path, tmp_path / "bot.log")
    await bot.start()
    return Forum(simulator, bot, database)


@pytest.fixture(autouse=True)
def pseudonym_key(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CHILDFORUM_PSEUDONYM_KEY", KEY)


@pytest.fixture
async def chat_forum(simulator: BotApiSimulator, tmp_path: Path) -> AsyncIterator[Forum]:
    """An officer for DHA and KTM; no schedule."""
    forum = await start_forum(simulator, tmp_path, OFFICER_STAFF)
    yield forum
    await forum.bot.stop()
    assert simulator.errors == [], f"the bot sent invalid requests: {simulator.errors}"


async def answer(simulator: BotApiSimulator, chat_id: int) -> list[SentMessage]:
    """What the bot said in the chat since last asked, once it is quiet."""
    await simulator.wait_idle(quiet=0.15, timeout=20)
    return simulator.new_messages(chat_id)


def documents(simulator: BotApiSimulator, chat_id: int) -> list[SentMessage]:
    return [m for m in simulator.messages(chat_id) if m.kind == "document"]


async def next_document(simulator: BotApiSimulator, chat_id: int) -> SentMessage:
    """The next file sent to the chat (made in another process: it takes a moment)."""
    before = len(documents(simulator, chat_id))
    await simulator.wait_until(lambda: len(documents(simulator, chat_id)) > before, 30)
    return documents(simulator, chat_id)[before]


def csv_refs(data: bytes) -> list[str]:
    return [row[0] for row in csv.reader(io.StringIO(data.decode("utf-8-sig")))
            if REF.match(row[0])]


def xlsx_refs(data: bytes) -> list[str]:
    book = openpyxl.load_workbook(io.BytesIO(data), read_only=True)
    return sorted(str(cell) for sheet in book.worksheets
                  for row in sheet.iter_rows(values_only=True) for cell in row
                  if isinstance(cell, str) and REF.match(cell))


def audited(database: Path) -> list[tuple[int, str]]:
    with sqlite3.connect(database) as db:
        return db.execute("SELECT actor_user_id, district FROM audit_log WHERE action = 'export'"
                          " ORDER BY id").fetchall()


# --- on schedule -----------------------------------------------------------------------------

async def test_scheduled_files_and_reminders_arrive_and_a_restart_sends_nothing_twice(
        simulator: BotApiSimulator, tmp_path: Path) -> None:
    for chat in (OFFICER, MODERATOR, ADMIN):
        simulator.add_chat(chat, "private")
    timetable, deadline = reminder_due_now()
    forum = await start_forum(simulator, tmp_path, schedule_due_now('["csv", "xlsx"]') + deadline,
                              timetable)
    try:
        await simulator.wait_until(lambda: len(documents(simulator, OFFICER)) == 4
                                   and simulator.messages(MODERATOR) != []
                                   and simulator.messages(ADMIN) != [], timeout=30)
        files = {m.filename: m.document or b"" for m in documents(simulator, OFFICER)}
        # one file per district of the officer's export duty and format: never NHO
        assert sorted(files) == ["kien-nghi-DHA-2023.csv", "kien-nghi-DHA-2023.xlsx",
                                 "kien-nghi-KTM-2023.csv", "kien-nghi-KTM-2023.xlsx"]
        assert csv_refs(files["kien-nghi-DHA-2023.csv"]) == ["DHA-0001", "DHA-0002"]
        assert xlsx_refs(files["kien-nghi-DHA-2023.xlsx"]) == ["DHA-0001", "DHA-0002"]
        assert csv_refs(files["kien-nghi-KTM-2023.csv"]) == ["KTM-0001"]
        assert xlsx_refs(files["kien-nghi-KTM-2023.xlsx"]) == ["KTM-0001"]
        caption = documents(simulator, OFFICER)[0].plain
        assert "lịch hằng tuần" in caption and "weekly" in caption

        reminder = texts(simulator.messages(MODERATOR))
        assert "Còn 1 ngày đến hạn: Hạn thử nghiệm" in reminder
        assert "Còn 2 ý kiến chờ duyệt" in reminder and "Test deadline" in reminder
        assert "Còn 3 ý kiến chờ duyệt" in texts(simulator.messages(ADMIN))
        assert sorted(audited(forum.database)) == [(OFFICER, "DHA"), (OFFICER, "DHA"),
                                                   (OFFICER, "KTM"), (OFFICER, "KTM")]

        # a restart keeps the schedule: the runs were recorded, nothing is sent again
        await forum.bot.stop()
        await forum.bot.start()
        await asyncio.sleep(2)
        await simulator.wait_idle(quiet=0.5, timeout=20)
        assert len(documents(simulator, OFFICER)) == 4
        assert len(simulator.messages(MODERATOR)) == 1 and len(simulator.messages(ADMIN)) == 1
    finally:
        await forum.bot.stop()
    assert simulator.errors == [], f"the bot sent invalid requests: {simulator.errors}"
    with sqlite3.connect(forum.database) as db:
        outcomes = db.execute("SELECT stream, district, format, outcome FROM deliveries"
                              " WHERE outcome != 'forbidden' ORDER BY 1, 2, 3").fetchall()
    assert outcomes == [
        (f"export:{OFFICER}", "DHA", "csv", "sent"), (f"export:{OFFICER}", "DHA", "xlsx", "sent"),
        (f"export:{OFFICER}", "KTM", "csv", "sent"), (f"export:{OFFICER}", "KTM", "xlsx", "sent"),
        ("reminders", "*", "reminder", "sent"), ("reminders", "*", "reminder", "sent")]


async def test_a_failed_send_is_retried(simulator: BotApiSimulator, tmp_path: Path) -> None:
    # The officer's chat is unknown to the simulator at first: sendDocument fails.
    forum = await start_forum(simulator, tmp_path, schedule_due_now('["csv"]', '["DHA"]'))
    try:
        await simulator.wait_until(lambda: any(
            method == "sendDocument" for method, _, _ in simulator.undelivered), timeout=30)
        simulator.add_chat(OFFICER, "private")
        await simulator.wait_until(lambda: len(documents(simulator, OFFICER)) == 1, timeout=30)
    finally:
        await forum.bot.stop()
    assert simulator.errors == []
    assert {(method, problem) for method, _, problem in simulator.undelivered} == {
        ("sendDocument", "Bad Request: chat not found")}
    with sqlite3.connect(forum.database) as db:
        sent = db.execute("SELECT district FROM deliveries WHERE outcome = 'sent'").fetchall()
        # the outbox holds the attempts: one failure, then the file went out
        outbox = db.execute("SELECT state, attempts, last_error FROM outbox WHERE chat_id = ?"
                            " AND state = 'sent'", (OFFICER,)).fetchall()
    assert sent == [("DHA",)]
    assert outbox == [("sent", 1, "Chat not found")]
    assert "waits 1s (Chat not found)" in (tmp_path / "bot.log").read_text(encoding="utf-8")


# --- /export in chat -----------------------------------------------------------------------

async def test_an_officer_exports_in_chat_within_their_districts(chat_forum: Forum) -> None:
    simulator = chat_forum.simulator
    officer = Child(simulator, OFFICER)
    menu = (await officer.say("/export"))[-1]
    labels = [label for label, _ in menu.buttons()]
    assert labels == ["Thành phố Kon Tum", "Huyện Đắk Hà", "🗂 Tất cả huyện của bạn"]
    await officer.tap("Huyện Đắk Hà")
    await officer.tap("Excel")
    await officer.tap("⬜ chờ duyệt")
    await officer.tap("Tiếp")
    await officer.tap("Năm diễn đàn 2023")
    assert "Đang tạo tệp" in simulator.messages(OFFICER)[-1].plain  # the pressed one, edited
    document = await next_document(simulator, OFFICER)
    assert document.filename == "kien-nghi-DHA-2023.xlsx"
    assert xlsx_refs(document.document or b"") == ["DHA-0001", "DHA-0002", "DHA-0003"]
    assert "Trạng thái: đã duyệt, chờ duyệt" in document.plain

    await officer.say("/export")
    await officer.tap("🗂 Tất cả")
    await officer.tap("CSV")
    await officer.tap("Tiếp")
    await officer.tap("Mọi thời gian")
    document = await next_document(simulator, OFFICER)
    assert document.filename == "kien-nghi-tat-ca-moi-thoi-gian.csv"
    assert sorted(csv_refs(document.document or b"")) == ["DHA-0001", "DHA-0002", "KTM-0001"]
    assert audited(chat_forum.database) == [(OFFICER, "DHA"), (OFFICER, "KTM"), (OFFICER, "DHA")]

    # the state is in the button: a press on a message too old to edit carries on in a new one
    simulator.press(OFFICER, 9999, "x|KTM|docx|ap")
    carried = await answer(simulator, OFFICER)
    assert "Huyện: Thành phố Kon Tum" in texts(carried) and "Trạng thái: đã duyệt, chờ duyệt" \
        in texts(carried)
    assert carried[-1].buttons()[0][0] == "Năm diễn đàn 2023"
    assert [problem for _, _, problem in simulator.errors] == [
        "Bad Request: message to edit not found"]
    simulator.errors.clear()  # expected: the edit came first


async def test_export_is_refused_outside_the_export_duty(chat_forum: Forum) -> None:
    simulator = chat_forum.simulator
    for user_id in (STRANGER, MODERATOR):  # a child; a moderator without the export duty
        person = Child(simulator, user_id)
        assert "Mình chưa hiểu lệnh này" in texts(await person.say("/export"))
    simulator.press(STRANGER, 1, "x|DHA|csv|a|y")  # forged: answered as any unknown button
    forged = texts(await answer(simulator, STRANGER))
    simulator.press(STRANGER, 1, "nonsense")
    assert forged == texts(await answer(simulator, STRANGER))

    officer = Child(simulator, OFFICER)
    menu = (await officer.say("/export"))[-1]
    simulator.press(OFFICER, menu.message_id, "x|NHO|csv|a|y")  # forged: outside DHA, KTM
    assert "không thuộc phạm vi của bạn" in texts(await answer(simulator, OFFICER))
    simulator.press(OFFICER, menu.message_id, "x|DHA|pdf")  # forged: no such format
    assert "không dùng được nữa" in texts(await answer(simulator, OFFICER))
    assert all(m.kind != "document" for user in (STRANGER, MODERATOR, OFFICER)
               for m in simulator.messages(user))
    assert audited(chat_forum.database) == []


# --- earlier forum years in a commune config ---------------------------------------------------

EARLIER = [(2023, "DHA"), (2023, "DHA"), (2023, "STH"), (2026, "MORAI"), (2026, "DLONG")]


def xlsx_summary(data: bytes) -> list[tuple[object, ...]]:
    book = openpyxl.load_workbook(io.BytesIO(data))
    return list(book["Tổng hợp"].iter_rows(values_only=True))


async def test_an_officer_exports_the_2023_forum_by_its_districts_from_a_commune_config(
        simulator: BotApiSimulator, tmp_path: Path) -> None:
    """Forums are held by commune now; the 2023 forum was held by district. The whole
    province's officer chooses the year first, then that year's areas; "all" and "all time"
    give what `childforum export --district all` gives: every area's proposals."""
    from tests.test_areas import approved

    database = tmp_path / "forum.sqlite3"
    db = await open_database(database)
    for update_id, (year, area) in enumerate(EARLIER, 1):
        await approved(db, year, area, f"Kiến nghị số {update_id}", update_id)
    await db.close()
    config = write_config(tmp_path / "config.toml", simulator, database,
                          example="config.communes.example.toml")
    bot = BotProcess(simulator, config, tmp_path / "bot.log")
    await bot.start()
    try:
        admin = Child(simulator, ADMIN)  # the example's admin: the whole province
        asked = (await admin.say("/export"))[-1]
        assert "Chọn năm diễn đàn" in asked.plain
        assert [label for label, _ in asked.buttons()] == ["Năm 2026 (cấp xã)",
                                                           "Năm 2023 (cấp huyện)"]
        shown = texts(await admin.tap("Năm 2023"))
        assert "Chọn huyện:" in shown and "Diễn đàn: Năm 2023 (cấp huyện)" in shown
        assert [label for label, _ in admin.latest_keyboard().buttons()] == [
            "Huyện Đắk Hà", "Huyện Sa Thầy", "🗂 Tất cả huyện của bạn"]
        await admin.tap("🗂 Tất cả")
        await admin.tap("Excel")
        await admin.tap("Tiếp")
        assert [label for label, _ in admin.latest_keyboard().buttons()] == [
            "Năm diễn đàn 2023", "Mọi thời gian"]  # no "last 30 days" of a past forum
        await admin.tap("Năm diễn đàn 2023")
        document = await next_document(simulator, ADMIN)
        assert document.filename == "kien-nghi-tat-ca-2023.xlsx"
        data = document.document or b""
        assert xlsx_refs(data) == ["DHA-0001", "DHA-0002", "STH-0001"]
        summary = xlsx_summary(data)
        assert summary[1][:2] == ("Đơn vị:", "Huyện Đắk Hà, Huyện Sa Thầy")
        assert [row[-1] for row in summary if row[1] == "Tổng cộng"] == [3, 3]

        # 2026, all communes, all time: the 2023 districts' proposals too, as on the command line
        await admin.say("/export")
        await admin.tap("Năm 2026")
        assert "Chọn xã, phường:" in simulator.messages(ADMIN)[-1].plain
        await admin.tap("🗂 Tất cả xã, phường")
        await admin.tap("CSV")
        await admin.tap("Tiếp")
        await admin.tap("Mọi thời gian")
        document = await next_document(simulator, ADMIN)
        rows = csv.DictReader(io.StringIO((document.document or b"").decode("utf-8-sig")))
        assert sorted(row["Mã kiến nghị"] for row in rows) == [
            "DHA-0001", "DHA-0002", "DLONG-0001", "MORAI-0001", "STH-0001"]

        # one district of 2023, its report: of that year only (no "all time" for a report)
        await admin.say("/export")
        await admin.tap("Năm 2023")
        await admin.tap("Huyện Đắk Hà")
        await admin.tap("Word")
        await admin.tap("Tiếp")
        assert [label for label, _ in admin.latest_keyboard().buttons()] == [
            "Năm diễn đàn 2023"]
        await admin.tap("Năm diễn đàn 2023")
        document = await next_document(simulator, ADMIN)
        assert document.filename == "kien-nghi-DHA-2023.docx"
        report = "\n".join(p.text for p in docx.Document(io.BytesIO(document.document or b""))
                           .paragraphs)
        assert "Diễn đàn trẻ em huyện Đắk Hà năm 2023" in report
        assert "DHA-0002" in report and "MORAI" not in report
    finally:
        await bot.stop()
    assert simulator.errors == [], f"the bot sent invalid requests: {simulator.errors}"
    logged = [code for _, code in audited(database)]
    assert logged[:2] == ["DHA", "STH"] and logged[-1] == "DHA"  # the 2023 files' areas
    assert {"DHA", "STH", "MORAI", "DLONG"} <= set(logged)
