"""AiohttpRequest (handlers/telegram/request.py) over real HTTP: the Bot API simulator for the
calls the bot makes, a tiny aiohttp server for the faults."""

from __future__ import annotations

import asyncio
import json
import socket
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from pathlib import Path

import pytest
from aiohttp import web
from telegram import Bot, InlineKeyboardButton, InlineKeyboardMarkup
from telegram.error import NetworkError, TimedOut
from telegram.request import RequestData
from telegram.request._requestparameter import RequestParameter

from bot.config import load_config
from bot.simulator import BotApiSimulator
from handlers.telegram.durable import RawUpdates
from handlers.telegram.request import POOL_TIMEOUT_MESSAGE, AiohttpRequest
from handlers.wiring import open_bot
from tests.e2e import TOKEN, write_config

CHILD = 1001
Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


@pytest.fixture
async def bot(simulator: BotApiSimulator) -> AsyncIterator[Bot]:
    """A plain PTB Bot whose both request objects are AiohttpRequests, as the bot wires them."""
    client = Bot(TOKEN, base_url=simulator.base_url, base_file_url=simulator.base_file_url,
                 request=AiohttpRequest(),
                 get_updates_request=AiohttpRequest(connection_pool_size=1, read_timeout=0.5))
    async with client:
        yield client


@asynccontextmanager
async def server(handler: Handler) -> AsyncIterator[str]:
    """A local HTTP server answering every path with `handler`; yields its base URL."""
    app = web.Application()
    app.router.add_route("*", "/{tail:.*}", handler)
    runner = web.AppRunner(app, access_log=None, shutdown_timeout=0.2)
    await runner.setup()
    await web.TCPSite(runner, "127.0.0.1", 0).start()
    try:
        yield f"http://127.0.0.1:{runner.addresses[0][1]}"
    finally:
        await runner.cleanup()


def ok(result: object) -> web.Response:
    return web.json_response({"ok": True, "result": result})


# --- the calls the bot makes, against the simulator ---------------------------------------------

async def test_a_json_call_round_trips(bot: Bot, simulator: BotApiSimulator) -> None:
    simulator.send_text(CHILD, "/start")  # the chat exists once the child wrote
    keyboard = InlineKeyboardMarkup([[InlineKeyboardButton("Đồng ý", callback_data="yes")]])
    sent = await bot.send_message(CHILD, "Xin chào <b>em</b> & 😀", parse_mode="HTML",
                                  reply_markup=keyboard)

    method, params = simulator.requests[-1]
    assert method == "sendMessage"
    assert params["text"] == "Xin chào <b>em</b> & 😀"
    assert params["reply_markup"] == {
        "inline_keyboard": [[{"text": "Đồng ý", "callback_data": "yes"}]]}
    assert sent.text == "Xin chào em & 😀" and sent.chat.id == CHILD
    assert sent.reply_markup == keyboard
    (message,) = simulator.messages(CHILD)
    assert message.buttons() == [("Đồng ý", "yes")]
    assert simulator.errors == []


async def test_a_document_upload_arrives_intact(bot: Bot, simulator: BotApiSimulator) -> None:
    simulator.send_text(CHILD, "/start")
    data = bytes(range(256)) * 2000 + b"\r\n--boundary--\r\n"  # every byte value, 500 kB
    name = 'Đề xuất "trẻ em".xlsx'  # UTF-8 as browsers send it, not percent-encoded
    sent = await bot.send_document(CHILD, data, filename=name, caption="Báo cáo")

    (message,) = simulator.messages(CHILD)
    assert message.kind == "document"
    assert message.document == data
    assert message.filename == name
    assert message.caption == "Báo cáo"
    assert sent.document is not None and sent.document.file_size == len(data)
    # and back down: getFile, then the file URL through the same request object (GET)
    file = await bot.get_file(sent.document.file_id)
    assert bytes(await file.download_as_bytearray()) == data
    assert simulator.errors == []


async def test_get_updates_long_polls_past_its_read_timeout(
        bot: Bot, simulator: BotApiSimulator) -> None:
    """The getUpdates request's read timeout is 0.5 s; PTB adds the long poll's timeout to it,
    so a 2 s poll waits it out instead of timing out, and an update ends it at once."""
    start = time.monotonic()
    assert await bot.get_updates(timeout=2) == ()
    assert 1.9 <= time.monotonic() - start < 4

    poll = asyncio.create_task(bot.get_updates(timeout=10))
    await asyncio.sleep(0.3)
    assert not poll.done()
    start = time.monotonic()
    simulator.send_text(CHILD, "chào")
    (update,) = await asyncio.wait_for(poll, 5)
    assert time.monotonic() - start < 1
    assert update.message is not None and update.message.text == "chào"


