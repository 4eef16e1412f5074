"""Safeguarding cases worked end to end (issue 9, "Tests"): the real bot process (`childforum
run`), the Bot API simulator and a real SQLite file, with the SQLite file read after each step.

- a case goes new → acknowledged → referred → closed through the /cases buttons, with a staff
  message to the child on the way, and one audit_log row per step (and none for a stale press);
- a case nobody takes goes to the admins after `[safeguarding] escalate_minutes`;
- the child's words (and what staff wrote to the child) are purged `purge_days` after closing;
- an answer flagged as a disclosure that the child chooses to keep makes a proposal held by its
  case: out of the moderator's /queue and approval and out of a CSV export until the case is
  closed as "no concern", then queued, approved and exported like any other.

The clock. The bot process has no fake clock (no environment variable or setting moves its
time; `Cases` takes a clock, but `handlers/wiring.py` builds it with the real one), and its
jobs are planned from its start: escalation every minute from 30 s, the purge daily from 240 s.
- Escalation runs in the bot process itself, on its real schedule: `escalate_minutes = 1` in the
  written config, and the clock moved for the cases by dating two of them five minutes back in
  the SQLite file (their `created_at`: the same as five minutes passing for them, and only them).
  The first run, 30 s after the start, must take the late case nobody took, and neither the late
  case that was taken nor the one opened a few seconds before. This costs the file ~30 s, but
  it is the only way the real scheduling, the config value and the admin alert are all tested.
- The purge's first run would come 240 s after the start, and waiting for it is far over this
  file's time budget: the test runs the job's own call (`Cases.purge(config.purge_days)`, what
  `_schedule_cases` runs) on the bot's SQLite file, built from the bot's written config as
  `handlers/wiring.py` builds it, with a clock moved past `purge_days`, while the bot runs; the
  bot is then asked for the case's card, so what the purge left is seen through the bot.
"""

from __future__ import annotations

import csv
import io
import json
import re
import sqlite3
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from bot.config import load_config
from bot.conversation.catalog import load_catalog
from bot.safeguarding.cases import Cases
from bot.simulator import BotApiSimulator, SentMessage
from bot.staff.moderation import Moderation
from bot.transport.outbox import Outbox
from storage.db import open_database
from tests.e2e import BotProcess, Child, texts
from tests.stores import query
from tests.test_e2e_staff import MOD, SAFE, STAFF, running_bot

ADMIN = 123456789  # config.example.toml: the whole province
OFFICER = 8204
OFFICER_STAFF = f"""
[[staff]]
user_id = {OFFICER}
role = "officer"
districts = ["DHA", "KTM"]
"""
KEY = "test-pseudonym-key-0123456789"  # exports pseudonymise chat ids: they need a key
REF = re.compile(r"^[A-Z]{3}-\d{4}$")
HOTLINE = "111"
# Tier 1 for the detector (a disclosure: the hotline reply at once).
DISCLOSURE = "Chú hàng xóm hay sờ vào người em và bảo em giữ bí mật"
BEATEN = "Bố em say rượu về là đánh em bằng roi, em rất sợ"
TO_CHILD = "Chào em, cô là cán bộ bảo vệ trẻ em của Diễn đàn. Em có an toàn không?"
FROM_CHILD = "Dạ em đang ở nhà bà ngoại, tối nay chú ấy lại tới"


def audit_of(database: Path, case_id: int) -> list[tuple[object, str, dict[str, object]]]:
    """The audit_log rows of a case, oldest first: (actor, action, detail)."""
    rows = query(database, "SELECT actor_user_id, action, detail FROM audit_log"
                           " WHERE item_type = 'case' AND item_id = ? ORDER BY id", case_id)
    return [(actor, str(action), json.loads(str(detail or "{}"))) for actor, action, detail in rows]


def alerts_about(messages: list[SentMessage], case_id: int) -> list[SentMessage]:
    """Messages carrying the button that shows case `case_id`."""
    return [m for m in messages if any(data == f"c|{case_id}|0|show" for _, data in m.buttons())]


