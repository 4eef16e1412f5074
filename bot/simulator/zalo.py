"""A local Zalo Bot Platform API server (aiohttp): run the bot's Zalo channel with no token and no
network, as bot/simulator/server.py does for Telegram.

sim = ZaloSimulator()
await sim.start()
# point the bot's Zalo client at sim.base_url (it calls f"{sim.base_url}{sim.token}/sendMessage")
child = zalo_id(1)
sim.send_text(child, "xin chào")        # queued for getUpdates, or POSTed to the bot's webhook
await sim.wait_until(lambda: sim.messages(child) != [])
(reply,) = sim.new_messages(child)
sim.send_text(zalo_id(2), "chào", child=True)  # reaches the bot as message.unsupported.received
await sim.wait_idle()
assert sim.errors == []
await sim.stop()

From Zalo's docs (source keys of /work/helpers/zalo/NOTES.md): the base URL shape, GET and POST
with query, form or JSON parameters and case-sensitive method names (D1); errors as HTTP 200 with
`ok: false` (D2 §7 live probe); the error codes 401/404/408/429 (D1); getMe's fields (D1);
getUpdates's only parameter `timeout` (a string, seconds, default 30), one update object per call,
408 "Request timeout" when idle, no offset so at-most-once delivery, refused while a webhook is set
(D1, D2 §3.6, O); setWebhook's `url` + `secret_token` of 8-256 characters and the
{url, updated_at} answers (D1); sendMessage's `text` of 1-2000 characters (D1) and `parse_mode`
"html"/"markdown" and `text_styles` (newer docs: D2, D3); no keyboards or reply markup (D2 §3.1);
sendPhoto with a URL and a caption of at most 2000 (D1); sendChatAction "typing" answering a bare
`{"ok": true}` (D1); the five event names, the message fields, hex string ids, dates in ms and
PRIVATE chats with chat.id == from.id (D1, D2, H); image events carrying `photo_url` (O PRs);
children's and other protected accounts reaching the bot only as message.unsupported.received (D1,
webhook warning box); the X-Bot-Api-Secret-Token header on every webhook POST (D1); webhook bodies
both wrapped in {ok, result} (D1) and bare (O) - hence `wrapped_webhooks`; deleteWebhook answering
400 when no webhook was ever set (secondary: NOTES id 61177855117).

Our assumptions (nothing documents them): the wording of every error description but
"Unauthorized", "Request timeout" and "Quota exceeded"; 400 for a parameter the docs do not list
(Zalo may ignore it: refusing catches a typo or a Telegram habit such as reply_markup or
reply_to_message_id); parse_mode compared case-sensitively; http webhooks allowed on loopback
(Zalo wants https and, per D3, rejects local addresses and probes the URL: not simulated); the
webhook retry policy and the delivery order (one event at a time, oldest first); no quota unless
`limits` is given (Zalo publishes no number); sending only to a chat that wrote to the bot first
(NOTES §5 q5 is open); GROUP chats, sendVoice, testWebhook and multipart photos are not simulated.
"""

from __future__ import annotations

import asyncio
import copy
import ipaddress
import itertools
import json
import time
from collections import deque
from collections.abc import Awaitable, Callable, Mapping
from contextlib import suppress
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit

import aiohttp
from aiohttp import web

from bot.simulator.server import Bucket, read_params
from bot.simulator.validation import ApiError
from bot.simulator.waiting import next_sent, until

Params = dict[str, Any]
Handler = Callable[[Params], Awaitable[Params | None]]

SECRET_HEADER = "X-Bot-Api-Secret-Token"
MAX_TEXT = 2000
MAX_CAPTION = 2000
PARSE_MODES = frozenset({"html", "markdown"})
EVENT_NAMES = (
    "message.text.received",
    "message.image.received",
    "message.sticker.received",
    "message.voice.received",
    "message.unsupported.received",
)
# The parameters each method takes (D1; parse_mode and text_styles from the newer docs D2/D3).
_PARAMS: dict[str, frozenset[str]] = {
    "getMe": frozenset(),
    "getUpdates": frozenset({"timeout"}),
    "setWebhook": frozenset({"url", "secret_token"}),
    "deleteWebhook": frozenset(),
    "getWebhookInfo": frozenset(),
    "sendMessage": frozenset({"chat_id", "text", "parse_mode", "text_styles"}),
    "sendPhoto": frozenset({"chat_id", "photo", "caption"}),
    "sendSticker": frozenset({"chat_id", "sticker"}),
    "sendChatAction": frozenset({"chat_id", "action"}),
}
_DEFAULT_POLL_TIMEOUT = 30.0  # seconds, D1


