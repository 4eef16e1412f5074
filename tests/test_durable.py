"""The getUpdates wrapper keeps each update as the Bot API sent it, for the inbox."""

from __future__ import annotations

import json
from typing import Any

from telegram import Message, Update
from telegram.request import BaseRequest, RequestData

from handlers.telegram.durable import RawUpdates


class CannedRequest(BaseRequest):
    """Answers every call with the same body."""

    def __init__(self, body: dict[str, Any]) -> None:
        self.body = json.dumps(body).encode()

    @property
    def read_timeout(self) -> float | None:
        return 5.0

    async def initialize(self) -> None:
        return None

    async def shutdown(self) -> None:
        return None

    async def do_request(self, url: str, method: str, request_data: RequestData | None = None,
                         *args: Any, **kwargs: Any) -> tuple[int, bytes]:
        return 200, self.body


async def test_updates_are_kept_exactly_as_received() -> None:
    update = {"update_id": 41, "message": {"message_id": 1, "date": 0, "text": "Chào <b>",
                                           "chat": {"id": 5, "type": "private"}, "x_new": 1}}
    raw = RawUpdates(CannedRequest({"ok": True, "result": [update]}))
    result = await raw.post("http://127.0.0.1/bot1:x/getUpdates")
    assert result == [update] and raw.payloads == {41: update}
    assert raw.read_timeout == 5.0


async def test_other_results_are_left_alone() -> None:
    raw = RawUpdates(CannedRequest({"ok": True, "result": {"message_id": 3}}))
    await raw.post("http://127.0.0.1/bot1:x/sendMessage")
    assert raw.payloads == {}


async def test_a_pressed_messages_buttons_are_dropped_before_parsing() -> None:
    keyboard = {"inline_keyboard": [[{"text": f"{n}", "callback_data": f"c|{n}"}]
                                    for n in range(8)]}
    pressed = {"message_id": 9, "date": 1, "chat": {"id": 5, "type": "private"},
               "text": "Em mấy tuổi?", "entities": [{"type": "bold", "offset": 0, "length": 2}],
               "reply_markup": keyboard}
    press = {"update_id": 42, "callback_query": {
        "id": "q", "chat_instance": "i", "data": "c|3", "message": pressed,
        "from": {"id": 5, "is_bot": False, "first_name": "A"}}}
    raw = RawUpdates(CannedRequest({"ok": True, "result": [press]}))
    [update] = await raw.post("http://127.0.0.1/bot1:x/getUpdates")
    kept = raw.payloads[42]["callback_query"]["message"]
    assert kept["reply_markup"] == {"inline_keyboard": []} and kept["text"] == "Em mấy tuổi?"
    parsed = Update.de_json(update, None)
    assert parsed.callback_query is not None and parsed.callback_query.data == "c|3"
    message = parsed.callback_query.message
    assert isinstance(message, Message) and message.text_html == "<b>Em</b> mấy tuổi?"
    assert message.reply_markup is not None and message.reply_markup.inline_keyboard == ()
