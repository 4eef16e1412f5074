"""The staff suite (tests/test_e2e_staff.py) on Zalo, issue 11: moderators on Zalo work /queue
by the numbers and words of its menus (flag for safeguarding, skip, two at once on one item,
reject with a reason, edit), /audit keeps each step, /stats comes as text, an export asked on Zalo
is pointed to Telegram and the command line, the digest reaches a Zalo moderator once per new
batch, an officer on Zalo publishes an answer that the child reads on Zalo, and the admin grants
roles to people on Zalo. The real bot process serving Telegram and Zalo, both simulators, a real
SQLite file; children write on Zalo where their part matters, the rest is seeded.
"""

from __future__ import annotations

import asyncio
import re
import sqlite3
from collections.abc import AsyncIterator, Mapping
from contextlib import asynccontextmanager
from pathlib import Path

from bot.conversation.engine import State
from bot.conversation.service import state_to_row
from bot.simulator import BotApiSimulator, ZaloSimulator
from storage import children, proposals
from storage.db import open_database
from tests.e2e import Child, ZaloPerson, running_bot, texts, zalo_config
from tests.test_e2e_compiling import seed_many

ADMIN, MODERATOR = 123456789, 234567890  # config.example.toml, on Telegram (all; DHA and KTM)
MOD, RIVAL, SAFE, OFFICER = 10, 11, 12, 13  # staff on Zalo, by their zalo_id numbers
FIRST = 2**53  # the chat id of the first person to write on Zalo (bot/transport/channels.py)
KID, KID2 = 30, 31  # children on Zalo
SEEDED = 701  # a child on Telegram whose proposals are written straight into the database
INJURIES = "Tai nạn thương tích, đuối nước, giao thông"
ORIGINAL = "Nhiều bạn ở làng anh Nguyễn Văn A phải nghỉ học để đi làm rẫy với bố mẹ"
CORRECTED = "Nhiều bạn ở làng phải nghỉ học để đi làm rẫy với bố mẹ"
# (topic, seen, proposal) written into the database before the bot starts: the oldest in the queue
FLAGGED = ("violence", "Nhiều người lớn nghĩ quát mắng con là bình thường",
           "Xã nên mở lớp cho cha mẹ về cách dạy con")
SKIPPED = ("online", "Nhiều bạn chơi game đến khuya", "Bố mẹ nên hướng dẫn con dùng mạng an toàn")
EDITED = ("education", ORIGINAL, "Xã cần hỗ trợ gia đình khó khăn để các bạn được đi học")
# What a child on Zalo submits: (topic's number in the menu, seen, proposal)
RIVER = ("2.", "Suối gần trường rất sâu, mùa mưa nước chảy xiết",
         "Làm rào chắn và dạy bơi cho học sinh")
PHONE = ("3.", "Bạn Lan số điện thoại 0905123456 hay thức khuya lướt mạng",
         "Nhà trường dạy cách chặn người lạ")



@asynccontextmanager
async def zalo_forum(simulator: BotApiSimulator, zalo: ZaloSimulator, database: Path,
                     *staff: tuple[int, str], changes: Mapping[str, str] | None = None
                     ) -> AsyncIterator[None]:
    """The bot serving both channels, with `staff` (user id, role) in [[staff]] tables. A
    moderator's day squeezed into seconds would trip the per-person flood guard: it is raised;
    `changes` replace more lines of the config."""
    config = zalo_config(database.with_name("config.toml"), simulator, zalo, database)
    text = config.read_text(encoding="utf-8")
    for old, new in {"flood_messages = 20": "flood_messages = 200", **(changes or {})}.items():
        assert old in text, old
        text = text.replace(old, new)
    for user_id, role in staff:
        text += f'\n[[staff]]\nuser_id = {user_id}\nrole = "{role}"\ndistricts = ["DHA"]\n'
    config.write_text(text, encoding="utf-8")
    async with running_bot(simulator, config):
        yield


