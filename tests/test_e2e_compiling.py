"""/compile in chat, end to end: the real bot process, the simulator, a real SQLite file."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from bot.simulator import BotApiSimulator
from storage import proposals
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
    database = tmp_path / "forum.sqlite3"
    db = await open_database(database)
    async with db.transaction() as tx:
        for number, text in enumerate((*RIVER, HELMET), 1):
            await proposals.insert(tx, proposals.NewProposal(
                chat_id=None, forum_year=2023, district="DHA", topic="injuries",
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
    for odd in ("/compile name ² x", "/compile merge ① 1", "/compile move DHA-0005 ٣"):
        assert "/compile auto" in texts(await officer.say(odd))  # not a number: the help
    too_long = texts(await officer.say(f"/compile name {number} " + "rào " * 80))
    assert "cần từ 1 đến 300 ký tự" in too_long  # in the officer's language, not a code
    assert "Không tìm thấy 999" in texts(await officer.say("/compile merge 999 " + number))
    elsewhere = Child(simulator, OFFICER_KTM)
    assert "ngoài địa bàn" in texts(await elsewhere.say(f"/compile name {number} x"))
    child = texts(await Child(simulator, CHILD).say("/compile"))
    assert "kiến nghị chung" not in child  # not staff: the child conversation answers
    assert query(officer_bot, "SELECT count(*) FROM audit_log WHERE item_type ="
                              " 'recommendation'") == [(4,)]
