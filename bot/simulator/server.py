"""A local Telegram Bot API server (aiohttp) for driving the real bot without Telegram.

Tests and the terminal chat inject updates (`send_text`, `press_button`, ...); the bot fetches
them with getUpdates like from Telegram; what the bot sends is validated against the Bot API
spec and kept per chat (`messages`, `wait_for_messages`).
"""

from __future__ import annotations

import asyncio
import copy
import itertools
import json
import math
import re
from collections.abc import Awaitable, Callable
from contextlib import suppress
from dataclasses import dataclass
from typing import Any

from aiohttp import web

from bot.simulator import updates as build
from bot.simulator.state import Chat, SentMessage, UpdateQueue
from bot.simulator.validation import (
    ApiError,
    Upload,
    bad_request,
    decode_params,
    load_spec,
    validate_request,
)
from bot.simulator.waiting import next_sent, until
from bot.simulator.webhooks import WebhookPusher

Params = dict[str, Any]
Handler = Callable[[Params], Awaitable[Any]]
Listener = Callable[[str, SentMessage], None]

_TOKEN_RE = re.compile(r"[0-9]+:[A-Za-z0-9_-]+")
_NOT_MODIFIED = (
    "message is not modified: specified new message content and reply markup are exactly "
    "the same as a current content and reply markup of the message"
)
_QUERY_TOO_OLD = "query is too old and response timeout expired or query ID is invalid"
_MAX_UPLOAD = 50 * 1024 * 1024
_SENDS = frozenset({"sendMessage", "sendDocument", "sendPhoto"})


@dataclass(frozen=True)
class Limits:
    """Telegram's flood limits as the simulator enforces them: past them, 429 with a
    retry_after. Telegram publishes about 30 messages a second in all and about one a second
    in a chat (with short bursts); the exact numbers are Telegram's and may differ."""

    per_second: float = 30.0
    chat_per_second: float = 1.0
    chat_burst: float = 5.0


class Bucket:
    def __init__(self, rate: float, burst: float, now: float) -> None:
        self.rate, self.burst, self.tokens, self.at = rate, burst, burst, now

    def take(self, now: float) -> float:
        """0 when a token was taken; else how long until there is one."""
        self.tokens = min(self.burst, self.tokens + (now - self.at) * self.rate)
        self.at = now
        if self.tokens >= 1:
            self.tokens -= 1
            return 0.0
        return (1 - self.tokens) / self.rate