def zalo_id(n: int) -> str:
    """A Zalo-like id (20 hex digits) for user / chat number `n`."""
    return f"{n:020x}"


_last_ms = 0


def now_ms() -> int:
    """Unix time in milliseconds, as Zalo dates are; never the same twice (Zalo stamps each
    message as its server takes it: one person's messages come one after another)."""
    global _last_ms
    _last_ms = max(_last_ms + 1, int(time.time() * 1000))
    return _last_ms


class _NotTheBots(ApiError):
    """A refusal that is not the bot's mistake (an injected fault, a quota, an idle poll): kept
    out of `errors`."""


@dataclass(frozen=True)
class ZaloLimits:
    """An optional per-chat quota: sends to one chat faster than `chat_per_second` (after a burst
    of `chat_burst`, default the same number) get 429 "Quota exceeded". Zalo publishes no
    number (NOTES §1): this only lets a test exercise the bot's handling of 429."""

    chat_per_second: float = 1.0
    chat_burst: float | None = None


@dataclass
class ZaloSent:
    """A message the bot sent. `text`: the text of a "text" message or the caption of a "photo"
    (None without one or for a "sticker")."""

    message_id: str
    chat_id: str
    kind: str  # "text" | "photo" | "sticker"
    text: str | None
    date: int  # ms
    parse_mode: str | None = None
    photo: str | None = None  # the URL sent
    sticker: str | None = None

    @property
    def plain(self) -> str:
        """What a person reads (the text or caption; "" for a sticker)."""
        return self.text or ""


@dataclass
class ZaloDelivery:
    """One webhook POST of an event: the status the bot answered, or None and the error when
    there was no answer (connection refused, timeout)."""

    message_id: str | None
    attempt: int  # 1 for the first POST of this event
    status: int | None
    error: str | None = None


@dataclass
class _ChatLog:
    sent: list[ZaloSent] = field(default_factory=list)
    cursor: int = 0  # first message not yet returned by new_messages / wait_for_messages
    arrived: asyncio.Event = field(default_factory=asyncio.Event)


