"""The resting weight of `childforum run`: its RSS once it polls, and the time to get there.

    .venv/bin/python bench/bench_idle.py

Starts the real bot process (the example config, a fresh SQLite file) against the Bot API
simulator, waits for its first getUpdates, lets it settle 3 s, and prints its RSS (psutil) and
how long it took from the process's start. Beside it, for the floor, a bare python-telegram-bot
Application polling the same simulator, in its own process, measured the same way.
"""

from __future__ import annotations

import asyncio
import os
import sys
import tempfile
import time
from pathlib import Path

import psutil

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bot.simulator import BotApiSimulator  # noqa: E402
from tests.e2e import TOKEN, write_config  # noqa: E402

FLOOR = """
import asyncio
from telegram.ext import Application, MessageHandler, filters
async def echo(update, context): await update.message.reply_text(update.message.text)
app = Application.builder().token({token!r}).base_url({base!r}).build()
app.add_handler(MessageHandler(filters.TEXT, echo))
app.run_polling()
"""


async def measure(simulator: BotApiSimulator, command: list[str], env: dict[str, str]
                  ) -> tuple[float, float]:
    polls = sum(1 for method, _ in simulator.requests if method == "getUpdates")
    started = time.perf_counter()
    process = await asyncio.create_subprocess_exec(*command, env=env, cwd=ROOT,
                                                   stdout=asyncio.subprocess.DEVNULL,
                                                   stderr=asyncio.subprocess.DEVNULL)
    await simulator.wait_until(lambda: sum(1 for method, _ in simulator.requests
                                           if method == "getUpdates") > polls, timeout=60)
    ready = time.perf_counter() - started
    await asyncio.sleep(3)
    rss = psutil.Process(process.pid).memory_info().rss / 2**20
    process.terminate()
    await process.wait()
    return ready, rss


async def main() -> None:
    simulator = BotApiSimulator()
    await simulator.start()
    work = Path(tempfile.mkdtemp(prefix="childforum-idle-"))
    env = {**os.environ, "CHILDFORUM_TOKEN": TOKEN}
    try:
        floor = await measure(simulator, [sys.executable, "-c", FLOOR.format(
            token=TOKEN, base=simulator.base_url)], env)
        config = write_config(work / "config.toml", simulator, work / "forum.sqlite3")
        bot = await measure(simulator, [sys.executable, "-m", "handlers.cli", "run",
                                        "--config", str(config)], env)
    finally:
        await simulator.stop()
    print("| | ready after | RSS when idle |\n| --- | ---: | ---: |")
    for name, (ready, rss) in (("bare python-telegram-bot", floor), ("childforum run", bot)):
        print(f"| {name} | {ready:.2f} s | {rss:.0f} MB |")


if __name__ == "__main__":
    asyncio.run(main())
