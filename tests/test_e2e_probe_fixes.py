"""Defects testers found by using the bot as children and staff do (2026-12-01), each through
the real bot process and the simulators: a text typed at "is this happening?", ↩️ after a case
closed or an erasure, a disclosure at the guardian's consent, staff typing /delete, a forged
answer card, /stats longer than a message."""

from __future__ import annotations

import asyncio
import sqlite3
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from bot.simulator import BotApiSimulator, ZaloSimulator
from tests import e2e
from tests.e2e import BotProcess, Child, ZaloPerson, running_bot, texts, write_config, zalo_config
from tests.test_e2e_staff import MOD, SAFE, submit
from tests.test_e2e_staff import STAFF as STAFF_DHA

OFFICER_KTM = 8106
ADMIN = 123456789  # config.example.toml
STAFF = STAFF_DHA + f"""
[[staff]]
user_id = {OFFICER_KTM}
role = "officer"
districts = ["KTM"]
"""
DISCLOSURE = "Chú hàng xóm lại đánh em và dọa không cho em nói với ai"


def q(database: Path, sql: str, *args: object) -> list[tuple[object, ...]]:
    with sqlite3.connect(database) as db:
        return db.execute(sql, args).fetchall()


def draft_of(database: Path, chat: int) -> str:
    return str(q(database, "SELECT state FROM children WHERE chat_id = ?", chat)[0][0])


@pytest.fixture
async def staff_bot(simulator: BotApiSimulator, database: Path,
                    tmp_path: Path) -> AsyncIterator[BotProcess]:
    config = write_config(tmp_path / "config.toml", simulator, database, STAFF,
                          {"flood_messages = 20": "flood_messages = 400"})
    async with e2e.running_bot(simulator, config) as process:
        yield process


async def to_happening(child: Child) -> None:
    await child.register()
    await child.tap("3.")  # online safety asks "is this happening?" before the review
    await child.say("Nhiều bạn chơi game đến khuya")
    await child.say("Bố mẹ nên hướng dẫn con dùng mạng an toàn")
    await child.tap("Gia đình")
    await child.tap("✔️")
    assert "đang xảy ra" in texts(await child.tap("⏭"))


@pytest.mark.parametrize(("typed", "case"), [("Không ạ", False), ("Dạ có", True)])
async def test_a_text_typed_at_the_happening_question_keeps_the_draft(
        simulator: BotApiSimulator, bot: BotProcess, database: Path, typed: str,
        case: bool) -> None:
    child = Child(simulator, 6301)
    await to_happening(child)
    said = texts(await child.say(typed))
    assert "Nhiều bạn chơi game đến khuya" in draft_of(database, 6301), said
    # "yes" as the button: 111 and whether an adult should write; "no": the review
    assert ("111" in said) if case else ("Nhiều bạn chơi game đến khuya" in said), said
    assert q(database, "SELECT count(*) FROM cases WHERE source = 'review'") == [(int(case),)]


async def open_case_with_message(simulator: BotApiSimulator, chat: int) -> tuple[Child, Child]:
    child, safe = Child(simulator, chat), Child(simulator, SAFE)
    await safe.say("/cases")
    await child.register()
    await child.say("/sos")
    await child.tap("Có")
    await safe.say("/cases")
    await safe.tap("Xem #1")
    await safe.tap("✋")
    await safe.tap("✉️")
    await safe.say("Chào em, cô là cán bộ bảo vệ trẻ em. Em có an toàn không?")
    assert "↩️" in str(simulator.messages(chat)[-1].buttons())
    return child, safe


async def test_words_written_back_after_the_case_closed_reach_a_person(
        simulator: BotApiSimulator, staff_bot: BotProcess, database: Path) -> None:
    child, safe = await open_case_with_message(simulator, 6302)
    await child.tap("↩️")
    await safe.say("/cases")
    await safe.tap("Xem #1")
    await safe.tap("✅ Đóng: không đáng lo")
    await safe.say("Em an toàn")
    simulator.new_messages(SAFE)
    told = texts(await child.say(DISCLOSURE))
    assert "Đã gửi" in told and "111" in told
    assert q(database, "SELECT id, state, source, text FROM cases ORDER BY id")[1] == (
        2, "new", "reply", DISCLOSURE)
    await simulator.wait_idle(quiet=0.3, timeout=10)
    assert "#2" in texts(simulator.new_messages(SAFE))  # the staff alerted at once


async def test_an_erasure_ends_the_reply_to_a_case(
        simulator: BotApiSimulator, staff_bot: BotProcess, database: Path) -> None:
    child, _ = await open_case_with_message(simulator, 6303)
    await child.tap("↩️")
    await child.say("/delete")
    await child.tap("Xóa hết")
    assert q(database, "SELECT chat_id FROM staff_prompts WHERE chat_id = 6303") == []
    await child.register()
    await child.tap("2.")
    said = texts(await child.say("Suối gần trường rất sâu"))
    assert "Suối gần trường" in draft_of(database, 6303), said


