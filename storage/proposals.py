"""Proposals: what children send to the forum."""

from __future__ import annotations

from dataclasses import dataclass

from storage.db import Tx, utc_now


@dataclass(frozen=True)
class NewProposal:
    chat_id: int
    forum_year: int
    district: str
    topic: str
    age_band: str | None
    gender: str | None
    seen: str
    proposal: str
    actors: str
    message: str
    lang: str
    needs_translation: bool
    source_update_id: int
    group_size: int | None = None  # set for a facilitator's group proposal
    group_age_range: str | None = None
    school: str | None = None
    commune: str | None = None


@dataclass(frozen=True)
class ProposalSummary:
    ref: str
    topic: str
    status: str
    created_at: str


async def _next_ref(db: Tx, district: str) -> str:
    last = await db.fetchval(
        "INSERT INTO ref_counters (district, last) VALUES (?, 1)"
        " ON CONFLICT (district) DO UPDATE SET last = ref_counters.last + 1 RETURNING last",
        (district,),
    )
    return f"{district}-{int(last):04d}"


async def insert(db: Tx, new: NewProposal) -> str:
    """Store a proposal as pending and return its reference code (district + number).

    The update it came from is kept with it: the same update applied again returns the
    proposal it made. The same chat's only: Telegram numbers updates afresh (at random) after
    a week with none, and a new bot's anew, so an id another chat's proposal (or an anonymous
    one) came from long ago is not this update: it is stored as no source, never answered with
    that proposal's ref."""
    found = await db.fetchone("SELECT ref, chat_id FROM proposals WHERE source_update_id = ?",
                              (new.source_update_id,))
    if found is not None and found[1] == new.chat_id:
        return str(found[0])
    source = new.source_update_id if found is None else None
    ref = await _next_ref(db, new.district)
    now = utc_now()
    is_group = new.group_size is not None
    await db.execute(
        "INSERT INTO proposals (ref, chat_id, forum_year, district, topic, age_band, gender, seen,"
        " proposal, actors, message, lang, needs_translation, source_update_id, created_at,"
        " updated_at, is_group, group_size, group_age_range, school, commune,"
        " facilitator_chat_id) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?,"
        " ?, ?, ?)",
        (ref, new.chat_id, new.forum_year, new.district, new.topic, new.age_band, new.gender,
         new.seen, new.proposal, new.actors, new.message, new.lang, int(new.needs_translation),
         source, now, now, int(is_group), new.group_size, new.group_age_range,
         new.school or None, new.commune or None, new.chat_id if is_group else None),
    )
    return ref


async def of_child(db: Tx, chat_id: int, limit: int = 20) -> list[ProposalSummary]:
    """A child's latest proposals, newest first."""
    rows = await db.fetchall(
        "SELECT ref, topic, status, created_at FROM proposals WHERE chat_id = ?"
        " ORDER BY id DESC LIMIT ?",
        (chat_id, limit),
    )
    return [ProposalSummary(*row) for row in rows]


def history_key(text: str) -> str:
    """An earlier forum's recommendation as two typings of it compare: case, runs of spaces and
    the punctuation at its end aside ("Làm cầu qua suối." is "làm cầu  qua suối")."""
    return " ".join(text.split()).lower().rstrip(" .,;:!?…")


async def insert_history(db: Tx, forum_year: int, district: str, topic: str, text: str) -> str:
    """A recommendation of an earlier forum that never went through the bot (from a
    spreadsheet, for the follow-up report): approved, with no sender, its text with single
    spaces. Returns its ref."""
    text = "\n".join(" ".join(line.split()) for line in text.strip().splitlines())
    last = await db.fetchval(
        "INSERT INTO ref_counters (district, last) VALUES (?, 1)"
        " ON CONFLICT (district) DO UPDATE SET last = ref_counters.last + 1 RETURNING last",
        (f"{district}/{forum_year}",),
    )
    ref = f"{district}-{forum_year}-{int(last):03d}"
    now = utc_now()
    await db.execute(
        "INSERT INTO proposals (ref, forum_year, district, topic, proposal, lang, status,"
        " origin, created_at, updated_at) VALUES (?, ?, ?, ?, ?, 'vi', 'approved', 'history',"
        " ?, ?)", (ref, forum_year, district, topic, text, now, now))
    return ref


async def history_ref(db: Tx, forum_year: int, district: str, topic: str,
                      text: str) -> str | None:
    """The ref of an imported recommendation with this year, area, topic and text (as
    `history_key` compares texts)."""
    wanted = history_key(text)
    found = await db.fetchall(
        "SELECT ref, proposal FROM proposals WHERE origin = 'history' AND forum_year = ?"
        " AND district = ? AND topic = ? ORDER BY id", (forum_year, district, topic))
    return next((str(ref) for ref, proposal in found if history_key(proposal) == wanted), None)
