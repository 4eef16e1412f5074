"""The Bot API simulator, driven over real HTTP by a real python-telegram-bot client."""

from __future__ import annotations

import asyncio
import io
import json
from collections.abc import AsyncIterator
from typing import Any

import aiohttp
import pytest
from telegram import (
    Bot,
    InlineKeyboardButton,
    InlineKeyboardMarkup,
    Update,
)
from telegram.error import BadRequest, Forbidden
from telegram.ext import (
    Application,
    CallbackQueryHandler,
    ContextTypes,
    MessageHandler,
    filters,
)

from bot.simulator import BotApiSimulator, SentMessage
from bot.simulator.terminal import chat_in_terminal

TOKEN = "123:ABC"
AnyApp = Application[Any, Any, Any, Any, Any, Any]
CHILD = 5001


@pytest.fixture
async def sim() -> AsyncIterator[BotApiSimulator]:
    simulator = BotApiSimulator()
    await simulator.start()
    yield simulator
    await simulator.stop()


@pytest.fixture
async def bot(sim: BotApiSimulator) -> AsyncIterator[Bot]:
    client = Bot(TOKEN, base_url=sim.base_url, base_file_url=sim.base_file_url)
    async with client:
        yield client


def keyboard(*pairs: tuple[str, str]) -> InlineKeyboardMarkup:
    return InlineKeyboardMarkup([[InlineKeyboardButton(t, callback_data=d)] for t, d in pairs])


async def raw_post(sim: BotApiSimulator, method: str, **kw: Any) -> tuple[int, dict[str, Any]]:
    async with (
        aiohttp.ClientSession() as session,
        session.post(f"{sim.base_url}{TOKEN}/{method}", **kw) as response,
    ):
        return response.status, await response.json()


async def test_get_me(bot: Bot, sim: BotApiSimulator) -> None:
    me = await bot.get_me()
    assert (me.id, me.username, me.is_bot) == (sim.bot_id, "childforum_bot", True)
    assert sim.requests[0][0] == "getMe"


async def test_command_entity_uses_utf16_offsets(bot: Bot, sim: BotApiSimulator) -> None:
    sim.send_text(CHILD, "/start@childforum_bot mã 😀")
    (update,) = await bot.get_updates()
    assert update.message is not None
    assert update.message.entities[0].length == len("/start@childforum_bot")
    assert update.message.chat.id == CHILD
    assert update.message.from_user is not None
    assert update.message.from_user.language_code == "vi"


async def test_offset_confirms_and_drops_updates(bot: Bot, sim: BotApiSimulator) -> None:
    first = sim.send_text(CHILD, "một")
    second = sim.send_text(CHILD, "hai")
    assert second["update_id"] == first["update_id"] + 1
    updates = await bot.get_updates()
    assert [u.update_id for u in updates] == [first["update_id"], second["update_id"]]
    assert len(sim.pending_updates) == 2  # fetched, not yet confirmed
    assert await bot.get_updates(offset=second["update_id"] + 1) == ()
    assert sim.confirmed_offset == second["update_id"] + 1
    assert sim.pending_updates == []


async def test_update_ids_can_start_above_those_a_bot_has_seen() -> None:
    sim = BotApiSimulator(first_update_id=41)
    assert sim.send_text(CHILD, "một")["update_id"] == 41
    sim.set_next_update_id(100)
    assert sim.send_text(CHILD, "hai")["update_id"] == 100
    sim.set_next_update_id(5)  # never back: ids only grow
    assert sim.next_update_id == 101
    with pytest.raises(ValueError):
        sim.set_next_update_id(0)
    assert BotApiSimulator().send_text(CHILD, "ba")["update_id"] == 1


async def test_long_poll_wakes_up_on_new_update(bot: Bot, sim: BotApiSimulator) -> None:
    poll = asyncio.create_task(bot.get_updates(timeout=10))
    await asyncio.sleep(0.2)
    assert not poll.done()
    sim.send_text(CHILD, "chào")
    updates = await asyncio.wait_for(poll, 2)
    assert updates[0].message is not None
    assert updates[0].message.text == "chào"


