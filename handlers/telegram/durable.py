"""Delivery guarantees around python-telegram-bot: nothing acknowledged is lost or reordered.

The Updater confirms a batch of updates to Telegram on its next getUpdates call, right after it
has put the batch into the update queue. This queue writes every update to the inbox before it
accepts it, so an update Telegram considers delivered is always on disk first. The same holds for
webhooks: the webhook answers Telegram only after `put` returned.

When the database cannot take the update (locked by another process past the busy timeout, a
full disk, a read-only file), `put` waits and tries again, with growing pauses, until it can: the
Updater asks for no more updates meanwhile, Telegram keeps them unconfirmed, and the bot carries
on by itself when the database does. The outage is logged once (bot.transport.health).

Floods are counted here, as updates arrive, not when they are handled: past the limit a person's
updates are recorded as handled without being queued (the first one gets one "slow down").
"""

from __future__ import annotations

import asyncio
import json
import logging
import time
import weakref
from collections.abc import Awaitable, Callable
from typing import Any, cast

from telegram import Bot, Update
from telegram.ext import BaseUpdateProcessor
from telegram.request import BaseRequest, RequestData

from bot.textnorm import ESCAPED_SURROGATE, scrubbed
from bot.transport.flood import FloodGuard, Verdict
from bot.transport.health import PAUSES, Health
from bot.transport.inbox import Inbox
from storage.db import is_unavailable

log = logging.getLogger("childforum.durable")
Payloads = dict[int, dict[str, Any]]
# Refuse a flood: (update id, chat id, whether to say "slow down" once).
FloodAnswer = Callable[[int, int, bool], Awaitable[None]]
MAX_ID = 2**63 - 1  # what the database can store


