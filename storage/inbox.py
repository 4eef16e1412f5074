"""The inbox: every update is written here before the bot acts on it."""

from __future__ import annotations

import json
from typing import Any

import aiosqlite

from storage.db import utc_now


async def store(db: aiosqlite.Connection, update_id: int, payload: dict[str, Any]) -> bool:
    """Keep an update until it is handled; False if this update id was seen before."""
    cursor = await db.execute(
        "INSERT OR IGNORE INTO inbox (update_id, payload, received_at) VALUES (?, ?, ?)",
        (update_id, json.dumps(payload, ensure_ascii=False), utc_now()),
    )
    return cursor.rowcount == 1


async def is_done(db: aiosqlite.Connection, update_id: int) -> bool:
    rows = list(await db.execute_fetchall(
        "SELECT done_at FROM inbox WHERE update_id = ?", (update_id,)))
    return bool(rows) and rows[0][0] is not None


async def mark_done(db: aiosqlite.Connection, update_id: int) -> None:
    """Record the update as handled and drop its content (it may hold a child's words)."""
    await db.execute(
        "UPDATE inbox SET done_at = ?, payload = NULL WHERE update_id = ?",
        (utc_now(), update_id),
    )


async def pending(db: aiosqlite.Connection) -> list[dict[str, Any]]:
    """Updates received but not yet handled, oldest first (to replay after a restart)."""
    async with db.execute(
        "SELECT payload FROM inbox WHERE done_at IS NULL ORDER BY update_id"
    ) as cursor:
        return [json.loads(row[0]) async for row in cursor]


async def prune(db: aiosqlite.Connection, before: str) -> None:
    """Forget handled update ids older than `before` (an ISO timestamp)."""
    await db.execute("DELETE FROM inbox WHERE done_at IS NOT NULL AND done_at < ?", (before,))
