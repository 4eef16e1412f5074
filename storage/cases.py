"""Safeguarding cases (migration 006): opened, worked through their states, purged."""

from __future__ import annotations

from collections.abc import Collection, Sequence
from dataclasses import dataclass, replace

from storage.db import Row, Tx, utc_now

_COLUMNS = ("id, chat_id, district, source, tier, kind, text, weighed, proposal_id,"
            " wants_contact, state, version, acknowledged_by, acknowledged_at, referred_to,"
            " referral_note, referred_by, referred_at, closed_by, closed_at, outcome,"
            " close_note, escalated_at, created_at")


@dataclass(frozen=True)
class NewCase:
    chat_id: int | None
    district: str | None
    source: str  # detector | sos | review | moderator | edited | translation | reply
    tier: int
    kind: str = ""
    text: str = ""
    weighed: str = ""
    proposal_id: int | None = None
    wants_contact: bool | None = None


@dataclass(frozen=True)
class CaseRow:
    id: int
    chat_id: int | None
    district: str | None
    source: str
    tier: int
    kind: str
    text: str
    weighed: str
    proposal_id: int | None
    wants_contact: bool | None
    state: str
    version: int
    acknowledged_by: int | None
    acknowledged_at: str | None
    referred_to: str | None
    referral_note: str | None
    referred_by: int | None
    referred_at: str | None
    closed_by: int | None
    closed_at: str | None
    outcome: str | None
    close_note: str | None
    escalated_at: str | None
    created_at: str
    # Read with the case (`get`), from the proposal it holds: the translator's Vietnamese of a
    # child who wrote in another language, and whether that is still awaited.
    translation: str = ""
    awaits_translation: bool = False


def _row(row: Row) -> CaseRow:
    values = list(row)
    values[9] = None if values[9] is None else bool(values[9])
    return CaseRow(*values)


async def add(db: Tx, case: NewCase) -> int:
    return int(await db.fetchval(
        "INSERT INTO cases (chat_id, district, source, tier, kind, text, weighed, proposal_id,"
        " wants_contact, created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?) RETURNING id",
        (case.chat_id, case.district, case.source, case.tier, case.kind, case.text,
         case.weighed, case.proposal_id,
         None if case.wants_contact is None else int(case.wants_contact), utc_now())))


async def get(db: Tx, case_id: int) -> CaseRow | None:
    row = await db.fetchone(f"SELECT {_COLUMNS} FROM cases WHERE id = ?", (case_id,))
    if row is None:
        return None
    case = _row(row)
    if case.proposal_id is None or not case.text:  # no proposal, or its words purged/erased
        return case
    found = await db.fetchone("SELECT seen_vi, proposal_vi, message_vi, translated_at,"
                              " needs_translation FROM proposals WHERE id = ?",
                              (case.proposal_id,))
    if found is None or not found[4]:
        return case
    if found[3] is None:
        return replace(case, awaits_translation=True)
    return replace(case, translation="\n\n".join(str(v) for v in found[:3] if v))


async def open_about(db: Tx, proposal_id: int) -> list[CaseRow]:
    """The cases not closed that hold this proposal."""
    rows = await db.fetchall(f"SELECT {_COLUMNS} FROM cases WHERE proposal_id = ?"
                             " AND state <> 'closed' ORDER BY id", (proposal_id,))
    return [_row(row) for row in rows]


async def open_cases(db: Tx, districts: Collection[str] | None,
                     limit: int = 20) -> list[CaseRow]:
    """Cases not closed, in `districts` (None: all) and of no known district: those nobody
    took first, the most urgent (tier 1) first among them, then the oldest."""
    where, params = "state != 'closed'", list[object]()
    if districts is not None:
        where += f" AND (district IS NULL OR district IN ({', '.join('?' * len(districts))}))"
        params += sorted(districts)
    rows = await db.fetchall(f"SELECT {_COLUMNS} FROM cases WHERE {where}"
                             " ORDER BY CASE WHEN state = 'new' THEN 0 ELSE 1 END, tier,"
                             " created_at, id LIMIT ?", (*params, limit))
    return [_row(row) for row in rows]


async def count_open(db: Tx, districts: Collection[str] | None) -> int:
    where, params = "state != 'closed'", list[object]()
    if districts is not None:
        where += f" AND (district IS NULL OR district IN ({', '.join('?' * len(districts))}))"
        params += sorted(districts)
    return int(await db.fetchval(f"SELECT count(*) FROM cases WHERE {where}", params))


