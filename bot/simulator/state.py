"""What the simulator remembers: the bot's messages, chats, files and queued updates."""

from __future__ import annotations

import asyncio
from collections import deque
from dataclasses import dataclass, field
from typing import Any

from bot.simulator.entities import EntityError, visible_text


@dataclass
class SentMessage:
    """A message the bot sent, in its current state (edits applied, deletion flagged)."""

    message_id: int
    chat_id: int
    text: str | None  # as sent, markup included; see `plain` for what the user sees
    parse_mode: str | None
    reply_markup: dict[str, Any] | None  # as sent (JSON-decoded)
    kind: str  # "text" | "document" | "photo"
    document: bytes | None = None
    filename: str | None = None
    caption: str | None = None
    edits: int = 0
    deleted: bool = False
    date: int = 0

    def buttons(self) -> list[tuple[str, str]]:
        """Inline keyboard buttons as (label, callback_data) in reading order; [] if none."""
        rows = (self.reply_markup or {}).get("inline_keyboard", [])
        return [(b["text"], b.get("callback_data", "")) for row in rows for b in row]

    @property
    def plain(self) -> str:
        """The text (or caption) as the user sees it: markup removed, entities decoded."""
        raw = self.text if self.kind == "text" else self.caption
        if raw is None:
            return ""
        try:
            return visible_text(raw, self.parse_mode)
        except EntityError:
            return raw


@dataclass
class Chat:
    """A chat and the messages in it; the bot may write to it once an update showed it."""

    info: dict[str, Any] | None  # the Chat object as sent in updates; None: not seen yet
    sent: list[SentMessage] = field(default_factory=list)  # bot messages, in order
    by_id: dict[int, SentMessage] = field(default_factory=dict)
    user_messages: dict[int, dict[str, Any]] = field(default_factory=dict)
    cursor: int = 0  # index in `sent` of the first message not yet returned to a waiter
    edited: list[SentMessage] = field(default_factory=list)  # changed since the last take_new
    last_id: int = 0  # message ids are per chat, shared by both sides
    arrived: asyncio.Event = field(default_factory=asyncio.Event)

    def next_message_id(self) -> int:
        """Allocate the next message id in this chat."""
        self.last_id += 1
        return self.last_id

    def add(self, message: SentMessage) -> None:
        """Record a new bot message and wake whoever waits for one."""
        self.sent.append(message)
        self.by_id[message.message_id] = message
        self.arrived.set()

    def take_new(self) -> list[SentMessage]:
        """Bot messages since the cursor, and earlier ones edited since (a person sees both
        change), in the chat's order; advances the cursor."""
        new = self.sent[self.cursor :]
        fresh = {id(m) for m in new}
        changed = {id(m): m for m in self.edited if id(m) not in fresh}
        self.cursor, self.edited = len(self.sent), []
        return sorted(changed.values(), key=lambda m: m.message_id) + new


@dataclass
class Queued:
    """An update waiting in the getUpdates queue."""

    update: dict[str, Any]
    forced: bool = False  # a redelivered copy: delivered once even if its id was confirmed

    @property
    def update_id(self) -> int:
        """The update's id."""
        return int(self.update["update_id"])


@dataclass
class UpdateQueue:
    """Telegram's per-bot update queue: confirmation by offset, long-poll wake-up."""

    items: deque[Queued] = field(default_factory=deque)
    confirmed_offset: int = 0
    last_id: int = 0
    wakeup: asyncio.Event = field(default_factory=asyncio.Event)

    def push(self, update: dict[str, Any], *, forced: bool = False) -> None:
        """Queue `update` (a forced redelivery goes first, as its id is the lowest)."""
        if forced:
            self.items.appendleft(Queued(update, forced=True))
        else:
            self.items.append(Queued(update))
        self.wakeup.set()

    def confirm(self, offset: int) -> None:
        """Forget updates whose id is below `offset` (negative: keep only the last -offset)."""
        if offset < 0:
            while len(self.items) > -offset:
                self.items.popleft()
            return
        self.confirmed_offset = max(self.confirmed_offset, offset)
        while self.items and self.items[0].update_id < offset and not self.items[0].forced:
            self.items.popleft()
        if self.items and self.items[0].forced:  # rare: a redelivered copy sits in front
            self.items = deque(q for q in self.items if q.forced or q.update_id >= offset)

    def take(self, limit: int) -> list[dict[str, Any]]:
        """Up to `limit` updates, oldest first; they stay queued until confirmed."""
        batch: list[dict[str, Any]] = []
        for queued in self.items:
            if len(batch) >= limit:
                break
            queued.forced = False
            batch.append(queued.update)
        return batch

    def clear(self) -> None:
        """Drop every pending update (deleteWebhook with drop_pending_updates)."""
        self.items.clear()
