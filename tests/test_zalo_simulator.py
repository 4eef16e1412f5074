"""The Zalo Bot API simulator, driven over real HTTP with aiohttp (as the bot's adapter will)."""

from __future__ import annotations

import asyncio
import json
import re
import time
from collections.abc import AsyncIterator
from typing import Any

import aiohttp
import pytest
from aiohttp import web

from bot.simulator import ZaloLimits, ZaloSent, ZaloSimulator
from bot.simulator.zalo import SECRET_HEADER, zalo_id

TOKEN = "1234:zalo-test-token"
SECRET = "s3cret-token"
CHILD = zalo_id(1)
OTHER = zalo_id(2)
HEX_ID = re.compile(r"[0-9a-f]{20}")


@pytest.fixture
async def sim() -> AsyncIterator[ZaloSimulator]:
    simulator = ZaloSimulator()
    await simulator.start()
    yield simulator
    await simulator.stop()


@pytest.fixture
async def http() -> AsyncIterator[aiohttp.ClientSession]:
    async with aiohttp.ClientSession() as session:
        yield session


class Receiver:
    """The bot's side of a webhook: records each POST, answers the planned statuses."""

    def __init__(self) -> None:
        self.posts: list[tuple[dict[str, str], Any]] = []
        self.statuses: list[int] = []  # answered in order; 200 once they run out
        self.runner: web.AppRunner | None = None
        self.url = ""

    async def start(self) -> None:
        app = web.Application()
        app.router.add_post("/hook", self.handle)
        self.runner = web.AppRunner(app, access_log=None)
        await self.runner.setup()
        await web.TCPSite(self.runner, "127.0.0.1", 0).start()
        self.url = f"http://127.0.0.1:{self.runner.addresses[0][1]}/hook"

    async def handle(self, request: web.Request) -> web.Response:
        self.posts.append((dict(request.headers), await request.json()))
        status = self.statuses.pop(0) if self.statuses else 200
        return web.Response(status=status, text="ok")

    async def stop(self) -> None:
        if self.runner is not None:
            await self.runner.cleanup()


@pytest.fixture
async def receiver() -> AsyncIterator[Receiver]:
    hook = Receiver()
    await hook.start()
    yield hook
    await hook.stop()


async def call(
    http: aiohttp.ClientSession,
    sim: ZaloSimulator,
    method: str,
    *,
    token: str = TOKEN,
    verb: str = "POST",
    **kw: Any,
) -> dict[str, Any]:
    """One API call; asserts Zalo's HTTP 200 and returns the JSON envelope."""
    async with http.request(verb, f"{sim.base_url}{token}/{method}", **kw) as response:
        assert response.status == 200
        body: dict[str, Any] = await response.json()
        return body


async def set_webhook(http: aiohttp.ClientSession, sim: ZaloSimulator, url: str) -> None:
    body = await call(http, sim, "setWebhook", json={"url": url, "secret_token": SECRET})
    assert body["ok"], body


# --- transport ------------------------------------------------------------------------------


async def test_get_me_and_a_wrong_token(sim: ZaloSimulator, http: aiohttp.ClientSession) -> None:
    me = await call(http, sim, "getMe")
    assert me == {
        "ok": True,
        "result": {
            "id": "1234",
            "account_name": "bot.childforum",
            "account_type": "BASIC",
            "can_join_groups": False,
        },
    }
    bad = await call(http, sim, "getMe", token="1234:wrong")
    assert bad == {"ok": False, "error_code": 401, "description": "Unauthorized"}
    assert [method for method, _ in sim.requests] == ["getMe", "getMe"]
    assert sim.errors == [("getMe", {}, "Unauthorized")]


async def test_unknown_method_and_case_sensitive_names(
    sim: ZaloSimulator, http: aiohttp.ClientSession
) -> None:
    for name in ("editMessageText", "sendmessage", "GetMe"):
        body = await call(http, sim, name)
        assert (body["ok"], body["error_code"]) == (False, 404)
    assert len(sim.errors) == 3


