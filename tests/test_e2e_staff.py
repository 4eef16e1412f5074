"""The staff side end to end: children and a facilitator's group submit, moderators work the queue
in chat (approve, reject, edit, flag, skip, race), roles are granted and revoked, and /cases,
/stats and /audit agree with the database. The real bot process, the simulator, a real SQLite file.
"""

from __future__ import annotations

import asyncio
import re
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import UTC, datetime
from pathlib import Path

import pytest

from bot.config import load_config
from bot.conversation.catalog import load_catalog
from bot.simulator import BotApiSimulator
from tests import e2e
from tests.e2e import BotProcess, Child, texts, write_config
from tests.stores import Target, query

ADMIN, MODERATOR = 123456789, 234567890  # from config.example.toml (whole province; DHA, KTM)
MOD, RIVAL, SAFE, TEMP, TEMP2 = 8101, 8102, 8103, 8104, 8105
FACILITATOR = 9010
STAFF = f"""
[[staff]]
user_id = {MOD}
role = "moderator"
districts = ["DHA"]

[[staff]]
user_id = {RIVAL}
role = "moderator"
districts = ["DHA"]

[[staff]]
user_id = {SAFE}
role = "safeguarding"
districts = ["DHA"]
"""
PNG = b"\x89PNG\r\n\x1a\n"
ORIGINAL = "Nhiều bạn ở làng anh Nguyễn Văn A phải nghỉ học để đi làm rẫy với bố mẹ"
CORRECTED = "Nhiều bạn ở làng phải nghỉ học để đi làm rẫy với bố mẹ"
# (chat, district label, topic button, what they see, what they propose) -> refs in this order
CHILDREN = [
    (9001, "Huyện Đắk Hà", "2.", "Suối gần trường rất sâu, mùa mưa nước chảy xiết",
     "Làm rào chắn và dạy bơi cho học sinh"),                                 # DHA-0001 approve
    (9002, "Thành phố Kon Tum", "3.", "Nhiều bạn chơi game đến khuya",
     "Bố mẹ nên hướng dẫn con dùng mạng an toàn"),                            # KTM-0001 untouched
    (9003, "Huyện Đắk Hà", "3.", "Bạn Lan số điện thoại 0905123456 hay thức khuya lướt mạng",
     "Nhà trường dạy cách chặn người lạ"),                                    # DHA-0002 reject
    (9004, "Huyện Đắk Hà", "5.", ORIGINAL,
     "Xã cần hỗ trợ gia đình khó khăn để các bạn được đi học"),               # DHA-0003 edit, race
    (9005, "Huyện Đắk Hà", "4.", "Lũ về làm ngập đường đến trường",
     "Huyện nên xây cầu an toàn hơn"),                                        # DHA-0004 flag
    (9006, "Huyện Đắk Hà", "1.", "Nhiều người lớn nghĩ quát mắng con là bình thường",
     "Xã nên mở lớp cho cha mẹ về cách dạy con"),                             # DHA-0005 skip, last
]
GROUP_REF = "DHA-0900"



@pytest.fixture
def database(target: Target) -> Target:
    """This suite runs on SQLite and again on PostgreSQL."""
    return target

@asynccontextmanager
async def running_bot(simulator: BotApiSimulator, database: Target, tmp_path: Path,
                      extra_config: str, changes: dict[str, str] | None = None
                      ) -> AsyncIterator[BotProcess]:
    """The bot with more config; on the way out, no request it sent may have been invalid.

    A moderator's day squeezed into seconds would trip the per-person flood guard: raise it.
    """
    config = write_config(tmp_path / "config.toml", simulator, database, extra_config,
                          {"flood_messages = 20": "flood_messages = 200", **(changes or {})})
    async with e2e.running_bot(simulator, config) as process:
        yield process


@pytest.fixture
async def staff_bot(simulator: BotApiSimulator, database: Target,
                    tmp_path: Path) -> AsyncIterator[BotProcess]:
    async with running_bot(simulator, database, tmp_path, STAFF) as process:
        yield process


async def submit(simulator: BotApiSimulator, chat: int, district: str, topic: str, seen: str,
                 proposal: str) -> None:
    child = Child(simulator, chat)
    await child.register(district=district)
    await child.tap(topic)
    await child.say(seen)
    await child.say(proposal)
    await child.tap("Xã")
    await child.tap("✔️")
    await child.skip_to_review()
    assert "mã số" in texts(await child.tap("✅"))


