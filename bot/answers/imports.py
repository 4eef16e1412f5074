"""Answers from the spreadsheet: every row checked first, then all applied or none.

A dry run says what would happen (new answers, changed, unchanged, earlier forums' proposals to
add) and every problem, by row and column. Applying the same file twice changes nothing the
second time. Rows without a ref are recommendations of earlier forums (2019 on) that never went
through the bot: they become proposals marked as imported history, once.
"""

from __future__ import annotations

import asyncio
import logging
import re
from dataclasses import dataclass, field, replace

from bot.answers.service import Answers, Stale, answerable
from bot.answers.sheet import (
    BY_KEY,
    Problem,
    Reading,
    SheetRow,
    TemplateRow,
    Vocabulary,
    read_sheet,
    write_template,
)
from bot.answers.states import HOWS, STATES, check, tidy
from bot.areas import UNIT_WORDS, District
from bot.config import Config
from bot.conversation.catalog import Catalog
from bot.exports.common import as_read
from bot.localized import BASE_LANG
from bot.staff.chat import day
from bot.staff.moderation import Refused
from bot.staff.roles import Scope
from bot.staff.words import Words
from bot.textnorm import fold, small_int
from storage import answers as store
from storage import proposals
from storage.answers import AnswerRow
from storage.db import Tx
from storage.moderation import ProposalRow, by_ref, by_refs

log = logging.getLogger("childforum.answers")
_WORDS = re.compile(r"[a-z0-9]+")
UNITS = tuple(fold(word) for word in UNIT_WORDS)  # "huyen", "xa", "dac khu"…
LISTED_AREAS = 15  # an unknown area's problem lists the names when there are no more


@dataclass
class Plan:
    """What an import did, or would do."""

    rows: int = 0  # every row read (not empty)
    new: int = 0
    changed: int = 0
    unchanged: int = 0
    history: int = 0  # earlier forums' recommendations added as proposals
    unanswered: int = 0  # rows left without an answer (nothing done with them)
    problems: list[Problem] = field(default_factory=list)
    applied: bool = False


@dataclass(frozen=True)
class _Resolved:
    row: SheetRow
    item: ProposalRow | None  # None: a history row to add
    latest: AnswerRow | None = None  # the item's answer now


