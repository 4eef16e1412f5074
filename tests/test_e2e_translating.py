"""A child writes in Bahnar; a translator of the district translates in chat; the moderator
then sees both. The real bot process, the simulator, a real SQLite file."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from bot.simulator import BotApiSimulator
from tests.e2e import Child, running_bot, texts, write_config
from tests.stores import query

TRANSLATOR, MODERATOR = 567890123, 234567890  # MODERATOR: config.example.toml (DHA, KTM)
STAFF = f"""
[[staff]]
user_id = {TRANSLATOR}
role = "translator"
districts = ["DHA"]
"""
SEEN = "Hnam inh uĕi pơlĕi Kon Druch. Tơnglơ̆i hnam e uĕi hăn như?"  # Bahnar (../shared/langid)
PROPOSAL = "Pui adrin, inh kung năm tơ chơ̆. Ba adĭng năm yơh!"


@pytest.fixture
async def forum(simulator: BotApiSimulator, tmp_path: Path) -> AsyncIterator[Path]:
    database = tmp_path / "forum.sqlite3"
    config = write_config(tmp_path / "config.toml", simulator, database, STAFF)
    async with running_bot(simulator, config):
        yield database


async def waiting_for_a_translator(simulator: BotApiSimulator, forum: Path, user_id: int,
                                   seen: str, proposal: str) -> tuple[Child, Child, str]:
    """A child sends a climate proposal the tagger sends to translators: it is not in /queue,
    and the translator's /translate shows it. The moderator, the translator and what it showed."""
    child = Child(simulator, user_id)
    await child.register()
    await child.answer_topic("4.", seen, proposal, "Xã")
    assert "DHA-0001" in texts(await child.tap("✅"))
    assert query(forum, "SELECT lang, needs_translation FROM proposals") == [("other", 1)]
    moderator = Child(simulator, MODERATOR)
    assert "Không còn ý kiến nào" in texts(await moderator.say("/queue"))  # it waits
    translator = Child(simulator, TRANSLATOR)
    return moderator, translator, texts(await translator.say("/translate"))


async def test_a_bahnar_proposal_is_translated_before_moderation(
        simulator: BotApiSimulator, forum: Path) -> None:
    moderator, translator, shown = await waiting_for_a_translator(simulator, forum, 901, SEEN,
                                                                  PROPOSAL)
    assert SEEN in shown and "Em thấy" in shown
    assert "Cán bộ bảo vệ trẻ em" not in shown  # not held: no warning
    first = simulator.send_text(TRANSLATOR, "Nhà em ở làng Kon Druch, xa trường")
    assert "Em đề nghị" in texts(await translator._settle())
    simulator.redeliver(first["update_id"])  # Telegram sends it again: not the next field
    assert texts(await translator._settle()) == ""
    done = texts(await translator.say("Chúng em mong có đường đi học an toàn"))
    assert "Đã lưu bản dịch DHA-0001" in done
    card = texts(await moderator.say("/queue"))
    assert PROPOSAL in card and "Chúng em mong có đường đi học an toàn" in card
    assert "bản dịch" in card and "cần dịch" not in card  # translated: no "⚠️ needs it"
    assert query(forum, "SELECT seen_vi, proposal_vi FROM proposals") == [
        ("Nhà em ở làng Kon Druch, xa trường", "Chúng em mong có đường đi học an toàn")]
    await moderator.say("/stats")  # the chart comes first, when matplotlib has loaded

    def stats() -> str:
        return texts(simulator.messages(MODERATOR)[-3:])

    await simulator.wait_until(lambda: "Theo ngôn ngữ trẻ em viết" in stats(), 30)
    assert "(đã dịch 1, chờ dịch 0)" in stats()


async def test_a_bahnar_proposal_under_a_vietnamese_field_still_reaches_a_translator(
        simulator: BotApiSimulator, forum: Path) -> None:
    """The fields were tagged joined: "what I saw" in Vietnamese outvoted an unmarked Bahnar
    proposal, which went to moderation and the exports as if it were Vietnamese."""
    seen = "Ở làng em mùa mưa nước suối lên rất nhanh, nhiều bạn bị cuốn trôi"
    unmarked = "Pui adrin, inh kung nam to cho. Ba ading nam yoh!"
    moderator, translator, shown = await waiting_for_a_translator(simulator, forum, 902, seen,
                                                                  unmarked)
    assert unmarked in shown and seen in shown
    await translator.say(seen)  # every field the child filled in, the Vietnamese one as it is
    done = texts(await translator.say("Chúng em mong người lớn dạy bơi cho trẻ em"))
    assert "Đã lưu bản dịch DHA-0001" in done
    card = texts(await moderator.say("/queue"))
    assert unmarked in card and "Chúng em mong người lớn dạy bơi cho trẻ em" in card


