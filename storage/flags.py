"""Safeguarding flags: messages that looked like a disclosure of harm."""

from __future__ import annotations

from storage.db import Tx, utc_now


async def add(db: Tx, chat_id: int, district: str | None, category: str, matched: str,
              text: str) -> int:
    return int(await db.fetchval(
        "INSERT INTO safeguarding_flags (chat_id, district, category, matched, text, created_at)"
        " VALUES (?, ?, ?, ?, ?, ?) RETURNING id",
        (chat_id, district, category, matched, text, utc_now()),
    ))
