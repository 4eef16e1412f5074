"""Recommendations: proposals that ask for the same thing, gathered (see bot.compiling)."""

from __future__ import annotations

from collections.abc import Collection, Sequence
from dataclasses import dataclass

from storage.db import Row, Tx, in_lists, utc_now
from storage.export_rows import RowFilter, condition

# Only what the forum compiles: approved, not held by a safeguarding case.
_COMPILED = "p.status = 'approved' AND p.held_by_case IS NULL AND p.origin = 'bot'"


@dataclass(frozen=True)
class Member:
    """A proposal as compiling sees it."""

    id: int
    ref: str
    district: str
    topic: str
    text: str  # what it proposes (the words grouping compares)
    seen: str
    age_band: str | None
    gender: str | None
    group_size: int | None
    group_ages: str | None
    commune: str | None
    recommendation_id: int | None
    # Only to count who asked (bot.exports.common.Asked): each child once, however many of
    # their proposals a recommendation holds; never shown.
    chat_id: int | None = None
    is_group: bool = False  # a facilitator's group proposal (its size may be unknown: None)
    forum_year: int = 0  # a recommendation holds one forum year's proposals


@dataclass(frozen=True)
class Recommendation:
    id: int
    forum_year: int
    district: str
    topic: str
    title: str
    members: tuple[Member, ...] = ()


# Grouped and named by the words officers read: a translator's Vietnamese where there is one.
_MEMBER = ("p.id, p.ref, p.district, p.topic, COALESCE(p.proposal_vi, p.proposal),"
           " COALESCE(p.seen_vi, p.seen), p.age_band, p.gender,"
           " p.group_size, p.group_age_range, p.commune, p.recommendation_id, p.chat_id,"
           " p.is_group, p.forum_year")


def _member(row: Row) -> Member:
    values = list(row)
    values[-2] = bool(values[-2])  # is_group: 0 or 1 in the database
    return Member(*values)


async def members(db: Tx, year: int | None, districts: Collection[str] | None,
                  topic: str | None = None) -> list[Member]:
    """The compiled proposals of a forum year (None: every year) in these districts (None:
    all), oldest first."""
    where, params = _COMPILED, list[object]()
    if year is not None:
        where += " AND p.forum_year = ?"
        params.append(year)
    if districts is not None:
        if not districts:
            return []
        where += f" AND p.district IN ({', '.join('?' * len(districts))})"
        params += sorted(districts)
    if topic is not None:
        where += " AND p.topic = ?"
        params.append(topic)
    return await _members(db, where, params)


async def _members(db: Tx, where: str, params: Sequence[object]) -> list[Member]:
    rows = await db.fetchall(f"SELECT {_MEMBER} FROM proposals p WHERE {where} ORDER BY p.id",
                             params)
    return [_member(row) for row in rows]


async def member(db: Tx, ref: str) -> Member | None:
    """One compiled proposal by its ref (None: no such ref, or not compiled: not approved, or
    held by a safeguarding case)."""
    row = await db.fetchone(f"SELECT {_MEMBER} FROM proposals p WHERE {_COMPILED}"
                            " AND p.ref = ?", (ref,))
    return _member(row) if row else None


async def create(db: Tx, year: int, district: str, topic: str, title: str,
                 by: int | None) -> int:
    now = utc_now()
    return int(await db.fetchval(
        "INSERT INTO recommendations (forum_year, district, topic, title, named_by, created_at,"
        " updated_at) VALUES (?, ?, ?, ?, ?, ?, ?) RETURNING id",
        (year, district, topic, title, by, now, now)))


async def assign(db: Tx, proposal_ids: Sequence[int], recommendation_id: int | None) -> None:
    for marks, chunk in in_lists(proposal_ids):
        await db.execute(f"UPDATE proposals SET recommendation_id = ? WHERE id IN ({marks})",
                         (recommendation_id, *chunk))


