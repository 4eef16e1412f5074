"""Retention: personal data goes after a set time; the forum keeps the anonymous proposals."""

from __future__ import annotations

from storage import cases
from storage.db import Tx, utc_now


async def purge(db: Tx, before: str) -> int:
    """Forget children inactive since `before` (ISO time), unlinking their proposals first.

    The words of safeguarding cases closed before then go too, and the chat ids of their
    closed cases. Returns how many children were forgotten.
    """
    stale = "SELECT chat_id FROM children WHERE updated_at < ?"
    await db.execute(f"UPDATE proposals SET chat_id = NULL WHERE chat_id IN ({stale})", (before,))
    await db.execute(f"UPDATE proposals SET facilitator_chat_id = NULL"
                     f" WHERE facilitator_chat_id IN ({stale})", (before,))
    await db.execute(f"DELETE FROM facilitators WHERE chat_id IN ({stale})", (before,))
    await db.execute(f"DELETE FROM chat_menus WHERE chat_id IN ({stale})", (before,))
    await db.execute(f"UPDATE chat_addresses SET erased_at = ? WHERE chat_id IN ({stale})",
                     (utc_now(), before))
    await cases.purge(db, before)
    await db.execute(f"UPDATE cases SET chat_id = NULL WHERE state = 'closed'"
                     f" AND chat_id IN ({stale})", (before,))
    return await db.execute("DELETE FROM children WHERE updated_at < ?", (before,))