async def test_send_message_ok(bot: Bot, sim: BotApiSimulator) -> None:
    sim.send_text(CHILD, "/start")
    await bot.send_message(CHILD, "<b>Xin chào</b> &amp; chào mừng", parse_mode="HTML")
    (message,) = await sim.wait_for_messages(CHILD)
    assert message.text == "<b>Xin chào</b> &amp; chào mừng"
    assert message.plain == "Xin chào & chào mừng"
    assert (message.kind, message.parse_mode, message.buttons()) == ("text", "HTML", [])
    assert sim.errors == []


async def test_text_limits(bot: Bot, sim: BotApiSimulator) -> None:
    sim.send_text(CHILD, "hi")
    await bot.send_message(CHILD, "<b>" + "a" * 4096 + "</b>", parse_mode="HTML")
    with pytest.raises(BadRequest, match="too long"):
        await bot.send_message(CHILD, "a" * 4097)
    with pytest.raises(BadRequest, match="text is empty"):
        await bot.send_message(CHILD, "<b> </b>", parse_mode="HTML")
    assert [e[2] for e in sim.errors] == [
        "Bad Request: message is too long",
        "Bad Request: message text is empty",
    ]


@pytest.mark.parametrize(
    ("text", "parse_mode", "error"),
    [
        ("<b>x", "HTML", 'Can\'t find end tag corresponding to start tag "b"'),
        ("<b>x</i>", "HTML", 'Unmatched end tag at byte offset 4, expected "</b>"'),
        ("1 < 2", "HTML", 'Unsupported start tag "" at byte offset 2'),
        ("<div>x</div>", "HTML", 'Unsupported start tag "div"'),
        ("Xong.", "MarkdownV2", "Character '.' is reserved"),
        ("*đậm", "MarkdownV2", "Can't find end of Bold entity at byte offset 0"),
    ],
)
async def test_bad_markup_is_refused(
    bot: Bot, sim: BotApiSimulator, text: str, parse_mode: str, error: str
) -> None:
    sim.send_text(CHILD, "hi")
    with pytest.raises(BadRequest, match="parse entities"):
        await bot.send_message(CHILD, text, parse_mode=parse_mode)
    assert sim.errors[0][2].startswith("Bad Request: can't parse entities: ")
    assert error in sim.errors[0][2]
    assert sim.messages(CHILD) == []


@pytest.mark.parametrize(
    ("text", "parse_mode", "visible"),
    [
        ('<b>a <i>b</i></b> <a href="https://x.vn/?a=1&amp;b=2">c</a>', "HTML", "a b c"),
        (
            "1 &lt; 2 &amp;&amp; 3 > 2 &#128512; &#x1F600; &nbsp; R&D",
            "HTML",
            "1 < 2 && 3 > 2 😀 😀 &nbsp; R&D",
        ),
        ('<span class="tg-spoiler">s</span><tg-spoiler>t</tg-spoiler>', "HTML", "st"),
        ('<pre><code class="language-python">x</code></pre>', "HTML", "x"),
        ("<blockquote expandable>q</blockquote><B>u</B>", "HTML", "qu"),
        (
            r"*đậm* _nghiêng_ __gạch__ ~xoá~ ||ẩn|| [link](https://x.vn/\(a\)) \. \!",
            "MarkdownV2",
            "đậm nghiêng gạch xoá ẩn link . !",
        ),
        ("`a.b` ```py\nprint(1)```", "MarkdownV2", "a.b print(1)"),
        (">trích dẫn", "MarkdownV2", "trích dẫn"),
        ("*đậm* _nghiêng_ [a](https://x.vn)", "Markdown", "đậm nghiêng a"),
    ],
)
async def test_good_markup_is_accepted(
    bot: Bot, sim: BotApiSimulator, text: str, parse_mode: str, visible: str
) -> None:
    sim.send_text(CHILD, "hi")
    sent = await bot.send_message(CHILD, text, parse_mode=parse_mode)
    assert sent.text == visible
    assert sim.messages(CHILD)[0].plain == visible
    assert sim.errors == []


