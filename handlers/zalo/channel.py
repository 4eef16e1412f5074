"""The Zalo channel: an event becomes an engine event for the same conversation as Telegram's.

An event is written to the inbox before anything else (the webhook answers 200 only then), under
an update id made from Zalo's message id, so a message delivered twice is handled once. Events
are then handled one at a time in the order they came, each in one transaction with the replies
it queues (the outbox sends them through handlers/zalo/courier.py). After a restart, what was
received and not handled is handled first, in the order the messages were written. One chat's
events are handled one after another; different chats' side by side (up to CONCURRENT at once),
so an officer's seconds-long "/compile auto" or a slow moment of one chat keeps no one else waiting.

With several workers behind one proxy (`[storage] workers`), any worker takes an event in, but
only the one holding the jobs lock handles events: it reads them from the inbox, oldest message
first, at once for its own and within LOOK_SECONDS for the others'. So a chat's messages are
applied in order and once whichever worker Zalo's call reached, and when that worker dies the
next holder of the lock carries on from the inbox (the others try for the lock every
CLAIM_SECONDS). (Zalo traffic is facilitators and staff: one handler is enough.)
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import hashlib
import itertools
import logging
import weakref
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

from bot.compiling.service import Planned
from bot.conversation import engine
from bot.conversation.catalog import Catalog
from bot.conversation.service import Conversations
from bot.localized import BASE_LANG
from bot.messages import Reply
from bot.staff.moderation import Refused
from bot.textnorm import scrubbed
from bot.transport.channels import ZALO, first_id
from bot.transport.health import PAUSES, Health
from bot.transport.inbox import Inbox
from bot.transport.outbox import Outbox, Work
from handlers.zalo.menus import Menu
from handlers.zalo.staff import StaffDesks
from storage import addresses
from storage.db import is_unavailable

log = logging.getLogger("childforum.zalo")
ENGINE_COMMANDS = ("help", "cancel", "language", "profile", "delete", "sos")
MEDIA = {"message.image.received": "photo", "message.sticker.received": "sticker",
         "message.voice.received": "voice"}
TEXT = "message.text.received"
# What Zalo passes of a child's account (no words), and of an adult's file or location
UNSUPPORTED = "message.unsupported.received"
UNSUPPORTED_KIND = "unsupported"  # the engine's Media kind for it, from an adult's account
_UPDATE_IDS = 1 << 62  # Zalo's updates' ids in the shared inbox: 2**62 + 62 bits of a hash
LOOK_SECONDS = 0.5  # several workers: how often the handling one looks for others' events
CLAIM_SECONDS = 5.0  # and how often the others try to become the handling one
CONCURRENT = 256  # events handled at once (as many as Telegram's updates)


@dataclass(frozen=True)
class ZaloEvent:
    name: str
    user: str
    chat: str
    private: bool
    message_id: str
    date: int  # milliseconds
    text: str

    @property
    def update_id(self) -> int:
        digest = hashlib.blake2b(self.message_id.encode(), digest_size=8).digest()
        return _UPDATE_IDS | (int.from_bytes(digest, "big") & (_UPDATE_IDS - 1))


def parse(body: Any) -> ZaloEvent | None:
    """An event as the webhook or getUpdates gives it, with or without the {ok, result}
    wrapper; None when it is not one."""
    if isinstance(body, dict) and "result" in body and "event_name" not in body:
        body = body["result"]
    if not isinstance(body, dict) or not isinstance(body.get("message"), dict):
        return None
    message = body["message"]
    sender = message.get("from") if isinstance(message.get("from"), dict) else {}
    chat = message.get("chat") if isinstance(message.get("chat"), dict) else {}
    user, chat_id, message_id = sender.get("id"), chat.get("id"), message.get("message_id")
    if not all(isinstance(v, str) and v for v in (user, chat_id, message_id)) or sender.get(
            "is_bot"):
        return None
    date = message.get("date")
    text = message.get("text") if isinstance(message.get("text"), str) else ""
    if not text and isinstance(message.get("caption"), str):  # words sent with a photo
        text = message["caption"]
    return ZaloEvent(str(body.get("event_name", "")), str(user), str(chat_id),
                     str(chat.get("chat_type", "PRIVATE")).upper() == "PRIVATE",
                     str(message_id), date if isinstance(date, int) else 0, text)


class ZaloChannel:
    def __init__(self, inbox: Inbox, outbox: Outbox, conversations: Conversations,
                 catalog: Catalog, staff: StaffDesks | None = None,
                 telegram_link: str = "", health: Health | None = None,
                 handles: Callable[[], Awaitable[bool]] | None = None) -> None:
        """`handles`: with several workers, whether this one handles events now (it holds
        the jobs lock); None: a single worker handles what it receives."""
        self.inbox, self.outbox, self.conversations, self.catalog = (
            inbox, outbox, conversations, catalog)
        self.staff = staff
        self.health = health or Health()
        self.telegram_link = telegram_link
        self.handles = handles
        self._queue: asyncio.Queue[ZaloEvent] = asyncio.Queue()
        self._arrived = asyncio.Event()
        self._task: asyncio.Task[None] | None = None
        self._chats: weakref.WeakValueDictionary[str, asyncio.Lock] = (
            weakref.WeakValueDictionary())
        self._room = asyncio.Semaphore(CONCURRENT)
        self._working: set[asyncio.Task[None]] = set()
        self._started: set[int] = set()  # several workers: the events being handled

    async def receive(self, body: Any) -> bool:
        """Write an event durably and queue it; False when it is not an event (nothing kept).
        A redelivered event is kept once and handled once. A lone surrogate (JSON's "\\ud800",
        which no text can be stored with) becomes U+FFFD."""
        event = parse(scrubbed(body))
        if event is None:
            return False
        if await self.inbox.receive(event.update_id, body, channel=ZALO):
            if self.handles is None:
                self._queue.put_nowait(event)
            else:
                self._arrived.set()
        return True

    async def start(self) -> None:
        """Handle what was received before a restart, then what comes."""
        if self.handles is not None:
            self._task = asyncio.create_task(self._run_shared(), name="zalo-events")
            return
        for event in await self._waiting():
            self._queue.put_nowait(event)
        self._task = asyncio.create_task(self._run(), name="zalo-events")

    async def _waiting(self) -> list[ZaloEvent]:
        """The events in the inbox not handled yet, oldest message first."""
        waiting = [e for e in map(parse, await self.inbox.unfinished(ZALO)) if e is not None]
        return sorted(waiting, key=lambda e: e.date)

    async def stop(self) -> None:
        tasks = [*self._working, *([self._task] if self._task is not None else [])]
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        self._task = None

    async def idle(self) -> None:
        """Wait until every event received so far is handled (tests, shutdown)."""
        await self._queue.join()

    async def _run(self) -> None:
        while True:
            self._start(await self._queue.get(), self._queue.task_done)

    def _start(self, event: ZaloEvent, then: Callable[[], None] | None = None
               ) -> asyncio.Task[None]:
        """Handle `event` in a task of its own, after the events of its chat started before it
        (each task takes its chat's lock first, and an asyncio lock is granted in the order it
        was asked for); `then` once it is done."""
        lock = self._chats.get(event.chat)
        if lock is None:
            lock = self._chats[event.chat] = asyncio.Lock()

        async def one() -> None:
            try:
                async with lock, self._room:
                    await self._handle_until_done(event)
            finally:
                if then is not None:
                    then()

        task = asyncio.create_task(one(), name=f"zalo-event-{event.update_id}")
        self._working.add(task)
        task.add_done_callback(self._working.discard)
        return task

    async def _run_shared(self) -> None:
        assert self.handles is not None
        holder, asked = False, -CLAIM_SECONDS
        loop = asyncio.get_running_loop()
        while True:
            self._arrived.clear()
            try:
                # The holder checks it still is at every look (one query on its own
                # connection); the others try for the lock now and then, not at every look.
                if holder or loop.time() - asked >= CLAIM_SECONDS:
                    holder, asked = await self.handles(), loop.time()
                if holder:
                    waiting = await self._waiting()
                    self.health.up("reading Zalo events")
                    for event in waiting:
                        if event.update_id not in self._started:  # not in hand already
                            self._started.add(event.update_id)
                            self._start(event, functools.partial(self._started.discard,
                                                                 event.update_id))
            except Exception as error:  # reading the inbox: the database may be down
                if is_unavailable(error):
                    self.health.down("reading Zalo events", error)
                else:
                    log.exception("Could not read the Zalo events waiting")
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._arrived.wait(), LOOK_SECONDS)

    async def _handle_until_done(self, event: ZaloEvent) -> None:
        """Handle an event; while the database is unavailable, try again after growing pauses
        (the chat's next events wait: their order holds). Any other fault is a bug: logged, and
        the event is done with an apology, so that it is not replayed at every start."""
        for attempt in itertools.count():
            try:
                await self.handle(event)
                if attempt:
                    self.health.up("handling a Zalo event")
                return
            except Exception as error:
                if not is_unavailable(error):
                    log.exception("A Zalo event could not be handled")
                    await self._apologise(event)
                    return
                self.health.down("handling a Zalo event", error)
                await asyncio.sleep(PAUSES[min(attempt, len(PAUSES) - 1)])

    async def _apologise(self, event: ZaloEvent) -> None:
        try:
            async with self.outbox.work(event.update_id) as work:
                if work.fresh:
                    chat_id = await addresses.chat_for(work.tx, ZALO, event.chat, first_id(ZALO))
                    await self.conversations.apologise(work, chat_id)
        except Exception:  # the apology failed too (the chat's state cannot be read, say)
            log.exception("Could not record the error of a Zalo event")
            try:  # done without a word, so that it is not tried again at every look
                await self.inbox.finish(event.update_id)
            except Exception:  # the database itself is what fails: it is tried again later
                log.exception("Could not mark a failed Zalo event done")

    async def handle(self, event: ZaloEvent) -> None:
        prepared = await self._prepare(event)
        async with self.outbox.work(event.update_id) as work:
            await self._enter(None)
            if not work.fresh:
                return
            if not event.private:  # group chats (beta on Zalo): as on Telegram, a command gets
                # one answer pointing to a private chat, and nothing else is read or kept
                if event.text.startswith("/"):
                    group = await addresses.chat_for(work.tx, ZALO, event.chat, first_id(ZALO))
                    work.replies(group, (Reply(self.catalog.texts.both("zalo.group")),))
                return
            if event.name == UNSUPPORTED:
                await self._unsupported(work, event)
                return
            chat_id = await addresses.chat_for(work.tx, ZALO, event.chat, first_id(ZALO))
            await self._enter(chat_id, command=event.text.strip().startswith("/"))
            await self._converse(work, chat_id, event, prepared)

    async def _prepare(self, event: ZaloEvent) -> Planned | Refused | None:
        """Staff work that takes seconds and only reads (an officer's "/compile auto"), done
        before the event's transaction so that no child waits behind it (handlers.zalo.staff)."""
        if (self.staff is None or not event.private or event.name != TEXT
                or not self.staff.prepares(event.text.strip())):
            return None  # (no database read for any other text)
        chat_id = await addresses.find(self.outbox.db.reader, ZALO, event.chat)
        return None if chat_id is None else await self.staff.prepare(chat_id, event.text.strip())

    async def _enter(self, chat_id: int | None, command: bool = False) -> None:
        """The chat whose staff prompts and case replies the event's commit keeps
        (bot.staff.prompts); a command ends what it was asked to type."""
        if self.staff is not None and self.staff.prompts is not None:
            await self.staff.prompts.enter(chat_id, command=command)

    async def _unsupported(self, work: Work, event: ZaloEvent) -> None:
        """Something Zalo does not pass on. From someone who has written before (an adult's
        account: Zalo passes their words), a file or a location, say: they are asked to type,
        where they are. Otherwise a child's account (Zalo passes nothing of theirs): the kind
        answer, and nothing kept: the address made to send it is erased at once and goes once
        the answer is out (the sweep of erased addresses)."""
        known = await addresses.find(work.tx, ZALO, event.chat)
        if known is not None:
            await self._enter(known)
            await self.conversations.handle(work, known, engine.Media(UNSUPPORTED_KIND))
            return
        chat_id = await addresses.chat_for(work.tx, ZALO, event.chat, first_id(ZALO))
        work.replies(chat_id, (Reply(self.catalog.texts.both(
            "zalo.unsupported", link=self.telegram_link)),))
        await addresses.erase(work.tx, chat_id)

    async def _converse(self, work: Work, chat_id: int, event: ZaloEvent,
                        prepared: Planned | Refused | None) -> None:
        text = event.text.strip()
        typed = event.name == TEXT and not text.startswith("/")
        # What the reply picks from the chat's last menu (read once: staff and child alike).
        stored = await addresses.menu(work.tx, chat_id) if typed else []
        picked = Menu.stored(stored).pick(text) if typed else None
        if event.name == TEXT and self.staff is not None and await self.staff.take(
                work, chat_id, text, picked, prepared, self.staff.offered(stored)):
            return
        if event.name != TEXT:
            await self.conversations.handle(work, chat_id,
                                            engine.Media(MEDIA.get(event.name, "other"), text))
        elif text.startswith("/"):
            name, _, rest = text[1:].partition(" ")
            name = name.lower()
            if name == "start":
                await self.conversations.handle(work, chat_id, engine.Start(rest.strip()))
            elif name in ENGINE_COMMANDS:
                await self.conversations.handle(work, chat_id,
                                                engine.Command(name))  # type: ignore[arg-type]
            elif name == "my":
                await self.conversations.mine(work, chat_id)
            elif name == "id":  # what an admin grants a role to (/grant <id> …)
                work.replies(chat_id, (Reply(self.catalog.texts.get(
                    "zalo.your_id", BASE_LANG, id=chat_id)),))
            else:
                await self.conversations.explain(work, chat_id, "error.unknown_command")
        elif picked and picked.startswith("a|"):  # 👍/👎 under an answer the child was told
            await self.conversations.feedback(work, chat_id, picked, None)
        else:
            await self.conversations.handle(
                work, chat_id, engine.Press(picked) if picked else engine.Text(event.text))
