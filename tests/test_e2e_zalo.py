"""Zalo end to end: the real bot process serving Telegram and Zalo at once, the Zalo simulator
posting to its webhook, a real SQLite file."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from bot.simulator import BotApiSimulator, ZaloSimulator
from bot.simulator.zalo import SECRET_HEADER, zalo_id
from storage import addresses
from storage.db import open_database
from tests.e2e import (
    ZALO_SECRET,
    BotProcess,
    Child,
    ZaloPerson,
    running_bot,
    texts,
    zalo_config,
)
from tests.stores import query

ADMIN = 123456789  # config.example.toml's admin, on Telegram


class ZaloChild:
    """Someone on Zalo whose every message returns what the bot said since, as one text."""

    def __init__(self, sim: ZaloSimulator, number: int, child: bool = False) -> None:
        self.person = ZaloPerson(sim, number, child)
        self.id = self.person.id

    async def say(self, text: str) -> str:
        return texts(await self.person.say(text))


@pytest.fixture
async def bot(simulator: BotApiSimulator, zalo: ZaloSimulator,
              tmp_path: Path) -> AsyncIterator[BotProcess]:
    config = zalo_config(tmp_path / "config.toml", simulator, zalo, tmp_path / "forum.sqlite3")
    async with running_bot(simulator, config) as process:
        yield process


async def test_a_child_on_zalo_sends_a_proposal_with_numbers_and_words(
        zalo: ZaloSimulator, bot: BotProcess, tmp_path: Path) -> None:
    child = ZaloChild(zalo, 1)
    welcome = await child.say("/start")
    assert "111" in welcome and "1. Em đồng ý / I agree" in welcome and "2. Chưa" in welcome
    guardian = await child.say("1")
    assert "Bố mẹ hoặc người giám hộ" in guardian and "1. Có, đã đồng ý" in guardian
    languages = await child.say("co, da dong y")  # the option's words, without tone marks
    assert "1. Tiếng Việt" in languages
    assert "Huyện Đắk Hà" in await child.say("1")
    assert "10-12" in await child.say("dak ha")  # part of a name, as on Telegram
    await child.say("10-12")
    menu = await child.say("em khong muon noi")
    assert "1. Phòng, chống bạo lực" in menu and "\n1. 1." not in menu  # numbered once
    question = await child.say("2")
    assert "Quanh em có chỗ nào" in question and "Quay lại" in question
    await child.say("Con suối gần trường rất sâu")
    who = await child.say("Làm rào chắn và dạy bơi")
    assert "1. Gia đình" in who
    toggled = await child.say("1")  # one choice: the menu again, with it ticked
    assert "1. ✅ Gia đình" in toggled and "2. Nhà trường" in toggled
    assert "thông điệp" in await child.say("Xong")  # the button's words
    review = await child.say("bo qua")
    assert "Con suối gần trường rất sâu" in review and "Gửi" in review
    thanks = await child.say("gui")  # the first word of "Gửi đi" (say)
    assert "DHA-0001" in thanks
    rows = query(tmp_path / "forum.sqlite3",
                 "SELECT ref, topic, seen, actors, status FROM proposals")
    assert rows == [("DHA-0001", "injuries", "Con suối gần trường rất sâu", "family", "pending")]
    # Everything below the channel knows one chat id; the Zalo id is kept only in its address.
    [(chat_id, external)] = query(tmp_path / "forum.sqlite3",
                                  "SELECT chat_id, external_id FROM chat_addresses")
    assert external == child.id and chat_id >= 2**53
    assert query(tmp_path / "forum.sqlite3", "SELECT chat_id FROM proposals") == [(chat_id,)]
    assert all(len(m.text or "") <= 2000 for m in zalo.messages(child.id))


async def test_a_childs_account_gets_a_kind_way_through(
        zalo: ZaloSimulator, bot: BotProcess, tmp_path: Path) -> None:
    child = ZaloChild(zalo, 2, child=True)
    said = await child.say("em muốn góp ý về đuối nước")
    assert "Zalo không chuyển" in said and "https://t.me/" in said and "111" in said
    assert "thầy cô phụ trách" in said
    database = tmp_path / "forum.sqlite3"
    assert query(database, "SELECT count(*) FROM children") == [(0,)]
    # Nothing kept: the address made to answer is erased at once, and the minute's sweep of
    # erased addresses (run here as the job runs it) takes it once the answer is out.
    assert query(database, "SELECT count(*) FROM chat_addresses WHERE erased_at IS NULL") == [
        (0,)]
    await zalo.wait_until(lambda: query(
        database, "SELECT state FROM outbox") == [("sent",)], timeout=20)
    db = await open_database(database)
    try:
        day_ago = (datetime.now(UTC) - timedelta(days=1)).isoformat(timespec="seconds")
        async with db.transaction() as tx:
            await addresses.sweep(tx, day_ago)
    finally:
        await db.close()
    assert query(database, "SELECT count(*) FROM chat_addresses") == [(0,)]
    assert query(database, "SELECT count(*) FROM chat_menus") == [(0,)]
    again = await child.say("em muốn góp ý")  # they write again: someone new, the same answer
    assert "Zalo không chuyển tới mình tin nhắn từ tài khoản của trẻ em" in again


async def test_an_adult_whose_message_zalo_does_not_pass_on_is_asked_to_type_it(
        zalo: ZaloSimulator, bot: BotProcess, tmp_path: Path) -> None:
    person = ZaloPerson(zalo, 12)
    await person.register()
    await person.tap("2.")  # a topic: now at its first question
    question = zalo.messages(person.id)[-1].plain
    zalo.send_unsupported(person.id)  # a file or a location from an account Zalo passes on
    await zalo.wait_idle(quiet=0.4, timeout=20)
    answer = texts(zalo.new_messages(person.id))
    assert "Mình chưa đọc được tin vừa gửi, vì Zalo không chuyển tệp" in answer
    # not the child's account
    assert "tài khoản của trẻ em" not in answer and "https://t.me/" not in answer
    assert answer.endswith(question)  # and the question again, where they were
    assert query(tmp_path / "forum.sqlite3",
                 "SELECT count(*) FROM chat_addresses WHERE erased_at IS NULL") == [(1,)]


async def test_the_webhook_refuses_what_zalo_did_not_send_and_keeps_one_of_each(
        zalo: ZaloSimulator, bot: BotProcess, tmp_path: Path) -> None:
    database = tmp_path / "forum.sqlite3"
    before = query(database, "SELECT count(*) FROM inbox")
    event = json.dumps({"ok": True, "result": {
        "event_name": "message.text.received",
        "message": {"from": {"id": zalo_id(9), "display_name": "x", "is_bot": False},
                    "chat": {"id": zalo_id(9), "chat_type": "PRIVATE"}, "text": "/start",
                    "message_id": "forged", "date": 1}}}).encode()
    assert await zalo.post_raw(event) == 401  # no secret
    assert await zalo.post_raw(event, {SECRET_HEADER: "x" * len(ZALO_SECRET)}) == 401
    assert query(database, "SELECT count(*) FROM inbox") == before
    assert zalo.messages(zalo_id(9)) == []

    child = ZaloChild(zalo, 3)
    first = zalo.send_text(child.id, "/start")
    await zalo.wait_idle(quiet=0.4, timeout=20)
    zalo.redeliver(first["message"]["message_id"])  # the same message again
    await zalo.wait_idle(quiet=0.4, timeout=20)
    welcomes = [m for m in zalo.messages(child.id) if "Em đồng ý" in (m.text or "")]
    assert len(welcomes) == 1
    assert zalo.webhook_statuses.count(200) >= 2  # both answered 200: the repeat is harmless


async def test_a_lone_surrogate_in_an_event_is_answered_not_a_crash(
        zalo: ZaloSimulator, bot: BotProcess, tmp_path: Path) -> None:
    """JSON may carry half of a surrogate pair ("\\ud800"): valid JSON, but no text can be
    stored or sent with it. The event is kept and answered, the half made U+FFFD."""
    child = ZaloChild(zalo, 8)
    zalo.send_text(child.id, "\ud800 chào")  # the simulator sends it escaped, as JSON does
    await zalo.wait_idle(quiet=0.4, timeout=20)
    assert zalo.webhook_statuses[-1] == 200
    assert "Em đồng ý" in texts(zalo.messages(child.id))  # the welcome, as to any first word
    assert query(tmp_path / "forum.sqlite3", "SELECT count(*) FROM inbox WHERE done_at IS NULL"
                 ) == [(0,)]


async def test_long_answers_are_split_between_sentences(
        zalo: ZaloSimulator, bot: BotProcess) -> None:
    child = ZaloChild(zalo, 4)
    for said in ("/start", "1", "1", "1", "dak ha", "10-12", "em khong muon noi", "2"):
        await child.say(said)
    sentence = "Con suối sau trường rất sâu và chảy xiết vào mùa mưa. "
    await child.say((sentence * 14).strip())  # 770 characters
    await child.say((sentence * 14).strip())
    assert "thông điệp" in await child.say("1, 3")  # several choices in one reply
    await child.say(("Chúng em mong người lớn giúp đỡ. " * 23).strip())
    review = [m.text or "" for m in zalo.messages(child.id)][-2:]
    assert "Em xem lại" in review[0] and "1. ✅ Gửi ý kiến" in review[1]  # the menu comes last
    assert all(len(text) <= 2000 for text in review) and len("".join(review)) > 2000
    assert review[0].endswith(".")  # cut after a sentence


async def test_a_kill_between_receipt_and_reply_loses_nothing(
        simulator: BotApiSimulator, zalo: ZaloSimulator, tmp_path: Path) -> None:
    config = zalo_config(tmp_path / "config.toml", simulator, zalo, tmp_path / "forum.sqlite3")
    process = BotProcess(simulator, config, tmp_path / "bot.log")
    await process.start()
    child = ZaloChild(zalo, 5)
    await child.say("/start")
    zalo.send_text(child.id, "1")
    await zalo.wait_until(lambda: zalo.webhook_statuses.count(200) >= 2, 10)
    process.kill()  # the event is in the inbox; its reply may or may not have gone
    await process.process.wait() if process.process else None
    async with running_bot(simulator, config):
        await zalo.wait_until(
            lambda: any("giám hộ" in (m.text or "") for m in zalo.messages(child.id)), 20)
        assert "Tiếng Việt" in await child.say("1")


async def test_a_kill_right_after_a_send_and_a_redelivery_make_one_proposal(
        simulator: BotApiSimulator, zalo: ZaloSimulator, tmp_path: Path) -> None:
    """As on Telegram: the bot killed the moment Zalo has its 200 for "send", then the same
    message delivered again: one proposal, one thank-you."""
    database = tmp_path / "forum.sqlite3"
    config = zalo_config(tmp_path / "config.toml", simulator, zalo, database)
    process = BotProcess(simulator, config, tmp_path / "bot.log")
    await process.start()
    child = ZaloPerson(zalo, 7)
    await child.register()
    await child.answer_topic("4.", "Lũ về làm ngập đường đến trường", "Trồng thêm cây", "Tỉnh")
    answered = zalo.webhook_statuses.count(200)
    sent = zalo.send_text(child.id, "1")  # ✅ Gửi ý kiến
    await zalo.wait_until(lambda: zalo.webhook_statuses.count(200) > answered, 10)
    process.kill()
    await process.process.wait() if process.process else None
    async with running_bot(simulator, config):
        await zalo.wait_until(lambda: any("DHA-0001" in (m.text or "")
                                          for m in zalo.messages(child.id)), 20)
        await zalo.wait_idle(quiet=0.5, timeout=20)
        thanks = [m for m in zalo.messages(child.id) if "DHA-0001" in (m.text or "")]
        assert len(thanks) <= 2  # sent just before the kill, not yet recorded: at least once
        zalo.redeliver(sent["message"]["message_id"])
        await zalo.wait_idle(quiet=0.5, timeout=20)
        assert zalo.messages(child.id)[-1].message_id == thanks[-1].message_id  # no answer
    assert query(database, "SELECT ref FROM proposals") == [("DHA-0001",)]
    assert query(database, "SELECT count(*) FROM inbox WHERE done_at IS NULL") == [(0,)]


async def test_staff_and_a_facilitator_work_on_zalo(
        simulator: BotApiSimulator, zalo: ZaloSimulator, bot: BotProcess, tmp_path: Path) -> None:
    """An officer on Zalo gets a role from the admin on Telegram, makes an invite; a
    facilitator joins with it on Zalo and sends a group's proposal; the officer approves it."""
    officer = ZaloChild(zalo, 10)
    said = await officer.say("/id")
    officer_id = int(said.split("hệ thống: ")[1].split(".")[0])
    admin = Child(simulator, ADMIN)
    assert "Đã cấp quyền" in texts(await admin.say(f"/grant {officer_id} moderator DHA"))
    invite = await officer.say("/invite DHA")
    code = invite.split("người phụ trách (Huyện Đắk Hà): ")[1].split()[0]

    facilitator = ZaloChild(zalo, 11)
    assert "người phụ trách trẻ em" in await facilitator.say(code)
    await facilitator.say("1")  # Tiếng Việt
    await facilitator.say("2")  # the second topic
    await facilitator.say("25")  # how many children: a number, not a menu pick
    assert "✔️ Xong" in await facilitator.say("2")  # an age band, ticked
    await facilitator.say("xong")
    await facilitator.say("bo qua")  # no school
    await facilitator.say("Xã Đắk Mar")
    await facilitator.say("Nhiều ao hồ không có rào chắn")
    await facilitator.say("Xã làm rào và biển cảnh báo")
    await facilitator.say("3")
    await facilitator.say("xong")
    review = await facilitator.say("bo qua")
    assert "Số em trong nhóm: 25" in review
    assert "DHA-0001" in await facilitator.say("1")
    database = tmp_path / "forum.sqlite3"
    [(group, size, facilitator_chat)] = query(
        database, "SELECT is_group, group_size, facilitator_chat_id FROM proposals")
    assert (group, size) == (1, 25) and facilitator_chat > officer_id

    card = await officer.say("/queue")
    assert "DHA-0001" in card and "Nhiều ao hồ không có rào chắn" in card
    approve = next(line for line in card.splitlines() if "Duyệt" in line)
    await officer.say(approve.split(".")[0])  # its number
    assert query(database, "SELECT status FROM proposals") == [("approved",)]
    stats = await officer.say("/stats")
    assert "1" in stats and all(m.kind == "text" for m in zalo.messages(officer.id))
    assert "Telegram" in await officer.say("/export")


