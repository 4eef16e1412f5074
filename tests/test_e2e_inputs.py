"""Every input a person can send gets a clear, kind answer, and nothing is lost or half-stored."""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path

from bot.simulator import BotApiSimulator
from tests.e2e import BotProcess, Child, texts


async def start_topic(simulator: BotApiSimulator, user_id: int) -> Child:
    child = Child(simulator, user_id)
    await child.register()
    await child.tap("3.")
    return child


async def test_non_text_where_text_is_expected(simulator: BotApiSimulator,
                                               bot: BotProcess) -> None:
    child = await start_topic(simulator, 701)
    for kind in ("sticker", "photo", "voice", "location", "contact"):
        answer = texts(await child.send(kind))
        assert "chỉ đọc được chữ" in answer and "câu 1/4" in answer, kind


async def test_bad_text_is_explained_and_nothing_half_stored(
        simulator: BotApiSimulator, bot: BotProcess, database: Path) -> None:
    child = await start_topic(simulator, 702)
    assert "chưa viết gì" in texts(await child.say("   \u200b  "))
    too_long = texts(await child.say("a" * 10_000))
    assert "10000" in too_long and "800" in too_long
    assert "biểu tượng" in texts(await child.say("😀😀🎉"))
    with sqlite3.connect(database) as db:
        state = db.execute("SELECT state FROM children WHERE chat_id = 702").fetchone()[0]
    assert '"answers": {}' in state


async def test_markup_and_invisible_characters_are_echoed_safely(
        simulator: BotApiSimulator, bot: BotProcess, database: Path) -> None:
    child = await start_topic(simulator, 703)
    tricky = "<b>đậm</b> & <3 *sao* _gạch_ `code` [link](x) \u200bẩn \u202edảo"
    await child.say(tricky)
    await child.say("Dạy kỹ năng an toàn 😊")
    await child.tap("Gia đình")
    await child.tap("✔️")
    review = texts(await child.skip_to_review())
    assert "<b>đậm</b> & <3 *sao* _gạch_ `code` [link](x) ẩn dảo" in review
    await child.tap("✅")
    with sqlite3.connect(database) as db:
        seen = db.execute("SELECT seen FROM proposals").fetchone()[0]
    assert seen == "<b>đậm</b> & <3 *sao* _gạch_ `code` [link](x) ẩn dảo"


async def test_a_lone_surrogate_is_read_as_a_replacement_character(
        simulator: BotApiSimulator, bot: BotProcess, database: Path) -> None:
    """Half of a surrogate pair, escaped in valid JSON ("\\ud800"): no text can be stored
    or sent with it. The answer is kept, the half made U+FFFD (a whole pair is an emoji)."""
    child = await start_topic(simulator, 704)
    assert "câu 2/4" in texts(await child.say("Suối \ud800 sâu 😊"))
    with sqlite3.connect(database) as db:
        assert db.execute("SELECT count(*) FROM inbox WHERE done_at IS NULL").fetchone() == (0,)
        draft = db.execute("SELECT state FROM children WHERE chat_id = 704").fetchone()[0]
    assert "Suối \ufffd sâu 😊" in json.loads(draft)["answers"]["seen"]


async def test_text_where_a_button_is_expected(simulator: BotApiSimulator,
                                               bot: BotProcess) -> None:
    child = Child(simulator, 704)
    await child.say("/start")
    await child.tap("Em đồng ý")
    await child.tap("Có, đã đồng ý")
    await child.tap("Tiếng Việt")
    assert "chọn một ý" in texts(await child.say("huyện của em ở xa lắm"))
    asked_age = texts(await child.say("dak ha"))  # a typed choice, tone marks optional
    assert "bao nhiêu tuổi" in asked_age


async def test_commands_mid_flow_keep_the_draft(simulator: BotApiSimulator,
                                                bot: BotProcess) -> None:
    child = await start_topic(simulator, 705)
    await child.say("Người lạ nhắn tin làm quen")
    assert "/delete" in texts(await child.say("/help"))
    assert "câu 2/4" in texts(await child.say("/start"))
    assert "chưa gửi ý kiến nào" in texts(await child.say("/my"))
    assert "chưa hiểu lệnh này" in texts(await child.say("/abracadabra"))
    assert "câu 2/4" in texts(simulator.messages(705)[-1:])


async def test_old_and_forged_buttons(simulator: BotApiSimulator, bot: BotProcess) -> None:
    child = Child(simulator, 706)
    await child.register()
    menu = child.latest_keyboard()
    old_data = menu.buttons()[0][1]
    await child.tap("3.")
    simulator.press(706, menu.message_id, old_data)
    assert "câu hỏi trước" in texts(await child._settle())
    simulator.press(706, menu.message_id, "9|delete|yes")
    assert "câu hỏi trước" in texts(await child._settle())
    simulator.press(706, 999_999, "totally-forged")
    assert "không hiểu lựa chọn" in texts(await child._settle())
    assert len(simulator.callback_answers) >= 3  # every press stops its spinner


