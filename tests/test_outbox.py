"""The outbox and its sender on a real SQLite file, with a courier that fails on cue."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from datetime import time as clock_time
from zoneinfo import ZoneInfo

import pytest

from bot.messages import Button
from bot.transport.outbox import (
    Delivery,
    Failed,
    Message,
    Outbox,
    Retry,
    Sender,
    Sent,
    Turn,
    Unreachable,
    Work,
    no_wait,
)
from bot.transport.pacing import Bucket, Pacing, quiet_until
from storage import inbox
from storage.children import ChildRow
from storage.children import save as save_child
from storage.db import Database, open_database
from tests.stores import Target

ZONE = ZoneInfo("Asia/Ho_Chi_Minh")
FAST = Pacing(quiet_start=None, quiet_end=None).unlimited()


class Courier:
    """Delivers by recording; `script[chat]` lists what the next attempts to a chat return."""

    def __init__(self) -> None:
        self.delivered: list[tuple[int, str, float]] = []
        self.script: dict[int, list[Delivery]] = {}
        self.attempts: dict[int, int] = {}

    async def deliver(self, message: Message, turn: Turn = no_wait) -> Delivery:
        self.attempts[message.chat_id] = self.attempts.get(message.chat_id, 0) + 1
        planned = self.script.get(message.chat_id)
        if planned:
            outcome = planned.pop(0)
            if not isinstance(outcome, Sent):
                return outcome
        self.delivered.append((message.chat_id, message.text, time.monotonic()))
        return Sent()

    def texts(self, chat_id: int) -> list[str]:
        return [text for chat, text, _ in self.delivered if chat == chat_id]


@pytest.fixture
async def db(target: Target) -> AsyncIterator[Database]:
    database = await open_database(target)
    yield database
    await database.close()


async def running(db: Database, courier: Courier, pacing: Pacing = FAST,
                  clock: datetime | None = None) -> tuple[Outbox, Sender]:
    now = (lambda: clock) if clock else (lambda: datetime.now(UTC))
    outbox = Outbox(db, pacing, ZONE, clock=now)
    sender = Sender(db, {"telegram": courier}, pacing, ZONE, clock=now)
    outbox.sender = sender
    await sender.start()
    return outbox, sender


async def settle(sender: Sender, timeout: float = 10) -> None:
    deadline = time.monotonic() + timeout
    while sender.backlog and time.monotonic() < deadline:
        await asyncio.sleep(0.01)
    await asyncio.sleep(0.15)  # the results are recorded in batches


async def states(db: Database) -> list[tuple[int, str, str | None]]:
    return [(row[0], row[1], row[2]) for row in await db.reader.fetchall(
        "SELECT chat_id, state, payload FROM outbox ORDER BY id")]


async def test_messages_commit_with_the_change_and_go_out_in_order(db: Database) -> None:
    courier = Courier()
    outbox, sender = await running(db, courier)
    async with db.transaction() as tx:
        await inbox.store(tx, 1, {"update_id": 1})
    async with outbox.work(1) as work:
        assert work.fresh
        work.add(Message(5, "một", ((Button("A", "a"),),)), Message(5, "hai"), Message(6, "ba"))
        assert courier.delivered == []  # nothing leaves before the commit
    async with outbox.work(1) as work:  # the same update again: nothing queued twice
        assert not work.fresh
        work.add(Message(5, "bốn"))
    await settle(sender)
    assert courier.texts(5) == ["một", "hai"] and courier.texts(6) == ["ba"]
    assert await inbox.is_done(db.reader, 1)
    # sent rows keep their record, not their words
    assert [state for _, state, _ in await states(db)] == ["sent"] * 3
    assert all(payload is None for _, _, payload in await states(db))
    await sender.stop()


async def test_a_rolled_back_change_sends_nothing(db: Database) -> None:
    courier = Courier()
    outbox, sender = await running(db, courier)
    with pytest.raises(RuntimeError):
        async with outbox.work() as work:
            work.add(Message(5, "never"))
            await outbox.enqueue(work.tx, [Message(5, "nor this")])
            raise RuntimeError("the change failed")
    await settle(sender)
    assert courier.delivered == [] and await states(db) == []
    await sender.stop()


async def test_a_childs_update_that_needs_everyone_to_wait_runs_again_in_turn(
        db: Database) -> None:
    courier = Courier()
    outbox, sender = await running(db, courier)
    async with db.transaction() as tx:
        await inbox.store(tx, 1, {"update_id": 1})
    tries: list[bool] = []

    async def act(work: Work) -> None:
        await save_child(work.tx, ChildRow(5, "DHA", None, None, "vi", f"{len(tries)}"))
        work.add(Message(5, f"try {len(tries)}"))
        tries.append(db.in_transaction)
        db.take_turn()  # a recommendation reworded, say: other chats' must wait

    await outbox.handle(1, 5, act)
    await outbox.handle(1, 5, act)  # redelivered: handled already, nothing runs
    await settle(sender)
    # With one writer (SQLite) a chat's transaction is everyone's: nothing to run again.
    last = len(tries) - 1
    assert tries == [True] * (2 if db.side_by_side else 1)
    assert db.taken_in_turn == last
    assert courier.texts(5) == [f"try {last}"]  # a first try run again left no message
    assert await db.reader.fetchval("SELECT state FROM children WHERE chat_id = 5") == f"{last}"
    assert await inbox.is_done(db.reader, 1)
    await sender.stop()


async def test_from_one_chats_transaction_another_chats_message_is_claimed_from_the_table(
        db: Database) -> None:
    """With several senders (PostgreSQL's workers), a child's transaction runs beside other
    chats': it claims its own chat's replies, never a message to someone else (a case's alert
    to staff), which two such transactions could otherwise both claim; the senders take that
    one from the table, at once."""
    courier = Courier()
    outbox = Outbox(db, FAST, ZONE)
    sender = Sender(db, {"telegram": courier}, FAST, ZONE, sole=False)
    outbox.sender = sender  # not started yet: nothing polls the table
    async with db.transaction() as tx:
        await inbox.store(tx, 1, {"update_id": 1})
    async with outbox.work(1, chat=5) as work:
        work.add(Message(5, "your reply"), Message(777, "an alert to staff"))
    held = dict(await db.reader.fetchall("SELECT chat_id, claimed_by FROM outbox"))
    assert held[5] == sender.worker
    # (SQLite has one writer: no transaction runs beside another, the claim is safe there)
    assert held[777] == (None if db.side_by_side else sender.worker)
    await sender.start()
    await settle(sender)
    assert courier.texts(5) == ["your reply"] and courier.texts(777) == ["an alert to staff"]
    await sender.stop()


async def test_one_chats_429_does_not_hold_another_chat(db: Database) -> None:
    courier = Courier()
    courier.script[1] = [Retry(2.0, "Too Many Requests: retry after 2", counts=False)]
    outbox, sender = await running(db, courier)
    started = time.monotonic()
    await outbox.send([Message(1, "to the limited chat"), Message(2, "to another chat")])
    await settle(sender)
    times = {chat: at - started for chat, _, at in courier.delivered}
    assert times[2] < 0.5, times  # not held by chat 1's wait
    assert times[1] >= 2.0, times  # chat 1 waited what Telegram asked
    assert courier.attempts[1] == 2
    await sender.stop()


async def test_blocked_chats_are_unreachable_and_permanent_errors_are_not_retried(
        db: Database) -> None:
    courier = Courier()
    courier.script[1] = [Unreachable("Forbidden: bot was blocked by the user")]
    courier.script[2] = [Failed("Bad Request: message is too long")]
    outbox, sender = await running(db, courier)
    await outbox.send([Message(1, "x"), Message(2, "y"), Message(3, "z")])
    await settle(sender)
    assert [state for _, state, _ in await states(db)] == ["unreachable", "failed", "sent"]
    assert courier.attempts == {1: 1, 2: 1, 3: 1}
    error = await db.reader.fetchval("SELECT last_error FROM outbox WHERE chat_id = 1")
    assert "blocked" in error
    await sender.stop()


async def test_network_errors_are_retried_then_given_up(db: Database) -> None:
    courier = Courier()
    courier.script[1] = [Retry(0.01, "timed out"), Retry(0.01, "timed out")]
    courier.script[2] = [Retry(0.01, "timed out")] * 5
    pacing = Pacing(quiet_start=None, quiet_end=None, max_attempts=3).unlimited()
    outbox, sender = await running(db, courier, pacing)
    await outbox.send([Message(1, "gets through on the third try"), Message(2, "never does")])
    await settle(sender)
    assert courier.texts(1) == ["gets through on the third try"]
    rows = await db.reader.fetchall("SELECT chat_id, state, attempts FROM outbox ORDER BY id")
    assert rows == [(1, "sent", 2), (2, "failed", 2)]  # the third failure is not recorded
    await sender.stop()


async def test_what_a_crash_left_pending_is_sent_after_the_restart(db: Database) -> None:
    courier = Courier()
    outbox = Outbox(db, FAST, ZONE)
    # A previous process queued these and died before sending (one was even claimed by it).
    await outbox.send([Message(1, "first"), Message(1, "second"), Message(2, "other")])
    await db.reader.execute("UPDATE outbox SET claimed_by = 'dead', claimed_until ="
                            " '2999-01-01T00:00:00+00:00' WHERE id = 1")
    _, sender = await running(db, courier)
    await settle(sender)
    assert courier.texts(1) == ["first", "second"] and courier.texts(2) == ["other"]
    await sender.stop()


async def test_notices_wait_for_the_end_of_the_quiet_hours(db: Database) -> None:
    night = datetime(2026, 12, 1, 22, 30, tzinfo=ZONE)
    pacing = Pacing(quiet_start=clock_time(21), quiet_end=clock_time(7))
    courier = Courier()
    outbox, sender = await running(db, courier, pacing, clock=night)
    await outbox.send([Message(1, "your answer came", kind="notice"),
                       Message(1, "a reply to what you just typed")])
    await settle(sender)
    assert courier.texts(1) == ["a reply to what you just typed"]  # replies are never held
    due = await db.reader.fetchval("SELECT not_before FROM outbox WHERE kind = 'notice'")
    assert datetime.fromisoformat(due) == datetime(2026, 12, 2, 7, 0, tzinfo=ZONE)
    await sender.stop()


async def test_a_dedupe_key_queues_a_message_once(db: Database) -> None:
    outbox = Outbox(db, FAST, ZONE)
    first = await outbox.send([Message(1, "answer", kind="notice", dedupe="answer:7:1")])
    again = await outbox.send([Message(1, "answer", kind="notice", dedupe="answer:7:1")])
    assert (first, again) == (1, 0)


async def test_erasure_drops_what_is_queued_for_the_person(db: Database) -> None:
    courier = Courier()
    courier.script[1] = [Retry(0.5, "wait")]
    outbox, sender = await running(db, courier)
    await outbox.send([Message(1, "old notice"), Message(1, "another")])
    await asyncio.sleep(0.1)
    async with outbox.work() as work:
        await outbox.forget(work.tx, 1)
        work.add(Message(1, "Đã xóa hết."))
    await settle(sender)
    assert courier.texts(1) == ["Đã xóa hết."]
    await sender.stop()


async def test_pacing_keeps_a_chat_near_one_a_second_after_its_burst(db: Database) -> None:
    pacing = Pacing(chat_per_second=10, chat_burst=2, quiet_start=None, quiet_end=None)
    courier = Courier()
    outbox, sender = await running(db, courier, pacing)
    await outbox.send([Message(1, str(n)) for n in range(6)])
    await settle(sender)
    times = [at for _, _, at in courier.delivered]
    assert courier.texts(1) == [str(n) for n in range(6)]
    assert times[-1] - times[0] >= 0.35  # 2 at once, then 4 at 10 a second
    await sender.stop()


def test_buckets_and_quiet_hours() -> None:
    bucket = Bucket(rate=2, burst=2)
    assert [bucket.reserve(0.0) for _ in range(4)] == [0.0, 0.0, 0.5, 1.0]
    pacing = Pacing()
    day = datetime(2026, 12, 1, 12, 0, tzinfo=ZONE)
    assert quiet_until(day, pacing, ZONE) is None
    early = datetime(2026, 12, 1, 5, 0, tzinfo=ZONE)
    assert quiet_until(early, pacing, ZONE) == datetime(2026, 12, 1, 7, 0, tzinfo=ZONE)
    late = datetime(2026, 12, 1, 21, 0, tzinfo=ZONE)
    assert quiet_until(late, pacing, ZONE) == datetime(2026, 12, 2, 7, 0, tzinfo=ZONE)
