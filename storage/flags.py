"""Safeguarding flags: messages that looked like a disclosure of harm."""

from __future__ import annotations

import aiosqlite

from storage.db import utc_now


async def add(
    db: aiosqlite.Connection, chat_id: int, district: str | None, category: str, matched: str,
    text: str,
) -> int:
    cursor = await db.execute(
        "INSERT INTO safeguarding_flags (chat_id, district, category, matched, text, created_at)"
        " VALUES (?, ?, ?, ?, ?, ?)",
        (chat_id, district, category, matched, text, utc_now()),
    )
    assert cursor.lastrowid is not None
    return cursor.lastrowid