async def seed(database: Path, simulator: BotApiSimulator, *items: tuple[str, str, str],
               first: int = 0) -> list[str]:
    """Pending DHA proposals of a child on Telegram, stored as the child flow stores them (the
    child's profile too), before the bot starts or while it runs; their refs."""
    state = State(profile={"district": "DHA", "lang": "vi", "age_band": "10-12",
                           "gender": "female"}, profile_queue=())
    db = await open_database(database)
    try:
        async with db.transaction() as tx:
            await children.save(tx, state_to_row(SEEDED, state))
            refs = [await proposals.insert(tx, proposals.NewProposal(
                chat_id=SEEDED, forum_year=2023, district="DHA", topic=topic, age_band="10-12",
                gender="female", seen=seen, proposal=proposal, actors="commune", message="",
                lang="vi", needs_translation=False, source_update_id=900_000 + number))
                for number, (topic, seen, proposal) in enumerate(items, first)]
    finally:
        await db.close()
    simulator.add_chat(SEEDED, "private")
    return refs


async def staff_on_zalo(zalo: ZaloSimulator, number: int, user_id: int) -> ZaloPerson:
    """Someone on Zalo whose role is in the config: their /id is the user id of their [[staff]]
    tables. (A Zalo person is given the next chat id from 2**53 when they first write: the staff
    write first, in the order of their ids.)"""
    person = ZaloPerson(zalo, number)
    said = texts(await person.say("/id"))
    assert f"hệ thống: {user_id}." in said, said
    return person


async def grant(simulator: BotApiSimulator, command: str) -> str:
    """What the admin, on Telegram, is answered to `command` (/grant, /revoke)."""
    return texts(await Child(simulator, ADMIN).say(command))


async def submit_on_zalo(zalo: ZaloSimulator, number: int,
                         answers: tuple[str, str, str]) -> tuple[ZaloPerson, str]:
    """A child on Zalo registers and sends a DHA proposal by numbers and words; its ref."""
    child = ZaloPerson(zalo, number)
    await child.register()
    topic, seen, proposal = answers
    await child.answer_topic(topic, seen, proposal, "Xã")
    thanks = texts(await child.tap("✅"))
    found = re.search(r"mã số (DHA-\d{4})", thanks)
    assert found, thanks
    return child, found.group(1)


def query(database: Path, sql: str, *params: object) -> list[tuple[object, ...]]:
    """The rows of one statement on the bot's SQLite file, read beside the running bot."""
    with sqlite3.connect(database) as db:
        return db.execute(sql, params).fetchall()


def told(zalo: ZaloSimulator, person: ZaloPerson, words: str) -> list[str]:
    """The messages `person` got on Zalo that contain `words`."""
    return [m.plain for m in zalo.messages(person.id) if words in m.plain]