class ZaloSimulator:
    """The Zalo Bot API on 127.0.0.1: inject user events, read what the bot sent."""

    def __init__(
        self,
        token: str = "1234:zalo-test-token",
        *,
        wrapped_webhooks: bool = True,
        limits: ZaloLimits | None = None,
        host: str = "127.0.0.1",
        port: int = 0,
    ) -> None:
        """`wrapped_webhooks`: POST {"ok": true, "result": event} (D1) or the bare event (O).
        `limits`: a per-chat quota on sends (None: none)."""
        self.token = token
        self.wrapped_webhooks = wrapped_webhooks
        self.limits = limits
        self.host, self.port = host, port
        self.bot_id = token.split(":", 1)[0]
        # Zalo's real webhook retry policy is undocumented (NOTES §2, §5 q7): ours is a guess
        # that lets a test see a failed delivery retried, then given up.
        self.webhook_retries = 3
        self.webhook_backoff = 0.05  # seconds before the first retry, doubled each time
        self.webhook_timeout = 10.0  # seconds the bot has to answer a webhook POST
        self.requests: list[tuple[str, Params]] = []
        self.errors: list[tuple[str, Params, str]] = []  # requests the bot got wrong, and why
        self.chat_actions: list[tuple[str, str]] = []  # (chat_id, action)
        self.deliveries: list[ZaloDelivery] = []  # every webhook POST of an event
        self.dropped: list[Params] = []  # events given up after the retries
        self.rate_limited = 0  # 429s answered because `limits` was passed
        self.children: set[str] = set()  # protected accounts: their messages lose content
        self.webhook_url = ""
        self.webhook_secret = ""
        self._webhook_updated_at = 0
        self._webhook_ever_set = False
        self._names: dict[str, str] = {}
        self._chats: dict[str, _ChatLog] = {}
        self._known_chats: set[str] = set()  # chats a user wrote from: the bot may send there
        self._history: dict[str, Params] = {}  # message_id -> event
        self._pending: deque[Params] = deque()  # events for getUpdates or the webhook
        self._arrived = asyncio.Event()  # set when _pending grows or the webhook changes
        self._faults: dict[str, list[ApiError]] = {}
        self._buckets: dict[str, Bucket] = {}
        self._ids = itertools.count(0x2D758CB5E222177A0000)
        self._in_flight = 0  # calls answered (not long polls) and webhook POSTs under way
        self._delivering = 0  # events taken by the webhook worker, retries included
        self._last_activity = 0.0
        self._stopping = False
        self._pusher: asyncio.Task[None] | None = None
        self._session: aiohttp.ClientSession | None = None
        self._runner: web.AppRunner | None = None
        self._methods: dict[str, Handler] = {
            "getMe": self._get_me,
            "getUpdates": self._get_updates,
            "setWebhook": self._set_webhook,
            "deleteWebhook": self._delete_webhook,
            "getWebhookInfo": self._get_webhook_info,
            "sendMessage": self._send_message,
            "sendPhoto": self._send_photo,
            "sendSticker": self._send_sticker,
            "sendChatAction": self._send_chat_action,
        }

    # --- lifecycle ------------------------------------------------------------------------------

    async def start(self) -> None:
        """Bind and serve (port 0 picks a free port)."""
        app = web.Application()
        app.router.add_get("/bot{token}/{method}", self._handle_api)
        app.router.add_post("/bot{token}/{method}", self._handle_api)
        self._runner = web.AppRunner(app, access_log=None, shutdown_timeout=1.0)
        await self._runner.setup()
        await web.TCPSite(self._runner, self.host, self.port).start()
        self.port = int(self._runner.addresses[0][1])
        self._session = aiohttp.ClientSession()
        self._stopping = False

    async def stop(self) -> None:
        """End pending long polls and webhook deliveries, close the server."""
        self._stopping = True
        self._arrived.set()
        if self._pusher is not None:
            self._pusher.cancel()
            await asyncio.gather(self._pusher, return_exceptions=True)
            self._pusher = None
        if self._session is not None:
            await self._session.close()
            self._session = None
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None

    @property
    def base_url(self) -> str:
        """The API base: a client calls f"{base_url}{token}/{method}"."""
        return f"http://{self.host}:{self.port}/bot"

    @property
    def webhook_statuses(self) -> list[int]:
        """The HTTP statuses the bot answered to webhook POSTs of events, in order."""
        return [d.status for d in self.deliveries if d.status is not None]

    @property
    def pending_events(self) -> list[Params]:
        """Events not yet fetched by getUpdates nor taken for webhook delivery."""
        return list(self._pending)

    # --- users write ----------------------------------------------------------------------------

    def send_text(
        self, user_id: str, text: str, *, display_name: str = "Em", child: bool = False
    ) -> Params:
        """A user writes `text`. `child=True` flags the account as a child's (for good): then,
        as for any message of a flagged account, the bot gets message.unsupported.received
        without the text (D1). Returns the event as the bot gets it."""
        if child:
            self.children.add(user_id)
        self._names[user_id] = display_name
        return self._user_event(user_id, "message.text.received", {"text": text})

    def send_image(self, user_id: str, caption: str | None = None) -> Params:
        """A user sends a photo (`photo_url`, as real payloads have it: O PRs)."""
        content: Params = {"photo_url": f"https://photo.zalo.example/{next(self._ids):x}.jpg"}
        if caption is not None:
            content["caption"] = caption
        return self._user_event(user_id, "message.image.received", content)

    def send_sticker(self, user_id: str) -> Params:
        """A user sends a sticker."""
        sticker = f"{next(self._ids):x}"[-8:]
        content = {"sticker": sticker, "url": f"https://zalo-api.zadn.vn/sticker/{sticker}"}
        return self._user_event(user_id, "message.sticker.received", content)

    def send_voice(self, user_id: str) -> Params:
        """A user sends a voice note (newer docs: D2, D3)."""
        content = {"voice_url": f"https://voice.zalo.example/{next(self._ids):x}.aac"}
        return self._user_event(user_id, "message.voice.received", content)

    def send_unsupported(self, user_id: str) -> Params:
        """A user sends what the bot cannot read (a file, a contact card, a location...)."""
        return self._user_event(user_id, "message.unsupported.received", {})

    def inject(self, event: Params) -> Params:
        """Queue any raw event (an unknown event_name, an unsupported event with no message...);
        its chat, if it has one, becomes known."""
        message = event.get("message")
        if isinstance(message, dict):
            chat_id = (message.get("chat") or {}).get("id")
            if isinstance(chat_id, str):
                self._known_chats.add(chat_id)
            if isinstance(message.get("message_id"), str):
                self._history[message["message_id"]] = event
        self._queue(event)
        return event

    def redeliver(self, message_id: str) -> Params:
        """Deliver an earlier event again, identical (the same message twice)."""
        if message_id not in self._history:
            raise LookupError(f"no event with message_id {message_id}")
        again = copy.deepcopy(self._history[message_id])
        self._queue(again)
        return again

    async def post_raw(self, body: bytes, headers: Mapping[str, str] | None = None) -> int:
        """POST `body` with exactly `headers` (Content-Type defaults to JSON) to the webhook
        the bot set; the status it answered. For forged or secret-less requests."""
        if not self.webhook_url or self._session is None:
            raise RuntimeError("no webhook is set (or the simulator is not started)")
        sent = {"Content-Type": "application/json", **(headers or {})}
        self._busy(1)
        try:
            async with self._session.post(self.webhook_url, data=body, headers=sent) as response:
                return response.status
        finally:
            self._busy(-1)

    # --- faults, for tests ----------------------------------------------------------------------

    def fail_next(
        self, chat_id: str, code: int = 429, description: str = "Quota exceeded", times: int = 1
    ) -> None:
        """The next `times` (valid) sends to `chat_id` answer ok:false with `code`."""
        self._faults.setdefault(chat_id, []).extend([_NotTheBots(description, code)] * times)

    # --- reading what the bot did ---------------------------------------------------------------

    def messages(self, chat_id: str) -> list[ZaloSent]:
        """All bot messages in the chat, in order."""
        chat = self._chats.get(chat_id)
        return list(chat.sent) if chat else []

    def new_messages(self, chat_id: str) -> list[ZaloSent]:
        """Bot messages since the previous new_messages / wait_for_messages for the chat."""
        chat = self._chat(chat_id)
        new = chat.sent[chat.cursor :]
        chat.cursor = len(chat.sent)
        return new

    async def wait_for_messages(
        self, chat_id: str, count: int = 1, timeout: float = 10.0
    ) -> list[ZaloSent]:
        """Wait for `count` new bot messages in the chat and return exactly those."""
        chat = self._chat(chat_id)

        def missing() -> str:
            got = [m.text for m in chat.sent[chat.cursor :]]
            return (f"chat {chat_id}: expected {count} new bot message(s) within {timeout}s, "
                    f"got {got}; API errors: {self.errors[-5:]}")

        return await next_sent(chat, count, timeout, missing)

    async def wait_until(self, predicate: Callable[[], bool], timeout: float = 10.0) -> None:
        """Wait until `predicate()` is true."""
        await until(predicate, timeout, self.errors)

    async def wait_idle(self, quiet: float = 0.3, timeout: float = 10.0) -> None:
        """Wait until every event was fetched or delivered (or given up), and no call came and
        no webhook POST was under way for `quiet` seconds."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        while (
            self._pending
            or self._in_flight
            or self._delivering
            or loop.time() - self._last_activity < quiet
        ):
            if loop.time() >= deadline:
                raise TimeoutError(
                    f"not idle within {timeout}s: {len(self._pending)} event(s) pending, "
                    f"{self._delivering} in webhook delivery, {self._in_flight} call(s) in flight"
                )
            await asyncio.sleep(min(0.02, quiet / 4))

    # --- HTTP -----------------------------------------------------------------------------------

    async def _handle_api(self, request: web.Request) -> web.Response:
        method = request.match_info["method"]
        try:
            params = await read_params(request)
        except ApiError as exc:
            return self._error(method, {}, ApiError(exc.description, 400))
        except ConnectionResetError:  # the client died mid-request: nobody reads an answer
            return web.Response(status=400)
        self.requests.append((method, params))
        if request.match_info["token"] != self.token:
            return self._error(method, params, ApiError("Unauthorized", 401))
        handler = self._methods.get(method)  # names are case-sensitive (D1)
        if handler is None:
            return self._error(method, params, ApiError("Not Found", 404))
        loop = asyncio.get_running_loop()
        polling = method == "getUpdates"
        self._in_flight += not polling
        self._last_activity = loop.time()
        try:
            self._check_params(method, params)
            result = await handler(params)
        except ApiError as exc:
            return self._error(method, params, exc)
        finally:
            self._in_flight -= not polling
            self._last_activity = loop.time()
        body: Params = {"ok": True}
        if result is not None:
            body["result"] = result
        return web.json_response(body)

    def _error(self, method: str, params: Params, exc: ApiError) -> web.Response:
        """Zalo's error envelope, with HTTP 200 (D2 §7)."""
        if not isinstance(exc, _NotTheBots):
            self.errors.append((method, params, exc.description))
        body = {"ok": False, "error_code": exc.code, "description": exc.description}
        return web.json_response(body)

    def _check_params(self, method: str, params: Params) -> None:
        """400 for a parameter the method does not take or a value of the wrong type."""
        if "reply_markup" in params:
            raise ApiError("reply_markup is not supported: Zalo bots have no keyboards", 400)
        unknown = sorted(set(params) - _PARAMS[method])
        if unknown:
            raise ApiError(f"Unknown parameter(s) for {method}: {', '.join(unknown)}", 400)
        for name in (
            "chat_id",
            "text",
            "caption",
            "photo",
            "sticker",
            "action",
            "url",
            "secret_token",
            "parse_mode",
        ):
            if name in params and not isinstance(params[name], str):
                raise ApiError(f"{name} must be a string", 400)
        if "chat_id" in _PARAMS[method]:
            chat_id = params.get("chat_id")
            if not chat_id:
                raise ApiError("chat_id is required", 400)
            if chat_id not in self._known_chats:
                raise ApiError(f"chat_id {chat_id} not found: no user wrote from that chat", 400)

    def _before_send(self, params: Params) -> None:
        """Once a send is valid: injected faults, then the optional quota (a refused send does
        not use it up)."""
        chat_id = params["chat_id"]
        planned = self._faults.get(chat_id)
        if planned:
            raise planned.pop(0)
        if self.limits is None:
            return
        now = asyncio.get_running_loop().time()
        bucket = self._buckets.get(chat_id)
        if bucket is None:
            rate = self.limits.chat_per_second
            burst = self.limits.chat_burst if self.limits.chat_burst is not None else rate
            bucket = self._buckets[chat_id] = Bucket(rate, burst, now)
        if bucket.take(now) > 0:
            self.rate_limited += 1
            raise _NotTheBots("Quota exceeded", 429)

    # --- API methods ----------------------------------------------------------------------------

    async def _get_me(self, params: Params) -> Params:
        return {
            "id": self.bot_id,
            "account_name": "bot.childforum",
            "account_type": "BASIC",
            "can_join_groups": False,
        }

    async def _get_updates(self, params: Params) -> Params:
        if self.webhook_url:
            raise ApiError(
                "getUpdates is not available while a webhook is set: call deleteWebhook first", 400
            )
        timeout = _seconds(params.get("timeout", _DEFAULT_POLL_TIMEOUT))
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        while not self._pending and not self._stopping and not self.webhook_url:
            remaining = deadline - loop.time()
            if remaining <= 0:
                break
            self._arrived.clear()
            with suppress(TimeoutError):
                await asyncio.wait_for(self._arrived.wait(), remaining)
        if not self._pending or self.webhook_url:  # idle, stopping, or a webhook came meanwhile
            raise _NotTheBots("Request timeout", 408)
        return self._pending.popleft()  # no offset: once fetched, an event is gone (D2 §3.6)

    async def _set_webhook(self, params: Params) -> Params:
        url, secret = params.get("url", ""), params.get("secret_token", "")
        problem = _webhook_url_problem(url)
        if problem:
            raise ApiError(problem, 400)
        if not 8 <= len(secret) <= 256:
            raise ApiError("secret_token must be 8-256 characters", 400)
        self.webhook_url, self.webhook_secret = url, secret
        self._webhook_updated_at = now_ms()
        self._webhook_ever_set = True
        if self._pusher is None or self._pusher.done():
            self._pusher = asyncio.create_task(self._push_events(), name="zalo.webhook")
        self._arrived.set()
        return {"url": url, "updated_at": self._webhook_updated_at}

    async def _delete_webhook(self, params: Params) -> Params:
        if not self._webhook_ever_set:
            raise _NotTheBots("Webhook is not set", 400)  # reported, benign (NOTES §1)
        self.webhook_url, self.webhook_secret = "", ""
        self._webhook_updated_at = now_ms()
        self._arrived.set()
        return {"url": "", "updated_at": self._webhook_updated_at}

    async def _get_webhook_info(self, params: Params) -> Params:
        return {"url": self.webhook_url, "updated_at": self._webhook_updated_at}

    async def _send_message(self, params: Params) -> Params:
        text = params.get("text")
        if text is None:
            raise ApiError("text is required", 400)
        if not 1 <= len(text) <= MAX_TEXT:
            raise ApiError(f"text must be 1-{MAX_TEXT} characters, got {len(text)}", 400)
        parse_mode = params.get("parse_mode")
        if parse_mode is not None and parse_mode not in PARSE_MODES:
            raise ApiError(f'parse_mode must be "html" or "markdown", not {parse_mode!r}', 400)
        if "text_styles" in params:
            _check_text_styles(params["text_styles"])
        self._before_send(params)
        return self._record(
            ZaloSent(
                self._new_id(), params["chat_id"], "text", text, now_ms(), parse_mode=parse_mode
            )
        )

    async def _send_photo(self, params: Params) -> Params:
        photo = params.get("photo")
        if not isinstance(photo, str) or urlsplit(photo).scheme not in ("http", "https"):
            raise ApiError("photo must be an http(s) URL", 400)
        caption = params.get("caption")
        if caption is not None and not 1 <= len(caption) <= MAX_CAPTION:
            raise ApiError(f"caption must be 1-{MAX_CAPTION} characters, got {len(caption)}", 400)
        self._before_send(params)
        return self._record(
            ZaloSent(self._new_id(), params["chat_id"], "photo", caption, now_ms(), photo=photo)
        )

    async def _send_sticker(self, params: Params) -> Params:
        sticker = params.get("sticker")
        if not sticker:
            raise ApiError("sticker is required", 400)
        self._before_send(params)
        return self._record(
            ZaloSent(self._new_id(), params["chat_id"], "sticker", None, now_ms(), sticker=sticker)
        )

    async def _send_chat_action(self, params: Params) -> None:
        action = params.get("action")
        if action != "typing":  # upload_photo is "coming soon" in D1
            raise ApiError(f'action must be "typing", not {action!r}', 400)
        self.chat_actions.append((params["chat_id"], action))
        return None  # D1: the answer is a bare {"ok": true}

    # --- webhook delivery -----------------------------------------------------------------------

    async def _push_events(self) -> None:
        """While a webhook is set, POST pending events to it one at a time, oldest first."""
        while self.webhook_url and not self._stopping:
            if not self._pending:
                self._arrived.clear()
                await self._arrived.wait()
                continue
            event = self._pending.popleft()
            self._delivering += 1
            try:
                await self._deliver(event)
            finally:
                self._delivering -= 1

    async def _deliver(self, event: Params) -> None:
        message = event.get("message")
        message_id = message.get("message_id") if isinstance(message, dict) else None
        body = {"ok": True, "result": event} if self.wrapped_webhooks else event
        for attempt in range(1, self.webhook_retries + 2):
            if attempt > 1:
                await asyncio.sleep(self.webhook_backoff * 2 ** (attempt - 2))
            if not self.webhook_url:  # deleted meanwhile: back to the queue for getUpdates
                self._pending.appendleft(event)
                return
            status, error = await self._post(body)
            self.deliveries.append(ZaloDelivery(message_id, attempt, status, error))
            if status is not None and 200 <= status < 300:
                return
        self.dropped.append(event)

    async def _post(self, body: Params) -> tuple[int | None, str | None]:
        assert self._session is not None
        try:
            data = json.dumps(body, ensure_ascii=False).encode()
        except UnicodeEncodeError:  # a lone surrogate: JSON can only carry it escaped
            data = json.dumps(body).encode()
        self._busy(1)
        try:
            async with self._session.post(
                self.webhook_url,
                data=data,
                headers={"Content-Type": "application/json", SECRET_HEADER: self.webhook_secret},
                timeout=aiohttp.ClientTimeout(total=self.webhook_timeout),
            ) as response:
                return response.status, None
        except (aiohttp.ClientError, TimeoutError, OSError) as exc:
            return None, f"{type(exc).__name__}: {exc}"
        finally:
            self._busy(-1)

    def _busy(self, change: int) -> None:
        self._in_flight += change
        self._last_activity = asyncio.get_running_loop().time()

    # --- helpers --------------------------------------------------------------------------------

    def _new_id(self) -> str:
        return f"{next(self._ids):020x}"

    def _chat(self, chat_id: str) -> _ChatLog:
        chat = self._chats.get(chat_id)
        if chat is None:
            chat = self._chats[chat_id] = _ChatLog()
        return chat

    def _record(self, message: ZaloSent) -> Params:
        chat = self._chat(message.chat_id)
        chat.sent.append(message)
        chat.arrived.set()
        return {"message_id": message.message_id, "date": message.date}

    def _user_event(self, user_id: str, event_name: str, content: Params) -> Params:
        """A PRIVATE-chat event from `user_id` (chat.id == from.id); a protected account's
        arrives as message.unsupported.received with no content (D1)."""
        if user_id in self.children:
            event_name, content = "message.unsupported.received", {}
        message: Params = {
            "from": {
                "id": user_id,
                "display_name": self._names.get(user_id, "Em"),
                "is_bot": False,
            },
            "chat": {"id": user_id, "chat_type": "PRIVATE"},
            **content,
            "message_id": self._new_id(),
            "date": now_ms(),
        }
        return self.inject({"event_name": event_name, "message": message})

    def _queue(self, event: Params) -> None:
        self._pending.append(event)
        self._arrived.set()