async def test_a_disclosure_at_the_guardian_question_keeps_the_consent_going(
        simulator: BotApiSimulator, bot: BotProcess, database: Path) -> None:
    child = Child(simulator, 6304)
    await child.say("/start")
    await child.tap("Em đồng ý")
    told = texts(await child.say("Bố em hay đánh em mỗi khi say rượu"))
    assert "111" in told
    after = texts(await child.tap("Có, đã đồng ý"))  # the guardian question, still there
    assert "Nút đó cũ rồi" not in after and "tiếng gì" in after, after


async def test_staff_typing_delete_keeps_an_alert_waiting_for_them(
        simulator: BotApiSimulator, staff_bot: BotProcess, database: Path) -> None:
    safe, child = Child(simulator, SAFE), Child(simulator, 6305)
    await safe.say("/cases")  # the officer's chat is open
    await child.register()
    simulator.fail_next(SAFE, 429, retry_after=3)  # Telegram asks to wait before the alert
    await child.say("/sos")
    simulator.send_text(SAFE, "/delete")
    await asyncio.sleep(5)
    await simulator.wait_idle(quiet=0.5, timeout=20)
    simulator.errors.clear()  # the injected 429
    assert [m.plain for m in simulator.messages(SAFE) if "#1" in m.plain]


async def test_a_forged_answer_button_is_refused_before_anything_is_asked(
        simulator: BotApiSimulator, staff_bot: BotProcess, database: Path) -> None:
    await submit(simulator, 5101, "Huyện Đắk Hà", "2.", "Suối gần trường rất sâu",
                 "Làm rào chắn và dạy bơi cho học sinh")
    moderator = Child(simulator, MOD)
    await moderator.say("/queue")
    await moderator.tap("✅")
    [(proposal_id,)] = q(database, "SELECT id FROM proposals WHERE ref = 'DHA-0001'")
    officer = Child(simulator, OFFICER_KTM)  # an officer of KTM only
    refused = await officer.say("/answer DHA-0001")
    assert "ngoài phạm vi" in texts(refused)
    card = refused[-1].message_id  # a button forged under the officer's own message
    simulator.press(OFFICER_KTM, card, f"n|{proposal_id}|-|state:implemented")
    told = texts(await officer._settle())
    simulator.errors.clear()
    assert "ngoài phạm vi" in told and "Gõ ✏️" not in told, told
    assert q(database, "SELECT count(*) FROM answers") == [(0,)]


@pytest.fixture
async def zalo_bot(simulator: BotApiSimulator, zalo: ZaloSimulator, database: Path,
                   tmp_path: Path) -> AsyncIterator[None]:
    async with running_bot(simulator, zalo_config(tmp_path / "config.toml", simulator, zalo,
                                                  database)):
        yield


async def test_zalo_staff_typing_delete_keep_their_role(
        simulator: BotApiSimulator, zalo: ZaloSimulator, zalo_bot: None) -> None:
    officer = ZaloPerson(zalo, 710)
    said = texts(await officer.say("/id"))
    officer_id = int(said.split("hệ thống: ")[1].split(".")[0])
    assert "Đã cấp quyền" in texts(await Child(simulator, ADMIN).say(
        f"/grant {officer_id} moderator DHA"))
    assert "Không còn ý kiến" in texts(await officer.say("/queue"))
    assert "không giữ thông tin nào" in texts(await officer.say("/delete"))
    assert "Không còn ý kiến" in texts(await officer.say("/queue"))


async def test_zalo_words_at_the_happening_question_keep_the_draft(
        zalo: ZaloSimulator, zalo_bot: None, database: Path) -> None:
    child = ZaloPerson(zalo, 711)
    for typed in ("/start", "1", "1", "1", "3", "2", "4", "3",
                  "Nhieu ban choi game den khuya", "Bo me nen huong dan con dung mang",
                  "1, 3", "bo qua"):
        shown = texts(await child.say(typed))
    assert "đang xảy ra" in shown
    said = texts(await child.say("khong a"))
    assert "choi game" in draft_of(database, 2**53) and "choi game" in said, said


