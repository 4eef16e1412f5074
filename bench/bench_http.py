"""CPU per Bot API call: PTB's HTTPXRequest against AiohttpRequest, with a bare aiohttp floor.

    .venv/bin/python bench/bench_http.py                     # about 2 minutes
    .venv/bin/python bench/bench_http.py --rounds 1 --calls 500 --calls-256 2000   # quick look

A local HTTP server in another process (so that its CPU is not counted) answers every POST with
the Message a sendMessage returns (about 750 bytes of JSON). This process makes the same
sendMessage call (chat_id, a 200-character Vietnamese HTML text, an inline keyboard of four
buttons) through each client, with 1 and with 256 calls in flight, and counts the process's CPU
time (`time.process_time`, all threads) per call:

- floor: one bare `aiohttp.ClientSession` posting the form body, encoded once beforehand, and
  `json.loads` of the answer;
- HTTPXRequest: python-telegram-bot's default client, as PTB's ApplicationBuilder makes it
  (pool 256), through `BaseRequest.post` (the call's fields JSON-encoded, the answer parsed),
  which is what `Bot` calls for every method;
- AiohttpRequest: handlers/telegram/request.py, the same way.

Each round runs floor, httpx and aiohttp one after the other (the order turns from round to round
so that none always runs first); each run opens its connections in a warm-up, then counts. The
report gives, per client, the median over the rounds of CPU per call and of the ratio to the
floor of the same round. Every answer is checked (status, message id); any error fails the run.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import platform
import statistics
import subprocess
import sys
import time
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import aiohttp  # noqa: E402
import httpx  # noqa: E402
import telegram  # noqa: E402
from aiohttp import web  # noqa: E402
from telegram.request import BaseRequest, HTTPXRequest, RequestData  # noqa: E402
from telegram.request._requestparameter import RequestParameter  # noqa: E402

from handlers.telegram.request import AiohttpRequest  # noqa: E402

TOKEN = "123456:BENCH-TOKEN"
CHAT = 100_200_300
TEXT = ("<b>Câu hỏi 3/7.</b> Em đã thấy điều này xảy ra ở đâu? Hãy chọn một câu trả lời bên "
        "dưới, hoặc viết bằng lời của em. Em có thể bỏ qua câu này nếu em không muốn trả lời.")
KEYBOARD = {"inline_keyboard": [[{"text": t, "callback_data": f"q3:{i}"}]
                                for i, t in enumerate(("Ở nhà", "Ở trường", "Trên mạng",
                                                       "Bỏ qua"))]}
Call = Callable[[], Awaitable[None]]


# --- the server (another process) ---------------------------------------------------------------

def answer_body() -> bytes:
    """The JSON Telegram answers a sendMessage with."""
    message = {"message_id": 4321, "date": 1_790_000_000, "text": TEXT.replace("<b>", "")
               .replace("</b>", ""), "reply_markup": KEYBOARD,
               "from": {"id": 4242, "is_bot": True, "first_name": "Bench",
                        "username": "bench_bot"},
               "chat": {"id": CHAT, "first_name": "Em", "type": "private"},
               "entities": [{"offset": 0, "length": 12, "type": "bold"}]}
    return json.dumps({"ok": True, "result": message}, ensure_ascii=False).encode()


async def serve() -> None:
    body = answer_body()

    async def handle(request: web.Request) -> web.Response:
        await request.read()
        return web.Response(body=body, content_type="application/json")

    app = web.Application()
    app.router.add_post("/{tail:.*}", handle)
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    await web.TCPSite(runner, "127.0.0.1", 0, backlog=1024).start()
    print(runner.addresses[0][1], flush=True)
    await asyncio.Event().wait()


# --- the clients ---------------------------------------------------------------------------------

def request_data() -> RequestData:
    return RequestData([RequestParameter.from_input(k, v) for k, v in (
        ("chat_id", CHAT), ("text", TEXT), ("parse_mode", "HTML"), ("reply_markup", KEYBOARD))])


def check(result: Any) -> None:
    if not (isinstance(result, dict) and result.get("message_id") == 4321):
        raise SystemExit(f"unexpected answer: {result!r}")


async def open_client(kind: str, url: str) -> tuple[Call, Callable[[], Awaitable[None]]]:
    """The client's one call and its close."""
    data = request_data()
    if kind == "floor":
        body = urlencode(data.json_parameters).encode()
        headers = {"Content-Type": "application/x-www-form-urlencoded"}
        session = aiohttp.ClientSession(connector=aiohttp.TCPConnector(limit=256))

        async def bare() -> None:
            async with session.post(url, data=body, headers=headers) as response:
                if response.status != 200:
                    raise SystemExit(f"status {response.status}")
                check(json.loads(await response.read())["result"])
        return bare, session.close
    request: BaseRequest = HTTPXRequest(connection_pool_size=256) if kind == "httpx" \
        else AiohttpRequest(connection_pool_size=256)
    await request.initialize()

    async def post() -> None:
        check(await request.post(url, data))
    return post, request.shutdown