class AnswerSheets:
    """The template out, the filled-in sheet back in."""

    def __init__(self, answers: Answers, config: Config, catalog: Catalog) -> None:
        self.answers, self.config, self.catalog = answers, config, catalog
        self.words = Words(catalog, config)
        self.vocabulary = Vocabulary.of(catalog.texts.table)

    async def template(self, user_id: int, district: str | None, year: int | None) -> bytes:
        """The workbook of the approved proposals of `district` (None: all the caller's) and
        `year` (None: every year), pre-filled with their current answers."""
        scope = await self.answers.scope(user_id)
        districts = {district} if district else scope.districts
        async with self.answers.db.snapshot() as tx:  # reads only: no write lock taken
            found = await store.answerable(tx, districts, year)
        texts, labels = self.catalog.texts, dict[str, str]()
        for code in (*STATES, *HOWS):
            prefix = "answer.state" if code in STATES else "answer.how"
            labels[code] = texts.get(f"{prefix}.{code}", BASE_LANG)
        words = self.words
        rows = [TemplateRow(item.ref, item.forum_year, words.district(item.district, BASE_LANG),
                            words.topic(item.topic, BASE_LANG), self._who(item),
                            _join(as_read(item.seen, item.seen_vi),
                                  as_read(item.proposal, item.proposal_vi)), item.answer)
                for item in found]
        return await asyncio.to_thread(write_template, rows, self.vocabulary, labels)

    def describe(self, problem: Problem, lang: str) -> str:
        """One problem as a line: "Hàng 7, cột «Kết quả»: …"."""
        texts = self.catalog.texts
        values = {"limit": 0, "states": self.answers.states_list(lang), **problem.values}
        what = texts.get(problem.key, lang, **values)
        if problem.row and problem.column:
            return texts.get("sheet.line.cell", lang, row=problem.row, column=problem.column,
                             problem=what)
        if problem.row:
            return texts.get("sheet.line.row", lang, row=problem.row, problem=what)
        return what[:1].upper() + what[1:]

    def _who(self, item: store.Answerable) -> str:
        texts = self.catalog.texts
        if item.is_group:
            parts = [f"Nhóm {item.group_size or '?'} em"]
            parts += [texts.get("age_band.label", BASE_LANG, band=band)
                      for band in (item.group_age_range or "").split(",") if band]
            parts += [place for place in (item.school, item.commune) if place]
            return ", ".join(parts)
        parts = ["Trẻ em"]
        if item.age_band:
            parts.append(texts.get("age_band.label", BASE_LANG, band=item.age_band))
        # In an officer's words ("nữ", "giới tính: không nêu"), not the child's button ("Bạn
        # nữ", "Em không muốn nói"); a sex added to the flows since: the exports' label.
        for key in (f"sheet.who.gender.{item.gender}", f"export.gender.{item.gender}"):
            if item.gender and key in texts.table:
                parts.append(texts.get(key, BASE_LANG))
                break
        return ", ".join(parts)

    async def read(self, data: bytes) -> Reading:
        """The rows of `data` (an .xlsx), read off the event loop and outside any transaction:
        a big workbook takes seconds, which no one else should wait for."""
        return await asyncio.to_thread(read_sheet, data, self.vocabulary)

    async def run(self, user_id: int, data: bytes, apply: bool,
                  reading: Reading | None = None) -> Plan:
        """Check `data` (an .xlsx; `reading`: it read already with `read`); with `apply` and no
        problem, apply it in one transaction. `user_id` 0 is the command line (every district).

        A dry run resolves the rows in a snapshot, so it takes no write lock; applying resolves
        them again inside the write transaction, so that what is applied is what is there."""
        if reading is None:
            if self.answers.db.in_transaction:  # a caller's transaction would wait for it
                log.warning("An answers workbook is read inside a write transaction")
            reading = await self.read(data)
        scope = await self.answers.scope(user_id)
        plan = _plan(reading)
        if scope.empty:
            plan.problems.append(Problem(0, "", "sheet.not_staff"))
            return plan
        if not apply:
            async with self.answers.db.snapshot() as tx:
                await self._resolve(tx, user_id, reading, plan)
        else:
            async def resolve_and_apply(tx: Tx) -> Plan:
                fresh = _plan(reading)  # (a try run again starts from nothing)
                resolved = await self._resolve(tx, user_id, reading, fresh)
                if not fresh.problems:
                    await self._apply(tx, user_id, resolved, fresh)
                    fresh.applied = True
                return fresh

            # In one go where the database can (SQLite: on its thread, not one hand-off a
            # statement): the write lock is held for the work, not for the event loop's turns.
            plan = await self.answers.db.apply(None, resolve_and_apply)
        plan.problems.sort(key=lambda p: p.row)
        return plan

    async def _resolve(self, tx: Tx, user_id: int, reading: Reading,
                       plan: Plan) -> list[_Resolved]:
        found: list[_Resolved] = []
        seen: dict[tuple[int, str, str, str], int] = {}  # an earlier forum's one -> its row
        scope = await self.answers.scope_in(tx, user_id)
        items = await by_refs(tx, {row.ref for row in reading.rows if row.ref})
        for row in reading.rows:
            problems = [Problem(row.number, BY_KEY[p.field].header if p.field in BY_KEY else "",
                                p.key, {"limit": p.limit, "states": self.answers.states_list(
                                    BASE_LANG)}) for p in check(tidy(row.answer))
                        if p.field not in row.flawed]  # a cell said wrong already: said once
            plan.problems += problems
            if row.ref is None:  # (reads only) its area and topic are checked too
                resolved = await self._history(tx, scope, row, plan, seen)
            else:  # its ref is checked too: all of a row's problems in one round
                resolved = self._proposal(scope, items.get(row.ref), row, plan)
            if problems or row.flawed:
                continue
            if resolved is not None:
                found.append(resolved)
        versions = await store.versions_of(tx, [entry.item.id for entry in found if entry.item])
        kept = []
        for entry in found:
            earlier = versions.get(entry.item.id, []) if entry.item else []
            if earlier:
                entry = replace(entry, latest=earlier.pop())
            old = _reverted(entry, earlier)
            if old is not None:
                plan.problems.append(old)
                continue
            self._count(entry, plan)
            kept.append(entry)
        return kept

    def _proposal(self, scope: Scope, found: ProposalRow | None, row: SheetRow,
                  plan: Plan) -> _Resolved | None:
        ref, column = row.ref or "", BY_KEY["ref"].header
        item = answerable(scope, found, ref, self.config.area)
        if isinstance(item, Refused):
            key = {"not_found": "sheet.unknown_ref", "wrong_status": "sheet.wrong_status",
                   "forbidden": "sheet.forbidden"}.get(item.reason, "sheet.not_staff")
            plan.problems.append(Problem(row.number, column, key, {"ref": ref}))
            return None
        return _Resolved(row, item)

    async def _history(self, tx: Tx, scope: Scope, row: SheetRow, plan: Plan,
                       seen: dict[tuple[int, str, str, str], int]) -> _Resolved | None:
        if row.year is None or not row.district or not row.topic or not row.proposal:
            plan.problems.append(Problem(row.number, "", "sheet.history_missing"))
            return None
        if row.year >= self.config.forum_year:  # this forum's proposals came with their refs
            plan.problems.append(Problem(row.number, BY_KEY["year"].header, "sheet.history_year",
                                         {"year": self.config.forum_year}))
            return None
        areas, topic = self._areas(row.district, row.year), self._topic(row.topic)
        district = areas[0].code if len(areas) == 1 else None
        if not areas:
            plan.problems.append(self._no_district(row, scope))
        elif district is None:  # a name several areas have: the officer writes the code
            plan.problems.append(Problem(
                row.number, BY_KEY["district"].header, "sheet.district_ambiguous",
                {"value": row.district, "names": _named(areas)}))
        if topic is None:
            plan.problems.append(Problem(row.number, BY_KEY["topic"].header, "sheet.topic",
                                         {"value": row.topic}))
        if district is None or topic is None:
            return None
        if not scope.covers(district):
            plan.problems.append(Problem(row.number, BY_KEY["district"].header,
                                         "sheet.forbidden", {"ref": row.district}))
            return None
        # One recommendation is one row, as a ref is: typed twice, it would be added twice
        # (and a later import would only ever update the first); which row's answer is meant
        # is the officer's to say.
        first = seen.setdefault((row.year, district, topic, proposals.history_key(row.proposal)),
                                row.number)
        if first != row.number:
            plan.problems.append(Problem(row.number, BY_KEY["proposal"].header,
                                         "sheet.history_twice", {"first": first}))
            return None
        ref = await proposals.history_ref(tx, row.year, district, topic, row.proposal)
        item = await by_ref(tx, ref) if ref else None
        return _Resolved(row, item)

    def _district(self, written: str, year: int | None = None) -> str | None:
        """The code of the one area `written` names (see `_areas`), or None."""
        found = self._areas(written, year)
        return found[0].code if len(found) == 1 else None

    def _areas(self, written: str, year: int | None = None) -> list[District]:
        """The areas `written` may mean: one by its code; else those with that name (Vietnamese
        or English); else those with that place name alone ("Đắk Hà" for "Huyện Đắk Hà", or
        the config's `place`). An earlier forum's area too (the 2023 districts, in a commune
        config): the template names it so. Of several, those that existed in the forum `year`
        (in 2022 "Đắk Hà" is the district; in 2025 it is the district and the commune too).
        One found: that area; none: unknown; several: which one is the officer's to say."""
        wanted = fold(written)
        if not wanted:
            return []
        areas = (*self.config.past_areas, *self.config.districts)  # named as they came
        coded = [area for area in areas if wanted == fold(area.code)]
        named = [area for area in areas if wanted in (fold(area.name), fold(area.name_en))]
        found = coded or named or [area for area in areas
                                   if wanted in (fold(area.place), _place(fold(area.name)))]
        if len(found) > 1 and year is not None:
            that_year = [area for area in found if area.valid_in(year)]
            found = that_year or found
        return found

    def _no_district(self, row: SheetRow, scope: Scope) -> Problem:
        """An area not found: with the names to write, if they are few."""
        areas = {area.code: area for area in (*self.config.districts, *self.config.past_areas)
                 if scope.covers(area.code)}
        header, value = BY_KEY["district"].header, {"value": row.district}
        if len(areas) > LISTED_AREAS:
            return Problem(row.number, header, "sheet.district_many", value)
        return Problem(row.number, header, "sheet.district",
                       {**value, "names": _named(list(areas.values()))})

    def _topic(self, written: str) -> str | None:
        """A topic by number, id or title, or the one title sharing the most words with what
        was written (at least two): officers type titles loosely."""
        wanted = fold(written)
        number = small_int(wanted)
        for index, flow in enumerate(self.catalog.topics, 1):
            if number == index or wanted in (flow.id, *(fold(t) for t in flow.title.values())):
                return flow.id
        words = set(_WORDS.findall(wanted))
        shared = sorted(((len(words & set(_WORDS.findall(" ".join(
            fold(t) for t in flow.title.values())))), flow.id) for flow in self.catalog.topics),
            reverse=True)
        if shared and shared[0][0] >= 2 and (len(shared) == 1 or shared[1][0] < shared[0][0]):
            return shared[0][1]
        return None

    @staticmethod
    def _count(resolved: _Resolved, plan: Plan) -> None:
        if resolved.item is None:
            plan.history += 1
            plan.new += 1
            return
        latest = resolved.latest
        if latest is None:
            plan.new += 1
        elif latest.answer == tidy(resolved.row.answer):
            plan.unchanged += 1
        else:
            plan.changed += 1

    async def _apply(self, tx: Tx, user_id: int, resolved: list[_Resolved],
                     plan: Plan) -> None:
        for entry in resolved:
            item, row = entry.item, entry.row
            if item is None:
                district = self._district(row.district, row.year)
                topic = self._topic(row.topic)
                assert row.year is not None and district is not None and topic is not None
                ref = await proposals.insert_history(tx, row.year, district, topic,
                                                     row.proposal)
                item = await by_ref(tx, ref)
                assert item is not None
            outcome = await self.answers.save_over(tx, user_id, item, tidy(row.answer), None,
                                                   "import", entry.latest)
            assert not isinstance(outcome, Stale)  # an import takes whatever is there


