"""The answer loop end to end: the real bot process, the simulator, a real SQLite file.

An officer gets the answers workbook in chat, fills it, sends it back, confirms the dry run and
publishes; every child and the facilitator hear back in their language, a blocked child is
marked unreachable, a 429 is waited out, an erased child hears nothing, 👍 is counted and /my
shows the answer. Then the same with a SIGKILL in the middle of sending, and the /answer card.
"""

from __future__ import annotations

import asyncio
import io
import sqlite3
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path

import openpyxl
import pytest

from bot.answers.sheet import COLUMNS
from bot.conversation.engine import State
from bot.conversation.service import state_to_row
from bot.simulator import BotApiSimulator
from storage import children, proposals
from storage.db import open_database
from tests.e2e import BotProcess, Child, texts, write_config

OFFICER, ADMIN = 345678901, 123456789  # ADMIN: config.example.toml, whole province
STAFF = f"""
[[staff]]
user_id = {OFFICER}
role = "officer"
districts = ["DHA"]
"""
# chat, language, facilitator?  -> DHA-0001 ... DHA-0005, all approved
SENDERS = [(601, "vi", False), (602, "en", False), (603, "vi", False), (604, "vi", False),
           (605, "vi", True)]
WHERE = {column.header: index + 1 for index, column in enumerate(COLUMNS)}


@dataclass(frozen=True)
class Forum:
    simulator: BotApiSimulator
    bot: BotProcess
    database: Path


async def seed(database: Path, simulator: BotApiSimulator) -> None:
    db = await open_database(database)
    async with db.transaction() as tx:
        for update_id, (chat, lang, facilitator) in enumerate(SENDERS, 1):
            state = State(profile={"district": "DHA", "lang": lang, "age_band": "10-12",
                                   "gender": "female"}, profile_queue=(),
                          facilitator=facilitator)
            await children.save(tx, state_to_row(chat, state))
            new = proposals.NewProposal(
                chat_id=chat, forum_year=2023, district="DHA", topic="injuries",
                age_band="10-12", gender="female", seen="Suối sâu",
                proposal=f"Làm rào chắn ở bến sông số {chat}", actors="commune", message="",
                lang="vi", needs_translation=False, source_update_id=update_id,
                group_size=12 if facilitator else None)
            await proposals.insert(tx, new)
            simulator.add_chat(chat, "private")
        await tx.execute("UPDATE proposals SET status = 'approved'")
    await db.close()
    simulator.add_chat(OFFICER, "private")


@pytest.fixture
async def forum(simulator: BotApiSimulator, tmp_path: Path,
                request: pytest.FixtureRequest) -> AsyncIterator[Forum]:
    database = tmp_path / "forum.sqlite3"
    await seed(database, simulator)
    changes = {"flood_messages = 20": "flood_messages = 500"}
    if "paced" in request.keywords:  # notices two a second, everything else unlimited
        changes.update({"messages_per_second = 30": "messages_per_second = 1000",
                        "notices_per_second = 25": "notices_per_second = 2",
                        "chat_burst = 5": "chat_burst = 1000"})
    config = write_config(tmp_path / "config.toml", simulator, database, STAFF, changes)
    if "paced" in request.keywords:
        text = config.read_text(encoding="utf-8").replace("rate_limit = false",
                                                          "rate_limit = true")
        config.write_text(text, encoding="utf-8")
    bot = BotProcess(simulator, config, tmp_path / "bot.log")
    await bot.start()
    yield Forum(simulator, bot, database)
    await bot.stop()


def rows(database: Path, sql: str, *params: object) -> list[tuple[object, ...]]:
    with sqlite3.connect(database) as db:
        return db.execute(sql, params).fetchall()


def filled(workbook: bytes) -> bytes:
    book = openpyxl.load_workbook(io.BytesIO(workbook))
    sheet = book["Trả lời"]
    for row in range(2, sheet.max_row + 1):
        ref = sheet.cell(row, 1).value
        if ref == "DHA-0002":
            values = {"Kết quả": "Chưa thể thực hiện", "Nội dung trả lời": "Năm nay chưa làm được.",
                      "Nội dung trả lời (tiếng Anh)": "Not this year.",
                      "Lý do (nếu chưa thể thực hiện)": "Thiếu kinh phí",
                      "Giải pháp / lộ trình (nếu chưa thể thực hiện)": "Kế hoạch năm 2025"}
        else:
            values = {"Kết quả": "Đã thực hiện", "Nội dung trả lời": f"Xã đã làm rào ({ref}).",
                      "Cơ quan chủ trì": "UBND xã"}
        for header, value in values.items():
            sheet.cell(row, WHERE[header], value)
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