async def test_parameters_as_query_form_or_json(
    sim: ZaloSimulator, http: aiohttp.ClientSession
) -> None:
    sim.send_text(CHILD, "chào")
    by_query = await call(
        http, sim, "sendMessage", verb="GET", params={"chat_id": CHILD, "text": "một"}
    )
    by_form = await call(http, sim, "sendMessage", data={"chat_id": CHILD, "text": "hai"})
    by_json = await call(http, sim, "sendMessage", json={"chat_id": CHILD, "text": "ba"})
    assert by_query["ok"] and by_form["ok"] and by_json["ok"]
    assert [m.text for m in sim.messages(CHILD)] == ["một", "hai", "ba"]
    result = by_json["result"]
    assert set(result) == {"message_id", "date"}
    assert HEX_ID.fullmatch(result["message_id"])
    assert abs(result["date"] - time.time() * 1000) < 5000  # milliseconds
    assert len({m.message_id for m in sim.messages(CHILD)}) == 3
    assert sim.errors == []


# --- getUpdates -----------------------------------------------------------------------------


async def test_get_updates_returns_one_event_per_call(
    sim: ZaloSimulator, http: aiohttp.ClientSession
) -> None:
    first = sim.send_text(CHILD, "một", display_name="Lan")
    second = sim.send_text(CHILD, "hai")
    body = await call(http, sim, "getUpdates", json={"timeout": "30"})
    assert body == {"ok": True, "result": first}
    assert body["result"]["message"]["from"]["display_name"] == "Lan"
    body = await call(http, sim, "getUpdates", params={"timeout": 5})
    assert body["result"] == second
    assert sim.pending_events == []  # no offset: what was fetched is gone


async def test_get_updates_times_out_with_408(
    sim: ZaloSimulator, http: aiohttp.ClientSession
) -> None:
    started = time.monotonic()
    body = await call(http, sim, "getUpdates", json={"timeout": "0.3"})
    assert time.monotonic() - started >= 0.25
    assert body == {"ok": False, "error_code": 408, "description": "Request timeout"}
    body = await call(http, sim, "getUpdates", json={"timeout": 0})
    assert body["error_code"] == 408
    assert sim.errors == []  # idle polls are no mistake
    bad = await call(http, sim, "getUpdates", json={"timeout": "soon"})
    assert (bad["ok"], bad["error_code"]) == (False, 400)


async def test_long_poll_wakes_up_on_a_new_event(
    sim: ZaloSimulator, http: aiohttp.ClientSession
) -> None:
    poll = asyncio.create_task(call(http, sim, "getUpdates", json={"timeout": "10"}))
    await asyncio.sleep(0.2)
    assert not poll.done()
    event = sim.send_text(CHILD, "chào")
    body = await asyncio.wait_for(poll, 2)
    assert body["result"] == event


async def test_get_updates_refused_while_a_webhook_is_set(
    sim: ZaloSimulator, http: aiohttp.ClientSession, receiver: Receiver
) -> None:
    poll = asyncio.create_task(call(http, sim, "getUpdates", json={"timeout": "10"}))
    await asyncio.sleep(0.1)
    await set_webhook(http, sim, receiver.url)
    assert (await asyncio.wait_for(poll, 2))["error_code"] == 408  # a pending poll ends
    refused = await call(http, sim, "getUpdates", json={"timeout": "1"})
    assert refused["ok"] is False and "deleteWebhook" in refused["description"]
    assert (await call(http, sim, "deleteWebhook"))["result"]["url"] == ""
    sim.send_text(CHILD, "lại")
    assert (await call(http, sim, "getUpdates", json={"timeout": "1"}))["ok"]


# --- webhooks -------------------------------------------------------------------------------


async def test_set_webhook_rules(sim: ZaloSimulator, http: aiohttp.ClientSession) -> None:
    never_set = await call(http, sim, "deleteWebhook")
    assert (never_set["ok"], never_set["error_code"]) == (False, 400)
    assert sim.errors == []  # reported Zalo behaviour, benign
    refused = [
        {"url": "http://example.com/hook", "secret_token": SECRET},
        {"url": "ftp://127.0.0.1/hook", "secret_token": SECRET},
        {"url": "not a url", "secret_token": SECRET},
        {"url": "https://example.com/hook", "secret_token": "x" * 7},
        {"url": "https://example.com/hook", "secret_token": "x" * 257},
        {"url": "https://example.com/hook"},
        {"url": "https://example.com/hook", "secret_token": SECRET, "max_connections": 5},
    ]
    for params in refused:
        body = await call(http, sim, "setWebhook", json=params)
        assert (body["ok"], body["error_code"]) == (False, 400), params
    assert len(sim.errors) == len(refused)
    for url, secret in [
        ("https://example.com/hook", "x" * 8),
        ("http://127.0.0.1:9/hook", "y" * 256),
        ("http://localhost:9/hook", SECRET),
    ]:
        body = await call(http, sim, "setWebhook", json={"url": url, "secret_token": secret})
        assert body["ok"] and body["result"]["url"] == url
        assert body["result"]["updated_at"] > 10**12  # ms
    info = await call(http, sim, "getWebhookInfo")
    assert info["result"]["url"] == "http://localhost:9/hook"
    await call(http, sim, "deleteWebhook")
    assert (await call(http, sim, "getWebhookInfo"))["result"]["url"] == ""


