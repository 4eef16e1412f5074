"""Moderation of proposals: the queue, versioned status and text changes, flags, counts.

Every change is `UPDATE ... WHERE id = ? AND version = ?`: of two moderators acting on the same
version exactly one changes the row; the other gets None and reads who acted from the audit log.
"""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass

from storage.db import Row, Tx, in_lists, utc_now, within

# Columns a moderator may rewrite: free text a child or facilitator typed, and a translator's
# Vietnamese of it (a wrong translation is put right there, the child's own words kept).
EDITABLE_FIELDS = ("seen", "seen_vi", "proposal", "proposal_vi", "message", "message_vi",
                   "school", "commune")
TRANSLATIONS = ("seen_vi", "proposal_vi", "message_vi")

_ITEM_COLUMNS = (
    "p.id, p.ref, p.version, p.status, p.district, p.topic, p.age_band, p.gender, p.lang,"
    " p.needs_translation, p.seen, p.proposal, p.actors, p.message, p.is_group, p.group_size,"
    " p.group_age_range, p.school, p.commune, p.created_at,"
    " COALESCE(p.facilitator_chat_id, p.chat_id), COALESCE(c.lang, 'vi'), p.forum_year,"
    " p.origin, p.held_by_case, (SELECT h.id || '|' || h.kind || '|' || h.weighed FROM cases h"
    " WHERE h.id = COALESCE(p.held_by_case, (SELECT max(l.id) FROM cases l"
    " WHERE l.proposal_id = p.id))), p.seen_vi, p.proposal_vi, p.message_vi,"
    " p.translated_at IS NOT NULL"
)


@dataclass(frozen=True)
class ProposalRow:
    id: int
    ref: str
    version: int
    status: str
    district: str
    topic: str
    age_band: str | None
    gender: str | None
    lang: str
    needs_translation: bool
    seen: str
    proposal: str
    actors: str
    message: str
    is_group: bool
    group_size: int | None
    group_age_range: str | None
    school: str | None
    commune: str | None
    created_at: str
    # Whom to tell about a decision (the child, or a group's facilitator), in which language.
    notify_chat_id: int | None
    notify_lang: str
    forum_year: int
    origin: str  # 'bot', or 'history' (an earlier forum's recommendation, imported)
    # A safeguarding case holding it (never approved or exported until cleared), and why:
    # "<kind>|<the words that weighed>".
    held_by_case: int | None
    # "<case id>|<kind>|<words>" of the case holding it, or of the last one about it (cleared)
    hold_reason: str | None
    # A translator's Vietnamese of the child's words (a proposal in another language).
    seen_vi: str | None = None
    proposal_vi: str | None = None
    message_vi: str | None = None
    translated: bool = False  # a translator has finished it (sent back to them: not any more)


@dataclass(frozen=True)
class CountRow:
    district: str
    topic: str
    status: str
    age_band: str | None
    gender: str | None
    is_group: bool
    count: int
    forum_year: int = 0


def _row(values: Row) -> ProposalRow:
    row = list(values)
    row[9], row[14] = bool(row[9]), bool(row[14])
    return ProposalRow(*row)


async def get(db: Tx, proposal_id: int) -> ProposalRow | None:
    row = await db.fetchone(
        f"SELECT {_ITEM_COLUMNS} FROM proposals p LEFT JOIN children c ON c.chat_id = p.chat_id"
        " WHERE p.id = ?",
        (proposal_id,),
    )
    return _row(row) if row else None


async def by_refs(db: Tx, refs: Collection[str]) -> dict[str, ProposalRow]:
    """The proposals with these refs (those that exist), a few hundred refs a query."""
    found = {}
    for marks, chunk in in_lists(sorted(refs)):
        for row in await db.fetchall(
                f"SELECT {_ITEM_COLUMNS} FROM proposals p LEFT JOIN children c"
                f" ON c.chat_id = p.chat_id WHERE p.ref IN ({marks})", chunk):
            item = _row(row)
            found[item.ref] = item
    return found


async def by_ref(db: Tx, ref: str) -> ProposalRow | None:
    row = await db.fetchone(
        f"SELECT {_ITEM_COLUMNS} FROM proposals p LEFT JOIN children c ON c.chat_id = p.chat_id"
        " WHERE p.ref = ?",
        (ref,),
    )
    return _row(row) if row else None


# What the moderation queue holds: pending, not held by a safeguarding case (those wait for the
# case, and come back when it is closed as "no concern"), and in a language moderators read or
# translated (storage.translations).
_QUEUED = ("status = 'pending' AND held_by_case IS NULL"
           " AND (needs_translation = 0 OR translated_at IS NOT NULL)")


def _pending_ids(districts: Collection[str] | None,
                 skip: Collection[int]) -> tuple[str, list[int | str]]:
    """A query for the oldest pending id: one indexed LIMIT 1 per district, merged."""
    excluded = f" AND id NOT IN ({', '.join('?' * len(skip))})" if skip else ""
    one = f"SELECT id FROM proposals WHERE {_QUEUED}{{}}{excluded} ORDER BY id LIMIT 1"
    if districts is None:
        return one.format(""), list(skip)
    codes = sorted(districts)
    parts = " UNION ALL ".join(
        f"SELECT * FROM ({one.format(' AND district = ?')}) AS d{number}"
        for number in range(len(codes)))
    params: list[int | str] = []
    for code in codes:
        params += [code, *skip]
    return f"SELECT min(id) FROM ({parts}) AS oldest", params


