"""The inbox: every update is written here before the bot acts on it."""

from __future__ import annotations

import json
from typing import Any

from storage.db import Tx, utc_now


async def store(db: Tx, update_id: int, payload: dict[str, Any],
                chat_id: int | None = None, channel: str = "telegram") -> bool:
    """Keep an update until it is handled; False if this update id was seen before."""
    changed = await db.execute(
        "INSERT INTO inbox (update_id, payload, received_at, chat_id, channel)"
        " VALUES (?, ?, ?, ?, ?) ON CONFLICT (update_id) DO NOTHING",
        (update_id, json.dumps(payload, ensure_ascii=False), utc_now(), chat_id, channel),
    )
    return changed == 1


async def is_done(db: Tx, update_id: int) -> bool:
    row = await db.fetchone("SELECT done_at FROM inbox WHERE update_id = ?", (update_id,))
    return row is not None and row[0] is not None


async def mark_done(db: Tx, update_id: int) -> None:
    """Record the update as handled and drop its content (it may hold a child's words)."""
    await db.execute(
        "UPDATE inbox SET done_at = ?, payload = NULL WHERE update_id = ?",
        (utc_now(), update_id),
    )


async def pending(db: Tx, received_before: str | None = None,
                  channel: str = "telegram") -> list[dict[str, Any]]:
    """A channel's updates received (before `received_before`, if given) but not yet handled,
    oldest first (to replay after a restart, or to take over from a worker that died)."""
    rows = await db.fetchall(
        "SELECT payload FROM inbox WHERE done_at IS NULL AND payload IS NOT NULL"
        " AND received_at < ? AND channel = ? ORDER BY update_id",
        (received_before or "9999", channel))
    return [json.loads(row[0]) for row in rows]


async def earlier_pending(db: Tx, chat_id: int, update_id: int) -> list[dict[str, Any]]:
    """A chat's updates received before `update_id` and not handled yet, oldest first."""
    rows = await db.fetchall(
        "SELECT payload FROM inbox WHERE chat_id = ? AND update_id < ? AND done_at IS NULL"
        " ORDER BY update_id", (chat_id, update_id))
    return [json.loads(row[0]) for row in rows if row[0] is not None]


async def last_update_id(db: Tx) -> int | None:
    """The highest update id ever received (None for a new database)."""
    value = await db.fetchval("SELECT max(update_id) FROM inbox WHERE channel = 'telegram'")
    return int(value) if value is not None else None


async def prune(db: Tx, before: str) -> None:
    """Forget handled update ids older than `before` (an ISO timestamp)."""
    await db.execute("DELETE FROM inbox WHERE done_at IS NOT NULL AND done_at < ?", (before,))