async def test_webhook_delivery_wrapped_with_the_secret(
    sim: ZaloSimulator, http: aiohttp.ClientSession, receiver: Receiver
) -> None:
    queued = sim.send_text(CHILD, "trước")  # queued before the webhook: pushed once it is set
    await set_webhook(http, sim, receiver.url)
    event = sim.send_text(CHILD, "sau")
    await sim.wait_idle()
    assert [body for _, body in receiver.posts] == [
        {"ok": True, "result": queued},
        {"ok": True, "result": event},
    ]
    headers = receiver.posts[0][0]
    assert headers[SECRET_HEADER] == SECRET
    assert headers["Content-Type"] == "application/json"
    assert sim.webhook_statuses == [200, 200]
    assert sim.pending_events == [] and sim.dropped == []


async def test_webhook_delivery_bare(http: aiohttp.ClientSession, receiver: Receiver) -> None:
    sim = ZaloSimulator(wrapped_webhooks=False)
    await sim.start()
    try:
        await set_webhook(http, sim, receiver.url)
        event = sim.send_sticker(CHILD)
        await sim.wait_idle()
        assert receiver.posts[0][1] == event
    finally:
        await sim.stop()


async def test_webhook_retries_then_gives_up(
    sim: ZaloSimulator, http: aiohttp.ClientSession, receiver: Receiver
) -> None:
    await set_webhook(http, sim, receiver.url)
    receiver.statuses = [500, 503]
    event = sim.send_text(CHILD, "một")
    await sim.wait_idle()
    assert sim.webhook_statuses == [500, 503, 200]
    assert [d.attempt for d in sim.deliveries] == [1, 2, 3]
    assert {d.message_id for d in sim.deliveries} == {event["message"]["message_id"]}
    receiver.statuses = [403] * 10
    lost = sim.send_text(CHILD, "hai")
    await sim.wait_idle()
    assert sim.webhook_statuses[3:] == [403] * (1 + sim.webhook_retries)
    assert sim.dropped == [lost]
    later = sim.send_text(CHILD, "ba")  # the next event is still delivered
    await sim.wait_idle()
    assert receiver.posts[-1][1]["result"] == later


async def test_webhook_connection_failure_is_retried(
    sim: ZaloSimulator, http: aiohttp.ClientSession, receiver: Receiver
) -> None:
    await set_webhook(http, sim, receiver.url)
    await receiver.stop()  # the bot is down
    event = sim.send_text(CHILD, "một")
    await sim.wait_idle()
    assert len(sim.deliveries) == 1 + sim.webhook_retries
    assert all(d.status is None and d.error for d in sim.deliveries)
    assert sim.webhook_statuses == []
    assert sim.dropped == [event]


async def test_redeliver_posts_the_same_message_twice(
    sim: ZaloSimulator, http: aiohttp.ClientSession, receiver: Receiver
) -> None:
    await set_webhook(http, sim, receiver.url)
    event = sim.send_text(CHILD, "một")
    await sim.wait_idle()
    again = sim.redeliver(event["message"]["message_id"])
    await sim.wait_idle()
    assert again == event
    assert [body for _, body in receiver.posts] == [{"ok": True, "result": event}] * 2
    with pytest.raises(LookupError):
        sim.redeliver("ffff")


async def test_post_raw_sends_exactly_what_it_is_given(
    sim: ZaloSimulator, http: aiohttp.ClientSession, receiver: Receiver
) -> None:
    with pytest.raises(RuntimeError):
        await sim.post_raw(b"{}")
    await set_webhook(http, sim, receiver.url)
    receiver.statuses = [403]
    status = await sim.post_raw(
        json.dumps({"event_name": "x"}).encode(), {SECRET_HEADER: "forged!!"}
    )
    assert status == 403
    headers, body = receiver.posts[-1]
    assert headers[SECRET_HEADER] == "forged!!" and body == {"event_name": "x"}
    assert await sim.post_raw(b"{}") == 200
    assert SECRET_HEADER not in receiver.posts[-1][0]
    assert sim.deliveries == []  # raw posts are not event deliveries