async def test_stats_shows_every_area_and_section_in_as_many_messages_as_needed(
        simulator: BotApiSimulator, bot: BotProcess, database: Path) -> None:
    """Ten districts × five topics × four states: longer than one message; every area and
    every section is there, none cut off."""
    districts = ["KTM", "DGL", "DHA", "DTO", "IHD", "KPL", "KRY", "NHO", "STH", "TMR"]
    topics = ["violence", "injuries", "online", "climate", "labour"]
    stamp = "2023-05-01T00:00:00+00:00"
    with sqlite3.connect(database) as db:
        for n, (district, topic, status) in enumerate(
                ((d, t, s) for d in districts for t in topics
                 for s in ("pending", "approved", "rejected", "safeguarding")), 1):
            db.execute(
                "INSERT INTO proposals (ref, chat_id, forum_year, district, topic, age_band,"
                " gender, seen, proposal, actors, message, lang, needs_translation,"
                " source_update_id, created_at, updated_at, is_group, status) VALUES"
                " (?, ?, 2023, ?, ?, '10-12', 'female', 'x', 'y', 'school', '', 'vi', 0, ?, ?,"
                " ?, 0, ?)", (f"{district}-{n:04d}", 1000 + n, district, topic, 10**6 + n,
                              stamp, stamp, status))
    simulator.add_chat(ADMIN, "private")
    simulator.send_text(ADMIN, "/stats")
    await simulator.wait_until(lambda: any(m.kind == "photo"
                                           for m in simulator.messages(ADMIN)), 30)
    said = [m.plain for m in simulator.messages(ADMIN) if m.kind != "photo"]
    assert len(said) >= 2 and all(len(text) <= 4096 for text in said)
    whole = "\n".join(said)
    assert "Tu Mơ Rông" in whole and "Sa Thầy" in whole and "Ngọc Hồi" in whole
    assert "giới tính" in whole.lower()


async def test_stats_with_nothing_yet_has_no_empty_chart(
        simulator: BotApiSimulator, bot: BotProcess) -> None:
    simulator.add_chat(ADMIN, "private")
    said = await Child(simulator, ADMIN).say("/stats")
    await asyncio.sleep(1.5)  # a chart, if one were drawn, comes a moment later
    assert "Tổng: 0" in texts(said)
    assert not any(m.kind == "photo" for m in simulator.messages(ADMIN))
    assert "Theo độ tuổi" not in texts(said)  # no headings with nothing under them


async def test_what_is_typed_is_for_what_was_done_last(
        simulator: BotApiSimulator, staff_bot: BotProcess, database: Path) -> None:
    """A staff member with several duties (the admin) was asked for a case's closing note,
    then rejected a proposal with a reason of their own: the reason is the rejection's and the
    case stays open (a tester saw the case closed with it, the rejection still waiting). A
    command ends what was asked too: the next text is nobody's note."""
    await submit(simulator, 5211, "Huyện Đắk Hà", "2.", "Suối gần trường rất sâu",
                 "Làm rào chắn và dạy bơi cho học sinh")
    child = Child(simulator, 5212)
    await child.register()
    await child.say("/sos")
    admin = Child(simulator, ADMIN)
    await admin.say("/cases")
    await admin.tap("Xem #1")
    assert "Gõ ghi chú đóng" in texts(await admin.tap("✅ Đóng: đã xử lý"))
    await admin.say("/queue")
    await admin.tap("❌")
    assert "Gõ lý do" in texts(await admin.tap("Lý do khác"))
    reason = "Em viết rõ hơn ai cần làm gì nhé"
    assert "Đã từ chối DHA-0001" in texts(await admin.say(reason))
    assert q(database, "SELECT reject_note FROM proposals WHERE ref = 'DHA-0001'") == [(reason,)]
    assert q(database, "SELECT state, close_note FROM cases") == [("new", None)]
    await admin.say("/cases")
    await admin.tap("Xem #1")
    assert "Gõ ghi chú đóng" in texts(await admin.tap("✅ Đóng: đã xử lý"))
    await admin.say("/queue")
    await admin.say("ok cảm ơn")
    assert q(database, "SELECT state, close_note FROM cases") == [("new", None)]


async def test_a_forged_version_names_nobody(
        simulator: BotApiSimulator, staff_bot: BotProcess, database: Path) -> None:
    """A button with a version nobody made (forged, or garbled) says the card is out of date;
    it named "cán bộ ?" acting "lúc ?" to a tester."""
    await submit(simulator, 5221, "Huyện Đắk Hà", "2.", "Suối gần trường rất sâu",
                 "Làm rào chắn và dạy bơi cho học sinh")
    moderator = Child(simulator, MOD)
    card = (await moderator.say("/queue"))[-1]
    [(proposal_id,)] = q(database, "SELECT id FROM proposals WHERE ref = 'DHA-0001'")
    simulator.press(MOD, card.message_id, f"q7|approve|{proposal_id}")
    told = texts(await moderator._settle())
    assert "Thẻ bạn bấm đã cũ" in told and "?" not in told.split("\n")[0], told
    assert q(database, "SELECT status FROM proposals") == [("pending",)]
