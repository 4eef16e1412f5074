"""Compiling a forum's proposals into recommendations, and the officer's review of them.

`auto` groups, per district and topic, the compiled proposals no recommendation holds yet
(bot.compiling.grouping): each group of two or more becomes a recommendation, worded at first
as its most typical proposal. The officer then reviews: merges two, moves a proposal to another
one or out on its own, splits some out into a new one, and names each in the forum's words.
Rights: the `compile` duty (officers, admins) in the recommendation's district; 0 is the
command line. Every change is in the audit log. A refusal says why by a code ("not_staff",
"forbidden", "not_found", "wrong_status"; "invalid" with "title_length" or "same_area": what is
moved or merged must be of one district, topic and year); each front end words it.
"""

from __future__ import annotations

import asyncio
from collections.abc import Collection, Sequence
from dataclasses import dataclass

from bot.compiling.grouping import central, group
from bot.staff.moderation import Moderation, Refused
from bot.staff.roles import Scope, scope_for
from storage import audit as audit_log
from storage import moderation as proposals_store
from storage import recommendations as store
from storage.db import Database, Tx
from storage.recommendations import Member, Recommendation

COMMAND_LINE = 0
PLAN_ATTEMPTS = 3  # groupings outside the write lock before one holding it
TITLE_MAX = 300


@dataclass(frozen=True)
class Compiled:
    created: int  # new recommendations
    grouped: int  # proposals put in them
    alone: int  # proposals that stay on their own (no other asks the same)


@dataclass(frozen=True)
class Changed:
    recommendation: Recommendation | None  # after the change (None: it is gone)


@dataclass(frozen=True)
class Planned:
    """`auto`'s grouping of `basis` (the proposals it read): the groups of two or more, by
    district and topic, each with its first name, and how many stay alone."""

    basis: list[Member]
    groups: list[tuple[tuple[str, str], list[Member], str]]
    alone: int


def _plan(found: list[Member]) -> Planned:
    """The grouping itself and the groups' first names: CPU only, run in a thread (naming 320
    groups of 10,000 proposals takes about 2 s: not on the event loop, not in the write
    transaction)."""
    areas: dict[tuple[str, str], list[Member]] = {}
    for member in found:
        if member.recommendation_id is None:
            areas.setdefault((member.district, member.topic), []).append(member)
    groups: list[tuple[tuple[str, str], list[Member], str]] = []
    alone = 0
    for area, waiting in sorted(areas.items()):
        for indexes in group([m.text for m in waiting]):
            if len(indexes) < 2:
                alone += 1
            else:
                chosen = [waiting[i] for i in indexes]
                groups.append((area, chosen, default_title(chosen)))
    return Planned(found, groups, alone)


async def forget_words(tx: Tx, erased: Sequence[Member]) -> None:
    """After a person's proposals (`erased`, read before) are erased: a recommendation that
    was worded as one of them (its first name, until an officer names it; kept when the
    proposal was moved out or split off) is worded again as what it holds now, and one left
    with nothing goes: the erased words stay nowhere."""
    wordings: dict[tuple[str, str], set[str]] = {}
    for member in erased:
        wordings.setdefault((member.district, member.topic), set()).add(
            default_title([member]))
    for (district, topic), titles in sorted(wordings.items()):
        for recommendation_id in await store.worded_as(tx, district, topic, titles):
            found = await store.get(tx, recommendation_id)
            if found is not None and found.members:
                await store.reword(tx, recommendation_id, default_title(found.members))
    await store.drop_empty(tx)


def default_title(members: Sequence[Member]) -> str:
    """The most typical proposal's words, on one line, as a first name for the group."""
    texts = [m.text for m in members]
    words = " ".join(texts[central(texts)].split())
    return words if len(words) <= TITLE_MAX else words[:TITLE_MAX - 1].rsplit(" ", 1)[0] + "…"


