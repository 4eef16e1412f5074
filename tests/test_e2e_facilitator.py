"""A facilitator joins with an invite code and records a discussion group's proposal."""

from __future__ import annotations

import sqlite3
from pathlib import Path

from bot.config import load_config
from bot.simulator import BotApiSimulator
from bot.staff.moderation import Invite, Moderation
from storage.db import open_database
from tests.e2e import ROOT, BotProcess, Child, Meet, texts

MODERATOR = 234567890  # a DHA moderator in config.example.toml


async def make_invite(database: Path, uses: int = 5) -> str:
    config = load_config(ROOT / "config.example.toml")
    db = await open_database(database)
    try:
        moderation = Moderation(db, config.staff, {d.code for d in config.districts})
        invite = await moderation.create_invite(MODERATOR, "DHA", 24, uses)
    finally:
        await db.close()
    assert isinstance(invite, Invite)
    return invite.code


async def test_a_facilitator_records_a_group_proposal(meet: Meet, database: Path) -> None:
    """On Telegram and again on Zalo: the code typed, the same steps."""
    code = await make_invite(database)
    facilitator = meet("vi")
    welcome = texts(await facilitator.say(code))
    assert "người phụ trách trẻ em" in welcome and "Huyện Đắk Hà" in welcome
    await facilitator.tap("Tiếng Việt")
    await facilitator.tap("2.")
    assert "gõ số" in texts(await facilitator.say("hai mươi lăm"))
    assert "gõ số" in texts(await facilitator.say("2⑤"))  # digits that are not ASCII's
    await facilitator.say("25")
    await facilitator.tap("10-12")
    await facilitator.tap("13-15")
    await facilitator.tap("✔️")
    await facilitator.skip_to_review()
    await facilitator.say("Xã Đắk Mar")
    # A child's disclosure, recorded by an adult: the adult's wording, then write something else.
    told = texts(await facilitator.say(
        "Có một em trong nhóm kể là bị bố dượng đánh bằng roi mỗi tối, lưng còn vết bầm"))
    assert "Cảm ơn thầy cô đã ghi lại" in told and "câu trả lời của nhóm" in told, told
    assert "Cảm ơn em" not in told
    await facilitator.tap("✏️")
    await facilitator.say("Nhiều ao hồ không có rào chắn")
    await facilitator.say("Xã làm rào và biển cảnh báo")
    await facilitator.tap("Xã")
    await facilitator.tap("✔️")
    review = texts(await facilitator.skip_to_review())
    assert "Số em trong nhóm: 25" in review and "10-12 tuổi, 13-15 tuổi" in review
    assert "DHA-0001" in texts(await facilitator.tap("✅"))
    with sqlite3.connect(database) as db:
        row = db.execute("SELECT is_group, group_size, group_age_range, school, commune,"
                         " age_band FROM proposals").fetchone()
        chat = db.execute("SELECT facilitator_chat_id FROM proposals").fetchone()[0]
    assert row == (1, 25, "10-12,13-15", None, "Xã Đắk Mar", None)
    assert chat == 600 or chat >= 2**53  # the Telegram chat, or the Zalo person's chat id


async def test_a_deep_link_joins_on_telegram(simulator: BotApiSimulator, bot: BotProcess,
                                             database: Path) -> None:
    code = await make_invite(database)
    facilitator = Child(simulator, 901)
    welcome = texts(await facilitator.say(f"/start {code}"))
    assert "người phụ trách trẻ em" in welcome and "Huyện Đắk Hà" in welcome


async def test_a_typed_code_joins_and_a_used_up_code_is_explained(
        simulator: BotApiSimulator, bot: BotProcess, database: Path) -> None:
    code = await make_invite(database, uses=1)
    first = Child(simulator, 902)
    assert "người phụ trách" in texts(await first.say(code.lower()))
    second = Child(simulator, 903)
    refused = texts(await second.say(f"/start {code}"))
    assert "không dùng được nữa" in refused and "Em có đồng ý" in refused
    stranger = Child(simulator, 904)
    assert "Em có đồng ý" in texts(await stranger.say("/start ABCDEFGH"))  # unknown: nothing said
    spaced = await make_invite(database, uses=2)
    for chat, typed in ((905, f"{spaced[:4]} {spaced[4:]}"), (906, f"{spaced[:4]}-{spaced[4:]}")):
        assert "người phụ trách" in texts(await Child(simulator, chat).say(typed)), typed


async def test_a_facilitator_who_types_too_fast_is_asked_to_wait_as_an_adult(
        simulator: BotApiSimulator, bot: BotProcess, database: Path) -> None:
    code = await make_invite(database)
    facilitator = Child(simulator, 905)
    assert "người phụ trách" in texts(await facilitator.say(f"/start {code}"))
    simulator.new_messages(905)
    for number in range(30):
        simulator.send_text(905, f"ý kiến {number}")
    await simulator.wait_idle(quiet=1.0, timeout=60)
    said = " ".join(m.plain for m in simulator.new_messages(905))
    assert "Xin thầy cô chờ vài giây" in said and "Em gửi nhanh quá" not in said, said
