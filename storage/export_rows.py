"""Rows for exports: proposals streamed from a read snapshot, never all in memory.

Safeguarding flags live in their own table and are never read here. The pseudonymous
author code is computed above storage: rows carry the chat id only so that it can be hashed.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from functools import lru_cache
from typing import Any

from storage.db import Tx

EXPORTABLE_STATUSES = ("pending", "approved", "rejected")


@dataclass(frozen=True)
class RowFilter:
    """Which proposals to export. `until` is exclusive; both bounds are aware datetimes.

    Rows give their dates as local "YYYY-MM-DD HH:MM" at `utc_offset_minutes`.
    """

    districts: tuple[str, ...] | None = None
    statuses: tuple[str, ...] = ("approved",)
    since: datetime | None = None
    until: datetime | None = None
    forum_year: int | None = None
    utc_offset_minutes: int = 0

    def __post_init__(self) -> None:
        unknown = set(self.statuses) - set(EXPORTABLE_STATUSES)
        if unknown or not self.statuses:
            raise ValueError(f"statuses must be among {EXPORTABLE_STATUSES}, got {self.statuses}")


@dataclass(slots=True)
class ExportRow:
    """One proposal as exported (not frozen: a frozen dataclass costs 10x more to build)."""

    id: int
    ref: str
    chat_id: int | None
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
    status: str
    created: str  # local "YYYY-MM-DD HH:MM"
    updated: str
    group_size: int | None  # these four are set for a facilitator's group proposal
    group_ages: str | None
    school: str | None
    commune: str | None
    answer_state: str | None  # the latest published answer: its state and responsible agency
    answer_agency: str | None
    recommendation_id: int | None = None  # the recommendation it was compiled into
    seen_vi: str | None = None  # a translator's Vietnamese (a proposal in another language)
    proposal_vi: str | None = None
    message_vi: str | None = None
    is_group: bool = False  # a facilitator's group proposal (its size may be unknown: None)


@dataclass(frozen=True)
class Count:
    district: str
    topic: str
    status: str
    count: int


def _stamp(moment: datetime) -> str:
    """The stored timestamp format (ISO-8601 UTC, seconds) of an aware datetime."""
    return moment.astimezone(UTC).isoformat(timespec="seconds")


def condition(selection: RowFilter) -> tuple[str, list[Any]]:
    """The SQL condition (on `proposals`' own columns) and its parameters for a selection."""
    # A proposal held by a safeguarding case is never exported until the case clears it; an
    # earlier forum's recommendation imported with its answer is the follow-up's, not children's
    # proposals of a forum (bot/exports/followup.py reads those).
    clauses = [f"status IN ({', '.join('?' * len(selection.statuses))})",
               "held_by_case IS NULL", "origin != 'history'"]
    params: list[Any] = list(selection.statuses)
    if selection.districts is not None:
        clauses.append(f"district IN ({', '.join('?' * len(selection.districts))})")
        params.extend(selection.districts)
    if selection.since is not None:
        clauses.append("created_at >= ?")
        params.append(_stamp(selection.since))
    if selection.until is not None:
        clauses.append("created_at < ?")
        params.append(_stamp(selection.until))
    if selection.forum_year is not None:
        clauses.append("forum_year = ?")
        params.append(selection.forum_year)
    return " AND ".join(clauses), params


def _rank(column: str, order: Sequence[str]) -> tuple[str, list[Any]]:
    """An ORDER BY term ranking a column's values in the given order; others come last."""
    if not order:
        return column, []
    whens = " ".join("WHEN ? THEN ?" for _ in order)
    params: list[Any] = []
    for rank, value in enumerate(order):
        params += [value, rank]
    return f"CASE {column} {whens} ELSE {len(order)} END", params


@lru_cache(maxsize=4096)
def _local(minute: str, offset_minutes: int) -> str:
    """A stored UTC time, cut to the minute ("2023-05-01T03:04"), as local "YYYY-MM-DD HH:MM"."""
    moment = datetime.fromisoformat(minute) + timedelta(minutes=offset_minutes)
    return moment.strftime("%Y-%m-%d %H:%M")


async def counts(db: Tx, selection: RowFilter) -> list[Count]:
    """How many proposals match, by district, topic and status (one cheap aggregate query)."""
    where, params = condition(selection)
    found = await db.fetchall(
        f"SELECT district, topic, status, count(*) FROM proposals WHERE {where}"
        " GROUP BY district, topic, status", params,
    )
    return [Count(*row) for row in found]


async def years_and_areas(db: Tx) -> list[tuple[int, str]]:
    """The (forum year, area code) pairs that hold children's proposals (an earlier forum's
    recommendations imported for the follow-up are not theirs)."""
    found = await db.fetchall("SELECT DISTINCT forum_year, district FROM proposals"
                              " WHERE origin != 'history'")
    return [(int(row[0]), str(row[1])) for row in found]


async def languages(db: Tx, selection: RowFilter) -> list[tuple[str, int, int]]:
    """How many proposals came in each language, and how many of them were translated."""
    where, params = condition(selection)
    found = await db.fetchall(
        "SELECT lang, count(*), sum(CASE WHEN translated_at IS NULL THEN 0 ELSE 1 END)"
        f" FROM proposals WHERE {where} GROUP BY lang ORDER BY lang", params)
    return [(str(row[0]), int(row[1]), int(row[2] or 0)) for row in found]


async def rows(
    db: Tx, selection: RowFilter, topic_order: Sequence[str] = (),
    *, topic_first: bool = False, district_order: Sequence[str] = (),
) -> AsyncIterator[ExportRow]:
    """Stream the matching proposals, ordered by district (in `district_order`, the config's),
    topic (in `topic_order`, the catalog's), id.

    With `topic_first`, topics come before districts: one topic's rows are contiguous.
    """
    where, params = condition(selection)
    topic_rank, topic_params = _rank("topic", topic_order)
    district_rank, district_params = _rank("district", district_order)
    order = (f"{topic_rank}, topic, {district_rank}, district, p.id" if topic_first
             else f"{district_rank}, district, {topic_rank}, topic, p.id")
    rank_params = ([*topic_params, *district_params] if topic_first
                   else [*district_params, *topic_params])
    shift = selection.utc_offset_minutes
    async for row in db.stream(
        "SELECT p.id, ref, chat_id, forum_year, district, topic, age_band, gender, seen,"
        " proposal, actors, message, lang, status, created_at, updated_at, group_size,"
        " group_age_range, school, commune, a.state, a.agency, p.recommendation_id,"
        " p.seen_vi, p.proposal_vi, p.message_vi, p.is_group FROM proposals p"
        " LEFT JOIN answers a ON a.proposal_id = p.id AND a.version = (SELECT max(version)"
        " FROM answers b WHERE b.proposal_id = p.id AND b.published_at IS NOT NULL)"
        f" WHERE {where} ORDER BY {order}",
        [*params, *rank_params],
    ):
        values = list(row)
        values[14], values[15] = _local(row[14][:16], shift), _local(row[15][:16], shift)
        values[26] = bool(values[26])
        yield ExportRow(*values)