async def test_a_held_proposal_in_bahnar_reaches_a_translator_and_its_case_card(
        simulator: BotApiSimulator, tmp_path: Path) -> None:
    """A Bahnar child says "yes, it is happening to me": the case holds the proposal, which in
    Bahnar no safeguarding officer could read, and the translation queue left out. Now the
    translator gets it, its Vietnamese shows on the case card, and it stays out of moderation."""
    guard = 345678901
    database = tmp_path / "forum.sqlite3"
    config = write_config(tmp_path / "config.toml", simulator, database, STAFF + f"""
[[staff]]
user_id = {guard}
role = "safeguarding"
districts = ["DHA"]
""")
    for staff in (guard, TRANSLATOR, MODERATOR):
        simulator.add_chat(staff, "private")  # they have started the bot before
    async with running_bot(simulator, config):
        child = Child(simulator, 903)
        await child.register()
        await child.tap("1.")
        await child.say(SEEN)
        await child.say(PROPOSAL)
        await child.tap("Gia đình")
        await child.tap("✔️")
        await child.skip_to_review(happening="Có")
        await child.tap("Không, cảm ơn")
        assert "DHA-0001" in texts(await child.tap("✅"))
        assert query(database, "SELECT lang, held_by_case FROM proposals") == [("other", 1)]
        safe = Child(simulator, guard)
        assert "#1" in texts(await safe.say("/cases"))
        card = texts(await safe.tap("Xem #1"))
        assert "tiếng khác" in card and "Bản dịch tiếng Việt" not in card
        translator = Child(simulator, TRANSLATOR)
        shown = texts(await translator.say("/translate"))
        assert "DHA-0001" in shown and SEEN in shown
        assert "Cán bộ bảo vệ trẻ em đang xem ý kiến này (trường hợp #1)" in shown, shown
        await translator.say("Nhà em ở làng Kon Druch, xa trường")
        done = texts(await translator.say("Bố em đánh em mỗi tối, em sợ về nhà"))
        assert "Đã lưu bản dịch DHA-0001" in done and "trường hợp #1" in done, done
        told = texts(simulator.messages(guard)[-1:])
        assert "Trường hợp #1" in told and "bản dịch" in told, told
        card = texts(await safe.tap("Xem #1"))
        assert "Bản dịch tiếng Việt" in card and "Bố em đánh em mỗi tối" in card, card
        assert query(database, "SELECT count(*) FROM cases") == [(1,)]  # no second case
        moderator = Child(simulator, MODERATOR)
        assert "Không còn ý kiến nào" in texts(await moderator.say("/queue"))  # still held
        assert query(database, "SELECT held_by_case, status FROM proposals") == [(1, "pending")]


async def test_the_translator_is_told_first_and_moderators_once_it_is_translated(
        simulator: BotApiSimulator, tmp_path: Path) -> None:
    """The digest (every 2.4 s here): a proposal waiting for a translator is the translator's
    news; moderators hear of it when /queue can show it."""
    database = tmp_path / "forum.sqlite3"
    config = write_config(tmp_path / "config.toml", simulator, database, STAFF,
                          changes={"digest_minutes = 30": "digest_minutes = 0.04"})

    def told(chat: int) -> list[str]:
        return [m.plain for m in simulator.messages(chat) if m.plain.startswith("🔔")]

    for staff in (TRANSLATOR, MODERATOR):
        simulator.add_chat(staff, "private")  # they have started the bot before
    async with running_bot(simulator, config):
        child = Child(simulator, 901)
        await child.register()
        await child.answer_topic("4.", SEEN, PROPOSAL, "Xã")
        await child.tap("✅")
        await simulator.wait_until(lambda: bool(told(TRANSLATOR)), 15)
        assert told(TRANSLATOR) == ["🔔 1 ý kiến viết bằng tiếng khác đang chờ bạn dịch"
                                    " — /translate"]
        assert told(MODERATOR) == []  # nothing /queue could show them
        translator = Child(simulator, TRANSLATOR)
        await translator.say("/translate")
        await translator.say("Nhà em ở làng Kon Druch, xa trường")
        await translator.say("Chúng em mong có đường đi học an toàn")
        await simulator.wait_until(lambda: bool(told(MODERATOR)), 15)
        assert told(MODERATOR) == ["🔔 1 ý kiến mới đang chờ duyệt ở huyện của bạn — /queue"]
        assert len(told(TRANSLATOR)) == 1  # told once