async def test_callback_data_is_limited_to_64_bytes(bot: Bot, sim: BotApiSimulator) -> None:
    sim.send_text(CHILD, "hi")
    await bot.send_message(CHILD, "ok", reply_markup=keyboard(("A", "x" * 64)))
    for data in ("x" * 65, "á" * 33):  # 33 characters but 66 bytes
        with pytest.raises(BadRequest, match=r"(?i)BUTTON_DATA_INVALID"):
            await bot.send_message(CHILD, "ok", reply_markup=keyboard(("A", data)))


async def test_unknown_chat(bot: Bot, sim: BotApiSimulator) -> None:
    with pytest.raises(BadRequest, match="Chat not found"):
        await bot.send_message(424242, "hello")
    assert sim.errors == []
    assert sim.undelivered[0][:2] == ("sendMessage", {"chat_id": 424242, "text": "hello"})


async def test_users_who_never_wrote_or_blocked_the_bot(bot: Bot, sim: BotApiSimulator) -> None:
    sim.send_text(CHILD, "/start@childforum_bot", chat_id=-100123, chat_type="supergroup")
    await bot.send_message(-100123, "Chào nhóm")
    with pytest.raises(Forbidden, match="can't initiate conversation"):
        await bot.send_message(CHILD, "riêng")
    sim.send_text(CHILD, "/start")
    sim.blocked.add(CHILD)
    with pytest.raises(Forbidden, match="blocked by the user"):
        await bot.send_message(CHILD, "riêng")


async def test_edits(bot: Bot, sim: BotApiSimulator) -> None:
    sim.send_text(CHILD, "hi")
    sent = await bot.send_message(CHILD, "Chọn", reply_markup=keyboard(("A", "a")))
    await bot.edit_message_text("Chọn", CHILD, sent.message_id, reply_markup=keyboard(("B", "b")))
    with pytest.raises(BadRequest, match="not modified"):
        await bot.edit_message_text(
            "Chọn", CHILD, sent.message_id, reply_markup=keyboard(("B", "b"))
        )
    await bot.edit_message_reply_markup(CHILD, sent.message_id, reply_markup=None)
    with pytest.raises(BadRequest, match=r"(?i)message to edit not found"):
        await bot.edit_message_text("x", CHILD, 999)
    (message,) = sim.messages(CHILD)
    assert (message.edits, message.reply_markup) == (2, None)
    await bot.delete_message(CHILD, sent.message_id)
    assert sim.messages(CHILD)[0].deleted


async def test_press_button_and_answer(bot: Bot, sim: BotApiSimulator) -> None:
    sim.send_text(CHILD, "hi")
    await bot.get_updates()
    sent = await bot.send_message(
        CHILD, "Đồng ý?", reply_markup=keyboard(("Có", "yes"), ("Không", "no"))
    )
    with pytest.raises(LookupError, match="Có"):
        sim.press_button(CHILD, "Maybe")
    pressed = sim.press_button(CHILD, "Không")
    assert sim.press_button(CHILD, 0)["callback_query"]["data"] == "yes"
    updates = await bot.get_updates(offset=pressed["update_id"])
    query = updates[0].callback_query
    assert query is not None
    assert query.message is not None
    assert (query.data, query.message.message_id) == ("no", sent.message_id)
    assert await query.answer("Đã nhận")
    assert sim.callback_answers == [{"callback_query_id": query.id, "text": "Đã nhận"}]
    with pytest.raises(BadRequest, match=r"(?i)query is too old"):
        await query.answer()


async def test_press_on_a_missing_message_is_inaccessible(bot: Bot, sim: BotApiSimulator) -> None:
    sim.send_text(CHILD, "hi")
    update = sim.press(CHILD, 77, "forged")
    fetched = await bot.get_updates(offset=update["update_id"])
    assert fetched[0].callback_query is not None
    assert fetched[0].callback_query.message is not None
    assert not fetched[0].callback_query.message.is_accessible  # date 0, like an old message


