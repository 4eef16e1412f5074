"""Chat with the bot in a terminal, as a child would, through the simulator."""

from __future__ import annotations

import asyncio
import sys
import threading
from contextlib import suppress
from typing import TextIO

from bot.simulator.server import BotApiSimulator
from bot.simulator.state import SentMessage
from bot.simulator.zalo import ZaloSimulator, zalo_id

HELP = (
    "Gõ tin nhắn như một em nhỏ; gõ số N để bấm nút [N]; :sticker :photo :voice :location "
    "để gửi thứ khác; /quit để thoát. | Type as a child would; N presses button [N]; "
    ":sticker :photo :voice :location send those; /quit leaves."
)
HELP_ZALO = (
    "Zalo: không có nút; gõ số thứ tự hoặc chữ của lựa chọn. :sticker :photo :voice để gửi thứ"
    " khác; :child để nhắn như tài khoản trẻ em; /quit để thoát. | No buttons on Zalo: type an"
    " option's number or words. :sticker :photo :voice send those; :child writes as a child's"
    " account; /quit leaves."
)
_MARKS = {"sent": "", "edited": " (đã sửa / updated)", "deleted": " (đã xoá / deleted)"}


def render(event: str, message: SentMessage) -> str:
    """A bot message as plain terminal text, its buttons numbered from 1 below it."""
    head = f"🤖{_MARKS.get(event, '')} "
    if message.kind == "document":
        head += f"📎 {message.filename} ({len(message.document or b'')} bytes) "
    elif message.kind == "photo":
        head += "🖼 "
    lines = [head + message.plain]
    if event != "deleted":
        lines += [f"   [{n}] {label}" for n, (label, _) in enumerate(message.buttons(), 1)]
    return "\n".join(lines)


async def chat_in_terminal(
    sim: BotApiSimulator,
    *,
    user_id: int = 1001,
    first_name: str = "Em",
    stdin: TextIO = sys.stdin,
    stdout: TextIO = sys.stdout,
) -> None:
    """Read lines from `stdin` as the child's messages; print the bot's messages to `stdout`."""
    events: asyncio.Queue[tuple[str, SentMessage]] = asyncio.Queue()

    def on_message(event: str, message: SentMessage) -> None:
        if message.chat_id == user_id:
            events.put_nowait((event, message))

    def show(event: str, message: SentMessage) -> None:
        print(render(event, message), file=stdout, flush=True)

    async def printer() -> None:
        while True:
            show(*await events.get())

    unsubscribe = sim.subscribe(on_message)
    print_task = asyncio.create_task(printer())
    print(HELP, file=stdout, flush=True)
    lines = _read_lines(stdin)
    try:
        while True:
            line = await lines.get()
            if not line or line.strip() == "/quit":
                break
            if line.strip():
                _inject_line(sim, user_id, first_name, line.strip(), stdout)
                await _settle(sim)
    finally:
        unsubscribe()
        print_task.cancel()
        while not events.empty():
            show(*events.get_nowait())


async def chat_on_zalo_in_terminal(sim: ZaloSimulator, *, user: int = 1001,
                                   stdin: TextIO = sys.stdin, stdout: TextIO = sys.stdout) -> None:
    """The same, on Zalo: lines go out as Zalo messages; what the bot sends is printed."""
    user_id = zalo_id(user)
    specials = {":sticker": sim.send_sticker, ":photo": sim.send_image, ":voice": sim.send_voice}
    print(HELP_ZALO, file=stdout, flush=True)
    lines = _read_lines(stdin)
    while True:
        raw = await lines.get()
        line = raw.strip()
        if not raw or line == "/quit":  # the end of input, or asked to leave
            break
        if not line:
            continue
        if line in specials:
            specials[line](user_id)
        elif line.startswith(":child"):
            sim.send_text(user_id, line.removeprefix(":child").strip() or "chào", child=True)
        else:
            sim.send_text(user_id, line)
        with suppress(TimeoutError):
            await sim.wait_idle(quiet=0.3, timeout=5.0)
        for message in sim.new_messages(user_id):
            print(f"🤖 {message.text or message.kind}", file=stdout, flush=True)


def _read_lines(stdin: TextIO) -> asyncio.Queue[str]:
    """Lines of `stdin` read by a daemon thread ("" at EOF), so a pending read never blocks exit."""
    loop = asyncio.get_running_loop()
    lines: asyncio.Queue[str] = asyncio.Queue()

    def read() -> None:
        while True:
            line = stdin.readline()
            try:
                loop.call_soon_threadsafe(lines.put_nowait, line)
            except RuntimeError:  # the chat is over and its loop closed
                return
            if not line:
                return

    threading.Thread(target=read, name="terminal-stdin", daemon=True).start()
    return lines


async def _settle(sim: BotApiSimulator) -> None:
    """Give the bot a moment to answer before reading the next line (keeps output in order)."""
    with suppress(TimeoutError):  # the bot is slow or not running: keep chatting anyway
        await sim.wait_idle(quiet=0.15, timeout=5.0)


def _inject_line(
    sim: BotApiSimulator, user_id: int, first_name: str, line: str, out: TextIO
) -> None:
    """Turn one typed line into an update: a button press, a special message or text."""
    specials = {
        ":sticker": sim.send_sticker,
        ":photo": sim.send_photo,
        ":voice": sim.send_voice,
        ":location": sim.send_location,
    }
    latest = _latest(sim, user_id)
    if line.isdigit() and latest is not None and latest.buttons():
        index = int(line) - 1
        if 0 <= index < len(latest.buttons()):
            sim.press_button(user_id, index, message_id=latest.message_id)
            return
        print(f"(không có nút {line} / no button {line})", file=out, flush=True)
        return
    if line in specials:
        specials[line](user_id, first_name=first_name)
        return
    sim.send_text(user_id, line, first_name=first_name)


def _latest(sim: BotApiSimulator, chat_id: int) -> SentMessage | None:
    """The bot's latest message still shown in the chat."""
    shown = [m for m in sim.messages(chat_id)[-20:] if not m.deleted]
    return shown[-1] if shown else None