async def test_moderators_on_zalo_flag_skip_race_and_the_audit_keeps_it(
        simulator: BotApiSimulator, zalo: ZaloSimulator, tmp_path: Path) -> None:
    database = tmp_path / "forum.sqlite3"
    flagged, skipped = await seed(database, simulator, FLAGGED, SKIPPED)
    assert (flagged, skipped) == ("DHA-0001", "DHA-0002")
    mod_id, rival_id, safe_id = FIRST, FIRST + 1, FIRST + 2
    async with zalo_forum(simulator, zalo, database, (mod_id, "moderator"),
                          (rival_id, "moderator"), (safe_id, "safeguarding")):
        mod = await staff_on_zalo(zalo, MOD, mod_id)
        rival = await staff_on_zalo(zalo, RIVAL, rival_id)
        safe = await staff_on_zalo(zalo, SAFE, safe_id)
        child, ref = await submit_on_zalo(zalo, KID, RIVER)
        assert ref == "DHA-0003"

        # A child on Zalo typing a staff command gets the unknown-command answer, word for word.
        unknown = texts(await child.say("/abracadabra"))
        for command in ("/queue", "/audit", "/stats", "/export"):
            assert texts(await child.say(command)) == unknown, command

        # The card, its buttons as a numbered menu; oldest first.
        card = texts(await mod.say("/queue"))
        for part in (flagged, "Huyện Đắk Hà", "trẻ em 10-12 tuổi", FLAGGED[1], FLAGGED[2],
                     "Còn 3 ý kiến", "1. ✅ Duyệt", "2. ❌ Từ chối", "3. ✏️ Sửa",
                     "4. 🛡 Bảo vệ trẻ em", "5. 🌐 Cần người dịch", "6. ⏭ Bỏ qua"):
            assert part in card, part

        # Safeguarding by its number: the item leaves the queue for a case; the safeguarding
        # officer on Zalo is alerted and finds it in /cases.
        moved = texts(await mod.say("4"))
        assert f"Đã chuyển {flagged}" in moved and skipped in moved  # and the next card
        assert query(database, "SELECT status FROM proposals WHERE ref = ?", flagged) == [
            ("safeguarding",)]
        [(case_id, source)] = query(database, "SELECT c.id, c.source FROM cases c JOIN"
                                              " proposals p ON p.id = c.proposal_id"
                                              " WHERE p.ref = ?", flagged)
        assert source == "moderator"
        await zalo.wait_until(lambda: bool(told(zalo, safe, f"#{case_id}")), 20)
        listing = texts(await safe.say("/cases"))
        assert f"#{case_id}" in listing and "người duyệt chuyển" in listing

        # Skip: the next card; nothing changes, nothing is recorded.
        after_skip = texts(await mod.tap("⏭"))
        assert ref in after_skip and RIVER[1] in after_skip and skipped not in after_skip
        assert query(database, "SELECT status FROM proposals WHERE ref = ?", skipped) == [
            ("pending",)]

        # The rival skips by typing the words, then both approve DHA-0003 at the same moment:
        # one wins, the other is told who did it and when.
        assert skipped in texts(await rival.say("/queue"))
        assert ref in texts(await rival.say("bo qua"))
        zalo.send_text(mod.id, "1")
        zalo.send_text(rival.id, "1")
        await zalo.wait_idle(quiet=0.4, timeout=20)
        answers = {mod_id: texts(zalo.new_messages(mod.id)),
                   rival_id: texts(zalo.new_messages(rival.id))}
        winners = [user for user, answer in answers.items() if f"Đã duyệt {ref}" in answer]
        assert len(winners) == 1, answers
        (winner,) = winners
        (loser,) = {mod_id, rival_id} - {winner}
        assert re.search(f"đã được cán bộ {winner} duyệt lúc \\d\\d/\\d\\d/\\d{{4}}",
                         answers[loser]), answers[loser]
        for answer in answers.values():  # then each one's queue: only what they skipped
            assert "bỏ qua sẽ hiện lại" in answer
        assert query(database, "SELECT status, moderated_by FROM proposals WHERE ref = ?",
                     ref) == [("approved", winner)]
        await zalo.wait_until(lambda: bool(told(zalo, child, f"{ref} của em đã được chấp nhận")),
                              20)
        assert len(told(zalo, child, "đã được chấp nhận")) == 1  # told once
        assert skipped in texts(await mod.say("/queue"))  # what was skipped comes back

        # /audit: each action, by whom; the lost race and the skips left no trace.
        audit = texts(await mod.say("/audit"))
        for step in (f"chính bạn · chuyển sang bảo vệ trẻ em · {flagged}",
                     f"{'chính bạn' if winner == mod_id else f'cán bộ {winner}'} · duyệt · {ref}"):
            assert step in audit, step
        assert audit.count(f"duyệt · {ref}") == 1 and skipped not in audit
        assert query(database, "SELECT action, actor_user_id FROM audit_log"
                               " WHERE item_type = 'proposal' ORDER BY id") == [
            ("flag", mod_id), ("approve", winner)]

        # /stats as text, its numbers the database's; no chart: Zalo gets no picture.
        stats = texts(await mod.say("/stats"))
        assert "Tổng: 3 (trẻ em: 3, nhóm: 0)" in stats and "10-12: 3" in stats
        assert f"• Huyện Đắk Hà · {INJURIES}: đã duyệt 1" in stats
        assert "bảo vệ trẻ em 1" in stats and "chờ duyệt 1" in stats
        assert all(m.kind == "text" for m in zalo.messages(mod.id))
        assert not any(method == "sendPhoto" for method, _ in zalo.requests)

        # Exports stay on Telegram and the command line, and the bot says so on Zalo.
        for command in ("/export", "/answers"):
            said = texts(await mod.say(command))
            assert "Zalo không gửi được tệp" in said and "Telegram" in said, command
        assert all(m.kind == "text" for m in zalo.messages(mod.id))


