"""Messages out, exactly as DESIGN.md asks: written with the change that caused them, sent after
commit by a paced sender, resent after a crash.

    async with outbox.work(update_id) as work:       # one transaction
        if work.fresh:                                # not a redelivery of a handled update
            ...change things through work.tx...
            work.add(Message(chat_id, text, keyboard))
    # committed: the state, the messages and "update handled" together; now they are sent

`Sender` sends each chat's messages in order, one chat never waiting for another: a 429 or a
slow chat holds only itself. Replies to someone who just wrote go at once (within the chat's
burst); notices (answers, reminders) also respect the notice rate and the quiet hours. Failed
attempts are retried with backoff; a 403 marks the row unreachable and is never retried; a row
left pending by a crash is sent after the restart. So a message may in rare cases arrive twice
(a crash between sending it and recording it), and is never lost.

What was sent is recorded in batches every few milliseconds for replies, and at once for notices
(bulk: answers to children): after a crash only a message that was in flight at that very moment
can arrive twice.

Channels plug in a `Courier` (handlers/telegram/courier.py): it turns a Message into API calls
and says how it went. Nothing here knows a channel.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import time
import uuid
from collections import deque
from collections.abc import AsyncIterator, Awaitable, Callable, Iterable, Mapping, Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from functools import partial
from typing import Any, Literal, Protocol
from zoneinfo import ZoneInfo

from bot.messages import Button, Keyboard, Reply
from bot.transport.channels import channel_of
from bot.transport.health import Health
from bot.transport.pacing import Bucket, Pacing, quiet_until
from storage import inbox
from storage import outbox as store
from storage.db import Database, TakesTurns, Tx, is_unavailable
from storage.outbox import NewMessage, OutRow

log = logging.getLogger("childforum.outbox")
# reply: to someone who just wrote; notice: bulk (paced, quiet hours); alert: urgent, to staff
# or from a safeguarding case (paced like a reply, never held by the quiet hours).
Kind = Literal["reply", "notice", "alert"]
Op = Literal["send", "edit", "keyboard", "document", "photo"]
_KINDS: dict[str, Kind] = {"reply": "reply", "notice": "notice", "alert": "alert"}
LEASE = timedelta(seconds=20)  # a dead worker's claimed messages go to another after this
CLAIM_BATCH = 200  # rows taken from the table at once: memory stays flat however many wait
POLL_SECONDS = 1.0
FLUSH_SECONDS = 0.05
BACKOFF_CAP = 300.0


@dataclass(frozen=True)
class Message:
    """One thing to send to one chat.

    op "send": a new message (text, keyboard); "edit": replace a message's text and buttons (a
    new message instead when it cannot be edited any more, if `or_send`); "keyboard": replace
    only its buttons (`keyboard` empty: none); "document" and "photo": `body` with `text` as
    caption (`filename` for a document).
    """

    chat_id: int
    text: str = ""
    keyboard: Keyboard = ()
    op: Op = "send"
    message_id: int | None = None
    filename: str | None = None
    body: bytes | None = None
    kind: Kind = "reply"
    dedupe: str | None = None
    not_before: datetime | None = None
    channel: str = ""  # the chat id's channel (bot/transport/channels.py) unless named
    or_send: bool = False
    outbox_id: int | None = None  # its row, once queued (what a courier may remember it by)

    def __post_init__(self) -> None:
        if not self.channel:
            object.__setattr__(self, "channel", channel_of(self.chat_id))

    @classmethod
    def of(cls, chat_id: int, reply: Reply, **values: Any) -> Message:
        return cls(chat_id, reply.text, reply.keyboard, **values)


def encode(message: Message) -> str:
    fields: dict[str, Any] = {"op": message.op, "text": message.text}
    if message.keyboard:
        fields["keyboard"] = [[[b.label, b.data, *([1] if b.aside else [])] for b in row]
                              for row in message.keyboard]
    if message.message_id is not None:
        fields["message_id"] = message.message_id
    if message.filename is not None:
        fields["filename"] = message.filename
    if message.or_send:
        fields["or_send"] = True
    return json.dumps(fields, ensure_ascii=False)


def decode(row: OutRow) -> Message:
    fields = json.loads(row.payload)
    keyboard = tuple(tuple(Button(label, data, bool(aside)) for label, data, *aside in line)
                     for line in fields.get("keyboard", ()))
    return Message(row.chat_id, fields.get("text", ""), keyboard, fields["op"],
                   fields.get("message_id"), fields.get("filename"), row.body,
                   _KINDS.get(row.kind, "reply"), channel=row.channel,
                   or_send=bool(fields.get("or_send")), outbox_id=row.id)


# --- what a courier says about one attempt ---------------------------------------------------

@dataclass(frozen=True)
class Sent:
    """Delivered (or nothing left to do: an edit of a message that is gone)."""


@dataclass(frozen=True)
class Retry:
    """Try again after `after` seconds (None: the sender's backoff); `counts`: a failure, not a
    rate limit."""

    after: float | None
    error: str
    counts: bool = True


@dataclass(frozen=True)
class Unreachable:
    """The person blocked the bot or their account is gone: never retried."""

    error: str


@dataclass(frozen=True)
class Failed:
    """A permanent error (a message the channel refuses): never retried."""

    error: str


Delivery = Sent | Retry | Unreachable | Failed


Turn = Callable[[], Awaitable[None]]


async def no_wait() -> None:
    """The turn of a courier called outside a paced sender: nothing to wait for."""


class Courier(Protocol):
    """Turns a Message into a channel's API calls. The sender has waited for the chat's turn
    before `deliver`; a courier that puts several messages in the chat for one Message (Zalo's
    long texts in parts) awaits `turn()` before each further one. A courier may name its
    channel's own `chat_burst` (an int attribute) when it is stricter than the config's, and
    say `edits_in_place = False` when an edit is sent as a new message (then paced like one)."""

    async def deliver(self, message: Message, turn: Turn = no_wait) -> Delivery: ...


def backoff(attempts: int) -> float:
    """Seconds before attempt `attempts + 1`: 1, 2, 4 ... up to five minutes."""
    return float(min(BACKOFF_CAP, 2 ** max(0, attempts - 1)))


# --- the unit of work ---------------------------------------------------------------------------

@dataclass
class Work:
    """One update's changes and messages, committed together (see the module docstring)."""

    tx: Tx
    fresh: bool
    update_id: int | None = None
    messages: list[Message] = field(default_factory=list)

    def add(self, *messages: Message) -> None:
        self.messages.extend(messages)

    def replies(self, chat_id: int, replies: Iterable[Reply], **values: Any) -> None:
        self.messages.extend(Message.of(chat_id, reply, **values) for reply in replies)


class Outbox:
    """Queues messages in the caller's transaction and hands them to the sender after commit."""

    def __init__(self, db: Database, pacing: Pacing, zone: ZoneInfo,
                 clock: Callable[[], datetime] = lambda: datetime.now(UTC)) -> None:
        self.db, self.pacing, self.zone, self.clock = db, pacing, zone, clock
        self.sender: Sender | None = None  # set when the bot runs; without it rows just wait
        self.health: Health | None = None  # set when the bot runs: a handled update clears
        # Kept in every update's commit beside its messages (bot.staff.prompts.Prompts.settle),
        # and as it was before a try that is run again (Prompts.restore).
        self.settle: Callable[[Tx], Awaitable[None]] | None = None
        self.restore: Callable[[], None] | None = None

    @asynccontextmanager
    async def work(self, update_id: int | None = None, chat: int | None = None
                   ) -> AsyncIterator[Work]:
        """A transaction for one update: `fresh` is False when it was handled before (then
        nothing is queued and the update stays as it was); otherwise the messages are queued
        and the update is marked handled in the same commit. `chat`: the transaction is that
        chat's (storage.engine: see `handle`)."""
        async with self.db.transaction(chat) as tx:
            work = await self._opened(tx, update_id)
            yield work
            await self._closed(work)
        self._handled(update_id)

    async def handle(self, update_id: int, chat: int,
                     act: Callable[[Work], Awaitable[object]]) -> None:
        """A child's update (`act`, when it is fresh) as `work` does it, in one go (see
        Database.apply: `act` awaits nothing but its statements) and in its chat's transaction,
        which other chats' need not wait for; run again in turn with every writer if something
        in it needs that (TakesTurns: an invite redeemed, an erasure; the first try left
        nothing)."""

        tries = 0

        async def whole(tx: Tx) -> None:
            nonlocal tries
            tries += 1
            if tries > 1 and self.restore is not None:
                self.restore()  # what the rolled-back try changed in memory is undone
            work = await self._opened(tx, update_id)
            if work.fresh:
                await act(work)
            await self._closed(work)

        try:
            await self.db.apply(chat, whole)
        except TakesTurns as why:
            log.debug("Update %d runs again in turn: %s", update_id, why)
            self.db.taken_in_turn += 1
            await self.db.apply(None, whole)
        self._handled(update_id)

    @staticmethod
    async def _opened(tx: Tx, update_id: int | None) -> Work:
        return Work(tx, update_id is None or not await inbox.is_done(tx, update_id), update_id)

    async def _closed(self, work: Work) -> None:
        """Queue the messages and mark the update handled, in its transaction."""
        if not work.fresh:
            return
        await self.enqueue(work.tx, work.messages)
        if self.settle is not None:
            await self.settle(work.tx)
        if work.update_id is not None:
            await inbox.mark_done(work.tx, work.update_id)

    def _handled(self, update_id: int | None) -> None:
        if update_id is not None and self.health is not None:
            self.health.up("handling an update")  # an update handled again, after a failure

    async def work_first(self, update_id: int,
                         act: Callable[[Work], Awaitable[object]]) -> None:
        """An update whose work only reads and takes a while (a chart, a workbook): done on
        the reader before the update's transaction, so no write waits for it; its messages
        are queued, and the update marked handled, in a short one after."""
        collected = Work(self.db.reader, fresh=True)
        await act(collected)
        async with self.work(update_id) as work:
            if work.fresh:
                work.add(*collected.messages)

    async def enqueue(self, tx: Tx, messages: Sequence[Message]) -> int:
        """Queue messages inside the caller's transaction; they go out after it commits.
        Returns how many were queued (a dedupe key seen before queues nothing)."""
        now = self.clock()
        worker = self.sender.worker if self.sender else None
        until = _stamp(now + LEASE) if worker else None
        queued, ready, left = 0, [], False
        shared = self.sender is not None and not self.sender.sole
        own = self.db.chat_of_transaction()
        for message in messages:
            due = self._due(message, now)
            claim = worker if due <= now else None  # a later message waits in the table
            if claim and shared and own is not None and message.chat_id != own:
                # Another chat's (a case's alert to staff) from one chat's transaction, which
                # other chats' run beside: whether another worker holds that chat cannot be
                # known until they commit, so the senders claim it from the table.
                claim, left = None, True
            elif claim and shared and await store.held_elsewhere(
                    tx, message.channel, message.chat_id, claim, _stamp(now)):
                claim = None  # the worker sending this chat's earlier messages sends it too
            row = await store.add(tx, NewMessage(
                message.channel, message.chat_id, message.kind, encode(message), message.body,
                _stamp(due), message.dedupe), claim, until if claim else None)
            queued += row is not None
            if row is not None and claim:
                ready.append(row)
        sender = self.sender
        if sender is not None and ready:
            self.db.after_commit(lambda: sender.hand(ready))
        if sender is not None and left:
            self.db.after_commit(sender.wake)
        return queued

    def _due(self, message: Message, now: datetime) -> datetime:
        due = max(message.not_before or now, now)
        if message.kind == "notice":
            due = quiet_until(due, self.pacing, self.zone) or due
        return due

    async def take_waiting(self, tx: Tx, prefix: str) -> list[str]:
        """Notices queued under a dedupe key starting with `prefix` that still wait in the
        table (quiet hours): taken out, their keys returned, so that one notice says what they
        would have (a digest over the night: one message in the morning, not one an hour)."""
        return await store.take_waiting(tx, prefix)

    async def send(self, messages: Sequence[Message]) -> int:
        """Queue messages in a transaction of their own (jobs: digests, reminders...)."""
        async with self.db.transaction() as tx:
            return await self.enqueue(tx, messages)

    async def forget(self, tx: Tx, chat_id: int) -> None:
        """A person's erasure: drop what is queued for them (in the erasure's transaction)."""
        channel = channel_of(chat_id)
        await store.erase_chat(tx, channel, chat_id)
        sender = self.sender
        if sender is not None:
            self.db.after_commit(lambda: sender.forget(channel, chat_id))


def _stamp(moment: datetime) -> str:
    return moment.astimezone(UTC).isoformat(timespec="seconds")


# --- the sender ---------------------------------------------------------------------------------

class Sender:
    """Sends what the outbox holds: each chat in order, paced, retried, resumed after a crash.

    `sole`: this process is the only sender of the database (SQLite), so the claims left by a
    previous run are released at start instead of waiting for their lease to expire.
    """

    def __init__(self, db: Database, couriers: Mapping[str, Courier], pacing: Pacing,
                 zone: ZoneInfo, *, sole: bool = True, health: Health | None = None,
                 clock: Callable[[], datetime] = lambda: datetime.now(UTC)) -> None:
        self.db, self.couriers, self.pacing, self.zone = db, couriers, pacing, zone
        self.sole, self.clock, self.health = sole, clock, health or Health()
        self.worker = uuid.uuid4().hex
        self._queues: dict[tuple[str, int], deque[OutRow]] = {}
        self._workers: dict[tuple[str, int], asyncio.Task[None]] = {}
        self._held: set[int] = set()
        self._chat_buckets: dict[tuple[str, int], Bucket] = {}
        self._all = Bucket(pacing.messages_per_second, max(1.0, pacing.messages_per_second))
        self._notices = Bucket(pacing.notices_per_second, max(1.0, pacing.notices_per_second))
        self._finished: dict[str, list[int]] = {}
        self._errors: dict[int, str] = {}
        self._wake = asyncio.Event()
        self._tasks: list[asyncio.Task[None]] = []
        self.sent = 0

    # --- life cycle ---------------------------------------------------------------------------

    async def start(self) -> None:
        if self.sole:
            async with self.db.transaction() as tx:
                released = await store.release_all(tx)
            if released:
                log.info("Outbox: %d messages left by the last run will be sent now", released)
        self._tasks = [asyncio.create_task(self._poll(), name="outbox.poll"),
                       asyncio.create_task(self._flush_loop(), name="outbox.flush")]

    async def stop(self, grace: float = 5.0) -> None:
        """Let messages in flight finish (up to `grace` seconds), record, give back the rest."""
        for task in self._tasks:
            task.cancel()
        if self._workers:
            await asyncio.wait(list(self._workers.values()), timeout=grace)
        for task in list(self._workers.values()):
            task.cancel()
        await asyncio.gather(*self._tasks, *self._workers.values(), return_exceptions=True)
        with contextlib.suppress(Exception):
            await self._flush()
            async with self.db.transaction() as tx:
                await store.release(tx, sorted(self._held))

    @property
    def backlog(self) -> int:
        """Messages held in memory, not sent yet."""
        return len(self._held)

    # --- feeding ------------------------------------------------------------------------------

    def hand(self, rows: Sequence[OutRow]) -> None:
        """Rows just committed (claimed by this sender): send them now."""
        for row in rows:
            if row.id in self._held:
                continue
            self._held.add(row.id)
            key = (row.channel, row.chat_id)
            self._queues.setdefault(key, deque()).append(row)
            if key not in self._workers:
                self._workers[key] = asyncio.create_task(self._drain(key), name="outbox.chat")

    def wake(self) -> None:
        """Look at the table now (rows queued by another process, or made due)."""
        self._wake.set()

    def forget(self, channel: str, chat_id: int) -> None:
        """A person was erased: what was queued for them is gone from the table, and here."""
        queue = self._queues.get((channel, chat_id))
        if queue:
            for row in queue:
                self._held.discard(row.id)
            queue.clear()

    async def _poll(self) -> None:
        """Claim due rows whenever memory runs low; renew the lease on what is held."""
        renewed = time.monotonic()
        while True:
            try:
                if len(self._held) < CLAIM_BATCH // 2:
                    await self._claim()
                if time.monotonic() - renewed > LEASE.total_seconds() / 3 and self._held:
                    async with self.db.transaction() as tx:
                        await store.renew(tx, self.worker, _stamp(self.clock() + LEASE))
                    renewed = time.monotonic()
                self._recovered()
            except Exception as error:  # the database may be down: try again later
                self._down(error)
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._wake.wait(), POLL_SECONDS)
            self._wake.clear()

    async def _claim(self) -> None:
        now = self.clock()
        async with self.db.transaction() as tx:
            rows = await store.claim(tx, self.worker, _stamp(now), _stamp(now + LEASE),
                                     CLAIM_BATCH)
        self.hand(rows)

    # --- one chat -----------------------------------------------------------------------------

    async def _drain(self, key: tuple[str, int]) -> None:
        queue = self._queues[key]
        try:
            while queue:
                row = queue[0]
                if row.kind == "notice" and await self._postpone_at_night(row):
                    self._drop(queue, row)
                    continue
                message = decode(row)
                await self._wait_turn(key, message)
                if not queue or queue[0] is not row:
                    continue  # forgotten (an erasure) while waiting
                outcome = await self._deliver(row, message, partial(self._wait_turn, key,
                                                                    message))
                if isinstance(outcome, Retry):
                    await self._retry(row, outcome)
                    continue
                self._drop(queue, row)
                state = {Sent: "sent", Unreachable: "unreachable", Failed: "failed"}[
                    type(outcome)]
                self._finish(row, state, None if isinstance(outcome, Sent) else outcome.error)
                if row.kind == "notice":  # recorded at once: a crash resends as little as can be
                    await self._record_now()
        finally:
            self._workers.pop(key, None)
            if not queue:
                self._queues.pop(key, None)

    def _drop(self, queue: deque[OutRow], row: OutRow) -> None:
        if queue and queue[0] is row:
            queue.popleft()
        self._held.discard(row.id)

    async def _wait_turn(self, key: tuple[str, int], message: Message) -> None:
        if not self.pacing.enabled:
            return
        now = time.monotonic()
        wait = self._all.reserve(now)
        if message.op not in ("edit", "keyboard") or not self._edits_in_place(key[0]):
            bucket = self._chat_buckets.get(key)
            if bucket is None:
                bucket = self._chat_buckets[key] = Bucket(self.pacing.chat_per_second,
                                                          self._chat_burst(key[0]))
            wait = max(wait, bucket.reserve(now))
        if message.kind == "notice":
            wait = max(wait, self._notices.reserve(now))
        if wait > 0:
            await asyncio.sleep(wait)
        if len(self._chat_buckets) > 10_000:  # forget the chats that went quiet
            later = time.monotonic()
            for idle in [k for k, b in self._chat_buckets.items() if b.idle(later)]:
                del self._chat_buckets[idle]

    def _edits_in_place(self, channel: str) -> bool:
        """An edit is not a new message in the chat, unless the channel has no edits (Zalo)."""
        return getattr(self.couriers.get(channel), "edits_in_place", True) is not False

    def _chat_burst(self, channel: str) -> int:
        """The config's burst in one chat, or the channel's own when stricter (Zalo: 1)."""
        own = getattr(self.couriers.get(channel), "chat_burst", None)
        return min(self.pacing.chat_burst, own) if isinstance(own, int) else self.pacing.chat_burst

    async def _deliver(self, row: OutRow, message: Message, turn: Turn) -> Delivery:
        courier = self.couriers.get(row.channel)
        if courier is None:
            return Failed(f"no courier for channel {row.channel!r}")
        try:
            outcome = await courier.deliver(message, turn)
        except Exception as error:  # a courier bug must not stop the chat's queue for good
            log.exception("Outbox: sending message %d failed unexpectedly", row.id)
            return Retry(None, repr(error))
        if isinstance(outcome, Sent):
            self.sent += 1
        return outcome

    async def _retry(self, row: OutRow, retry: Retry) -> None:
        attempts = row.attempts + int(retry.counts)
        after = backoff(attempts) if retry.after is None else retry.after
        if retry.counts and attempts >= self.pacing.max_attempts:
            # The row's id, never the chat's: a child's chat id must not outlive them in logs.
            log.error("Outbox: gave up message %d after %d attempts: %s", row.id, attempts,
                      retry.error)
            self._drop(self._queues.get((row.channel, row.chat_id), deque()), row)
            self._finish(row, "failed", retry.error)
            return
        log.warning("Outbox: message %d waits %.0fs (%s)", row.id, after, retry.error)
        queue = self._queues[(row.channel, row.chat_id)]
        updated = OutRow(row.id, row.channel, row.chat_id, row.kind, row.payload, row.body,
                         attempts)
        if queue and queue[0] is row:
            queue[0] = updated
        with contextlib.suppress(Exception):
            async with self.db.transaction() as tx:
                await store.retry(tx, row.id, _stamp(self.clock() + timedelta(seconds=after)),
                                  retry.error, retry.counts)
        await asyncio.sleep(after)

    async def _postpone_at_night(self, row: OutRow) -> bool:
        """A notice due in the quiet hours goes back to the table until they end."""
        until = quiet_until(self.clock(), self.pacing, self.zone)
        if until is None:
            return False
        try:
            async with self.db.transaction() as tx:
                await store.retry(tx, row.id, _stamp(until), "quiet hours", False)
                await store.release(tx, [row.id])
        except Exception as error:
            self._down(error)
        return True

    # --- recording ----------------------------------------------------------------------------

    def _finish(self, row: OutRow, state: str, error: str | None) -> None:
        self._finished.setdefault(state, []).append(row.id)
        if error:
            self._errors[row.id] = error[:500]

    async def _record_now(self) -> None:
        try:
            if await self._flush():
                self._recovered()
        except Exception as error:
            self._down(error)

    async def _flush_loop(self) -> None:
        while True:
            await asyncio.sleep(FLUSH_SECONDS)
            try:
                if await self._flush():
                    self._recovered()
            except Exception as error:
                self._down(error)

    async def _flush(self) -> bool:
        """Record what was sent or given up; False when there was nothing to record."""
        if not self._finished:
            return False
        finished, errors = self._finished, self._errors
        self._finished, self._errors = {}, {}
        try:
            async with self.db.transaction() as tx:
                for state, ids in finished.items():
                    if state == "sent":
                        await store.finish(tx, ids, state)
                    else:
                        for row_id in ids:
                            await store.finish(tx, [row_id], state, errors.get(row_id))
        except BaseException:
            for state, ids in finished.items():  # keep them for the next flush
                self._finished.setdefault(state, []).extend(ids)
            self._errors.update(errors)
            raise
        return True

    def _down(self, error: BaseException) -> None:
        if is_unavailable(error):
            self.health.down("recording sent messages", error)
        else:
            log.error("Outbox: unexpected error", exc_info=error)

    def _recovered(self) -> None:
        self.health.up("recording sent messages")