async def test_what_a_child_may_send_on_zalo_gets_a_kind_answer_and_delete_erases(
        zalo: ZaloSimulator, bot: BotProcess, tmp_path: Path) -> None:
    child = ZaloChild(zalo, 12)
    for said in ("/start", "1", "1", "1", "dak ha", "10-12", "em khong muon noi", "2"):
        await child.say(said)
    for send in (zalo.send_sticker, zalo.send_image, zalo.send_voice):
        send(child.id)
        await zalo.wait_idle(quiet=0.4, timeout=20)
        shown = "\n".join(m.text or "" for m in zalo.new_messages(child.id))
        assert "chỉ đọc được chữ" in shown and "Quanh em có chỗ nào" in shown  # and the question
    too_long = await child.say("Suối sâu. " * 100)
    assert "Tin này hơi dài (999 ký tự)" in too_long
    assert "ℹ️" in await child.say("/help")  # a command mid-flow, then where the child was
    await child.say("Suối <b>sâu</b> & chảy xiết")
    await child.say("Làm rào chắn")
    await child.say("1, 3")
    review = await child.say("bo qua")
    assert "Suối <b>sâu</b> & chảy xiết" in review  # the child's characters, as typed
    assert "xóa hết" in await child.say("/delete")
    goodbye = await child.say("1")
    assert "Đã xóa hết thông tin của em" in goodbye
    database = tmp_path / "forum.sqlite3"
    assert query(database, "SELECT count(*) FROM children") == [(0,)]
    [(erased,)] = query(database, "SELECT erased_at FROM chat_addresses")
    assert erased is not None  # the address goes with the next sweep, the goodbye being out
    assert query(database, "SELECT count(*) FROM chat_menus") == [(0,)]
    again = await child.say("/start")  # someone new: a new chat id, asked to consent again
    assert "Em đồng ý" in again
    assert len(query(database, "SELECT chat_id FROM chat_addresses")) == 2
    # Before consent too: a disclosure under a photo is read, a call for help answered.
    zalo.send_image(child.id, caption="chú hàng xóm bắt em cởi quần áo rồi chụp ảnh")
    await zalo.wait_idle(quiet=0.4, timeout=20)
    assert "111" in "\n".join(m.text or "" for m in zalo.new_messages(child.id))
    assert "111" in await child.say("cuu em voi")
    assert query(database, "SELECT source FROM cases ORDER BY id") == [("detector",), ("sos",)]


