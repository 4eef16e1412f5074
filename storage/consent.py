"""Consent in two steps: a chat whose child consented, waiting for the guardian's consent.

Only the chat id and the time are kept, and only between the two presses: the guardian's press
is accepted only while this row exists, so neither a forged press nor an old button pressed after
/delete records consent.
"""

from __future__ import annotations

from storage.db import Tx, utc_now


async def remember(db: Tx, chat_id: int) -> None:
    await db.execute("INSERT INTO consent_steps (chat_id, at) VALUES (?, ?)"
                     " ON CONFLICT (chat_id) DO UPDATE SET at = excluded.at", (chat_id, utc_now()))


async def waiting(db: Tx, chat_id: int) -> bool:
    found = await db.fetchval("SELECT 1 FROM consent_steps WHERE chat_id = ?", (chat_id,))
    return found is not None


async def forget(db: Tx, chat_id: int) -> None:
    await db.execute("DELETE FROM consent_steps WHERE chat_id = ?", (chat_id,))


async def purge(db: Tx, before: str) -> None:
    """A consent left half-way is forgotten after a while."""
    await db.execute("DELETE FROM consent_steps WHERE at < ?", (before,))