async def open_chats(simulator: BotApiSimulator, *users: int) -> None:
    """Staff open the bot first (the bot cannot write to a chat that never wrote to it)."""
    for user in users:
        await Child(simulator, user).say("/cases")
        simulator.new_messages(user)


async def submit(simulator: BotApiSimulator, chat: int, topic: str, seen: str,
                 proposal: str) -> None:
    """A child of Đắk Hà sends an ordinary proposal."""
    child = Child(simulator, chat)
    await child.register()
    await child.answer_topic(topic, seen, proposal, "Xã")
    assert "mã số" in texts(await child.tap("✅"))


@pytest.fixture
async def forum(simulator: BotApiSimulator, database: Path,
                tmp_path: Path) -> AsyncIterator[BotProcess]:
    """The example config with a DHA moderator and a DHA safeguarding officer (SAFE)."""
    async with running_bot(simulator, database, tmp_path, STAFF) as process:
        await open_chats(simulator, SAFE, MOD, ADMIN)
        yield process


async def test_a_case_goes_new_acknowledged_referred_closed_with_an_audit_row_each(
        simulator: BotApiSimulator, forum: BotProcess, database: Path) -> None:
    child = Child(simulator, 911)
    await child.register()
    assert HOTLINE in texts(await child.tap("🆘"))
    await child.tap("Có, nhắn cho em")
    case_id = 1
    assert query(database, "SELECT id, source, state, version FROM cases") == [
        (case_id, "sos", "new", 0)]
    assert len(alerts_about(simulator.new_messages(SAFE), case_id)) == 1
    assert simulator.new_messages(ADMIN) == []  # the district has its officer: no admin alert

    safe = Child(simulator, SAFE)
    listing = texts(await safe.say("/cases"))
    assert f"#{case_id}" in listing and "mới" in listing
    card = await safe.tap(f"Xem #{case_id}")
    assert f"Trường hợp #{case_id} · mới" in texts(card)
    assert "muốn" in texts(card)  # the child asked to be written to
    stale_card = card[-1]

    # new → acknowledged
    taken = texts(await safe.tap("✋ Nhận xử lý"))
    assert f"Bạn đã nhận xử lý trường hợp #{case_id}" in taken and "đã nhận xử lý" in taken
    assert query(database, "SELECT state, acknowledged_by, version FROM cases") == [
        ("acknowledged", SAFE, 1)]
    # The first card's ✋ again: told someone acted first; nothing changes, nothing is logged.
    (ack_data,) = [data for label, data in stale_card.buttons() if label.startswith("✋")]
    simulator.press(SAFE, stale_card.message_id, ack_data)
    stale = texts(await safe._settle())
    assert f"Người dùng {SAFE} đã làm việc này trước" in stale
    assert len(audit_of(database, case_id)) == 3  # opened, viewed, taken

    # acknowledged → referred, with the note typed
    assert "Gõ ghi chú chuyển tiếp" in texts(await safe.tap("📞 Chuyển 111"))
    note = "Đã gọi Tổng đài 111 lúc 9 giờ; tổng đài viên sẽ liên hệ gia đình"
    referred = texts(await safe.say(note))
    assert f"Đã ghi việc chuyển tiếp trường hợp #{case_id}" in referred
    assert "Đã chuyển Tổng đài 111" in referred and note in referred
    assert query(database, "SELECT state, referred_to, referral_note, referred_by FROM cases"
                 ) == [("referred", "hotline", note, SAFE)]

    # A message to the child from the case: the child reads it, the case keeps it.
    assert "Gõ tin nhắn gửi cho em" in texts(await safe.tap("✉️ Nhắn cho em"))
    assert "Đã gửi tin nhắn cho em" in texts(await safe.say(TO_CHILD))
    await simulator.wait_until(lambda: TO_CHILD in texts(simulator.messages(911)), 10)
    heard = texts(simulator.new_messages(911))
    assert heard.startswith("💛 Cô chú ở Diễn đàn trẻ em nhắn em:") and TO_CHILD in heard
    assert "bảo vệ trẻ em" not in heard.split("\n")[0]  # the lock screen's line says no more
    assert query(database, "SELECT by_user_id, text FROM case_messages WHERE case_id = ?",
                 case_id) == [(SAFE, TO_CHILD)]

    # The child answers it: ↩️, then their words go to the case, not to their conversation;
    # the officer who wrote is alerted with the case number, and the card shows both.
    assert "Chỉ cán bộ bảo vệ trẻ em đọc được" in texts(await child.tap("↩️"))
    assert "Đã gửi" in texts(await child.say(FROM_CHILD))
    await simulator.wait_until(lambda: "em đã trả lời" in texts(simulator.messages(SAFE)), 10)
    assert FROM_CHILD not in texts(simulator.messages(SAFE))  # the words stay in the case
    card = texts(await safe.tap(f"Xem #{case_id}"))
    assert TO_CHILD in card and f"trẻ em trả lời: «{FROM_CHILD}»" in card
    assert query(database, "SELECT from_child, text FROM case_messages WHERE case_id = ?"
                 " ORDER BY id", case_id) == [(0, TO_CHILD), (1, FROM_CHILD)]
    assert "Đã gửi" not in texts(await child.say("/help"))  # one text only: then as before

    # referred → closed
    assert "Gõ ghi chú đóng" in texts(await safe.tap("✅ Đóng: đã xử lý"))
    closed = await safe.say("Gia đình đã được cán bộ xã đến thăm; em an toàn")
    assert f"Đã đóng trường hợp #{case_id}" in texts(closed)
    assert closed[-1].buttons() == []  # a closed case has no next step
    assert query(database, "SELECT state, outcome, closed_by, version FROM cases") == [
        ("closed", "handled", SAFE, 3)]
    ((taken_at, referred_at, closed_at),) = query(
        database, "SELECT acknowledged_at, referred_at, closed_at FROM cases")
    assert None not in (taken_at, referred_at, closed_at)
    assert str(taken_at) <= str(referred_at) <= str(closed_at)  # when, for each step
    assert "Không có trường hợp nào đang mở" in texts(await safe.say("/cases"))

    # One audit row per step, by whom, with what was chosen; and each time the card was opened
    # to read the child's words.
    steps = audit_of(database, case_id)
    assert [(actor, action) for actor, action, _ in steps] == [
        (0, "case_open"), (SAFE, "case_viewed"), (SAFE, "case_acknowledged"),
        (SAFE, "case_referred"), (SAFE, "case_message"), (0, "case_reply"),
        (SAFE, "case_viewed"), (SAFE, "case_closed")]
    assert steps[0][2]["source"] == "sos" and steps[0][2]["tier"] == 1
    assert steps[3][2]["to"] == "hotline"
    assert steps[7][2]["outcome"] == "handled"
    # ... and the admin reads them in /audit.
    audit = texts(await Child(simulator, ADMIN).say("/audit"))
    for action in ("mở trường hợp bảo vệ trẻ em", "nhận xử lý trường hợp",
                   "chuyển tiếp trường hợp", "nhắn cho trẻ em từ trường hợp", "đóng trường hợp"):
        assert f"{action} · trường hợp #{case_id}" in audit, action