async def test_a_safeguarding_officer_on_zalo_works_a_childs_case(
        simulator: BotApiSimulator, zalo: ZaloSimulator, bot: BotProcess, tmp_path: Path) -> None:
    """A child on Zalo asks for help; the alert reaches a safeguarding officer on Zalo, who takes
    the case by its number and writes to the child, who reads it on Zalo."""
    officer = ZaloChild(zalo, 20)
    officer_id = int((await officer.say("/id")).split("hệ thống: ")[1].split(".")[0])
    admin = Child(simulator, ADMIN)
    assert "Đã cấp quyền" in texts(await admin.say(f"/grant {officer_id} safeguarding DHA"))

    child = ZaloChild(zalo, 21)
    for said in ("/start", "1", "1", "1", "dak ha", "10-12", "em khong muon noi"):
        await child.say(said)
    sos = await child.say("/sos")
    assert "111" in sos
    await child.say("1")  # yes, an adult of the forum may write here
    await zalo.wait_until(lambda: any("#1" in (m.text or "") for m in zalo.messages(officer.id)),
                          20)
    listing = await officer.say("/cases")
    assert "#1" in listing
    card = await officer.say("Xem #1")  # the button's words
    assert "Nhận xử lý" in card
    await officer.say("nhan xu ly")
    assert "gõ" in (await officer.say("nhan cho em")).lower()  # the desk asks for the words
    await officer.say("Chào em, cô là cán bộ của Diễn đàn. Em có an toàn không?")
    await zalo.wait_until(lambda: any("cô là cán bộ" in (m.text or "")
                                      for m in zalo.messages(child.id)), 20)
    assert query(tmp_path / "forum.sqlite3", "SELECT state, acknowledged_by FROM cases") == [
        ("acknowledged", officer_id)]
    # The child answers by the message's own menu ("1. ↩️ Trả lời"), then in words.
    assert "Chỉ cán bộ bảo vệ trẻ em đọc được" in await child.say("1")
    assert "Đã gửi" in await child.say("Dạ em an toàn rồi ạ")
    await zalo.wait_until(lambda: any("em đã trả lời" in (m.text or "")
                                      for m in zalo.messages(officer.id)), 20)
    assert "Dạ em an toàn rồi ạ" in await officer.say("Xem #1")


