"""End-to-end harness: the real bot as a separate process, talking HTTP to the simulator."""

from __future__ import annotations

import asyncio
import os
import re
import signal
import socket
import sys
from collections.abc import AsyncIterator, Callable, Mapping
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

from bot.config import load_config
from bot.simulator import BotApiSimulator, SentMessage, ZaloSent, ZaloSimulator
from bot.simulator.zalo import zalo_id

ROOT = Path(__file__).resolve().parents[1]
TOKEN = "123456:TEST-TOKEN"
ENGLISH_DISTRICTS = {d.name: d.name_en for d in load_config(ROOT / "config.example.toml").districts}


def write_config(path: Path, simulator: BotApiSimulator, database: Path | str,
                 extra_config: str = "", changes: Mapping[str, str] | None = None,
                 example: str = "config.example.toml") -> Path:
    """The example config, pointed at the simulator and a test database; `extra_config` is
    appended (more [[staff]] tables...), `changes` replace lines ("flood_messages = 20": ...)."""
    text = (ROOT / example).read_text(encoding="utf-8")
    text = text.replace('file = "docs/', f'file = "{ROOT}/docs/')  # [areas], beside the repo
    text = text.replace('api_base_url = "https://api.telegram.org/bot"',
                        f'api_base_url = "{simulator.base_url}"')
    text = text.replace('api_base_file_url = "https://api.telegram.org/file/bot"',
                        f'api_base_file_url = "{simulator.base_file_url}"')
    text = text.replace("rate_limit = true", "rate_limit = false")
    # Notices wait out the night; a test must not depend on the hour it runs at.
    text = text.replace('quiet_hours = "21:00-07:00"', 'quiet_hours = ""')
    text = text.replace('path = "childforum.sqlite3"', f'url = "{database}"'
                        if isinstance(database, str) else f'path = "{database}"')
    for old, new in (changes or {}).items():
        assert old in text, old
        text = text.replace(old, new)
    path.write_text(text + "\n" + extra_config, encoding="utf-8")
    return path


ZALO_SECRET = "zalo-webhook-secret-0123456789abcdefXYZ"


def zalo_config(path: Path, telegram: BotApiSimulator, zalo: ZaloSimulator,
                database: Path | str) -> Path:
    """The example config serving Telegram's simulator and Zalo's, the webhook on a free port
    (the token and secret come from the environment: the `zalo` fixture sets them)."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = int(sock.getsockname()[1])
    return write_config(path, telegram, database, changes={
        "enabled = false": "enabled = true",
        'api_base_url = "https://bot-api.zaloplatforms.com/bot"':
            f'api_base_url = "{zalo.base_url}"',
        "port = 8444": f"port = {port}",
        'public_url = "https://forum.example.org/zalo"':
            f'public_url = "http://127.0.0.1:{port}/zalo"',
    })


class BotProcess:
    """`childforum run` in a child process; killable at any moment."""

    def __init__(self, simulator: BotApiSimulator, config: Path, log: Path) -> None:
        self.simulator, self.config, self.log = simulator, config, log
        self.process: asyncio.subprocess.Process | None = None

    async def start(self, ready_on: str = "getUpdates") -> None:
        """Start the bot; it is ready when it first calls `ready_on` (setWebhook for webhooks)."""
        env = {**os.environ, "CHILDFORUM_TOKEN": TOKEN}
        polls_before = self._polls(ready_on)
        with self.log.open("ab") as log:
            self.process = await asyncio.create_subprocess_exec(
                sys.executable, "-m", "handlers.cli", "run", "--config", str(self.config),
                env=env, stdout=log, stderr=log, cwd=ROOT)
        process = self.process
        await self.simulator.wait_until(
            lambda: self._polls(ready_on) > polls_before or process.returncode is not None,
            timeout=30)
        if process.returncode is not None:
            raise RuntimeError(f"the bot exited at start:\n{self.log.read_text()[-3000:]}")
        if ready_on == "setWebhook":  # python-telegram-bot sets the webhook, then listens
            await self._listening(load_config(self.config).webhook.port)

    async def _listening(self, port: int, timeout: float = 15) -> None:
        """Wait until the bot's webhook server takes connections on `port`."""
        deadline = asyncio.get_running_loop().time() + timeout
        while True:
            try:
                _, writer = await asyncio.open_connection("127.0.0.1", port)
            except OSError:
                if asyncio.get_running_loop().time() > deadline:
                    raise
                await asyncio.sleep(0.02)
                continue
            writer.close()
            await writer.wait_closed()
            return

    def _polls(self, ready_on: str) -> int:
        return sum(1 for method, _ in self.simulator.requests if method == ready_on)

    def kill(self) -> None:
        """SIGKILL: no clean-up of any kind."""
        assert self.process is not None
        self.process.send_signal(signal.SIGKILL)

    async def stop(self) -> int:
        assert self.process is not None
        if self.process.returncode is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                await asyncio.wait_for(self.process.wait(), 15)
            except TimeoutError:
                self.process.kill()
                await self.process.wait()
        return self.process.returncode or 0


@asynccontextmanager
async def running_bot(simulator: BotApiSimulator, config: Path) -> AsyncIterator[BotProcess]:
    """The bot of `config` (its log beside it) until the block ends; then no request it sent
    may have been invalid."""
    bot = BotProcess(simulator, config, config.with_name("bot.log"))
    await bot.start()
    try:
        yield bot
    finally:
        await bot.stop()
    assert simulator.errors == [], f"the bot sent invalid requests: {simulator.errors}"