# --- events ---------------------------------------------------------------------------------


async def test_event_shapes(sim: ZaloSimulator, http: aiohttp.ClientSession) -> None:
    text = sim.send_text(CHILD, "xin chào", display_name="Lan")
    image = sim.send_image(CHILD, caption="ảnh")
    sticker = sim.send_sticker(CHILD)
    voice = sim.send_voice(CHILD)
    other = sim.send_unsupported(CHILD)
    fetched = [
        (await call(http, sim, "getUpdates", json={"timeout": "1"}))["result"] for _ in range(5)
    ]
    assert fetched == [text, image, sticker, voice, other]
    assert [e["event_name"] for e in fetched] == [
        "message.text.received",
        "message.image.received",
        "message.sticker.received",
        "message.voice.received",
        "message.unsupported.received",
    ]
    for event in fetched:
        message = event["message"]
        assert message["from"] == {"id": CHILD, "display_name": "Lan", "is_bot": False}
        assert message["chat"] == {"id": CHILD, "chat_type": "PRIVATE"}
        assert HEX_ID.fullmatch(message["message_id"])
        assert message["date"] > 10**12
    assert text["message"]["text"] == "xin chào"
    assert image["message"]["caption"] == "ảnh"
    assert image["message"]["photo_url"].startswith("https://")
    assert sticker["message"]["sticker"] and sticker["message"]["url"].startswith("https://")
    assert voice["message"]["voice_url"].endswith(".aac")
    assert set(other["message"]) == {"from", "chat", "message_id", "date"}
    assert len({e["message"]["message_id"] for e in fetched}) == 5


async def test_a_childs_messages_arrive_without_content(
    sim: ZaloSimulator, http: aiohttp.ClientSession
) -> None:
    hidden = sim.send_text(CHILD, "em 12 tuổi", child=True)
    assert hidden["event_name"] == "message.unsupported.received"
    assert "text" not in hidden["message"]
    assert hidden["message"]["chat"]["id"] == CHILD
    image = sim.send_image(CHILD, caption="ảnh")  # the account stays a child's
    assert image["event_name"] == "message.unsupported.received"
    assert set(image["message"]) == {"from", "chat", "message_id", "date"}
    assert sim.send_text(CHILD, "nữa")["event_name"] == "message.unsupported.received"
    assert sim.send_text(OTHER, "người lớn")["event_name"] == "message.text.received"
    body = await call(http, sim, "getUpdates", json={"timeout": "1"})
    assert body["result"] == hidden
    # the bot can still answer the chat
    assert (await call(http, sim, "sendMessage", json={"chat_id": CHILD, "text": "Hi"}))["ok"]


# --- sends ----------------------------------------------------------------------------------


async def test_text_length_in_characters(sim: ZaloSimulator, http: aiohttp.ClientSession) -> None:
    sim.send_text(CHILD, "chào")
    for text in ("a" * 2000, "😀" * 2000, "ừ"):
        assert (await call(http, sim, "sendMessage", json={"chat_id": CHILD, "text": text}))["ok"]
    for text in ("a" * 2001, ""):
        body = await call(http, sim, "sendMessage", json={"chat_id": CHILD, "text": text})
        assert (body["ok"], body["error_code"]) == (False, 400)
        assert "1-2000 characters" in body["description"]
    missing = await call(http, sim, "sendMessage", json={"chat_id": CHILD})
    assert missing["ok"] is False
    assert len(sim.messages(CHILD)) == 3
    assert len(sim.errors) == 3


