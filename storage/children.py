"""Children who consented: their profile and the state of their conversation."""

from __future__ import annotations

from dataclasses import dataclass

from storage import answers, cases
from storage.db import Tx, utc_now


@dataclass(frozen=True)
class ChildRow:
    chat_id: int
    district: str | None
    age_band: str | None
    gender: str | None
    lang: str
    state: str


async def get(db: Tx, chat_id: int) -> ChildRow | None:
    row = await db.fetchone(
        "SELECT chat_id, district, age_band, gender, lang, state FROM children WHERE chat_id = ?",
        (chat_id,),
    )
    return ChildRow(*row) if row else None


async def save(db: Tx, child: ChildRow) -> None:
    """Insert or update a child's profile and conversation state."""
    now = utc_now()
    await db.execute(
        "INSERT INTO children (chat_id, consented_at, district, age_band, gender, lang, state,"
        " updated_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?)"
        " ON CONFLICT (chat_id) DO UPDATE SET district = excluded.district,"
        " age_band = excluded.age_band, gender = excluded.gender, lang = excluded.lang,"
        " state = excluded.state, updated_at = excluded.updated_at",
        (child.chat_id, now, child.district, child.age_band, child.gender, child.lang,
         child.state, now),
    )


async def erase(db: Tx, chat_id: int) -> list[cases.CaseRow]:
    """Erase a child (or facilitator) and everything of theirs: proposals (with their answers),
    flags, memberships, what they were told and what they thought of it; with proposals, the
    workbooks sent in chat and not applied yet, which may quote them (an officer sends it again).
    Returns their safeguarding cases still open (they keep the child's words: cases.erase_chat)."""
    if await db.fetchone("SELECT 1 FROM proposals WHERE chat_id = ? LIMIT 1", (chat_id,)):
        await answers.drop_pending_imports(db)
    await db.execute("DELETE FROM answer_notices WHERE chat_id = ?", (chat_id,))
    still_open = await cases.erase_chat(db, chat_id)
    await db.execute("DELETE FROM facilitators WHERE chat_id = ?", (chat_id,))
    await db.execute("DELETE FROM proposals WHERE chat_id = ?", (chat_id,))
    await db.execute("DELETE FROM children WHERE chat_id = ?", (chat_id,))
    # The redelivery guard keeps each update's id a week: not whose it was.
    await db.execute("UPDATE inbox SET chat_id = NULL WHERE chat_id = ?", (chat_id,))
    return still_open