async def test_the_bot_is_wired_with_aiohttp_requests(
        simulator: BotApiSimulator, database: Path, tmp_path: Path) -> None:
    config = load_config(write_config(tmp_path / "config.toml", simulator, database))
    server = await open_bot(config, TOKEN)
    try:
        bot = server.application.bot
        assert isinstance(bot.request, AiohttpRequest)
        assert bot.request.connection_pool_size == 256
        polling = bot._request[0]  # PTB keeps the getUpdates request first
        assert isinstance(polling, RawUpdates) and isinstance(polling.inner, AiohttpRequest)
        assert polling.inner.connection_pool_size == 1
    finally:
        await server.db.close()


# --- faults, against a tiny server ---------------------------------------------------------------

async def test_a_read_timeout_is_timed_out() -> None:
    release = asyncio.Event()

    async def stall(request: web.Request) -> web.Response:
        await release.wait()
        return ok(True)

    async with server(stall) as url, AiohttpRequest(read_timeout=0.3) as client:
        start = time.monotonic()
        with pytest.raises(TimedOut) as raised:
            await client.post(f"{url}/getMe")
        assert 0.25 <= time.monotonic() - start < 2
        assert "Pool timeout" not in str(raised.value)
        # a per-call read timeout wins over the default one
        with pytest.raises(TimedOut):
            await client.post(f"{url}/getMe", read_timeout=0.05)
        assert time.monotonic() - start < 2.5
        release.set()


async def test_a_per_call_read_timeout_lets_a_slow_answer_through() -> None:
    async def slow(request: web.Request) -> web.Response:
        await asyncio.sleep(0.5)
        return ok({"slow": True})

    async with server(slow) as url, AiohttpRequest(read_timeout=0.1) as client:
        assert await client.post(f"{url}/getMe", read_timeout=3) == {"slow": True}


async def test_a_refused_connection_is_a_network_error() -> None:
    with socket.socket() as probe:  # a port nothing listens on
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    async with AiohttpRequest() as client:
        with pytest.raises(NetworkError) as raised:
            await client.post(f"http://127.0.0.1:{port}/bot{TOKEN}/getMe")
    assert not isinstance(raised.value, TimedOut)
    assert "aiohttp.ClientConnectorError" in str(raised.value)


async def test_a_full_pool_times_out_without_sending() -> None:
    arrived: list[str] = []
    release = asyncio.Event()

    async def hold(request: web.Request) -> web.Response:
        arrived.append(request.path)
        await release.wait()
        return ok(True)

    async with server(hold) as url, AiohttpRequest(connection_pool_size=1,
                                                   pool_timeout=0.2) as client:
        first = asyncio.create_task(client.post(f"{url}/first"))
        while not arrived:
            await asyncio.sleep(0.01)
        with pytest.raises(TimedOut) as raised:
            await client.post(f"{url}/second")
        assert raised.value.message == POOL_TIMEOUT_MESSAGE
        release.set()
        assert await first is True
        assert await client.post(f"{url}/third") is True  # the connection went back
    assert arrived == ["/first", "/third"]


async def test_fields_go_as_a_form_as_httpx_sends_them() -> None:
    seen: list[tuple[str, dict[str, str]]] = []

    async def record(request: web.Request) -> web.Response:
        form = await request.post()
        seen.append((request.content_type, {k: str(v) for k, v in form.items()}))
        return ok(True)

    data = RequestData([RequestParameter.from_input("chat_id", 5),
                        RequestParameter.from_input("text", "a&b=c ă"),
                        RequestParameter.from_input("reply_markup", {"inline_keyboard": []})])
    async with server(record) as url, AiohttpRequest() as client:
        assert await client.post(f"{url}/sendMessage", data) is True
    assert seen == [("application/x-www-form-urlencoded",
                     {"chat_id": "5", "text": "a&b=c ă",
                      "reply_markup": json.dumps({"inline_keyboard": []})})]


async def test_shutdown_then_initialize_again() -> None:
    async def answer(request: web.Request) -> web.Response:
        return ok(request.headers["User-Agent"])

    client = AiohttpRequest()
    async with server(answer) as url:
        with pytest.raises(NetworkError, match="not initialized"):
            await client.post(f"{url}/getMe")
        await client.initialize()
        await client.initialize()  # twice is once (PTB initializes a shared request twice)
        assert "python-telegram-bot" in str(await client.post(f"{url}/getMe"))
        await client.shutdown()
        await client.shutdown()
        with pytest.raises(NetworkError, match="not initialized"):
            await client.post(f"{url}/getMe")
        await client.initialize()
        assert "python-telegram-bot" in str(await client.post(f"{url}/getMe"))
        await client.shutdown()