async def test_refused_sends_are_errors(sim: ZaloSimulator, http: aiohttp.ClientSession) -> None:
    sim.send_text(CHILD, "chào")
    keyboard = {"inline_keyboard": [[{"text": "A", "callback_data": "a"}]]}
    refused = [
        {"chat_id": CHILD, "text": "x", "reply_markup": keyboard},
        {"chat_id": CHILD, "text": "x", "parse_mode": "HTML"},
        {"chat_id": CHILD, "text": "x", "parse_mode": "MarkdownV2"},
        {"chat_id": CHILD, "text": "x", "reply_to_message_id": "abc"},
        {"chat_id": CHILD, "text": "x", "text_styles": "bold"},
        {"chat_id": OTHER, "text": "x"},  # never wrote to the bot
        {"chat_id": 1, "text": "x"},  # ids are strings
        {"text": "x"},
    ]
    for params in refused:
        body = await call(http, sim, "sendMessage", json=params)
        assert (body["ok"], body["error_code"]) == (False, 400), params
    whys = [why for _, _, why in sim.errors]
    assert len(whys) == len(refused)
    assert "no keyboards" in whys[0] and "parse_mode" in whys[1]
    assert "reply_to_message_id" in whys[3] and "not found" in whys[5]
    # a keyboard sent as a form field (JSON text) is refused too
    form = await call(
        http,
        sim,
        "sendMessage",
        data={"chat_id": CHILD, "text": "x", "reply_markup": json.dumps(keyboard)},
    )
    assert form["ok"] is False
    for mode in ("html", "markdown"):
        params = {"chat_id": CHILD, "text": "<b>x</b>", "parse_mode": mode}
        assert (await call(http, sim, "sendMessage", json=params))["ok"]
    styles = [{"start": 0, "len": 1, "st": ["b"]}]
    ok = await call(
        http, sim, "sendMessage", json={"chat_id": CHILD, "text": "xy", "text_styles": styles}
    )
    assert ok["ok"]
    assert [(m.text, m.parse_mode) for m in sim.messages(CHILD)] == [
        ("<b>x</b>", "html"),
        ("<b>x</b>", "markdown"),
        ("xy", None),
    ]


async def test_photo_sticker_and_chat_action(
    sim: ZaloSimulator, http: aiohttp.ClientSession
) -> None:
    sim.send_text(CHILD, "chào")
    url = "https://example.com/chart.png"
    photo = await call(
        http, sim, "sendPhoto", json={"chat_id": CHILD, "photo": url, "caption": "Biểu đồ"}
    )
    bare = await call(http, sim, "sendPhoto", json={"chat_id": CHILD, "photo": url})
    sticker = await call(http, sim, "sendSticker", json={"chat_id": CHILD, "sticker": "abc"})
    assert photo["ok"] and bare["ok"] and sticker["ok"]
    assert HEX_ID.fullmatch(sticker["result"]["message_id"])
    sent = sim.messages(CHILD)
    assert [(m.kind, m.text, m.photo, m.sticker) for m in sent] == [
        ("photo", "Biểu đồ", url, None),
        ("photo", None, url, None),
        ("sticker", None, None, "abc"),
    ]
    for params in (
        {"chat_id": CHILD, "photo": "chart.png"},
        {"chat_id": CHILD, "photo": url, "caption": "c" * 2001},
        {"chat_id": CHILD, "photo": url, "parse_mode": "html"},
    ):
        assert (await call(http, sim, "sendPhoto", json=params))["ok"] is False
    multipart = aiohttp.FormData()
    multipart.add_field("chat_id", CHILD)
    multipart.add_field("photo", b"\x89PNG", filename="chart.png")
    assert (await call(http, sim, "sendPhoto", data=multipart))["ok"] is False
    assert (await call(http, sim, "sendSticker", json={"chat_id": CHILD}))["ok"] is False
    typing = await call(http, sim, "sendChatAction", json={"chat_id": CHILD, "action": "typing"})
    assert typing == {"ok": True}
    upload = await call(
        http, sim, "sendChatAction", json={"chat_id": CHILD, "action": "upload_photo"}
    )
    assert upload["ok"] is False
    assert sim.chat_actions == [(CHILD, "typing")]
    assert len(sim.errors) == 6
    assert len(sim.messages(CHILD)) == 3


async def test_messages_and_new_messages(sim: ZaloSimulator, http: aiohttp.ClientSession) -> None:
    sim.send_text(CHILD, "chào")
    assert sim.messages(CHILD) == [] and sim.new_messages(CHILD) == []
    await call(http, sim, "sendMessage", json={"chat_id": CHILD, "text": "một"})
    (first,) = sim.new_messages(CHILD)
    assert isinstance(first, ZaloSent)
    assert (first.chat_id, first.kind, first.text) == (CHILD, "text", "một")
    assert sim.new_messages(CHILD) == []
    later = asyncio.create_task(sim.wait_for_messages(CHILD, 2, timeout=5))
    await call(http, sim, "sendMessage", json={"chat_id": CHILD, "text": "hai"})
    await call(http, sim, "sendMessage", json={"chat_id": CHILD, "text": "ba"})
    assert [m.text for m in await later] == ["hai", "ba"]
    assert [m.text for m in sim.messages(CHILD)] == ["một", "hai", "ba"]
    with pytest.raises(TimeoutError):
        await sim.wait_for_messages(CHILD, timeout=0.1)
    with pytest.raises(TimeoutError):
        await sim.wait_until(lambda: False, timeout=0.1)