async def test_a_child_answering_staff_without_the_button_is_heard(
        simulator: BotApiSimulator, forum: BotProcess, database: Path) -> None:
    """Mid-topic, staff write; the child just types back (no ↩️): the words go to the case,
    not into the proposal, and the child can write more. Once the child has answered, their
    next words are the topic's again; a colleague closing the case stops a message typed
    meanwhile from reaching the child."""
    child = Child(simulator, 913)
    await child.register()
    assert HOTLINE in texts(await child.tap("🆘"))
    await child.tap("Có, nhắn cho em")
    await child.tap("2.")  # a topic: its first question waits for words
    safe = Child(simulator, SAFE)
    await safe.say("/cases")
    await safe.tap("Xem #1")
    await safe.tap("✋ Nhận xử lý")
    await safe.tap("✉️ Nhắn cho em")
    await safe.say(TO_CHILD)
    await simulator.wait_until(lambda: TO_CHILD in texts(simulator.messages(913)), 10)
    answered = await child.say(FROM_CHILD)
    assert "Đã gửi tới cô chú" in texts(answered) and "↩️ Trả lời" in str(
        answered[0].buttons())
    assert query(database, "SELECT from_child, text FROM case_messages ORDER BY id") == [
        (0, TO_CHILD), (1, FROM_CHILD)]
    assert query(database, "SELECT state FROM children WHERE chat_id = 913")[0][0].count(
        FROM_CHILD) == 0  # not the topic's answer
    assert "câu 2/4" in texts(await child.say("Suối gần trường rất sâu"))  # the topic's again
    # A colleague closes the case while a message to the child is being typed: not sent.
    await safe.tap("Xem #1")  # from the alert that the child answered
    await safe.tap("✉️ Nhắn cho em")
    other = Child(simulator, ADMIN)  # the admin: every action, the whole province
    await other.say("/cases")
    await other.tap("Xem #1")
    await other.tap("✅ Đóng: không đáng lo")
    await other.say("Đã gọi điện cho gia đình")
    refused = texts(await safe.say("Em còn đó không?"))
    assert "Em còn đó không?" not in texts(simulator.messages(913))
    assert query(database, "SELECT count(*) FROM case_messages") == [(2,)]
    assert "bước này không làm được nữa" in refused, refused