async def test_workbook_in_chat_then_publish_tells_every_child_once(forum: Forum) -> None:
    simulator, database = forum.simulator, forum.database
    officer = Child(simulator, OFFICER)
    workbook = await officer.file_after("/answers")
    assert workbook.filename == "tra-loi-kien-nghi-2023.xlsx"
    # It holds the children's words: in the audit log as an export is.
    assert rows(database, "SELECT actor_user_id, action, item_type FROM audit_log"
                          " WHERE action = 'answers_workbook'") != []
    simulator.send_document(OFFICER, filled(workbook.document or b""), "tra-loi.xlsx")
    checked = texts(await officer._settle())
    assert "5 trả lời mới" in checked and "Nhập" in checked
    assert rows(database, "SELECT count(*) FROM answers") == [(0,)]  # a dry run only
    dry_run = officer.latest_keyboard()
    go = dry_run.buttons()[0][1]
    await officer.tap("✅ Nhập")  # the workbook is read again off the event loop: on a busy
    # machine its answer may come after the bot looked idle
    await simulator.wait_until(
        lambda: "Đã nhập: 5 trả lời mới" in texts(simulator.messages(OFFICER)), timeout=30)
    simulator.press(OFFICER, dry_run.message_id, go)  # pressed again
    assert "đã được nhập" in texts(await officer._settle())
    assert rows(database, "SELECT count(*) FROM answers") == [(5,)]

    # Before publishing: 604 erases everything, 603 blocked the bot, 602's chat is rate limited.
    child604 = Child(simulator, 604)
    await child604.say("/delete")
    await child604.tap("Xóa hết")
    simulator.blocked.add(603)
    simulator.fail_next(602, 429, retry_after=2)
    await officer.say("/publish")
    await officer.tap("Huyện Đắk Hà")
    confirm = officer.latest_keyboard()
    confirm_data = confirm.buttons()[0][1]
    done = texts(await officer.tap("📣 Công bố 4"))
    assert "Đã công bố 4 trả lời; 4 trẻ em" in done
    # the same confirm pressed again: nothing left to publish, nobody told twice
    simulator.press(OFFICER, confirm.message_id, confirm_data)
    again = texts(await officer._settle())
    assert "Không có trả lời nháp nào để công bố." in again and " ." not in again

    await simulator.wait_until(lambda: bool(simulator.messages(602)), timeout=20)
    await simulator.wait_idle(quiet=0.5)
    vi, en, adult = (texts(simulator.messages(chat)) for chat in (601, 602, 605))
    assert "Ý kiến DHA-0001 của em đã có trả lời" in vi and "Đã thực hiện" in vi
    assert "Xã đã làm rào (DHA-0001)" in vi and "bến sông số 601" in vi
    assert "Your proposal DHA-0002 has an answer" in en and "Not this year." in en
    assert "Why not yet: Thiếu kinh phí" in en and "Kế hoạch năm 2025" in en
    assert "thầy cô" in adult and "của em" not in adult
    assert not any("có trả lời" in m.plain for m in simulator.messages(604))
    states = dict(rows(database, "SELECT chat_id, state FROM outbox WHERE kind = 'notice'"))
    assert states == {601: "sent", 602: "sent", 603: "unreachable", 605: "sent"}
    for chat in (601, 602, 605):
        assert sum("trả lời" in m.plain or "answer" in m.plain
                   for m in simulator.messages(chat)) == 1

    child = Child(simulator, 601)
    thanks = texts(await child.tap("👍"))
    assert "Cảm ơn em" in thanks
    assert rows(database, "SELECT feedback FROM answer_notices WHERE chat_id = 601") == [("up",)]
    mine = texts(await child.say("/my"))
    assert "DHA-0001" in mine and "↳ Đã thực hiện: Xã đã làm rào (DHA-0001)." in mine
    await officer.say("/stats")  # the chart takes a moment: wait for the text
    await simulator.wait_until(lambda: any("Trả lời kiến nghị" in m.plain
                                           for m in simulator.messages(OFFICER)), timeout=20)
    stats = next(m.plain for m in simulator.messages(OFFICER) if "Trả lời kiến nghị" in m.plain)
    answers = stats.split("Trả lời kiến nghị", 1)[1].splitlines()
    line = next(line for line in answers if line.startswith("• Huyện Đắk Hà · "))
    # 604's proposal went with them; 603 blocked the bot (not told); 601 pressed 👍
    assert line.endswith(": 4 · trả lời 4 (100%) · thực hiện 3 (75%) · đã báo 3 (75%)"
                         " · 👍 1/1 (100%)"), line
    simulator.errors.clear()  # the 403, the 429 and the replayed press were on purpose