def _reverted(entry: _Resolved, earlier: list[AnswerRow]) -> Problem | None:
    """A row that says what an earlier version said, not the latest: an old copy of the
    workbook, which would undo the newer answer (and tell the child the old one again)."""
    latest, answer = entry.latest, tidy(entry.row.answer)
    if latest is None or latest.answer == answer or entry.item is None:
        return None
    old = next((version for version in reversed(earlier) if version.answer == answer), None)
    if old is None:
        return None
    return Problem(entry.row.number, "", "sheet.old_copy", {
        "ref": entry.item.ref, "old": old.version, "new": latest.version,
        "date": day(latest.answered_at)})


def _named(areas: list[District]) -> str:
    """"Huyện Đắk Hà (DHA), Xã Đăk Hà (DAKHA)": areas by name, each with the code to write."""
    return ", ".join(f"{area.name} ({area.code})" for area in areas)


def _place(name: str) -> str:
    """A folded area name without its unit word: "huyen dak ha" -> "dak ha"."""
    for unit in UNITS:
        if name.startswith(unit + " "):
            return name[len(unit) + 1:]
    return name


def _join(seen: str, proposal: str) -> str:
    return "\n".join(part for part in (proposal, f"(Thực trạng: {seen})" if seen else "") if part)


def _plan(reading: Reading) -> Plan:
    """A workbook's plan before its rows are resolved: what reading it found."""
    return Plan(rows=reading.read, problems=list(reading.problems),
                unanswered=reading.unanswered)
