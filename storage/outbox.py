"""The outbox: messages written with the change that caused them, sent after commit."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from storage.db import Tx, in_lists, utc_now

_COLUMNS = "id, channel, chat_id, kind, payload, body, attempts"
# The dedupe key of what is said to someone as they are erased ("farewell:<chat>:..."): its
# record goes once it is sent (forget_farewells), not a month later.
FAREWELL = "farewell:"


@dataclass(frozen=True)
class NewMessage:
    channel: str
    chat_id: int
    kind: str
    payload: str
    body: bytes | None
    not_before: str
    dedupe: str | None = None


@dataclass(frozen=True)
class OutRow:
    id: int
    channel: str
    chat_id: int
    kind: str
    payload: str
    body: bytes | None
    attempts: int


async def add(db: Tx, message: NewMessage, claimed_by: str | None = None,
              claimed_until: str | None = None) -> OutRow | None:
    """Queue one message (claimed by the caller's sender when given); None when its dedupe key
    was queued before."""
    row = await db.fetchone(
        "INSERT INTO outbox (channel, chat_id, kind, payload, body, dedupe, not_before,"
        " claimed_by, claimed_until, created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"
        f" ON CONFLICT (dedupe) DO NOTHING RETURNING {_COLUMNS}",
        (message.channel, message.chat_id, message.kind, message.payload, message.body,
         message.dedupe, message.not_before, claimed_by, claimed_until, utc_now()),
    )
    return OutRow(*row) if row else None


# A row another sender holds (its lease not expired) for the same chat: the chat is theirs.
_HELD_ELSEWHERE = (
    "EXISTS (SELECT 1 FROM outbox AS held WHERE held.channel = outbox.channel"
    " AND held.chat_id = outbox.chat_id AND held.state = 'pending'"
    " AND held.claimed_by != ? AND held.claimed_until >= ?)")


async def claim(db: Tx, worker: str, now: str, until: str, limit: int) -> list[OutRow]:
    """Take up to `limit` due rows nobody holds, oldest first, for `worker` until `until`;
    never a row of a chat another sender is sending to (so each chat's messages stay in order
    when several processes send)."""
    rows = await db.fetchall(
        "UPDATE outbox SET claimed_by = ?, claimed_until = ? WHERE id IN ("
        " SELECT id FROM outbox WHERE state = 'pending' AND not_before <= ?"
        " AND (claimed_until IS NULL OR claimed_until < ?)"
        f" AND NOT {_HELD_ELSEWHERE} ORDER BY id LIMIT ?)"
        f" RETURNING {_COLUMNS}",
        (worker, until, now, now, worker, now, limit),
    )
    return sorted((OutRow(*row) for row in rows), key=lambda row: row.id)


async def held_elsewhere(db: Tx, channel: str, chat_id: int, worker: str, now: str) -> bool:
    """True when another sender holds messages for this chat (a new one must wait its turn)."""
    return bool(await db.fetchval(
        "SELECT 1 FROM outbox WHERE channel = ? AND chat_id = ? AND state = 'pending'"
        " AND claimed_by != ? AND claimed_until >= ? LIMIT 1",
        (channel, chat_id, worker, now)))


async def renew(db: Tx, worker: str, until: str) -> None:
    """Extend the lease on every pending row `worker` holds."""
    await db.execute("UPDATE outbox SET claimed_until = ? WHERE claimed_by = ?"
                     " AND state = 'pending'", (until, worker))


async def release_all(db: Tx) -> int:
    """Free every claim (at start, when this process is the only sender)."""
    return await db.execute("UPDATE outbox SET claimed_by = NULL, claimed_until = NULL"
                            " WHERE state = 'pending' AND claimed_by IS NOT NULL")


async def release(db: Tx, ids: Sequence[int]) -> None:
    """Give rows back (a sender stopping, or a row to wait for a long time)."""
    for marks, chunk in in_lists(ids):
        await db.execute("UPDATE outbox SET claimed_by = NULL, claimed_until = NULL"
                         f" WHERE id IN ({marks})", chunk)


async def finish(db: Tx, ids: Sequence[int], state: str, error: str | None = None) -> None:
    """Rows sent (or given up on): their content goes, the record stays."""
    now = utc_now()
    for marks, chunk in in_lists(ids):
        await db.execute(
            "UPDATE outbox SET state = ?, last_error = COALESCE(?, last_error), done_at = ?,"
            " payload = NULL, body = NULL, claimed_by = NULL, claimed_until = NULL"
            f" WHERE id IN ({marks}) AND state = 'pending'",
            (state, error, now, *chunk))


async def retry(db: Tx, row_id: int, not_before: str, error: str, count: bool) -> None:
    """A failed attempt: try again from `not_before` (`count`: it counts towards the limit)."""
    await db.execute(
        "UPDATE outbox SET attempts = attempts + ?, not_before = ?, last_error = ?"
        " WHERE id = ? AND state = 'pending'", (int(count), not_before, error, row_id))


async def erase_chat(db: Tx, channel: str, chat_id: int) -> None:
    """A person's erasure: nothing queued for them is sent, nothing sent is kept."""
    await db.execute("DELETE FROM outbox WHERE channel = ? AND chat_id = ?", (channel, chat_id))


async def take_waiting(db: Tx, prefix: str) -> list[str]:
    """Rows queued under a dedupe key starting with `prefix`, waiting in the table (due later,
    held by no sender): deleted; their keys returned."""
    rows = await db.fetchall("SELECT id, dedupe FROM outbox WHERE state = 'pending'"
                             " AND claimed_by IS NULL AND dedupe LIKE ?", (prefix + "%",))
    for marks, chunk in in_lists([int(row[0]) for row in rows]):
        await db.execute(f"DELETE FROM outbox WHERE id IN ({marks})", chunk)
    return [str(row[1]) for row in rows]


async def forget_farewells(db: Tx) -> int:
    """The record of what was said to someone as they were erased, once it is out."""
    return await db.execute("DELETE FROM outbox WHERE state != 'pending' AND dedupe LIKE ?",
                            (FAREWELL + "%",))


async def counts(db: Tx) -> dict[str, int]:
    """Rows by state (for health and stats)."""
    return {row[0]: int(row[1]) for row in await db.fetchall(
        "SELECT state, count(*) FROM outbox GROUP BY state")}


async def prune(db: Tx, before: str) -> None:
    """Forget the record of messages finished before `before` that no report needs."""
    await db.execute("DELETE FROM outbox WHERE state != 'pending' AND done_at < ?"
                     " AND dedupe IS NULL", (before,))