async def test_a_child_who_erases_everything_leaves_their_open_case_to_a_person(
        simulator: BotApiSimulator, forum: BotProcess, database: Path) -> None:
    """A disclosure, then /delete at once: the case keeps the words (nobody read them yet),
    loses the child's chat, and the area's safeguarding officer is told."""
    child = Child(simulator, 914)
    await child.register()
    await child.say(BEATEN)
    await simulator.wait_until(lambda: bool(alerts_about(simulator.messages(SAFE), 1)), 10)
    await child.say("/delete")
    await child.tap("Xóa hết")
    await simulator.wait_until(lambda: "đã xóa dữ liệu" in texts(simulator.messages(SAFE)), 10)
    assert query(database, "SELECT chat_id, text, state FROM cases") == [(None, BEATEN, "new")]
    card = texts(await Child(simulator, SAFE).tap("Xem #1"))
    assert BEATEN in card and "không còn liên lạc được" in card
    assert [action for _, action, _ in audit_of(database, 1)] == [
        "case_open", "case_child_erased", "case_viewed"]


async def test_a_case_opened_before_the_child_says_where_they_live_follows_them(
        simulator: BotApiSimulator, forum: BotProcess, database: Path) -> None:
    """A disclosure at the language question: a case of no area (every officer sees it); once
    the child picks their district, the case is that district's."""
    child = Child(simulator, 915)
    await child.say("/start")
    await child.tap("Em đồng ý")
    await child.tap("Có, đã đồng ý")
    await child.say(BEATEN)
    assert query(database, "SELECT district FROM cases") == [(None,)]
    await child.tap("Tiếng Việt")
    await child.tap("Huyện Đắk Hà")
    assert query(database, "SELECT district FROM cases") == [("DHA",)]


