"""/compile in chat, end to end: the real bot process, the simulator, a real SQLite file."""

from __future__ import annotations

import asyncio
import random
import re
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any, cast

import pytest

from bot.compiling.service import default_title
from bot.conversation.engine import State
from bot.conversation.service import state_to_row
from bot.simulator import BotApiSimulator
from storage import children, proposals
from storage.db import open_database
from tests.e2e import Child, running_bot, texts, write_config
from tests.stores import query
from tests.test_compiling import HELMET, RIVER

OFFICER, OFFICER_KTM, CHILD = 456789012, 456789013, 701
STAFF = f"""
[[staff]]
user_id = {OFFICER}
role = "officer"
districts = ["DHA"]

[[staff]]
user_id = {OFFICER_KTM}
role = "officer"
districts = ["KTM"]
"""


@pytest.fixture
async def officer_bot(simulator: BotApiSimulator, tmp_path: Path) -> AsyncIterator[Path]:
    """The river proposals (the first one CHILD's, the others of people gone) and a helmet one,
    approved; an officer of DHA and one of KTM."""
    database = tmp_path / "forum.sqlite3"
    db = await open_database(database)
    async with db.transaction() as tx:
        await children.save(tx, state_to_row(CHILD, State(profile={
            "district": "DHA", "lang": "vi", "age_band": "10-12", "gender": "female"},
            profile_queue=())))
        for number, text in enumerate((*RIVER, HELMET), 1):
            await proposals.insert(tx, proposals.NewProposal(
                chat_id=CHILD if number == 1 else None, forum_year=2023, district="DHA",
                topic="injuries",
                age_band="10-12", gender="female", seen="", proposal=text, actors="commune",
                message="", lang="vi", needs_translation=False, source_update_id=number))
        await tx.execute("UPDATE proposals SET status = 'approved'")
    await db.close()
    config = write_config(tmp_path / "config.toml", simulator, database, STAFF)
    async with running_bot(simulator, config):
        yield database


async def test_an_officer_compiles_in_chat(simulator: BotApiSimulator,
                                           officer_bot: Path) -> None:
    officer = Child(simulator, OFFICER)
    assert "Chưa có kiến nghị chung nào" in texts(await officer.say("/compile"))
    done = texts(await officer.say("/compile auto"))
    assert "Đã gom 4 ý kiến thành 1 kiến nghị chung; 1 ý kiến để riêng." in done
    listed = texts(await officer.say("/compile"))
    assert "4 ý kiến" in listed and "DHA-0001, DHA-0002, DHA-0003, DHA-0004" in listed
    number = re.search(r"#(\d+)", listed).group(1)  # type: ignore[union-attr]
    named = texts(await officer.say(f"/compile name {number} Rào chắn <và> biển báo bến sông"))
    assert "Rào chắn <và> biển báo bến sông" in named  # shown as typed, HTML escaped
    assert query(officer_bot, "SELECT title FROM recommendations") == [
        ("Rào chắn <và> biển báo bến sông",)]
    assert "Đã để riêng ý kiến DHA-0004." in texts(await officer.say("/compile move DHA-0004 out"))
    assert "TNTT" in texts(await officer.say(f"/compile move DHA-0005 {number}"))
    assert "/compile auto" in texts(await officer.say("/compile what"))  # the help
    spaced = texts(await officer.say("/compile split DHA-0002, DHA-0003"))  # as typed by hand
    assert "DHA-0002, DHA-0003" in spaced and "2 ý kiến" in spaced
    assert "hai số khác nhau" in texts(await officer.say(f"/compile merge {number} {number}"))
    for odd in ("/compile name ² x", "/compile merge ① 1", "/compile move DHA-0005 ٣"):
        assert "/compile auto" in texts(await officer.say(odd))  # not a number: the help
    too_long = texts(await officer.say(f"/compile name {number} " + "rào " * 80))
    assert "cần từ 1 đến 300 ký tự" in too_long  # in the officer's language, not a code
    assert "Không tìm thấy 999" in texts(await officer.say("/compile merge 999 " + number))
    elsewhere = Child(simulator, OFFICER_KTM)
    assert "ngoài địa bàn" in texts(await elsewhere.say(f"/compile name {number} x"))
    child = Child(simulator, CHILD)
    assert "kiến nghị chung" not in texts(await child.say("/compile"))  # not staff: the
    # child conversation answers
    assert query(officer_bot, "SELECT count(*) FROM audit_log WHERE item_type ="
                              " 'recommendation'") == [(5,)]  # auto, name, 2 moves, split


