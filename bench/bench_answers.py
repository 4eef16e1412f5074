"""Publishing answers to many children through the simulator with Telegram's limits on.

    .venv/bin/python bench/bench_answers.py                   # 10,000 children, about 7 minutes
    .venv/bin/python bench/bench_answers.py --children 500    # a quick look

What runs: a SQLite file with N children, each with one approved proposal and a draft answer; the
simulator enforcing Telegram's limits (30 sends a second in all, one a second per chat with a
burst of 5: 429 past them); the real bot (`childforum run`, a separate process, pacing on, quiet
hours off); `childforum answers publish` (a separate process) queues the N notices. Halfway the
bot is SIGKILLed and started again. The figures: messages a second against the 30 a second
ceiling (the floor of this benchmark: no bot may go faster without 429s), 429s received, chats
told twice or never, the bot's memory while sending (RSS sampled every 2 seconds).
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import os
import signal
import sqlite3
import sys
import tempfile
import time
from pathlib import Path

import psutil

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bot.conversation.engine import State  # noqa: E402
from bot.conversation.service import state_to_row  # noqa: E402
from bot.simulator import BotApiSimulator, Limits, SentMessage  # noqa: E402
from storage.db import open_database  # noqa: E402
from tests.e2e import TOKEN, write_config  # noqa: E402

CEILING = 30.0
FIRST_CHAT = 1_000_000


async def seed(database: Path, children: int) -> None:
    """Children, proposals and draft answers, written directly (this is not what is measured)."""
    db = await open_database(database)  # the schema, through the real migrations
    await db.close()
    state = State(profile={"district": "DHA", "lang": "vi", "age_band": "10-12",
                           "gender": "female"}, profile_queue=())
    row = state_to_row(0, state)
    now = "2023-06-01T00:00:00+00:00"
    with sqlite3.connect(database) as raw:
        raw.executemany(
            "INSERT INTO children (chat_id, consented_at, district, age_band, gender, lang,"
            " state, updated_at) VALUES (?, ?, 'DHA', '10-12', 'female', 'vi', ?, ?)",
            ((FIRST_CHAT + n, now, row.state, now) for n in range(children)))
        raw.executemany(
            "INSERT INTO proposals (ref, chat_id, forum_year, district, topic, proposal, lang,"
            " status, created_at, updated_at) VALUES (?, ?, 2023, 'DHA', 'injuries', ?, 'vi',"
            " 'approved', ?, ?)",
            ((f"DHA-{n + 1:05d}", FIRST_CHAT + n, f"Làm rào chắn ở bến sông số {n}", now, now)
             for n in range(children)))
        raw.execute(
            "INSERT INTO answers (proposal_id, version, state, text_vi, agency, answered_by,"
            " answered_at, source) SELECT id, 1, 'implemented', 'Xã đã làm rào chắn.',"
            " 'UBND xã', 0, ?, 'import' FROM proposals", (now,))


class Bot:
    def __init__(self, config: Path, log: Path) -> None:
        self.config, self.log = config, log
        self.process: asyncio.subprocess.Process | None = None
        self.rss: list[float] = []

    async def start(self, simulator: BotApiSimulator) -> None:
        polls = sum(1 for method, _ in simulator.requests if method == "getUpdates")
        with self.log.open("ab") as log:
            self.process = await asyncio.create_subprocess_exec(
                sys.executable, "-m", "handlers.cli", "run", "--config", str(self.config),
                env={**os.environ, "CHILDFORUM_TOKEN": TOKEN}, stdout=log, stderr=log,
                cwd=ROOT)
        while sum(1 for method, _ in simulator.requests if method == "getUpdates") <= polls:
            await asyncio.sleep(0.05)

    def sample(self) -> None:
        if self.process is not None and self.process.returncode is None:
            with contextlib.suppress(psutil.NoSuchProcess):
                self.rss.append(psutil.Process(self.process.pid).memory_info().rss / 2**20)

    async def kill(self) -> None:
        assert self.process is not None
        self.process.send_signal(signal.SIGKILL)
        await self.process.wait()

    async def stop(self) -> None:
        if self.process is not None and self.process.returncode is None:
            self.process.send_signal(signal.SIGTERM)
            await self.process.wait()


async def run(children: int, timeout: float) -> None:
    with tempfile.TemporaryDirectory() as folder:
        tmp = Path(folder)
        database = tmp / "forum.sqlite3"
        await seed(database, children)
        simulator = BotApiSimulator(limits=Limits(CEILING, 1.0, 5.0))
        await simulator.start()
        for n in range(children):
            simulator.add_chat(FIRST_CHAT + n, "private")
        config = write_config(tmp / "config.toml", simulator, database)  # no quiet hours
        text = config.read_text(encoding="utf-8").replace("rate_limit = false",
                                                          "rate_limit = true")
        config.write_text(text, encoding="utf-8")
        told: dict[int, int] = {}
        times: list[float] = []

        def on_sent(event: str, message: SentMessage) -> None:
            if event == "sent" and message.chat_id >= FIRST_CHAT:
                told[message.chat_id] = told.get(message.chat_id, 0) + 1
                times.append(time.monotonic())

        simulator.subscribe(on_sent)
        bot = Bot(config, tmp / "bot.log")
        await bot.start(simulator)
        started = time.monotonic()
        publish = await asyncio.create_subprocess_exec(
            sys.executable, "-m", "handlers.cli", "answers", "publish", "--config", str(config),
            cwd=ROOT, stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE)
        out, err = await publish.communicate()
        queued_in = time.monotonic() - started
        print(out.decode().strip() or err.decode().strip(), f"({queued_in:.1f} s)")
        killed = False
        kill_gap = 0.0
        last_sample = 0.0
        while len(told) < children and time.monotonic() - started < timeout:
            await asyncio.sleep(0.2)
            if time.monotonic() - last_sample > 2:
                bot.sample()
                last_sample = time.monotonic()
            if not killed and len(told) >= children // 2:
                down = time.monotonic()
                await bot.kill()
                await bot.start(simulator)
                kill_gap = time.monotonic() - down
                killed = True
        finished = time.monotonic()
        await asyncio.sleep(3)  # anything sent twice after the restart would arrive now
        await bot.stop()
        await simulator.stop()
        sent = sum(told.values())
        doubles = sum(1 for count in told.values() if count > 1)
        missing = children - len(told)
        span = (times[-1] - times[0]) if len(times) > 1 else 0.0
        rate = (len(times) - 1) / (span - kill_gap) if span > kill_gap else 0.0
        rss = bot.rss or [0.0]
        print(f"children {children}; notices sent {sent} in {finished - started:.0f} s"
              f" (bot down and restarted in {kill_gap:.1f} s)")
        print(f"messages a second while sending: {rate:.1f}; ratio to the {CEILING:.0f}/s"
              f" ceiling: {rate / CEILING:.2f}")
        print(f"429 answered by the simulator: {simulator.rate_limited}")
        print(f"chats told twice: {doubles}; never told: {missing}")
        print(f"bot RSS while sending: min {min(rss):.0f} MB, max {max(rss):.0f} MB"
              f" ({len(rss)} samples)")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--children", type=int, default=10_000)
    parser.add_argument("--timeout", type=float, default=1200)
    args = parser.parse_args()
    asyncio.run(run(args.children, args.timeout))


if __name__ == "__main__":
    main()