async def test_publish_one_topic_or_typed_refs(forum: Forum) -> None:
    simulator, database = forum.simulator, forum.database
    with sqlite3.connect(database) as db:
        db.execute("UPDATE proposals SET topic = 'online' WHERE ref IN ('DHA-0004', 'DHA-0005')")
        db.executemany("INSERT INTO answers (proposal_id, version, state, text_vi, answered_by,"
                       " answered_at) SELECT id, 1, 'implemented', 'Đã làm.', ?, ? FROM"
                       " proposals WHERE ref = ?", [(OFFICER, "2024-01-01T00:00:00+00:00", ref)
                                                    for ref in ("DHA-0001", "DHA-0002",
                                                                "DHA-0004", "DHA-0005")])
    officer = Child(simulator, OFFICER)
    await officer.say("/publish")
    confirm = texts(await officer.tap("Huyện Đắk Hà"))
    assert "Công bố <b>4</b>" in confirm or "Công bố 4" in confirm
    labels = [label for label, _ in officer.latest_keyboard().buttons()]
    assert labels == ["📣 Công bố 4 trả lời", "Chỉ chủ đề TNTT, đuối nước, giao thông (2)",
                      "Chỉ chủ đề An toàn trên mạng (2)"], labels  # in the topics' order
    only = texts(await officer.tap("Chỉ chủ đề An toàn"))
    assert "An toàn trên mạng" in only
    assert "Đã công bố 2 trả lời" in texts(await officer.tap("📣 Công bố 2"))
    published = rows(database, "SELECT p.ref FROM answers a JOIN proposals p ON p.id ="
                               " a.proposal_id WHERE a.published_at IS NOT NULL ORDER BY p.ref")
    assert published == [("DHA-0004",), ("DHA-0005",)]
    by_code = texts(await officer.say("/publish dha"))  # an area's code: its count, to confirm
    assert "Huyện Đắk Hà" in by_code and ("Công bố <b>2</b>" in by_code
                                          or "Công bố 2" in by_code), by_code
    elsewhere = texts(await officer.say("/publish ktm"))  # an area not theirs: said so
    assert "Thành phố Kon Tum ngoài phạm vi của bạn" in elsewhere, elsewhere
    assert "Đã công bố 1 trả lời" in texts(await officer.say("/publish dha-0002"))
    assert "Không có trả lời nháp" in texts(await officer.say("/publish DHA-0002"))
    assert rows(database, "SELECT count(*) FROM answers WHERE published_at IS NULL") == [(1,)]


@pytest.mark.paced
async def test_a_kill_in_the_middle_of_sending_answers_doubles_nothing(forum: Forum) -> None:
    """Notices go two a second here: the kill lands between two of them."""
    simulator, database = forum.simulator, forum.database
    officer = Child(simulator, OFFICER)
    workbook = await officer.file_after("/answers")
    simulator.send_document(OFFICER, filled(workbook.document or b""), "tra-loi.xlsx")
    await officer._settle()
    await officer.tap("✅ Nhập")
    await officer.say("/publish")
    await officer.tap("Huyện Đắk Hà")
    await officer.tap("📣 Công bố")
    await simulator.wait_until(lambda: sum(bool(simulator.messages(chat))
                                           for chat, _, _ in SENDERS) == 2, timeout=20)
    await asyncio.sleep(0.1)  # the second was recorded; the third waits for its turn
    forum.bot.kill()
    await forum.bot.process.wait()  # type: ignore[union-attr]
    assert sum(bool(simulator.messages(chat)) for chat, _, _ in SENDERS) == 2
    await forum.bot.start()
    await simulator.wait_until(lambda: all(simulator.messages(chat) for chat, _, _ in SENDERS),
                               timeout=30)
    await simulator.wait_idle(quiet=0.5)
    for chat, _, _ in SENDERS:
        notices = [m for m in simulator.messages(chat) if m.buttons()]
        assert len(notices) == 1, (chat, [m.plain for m in simulator.messages(chat)])
    assert rows(database, "SELECT count(*) FROM outbox WHERE kind = 'notice' AND state != 'sent'"
                ) == [(0,)]