async def get(db: Tx, recommendation_id: int) -> Recommendation | None:
    row = await db.fetchone("SELECT id, forum_year, district, topic, title FROM recommendations"
                            " WHERE id = ?", (recommendation_id,))
    if row is None:
        return None
    found = await db.fetchall(f"SELECT {_MEMBER} FROM proposals p WHERE {_COMPILED}"
                              " AND p.recommendation_id = ? ORDER BY p.id", (row[0],))
    return Recommendation(row[0], row[1], row[2], row[3], row[4],
                          tuple(_member(m) for m in found))


async def reword(db: Tx, recommendation_id: int, title: str) -> None:
    """A new first name, still not an officer's."""
    await db.execute("UPDATE recommendations SET title = ?, updated_at = ? WHERE id = ?",
                     (title, utc_now(), recommendation_id))


async def rename(db: Tx, recommendation_id: int, title: str, by: int) -> None:
    await db.execute("UPDATE recommendations SET title = ?, named_by = ?, updated_at = ?"
                     " WHERE id = ?", (title, by, utc_now(), recommendation_id))


async def of_chat(db: Tx, chat_id: int) -> list[Member]:
    """A person's compiled proposals, in a recommendation or on their own (one may have been
    moved out of the recommendation worded as it)."""
    return await _members(db, f"{_COMPILED} AND p.chat_id = ?", (chat_id,))


async def worded_as(db: Tx, district: str, topic: str, titles: Collection[str]) -> list[int]:
    """The recommendations of an area titled with one of these wordings, oldest first."""
    if not titles:
        return []
    marks = ", ".join("?" * len(titles))
    rows = await db.fetchall(f"SELECT id FROM recommendations WHERE district = ? AND topic = ?"
                             f" AND title IN ({marks}) ORDER BY id",
                             (district, topic, *sorted(titles)))
    return [int(row[0]) for row in rows]


async def drop_empty(db: Tx) -> int:
    """Forget recommendations no compiled proposal belongs to any more."""
    return await db.execute(
        "DELETE FROM recommendations WHERE NOT EXISTS (SELECT 1 FROM proposals p"
        f" WHERE p.recommendation_id = recommendations.id AND {_COMPILED})")


async def of_area(db: Tx, year: int | None, districts: Collection[str] | None,
                  topic: str | None = None) -> list[Recommendation]:
    """The recommendations of a forum year (None: every year) with their members, in the
    order they were made."""
    return await _gathered(db, await members(db, year, districts, topic))


async def selected(db: Tx, selection: RowFilter) -> list[Recommendation]:
    """The recommendations of an export's selection (its years, areas, statuses, period),
    each with only its compiled members that the selection holds."""
    where, params = condition(selection)
    return await _gathered(db, await _members(db, f"{_COMPILED} AND {where}", params))


async def _gathered(db: Tx, found: list[Member]) -> list[Recommendation]:
    """The recommendations these members belong to, each with them, in the order made."""
    by_id: dict[int, list[Member]] = {}
    for member in found:
        if member.recommendation_id is not None:
            by_id.setdefault(member.recommendation_id, []).append(member)
    if not by_id:
        return []
    ids = sorted(by_id)
    rows = await db.fetchall(
        "SELECT id, forum_year, district, topic, title FROM recommendations"
        f" WHERE id IN ({', '.join('?' * len(ids))}) ORDER BY id", ids)
    return [Recommendation(row[0], row[1], row[2], row[3], row[4], tuple(by_id[row[0]]))
            for row in rows]


async def titles(db: Tx, districts: Collection[str]) -> dict[int, str]:
    """The recommendations' titles in these districts, by id (for the exports)."""
    if not districts:
        return {}
    rows = await db.fetchall(
        "SELECT id, title FROM recommendations"
        f" WHERE district IN ({', '.join('?' * len(districts))})", sorted(districts))
    return {int(row[0]): str(row[1]) for row in rows}