async def move(db: Tx, case_id: int, version: int, state: str, by: int, **values: object) -> bool:
    """Take a case to `state` if it is still at `version`; False when it moved meanwhile.
    `values`: the columns of that step (referred_to, referral_note, outcome, close_note)."""
    stamp = {"acknowledged": ("acknowledged_by", "acknowledged_at"),
             "referred": ("referred_by", "referred_at"),
             "closed": ("closed_by", "closed_at")}[state]
    columns = {stamp[0]: by, stamp[1]: utc_now(), **values}
    sets = ", ".join(f"{name} = ?" for name in columns)
    changed = await db.execute(
        f"UPDATE cases SET state = ?, {sets}, version = version + 1 WHERE id = ?"
        " AND version = ?", (state, *columns.values(), case_id, version))
    return changed == 1


async def hold(db: Tx, case_ids: Sequence[int], ref: str) -> None:
    """A proposal made from a draft the cases are about: it waits for them (see `settle`)."""
    proposal = await db.fetchval("SELECT id FROM proposals WHERE ref = ?", (ref,))
    for case_id in case_ids:
        await db.execute("UPDATE cases SET proposal_id = ? WHERE id = ? AND proposal_id IS NULL",
                         (proposal, case_id))
    await settle(db, proposal)


async def settle(db: Tx, proposal_id: int) -> None:
    """Where a proposal stands with the cases about it: held (`held_by_case`) by the first one
    still open, free when all are closed, and kept out of the forum (status safeguarding) once
    one was closed as handled. One a moderator took out of moderation (🛡, status safeguarding)
    goes back to moderation when every case about it was closed as cleared: a moderator decides
    it again, as if new (it may have been approved before)."""
    await db.execute(
        "UPDATE proposals SET held_by_case = (SELECT min(id) FROM cases WHERE proposal_id = ?"
        " AND state <> 'closed') WHERE id = ?", (proposal_id, proposal_id))
    await db.execute(
        "UPDATE proposals SET status = 'safeguarding', version = version + 1 WHERE id = ?"
        " AND status = 'pending' AND EXISTS (SELECT 1 FROM cases WHERE proposal_id = ?"
        " AND state = 'closed' AND outcome = 'handled')", (proposal_id, proposal_id))
    await db.execute(
        "UPDATE proposals SET status = 'pending', moderated_by = NULL, moderated_at = NULL,"
        " version = version + 1 WHERE id = ? AND status = 'safeguarding'"
        " AND held_by_case IS NULL AND NOT EXISTS (SELECT 1 FROM cases WHERE proposal_id = ?"
        " AND (state <> 'closed' OR outcome = 'handled'))", (proposal_id, proposal_id))


async def set_contact(db: Tx, case_id: int, chat_id: int, wants: bool) -> bool:
    """The child's answer to "shall an adult write to you here?" (their own case only)."""
    changed = await db.execute("UPDATE cases SET wants_contact = ? WHERE id = ? AND chat_id = ?",
                               (int(wants), case_id, chat_id))
    return changed == 1


async def add_message(db: Tx, case_id: int, by: int, text: str, from_child: bool = False
                      ) -> int:
    return int(await db.fetchval(
        "INSERT INTO case_messages (case_id, by_user_id, text, at, from_child)"
        " VALUES (?, ?, ?, ?, ?) RETURNING id", (case_id, by, text, utc_now(), int(from_child))))


async def awaiting_child(db: Tx, chat_id: int, since: str) -> int | None:
    """The open case of `chat_id` whose last message is from staff, written since `since`
    (ISO time): the child's next words answer it, pressed ↩️ or not."""
    found = await db.fetchval(
        "SELECT c.id FROM cases c JOIN case_messages m ON m.case_id = c.id"
        " WHERE c.chat_id = ? AND c.state <> 'closed' AND m.from_child = 0 AND m.at >= ?"
        " AND m.id = (SELECT max(id) FROM case_messages WHERE case_id = c.id)"
        " ORDER BY m.id DESC LIMIT 1", (chat_id, since))
    return int(found) if found is not None else None


async def conversation(db: Tx, case_id: int) -> list[tuple[bool, str, str]]:
    """What staff and the child wrote each other from a case: (from the child, text, at)."""
    rows = await db.fetchall("SELECT from_child, text, at FROM case_messages WHERE case_id = ?"
                             " ORDER BY id", (case_id,))
    return [(bool(r[0]), str(r[1]), str(r[2])) for r in rows]