def insert_group_proposal(database: Target) -> None:
    """A facilitator's group proposal, written as the facilitator flow stores one."""
    now = datetime.now(UTC).isoformat(timespec="seconds")
    query(database,
          "INSERT INTO proposals (ref, chat_id, forum_year, district, topic, seen, proposal,"
          " actors, message, lang, status, created_at, updated_at, is_group, group_size,"
          " group_age_range, school, commune, facilitator_chat_id) VALUES (?, NULL, 2023,"
          " 'DHA', 'online', ?, ?, 'school', '', 'vi', 'pending', ?, ?, 1, 12, '10-14', ?, ?, ?)",
          GROUP_REF, "Nhiều bạn trong lớp bị người lạ làm quen trên mạng",
          "Trường tổ chức buổi học về an toàn trên mạng", now, now, "Trường TH Đắk Hà",
          "Xã Hà Mòn", FACILITATOR)


def status_of(database: Target, ref: str) -> object:
    return query(database, "SELECT status FROM proposals WHERE ref = ?", ref)[0][0]


async def test_a_full_day_in_the_life(simulator: BotApiSimulator, staff_bot: BotProcess,
                                      database: Target, tmp_path: Path) -> None:
    for chat, district, topic, seen, proposal in CHILDREN:
        await submit(simulator, chat, district, topic, seen, proposal)
    facilitator = Child(simulator, FACILITATOR)
    await facilitator.say("/start")
    insert_group_proposal(database)
    ids = dict(query(database, "SELECT ref, id FROM proposals"))

    # A child typing a staff command gets the unknown-command answer, word for word.
    child = Child(simulator, 9001)
    assert texts(await child.say("/queue")) == texts(await child.say("/abracadabra"))

    # The DHA moderator's queue: DHA items only, oldest first, with everything needed to decide.
    mod, rival, safe, admin = (Child(simulator, user) for user in (MOD, RIVAL, SAFE, ADMIN))
    await safe.say("/cases")  # opens the chat (the bot cannot write first), nothing open yet
    card = texts(await mod.say("/queue"))
    for part in ("DHA-0001", "Tai nạn thương tích, đuối nước, giao thông", "Huyện Đắk Hà",
                 "trẻ em 10-12 tuổi", "Tiếng Việt", "Suối gần trường rất sâu",
                 "Làm rào chắn", "Ai nên làm: Xã, phường", "Còn 6 ý kiến"):
        assert part in card, part
    assert "KTM" not in card

    # Approve: the child is told, warmly, with the ref.
    approved = texts(await mod.tap("✅"))
    assert "Đã duyệt DHA-0001" in approved and "DHA-0002" in approved
    assert "DHA-0001 của em đã được chấp nhận" in texts(simulator.new_messages(9001))

    # Reject with a reason from the list: the child reads it in plain words.
    await mod.tap("❌")
    assert [label for label, _ in mod.latest_keyboard().buttons()] == [
        "Không đúng chủ đề", "Trùng lặp", "Có thông tin cá nhân", "Không phù hợp",
        "Lý do khác…", "⬅️ Quay lại"]
    assert all(len(data.encode()) <= 64 for _, data in mod.latest_keyboard().buttons())
    rejected = texts(await mod.tap("Có thông tin cá nhân"))
    assert "Đã từ chối DHA-0002" in rejected and "DHA-0003" in rejected
    notice = texts(simulator.new_messages(9003))
    assert "DHA-0002 của em chưa được chấp nhận" in notice and "số điện thoại" in notice

    # Edit: the moderator sends the corrected text; the original survives only in the edit log.
    await mod.tap("✏️")
    asked = texts(await mod.tap("Thực trạng"))
    assert ORIGINAL in asked
    edited = texts(await mod.say(CORRECTED))
    assert "Đã sửa DHA-0003" in edited and f"Thực trạng: {CORRECTED}" in edited
    assert query(database, "SELECT seen FROM proposals WHERE ref = 'DHA-0003'") == [(CORRECTED,)]
    assert query(database, "SELECT before_text, after_text FROM moderation_edits") == [
        (ORIGINAL, CORRECTED)]

    # A race on the same item: exactly one approval wins; the other is told who and when.
    assert "DHA-0003" in texts(await rival.say("/queue"))
    simulator.press_button(MOD, "✅ Duyệt")
    simulator.press_button(RIVAL, "✅ Duyệt")
    await simulator.wait_idle(quiet=0.3, timeout=20)
    answers = {user: texts(simulator.new_messages(user)) for user in (MOD, RIVAL)}
    winners = [user for user, answer in answers.items() if "Đã duyệt DHA-0003" in answer]
    assert len(winners) == 1
    (loser,) = {MOD, RIVAL} - set(winners)
    assert re.search(f"đã được cán bộ {winners[0]} duyệt lúc \\d\\d/\\d\\d/\\d{{4}}",
                     answers[loser])
    assert query(database, "SELECT status, moderated_by FROM proposals WHERE ref = 'DHA-0003'"
                 ) == [("approved", winners[0])]

    # Safeguarding: the item leaves the queue for the safeguarding list.
    flagged = texts(await mod.tap("🛡"))
    assert "Đã chuyển DHA-0004" in flagged and "DHA-0005" in flagged
    assert status_of(database, "DHA-0004") == "safeguarding"

    # Skip, then the group proposal, rejected with a typed reason sent to its facilitator.
    group_card = texts(await mod.tap("⏭"))
    for part in (GROUP_REF, "nhóm 12 em, 10-14 tuổi", "Trường TH Đắk Hà · Xã Hà Mòn"):
        assert part in group_card, part
    await mod.tap("❌")
    assert "Gõ lý do" in texts(await mod.tap("Lý do khác"))
    reason = "Nhóm em gửi lại khi cả lớp cùng góp ý nhé <3"
    after = texts(await mod.say(reason))
    assert f"Đã từ chối {GROUP_REF}" in after and "bỏ qua sẽ hiện lại" in after
    notice = texts(simulator.new_messages(FACILITATOR))  # to the facilitator, as an adult
    assert f"{GROUP_REF} của nhóm" in notice and f"Ghi chú của cán bộ: {reason}" in notice
    assert query(database, "SELECT reject_reason, reject_note FROM proposals WHERE ref = ?",
                 GROUP_REF) == [("other", reason)]

    # Roles by command; a revoked moderator's old button changes nothing.
    assert "Đã cấp quyền" in texts(await admin.say(f"/grant {TEMP} moderator DHA"))
    temp = Child(simulator, TEMP)
    assert "DHA-0005" in texts(await temp.say("/queue"))
    assert "Đã thu hồi" in texts(await admin.say(f"/revoke {TEMP} moderator"))
    assert "Đã duyệt" not in texts(await temp.tap("✅"))  # now a stranger: no hint of staff
    await admin.say(f"/grant {TEMP2} moderator DHA")
    await admin.say(f"/grant {TEMP2} safeguarding DHA")
    temp2 = Child(simulator, TEMP2)
    await temp2.say("/queue")
    await admin.say(f"/revoke {TEMP2} moderator")
    assert "không (còn) có quyền" in texts(await temp2.tap("✅"))
    assert status_of(database, "DHA-0005") == "pending"

    # Forged buttons: refused kindly, nothing changes.
    card_id = (await mod.say("/queue"))[-1].message_id
    simulator.press(MOD, card_id, "q3|nuke|5")
    simulator.press(MOD, card_id, "qqq")
    assert texts(await mod._settle()).count("Lựa chọn này không dùng được") == 2
    simulator.press(MOD, card_id, f"q0|approve|{ids['KTM-0001']}")
    assert "không thuộc huyện của bạn" in texts(await mod._settle())
    simulator.press(9001, 999_999, f"q0|approve|{ids['DHA-0005']}")
    assert "không hiểu lựa chọn" in texts(await child._settle())
    assert status_of(database, "KTM-0001") == status_of(database, "DHA-0005") == "pending"

    # The last DHA item; KTM-0001 is still pending but is not this moderator's.
    assert "Không còn ý kiến nào" in texts(await mod.tap("✅"))

    # An invite code with its deep link.
    invite = texts(await mod.say("/invite DHA 48 5"))
    ((code,),) = query(database, "SELECT code FROM invites WHERE district = 'DHA'")
    assert f"https://t.me/childforum_bot?start={code}" in invite

    # Cases, for those with the safeguarding duty only: the flagged proposal is a case, taken,
    # then closed with a note; the proposal it held stays out of the forum.
    assert "Trường hợp" not in texts(await mod.say("/cases"))
    listing = texts(await safe.say("/cases"))
    ((case_id, proposal_id),) = query(database, "SELECT id, proposal_id FROM cases")
    assert f"#{case_id}" in listing and "người duyệt chuyển" in listing
    shown = await safe.tap(f"Xem #{case_id}")
    assert "Lũ về làm ngập đường" in texts(shown)
    assert [label for label, _ in shown[-1].buttons()][:1] == ["✋ Nhận xử lý"]
    assert f"nhận xử lý trường hợp #{case_id}" in texts(await safe.tap("✋ Nhận xử lý"))
    assert f"#{case_id}" in texts(await safe.tap("✅ Đóng: đã xử lý"))
    assert f"Đã đóng trường hợp #{case_id}" in texts(await safe.say("Đã liên hệ nhà trường"))
    assert query(database, "SELECT state, outcome, close_note, closed_by FROM cases") == [
        ("closed", "handled", "Đã liên hệ nhà trường", SAFE)]
    assert query(database, "SELECT status FROM proposals WHERE id = ?", proposal_id) == [
        ("safeguarding",)]
    assert "Không có trường hợp nào" in texts(await safe.say("/cases"))

    await check_stats(simulator, mod, database, tmp_path)
    await check_audit(mod, ids, winners[0])