async def test_a_case_nobody_takes_goes_to_the_admins(
        simulator: BotApiSimulator, database: Path, tmp_path: Path) -> None:
    async with running_bot(simulator, database, tmp_path, STAFF,
                           {"escalate_minutes = 60": "escalate_minutes = 1"}) as process:
        await open_chats(simulator, SAFE, MOD, ADMIN)
        child = Child(simulator, 912)
        await child.register()
        for _ in range(3):  # cases 1, 2, 3
            assert HOTLINE in texts(await child.say("/sos"))
            await child.tap("Không, cảm ơn")
        assert [row[0] for row in query(database, "SELECT id FROM cases ORDER BY id")] == [
            1, 2, 3]
        # The fake clock: cases 1 and 2 were opened five minutes ago; 3 just now.
        five_ago = (datetime.now(UTC) - timedelta(minutes=5)).isoformat(timespec="seconds")
        query(database, "UPDATE cases SET created_at = ? WHERE id IN (1, 2)", five_ago)
        safe = Child(simulator, SAFE)
        await safe.say("/cases")
        await safe.tap("Xem #2")
        assert "Bạn đã nhận xử lý trường hợp #2" in texts(await safe.tap("✋ Nhận xử lý"))
        assert simulator.new_messages(ADMIN) == []

        # The bot's own job (first run 30 s after its start) sends case 1 to the admin.
        def escalated() -> list[SentMessage]:
            return [m for m in simulator.messages(ADMIN) if "chưa ai nhận xử lý" in m.plain]

        await simulator.wait_until(lambda: bool(escalated()), timeout=50)
        await simulator.wait_idle(quiet=0.5, timeout=20)
        (alert,) = escalated()
        assert "Trường hợp #1 chưa ai nhận xử lý" in alert.plain
        assert "Huyện Đắk Hà" in alert.plain
        assert query(database, "SELECT id FROM cases WHERE escalated_at IS NOT NULL") == [(1,)]
        assert [(actor, action, detail) for actor, action, detail in audit_of(database, 1)] == [
            (0, "case_open", {"source": "sos", "tier": 1, "kind": ""}),
            (0, "case_escalated", {"minutes": 1.0})]
        for untouched in (2, 3):
            assert "case_escalated" not in [a for _, a, _ in audit_of(database, untouched)]
        assert not any("chưa ai nhận" in m.plain for m in simulator.messages(SAFE))
        assert not any("chưa ai nhận" in m.plain for m in simulator.messages(MOD))

        # The admin takes it from the alert's button.
        admin = Child(simulator, ADMIN)
        simulator.new_messages(ADMIN)
        card = texts(await admin.tap("Xem #1"))
        assert "Trường hợp #1" in card and "mới" in card
        assert "còn trường hợp khác đang mở: #2, #3" in card  # the same child's
        assert "Bạn đã nhận xử lý trường hợp #1" in texts(await admin.tap("✋ Nhận xử lý"))
        assert query(database, "SELECT state, acknowledged_by FROM cases WHERE id = 1") == [
            ("acknowledged", ADMIN)]
    log = process.log.read_text(encoding="utf-8")
    assert "1 cases nobody took in 1 minutes went to the admins" in log


def everything_in(database: Path) -> str:
    """Every text value of every table of the SQLite file, one long string."""
    with sqlite3.connect(database) as db:
        tables = [row[0] for row in db.execute(
            "SELECT name FROM sqlite_master WHERE type = 'table'")]
        values = [str(value) for table in tables
                  for row in db.execute(f'SELECT * FROM "{table}"')
                  for value in row if isinstance(value, str)]
    return "\n".join(values)