async def run(call: Call, calls: int, in_flight: int) -> tuple[float, float]:
    """CPU seconds and wall seconds for `calls` calls, `in_flight` at a time."""
    left = calls

    async def worker() -> None:
        nonlocal left
        while left > 0:
            left -= 1
            await call()

    cpu, wall = time.process_time(), time.perf_counter()
    await asyncio.gather(*(worker() for _ in range(in_flight)))
    return time.process_time() - cpu, time.perf_counter() - wall


async def measure(kind: str, url: str, calls: int, in_flight: int) -> tuple[float, float]:
    """(CPU ms per call, calls per second) of one client, after a warm-up."""
    call, close = await open_client(kind, url)
    try:
        await run(call, max(in_flight * 2, 200), in_flight)  # connections open, caches warm
        cpu, wall = await run(call, calls, in_flight)
    finally:
        await close()
    return cpu / calls * 1000, calls / wall


async def bench(url: str, rounds: int, calls: dict[int, int]) -> dict[int, dict[str, Any]]:
    kinds = ["floor", "httpx", "aiohttp"]
    results: dict[int, dict[str, Any]] = {}
    for in_flight, n in calls.items():
        cpu: dict[str, list[float]] = {k: [] for k in kinds}
        rate: dict[str, list[float]] = {k: [] for k in kinds}
        ratio: dict[str, list[float]] = {k: [] for k in kinds}
        for r in range(rounds):
            order = kinds[r % 3:] + kinds[:r % 3]
            got = {k: await measure(k, url, n, in_flight) for k in order}
            for k in kinds:
                cpu[k].append(got[k][0])
                rate[k].append(got[k][1])
                ratio[k].append(got[k][0] / got["floor"][0])
            print(f"  {in_flight:>3} in flight, round {r + 1}: " + ", ".join(
                f"{k} {got[k][0]:.3f} ms" for k in order), file=sys.stderr, flush=True)
        results[in_flight] = {"cpu": cpu, "rate": rate, "ratio": ratio}
    return results


def report(results: dict[int, dict[str, Any]], rounds: int, calls: dict[int, int]) -> str:
    names = {"floor": "floor: bare aiohttp ClientSession", "httpx": "HTTPXRequest (PTB default)",
             "aiohttp": "AiohttpRequest (childforum)"}
    lines = [
        f"Python {platform.python_version()}, python-telegram-bot {telegram.__version__}, "
        f"aiohttp {aiohttp.__version__}, httpx {httpx.__version__}, {os.cpu_count()} CPUs, "
        f"load average {os.getloadavg()[0]:.1f}; {rounds} round(s), "
        + ", ".join(f"{n:,} calls at {f} in flight" for f, n in calls.items()),
        "",
        "| client | in flight | CPU per call (median) | range | ratio to the floor "
        "| calls/s (median) |",
        "| --- | ---: | ---: | ---: | ---: | ---: |",
    ]
    for in_flight, found in results.items():
        for kind, name in names.items():
            cpu, rate = found["cpu"][kind], found["rate"][kind]
            lines.append(
                f"| {name} | {in_flight} | {statistics.median(cpu):.3f} ms "
                f"| {min(cpu):.3f} - {max(cpu):.3f} "
                f"| {statistics.median(found['ratio'][kind]):.2f} "
                f"| {statistics.median(rate):,.0f} |")
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--calls", type=int, default=3000, help="calls per run, 1 in flight")
    parser.add_argument("--calls-256", type=int, default=5000,
                        help="calls per run, 256 in flight")
    parser.add_argument("--serve", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.serve:
        asyncio.run(serve())
        return
    server = subprocess.Popen([sys.executable, __file__, "--serve"], stdout=subprocess.PIPE,
                              text=True)
    try:
        assert server.stdout is not None
        port = int(server.stdout.readline())
        url = f"http://127.0.0.1:{port}/bot{TOKEN}/sendMessage"
        calls = {1: args.calls, 256: args.calls_256}
        results = asyncio.run(bench(url, args.rounds, calls))
    finally:
        server.terminate()
        server.wait()
    print(report(results, args.rounds, calls))


if __name__ == "__main__":
    main()
