"""The child's journey end to end: the bot process, the simulator, a real database (a SQLite file,
then a PostgreSQL server)."""

from __future__ import annotations

import re
from datetime import datetime, timedelta, timezone

import pytest

from bot.simulator import BotApiSimulator
from tests.e2e import BotProcess, Child, texts
from tests.stores import Target, query


@pytest.fixture
def database(target: Target) -> Target:
    """This suite runs on SQLite and again on PostgreSQL."""
    return target


async def test_a_child_sends_a_proposal(simulator: BotApiSimulator, bot: BotProcess,
                                        database: Target) -> None:
    child = Child(simulator, 501)
    welcome = texts(await child.say("/start"))
    assert "111" in welcome and "Children's Forum" in welcome
    await child.tap("Em đồng ý")
    await child.tap("Có, đã đồng ý")
    for label in ("Tiếng Việt", "Huyện Đắk Hà", "10-12", "Bạn nữ"):
        await child.tap(label)
    await child.tap("2.")
    await child.say("Suối gần trường rất sâu, mùa mưa nước chảy xiết")
    await child.say("Làm rào chắn và dạy bơi cho học sinh")
    await child.tap("Xã")
    await child.tap("✔️")
    review = texts(await child.skip_to_review())
    assert "Suối gần trường rất sâu" in review and "Xã, phường" in review
    thanks = texts(await child.tap("✅"))
    assert "DHA-0001" in thanks
    [row] = query(database, "SELECT ref, district, topic, seen, actors, lang, status"
                            " FROM proposals")
    assert row == ("DHA-0001", "DHA", "injuries", "Suối gần trường rất sâu, mùa mưa nước chảy xiết",
                   "commune", "vi", "pending")
    mine = texts(await child.say("/my"))
    assert "DHA-0001" in mine and "đang chờ duyệt" in mine
    # the day as people write it, in Vietnam's time
    today = datetime.now(timezone(timedelta(hours=7))).strftime("%d/%m/%Y")
    assert today in mine and not re.search(r"\d{4}-\d{2}-\d{2}", mine)