async def test_the_answer_card_in_chat_and_two_officers_at_once(forum: Forum) -> None:
    simulator, database = forum.simulator, forum.database
    officer, admin = Child(simulator, OFFICER), Child(simulator, ADMIN)
    card = texts(await officer.say("/answer dha-0003"))
    assert "Trả lời kiến nghị DHA-0003" in card and "Chưa có trả lời" in card
    await officer.tap("Đang thực hiện")
    # A menu's number typed where the answer's words were asked is refused, asked again (a
    # tester's "1" was saved as the answer to publish, the words typed next lost).
    assert "cần có chữ" in texts(await officer.say("1"))
    assert rows(database, "SELECT count(*) FROM answers") == [(0,)]
    asked = texts(await officer.say("Xã sẽ làm rào trong quý III."))
    assert "Đã lưu bản nháp" in asked and "Bản nháp" in asked
    await officer.tap("✏️ Chủ trì")
    await officer.say("UBND xã Hà Mòn")
    assert rows(database, "SELECT state, agency FROM answers") == [("in_progress",
                                                                     "UBND xã Hà Mòn")]
    # The admin opens the card, the officer changes it, the admin presses on the old card.
    await admin.say("/answer DHA-0003")
    stale = admin.latest_keyboard()
    await officer.tap("Đã thực hiện")
    state_button = next(data for label, data in stale.buttons() if label == "Chưa thể thực hiện")
    simulator.press(ADMIN, stale.message_id, state_button)
    told = texts(await admin._settle())
    assert f"Người dùng {OFFICER} vừa sửa" in told
    assert rows(database, "SELECT state FROM answers") == [("implemented",)]
    published = texts(await officer.tap("📣 Công bố"))
    assert "Đã công bố trả lời DHA-0003; 1 người" in published
    await simulator.wait_until(lambda: bool(simulator.messages(603)), timeout=20)
    assert "Đã thực hiện" in texts(simulator.messages(603))
    # Both open a proposal with no answer yet and both type a first answer: the second is told.
    await officer.say("/answer DHA-0004")
    await admin.say("/answer DHA-0004")
    await officer.tap("Đã thực hiện")
    await admin.tap("Đang thực hiện")
    await officer.say("Xã đã làm rào.")
    told = texts(await admin.say("Xã sẽ làm rào."))
    assert f"Người dùng {OFFICER} vừa sửa" in told
    assert rows(database, "SELECT a.text_vi FROM answers a JOIN proposals p"
                          " ON p.id = a.proposal_id WHERE p.ref = 'DHA-0004'") == [
        ("Xã đã làm rào.",)]
    # Answered at the forum: recorded as given at the forum, not by a document.
    await officer.say("/answer DHA-0001")
    await officer.tap("Đã trả lời tại Diễn đàn")
    await officer.say("Đã trả lời tại Diễn đàn huyện.")
    assert rows(database, "SELECT a.state, a.how FROM answers a JOIN proposals p"
                          " ON p.id = a.proposal_id WHERE p.ref = 'DHA-0001'") == [
        ("answered_at_forum", "forum")]
    # Not an officer: /answer is an unknown command for a child.
    assert "Mình chưa hiểu lệnh này" in texts(await Child(simulator, 601).say("/answer DHA-0001"))
    outbox = rows(database, "SELECT payload FROM outbox WHERE chat_id = 603 AND kind='notice'")
    assert outbox == [(None,)]  # sent: the words are gone from the table


BIG_ROWS = 30_000  # a few seconds to read, as a district's whole year can be


def padded(workbook: bytes, rows: int) -> bytes:
    """`workbook` with `rows` more proposals left unanswered (read, counted, left as they are):
    a big workbook that still passes its check."""
    book = openpyxl.load_workbook(io.BytesIO(workbook))
    sheet = book["Trả lời"]
    words = "Các em mong có rào chắn và biển báo ở bến suối gần trường " * 3
    for number in range(rows):
        sheet.append([f"DHA-{number + 10_000}", 2023, "Huyện Đắk Hà", "Tai nạn thương tích",
                      "Trẻ em", words])
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