async def check_stats(simulator: BotApiSimulator, mod: Child, database: Target,
                      tmp_path: Path) -> None:
    """/stats: a text whose numbers are the database's, and a PNG chart."""
    simulator.send_text(MOD, "/stats")  # the chart takes a moment: wait for both messages
    text_message, photo = await simulator.wait_for_messages(MOD, 2, timeout=20)
    assert photo.kind == "photo" and photo.document is not None
    assert photo.document.startswith(PNG) and len(photo.document) > 5000
    stats = text_message.plain
    catalog = load_catalog(load_config(tmp_path / "config.toml"))
    status_label = {"pending": "chờ duyệt", "approved": "đã duyệt", "rejected": "từ chối",
                    "safeguarding": "bảo vệ trẻ em"}
    rows = query(database, "SELECT topic, status, count(*) FROM proposals"
                           " WHERE district = 'DHA' GROUP BY topic, status")
    for topic, status, count in rows:
        flow = catalog.topic(str(topic))
        assert flow is not None
        line = next(ln for ln in stats.splitlines()
                    if ln.startswith(f"• Huyện Đắk Hà · {flow.title['vi']}:"))
        assert f"{status_label[str(status)]} {count}" in line, line
    ((total, children),) = query(database, "SELECT count(*), sum(1 - is_group) FROM proposals"
                                           " WHERE district = 'DHA'")
    assert f"Tổng: {total} (trẻ em: {children}, nhóm: 1)" in stats
    assert f"10-12: {children}" in stats and f"không nói: {children}" in stats
    assert "Kon Tum" not in stats