class Person:
    """A journey through the bot, whatever the channel: a channel's person says and taps."""

    async def say(self, text: str) -> list[Any]:
        raise NotImplementedError

    async def tap(self, label: str) -> list[Any]:
        raise NotImplementedError

    async def answer_topic(self, topic: str, seen: str, proposal: str,
                           actor: str) -> list[Any]:
        """From the topic menu to the review screen, with no message to adults."""
        await self.tap(topic)
        await self.say(seen)
        await self.say(proposal)
        await self.tap(actor)
        await self.tap("✔️")
        return await self.skip_to_review()

    async def skip_to_review(self, happening: str = "Không") -> list[Any]:
        """Skip the message to adults; on the topics that ask "is this happening?", answer."""
        shown = await self.tap("⏭")
        if any("đang xảy ra" in m.plain or "happening to" in m.plain for m in shown):
            shown = await self.tap(happening)
        return shown

    async def register(self, district: str = "Huyện Đắk Hà", lang: str = "Tiếng Việt") -> None:
        """Consent, then language, district (its Vietnamese name), age band and gender."""
        await self.say("/start")
        await self.tap("Em đồng ý")
        await self.tap("Có, đã đồng ý")
        await self.tap(lang)
        english = lang == "English"
        await self.tap(ENGLISH_DISTRICTS[district] if english else district)
        await self.tap("10-12")
        await self.tap("Prefer not to say" if english else "Em không muốn nói")


class Child(Person):
    """A person in a private chat with the bot on Telegram."""

    def __init__(self, simulator: BotApiSimulator, user_id: int, language_code: str = "vi") -> None:
        self.sim, self.user_id, self.language_code = simulator, user_id, language_code

    async def _settle(self) -> list[SentMessage]:
        await self.sim.wait_idle(quiet=0.15, timeout=20)
        return self.sim.new_messages(self.user_id)

    async def say(self, text: str) -> list[SentMessage]:
        self.sim.send_text(self.user_id, text, language_code=self.language_code)
        return await self._settle()

    def files(self) -> list[SentMessage]:
        return [m for m in self.sim.messages(self.user_id) if m.kind == "document"]

    async def file_after(self, text: str) -> SentMessage:
        """Say `text`, then wait for the file it brings (made off the loop, or after a first
        import: it may come after the chat went quiet)."""
        before = len(self.files())
        await self.say(text)
        await self.sim.wait_until(lambda: len(self.files()) > before, 30)
        await self._settle()
        return self.files()[before]

    async def tap(self, label: str) -> list[SentMessage]:
        """Press the button whose label starts with `label` on the latest keyboard."""
        latest = self.latest_keyboard()
        for found, _ in latest.buttons():
            if found.startswith(label):
                self.sim.press_button(self.user_id, found, message_id=latest.message_id)
                return await self._settle()
        raise AssertionError(f"no button {label!r} in {latest.buttons()}")

    async def send(self, kind: str, **fields: Any) -> list[SentMessage]:
        """A sticker, a photo (`caption=` the words under it)..."""
        getattr(self.sim, f"send_{kind}")(self.user_id, **fields)
        return await self._settle()

    def latest_keyboard(self) -> SentMessage:
        with_keyboard = [m for m in self.sim.messages(self.user_id) if m.buttons()]
        assert with_keyboard, "the bot showed no buttons"
        return with_keyboard[-1]


_NUMBERED = re.compile(r"^(\d+)\. (.*)$")


class ZaloPerson(Person):
    """Someone on Zalo: a tap types the number the latest menu gives the label, or, for a way
    out listed by its words (⏭ Bỏ qua · ⬅️ Quay lại…), those words."""

    def __init__(self, simulator: ZaloSimulator, number: int, child: bool = False) -> None:
        self.sim, self.id, self.child = simulator, zalo_id(number), child

    async def say(self, text: str) -> list[ZaloSent]:
        self.sim.send_text(self.id, text, child=self.child)
        await self.sim.wait_idle(quiet=0.4, timeout=20)
        return self.sim.new_messages(self.id)

    async def tap(self, label: str) -> list[ZaloSent]:
        menus = [lines for m in self.sim.messages(self.id) if (lines := _menu_of(m.plain))]
        assert menus, "the bot showed no menu"
        for line in menus[-1]:
            found = _NUMBERED.match(line)
            if found and (line.startswith(label) or found.group(2).startswith(label)):
                return await self.say(found.group(1))
        for item in menus[-1][-1].split(" · "):
            if item.startswith(label):
                return await self.say(item)
        raise AssertionError(f"no option {label!r} in {menus[-1][-12:]}")


def _menu_of(text: str) -> list[str]:
    """A Zalo message's lines when it ends with a menu (numbered lines, or the ways out)."""
    lines = text.splitlines()
    has_menu = any(_NUMBERED.match(line) for line in lines) or (bool(lines) and " · " in lines[-1])
    return lines if has_menu else []


Meet = Callable[[str], Person]  # a person on the channel under test, by language code


def texts(messages: list[SentMessage] | list[ZaloSent]) -> str:
    return "\n".join(m.plain for m in messages)