async def test_a_zalo_api_that_refuses_stops_the_start_in_one_line(
        simulator: BotApiSimulator, zalo: ZaloSimulator, tmp_path: Path,
        monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CHILDFORUM_ZALO_TOKEN", "9999:not-this-bot")  # Zalo says 401
    config = zalo_config(tmp_path / "config.toml", simulator, zalo, tmp_path / "forum.sqlite3")
    process = BotProcess(simulator, config, tmp_path / "bot.log")
    try:
        with pytest.raises(RuntimeError, match="exited at start"):
            await process.start()
    finally:
        zalo.errors.clear()  # the wrong token was the point
    assert process.process is not None and process.process.returncode == 1
    log = (tmp_path / "bot.log").read_text()
    assert "refused to start the channel: 401: Unauthorized" in log
    assert "Traceback" not in log and "Unclosed" not in log  # nothing left running


async def test_in_a_group_a_command_points_to_a_private_chat_and_nothing_is_kept(
        zalo: ZaloSimulator, bot: BotProcess, tmp_path: Path) -> None:
    group = zalo_id(77)

    def said_in_group(text: str, number: int) -> None:
        zalo.inject({"event_name": "message.text.received", "message": {
            "from": {"id": zalo_id(30), "display_name": "Em", "is_bot": False},
            "chat": {"id": group, "chat_type": "GROUP"}, "text": text,
            "message_id": f"group-{number}", "date": number}})

    said_in_group("/start", 1)
    said_in_group("Nhà em gần sông", 2)
    await zalo.wait_idle(quiet=0.4, timeout=20)
    [answer] = zalo.messages(group)
    assert "chỉ trò chuyện riêng" in answer.plain
    database = tmp_path / "forum.sqlite3"
    assert query(database, "SELECT count(*) FROM children") == [(0,)]
    assert query(database, "SELECT count(*) FROM inbox WHERE done_at IS NULL") == [(0,)]


async def test_help_at_every_screen_and_a_disclosure_mid_question_on_zalo(
        zalo: ZaloSimulator, bot: BotProcess, tmp_path: Path) -> None:
    """Issue 9 on Zalo: the help option is on the consent and registration menus too; a
    disclosure typed at a question gets 111 at once, opens a case, and the child decides whether
    it becomes their answer; asking for help there keeps it waiting."""
    database = tmp_path / "forum.sqlite3"
    child = ZaloChild(zalo, 7)
    welcome = await child.say("/start")
    assert "🆘 Em cần giúp ngay / I need help now" in welcome
    helped = await child.say("em can giup ngay")  # the option's words, without marks
    assert "111" in helped
    assert query(database, "SELECT source FROM cases") == [("sos",)]
    await child.say("khong, cam on")
    await child.say("1")  # the child's consent
    languages = await child.say("1")  # the guardian's
    assert "🆘" in languages
    for answer in ("1", "dak ha", "10-12", "em khong muon noi"):
        await child.say(answer)
    await child.say("1")  # topic 1: violence and abuse
    disclosed = await child.say("Tối nào bố cũng say rượu rồi đánh em, em sợ lắm")
    assert "111" in disclosed and "1. ✅ Dùng câu này" in disclosed
    assert len(query(database, "SELECT id FROM cases")) == 2
    asked = await child.say("/sos")  # help first; the question still waits
    assert "111" in asked
    again = await child.say("khong, cam on")
    assert "1. ✅ Dùng câu này" in again
    kept = await child.say("dung cau nay")
    assert "câu 2/4" in kept
    [(state,)] = query(database, "SELECT state FROM children")
    assert "bố cũng say rượu" in json.loads(str(state))["answers"]["seen"]