async def test_a_recommendation_worded_as_an_erased_childs_proposal_is_worded_again(
        simulator: BotApiSimulator, officer_bot: Path) -> None:
    """/compile auto names a group after its most typical proposal, here a child's; when the
    child erases everything (/delete), those words go from the recommendation too: it is
    worded as what it still holds."""
    officer = Child(simulator, OFFICER)
    await officer.say("/compile auto")
    [(title,)] = query(officer_bot, "SELECT title FROM recommendations")
    assert title == default_title_of(RIVER[0])
    simulator.add_chat(CHILD, "private")
    child = Child(simulator, CHILD)
    assert "xóa hết" in texts(await child.say("/delete"))
    assert "Đã xóa hết" in texts(await child.tap("Xóa hết"))
    [(title,)] = query(officer_bot, "SELECT title FROM recommendations")
    assert title == default_title_of(*RIVER[1:]), title  # the most typical of the three left
    assert title != default_title_of(RIVER[0])
    assert query(officer_bot, "SELECT count(*) FROM proposals WHERE recommendation_id"
                              " IS NOT NULL") == [(3,)]


def default_title_of(*texts: str) -> str:
    """How /compile auto words a group of proposals of these words."""
    return default_title([cast(Any, type("Member", (), {"text": text})) for text in texts])


MANY = 4_000  # seconds of grouping, as a district's whole year can be
WORDS = ("làm rào chắn bến suối sông hồ bơi dạy học bơi cho trẻ em đội mũ bảo hiểm khi đi xe máy "
         "đèn giao thông trước cổng trường biển báo nguy hiểm lắp camera sân chơi an toàn có người "
         "lớn trông coi xây cầu qua suối cho học sinh")


async def seed_many(database: Path) -> None:
    """MANY approved DHA injuries proposals of random words, as much grouping as a district's
    whole year."""
    db = await open_database(database)
    rng = random.Random(7)
    async with db.transaction() as tx:
        for number in range(MANY):
            text = " ".join(rng.choice(WORDS.split()) for _ in range(rng.randint(6, 14)))
            await proposals.insert(tx, proposals.NewProposal(
                chat_id=None, forum_year=2023, district="DHA", topic="injuries",
                age_band="10-12", gender="female", seen="", proposal=text, actors="commune",
                message="", lang="vi", needs_translation=False, source_update_id=number + 1))
        await tx.execute("UPDATE proposals SET status = 'approved'")
    await db.close()


async def test_compile_auto_groups_while_children_are_answered(simulator: BotApiSimulator,
                                                                tmp_path: Path) -> None:
    """The grouping runs off the event loop and outside any write transaction: a child who
    writes meanwhile is answered at once, and what it grouped is then written."""
    database = tmp_path / "forum.sqlite3"
    await seed_many(database)
    config = write_config(tmp_path / "config.toml", simulator, database, STAFF)
    async with running_bot(simulator, config):
        officer = Child(simulator, OFFICER)
        await officer.say("/compile list")
        had = len(simulator.messages(OFFICER))
        simulator.send_text(OFFICER, "/compile auto")
        await asyncio.sleep(0.5)  # grouping
        simulator.send_text(CHILD, "/start")
        await simulator.wait_until(lambda: bool(simulator.messages(CHILD)), timeout=60)
        assert len(simulator.messages(OFFICER)) == had, "the child waited for the grouping"
        await simulator.wait_until(lambda: len(simulator.messages(OFFICER)) > had, timeout=120)
        done = texts(simulator.messages(OFFICER)[had:])
        made = query(database, "SELECT count(*) FROM recommendations")[0][0]
        grouped = query(database, "SELECT count(*) FROM proposals"
                                  " WHERE recommendation_id IS NOT NULL")[0][0]
        assert made > 0 and f"Đã gom {grouped} ý kiến thành {made} kiến nghị" in done, done
