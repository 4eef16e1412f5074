"""A one-row table the running bot writes every few seconds: proof that writes still work."""

from __future__ import annotations

from storage.db import Tx, utc_now


async def beat(db: Tx) -> None:
    await db.execute("INSERT INTO heartbeat (id, at) VALUES (1, ?)"
                     " ON CONFLICT (id) DO UPDATE SET at = excluded.at", (utc_now(),))


async def stopped(db: Tx) -> None:
    """A clean stop: no bot is writing now (until the next one beats)."""
    await db.execute("DELETE FROM heartbeat WHERE id = 1")


async def last(db: Tx) -> str | None:
    """When the running bot last wrote (ISO-8601 UTC), or None if no bot ever ran on it."""
    rows = await db.fetchall("SELECT at FROM heartbeat WHERE id = 1")
    return str(rows[0][0]) if rows else None