async def test_a_moderator_on_zalo_rejects_with_a_reason_and_the_child_on_zalo_is_told(
        simulator: BotApiSimulator, zalo: ZaloSimulator, tmp_path: Path) -> None:
    database = tmp_path / "forum.sqlite3"
    async with zalo_forum(simulator, zalo, database, (FIRST, "moderator")):
        mod = await staff_on_zalo(zalo, MOD, FIRST)
        child, ref = await submit_on_zalo(zalo, KID, PHONE)
        assert ref in texts(await mod.say("/queue"))
        reasons = texts(await mod.tap("❌"))
        for n, reason in enumerate(("Không đúng chủ đề", "Trùng lặp", "Có thông tin cá nhân",
                                    "Không phù hợp", "Lý do khác…"), 1):
            assert f"{n}. {reason}" in reasons, reasons
        # A number past the list: the choices again, not every command (a tester got /help)
        again = texts(await mod.say("7"))
        assert "Chưa rõ bạn chọn gì" in again and "/audit" not in again, again
        rejected = texts(await mod.tap("Có thông tin cá nhân"))
        assert f"Đã từ chối {ref}" in rejected and "Không còn ý kiến nào" in rejected
        await zalo.wait_until(lambda: bool(told(zalo, child, f"{ref} của em chưa được chấp")), 20)
        assert "số điện thoại" in told(zalo, child, "chưa được chấp nhận")[0]
        assert query(database, "SELECT status, reject_reason FROM proposals WHERE ref = ?",
                     ref) == [("rejected", "personal_data")]
        assert f"chính bạn · từ chối · {ref} · Có thông tin cá nhân" in texts(
            await mod.say("/audit"))


async def test_a_moderator_on_zalo_edits_a_proposal_then_rejects_it_with_a_typed_reason(
        simulator: BotApiSimulator, zalo: ZaloSimulator, tmp_path: Path) -> None:
    database = tmp_path / "forum.sqlite3"
    [ref] = await seed(database, simulator, EDITED)
    async with zalo_forum(simulator, zalo, database, (FIRST, "moderator")):
        mod = await staff_on_zalo(zalo, MOD, FIRST)
        assert ORIGINAL in texts(await mod.say("/queue"))
        fields = texts(await mod.tap("✏️"))
        assert "Thực trạng" in fields and "Đề xuất" in fields, fields
        asked = texts(await mod.tap("Thực trạng"))
        assert ORIGINAL in asked
        edited = texts(await mod.say(CORRECTED))
        assert f"Đã sửa {ref}" in edited and f"Thực trạng: {CORRECTED}" in edited
        assert query(database, "SELECT seen FROM proposals WHERE ref = ?", ref) == [(CORRECTED,)]
        assert query(database, "SELECT before_text, after_text FROM moderation_edits") == [
            (ORIGINAL, CORRECTED)]

        # "Lý do khác…": the next text is the reason. A menu's number typed out of habit
        # ("6" was ⬅️ Quay lại) is neither a pick nor a reason: the prompt says so and waits.
        await mod.tap("❌")
        asked = texts(await mod.tap("Lý do khác"))
        assert "Gõ lý do" in asked and "thầy cô của nhóm" in asked and "/queue" in asked
        assert "không chỉ là số" in texts(await mod.say("6"))
        assert query(database, "SELECT status FROM proposals WHERE ref = ?", ref) == [
            ("pending",)]
        reason = "Ý kiến có tên một bạn khác"
        assert f"Đã từ chối {ref}" in texts(await mod.say(reason))
        assert query(database, "SELECT status, reject_reason, reject_note FROM proposals"
                               " WHERE ref = ?", ref) == [("rejected", "other", reason)]
        await simulator.wait_until(lambda: f"Các cô chú nhắn em: {reason}" in texts(
            simulator.messages(SEEDED)), 20)  # the child, on Telegram
        audit = texts(await mod.say("/audit"))
        assert f"sửa · {ref} · Thực trạng: «{ORIGINAL}» → «{CORRECTED}»" in audit
        assert f"chính bạn · từ chối · {ref}" in audit


