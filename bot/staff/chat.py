"""What every staff desk shares: who is acting, and how texts are cut to fit a message."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone

from bot.messages import Keyboard
from bot.transport.outbox import Message, Work

LOCAL_TIME = timezone(timedelta(hours=7), "ICT")  # Vietnam: no daylight saving
MAX_TEXT = 4096  # characters of one message (Telegram); channels with less split messages


@dataclass(frozen=True)
class Caller:
    """A staff member acting in a chat, the language they read, and the unit of work of the
    update being handled (what they are told is queued there)."""

    user_id: int
    chat_id: int
    lang: str
    work: Work
    deep_link: str = ""  # the channel's link that opens the bot with a payload: "...{code}"
    channel: str = ""  # the chat id's own (bot/transport/channels.py)

    def send(self, text: str, keyboard: Keyboard = ()) -> None:
        """Tell the staff member `text` (queued in the update's unit of work)."""
        self.work.add(Message(self.chat_id, text, keyboard, channel=self.channel))


def news(seen: dict[int, int], user_id: int, total: int, waiting: int) -> int:
    """How much a digest tells `user_id` is new: the growth of `total` (a count that only
    grows) since their last digest, at most what `waiting` now; all of it after a restart.
    Remembers `total` for the next one."""
    last = seen.get(user_id)
    seen[user_id] = total
    return waiting if last is None else min(total - last, waiting)


def when(stamp: str | None) -> str:
    """A stored UTC timestamp in Vietnam's local time."""
    if not stamp:
        return "?"
    return datetime.fromisoformat(stamp).astimezone(LOCAL_TIME).strftime("%d/%m/%Y %H:%M")


def day(stamp: str) -> str:
    """A stored UTC timestamp's day in Vietnam, as people write it (31/12/2026)."""
    return datetime.fromisoformat(stamp).astimezone(LOCAL_TIME).strftime("%d/%m/%Y")


def cut(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"


def pages(blocks: Sequence[str], separator: str = "\n") -> list[str]:
    """All the blocks, in as many messages as they need (a block too long for one: cut)."""
    found: list[str] = []
    for whole in blocks:
        block = cut(whole, MAX_TEXT - 2)
        if found and len(found[-1]) + len(separator) + len(block) <= MAX_TEXT - 2:
            found[-1] += separator + block
        else:
            found.append(block)
    return found


def fit(blocks: Sequence[str], separator: str = "\n") -> tuple[str, int]:
    """Join as many blocks as fit in one message; the text and how many blocks it holds."""
    text, count = "", 0
    for block in blocks:
        candidate = f"{text}{separator}{block}" if count else block
        if len(candidate) > MAX_TEXT - 2:
            return f"{text}{separator}…", count
        text, count = candidate, count + 1
    return text, count
