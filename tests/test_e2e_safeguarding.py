"""Safeguarding end to end: 🆘 and /sos from anywhere, "is this happening?" before sending, a
message that needs a look held silently, and the case worked by a person who writes to the child.
The real bot process, the simulator, a real SQLite file.
"""

from __future__ import annotations

import sqlite3
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from bot.simulator import BotApiSimulator
from tests.e2e import BotProcess, Child, texts
from tests.test_e2e_staff import MOD, SAFE, STAFF, running_bot

HOTLINE = "111"


def query(database: Path, sql: str, *params: object) -> list[tuple[object, ...]]:
    with sqlite3.connect(database) as db:
        return db.execute(sql, params).fetchall()


@pytest.fixture
async def forum(simulator: BotApiSimulator, database: Path,
                tmp_path: Path) -> AsyncIterator[BotProcess]:
    async with running_bot(simulator, database, tmp_path, STAFF) as process:
        for staff in (SAFE, MOD):  # they opened the bot: it may write to them
            await Child(simulator, staff).say("/cases")
        yield process


async def test_help_now_from_the_menu_a_step_and_a_command(
        simulator: BotApiSimulator, forum: BotProcess, database: Path) -> None:
    child = Child(simulator, 901)
    await child.register()
    menu = simulator.messages(901)[-1]
    assert any(label.startswith("🆘") for label, _ in menu.buttons())
    first = texts(await child.tap("🆘"))
    assert HOTLINE in first and "nhắn tin cho em ở đây" in first
    alert = texts(simulator.new_messages(SAFE))
    assert "#1" in alert and "Huyện Đắk Hà" in alert
    shown = await child.tap("Có, nhắn cho em")
    assert "sẽ nhắn cho em" in texts(shown)
    assert query(database, "SELECT source, tier, wants_contact FROM cases") == [("sos", 1, 1)]

    # Mid-question: the step's own 🆘, then /sos typed; the draft is kept each time.
    await child.tap("1.")
    await child.say("Người lớn hay quát mắng trẻ em")
    assert HOTLINE in texts(await child.tap("🆘"))
    back = texts(await child.tap("Không, cảm ơn"))
    assert "câu 2/4" in back  # where the child was
    assert HOTLINE in texts(await child.say("/sos"))
    assert [row[0] for row in query(database, "SELECT source FROM cases ORDER BY id")] == [
        "sos", "sos", "sos"]
    assert query(database, "SELECT wants_contact FROM cases WHERE id = 2") == [(0,)]


async def test_a_call_for_help_typed_or_under_a_photo_reaches_a_person(
        simulator: BotApiSimulator, forum: BotProcess, database: Path) -> None:
    """"cứu em với" is no disclosure, yet the plainest thing a frightened child types: it is
    answered like 🆘, and never becomes an answer; a disclosure under a photo is read."""
    child = Child(simulator, 905)
    await child.register()
    assert HOTLINE in texts(await child.say("cứu em với"))  # at the topic menu
    await child.tap("Không, cảm ơn")
    await child.tap("1.")
    await child.say("Người lớn hay quát mắng trẻ em")
    assert HOTLINE in texts(await child.say("giup e vs!!"))  # mid-question, chat spelling
    back = texts(await child.tap("Không, cảm ơn"))
    assert "câu 2/4" in back  # the draft kept, the plea not taken as the answer
    assert "Mình chỉ đọc được chữ" in texts(await child.send("photo", caption="hoa đẹp quá"))
    shown = texts(await child.send(
        "photo", caption="chú hàng xóm bắt em cởi quần áo rồi chụp ảnh"))
    assert HOTLINE in shown
    assert [row[0] for row in query(database, "SELECT source FROM cases ORDER BY id")] == [
        "sos", "sos", "detector"]
    assert "cởi quần áo" in str(query(database, "SELECT text FROM cases WHERE id = 3")[0][0])


async def test_a_yes_before_sending_opens_a_case_and_holds_the_proposal(
        simulator: BotApiSimulator, forum: BotProcess, database: Path) -> None:
    child = Child(simulator, 902)
    await child.register()
    await child.tap("1.")
    await child.say("Người lớn hay quát mắng trẻ em")
    await child.say("Mở lớp cho cha mẹ")
    await child.tap("Gia đình")
    await child.tap("✔️")
    asked = texts(await child.tap("⏭"))
    assert "đang xảy ra" in asked
    assert HOTLINE in texts(await child.tap("Có"))
    assert "mã số" not in texts(await child.tap("Có, nhắn cho em"))
    assert "mã số" in texts(await child.tap("✅"))
    ((case_id, proposal_id, told),) = query(
        database, "SELECT id, proposal_id, text FROM cases WHERE source = 'review'")
    assert "quát mắng" in str(told)
    assert query(database, "SELECT held_by_case FROM proposals WHERE id = ?", proposal_id) == [
        (case_id,)]
    mod = Child(simulator, MOD)
    assert "Không còn ý kiến nào" in texts(await mod.say("/queue"))  # held: not in the queue

    # The safeguarding officer writes to the child, then clears the case: the proposal goes on.
    safe = Child(simulator, SAFE)
    await safe.say("/cases")
    await safe.tap(f"Xem #{case_id}")
    assert "Gõ tin nhắn" in texts(await safe.tap("✉️"))
    await safe.say("Chào em, cô là cán bộ bảo vệ trẻ em. Em có an toàn không?")
    heard = texts(simulator.new_messages(902))
    assert "Em có an toàn không?" in heard
    await safe.tap("✅ Đóng: không đáng lo")
    assert "Đã đóng" in texts(await safe.say("Em an toàn; bài viết về lớp học cho cha mẹ"))
    assert query(database, "SELECT held_by_case FROM proposals WHERE id = ?", proposal_id) == [
        (None,)]
    assert "DHA-0001" in texts(await mod.say("/queue"))


async def test_a_message_that_needs_a_look_is_held_without_a_word(
        simulator: BotApiSimulator, forum: BotProcess, database: Path) -> None:
    child = Child(simulator, 903)
    await child.register()
    await child.tap("2.")
    said = texts(await child.say("em o nha mot minh 3 ngay roi"))  # tier 2: a person looks first
    assert HOTLINE not in said and "câu 2/4" in said
    await child.say("Có người lớn đến thăm nhà các bạn")
    await child.tap("Gia đình")
    await child.tap("✔️")
    await child.skip_to_review()
    assert "mã số" in texts(await child.tap("✅"))
    assert query(database, "SELECT source, tier FROM cases") == [("detector", 2)]
    ((held,),) = query(database, "SELECT held_by_case FROM proposals")
    assert held == 1
    assert "#1" in texts(simulator.new_messages(SAFE))  # the alert
    assert "Không còn ý kiến nào" in texts(await Child(simulator, MOD).say("/queue"))