class Compiling:
    def __init__(self, db: Database, moderation: Moderation) -> None:
        self.db, self.moderation = db, moderation

    async def scope_in(self, tx: Tx, user_id: int) -> Scope:
        if user_id == COMMAND_LINE:
            return Scope(None)
        return scope_for(await self.moderation.members(tx), user_id, "compile")

    async def plan(self, user_id: int, year: int, district: str | None = None
                   ) -> Planned | Refused:
        """What `auto` would do, worked out from a snapshot with the grouping off the event loop:
        no write lock is held while it runs (seconds for 10,000 proposals)."""
        async with self.db.snapshot() as tx:
            wanted = await self._wanted(tx, user_id, district)
            if isinstance(wanted, Refused):
                return wanted
            found = await store.members(tx, year, wanted)
        return await asyncio.to_thread(_plan, found)

    async def auto(self, user_id: int, year: int, district: str | None = None,
                   planned: Planned | Refused | None = None) -> Compiled | Refused:
        """Group what no recommendation holds yet. `planned` (from `plan`, made before the
        caller's transaction) is written only if the proposals are still what it grouped;
        otherwise they are grouped again, outside the write transaction while that can be."""
        if planned is None:
            planned = await self.plan(user_id, year, district)
        for attempt in range(PLAN_ATTEMPTS + 1):
            if isinstance(planned, Refused):
                return planned
            async with self.db.transaction() as tx:
                wanted = await self._wanted(tx, user_id, district)
                if isinstance(wanted, Refused):
                    return wanted
                now = await store.members(tx, year, wanted)
                if now != planned.basis and attempt == PLAN_ATTEMPTS:
                    # Still changing under it: grouped holding the lock (off the loop at least).
                    planned = await asyncio.to_thread(_plan, now)
                if now == planned.basis:
                    created = grouped = 0
                    for (code, topic), chosen, title in planned.groups:
                        new = await store.create(tx, year, code, topic, title, None)
                        await store.assign(tx, [m.id for m in chosen], new)
                        await audit_log.append(tx, user_id, "compile", "recommendation", new,
                                               code, {"refs": [m.ref for m in chosen],
                                                      "via": "auto"})
                        created, grouped = created + 1, grouped + len(chosen)
                    return Compiled(created, grouped, planned.alone)
            planned = await self.plan(user_id, year, district)  # changed meanwhile: again
        raise AssertionError("unreachable: the last attempt groups what it read")

    async def _wanted(self, tx: Tx, user_id: int, district: str | None
                      ) -> Collection[str] | Refused | None:
        """The districts `user_id` compiles `district` (None: all theirs) in, or why not."""
        scope = await self.scope_in(tx, user_id)
        if scope.empty:
            return Refused("not_staff")
        if district is not None and not scope.covers(district):
            return Refused("forbidden")
        return {district} if district else scope.districts

    async def overview(self, user_id: int, year: int | None, district: str | None = None
                       ) -> list[Recommendation] | Refused:
        """The recommendations of a forum year (None: every year's, by year) in `district`
        (None: all the caller's)."""
        async with self.db.transaction() as tx:
            scope = await self.scope_in(tx, user_id)
            if scope.empty:
                return Refused("not_staff")
            if district is not None and not scope.covers(district):
                return Refused("forbidden")
            found = await store.of_area(tx, year, {district} if district else scope.districts)
            return sorted(found, key=lambda item: item.forum_year)  # each year's, as made

    async def name(self, user_id: int, recommendation_id: int, title: str
                   ) -> Changed | Refused:
        title = " ".join(title.split())
        if not title or len(title) > TITLE_MAX:
            return Refused("invalid", "title_length")
        async with self.db.transaction() as tx:
            found = await self._mine(tx, user_id, recommendation_id)
            if isinstance(found, Refused):
                return found
            await store.rename(tx, found.id, title, user_id)
            await audit_log.append(tx, user_id, "name", "recommendation", found.id,
                                   found.district, {"title": title})
            return Changed(await store.get(tx, found.id))

    async def merge(self, user_id: int, into: int, other: int) -> Changed | Refused:
        """Everything of `other` into `into` (same district, topic and year)."""
        async with self.db.transaction() as tx:
            target = await self._mine(tx, user_id, into)
            source = await self._mine(tx, user_id, other)
            if isinstance(target, Refused) or isinstance(source, Refused):
                return target if isinstance(target, Refused) else source  # type: ignore[return-value]
            if into == other:
                return Refused("invalid", "itself")
            if _area(target) != _area(source):
                return Refused("invalid", "same_area")
            await store.assign(tx, [m.id for m in source.members], target.id)
            await store.drop_empty(tx)
            await audit_log.append(tx, user_id, "merge", "recommendation", target.id,
                                   target.district, {"from": source.id,
                                                     "refs": [m.ref for m in source.members]})
            return Changed(await store.get(tx, target.id))

    async def move(self, user_id: int, ref: str, to: int | None) -> Changed | Refused:
        """A proposal into recommendation `to`, or out on its own (None)."""
        async with self.db.transaction() as tx:
            member = await self._member(tx, user_id, ref)
            if isinstance(member, Refused):
                return member
            target = None
            if to is not None:
                found = await self._mine(tx, user_id, to)
                if isinstance(found, Refused):
                    return found
                if _area(found) != (member.forum_year, member.district, member.topic):
                    return Refused("invalid", "same_area")
                target = found
            await store.assign(tx, [member.id], to)
            await store.drop_empty(tx)
            await audit_log.append(tx, user_id, "move", "recommendation", to, member.district,
                                   {"ref": member.ref, "from": member.recommendation_id})
            return Changed(await store.get(tx, target.id) if target else None)

    async def split(self, user_id: int, refs: Sequence[str]) -> Changed | Refused:
        """These proposals (one forum year, district and topic) out into a new recommendation."""
        refs = list(dict.fromkeys(ref.strip().upper() for ref in refs if ref.strip()))
        if len(refs) < 2:  # one alone is `move ... out`; a recommendation holds two or more
            return Refused("invalid", "two_or_more")
        async with self.db.transaction() as tx:
            chosen: list[Member] = []
            for ref in refs:
                member = await self._member(tx, user_id, ref)
                if isinstance(member, Refused):
                    return member
                chosen.append(member)
            if not chosen or len({(m.forum_year, m.district, m.topic) for m in chosen}) != 1:
                return Refused("invalid", "same_area")
            new = await store.create(tx, chosen[0].forum_year, chosen[0].district,
                                     chosen[0].topic,
                                     default_title(chosen), None)  # worded, not named
            await store.assign(tx, [m.id for m in chosen], new)
            await store.drop_empty(tx)
            await audit_log.append(tx, user_id, "split", "recommendation", new,
                                   chosen[0].district, {"refs": [m.ref for m in chosen]})
            return Changed(await store.get(tx, new))

    async def _mine(self, tx: Tx, user_id: int, recommendation_id: int
                    ) -> Recommendation | Refused:
        scope = await self.scope_in(tx, user_id)
        if scope.empty:
            return Refused("not_staff")
        found = await store.get(tx, recommendation_id)
        if found is None:
            return Refused("not_found", str(recommendation_id))
        if not scope.covers(found.district):
            return Refused("forbidden")
        return found

    async def _member(self, tx: Tx, user_id: int, ref: str) -> Member | Refused:
        scope = await self.scope_in(tx, user_id)
        if scope.empty:
            return Refused("not_staff")
        item = await proposals_store.by_ref(tx, ref.strip().upper())
        if item is None:
            return Refused("not_found", ref)
        if not scope.covers(item.district):
            return Refused("forbidden")
        found = await store.member(tx, item.ref)
        return found if found is not None else Refused("wrong_status", ref)


def _area(recommendation: Recommendation) -> tuple[int, str, str]:
    return recommendation.forum_year, recommendation.district, recommendation.topic
