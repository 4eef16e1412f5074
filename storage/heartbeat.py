"""A one-row table the running bot writes every few seconds: proof that writes still work."""

from __future__ import annotations

from storage.db import Tx, utc_now


async def beat(db: Tx) -> None:
    await db.execute("INSERT INTO heartbeat (id, at) VALUES (1, ?)"
                     " ON CONFLICT (id) DO UPDATE SET at = excluded.at", (utc_now(),))
