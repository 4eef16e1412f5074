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
from telegram.request import BaseRequest, RequestData

from bot.transport.inbox import Inbox

Payloads = dict[int, dict[str, Any]]


class RawUpdates(BaseRequest):
    """Wraps the getUpdates request to keep each update's JSON exactly as the Bot API sent it.

    The inbox stores that, instead of turning every Update object back into a dict.
    """

    def __init__(self, inner: BaseRequest) -> None:
        self.inner = inner
        self.payloads: Payloads = {}

    @property
    def read_timeout(self) -> float | None:
        return self.inner.read_timeout

    async def initialize(self) -> None:
        await self.inner.initialize()

    async def shutdown(self) -> None:
        await self.inner.shutdown()

    async def do_request(self, url: str, method: str, request_data: RequestData | None = None,
                         *args: Any, **kwargs: Any) -> tuple[int, bytes]:
        return await self.inner.do_request(url, method, request_data, *args, **kwargs)

    def parse_json_payload(self, payload: bytes) -> dict[str, Any]:  # type: ignore[override]
        data = BaseRequest.parse_json_payload(payload)
        result = data.get("result")
        if isinstance(result, list):
            self.payloads.update((u["update_id"], u) for u in result if "update_id" in u)
        return data


class DurableQueue(asyncio.Queue[object]):
    """An update queue that writes each update to the inbox before queueing it."""

    def __init__(self, inbox: Inbox, payloads: Payloads | None = None) -> None:
        super().__init__()
        self.inbox = inbox
        self.payloads = payloads if payloads is not None else {}

    async def put(self, item: object) -> None:
        if isinstance(item, Update):
            payload = self.payloads.pop(item.update_id, None) or item.to_dict()
            fresh = await self.inbox.receive(item.update_id, payload)
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