def _seconds(raw: Any) -> float:
    """getUpdates's timeout: a string (D1) or a number of seconds."""
    try:
        value = float(raw)
    except (TypeError, ValueError):
        raise ApiError(f"timeout must be a number of seconds, not {raw!r}", 400) from None
    if value != value or value < 0:  # NaN or negative
        raise ApiError(f"timeout must be a number of seconds, not {raw!r}", 400)
    return value


def _webhook_url_problem(url: str) -> str | None:
    """Why Zalo would refuse `url` (https required; we allow http on loopback for tests)."""
    parts = urlsplit(url)
    if not parts.hostname:
        return "url must be an https URL"
    if parts.scheme == "https":
        return None
    if parts.scheme != "http":
        return "url must be an https URL"
    with suppress(ValueError):
        if ipaddress.ip_address(parts.hostname).is_loopback:
            return None
    if parts.hostname == "localhost":
        return None
    return "url must be an https URL (http is accepted on loopback only, for local tests)"


def _check_text_styles(raw: Any) -> None:
    """text_styles: [{start, len, st: [...]}] (newer docs, D2/D3); a form value is JSON."""
    styles = raw
    if isinstance(raw, str):
        try:
            styles = json.loads(raw)
        except ValueError:
            styles = None
    ok = isinstance(styles, list) and all(
        isinstance(s, dict)
        and isinstance(s.get("start"), int)
        and s["start"] >= 0
        and isinstance(s.get("len"), int)
        and s["len"] >= 1
        for s in styles
    )
    if not ok:
        raise ApiError("text_styles must be a list of {start, len, st}", 400)