async def test_document_roundtrip(bot: Bot, sim: BotApiSimulator) -> None:
    sim.send_text(CHILD, "hi")
    payload = bytes(range(256)) * 10
    sent = await bot.send_document(CHILD, payload, filename="bao-cao.xlsx", caption="Báo cáo")
    (message,) = await sim.wait_for_messages(CHILD)
    assert (message.kind, message.document, message.filename) == (
        "document",
        payload,
        "bao-cao.xlsx",
    )
    assert message.caption == "Báo cáo"
    assert sent.document is not None
    downloaded = await (await sent.document.get_file()).download_as_bytearray()
    assert bytes(downloaded) == payload
    await bot.send_photo(CHILD, b"\x89PNG fake", caption="ảnh")
    assert (await sim.wait_for_messages(CHILD))[0].kind == "photo"


async def test_redeliver_gives_the_same_update_again(bot: Bot, sim: BotApiSimulator) -> None:
    update = sim.send_text(CHILD, "kiến nghị")
    sim.send_text(CHILD, "tiếp")
    fetched = await bot.get_updates()
    await bot.get_updates(offset=fetched[-1].update_id + 1)
    assert sim.pending_updates == []
    again = sim.redeliver(update["update_id"])
    assert again == update
    refetched = await bot.get_updates(offset=sim.confirmed_offset)
    assert [u.update_id for u in refetched] == [update["update_id"]]
    assert refetched[0].message is not None
    assert refetched[0].message.message_id == update["message"]["message_id"]


async def test_user_edit_and_media_updates(bot: Bot, sim: BotApiSimulator) -> None:
    sent = sim.send_text(CHILD, "em muon co ho boi")
    sim.edit_text(CHILD, sent["message"]["message_id"], "em muốn có hồ bơi")
    sim.send_sticker(CHILD)
    sim.send_photo(CHILD, caption="trường em")
    sim.send_voice(CHILD)
    sim.send_location(CHILD)
    sim.send_contact(CHILD)
    edited, sticker, photo, voice, location, contact = (await bot.get_updates())[1:]
    assert edited.edited_message is not None
    assert edited.edited_message.text == "em muốn có hồ bơi"
    assert sticker.message and sticker.message.sticker
    assert photo.message and photo.message.photo and photo.message.caption == "trường em"
    assert voice.message and voice.message.voice
    assert location.message and location.message.location
    assert contact.message and contact.message.contact
    file = await photo.message.photo[-1].get_file()
    assert await file.download_as_bytearray()


async def test_unknown_parameter_is_an_error(bot: Bot, sim: BotApiSimulator) -> None:
    sim.send_text(CHILD, "hi")
    with pytest.raises(BadRequest, match=r"(?i)unknown parameter colour"):
        await bot.send_message(CHILD, "x", api_kwargs={"colour": "red"})
    assert sim.errors == [
        (
            "sendMessage",
            {"chat_id": CHILD, "text": "x", "colour": "red"},
            "Bad Request: unknown parameter colour",
        )
    ]


async def test_raw_http(sim: BotApiSimulator) -> None:
    sim.send_text(CHILD, "hi")
    status, body = await raw_post(sim, "SENDMESSAGE", json={"chat_id": CHILD, "text": "json"})
    assert (status, body["ok"]) == (200, True)
    status, body = await raw_post(sim, "sendMessage", data={"chat_id": str(CHILD)})
    assert (status, body["description"]) == (
        400,
        "Bad Request: text: required field of sendMessage is missing",
    )
    markup = json.dumps({"inline_keyboard": [[{"text": "A", "callback_data": 5}]]})
    status, body = await raw_post(
        sim, "sendMessage", data={"chat_id": str(CHILD), "text": "x", "reply_markup": markup}
    )
    assert "inline_keyboard[0][0].callback_data: expected String" in str(body["description"])
    status, body = await raw_post(sim, "noSuchMethod")
    assert (status, body) == (404, {"ok": False, "error_code": 404, "description": "Not Found"})
    status, body = await raw_post(sim, "sendPoll", data={"chat_id": str(CHILD)})
    assert status == 400
    async with aiohttp.ClientSession() as session:
        async with session.get(f"{sim.base_url}nonsense/getMe") as response:
            assert response.status == 401
            assert (await response.json())["description"] == "Unauthorized"
        async with session.get(f"{sim.base_url}{TOKEN}/getUpdates?offset=0&limit=1") as response:
            assert len((await response.json())["result"]) == 1
        async with session.post(
            f"{sim.base_url}{TOKEN}/getMe", data=b"{", headers={"Content-Type": "application/json"}
        ) as response:
            assert response.status == 400
    assert [m.text for m in sim.messages(CHILD)] == ["json"]