async def test_staff_on_zalo_get_their_commands_not_the_childrens_consent(
        simulator: BotApiSimulator, zalo: ZaloSimulator, tmp_path: Path) -> None:
    """A moderator who is not in the children's conversation: /help lists what their roles
    allow, and words typed outside a prompt ("cảm ơn", a menu's number) get the same, never
    the children's consent; /start still takes them into it (to try it)."""
    database = tmp_path / "forum.sqlite3"
    async with zalo_forum(simulator, zalo, database, (FIRST, "moderator"),
                          (FIRST + 1, "officer")):
        mod = await staff_on_zalo(zalo, MOD, FIRST)
        officer = await staff_on_zalo(zalo, OFFICER, FIRST + 1)
        guide = texts(await mod.say("/help"))
        assert "kiểm duyệt" in guide and "/queue" in guide and "/audit" in guide
        assert "/publish" not in guide and "Em đồng ý" not in guide
        for said in ("cảm ơn", "1", "/cancel"):
            answer = texts(await mod.say(said))
            assert "/queue" in answer and "Em đồng ý" not in answer, said
        assert "/publish" in texts(await officer.say("/help"))
        assert "Em có đồng ý" in texts(await mod.say("/start"))
        assert query(database, "SELECT count(*) FROM children") == [(0,)]


async def test_the_digest_reaches_a_zalo_moderator_once_per_new_batch(
        simulator: BotApiSimulator, zalo: ZaloSimulator, tmp_path: Path) -> None:
    """Every [moderation] digest_minutes (here 2.4 s), one message per moderator, whatever
    their channel, only when something new came in."""
    database = tmp_path / "forum.sqlite3"
    async with zalo_forum(simulator, zalo, database, (FIRST, "moderator"),
                          changes={"digest_minutes = 30": "digest_minutes = 0.04"}):
        mod = await staff_on_zalo(zalo, MOD, FIRST)
        for user in (MODERATOR, ADMIN):  # on Telegram; their chats open: the bot cannot write first
            assert "Không còn ý kiến nào" in texts(await Child(simulator, user).say("/queue"))

        def on_zalo() -> list[str]:
            return told(zalo, mod, "🔔")

        def on_telegram_for(user: int) -> list[str]:
            return [m.plain for m in simulator.messages(user) if "🔔" in m.plain]

        await submit_on_zalo(zalo, KID, RIVER)  # the first batch: one, from a child on Zalo
        await zalo.wait_until(lambda: len(on_zalo()) == 1, 15)
        # the second: two at once, written while the bot runs
        assert await seed(database, simulator, SKIPPED, EDITED, first=10) == [
            "DHA-0002", "DHA-0003"]
        await zalo.wait_until(lambda: len(on_zalo()) == 2, 15)
        await asyncio.sleep(6)  # a few more digest intervals: nothing new, nothing sent
        assert on_zalo() == ["🔔 1 ý kiến mới đang chờ duyệt ở huyện của bạn — /queue",
                             "🔔 2 ý kiến mới đang chờ duyệt ở huyện của bạn — /queue"]
        for user in (MODERATOR, ADMIN):  # the same batches on Telegram
            assert [re.findall(r"\d+", text)[0] for text in on_telegram_for(user)] == ["1", "2"]
        assert "DHA-0001" in texts(await mod.say("/queue"))  # the digest's /queue, on Zalo


async def test_an_answer_published_on_zalo_reaches_the_child_on_zalo(
        simulator: BotApiSimulator, zalo: ZaloSimulator, tmp_path: Path) -> None:
    """A child on Zalo sends a proposal; an officer on Zalo approves it, answers it from its
    card by numbers and words, and publishes; the child reads the answer on Zalo and likes it."""
    database = tmp_path / "forum.sqlite3"
    async with zalo_forum(simulator, zalo, database, (FIRST, "moderator"), (FIRST, "officer")):
        officer = await staff_on_zalo(zalo, OFFICER, FIRST)
        child, ref = await submit_on_zalo(zalo, KID2, RIVER)
        assert ref in texts(await officer.say("/queue"))
        assert f"Đã duyệt {ref}" in texts(await officer.tap("✅"))

        card = texts(await officer.say(f"/answer {ref.lower()}"))
        assert f"Trả lời kiến nghị {ref}" in card and "Chưa có trả lời" in card
        assert "Gõ" in texts(await officer.tap("Đã thực hiện"))
        draft = texts(await officer.say("Xã đã làm rào chắn ở suối, hè này dạy bơi."))
        assert "Đã lưu bản nháp" in draft and "Kết quả: Đã thực hiện" in draft
        assert query(database, "SELECT state, text_vi, published_at IS NULL FROM answers") == [
            ("implemented", "Xã đã làm rào chắn ở suối, hè này dạy bơi.", 1)]
        assert not told(zalo, child, "đã có trả lời")  # a draft: the child is not told
        published = texts(await officer.say("cong bo"))  # the option's first words
        assert f"Đã công bố trả lời {ref}; 1 người" in published

        await zalo.wait_until(lambda: bool(told(zalo, child, f"{ref} của em đã có trả lời")), 20)
        await zalo.wait_idle(quiet=0.4)
        [notice] = told(zalo, child, "đã có trả lời")
        assert "Kết quả: Đã thực hiện" in notice and "hè này dạy bơi" in notice
        assert RIVER[2] in notice and "1. 👍 Có ích" in notice
        liked = texts(await child.tap("👍"))
        assert "Cảm ơn em" in liked and liked.endswith("🆘 Em cần giúp ngay")  # the menu again
        assert "Cảm ơn em" not in texts(await child.say("2"))  # the second topic, not 👎
        [(chat_id,)] = query(database, "SELECT chat_id FROM proposals WHERE ref = ?", ref)
        assert query(database, "SELECT chat_id, feedback FROM answer_notices") == [
            (chat_id, "up")]
        assert query(database, "SELECT count(*) FROM answers WHERE published_at IS NOT NULL"
                     ) == [(1,)]
        audit = texts(await officer.say("/audit"))
        assert f"chính bạn · công bố trả lời · {ref}" in audit
        assert chat_id == FIRST + 1  # the child's own chat id on Zalo, beside the officer's