async def oldest_pending(db: Tx, districts: Collection[str] | None,
                         skip: Collection[int] = ()) -> ProposalRow | None:
    """The oldest pending proposal in `districts` (None: the whole province), minus `skip`."""
    if districts is not None and not districts:
        return None
    query, params = _pending_ids(districts, skip)
    found = await db.fetchval(query, params)
    return await get(db, found) if found is not None else None


async def pending_count(db: Tx, districts: Collection[str] | None) -> int:
    if districts is None:
        query, params = (f"SELECT count(*) FROM proposals WHERE {_QUEUED}", [])
    else:
        marks = ", ".join("?" * len(districts))
        query = f"SELECT count(*) FROM proposals WHERE {_QUEUED} AND district IN ({marks})"
        params = sorted(districts)
    return int(await db.fetchval(query, params) or 0)


async def decide(db: Tx, proposal_id: int, version: int, status: str, by: int,
                 reason: str | None = None, note: str | None = None) -> int | None:
    """Set the status if the row is still at `version`; the new version, or None if it moved."""
    found = await db.fetchval(
        "UPDATE proposals SET status = ?, reject_reason = ?, reject_note = ?, moderated_by = ?,"
        " moderated_at = ?, updated_at = ?, version = version + 1"
        " WHERE id = ? AND version = ? RETURNING version",
        (status, reason, note, by, now := utc_now(), now, proposal_id, version),
    )
    return int(found) if found is not None else None


async def erase_words(db: Tx, proposal_id: int) -> None:
    """Blank a proposal's words (and their translations, and the text before any edit of it):
    rejected for holding personal data, they go nowhere and are kept by no one."""
    await db.execute("UPDATE proposals SET seen = '', proposal = '', message = '',"
                     " seen_vi = NULL, proposal_vi = NULL, message_vi = NULL WHERE id = ?",
                     (proposal_id,))
    await db.execute("UPDATE moderation_edits SET before_text = '', after_text = ''"
                     " WHERE proposal_id = ?", (proposal_id,))


async def to_translator(db: Tx, proposal_id: int, version: int) -> int | None:
    """Send a proposal to the translators (its language is none the bot speaks) if the row is
    still at `version`; the new version or None."""
    found = await db.fetchval(
        "UPDATE proposals SET needs_translation = 1, lang = 'other', translated_at = NULL,"
        " translated_by = NULL, updated_at = ?, version = version + 1"
        " WHERE id = ? AND version = ? RETURNING version", (utc_now(), proposal_id, version))
    return int(found) if found is not None else None


async def rewrite(db: Tx, proposal_id: int, version: int, field: str, text: str) -> int | None:
    """Replace one text field if the row is still at `version`; the new version or None."""
    if field not in EDITABLE_FIELDS:
        raise ValueError(f"not an editable field: {field!r}")
    found = await db.fetchval(
        f"UPDATE proposals SET {field} = ?, updated_at = ?, version = version + 1"
        " WHERE id = ? AND version = ? RETURNING version",
        (text, utc_now(), proposal_id, version),
    )
    return int(found) if found is not None else None


async def languages(db: Tx, districts: Collection[str] | None, year: int | None = None
                    ) -> list[tuple[str, int, int, int]]:
    """(language, proposals, translated, waiting for a translator), by the language tagged;
    of one forum year's proposals, or of every year's (None)."""
    where, params = within(districts)
    if year is not None:
        where, params = f"{where} AND forum_year = ?", [*params, year]
    rows = await db.fetchall(
        "SELECT lang, count(*), sum(CASE WHEN translated_at IS NULL THEN 0 ELSE 1 END),"
        " sum(CASE WHEN needs_translation = 1 AND translated_at IS NULL AND status = 'pending'"
        f" THEN 1 ELSE 0 END) FROM proposals WHERE 1 = 1{where} GROUP BY lang ORDER BY lang",
        params)
    return [(str(r[0]), int(r[1]), int(r[2] or 0), int(r[3] or 0)) for r in rows]


async def sent_to_translators(db: Tx, districts: Collection[str] | None) -> int:
    """How many times moderators sent a proposal of these districts back to the translators
    (bot.staff.moderation.needs_translator's audit rows, by their partial index)."""
    where, params = within(districts)
    return int(await db.fetchval(
        f"SELECT count(*) FROM audit_log WHERE action = 'to_translator'{where}", params))


async def queued(db: Tx, districts: Collection[str] | None) -> int:
    """How many proposals /queue can show in these districts (None: all)."""
    where, params = within(districts)
    return int(await db.fetchval(f"SELECT count(*) FROM proposals WHERE {_QUEUED}{where}",
                                 params))


async def counts(db: Tx, districts: Collection[str] | None) -> list[CountRow]:
    """Children's proposals counted by every dimension /stats shows, and by forum year: all
    proposals from the covering index, less the earlier forums' recommendations imported with
    their answers (origin 'history', a few, by their own index; the follow-up report counts
    those)."""
    where, params = within(districts)
    group = "district, topic, status, forum_year, age_band, gender, is_group"  # the index's
    rows = await db.fetchall(f"SELECT {group}, count(*) FROM proposals WHERE 1 = 1{where}"
                             f" GROUP BY {group}", params)
    history = {tuple(r[:7]): int(r[7]) for r in await db.fetchall(
        f"SELECT {group}, count(*) FROM proposals WHERE origin = 'history'{where}"
        f" GROUP BY {group}", params)}
    found = [CountRow(r[0], r[1], r[2], r[4], r[5], bool(r[6]),
                      int(r[7]) - history.get(tuple(r[:7]), 0), int(r[3])) for r in rows]
    return [row for row in found if row.count > 0]