async def test_group_chats_are_pointed_to_a_private_chat(simulator: BotApiSimulator,
                                                         bot: BotProcess,
                                                         database: Path) -> None:
    simulator.send_text(707, "/start", chat_id=-100123, chat_type="supergroup")
    simulator.send_text(707, "em muốn góp ý", chat_id=-100123, chat_type="supergroup")
    await simulator.wait_idle(quiet=0.2)
    replies = simulator.new_messages(-100123)
    assert len(replies) == 1 and "t.me/childforum_bot" in replies[0].plain
    with sqlite3.connect(database) as db:
        assert db.execute("SELECT count(*) FROM children").fetchone()[0] == 0


async def test_flooding_is_answered_once(simulator: BotApiSimulator, bot: BotProcess) -> None:
    child = await start_topic(simulator, 708)
    for n in range(40):
        simulator.send_text(708, f"tin {n}")
    await child._settle()
    floods = [m for m in simulator.messages(708) if "gửi nhanh quá" in m.plain]
    assert len(floods) == 1


async def test_edited_message_is_explained(simulator: BotApiSimulator, bot: BotProcess) -> None:
    child = await start_topic(simulator, 709)
    sent = simulator.send_text(709, "Người lạ xin ảnh")
    await child._settle()
    simulator.edit_text(709, sent["message"]["message_id"], "Người lạ xin số điện thoại")
    assert "Sửa ở bước xem lại" in texts(await child._settle())


async def test_a_disclosure_gets_111_and_is_flagged_not_stored(
        simulator: BotApiSimulator, bot: BotProcess, database: Path) -> None:
    child = await start_topic(simulator, 710)
    reply = texts(await child.say("Bố em hay đánh em mỗi khi say rượu"))
    assert "111" in reply and "dùng điều vừa viết" in reply
    with sqlite3.connect(database) as db:
        found = db.execute("SELECT district, text, source, tier FROM cases").fetchall()
    assert found == [("DHA", "Bố em hay đánh em mỗi khi say rượu", "detector", 1)]
    assert "câu 1/4" in texts(await child.tap("✏️ Viết câu khác"))
    with sqlite3.connect(database) as db:
        state = db.execute("SELECT state FROM children").fetchone()[0]
    assert "say rượu" not in state  # not used as an answer unless the child says so


async def test_a_child_may_keep_a_flagged_answer(simulator: BotApiSimulator, bot: BotProcess,
                                                 database: Path) -> None:
    child = Child(simulator, 711)
    await child.register()
    await child.tap("1.")
    await child.say("em thấy bạn Lan lớp em bị đánh hội đồng ở cổng trường hôm qua")
    assert "câu 2/4" in texts(await child.tap("✅ Dùng câu này"))
    simulator.edit_text(711, simulator.send_text(711, "Thầy cô nên để ý")["message"]["message_id"],
                        "chú hàng xóm hay sờ vào người em")
    assert "111" in texts(await child._settle())
    with sqlite3.connect(database) as db:
        flagged = [row[0] for row in db.execute("SELECT text FROM cases ORDER BY id")]
    assert flagged == ["em thấy bạn Lan lớp em bị đánh hội đồng ở cổng trường hôm qua",
                       "chú hàng xóm hay sờ vào người em"]


async def test_before_consent_delete_erases_a_flag(simulator: BotApiSimulator, bot: BotProcess,
                                                   database: Path) -> None:
    child = Child(simulator, 712)
    assert "111" in texts(await child.say("bố em hay đánh em"))
    # Nothing of theirs stays but what they disclosed, kept for a person (and they are told)
    said = texts(await child.say("/delete"))
    assert "vẫn được giữ lại" in said and "không giữ thông tin nào" not in said
    with sqlite3.connect(database) as db:
        assert db.execute("SELECT chat_id, text FROM cases").fetchall() == [
            (None, "bố em hay đánh em")]


async def test_a_stranger_typing_commands_is_not_given_the_whole_welcome_each_time(
        simulator: BotApiSimulator, bot: BotProcess) -> None:
    """The welcome (long: what the forum is, consent) comes with /start; an unknown or staff
    command from someone who has not consented gets a line and the consent in a word."""
    stranger = Child(simulator, 708)
    welcome = texts(await stranger.say("/start"))
    for command in ("/queue", "/grant 1 admin all", "/abracadabra"):
        answer = texts(await stranger.say(command))
        assert "chưa hiểu lệnh này" in answer and "Em đồng ý" in answer, command
        assert len(answer) < len(welcome) / 2, (command, len(answer), len(welcome))
    assert stranger.latest_keyboard().buttons()[0][1] == "0|consent|yes"