async def test_wait_idle_waits_for_pending_events(
    sim: ZaloSimulator, http: aiohttp.ClientSession
) -> None:
    sim.send_text(CHILD, "chào")
    with pytest.raises(TimeoutError, match="1 event"):
        await sim.wait_idle(quiet=0.05, timeout=0.3)
    await call(http, sim, "getUpdates", json={"timeout": "1"})
    await sim.wait_idle(quiet=0.05, timeout=2)


# --- faults and limits ----------------------------------------------------------------------


async def test_fail_next(sim: ZaloSimulator, http: aiohttp.ClientSession) -> None:
    sim.send_text(CHILD, "chào")
    sim.send_text(OTHER, "chào")
    sim.fail_next(CHILD)
    sim.fail_next(OTHER, code=403, description="Internal server error")
    params = {"chat_id": CHILD, "text": "một"}
    invalid = await call(http, sim, "sendMessage", json={"chat_id": CHILD, "text": ""})
    assert invalid["error_code"] == 400  # an invalid send does not use the fault up
    assert await call(http, sim, "sendMessage", json=params) == {
        "ok": False,
        "error_code": 429,
        "description": "Quota exceeded",
    }
    assert (await call(http, sim, "sendMessage", json=params))["ok"]
    other = await call(
        http, sim, "sendPhoto", json={"chat_id": OTHER, "photo": "https://example.com/a.png"}
    )
    assert (other["error_code"], other["description"]) == (403, "Internal server error")
    assert [m.text for m in sim.messages(CHILD)] == ["một"] and sim.messages(OTHER) == []
    assert len(sim.errors) == 1  # the invalid send; injected faults are not the bot's mistakes


async def test_per_chat_limit(http: aiohttp.ClientSession) -> None:
    sim = ZaloSimulator(limits=ZaloLimits(chat_per_second=2))
    await sim.start()
    try:
        sim.send_text(CHILD, "chào")
        sim.send_text(OTHER, "chào")
        params = {"chat_id": CHILD, "text": "x"}
        answers = [await call(http, sim, "sendMessage", json=params) for _ in range(3)]
        assert [a["ok"] for a in answers] == [True, True, False]
        assert (answers[2]["error_code"], answers[2]["description"]) == (429, "Quota exceeded")
        assert (await call(http, sim, "sendMessage", json={"chat_id": OTHER, "text": "x"}))["ok"]
        await asyncio.sleep(0.6)
        assert (await call(http, sim, "sendMessage", json=params))["ok"]
        assert sim.rate_limited == 1 and sim.errors == []
    finally:
        await sim.stop()


async def test_no_limit_by_default(sim: ZaloSimulator, http: aiohttp.ClientSession) -> None:
    sim.send_text(CHILD, "chào")
    for n in range(20):
        assert (await call(http, sim, "sendMessage", json={"chat_id": CHILD, "text": str(n)}))["ok"]
    assert sim.rate_limited == 0


async def test_stop_ends_a_long_poll(http: aiohttp.ClientSession) -> None:
    sim = ZaloSimulator()
    await sim.start()
    poll = asyncio.create_task(call(http, sim, "getUpdates", json={"timeout": "30"}))
    await asyncio.sleep(0.2)
    assert not poll.done()
    await sim.stop()
    assert (await asyncio.wait_for(poll, 3))["error_code"] == 408


async def test_stop_ends_a_delivery_in_backoff(
    http: aiohttp.ClientSession, receiver: Receiver
) -> None:
    sim = ZaloSimulator()
    await sim.start()
    await set_webhook(http, sim, receiver.url)
    receiver.statuses = [500] * 10
    sim.webhook_backoff = 30.0  # the event waits in its retry backoff
    sim.send_text(CHILD, "một")
    await sim.wait_until(lambda: len(sim.deliveries) == 1)
    started = time.monotonic()
    await sim.stop()
    assert time.monotonic() - started < 3
