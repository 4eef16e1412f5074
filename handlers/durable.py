"""Delivery guarantees around python-telegram-bot: nothing acknowledged is lost or reordered.

The Updater confirms a batch of updates to Telegram on its next getUpdates call, right after it
has put the batch into the update queue. This queue writes every update to the inbox before it
accepts it, so an update Telegram considers delivered is always on disk first. The same holds for
webhooks: the webhook answers Telegram only after `put` returned.
"""

from __future__ import annotations

import asyncio
import weakref
from collections.abc import Awaitable
from typing import Any

from telegram import Bot, Update
from telegram.ext import BaseUpdateProcessor

from bot.inbox import Inbox


class DurableQueue(asyncio.Queue[object]):
    """An update queue that writes each update to the inbox before queueing it."""

    def __init__(self, inbox: Inbox) -> None:
        super().__init__()
        self.inbox = inbox

    async def put(self, item: object) -> None:
        if isinstance(item, Update):
            fresh = await self.inbox.receive(item.update_id, item.to_dict())
            if not fresh and await self.inbox.is_done(item.update_id):
                return  # a redelivery of an update already handled
        await super().put(item)

    async def replay(self, bot: Bot) -> int:
        """Queue the updates received before a crash but not handled; returns how many."""
        pending = await self.inbox.unfinished()
        for payload in pending:
            self.put_nowait(Update.de_json(payload, bot))
        return len(pending)


class ChatOrderedProcessor(BaseUpdateProcessor):
    """Many chats at once, but the updates of one chat strictly one after another."""

    def __init__(self, max_concurrent_updates: int = 256) -> None:
        super().__init__(max_concurrent_updates)
        self._locks: weakref.WeakValueDictionary[int, asyncio.Lock] = (
            weakref.WeakValueDictionary())

    async def do_process_update(self, update: object, coroutine: Awaitable[Any]) -> None:
        chat = update.effective_chat if isinstance(update, Update) else None
        if chat is None:
            await coroutine
            return
        lock = self._locks.get(chat.id)
        if lock is None:
            lock = self._locks[chat.id] = asyncio.Lock()
        async with lock:
            await coroutine

    async def initialize(self) -> None:
        """Nothing to set up."""

    async def shutdown(self) -> None:
        """Nothing to tear down."""
