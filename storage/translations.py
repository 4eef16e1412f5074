"""Proposals waiting for a translator, and their translations (see bot.translating)."""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass

from storage.db import Row, Tx, utc_now, within

FIELDS = ("seen", "proposal", "message")  # the child's words, in the order they are translated
# Held by a safeguarding case too: its staff must read the child's words (the translation shows
# on the case card); translated, it still waits for the case (storage.moderation._QUEUED).
_WAITING = "needs_translation = 1 AND translated_at IS NULL AND status = 'pending'"


@dataclass(frozen=True)
class Original:
    """A proposal's own words, and what of them is translated so far."""

    id: int
    ref: str
    district: str
    topic: str
    lang: str
    words: dict[str, str]  # field -> the child's text (only fields they filled in)
    translated: dict[str, str]  # field -> its Vietnamese translation so far
    held: int | None = None  # the safeguarding case it waits for, if any

    @property
    def next_field(self) -> str | None:
        return next((f for f in FIELDS if f in self.words and f not in self.translated), None)


_COLUMNS = ("id, ref, district, topic, lang, seen, proposal, message, seen_vi, proposal_vi,"
            " message_vi, held_by_case")


def _original(row: Row) -> Original:
    words = {f: str(v) for f, v in zip(FIELDS, row[5:8], strict=True) if v and str(v).strip()}
    done = {f: str(v) for f, v in zip(FIELDS, row[8:11], strict=True) if v is not None}
    return Original(row[0], row[1], row[2], row[3], row[4], words, done,
                    None if row[11] is None else int(row[11]))


async def in_hand(db: Tx, user_id: int) -> Original | None:
    """The proposal this translator is working on, if any."""
    row = await db.fetchone(f"SELECT {_COLUMNS} FROM proposals WHERE {_WAITING}"
                            " AND translated_by = ? ORDER BY id LIMIT 1", (user_id,))
    return _original(row) if row else None


async def take_next(db: Tx, user_id: int, districts: Collection[str] | None) -> Original | None:
    """The oldest proposal waiting in these districts (None: all) that no one is translating,
    now taken by this translator."""
    where, params = f"{_WAITING} AND translated_by IS NULL", list[object]()
    if districts is not None:
        if not districts:
            return None
        where += f" AND district IN ({', '.join('?' * len(districts))})"
        params += sorted(districts)
    row = await db.fetchone(f"SELECT {_COLUMNS} FROM proposals WHERE {where} ORDER BY id"
                            " LIMIT 1", params)
    if row is None:
        return None
    await db.execute("UPDATE proposals SET translated_by = ? WHERE id = ?", (user_id, row[0]))
    return await in_hand(db, user_id)


async def holders(db: Tx, districts: Collection[str] | None) -> list[tuple[int, str, int]]:
    """Proposals waiting in these districts (None: all) that someone has taken:
    (id, district, who took it)."""
    where, params = f"{_WAITING} AND translated_by IS NOT NULL", list[object]()
    if districts is not None:
        if not districts:
            return []
        where += f" AND district IN ({', '.join('?' * len(districts))})"
        params += sorted(districts)
    rows = await db.fetchall(f"SELECT id, district, translated_by FROM proposals WHERE {where}"
                             " ORDER BY id", params)
    return [(int(r[0]), str(r[1]), int(r[2])) for r in rows]


async def release(db: Tx, proposal_id: int) -> None:
    """A taken proposal back to every translator of its area; what is translated stays."""
    await db.execute("UPDATE proposals SET translated_by = NULL WHERE id = ?"
                     " AND translated_at IS NULL", (proposal_id,))


async def waiting(db: Tx, districts: Collection[str] | None) -> int:
    return (await needing(db, districts))[1]


async def needing(db: Tx, districts: Collection[str] | None) -> tuple[int, int]:
    """In these districts (None: all): how many proposals ever needed a translator (it only
    grows), and how many wait for one now."""
    where, params = within(districts)
    row = await db.fetchone(f"SELECT count(*), sum(CASE WHEN {_WAITING} THEN 1 ELSE 0 END)"
                            f" FROM proposals WHERE needs_translation = 1{where}", params)
    return (int(row[0]), int(row[1] or 0)) if row else (0, 0)


async def save(db: Tx, proposal_id: int, field: str, text: str) -> None:
    assert field in FIELDS
    await db.execute(f"UPDATE proposals SET {field}_vi = ? WHERE id = ?", (text, proposal_id))


async def finish(db: Tx, proposal_id: int) -> None:
    """All translated: the proposal goes on to moderation."""
    await db.execute("UPDATE proposals SET translated_at = ?, updated_at = ? WHERE id = ?",
                     (utc_now(), utc_now(), proposal_id))