async def test_the_admin_grants_and_revokes_a_role_for_anyone_on_zalo(
        simulator: BotApiSimulator, zalo: ZaloSimulator, tmp_path: Path) -> None:
    """docs/zalo.md: a person on Zalo sends /id; an admin grants them a role with it."""
    async with zalo_forum(simulator, zalo, tmp_path / "forum.sqlite3"):
        people = [ZaloPerson(zalo, number) for number in (MOD, RIVAL)]
        ids = []
        for person in people:
            said = texts(await person.say("/id"))
            ids.append(int(said.split("hệ thống: ")[1].split(".")[0]))
        assert ids == [FIRST, FIRST + 1]
        unknown = texts(await people[1].say("/queue"))  # not staff yet: an unknown command
        for user_id in ids:
            assert "Đã cấp quyền" in await grant(simulator, f"/grant {user_id} moderator DHA")
        for person in people:
            assert "Không còn ý kiến nào" in texts(await person.say("/queue"))
        assert "Đã thu hồi" in await grant(simulator, f"/revoke {ids[1]} moderator")
        assert texts(await people[1].say("/queue")) == unknown
        assert query(tmp_path / "forum.sqlite3", "SELECT user_id, role FROM staff_grants"
                     " WHERE revoked_at IS NULL") == [(FIRST, "moderator")]


async def test_an_officer_on_zalo_compiles_while_children_on_zalo_are_answered(
        simulator: BotApiSimulator, zalo: ZaloSimulator, tmp_path: Path) -> None:
    """An officer on Zalo sends "/compile auto" over thousands of proposals: the grouping runs
    before the event's transaction and beside other chats' events, so a child who writes on
    Zalo meanwhile is answered first, and the grouping is then written and reported."""
    database = tmp_path / "forum.sqlite3"
    await seed_many(database)
    async with zalo_forum(simulator, zalo, database, (FIRST, "officer")):
        officer = await staff_on_zalo(zalo, OFFICER, FIRST)
        assert "Chưa có kiến nghị chung nào" in texts(await officer.say("/compile"))
        zalo.send_text(officer.id, "/compile auto")
        await asyncio.sleep(0.5)  # grouping
        kid = ZaloPerson(zalo, KID)
        zalo.send_text(kid.id, "/start")
        await zalo.wait_until(lambda: bool(zalo.messages(kid.id)), timeout=60)
        assert not zalo.new_messages(officer.id), "the child waited for the grouping"
        await zalo.wait_until(lambda: bool(told(zalo, officer, "Đã gom")), timeout=120)
        made = query(database, "SELECT count(*) FROM recommendations")[0][0]
        grouped = query(database, "SELECT count(*) FROM proposals"
                                  " WHERE recommendation_id IS NOT NULL")[0][0]
        assert made and told(zalo, officer, f"Đã gom {grouped} ý kiến thành {made} kiến nghị")