class RawUpdates(BaseRequest):
    """Wraps the getUpdates request to keep each update's JSON as the Bot API sent it (but for
    a pressed message's buttons, `_forget_buttons`).

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
        if ESCAPED_SURROGATE.search(payload):  # a lone one cannot be stored or sent on
            scrubbed(data)
        result = data.get("result")
        if isinstance(result, list):
            for update in result:
                if isinstance(update, dict) and "update_id" in update:
                    _forget_buttons(update)
                    self.payloads[update["update_id"]] = update
        return data


def _forget_buttons(update: dict[str, Any]) -> None:
    """A pressed message's buttons are read by nobody (the press carries its data), and turning
    them into objects was a third of python-telegram-bot's work on a press: they are dropped
    before it parses the update (and so from the inbox); an empty keyboard says there was one."""
    press = update.get("callback_query")
    pressed = press.get("message") if isinstance(press, dict) else None
    if isinstance(pressed, dict) and "reply_markup" in pressed:
        pressed["reply_markup"] = {"inline_keyboard": []}


class DurableQueue(asyncio.Queue[object]):
    """An update queue that writes each update to the inbox before queueing it."""

    def __init__(self, inbox: Inbox, payloads: Payloads | None = None,
                 health: Health | None = None, flood: FloodGuard | None = None,
                 on_flood: FloodAnswer | None = None) -> None:
        super().__init__()
        self.inbox = inbox
        self.payloads = payloads if payloads is not None else {}
        self.health = health or Health()
        self.flood, self.on_flood = flood, on_flood
        # Updates read even past the flood limit (a call for help, a disclosure).
        self.urgent: Callable[[Update], bool] = lambda update: False
        # Ids written to the inbox just now by this queue: not handled yet, no need to ask the
        # database (one read less per update). Only where no other worker can handle them first.
        self.fresh: set[int] = set()
        self.remember_fresh = True

    async def put(self, item: object) -> None:
        if isinstance(item, Update):
            item = self._whole(item)
            if not await self._receive(item):
                return
        await super().put(item)

    def _whole(self, update: Update) -> Update:
        """An update whose JSON did not come through RawUpdates (a webhook's): its JSON kept
        for the inbox, and a lone surrogate in it (which no text can be stored with) made
        U+FFFD, as RawUpdates does."""
        if update.update_id in self.payloads:
            return update
        payload = update.to_dict()
        self.payloads[update.update_id] = payload
        try:
            json.dumps(payload, ensure_ascii=False).encode()
        except UnicodeEncodeError:
            return Update.de_json(cast(dict[str, Any], scrubbed(payload)), update.get_bot())
        return update

    async def _receive(self, update: Update) -> bool:
        """Write the update to the inbox; False when it must not be handled (a redelivery of
        a handled update, a flood, an id the database cannot hold)."""
        if not 0 <= update.update_id <= MAX_ID:
            log.warning("Ignored an update with an impossible id %d", update.update_id)
            self.payloads.pop(update.update_id, None)
            return False
        payload = self.payloads.pop(update.update_id, None) or update.to_dict()
        verdict, attempt = self._flood(update), 0
        if verdict is not Verdict.ALLOW and self.urgent(update):
            verdict = Verdict.ALLOW
        while True:
            try:
                if verdict is not Verdict.ALLOW and self.on_flood and update.effective_chat:
                    await self.on_flood(update.update_id, update.effective_chat.id,
                                        verdict is Verdict.WARN)
                    accept = False
                else:
                    fresh = await self.inbox.receive(
                        update.update_id, payload,
                        update.effective_chat.id if update.effective_chat else None)
                    accept = fresh or not await self.inbox.is_done(update.update_id)
                    if fresh and self.remember_fresh:
                        self.fresh.add(update.update_id)
            except Exception as error:
                if not is_unavailable(error):
                    raise
                self.health.down("storing an update", error)
                await asyncio.sleep(PAUSES[min(attempt, len(PAUSES) - 1)])
                attempt += 1
                continue
            # New rows are written again: what failed for want of them works too.
            self.health.up("storing an update", "handling an update")
            return accept

    def surely_new(self, update_id: int) -> bool:
        """True (once) for an update this queue has just written to the inbox."""
        if update_id in self.fresh:
            self.fresh.discard(update_id)
            return True
        return False

    async def again(self, update: Update) -> None:
        """Queue again an update that is in the inbox, unhandled (its handling met an
        unavailable database): no second receipt, no second flood count."""
        await super().put(update)

    def _flood(self, update: Update) -> Verdict:
        user, chat = update.effective_user, update.effective_chat
        if self.flood is None or user is None or chat is None:
            return Verdict.ALLOW
        verdict = self.flood.check(user.id, time.monotonic())
        if verdict is Verdict.WARN and chat.type != "private":
            return Verdict.DROP  # never "slow down" in a group
        return verdict

    async def replay(self, bot: Bot) -> int:
        """Queue the updates received before a crash but not handled; returns how many."""
        pending = await self.inbox.unfinished()
        for payload in pending:
            self.put_nowait(Update.de_json(payload, bot))
        return len(pending)


class ChatOrderedProcessor(BaseUpdateProcessor):
    """Many chats at once, but the updates of one chat strictly one after another.

    With several workers sharing the database (webhook mode behind one proxy), one chat's updates
    may reach different workers. Then `catch_up` runs first: it handles the chat's earlier updates
    still waiting in the inbox, whichever worker received them. Each update is applied once
    whoever gets there first (its transaction checks and marks it done, and write transactions
    take turns across workers), so the later one always finds the earlier ones applied.
    """

    def __init__(self, max_concurrent_updates: int = 256,
                 catch_up: Callable[[Update], Awaitable[None]] | None = None) -> None:
        super().__init__(max_concurrent_updates)
        self.catch_up = catch_up
        # Before each update of a private chat (bot.staff.prompts: the chat whose prompts the
        # update's commit keeps; with several workers, what it owes read first).
        self.before_chat: Callable[..., Awaitable[None]] | None = None
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
        private = chat.type == "private"
        async with lock:
            if self.before_chat is not None and private and isinstance(update, Update):
                query, message = update.callback_query, update.message
                command = bool(message and message.text and message.text.startswith("/"))
                await _quietly(self.before_chat(
                    chat.id, pressed=(query.data or "") if query else None, command=command),
                    "read what chat %d owes", chat.id)
            if self.catch_up is not None and isinstance(update, Update):
                try:
                    await self.catch_up(update)
                except Exception:  # the database may be down: this update's own turn says so
                    log.exception("Could not catch up the chat before update %d",
                                  update.update_id)
            await coroutine

    async def initialize(self) -> None:
        """Nothing to set up."""

    async def shutdown(self) -> None:
        """Nothing to tear down."""


async def _quietly(step: Awaitable[None], what: str, *values: object) -> None:
    """A step beside the update's own work: its failure is logged, the update goes on (the
    database may be down: the update's own turn says so)."""
    try:
        await step
    except Exception:
        log.exception("Could not " + what, *values)
