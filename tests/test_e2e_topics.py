"""A whole conversation for each of the five topics: four in Vietnamese (one typed without tone
marks) and one in English, each stored with its language tag; on Telegram and again on Zalo."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest

from tests.e2e import Meet, texts

CONVERSATIONS = [
    ("1.", "Tiếng Việt", "Ở xã em, nhiều người lớn vẫn nghĩ đánh con là chuyện bình thường",
     "Nhà trường nên có hộp thư để học sinh kể chuyện bị bắt nạt", ("Nhà trường",),
     "Xin người lớn hãy lắng nghe trẻ em", "vi"),
    ("2.", "Tiếng Việt", "suoi gan lang em sau lam, mua mua nuoc chay manh",
     "xa nen lam rao chan va day boi cho tre em", ("Xã", "Gia đình"),
     "", "vi"),
    ("3.", "Tiếng Việt", "Nhiều bạn chơi game đến khuya và bị người lạ nhắn tin làm quen",
     "Bố mẹ nên hướng dẫn con dùng mạng an toàn", ("Gia đình", "Nhà trường"),
     "Hãy dạy chúng em dùng mạng an toàn", "vi"),
    ("4.", "English", "Floods every rainy season cut the road to our school",
     "The district should build a safer bridge and plant more trees", ("Huyện", "Tỉnh"),
     "Please protect our forests", "en"),
    ("5.", "Tiếng Việt", "Nhiều bạn ở làng phải nghỉ học để đi làm rẫy với bố mẹ",
     "Xã cần hỗ trợ gia đình khó khăn để các bạn được đi học", ("Xã", "Trung ương"),
     "Chúng em muốn được đi học", "vi"),
]
BUTTONS = {"Tiếng Việt": ("✔️", "⏭", "✅"), "English": ("✔️", "⏭", "✅")}
ACTOR_EN = {"Huyện": "District", "Tỉnh": "Province"}


@pytest.mark.parametrize("topic,lang,seen,proposal,actors,message,tag", CONVERSATIONS,
                         ids=["violence", "injuries-no-tone-marks", "online", "climate-en",
                              "labour"])
async def test_each_topic_end_to_end(meet: Meet, database: Path,
                                     topic: str, lang: str, seen: str, proposal: str,
                                     actors: tuple[str, ...], message: str, tag: str) -> None:
    child = meet("en" if lang == "English" else "vi")
    await child.register(lang=lang)
    first = texts(await child.tap(topic))
    assert ("question 1/4" if lang == "English" else "câu 1/4") in first
    await child.say(seen)
    await child.say(proposal)
    for actor in actors:
        await child.tap(ACTOR_EN.get(actor, actor) if lang == "English" else actor)
    done, skip, send = BUTTONS[lang]
    await child.tap(done)
    review = texts(await child.say(message) if message else await child.tap(skip))
    if topic in ("1.", "3.", "5."):  # these topics ask "is this happening?" before the review
        assert "đang xảy ra" in review
        review = texts(await child.tap("Không"))
    assert seen in review and proposal in review
    thanks = texts(await child.tap(send))
    assert "DHA-0001" in thanks
    with sqlite3.connect(database) as db:
        stored = db.execute("SELECT seen, proposal, message, lang, needs_translation"
                            " FROM proposals").fetchall()
    assert stored == [(seen, proposal, message, tag, 0)]
