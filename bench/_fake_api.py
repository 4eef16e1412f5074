"""An in-process Bot API for benchmarks: a `telegram.request.BaseRequest` that answers the bot
without any socket, HTTP or validation, so that what is measured is the bot, not a server.

It keeps a queue of prepared update dicts for getUpdates (offset confirmation and long-poll
waiting as Telegram does), answers sendMessage / editMessageText / editMessageReplyMarkup /
answerCallbackQuery / setMyCommands / deleteWebhook / getMe with well-formed results, and tells
a listener, at the moment the bot makes the call, about every message it sends or edits.
"""

from __future__ import annotations

import asyncio
import html
import json
import re
import time
from collections import defaultdict, deque
from collections.abc import Callable
from typing import Any

from telegram.request import BaseRequest, RequestData

JSON = dict[str, Any]
# (chat_id, Bot API method, the message as the bot will see it, perf_counter at the call)
Listener = Callable[[int, str, JSON, float], None]

BOT_USER: JSON = {"id": 4242, "is_bot": True, "first_name": "Bench", "username": "bench_bot",
                  "can_join_groups": False, "can_read_all_group_messages": False,
                  "supports_inline_queries": False}
_TAG = re.compile(r"<[^>]*>")
_KEEP_PER_CHAT = 4  # messages remembered per chat (the child only presses the latest ones)


def plain(text: str) -> str:
    """What a client shows for an HTML message (entities are not modelled)."""
    return html.unescape(_TAG.sub("", text))


def has_keyboard(message: JSON) -> bool:
    markup = message.get("reply_markup")
    return bool(markup and markup.get("inline_keyboard"))


class FakeBotApi(BaseRequest):
    """Bot API answered in-process; one instance serves the bot's requests and getUpdates."""

    def __init__(self, listener: Listener | None = None, first_update_id: int = 1) -> None:
        self.listener = listener
        self.polled = asyncio.Event()  # set at the first getUpdates call
        self.calls: defaultdict[str, int] = defaultdict(int)
        self.errors: list[str] = []
        self._updates: deque[JSON] = deque()
        self._arrived = asyncio.Event()
        self._next_update_id = first_update_id
        self._next_message_id = 1
        self._messages: dict[int, JSON] = {}
        self._recent: defaultdict[int, deque[int]] = defaultdict(deque)

    # --- the benchmark's side ----------------------------------------------------------------

    def push(self, update: JSON) -> float:
        """Make an update available to getUpdates; returns the perf_counter() of that moment."""
        update["update_id"] = self._next_update_id
        self._next_update_id += 1
        self._updates.append(update)
        self._arrived.set()
        return time.perf_counter()

    def message(self, message_id: int) -> JSON:
        return self._messages[message_id]

    # --- BaseRequest ---------------------------------------------------------------------------

    @property
    def read_timeout(self) -> float | None:
        return None

    async def initialize(self) -> None:
        """Nothing to open."""

    async def shutdown(self) -> None:
        """Nothing to close."""

    async def do_request(self, url: str, method: str, request_data: RequestData | None = None,
                         read_timeout: object = None, write_timeout: object = None,
                         connect_timeout: object = None,
                         pool_timeout: object = None) -> tuple[int, bytes]:
        now = time.perf_counter()
        api_method = url.rsplit("/", 1)[-1]
        self.calls[api_method] += 1
        # What an HTTP client would post: every non-string value serialised to JSON.
        params = request_data.json_parameters if request_data else {}
        if api_method == "getUpdates":
            result: object = await self._get_updates(params)
        else:
            handler = _METHODS.get(api_method)
            if handler is None:
                return self._error(f"Bad Request: {api_method} is not served by the bench fake")
            try:
                result = handler(self, params, now)
            except LookupError as error:
                return self._error(f"Bad Request: {error}")
        return 200, json.dumps({"ok": True, "result": result}, ensure_ascii=False).encode()

    def _error(self, description: str) -> tuple[int, bytes]:
        self.errors.append(description)
        payload = {"ok": False, "error_code": 400, "description": description}
        return 400, json.dumps(payload).encode()

    # --- methods -------------------------------------------------------------------------------

    async def _get_updates(self, params: dict[str, str]) -> list[JSON]:
        self.polled.set()
        offset = int(params.get("offset", "0") or 0)
        while self._updates and self._updates[0]["update_id"] < offset:
            self._updates.popleft()  # confirmed by the offset
        if not self._updates:
            self._arrived.clear()
            try:
                await asyncio.wait_for(self._arrived.wait(), float(params.get("timeout", 0)))
            except TimeoutError:
                return []
        limit = int(params.get("limit", "100") or 100)
        return [self._updates[i] for i in range(min(limit, len(self._updates)))]

    def _true(self, params: dict[str, str], now: float) -> bool:
        return True

    def _get_me(self, params: dict[str, str], now: float) -> JSON:
        return BOT_USER

    def _send_message(self, params: dict[str, str], now: float) -> JSON:
        chat_id = int(params["chat_id"])
        message: JSON = {
            "message_id": self._next_message_id, "date": int(time.time()),
            "chat": {"id": chat_id, "type": "private", "first_name": "Child"},
            "from": BOT_USER, "text": plain(params["text"]),
        }
        self._next_message_id += 1
        if "reply_markup" in params:
            message["reply_markup"] = json.loads(params["reply_markup"])
        self._remember(chat_id, message)
        self._tell(chat_id, "sendMessage", message, now)
        return message

    def _edit(self, params: dict[str, str], now: float, method: str) -> JSON:
        chat_id, message_id = int(params["chat_id"]), int(params["message_id"])
        old = self._messages.get(message_id)
        if old is None or old["chat"]["id"] != chat_id:
            raise LookupError("message to edit not found")
        message = {**old, "edit_date": int(time.time())}
        if "text" in params:
            message["text"] = plain(params["text"])
        message.pop("reply_markup", None)
        if "reply_markup" in params:
            markup = json.loads(params["reply_markup"])
            if markup.get("inline_keyboard"):
                message["reply_markup"] = markup
        self._messages[message_id] = message
        self._tell(chat_id, method, message, now)
        return message

    def _edit_text(self, params: dict[str, str], now: float) -> JSON:
        return self._edit(params, now, "editMessageText")

    def _edit_markup(self, params: dict[str, str], now: float) -> JSON:
        return self._edit(params, now, "editMessageReplyMarkup")

    def _remember(self, chat_id: int, message: JSON) -> None:
        recent = self._recent[chat_id]
        recent.append(message["message_id"])
        self._messages[message["message_id"]] = message
        while len(recent) > _KEEP_PER_CHAT:
            self._messages.pop(recent.popleft(), None)

    def _tell(self, chat_id: int, method: str, message: JSON, now: float) -> None:
        if self.listener is not None:
            self.listener(chat_id, method, message, now)


_METHODS: dict[str, Callable[[FakeBotApi, dict[str, str], float], object]] = {
    "getMe": FakeBotApi._get_me,
    "deleteWebhook": FakeBotApi._true,
    "setMyCommands": FakeBotApi._true,
    "answerCallbackQuery": FakeBotApi._true,
    "deleteMessage": FakeBotApi._true,
    "sendMessage": FakeBotApi._send_message,
    "editMessageText": FakeBotApi._edit_text,
    "editMessageReplyMarkup": FakeBotApi._edit_markup,
}