async def test_a_big_workbook_is_read_while_children_are_answered(forum: Forum) -> None:
    """A workbook takes seconds to read; it is read before its update's write transaction (and
    a Confirm's before the Confirm's), so another chat's update is answered meanwhile."""
    simulator, database = forum.simulator, forum.database
    officer = Child(simulator, OFFICER)
    workbook = await officer.file_after("/answers")
    big = padded(filled(workbook.document or b""), BIG_ROWS)
    simulator.add_chat(777, "private")
    simulator.add_chat(778, "private")

    async def child_answered_before_officer(child: int, officer_had: int) -> None:
        await simulator.wait_until(lambda: bool(simulator.messages(child)), timeout=60)
        assert len(simulator.messages(OFFICER)) == officer_had, "the child waited for the workbook"

    had = len(simulator.messages(OFFICER))
    simulator.send_document(OFFICER, big, "tra-loi.xlsx")
    await simulator.wait_until(lambda: any(name == "getFile" for name, _ in simulator.requests),
                               timeout=20)
    await asyncio.sleep(0.5)  # downloaded; being read
    simulator.send_text(777, "/start")
    await child_answered_before_officer(777, had)
    await simulator.wait_until(lambda: len(simulator.messages(OFFICER)) > had, timeout=120)
    checked = texts(simulator.messages(OFFICER)[had:])
    assert "5 trả lời mới" in checked and f"{BIG_ROWS} hàng chưa có trả lời" in checked, checked
    assert rows(database, "SELECT count(*) FROM answers") == [(0,)]  # a dry run only
    assert rows(database, "SELECT count(*) FROM answer_imports") == [(1,)]

    dry_run = officer.latest_keyboard()
    go = dry_run.buttons()[0][1]
    had = len(simulator.messages(OFFICER))
    simulator.press(OFFICER, dry_run.message_id, go)  # ✅ Nhập
    await asyncio.sleep(0.5)  # being read again
    simulator.send_text(778, "/start")
    await child_answered_before_officer(778, had)
    await simulator.wait_until(
        lambda: "Đã nhập: 5 trả lời mới" in texts(simulator.messages(OFFICER)), timeout=120)
    assert rows(database, "SELECT count(*) FROM answers") == [(5,)]
    simulator.press(OFFICER, dry_run.message_id, go)  # pressed again
    await simulator.wait_until(lambda: "đã được nhập" in texts(simulator.messages(OFFICER)),
                               timeout=60)
    assert rows(database, "SELECT count(*) FROM answers") == [(5,)]


def _draft(database: Path, ref: str, state: str, text: str) -> None:
    """A draft answer saved by someone else meanwhile (a colleague's /answer)."""
    with sqlite3.connect(database) as db:
        db.execute("INSERT INTO answers (proposal_id, version, state, text_vi, answered_by,"
                   " answered_at, reason, solution) SELECT id, 1, ?, ?, 1,"
                   " '2024-01-01T00:00:00+00:00', 'Thiếu kinh phí', 'Năm sau' FROM proposals"
                   " WHERE ref = ?", (state, text, ref))


async def test_publish_publishes_only_the_drafts_the_officer_confirmed(forum: Forum) -> None:
    """The button says "📣 Publish 1": a draft a colleague saves before it is pressed is not
    published with it (nor sent to a child); the officer is shown the count again."""
    simulator, database = forum.simulator, forum.database
    _draft(database, "DHA-0001", "implemented", "Đã làm rào chắn.")
    officer = Child(simulator, OFFICER)
    await officer.say("/publish")
    assert "Công bố 1 trả lời" in texts(await officer.tap("Huyện Đắk Hà"))
    _draft(database, "DHA-0002", "not_yet", "NHÁP CHƯA XONG")
    again = texts(await officer.tap("📣 Công bố 1"))
    assert "đã thay đổi" in again and "Chưa công bố gì" in again
    assert rows(database, "SELECT count(*) FROM answers WHERE published_at IS NOT NULL") == [
        (0,)]
    done = texts(await officer.tap("📣 Công bố 2"))
    assert "Đã công bố 2 trả lời" in done and "yên lặng" not in done  # tests: no quiet hours
    await simulator.wait_idle(quiet=0.5)
    assert rows(database, "SELECT count(*) FROM answers WHERE published_at IS NOT NULL") == [
        (2,)]