async def test_the_childs_words_go_after_closing(
        simulator: BotApiSimulator, forum: BotProcess, database: Path, tmp_path: Path) -> None:
    child = Child(simulator, 913)
    await child.register()
    assert HOTLINE in texts(await child.say(DISCLOSURE))  # typed at the menu: case 1
    assert HOTLINE in texts(await child.say(BEATEN))  # case 2, left open
    assert query(database, "SELECT id, source, tier, text FROM cases ORDER BY id") == [
        (1, "detector", 1, DISCLOSURE), (2, "detector", 1, BEATEN)]
    ((weighed,),) = query(database, "SELECT weighed FROM cases WHERE id = 1")
    assert weighed != ""

    safe = Child(simulator, SAFE)
    (alert,) = alerts_about(simulator.messages(SAFE), 1)
    await safe.say("/cases")
    assert DISCLOSURE in texts(await safe.tap("Xem #1"))
    await safe.tap("✉️ Nhắn cho em")
    await safe.say(TO_CHILD)
    await safe.tap("✅ Đóng: đã xử lý")
    close_note = "Đã báo cán bộ xã; gia đình được hướng dẫn"
    assert "Đã đóng trường hợp #1" in texts(await safe.say(close_note))
    await simulator.wait_until(lambda: TO_CHILD in texts(simulator.messages(913)), 10)

    # The bot's purge job, on the bot's database, built as handlers/wiring.py builds it.
    config = load_config(tmp_path / "config.toml")
    shift = timedelta()
    db = await open_database(database)
    try:
        cases = Cases(db, Moderation(db, config.staff, {d.code for d in config.districts}),
                      Outbox(db, config.pacing, config.timetable.zone), load_catalog(config),
                      config, lambda: datetime.now(UTC) + shift)
        shift = timedelta(days=config.purge_days) - timedelta(hours=1)  # not yet
        assert await cases.purge(config.purge_days) == 0
        assert query(database, "SELECT text FROM cases WHERE id = 1") == [(DISCLOSURE,)]
        shift = timedelta(days=config.purge_days, minutes=1)  # just past purge_days
        assert await cases.purge(config.purge_days) == 1
    finally:
        await db.close()

    # The staff's note goes with the words (it may name the child and the family); the
    # record of what was done stays.
    assert query(database, "SELECT text, weighed, state, outcome, close_note, chat_id FROM cases"
                 " WHERE id = 1") == [("", "", "closed", "handled", None, None)]
    assert query(database, "SELECT by_user_id, text FROM case_messages") == [(SAFE, "")]
    assert query(database, "SELECT text FROM cases WHERE id = 2") == [(BEATEN,)]  # still open
    assert [a for _, a, _ in audit_of(database, 1)] == [
        "case_open", "case_viewed", "case_message", "case_closed"]  # the record stays
    stored = everything_in(database)
    assert DISCLOSURE not in stored and TO_CHILD not in stored
    assert BEATEN in stored

    # The card, asked for again from the first alert: what was done, not what was said.
    simulator.new_messages(SAFE)
    simulator.press(SAFE, alert.message_id, "c|1|0|show")
    card = texts(await safe._settle())
    assert "Trường hợp #1" in card and "đã đóng" in card and "Đã đóng (đã xử lý) lúc" in card
    assert "chỉ còn lại hồ sơ việc đã làm" in card and "Trẻ em đã xóa dữ liệu" not in card
    assert DISCLOSURE not in card and "Trẻ em viết" not in card and close_note not in card
    assert "Những từ khiến hệ thống chú ý" not in card


@pytest.fixture
async def forum_with_officer(simulator: BotApiSimulator, database: Path, tmp_path: Path,
                             monkeypatch: pytest.MonkeyPatch) -> AsyncIterator[BotProcess]:
    """As `forum`, and an officer who exports DHA and KTM (exports need the pseudonym key)."""
    monkeypatch.setenv("CHILDFORUM_PSEUDONYM_KEY", KEY)
    async with running_bot(simulator, database, tmp_path, STAFF + OFFICER_STAFF) as process:
        await open_chats(simulator, SAFE, MOD, ADMIN, OFFICER)
        yield process


class Officer(Child):
    async def file_after_tap(self, label: str) -> SentMessage:
        """Tap `label`, then wait for the file it brings (made off the loop: it may come after
        the chat went quiet)."""
        before = len(self.files())
        await self.tap(label)
        await self.sim.wait_until(lambda: len(self.files()) > before, 30)
        await self._settle()
        return self.files()[before]


async def exported_csv(officer: Officer) -> list[str]:
    """The refs of a CSV export of DHA, approved and pending, of all time, in chat."""
    await officer.say("/export")
    await officer.tap("Huyện Đắk Hà")
    await officer.tap("CSV")
    await officer.tap("⬜ chờ duyệt")
    await officer.tap("Tiếp")
    document = await officer.file_after_tap("Mọi thời gian")
    assert str(document.filename).endswith(".csv") and "chờ duyệt" in document.plain
    rows = csv.reader(io.StringIO((document.document or b"").decode("utf-8-sig")))
    return sorted(row[0] for row in rows if row and REF.match(row[0]))


