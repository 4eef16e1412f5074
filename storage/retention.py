"""Retention: personal data goes after a set time; the forum keeps the anonymous proposals."""

from __future__ import annotations

from collections.abc import Collection

from storage import audit, cases
from storage.db import Tx, utc_now

FORGOTTEN = 0  # the chat id of what stays of a forgotten child's answer notices


async def purge(db: Tx, before: str, staff: Collection[int] = ()) -> int:
    """Forget children inactive since `before` (ISO time), unlinking their proposals first.

    What they were told goes (the outbox's record of every message to them); of the answers
    they were told, only when and their 👍/👎 stay, under chat id 0; of the moderators' edits of
    their proposals, the text before each edit goes. The words of safeguarding
    cases closed before then go too, and the chat ids of their closed cases. Someone in `staff`
    (a role now) who once talked as a child keeps their address and what is queued for them as
    staff, as with /delete. Returns how many children were forgotten.
    """
    stale = "SELECT chat_id FROM children WHERE updated_at < ?"
    kept = sorted(set(staff))
    not_staff = (f" AND chat_id NOT IN ({', '.join('?' * len(kept))})" if kept else "")
    await db.execute(
        "UPDATE answer_notices SET told_at = (SELECT max(o.done_at) FROM outbox o WHERE"
        " o.dedupe = 'answer:' || answer_notices.answer_id || ':' || answer_notices.chat_id"
        f" AND o.state = 'sent'), chat_id = {FORGOTTEN} WHERE chat_id IN ({stale})", (before,))
    await db.execute(f"DELETE FROM outbox WHERE chat_id IN ({stale}){not_staff}",
                     (before, *kept))
    await audit.forget_originals(db, before, f"SELECT id FROM proposals WHERE chat_id IN ({stale})",
                                 (before,))
    await db.execute(f"UPDATE proposals SET chat_id = NULL WHERE chat_id IN ({stale})", (before,))
    await db.execute(f"UPDATE proposals SET facilitator_chat_id = NULL"
                     f" WHERE facilitator_chat_id IN ({stale})", (before,))
    await db.execute(f"DELETE FROM facilitators WHERE chat_id IN ({stale})", (before,))
    await db.execute(f"DELETE FROM chat_menus WHERE chat_id IN ({stale})", (before,))
    await db.execute(f"UPDATE chat_addresses SET erased_at = ? WHERE chat_id IN ({stale})"
                     f"{not_staff}", (utc_now(), before, *kept))
    await cases.purge(db, before)
    await db.execute(f"UPDATE cases SET chat_id = NULL WHERE state = 'closed'"
                     f" AND chat_id IN ({stale})", (before,))
    forgotten = await db.execute("DELETE FROM children WHERE updated_at < ?", (before,))
    await _forget_passers_by(db, before, kept)
    return forgotten


async def _forget_passers_by(db: Tx, before: str, kept: list[int]) -> None:
    """People who talked to the bot but never became one of its children (a greeting, a /start,
    never a consent), are not staff and have no open case: their address on a channel and the
    last menu they were sent go once they are as old as the rule."""
    not_staff = (f" AND a.chat_id NOT IN ({', '.join('?' * len(kept))})" if kept else "")
    idle = ("SELECT a.chat_id FROM chat_addresses a WHERE a.erased_at IS NULL"
            " AND a.created_at < ?" + not_staff +
            " AND NOT EXISTS (SELECT 1 FROM children c WHERE c.chat_id = a.chat_id)"
            " AND NOT EXISTS (SELECT 1 FROM chat_menus m WHERE m.chat_id = a.chat_id"
            " AND m.sent_at >= ?)"
            " AND NOT EXISTS (SELECT 1 FROM cases k WHERE k.chat_id = a.chat_id"
            " AND k.state <> 'closed')")
    values = (before, *kept, before)
    await db.execute(f"DELETE FROM chat_menus WHERE chat_id IN ({idle})", values)
    await db.execute(f"UPDATE chat_addresses SET erased_at = ? WHERE chat_id IN ({idle})",
                     (utc_now(), *values))