class BotApiSimulator:
    """The Bot API on 127.0.0.1: inject updates, read what the bot sent."""

    def __init__(
        self,
        host: str = "127.0.0.1",
        port: int = 0,
        bot_username: str = "childforum_bot",
        bot_id: int = 7000000001,
        first_update_id: int = 1,
        limits: Limits | None = None,
        push_webhooks: bool = False,
    ) -> None:
        """`first_update_id`: the id of the first update injected without one. A bot that keeps
        the ids it handled (its inbox) ignores ids it saw before: start above them.
        `limits`: enforce Telegram's flood limits on sends (None: no limits).
        `push_webhooks`: once the bot sets a webhook, POST the updates to it as Telegram does
        (otherwise a test posts them itself)."""
        self.limits = limits
        self._all_bucket: Bucket | None = None
        self._chat_buckets: dict[int, Bucket] = {}
        self.rate_limited = 0  # 429s answered because a limit was passed
        self.host = host
        self.port = port
        self.bot_username = bot_username
        self.bot_id = bot_id
        self.requests: list[tuple[str, Params]] = []
        # Requests the bot got wrong (a malformed call, a bad edit...): a test fails on any.
        self.errors: list[tuple[str, Params, str]] = []
        # Sends to a chat that cannot take them (never opened the bot, blocked it): the
        # recipient's state, not the bot's mistake; a test may look at them.
        self.undelivered: list[tuple[str, Params, str]] = []
        self.callback_answers: list[Params] = []
        self.commands: list[Params] = []
        self.commands_by_scope: dict[tuple[str, str], list[Params]] = {}
        self.descriptions: dict[tuple[str, str], str] = {}  # (kind, language) -> text
        self._chats: dict[int, Chat] = {}
        self._queue = UpdateQueue()
        self.set_next_update_id(first_update_id)
        self._history: dict[int, Params] = {}
        self._queries: dict[str, bool] = {}  # callback query id -> answered
        self._files: dict[str, tuple[bytes, str]] = {}  # file_id -> (data, file_path)
        self._paths: dict[str, bytes] = {}
        self._serial = itertools.count(1)
        self._listeners: list[Listener] = []
        self.blocked: set[int] = set()  # users who blocked the bot: sending to them is 403
        self._faults: dict[int, list[ApiError]] = {}  # chat id -> errors for its next requests
        self._held: dict[int, asyncio.Event] = {}  # chat id -> requests about it wait for this
        self._users_seen: set[int] = set()
        self._webhook_url = ""
        self._pusher = WebhookPusher(self._queue, self._busy) if push_webhooks else None
        self._in_flight = 0
        self._last_request = 0.0
        self._stopping = False
        self._runner: web.AppRunner | None = None
        self._methods: dict[str, Handler] = {
            "getMe": self._get_me,
            "logOut": self._ok,
            "close": self._ok,
            "getUpdates": self._get_updates,
            "setWebhook": self._set_webhook,
            "deleteWebhook": self._delete_webhook,
            "getWebhookInfo": self._get_webhook_info,
            "sendMessage": self._send_message,
            "editMessageText": self._edit_message_text,
            "editMessageReplyMarkup": self._edit_message_reply_markup,
            "deleteMessage": self._delete_message,
            "answerCallbackQuery": self._answer_callback_query,
            "sendDocument": self._send_document,
            "sendPhoto": self._send_photo,
            "sendChatAction": self._send_chat_action,
            "setMyCommands": self._set_my_commands,
            "getMyCommands": self._get_my_commands,
            "deleteMyCommands": self._delete_my_commands,
            "setMyDescription": self._set_description,
            "setMyShortDescription": self._set_description,
            "getChat": self._get_chat,
            "getFile": self._get_file,
        }

    # --- lifecycle ------------------------------------------------------------------------------

    async def start(self) -> None:
        """Bind and serve (port 0 picks a free port)."""
        app = web.Application(client_max_size=_MAX_UPLOAD)
        app.router.add_route("*", "/bot{token}/{method}", self._handle_api)
        app.router.add_get("/file/bot{token}/{path:.+}", self._handle_file)
        self._runner = web.AppRunner(app, access_log=None, shutdown_timeout=1.0)
        await self._runner.setup()
        site = web.TCPSite(self._runner, self.host, self.port)
        await site.start()
        self.port = int(self._runner.addresses[0][1])
        self._stopping = False

    async def stop(self) -> None:
        """Release pending long polls and close the server."""
        self._stopping = True
        self._queue.wakeup.set()
        if self._pusher is not None:
            await self._pusher.stop()
        for chat_id in list(self._held):
            self.release(chat_id)
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None

    @property
    def base_url(self) -> str:
        """Bot API base URL for PTB (`Bot(token, base_url=...)`)."""
        return f"http://{self.host}:{self.port}/bot"

    @property
    def base_file_url(self) -> str:
        """File download base URL for PTB (`base_file_url=...`)."""
        return f"http://{self.host}:{self.port}/file/bot"

    @property
    def confirmed_offset(self) -> int:
        """Highest offset confirmed by getUpdates (updates with a lower id are gone)."""
        return self._queue.confirmed_offset

    @property
    def pending_updates(self) -> list[Params]:
        """Updates queued and not yet confirmed."""
        return [queued.update for queued in self._queue.items]

    def subscribe(self, listener: Listener) -> Callable[[], None]:
        """Call `listener(event, message)` on "sent", "edited", "deleted"; returns unsubscribe."""
        self._listeners.append(listener)
        return lambda: self._listeners.remove(listener)

    # --- injecting updates ----------------------------------------------------------------------

    def set_next_update_id(self, update_id: int) -> None:
        """Number the next updates injected without an id from `update_id` on (never back)."""
        if update_id < 1:
            raise ValueError(f"update ids start at 1, not {update_id}")
        self._queue.last_id = max(self._queue.last_id, update_id - 1)

    @property
    def next_update_id(self) -> int:
        """The id the next update injected without one gets."""
        return self._queue.last_id + 1

    def inject(self, update: Params) -> Params:
        """Queue a raw update (assigning update_id if missing); its chats become known."""
        if "update_id" not in update:
            update["update_id"] = self._queue.last_id + 1
        self._queue.last_id = max(self._queue.last_id, int(update["update_id"]))
        for info in build.chats_in(update):
            self._chat(info["id"]).info = self._chat(info["id"]).info or info
        self._users_seen.update(build.user_ids_in(update))
        self._history[int(update["update_id"])] = update
        self._queue.push(update)
        return update

    def redeliver(self, update_id: int) -> Params:
        """Queue again an identical copy of an earlier update, as after an unconfirmed fetch."""
        if update_id not in self._history:
            raise LookupError(f"no update {update_id} was queued")
        again = copy.deepcopy(self._history[update_id])
        self._queue.push(again, forced=True)
        return again

    def add_chat(self, chat_id: int, chat_type: str = "group", first_name: str = "Em") -> None:
        """Make a chat known without an update (a staff group the bot was added to)."""
        chat = self._chat(chat_id)
        chat.info = chat.info or build.chat(chat_id, chat_type, first_name)

    def send_text(
        self,
        user_id: int,
        text: str,
        *,
        chat_id: int | None = None,
        chat_type: str = "private",
        first_name: str = "Em",
        language_code: str | None = "vi",
    ) -> Params:
        """A user writes `text` (a leading /command gets its bot_command entity)."""
        return self._user_message(
            user_id,
            build.text_content(text),
            chat_id=chat_id,
            chat_type=chat_type,
            first_name=first_name,
            language_code=language_code,
        )

    def send_sticker(self, user_id: int, *, emoji: str = "🙂", **kw: Any) -> Params:
        """A user sends a sticker."""
        return self._user_message(user_id, build.sticker_content(next(self._serial), emoji), **kw)

    def send_photo(self, user_id: int, *, caption: str | None = None, **kw: Any) -> Params:
        """A user sends a photo (downloadable through getFile)."""
        content = build.photo_content(next(self._serial), caption)
        for size in content["photo"]:
            self._store_file(size["file_id"], b"\xff\xd8\xff\xe0 simulated photo", "photo.jpg")
        return self._user_message(user_id, content, **kw)

    def send_document(self, user_id: int, data: bytes, filename: str, *,
                      mime_type: str = "application/octet-stream", caption: str | None = None,
                      **kw: Any) -> Params:
        """A user sends a file (downloadable through getFile)."""
        ids = build.file_ids(next(self._serial), "document")
        document: Params = {**ids, "file_name": filename, "mime_type": mime_type,
                            "file_size": len(data)}
        self._store_file(ids["file_id"], data, filename)
        content: Params = {"document": document}
        if caption is not None:
            content["caption"] = caption
        return self._user_message(user_id, content, **kw)

    def send_voice(self, user_id: int, *, duration: int = 3, **kw: Any) -> Params:
        """A user sends a voice note (downloadable through getFile)."""
        content = build.voice_content(next(self._serial), duration)
        self._store_file(content["voice"]["file_id"], b"OggS simulated voice", "voice.oga")
        return self._user_message(user_id, content, **kw)

    def send_location(
        self, user_id: int, *, latitude: float = 14.35, longitude: float = 108.0, **kw: Any
    ) -> Params:
        """A user shares a location."""
        return self._user_message(user_id, build.location_content(latitude, longitude), **kw)

    def send_contact(
        self, user_id: int, *, phone_number: str = "+84900000000", **kw: Any
    ) -> Params:
        """A user shares their own contact."""
        content = build.contact_content(user_id, phone_number, kw.get("first_name", "Em"))
        return self._user_message(user_id, content, **kw)

    def edit_text(
        self, user_id: int, message_id: int, text: str, *, chat_id: int | None = None, **kw: Any
    ) -> Params:
        """A user edits a text message they sent earlier (an edited_message update)."""
        target = user_id if chat_id is None else chat_id
        original = self._chat(target).user_messages.get(message_id)
        if original is None:
            original = self._message_shell(user_id, chat_id=chat_id, **kw)
            original["message_id"] = message_id
        edited = {k: v for k, v in original.items() if k not in ("text", "entities")}
        edited.update(build.text_content(text), edit_date=build.now())
        self._chat(target).user_messages[message_id] = edited
        return self.inject({"edited_message": edited})

    def press(
        self,
        user_id: int,
        message_id: int,
        data: str,
        *,
        chat_id: int | None = None,
        first_name: str = "Em",
        language_code: str | None = "vi",
    ) -> Params:
        """A user presses a button with `data` on bot message `message_id` (may be forged)."""
        chat = self._known_chat(user_id if chat_id is None else chat_id, first_name)
        sent = chat.by_id.get(message_id)
        if sent is not None and not sent.deleted:
            message = self._message_object(sent)
        else:  # an old or forged message: Telegram's InaccessibleMessage
            message = {"message_id": message_id, "chat": chat.info, "date": 0}
        query_id = f"{user_id}-{next(self._serial)}"
        self._queries[query_id] = False
        query = {
            "id": query_id,
            "from": build.user(user_id, first_name, language_code),
            "message": message,
            "chat_instance": str(message["chat"]["id"]),
            "data": data,
        }
        return self.inject({"callback_query": query})

    def press_button(
        self,
        user_id: int,
        label_or_index: str | int,
        *,
        message_id: int | None = None,
        chat_id: int | None = None,
    ) -> Params:
        """Press a button by exact label or 0-based index (default: latest keyboard message)."""
        target = user_id if chat_id is None else chat_id
        message = self._keyboard_message(target, message_id)
        buttons = message.buttons()
        if isinstance(label_or_index, int):
            found = buttons[label_or_index] if 0 <= label_or_index < len(buttons) else None
        else:
            found = next((b for b in buttons if b[0] == label_or_index), None)
        if found is None or not found[1]:
            labels = [label for label, _ in buttons]
            raise LookupError(f"no button {label_or_index!r} with callback data in {labels}")
        return self.press(user_id, message.message_id, found[1], chat_id=chat_id)

    # --- reading what the bot did ---------------------------------------------------------------

    def messages(self, chat_id: int) -> list[SentMessage]:
        """All bot messages in the chat, in order (edits applied, deletions flagged)."""
        chat = self._chats.get(chat_id)
        return list(chat.sent) if chat else []

    def new_messages(self, chat_id: int) -> list[SentMessage]:
        """Bot messages since the previous wait_for_messages/new_messages for the chat."""
        return self._chat(chat_id).take_new()

    async def wait_for_messages(
        self, chat_id: int, count: int = 1, timeout: float = 10.0
    ) -> list[SentMessage]:
        """Wait for `count` new bot messages in the chat and return exactly those."""
        chat = self._chat(chat_id)
        return await next_sent(chat, count, timeout,
                               lambda: self._missing_report(chat, chat_id, count, timeout))

    async def wait_until(self, predicate: Callable[[], bool], timeout: float = 10.0) -> None:
        """Wait until `predicate()` is true."""
        await until(predicate, timeout, self.errors)

    async def wait_idle(self, quiet: float = 0.3, timeout: float = 10.0) -> None:
        """Wait until every update was fetched and confirmed and no call came for `quiet` s."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        while self._queue.items or self._in_flight or loop.time() - self._last_request < quiet:
            if loop.time() >= deadline:
                raise TimeoutError(
                    f"not idle within {timeout}s: {len(self._queue.items)} update(s) "
                    f"unconfirmed, {self._in_flight} call(s) in flight"
                )
            await asyncio.sleep(min(0.02, quiet / 4))

    # --- HTTP -----------------------------------------------------------------------------------

    async def _handle_api(self, request: web.Request) -> web.Response:
        name = request.match_info["method"]
        try:
            params = await read_params(request)
        except ApiError as exc:
            return self._error(name, {}, exc)
        except ConnectionResetError:  # the client died mid-request (a killed bot): no answer
            return web.Response(status=400)
        if not _TOKEN_RE.fullmatch(request.match_info["token"]):
            return self._error(name, params, ApiError("Unauthorized", 401))
        method = load_spec().method_name(name)
        if method is None:
            self.requests.append((name, params))
            return self._error(name, params, self._unknown_method(name))
        params = decode_params(method, params)
        self.requests.append((method, params))
        return await self._call(method, params)

    # --- faults, for tests ---------------------------------------------------------------------

    def fail_next(self, chat_id: int, code: int = 429, retry_after: int = 5,
                  times: int = 1) -> None:
        """The next `times` requests about `chat_id` fail: 429 "retry after" by default, or
        another HTTP code (500 Internal Server Error, 403...)."""
        descriptions = {429: f"Too Many Requests: retry after {retry_after}",
                        403: "Forbidden: bot was blocked by the user",
                        500: "Internal Server Error", 502: "Bad Gateway"}
        error = ApiError(descriptions.get(code, f"Error {code}"), code,
                         retry_after if code == 429 else None)
        self._faults.setdefault(chat_id, []).extend([error] * times)

    def hold(self, chat_id: int) -> None:
        """Requests about `chat_id` wait (in flight, unanswered) until `release`."""
        self._held.setdefault(chat_id, asyncio.Event())

    def release(self, chat_id: int) -> None:
        event = self._held.pop(chat_id, None)
        if event is not None:
            event.set()

    def _limit(self, params: Params) -> None:
        """429 when a send passes Telegram's limits (the request does not count then)."""
        assert self.limits is not None
        now = asyncio.get_running_loop().time()
        if self._all_bucket is None:
            self._all_bucket = Bucket(self.limits.per_second, self.limits.per_second, now)
        raw = params.get("chat_id")
        chat_id = int(raw) if isinstance(raw, int | str) and str(raw).lstrip("-").isdigit() \
            else 0
        chat = self._chat_buckets.get(chat_id)
        if chat is None:
            chat = self._chat_buckets[chat_id] = Bucket(
                self.limits.chat_per_second, self.limits.chat_burst, now)
        wait = max(self._all_bucket.take(now), chat.take(now))
        if wait > 0:
            self.rate_limited += 1
            seconds = max(1, math.ceil(wait))
            raise ApiError(f"Too Many Requests: retry after {seconds}", 429, seconds)

    async def _fault(self, params: Params) -> None:
        raw = params.get("chat_id")
        chat_id = int(raw) if isinstance(raw, int | str) and str(raw).lstrip("-").isdigit() \
            else None
        if chat_id is None:
            return
        held = self._held.get(chat_id)
        if held is not None:  # a held request does not count as in flight (wait_idle)
            self._in_flight -= 1
            try:
                await held.wait()
            finally:
                self._in_flight += 1
        planned = self._faults.get(chat_id)
        if planned:
            raise planned.pop(0)

    async def _call(self, method: str, params: Params) -> web.Response:
        loop = asyncio.get_running_loop()
        polling = method == "getUpdates"
        self._last_request = loop.time()
        self._in_flight += not polling
        try:
            validate_request(method, params)
            await self._fault(params)
            if self.limits is not None and method in _SENDS:
                self._limit(params)
            result = await self._methods[method](params)
        except ApiError as exc:
            return self._error(method, params, exc)
        finally:
            self._in_flight -= not polling
            self._last_request = loop.time()
        return web.json_response({"ok": True, "result": result})

    def _unknown_method(self, name: str) -> ApiError:
        if name.lower() in load_spec().other_methods:
            return bad_request(f"method {name} is not supported by the simulator")
        return ApiError("Not Found", 404)

    def _error(self, method: str, params: Params, exc: ApiError) -> web.Response:
        unreachable = exc.code == 403 or exc.description == "Bad Request: chat not found"
        (self.undelivered if unreachable else self.errors).append(
            (method, params, exc.description))
        body: Params = {"ok": False, "error_code": exc.code, "description": exc.description}
        if exc.retry_after is not None:
            body["parameters"] = {"retry_after": exc.retry_after}
        return web.json_response(body, status=exc.code)

    async def _handle_file(self, request: web.Request) -> web.Response:
        data = self._paths.get(request.match_info["path"])
        if not _TOKEN_RE.fullmatch(request.match_info["token"]) or data is None:
            return web.json_response(
                {"ok": False, "error_code": 404, "description": "Not Found"}, status=404
            )
        return web.Response(body=data, content_type="application/octet-stream")

    # --- Bot API methods ------------------------------------------------------------------------

    async def _ok(self, params: Params) -> bool:
        return True

    async def _get_me(self, params: Params) -> Params:
        return {
            **self._bot_user(),
            "can_join_groups": True,
            "can_read_all_group_messages": False,
            "supports_inline_queries": False,
        }

    async def _get_updates(self, params: Params) -> list[Params]:
        if self._webhook_url:
            raise ApiError(
                "Conflict: can't use getUpdates method while webhook is active; "
                "use deleteWebhook to delete the webhook first",
                409,
            )
        if "offset" in params:
            self._queue.confirm(params["offset"])
        loop = asyncio.get_running_loop()
        deadline = loop.time() + max(params.get("timeout", 0), 0)
        while not self._queue.items and not self._stopping:
            remaining = deadline - loop.time()
            if remaining <= 0:
                break
            self._queue.wakeup.clear()
            with suppress(TimeoutError):
                await asyncio.wait_for(self._queue.wakeup.wait(), remaining)
        return self._queue.take(min(max(params.get("limit", 100), 1), 100))

    async def _set_webhook(self, params: Params) -> bool:
        self._webhook_url = params["url"]
        if params.get("drop_pending_updates"):
            self._queue.clear()
        if self._pusher is not None:
            self._pusher.point(self._webhook_url, params.get("secret_token", ""))
        return True

    async def _delete_webhook(self, params: Params) -> bool:
        self._webhook_url = ""
        if params.get("drop_pending_updates"):
            self._queue.clear()
        if self._pusher is not None:
            self._pusher.point("", "")
        return True

    def _busy(self, change: int) -> None:
        """A webhook POST starts (+1) or ends (-1): wait_idle waits for it like for a call."""
        self._in_flight += change
        self._last_request = asyncio.get_running_loop().time()

    async def _get_webhook_info(self, params: Params) -> Params:
        return {
            "url": self._webhook_url,
            "has_custom_certificate": False,
            "pending_update_count": len(self._queue.items),
        }

    async def _send_message(self, params: Params) -> Params:
        chat_id = self._target_chat_id(params, sending=True)
        message = self._new_message(chat_id, "text", params)
        message.text = params["text"]
        return self._deliver(message)

    async def _send_document(self, params: Params) -> Params:
        return self._send_file(params, "document")

    async def _send_photo(self, params: Params) -> Params:
        return self._send_file(params, "photo")

    def _send_file(self, params: Params, kind: str) -> Params:
        chat_id = self._target_chat_id(params, sending=True)
        data, filename = self._file_input(params[kind])
        message = self._new_message(chat_id, kind, params)
        message.document, message.filename, message.caption = data, filename, params.get("caption")
        if data is not None:
            self._store_file(self._file_id(message), data, filename or kind)
        return self._deliver(message)

    async def _edit_message_text(self, params: Params) -> Params:
        message = self._message_to_edit(params)
        if message.kind != "text":
            raise bad_request("there is no text in the message to edit")
        if "text" not in params:
            raise bad_request("message text is empty")
        markup = params.get("reply_markup")
        same_text = (params["text"], _mode(params)) == (message.text, _mode(vars(message)))
        if same_text and markup == message.reply_markup:
            raise bad_request(_NOT_MODIFIED)
        message.text, message.parse_mode = params["text"], params.get("parse_mode")
        message.reply_markup = markup
        return self._edited(message)

    async def _edit_message_reply_markup(self, params: Params) -> Params:
        message = self._message_to_edit(params)
        markup = params.get("reply_markup")
        if markup == message.reply_markup:
            raise bad_request(_NOT_MODIFIED)
        message.reply_markup = markup
        return self._edited(message)

    async def _delete_message(self, params: Params) -> bool:
        chat = self._chats[self._target_chat_id(params)]
        message = chat.by_id.get(params["message_id"])
        if message is not None and not message.deleted:
            message.deleted = True
            self._notify("deleted", message)
        elif chat.user_messages.pop(params["message_id"], None) is None:
            raise bad_request("message to delete not found")
        return True

    async def _answer_callback_query(self, params: Params) -> bool:
        if self._queries.get(params["callback_query_id"]) is not False:
            raise bad_request(_QUERY_TOO_OLD)
        self._queries[params["callback_query_id"]] = True
        self.callback_answers.append(params)
        return True

    async def _send_chat_action(self, params: Params) -> bool:
        self._target_chat_id(params, sending=True)
        return True

    async def _set_my_commands(self, params: Params) -> bool:
        self.commands = params["commands"]
        self.commands_by_scope[_scope_key(params)] = params["commands"]
        return True

    async def _get_my_commands(self, params: Params) -> list[Params]:
        return self.commands_by_scope.get(_scope_key(params), [])

    async def _delete_my_commands(self, params: Params) -> bool:
        self.commands_by_scope.pop(_scope_key(params), None)
        return True

    async def _set_description(self, params: Params) -> bool:
        kind = "short_description" if "short_description" in params else "description"
        self.descriptions[(kind, params.get("language_code", ""))] = params.get(kind, "")
        return True

    async def _get_chat(self, params: Params) -> Params:
        info = self._chats[self._target_chat_id(params)].info or {}
        gifts = dict.fromkeys(
            ("unlimited_gifts", "limited_gifts", "unique_gifts", "premium_subscription"), False
        )
        gifts["gifts_from_channels"] = False
        extra = {"accent_color_id": 0, "max_reaction_count": 11, "accepted_gift_types": gifts}
        return {**info, **extra}

    async def _get_file(self, params: Params) -> Params:
        stored = self._files.get(params["file_id"])
        if stored is None:
            raise bad_request("invalid file_id")
        data, path = stored
        file_id = params["file_id"]
        return {
            "file_id": file_id,
            "file_unique_id": f"u{file_id}",
            "file_size": len(data),
            "file_path": path,
        }

    # --- helpers ----------------------------------------------------------------------------

    def _chat(self, chat_id: int) -> Chat:
        chat = self._chats.get(chat_id)
        if chat is None:
            chat = self._chats[chat_id] = Chat(info=None)
        return chat

    def _known_chat(self, chat_id: int, first_name: str = "Em", chat_type: str = "") -> Chat:
        chat = self._chat(chat_id)
        if chat.info is None:
            kind = chat_type or ("private" if chat_id > 0 else "group")
            chat.info = build.chat(chat_id, kind, first_name)
        return chat

    def _target_chat_id(self, params: Params, *, sending: bool = False) -> int:
        """The chat a request is about; "chat not found" unless an update showed it."""
        raw = params.get("chat_id")
        if raw is None:
            raise bad_request("chat_id is empty")
        if isinstance(raw, str) and re.fullmatch(r"-?[0-9]+", raw):
            raw = int(raw)
        chat = self._chats.get(raw) if isinstance(raw, int) else None
        if chat is None or chat.info is None:
            if raw in self._users_seen:
                raise ApiError("Forbidden: bot can't initiate conversation with a user", 403)
            raise bad_request("chat not found")
        if sending and raw in self.blocked:
            raise ApiError("Forbidden: bot was blocked by the user", 403)
        return int(raw)

    def _message_shell(
        self,
        user_id: int,
        *,
        chat_id: int | None = None,
        chat_type: str = "private",
        first_name: str = "Em",
        language_code: str | None = "vi",
    ) -> Params:
        chat = self._known_chat(user_id if chat_id is None else chat_id, first_name, chat_type)
        return {
            "message_id": chat.next_message_id(),
            "from": build.user(user_id, first_name, language_code),
            "chat": chat.info,
            "date": build.now(),
        }

    def _user_message(self, user_id: int, content: Params, **kw: Any) -> Params:
        message = {**self._message_shell(user_id, **kw), **content}
        self._chats[message["chat"]["id"]].user_messages[message["message_id"]] = message
        return self.inject({"message": message})

    def _keyboard_message(self, chat_id: int, message_id: int | None) -> SentMessage:
        chat = self._chat(chat_id)
        if message_id is not None:
            message = chat.by_id.get(message_id)
            if message is None:
                raise LookupError(f"no bot message {message_id} in chat {chat_id}")
            return message
        for message in reversed(chat.sent):
            if not message.deleted and message.buttons():
                return message
        raise LookupError(f"no bot message with an inline keyboard in chat {chat_id}")

    def _new_message(self, chat_id: int, kind: str, params: Params) -> SentMessage:
        return SentMessage(
            message_id=self._chats[chat_id].next_message_id(),
            chat_id=chat_id,
            text=None,
            parse_mode=params.get("parse_mode"),
            reply_markup=params.get("reply_markup"),
            kind=kind,
            date=build.now(),
        )

    def _deliver(self, message: SentMessage) -> Params:
        self._chats[message.chat_id].add(message)
        self._notify("sent", message)
        return self._message_object(message)

    def _edited(self, message: SentMessage) -> Params:
        message.edits += 1
        self._chats[message.chat_id].edited.append(message)
        self._notify("edited", message)
        return self._message_object(message)

    def _message_to_edit(self, params: Params) -> SentMessage:
        if "inline_message_id" in params:
            raise bad_request("message to edit not found")
        chat = self._chats[self._target_chat_id(params)]
        if "message_id" not in params:
            raise bad_request("message identifier is not specified")
        message = chat.by_id.get(params["message_id"])
        if message is None or message.deleted:
            if params["message_id"] in chat.user_messages:
                raise bad_request("message can't be edited")
            raise bad_request("message to edit not found")
        return message

    def _notify(self, event: str, message: SentMessage) -> None:
        for listener in list(self._listeners):
            listener(event, message)

    def _bot_user(self) -> Params:
        return {
            "id": self.bot_id,
            "is_bot": True,
            "first_name": "Diễn đàn trẻ em",
            "username": self.bot_username,
        }

    def _file_id(self, message: SentMessage) -> str:
        return f"{message.kind}-{message.chat_id}-{message.message_id}"

    def _file_input(self, value: Upload | str) -> tuple[bytes | None, str | None]:
        """Bytes and name of an uploaded file, a known file_id, or (no bytes) a URL."""
        if isinstance(value, Upload):
            if not value.data:
                raise bad_request("file must be non-empty")
            return value.data, value.filename
        if value in self._files:
            data, path = self._files[value]
            return data, path.rsplit("/", 1)[-1]
        if re.match(r"https?://", value):
            return None, value.rsplit("/", 1)[-1] or None
        raise bad_request("wrong file identifier/HTTP URL specified")

    def _store_file(self, file_id: str, data: bytes, filename: str) -> None:
        path = f"files/{next(self._serial)}/{filename}"
        self._files[file_id] = (data, path)
        self._paths[path] = data

    def _message_object(self, message: SentMessage) -> Params:
        """The Message object Telegram would return for a bot message."""
        chat = self._chats[message.chat_id]
        result: Params = {
            "message_id": message.message_id,
            "from": self._bot_user(),
            "chat": chat.info,
            "date": message.date,
        }
        file_ids = build.file_ids(message.message_id, message.kind)
        file_ids["file_id"] = self._file_id(message)
        size = len(message.document or b"")
        if message.kind == "text":
            result["text"] = message.plain
        elif message.kind == "document":
            result["document"] = {**file_ids, "file_name": message.filename, "file_size": size}
        else:
            result["photo"] = [{**file_ids, "width": 800, "height": 600, "file_size": size}]
        if message.caption is not None:
            result["caption"] = message.plain
        if message.edits:
            result["edit_date"] = build.now()
        if message.reply_markup and "inline_keyboard" in message.reply_markup:
            result["reply_markup"] = message.reply_markup
        return result

    def _missing_report(self, chat: Chat, chat_id: int, count: int, timeout: float) -> str:
        got = [m.plain[:80] for m in chat.sent[chat.cursor :]]
        return (
            f"chat {chat_id}: expected {count} new bot message(s) within {timeout}s, "
            f"got {len(got)}: {got}; API errors: {self.errors[-5:]}"
        )


def _mode(params: Params) -> str:
    return str(params.get("parse_mode") or "").lower()


def _scope_key(params: Params) -> tuple[str, str]:
    scope = params.get("scope") or {"type": "default"}
    return json.dumps(scope, sort_keys=True), params.get("language_code", "")


async def read_params(request: web.Request) -> Params:
    """Query string plus the body: JSON, urlencoded or multipart (files become Upload)."""
    params: Params = dict(request.query)
    if request.method != "POST" or not request.body_exists:
        return params
    if request.content_type == "application/json":
        try:
            body = await request.json()
        except ValueError:
            raise bad_request("can't parse JSON object") from None
        if not isinstance(body, dict):
            raise bad_request("can't parse JSON object")
        params.update(body)
        return params
    form = await request.post()
    for key, value in form.items():
        if isinstance(value, web.FileField):
            params[key] = Upload(value.filename, value.file.read(), value.content_type)
        else:
            params[key] = value
    return params