async def test_a_flagged_answer_the_child_keeps_is_held_until_cleared(
        simulator: BotApiSimulator, forum_with_officer: BotProcess, database: Path) -> None:
    await submit(simulator, 914, "2.", "Suối gần trường rất sâu",
                 "Làm rào chắn và dạy bơi cho học sinh")  # DHA-0001, an ordinary proposal

    child = Child(simulator, 915)
    await child.register()
    await child.tap("1.")
    flagged = texts(await child.say(BEATEN))
    assert HOTLINE in flagged and "Em có muốn dùng điều vừa viết" in flagged
    assert "câu 2/4" in texts(await child.tap("✅ Dùng câu này"))
    await child.say("Xã nên có người đến thăm các gia đình hay đánh con")
    await child.tap("Gia đình")
    await child.tap("✔️")
    review = texts(await child.skip_to_review())  # "is this happening?": no
    assert BEATEN in review  # the kept text is the answer
    assert "DHA-0002" in texts(await child.tap("✅"))

    case_id = 1
    ((held_id,),) = query(database, "SELECT id FROM proposals WHERE ref = 'DHA-0002'")
    assert query(database, "SELECT id, source, tier, proposal_id FROM cases") == [
        (case_id, "detector", 1, held_id)]  # the one case, the detector's
    assert query(database, "SELECT seen, held_by_case, status FROM proposals WHERE id = ?",
                 held_id) == [(BEATEN, case_id, "pending")]

    # The moderator's queue: the ordinary proposal only, approved; then nothing.
    mod = Child(simulator, MOD)
    card = await mod.say("/queue")
    assert "DHA-0001" in texts(card) and "DHA-0002" not in texts(card)
    assert "Không còn ý kiến nào" in texts(await mod.tap("✅"))
    # A forged approve of the held one is refused and changes nothing.
    simulator.press(MOD, card[-1].message_id, f"q0|approve|{held_id}")
    refused = texts(await mod._settle())
    assert f"đang chờ cán bộ bảo vệ trẻ em (trường hợp #{case_id})" in refused
    assert query(database, "SELECT status, held_by_case FROM proposals WHERE id = ?",
                 held_id) == [("pending", case_id)]

    # The export, pending included: not there.
    officer = Officer(simulator, OFFICER)
    assert await exported_csv(officer) == ["DHA-0001"]

    # The safeguarding officer closes the case as "no concern": the proposal goes on.
    safe = Child(simulator, SAFE)
    await safe.say("/cases")
    assert "đang chờ trường hợp này" in texts(await safe.tap(f"Xem #{case_id}"))
    await safe.tap("✅ Đóng: không đáng lo")
    assert f"Đã đóng trường hợp #{case_id}" in texts(
        await safe.say("Em kể chuyện chung trong xóm, đã hỏi lại: em an toàn"))
    assert query(database, "SELECT held_by_case, status FROM proposals WHERE id = ?",
                 held_id) == [(None, "pending")]
    assert [a for _, a, d in audit_of(database, case_id)
            if d.get("outcome") == "cleared"] == ["case_closed"]

    assert await exported_csv(officer) == ["DHA-0001", "DHA-0002"]
    card = await mod.say("/queue")
    assert "DHA-0002" in texts(card) and BEATEN in texts(card)
    assert f"đã xem và cho tiếp tục (trường hợp #{case_id}" in texts(card)  # why it waited
    assert "Đã duyệt DHA-0002" in texts(await mod.tap("✅"))
    assert query(database, "SELECT status FROM proposals WHERE id = ?", held_id) == [
        ("approved",)]


async def test_a_kept_answer_then_yes_it_is_happening_holds_for_both_cases(
        simulator: BotApiSimulator, forum: BotProcess, database: Path) -> None:
    """Two cases about one draft (the detector's, then the review's): the proposal waits for
    both; the second does not replace the first."""
    child = Child(simulator, 917)
    await child.register()
    await child.tap("1.")
    await child.say(BEATEN)
    await child.tap("✅ Dùng câu này")
    await child.say("Xã nên có người đến thăm các gia đình hay đánh con")
    await child.tap("Gia đình")
    await child.tap("✔️")
    await child.skip_to_review(happening="Có")
    await child.tap("Không, cảm ơn")
    assert "DHA-0001" in texts(await child.tap("✅"))
    ((held_id,),) = query(database, "SELECT id FROM proposals WHERE ref = 'DHA-0001'")
    assert query(database, "SELECT id, source, proposal_id FROM cases ORDER BY id") == [
        (1, "detector", held_id), (2, "review", held_id)]
    assert query(database, "SELECT held_by_case FROM proposals") == [(1,)]