async def check_audit(mod: Child, ids: dict[object, object], winner: int) -> None:
    """/audit: every step of the day in the moderator's district."""
    audit = texts(await mod.say("/audit"))
    for step in ("chính bạn · duyệt · DHA-0001",
                 "chính bạn · từ chối · DHA-0002 · Có thông tin cá nhân",
                 f"sửa · DHA-0003 · Thực trạng: «{ORIGINAL}» → «{CORRECTED}»",
                 "duyệt · DHA-0003", "chuyển sang bảo vệ trẻ em · DHA-0004",
                 f"từ chối · {GROUP_REF}",
                 f"cán bộ {ADMIN} · cấp quyền · người dùng {TEMP} · moderator DHA",
                 f"thu hồi quyền · người dùng {TEMP} · moderator", "tạo mã mời",
                 f"cán bộ {SAFE} · đóng trường hợp · trường hợp #1",
                 "chính bạn · duyệt · DHA-0005"):
        assert step in audit, step
    assert f"cán bộ {winner} · duyệt · DHA-0003" in audit or winner == MOD
    assert "KTM-0001" not in audit


async def test_digest_once_per_new_batch(simulator: BotApiSimulator, database: Target,
                                         tmp_path: Path) -> None:
    """Every [moderation] digest_minutes, one message per moderator, only when something new."""
    async with running_bot(simulator, database, tmp_path, "",
                           {"digest_minutes = 30": "digest_minutes = 0.04"}):
        for user in (ADMIN, MODERATOR):
            assert "Không còn ý kiến nào" in texts(await Child(simulator, user).say("/queue"))
        for chat, district, topic, seen, proposal in CHILDREN[:2]:
            await submit(simulator, chat, district, topic, seen, proposal)

        def digests(user: int) -> list[str]:
            return [m.plain for m in simulator.messages(user) if "🔔" in m.plain]

        await simulator.wait_until(lambda: bool(digests(ADMIN) and digests(MODERATOR)), 15)
        await asyncio.sleep(6)  # a few more digest intervals: nothing new, nothing sent
        seen_by = {user: sum(int(re.findall(r"\d+", text)[0]) for text in digests(user))
                   for user in (ADMIN, MODERATOR)}
        assert seen_by == {ADMIN: 2, MODERATOR: 2}
        assert all("/queue" in text for text in digests(ADMIN))