async def test_commands_and_webhook(bot: Bot, sim: BotApiSimulator) -> None:
    await bot.set_my_commands([("start", "Bắt đầu"), ("delete", "Xoá dữ liệu")])
    assert [c["command"] for c in sim.commands] == ["start", "delete"]
    assert [c.command for c in await bot.get_my_commands()] == ["start", "delete"]
    with pytest.raises(BadRequest, match=r"(?i)BOT_COMMAND_INVALID"):
        await bot.set_my_commands([("Start", "x")])
    sim.send_text(CHILD, "hi")
    await bot.delete_webhook(drop_pending_updates=True)
    assert sim.pending_updates == []
    assert (await bot.get_chat(CHILD)).id == CHILD


async def test_wait_for_messages_timeout_reports(sim: BotApiSimulator, bot: Bot) -> None:
    sim.send_text(CHILD, "hi")
    await bot.send_message(CHILD, "một")
    with pytest.raises(TimeoutError, match="got 1: \\['một'\\]"):
        await sim.wait_for_messages(CHILD, count=2, timeout=0.2)
    assert [m.text for m in sim.new_messages(CHILD)] == ["một"]
    assert sim.new_messages(CHILD) == []


# --- a tiny real bot, for wait_idle and the terminal chat ---------------------------------


async def _echo(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    assert update.effective_message is not None
    text = update.effective_message.text or "?"
    markup = keyboard(("Một", "1"), ("Hai", "2"))
    await update.effective_message.reply_html(f"Em nói: <b>{text}</b>", reply_markup=markup)


async def _pressed(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    query = update.callback_query
    assert query is not None
    await query.answer()
    await query.edit_message_text(f"Em chọn {query.data}")


@pytest.fixture
async def echo_bot(sim: BotApiSimulator) -> AsyncIterator[AnyApp]:
    app = Application.builder().token(TOKEN).base_url(sim.base_url).build()
    app.add_handler(MessageHandler(filters.ALL, _echo))
    app.add_handler(CallbackQueryHandler(_pressed))
    async with app:
        assert app.updater is not None
        await app.updater.start_polling(poll_interval=0, timeout=1)
        await app.start()
        yield app
        await app.updater.stop()
        await app.stop()


async def test_wait_idle_with_a_real_bot(sim: BotApiSimulator, echo_bot: AnyApp) -> None:
    for n in range(5):
        sim.send_text(CHILD, f"tin {n}")
    await sim.wait_idle()
    assert len(sim.messages(CHILD)) == 5
    assert sim.pending_updates == []
    sim.press_button(CHILD, "Hai")
    (changed,) = [m for m in await _settled(sim) if m.edits]
    assert changed.plain == "Em chọn 2"
    assert sim.errors == []


async def _settled(sim: BotApiSimulator) -> list[SentMessage]:
    await sim.wait_idle()
    return sim.messages(CHILD)


async def test_terminal_chat(sim: BotApiSimulator, echo_bot: AnyApp) -> None:
    stdin = io.StringIO("xin chào\n2\n9\n9\n:sticker\n/quit\nnot read\n")
    stdout = io.StringIO()
    await asyncio.wait_for(chat_in_terminal(sim, user_id=CHILD, stdin=stdin, stdout=stdout), 20)
    lines = stdout.getvalue().splitlines()
    assert lines[0].startswith("Gõ tin nhắn")
    assert lines[1:] == [
        "🤖 Em nói: xin chào",
        "   [1] Một",
        "   [2] Hai",
        "🤖 (đã sửa / updated) Em chọn 2",
        "🤖 Em nói: 9",
        "   [1] Một",
        "   [2] Hai",
        "(không có nút 9 / no button 9)",
        "🤖 Em nói: ?",
        "   [1] Một",
        "   [2] Hai",
    ]
    assert sim.errors == []