async def unacknowledged_before(db: Tx, before: str) -> list[CaseRow]:
    """New cases older than `before` that nobody took and that were not escalated yet."""
    rows = await db.fetchall(f"SELECT {_COLUMNS} FROM cases WHERE state = 'new'"
                             " AND escalated_at IS NULL AND created_at < ? ORDER BY id",
                             (before,))
    return [_row(row) for row in rows]


async def mark_escalated(db: Tx, case_id: int) -> None:
    await db.execute("UPDATE cases SET escalated_at = ? WHERE id = ?", (utc_now(), case_id))


async def purge(db: Tx, closed_before: str) -> int:
    """The children's words and the staff's notes of cases closed before `closed_before` go,
    with their chat (the record stays), and so do those of a proposal such cases kept out of
    the forum for good (closed as handled: status safeguarding, never exported), with its link
    to the chat."""
    await db.execute("UPDATE case_messages SET text = '' WHERE case_id IN (SELECT id FROM cases"
                     " WHERE state = 'closed' AND closed_at < ?)", (closed_before,))
    await db.execute(
        "UPDATE proposals SET seen = '', proposal = '', message = '', seen_vi = NULL,"
        " proposal_vi = NULL, message_vi = NULL, chat_id = NULL, facilitator_chat_id = NULL"
        " WHERE status = 'safeguarding' AND id IN (SELECT proposal_id FROM cases"
        " WHERE state = 'closed' AND closed_at < ?) AND NOT EXISTS (SELECT 1 FROM cases c"
        " WHERE c.proposal_id = proposals.id AND (c.state <> 'closed' OR c.closed_at >= ?))"
        " AND (seen <> '' OR proposal <> '' OR message <> '' OR chat_id IS NOT NULL)",
        (closed_before, closed_before))
    return await db.execute(
        f"UPDATE cases SET {_FORGOTTEN} WHERE state = 'closed' AND closed_at < ?"
        " AND (text != '' OR weighed != '' OR chat_id IS NOT NULL OR referral_note IS NOT NULL"
        " OR close_note IS NOT NULL)", (closed_before,))


# What a closed case forgets: the child's words, the words that weighed, its chat, and the staff's
# notes (they name the child and the family: "whom you contacted"); the record stays (who did
# what, when, referred where, the outcome).
_FORGOTTEN = "text = '', weighed = '', chat_id = NULL, referral_note = NULL, close_note = NULL"


async def others_open(db: Tx, case: CaseRow) -> list[int]:
    """The ids of the other open cases of the same child (a child who pressed 🆘 three times
    and wrote what happened has four cases: each officer reading one should know)."""
    if case.chat_id is None:
        return []
    return [int(row[0]) for row in await db.fetchall(
        "SELECT id FROM cases WHERE chat_id = ? AND id <> ? AND state <> 'closed' ORDER BY id",
        (case.chat_id, case.id))]


async def place(db: Tx, chat_id: int, district: str) -> None:
    """The child's open cases of no known area become `district`'s (they said it after)."""
    await db.execute("UPDATE cases SET district = ? WHERE chat_id = ? AND district IS NULL"
                     " AND state <> 'closed'", (district, chat_id))


async def any_open(db: Tx, chat_id: int) -> bool:
    return bool(await db.fetchall("SELECT 1 FROM cases WHERE chat_id = ? AND state <> 'closed'"
                                  " LIMIT 1", (chat_id,)))


async def erase_chat(db: Tx, chat_id: int) -> list[CaseRow]:
    """A child's erasure: their chat goes from their cases, and their words and the staff's
    notes from the closed ones; the record stays (who did what, when), anonymous. The words of
    a case still open stay until a person has worked it (they go `purge_days` after it closes,
    as any case's): what a child disclosed is read by someone, even if they erased everything
    right after. Returns the open cases (as they were), for their staff to be told."""
    still_open = [_row(row) for row in await db.fetchall(
        f"SELECT {_COLUMNS} FROM cases WHERE chat_id = ? AND state <> 'closed' ORDER BY id",
        (chat_id,))]
    await db.execute("UPDATE case_messages SET text = '' WHERE case_id IN (SELECT id FROM cases"
                     " WHERE chat_id = ? AND state = 'closed')", (chat_id,))
    await db.execute(f"UPDATE cases SET {_FORGOTTEN} WHERE chat_id = ? AND state = 'closed'",
                     (chat_id,))
    await db.execute("UPDATE cases SET chat_id = NULL, proposal_id = NULL WHERE chat_id = ?",
                     (chat_id,))
    return still_open
