"""What a staff member owes in typed text, by chat (bot.staff.prompts)."""

from __future__ import annotations

from storage.db import Tx, utc_now


async def get(db: Tx, chat_id: int) -> str | None:
    found = await db.fetchval("SELECT data FROM staff_prompts WHERE chat_id = ?", (chat_id,))
    return str(found) if found is not None else None


async def put(db: Tx, chat_id: int, data: str | None) -> None:
    """Keep `data` for the chat (None: it owes nothing)."""
    if data is None:
        await db.execute("DELETE FROM staff_prompts WHERE chat_id = ?", (chat_id,))
        return
    await db.execute(
        "INSERT INTO staff_prompts (chat_id, data, updated_at) VALUES (?, ?, ?)"
        " ON CONFLICT (chat_id) DO UPDATE SET data = excluded.data,"
        " updated_at = excluded.updated_at", (chat_id, data, utc_now()))
