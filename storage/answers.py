"""Answers to proposals: versions, drafts and publishing, who was told, what they thought."""

from __future__ import annotations

from collections import Counter
from collections.abc import Collection, Sequence
from dataclasses import astuple, dataclass, fields

from storage.db import Row, Tx, in_lists, utc_now, within


@dataclass(frozen=True)
class AnswerFields:
    """What an officer records (bot.answers checks it)."""

    state: str
    text_vi: str = ""
    text_en: str = ""
    agency: str = ""
    partners: str = ""
    due: str = ""
    how: str = "document"
    doc_number: str = ""
    doc_date: str | None = None  # ISO date
    reason: str = ""
    solution: str = ""


FIELD_NAMES = tuple(f.name for f in fields(AnswerFields))
_COLUMNS = ("id, proposal_id, version, revision, " + ", ".join(FIELD_NAMES)
            + ", answered_by, answered_at, source, published_by, published_at")


@dataclass(frozen=True)
class AnswerRow:
    id: int
    proposal_id: int
    version: int
    revision: int
    answer: AnswerFields
    answered_by: int
    answered_at: str
    source: str
    published_by: int | None
    published_at: str | None

    @property
    def draft(self) -> bool:
        return self.published_at is None


def _row(row: Row) -> AnswerRow:
    count = len(FIELD_NAMES)
    values = row[4:4 + count]
    return AnswerRow(row[0], row[1], row[2], row[3], AnswerFields(*values),
                     *row[4 + count:])


async def latest(db: Tx, proposal_id: int, published: bool = False) -> AnswerRow | None:
    """The newest version of a proposal's answer (with `published`: the newest published)."""
    where = " AND published_at IS NOT NULL" if published else ""
    row = await db.fetchone(
        f"SELECT {_COLUMNS} FROM answers WHERE proposal_id = ?{where}"
        " ORDER BY version DESC LIMIT 1", (proposal_id,))
    return _row(row) if row else None


async def versions_of(db: Tx, proposal_ids: Collection[int]) -> dict[int, list[AnswerRow]]:
    """Every version of the answers of many proposals, oldest first, a few statements in all (a
    workbook of thousands of rows); a proposal without an answer is not in it."""
    found: dict[int, list[AnswerRow]] = {}
    for marks, chunk in in_lists(sorted(set(proposal_ids))):
        for row in await db.fetchall(
                f"SELECT {_COLUMNS} FROM answers WHERE proposal_id IN ({marks})"
                " ORDER BY proposal_id, version", chunk):
            found.setdefault(row[1], []).append(_row(row))
    return found


async def get(db: Tx, answer_id: int) -> AnswerRow | None:
    row = await db.fetchone(f"SELECT {_COLUMNS} FROM answers WHERE id = ?", (answer_id,))
    return _row(row) if row else None


async def add_version(db: Tx, proposal_id: int, answer: AnswerFields, by: int,
                      source: str) -> AnswerRow:
    """A new draft version (the first, or after a published one)."""
    marks = ", ".join("?" * len(FIELD_NAMES))
    row = await db.fetchone(
        f"INSERT INTO answers (proposal_id, version, {', '.join(FIELD_NAMES)}, answered_by,"
        f" answered_at, source) VALUES (?, (SELECT coalesce(max(version), 0) + 1 FROM answers"
        f" WHERE proposal_id = ?), {marks}, ?, ?, ?) RETURNING {_COLUMNS}",
        (proposal_id, proposal_id, *astuple(answer), by, utc_now(), source))
    assert row is not None
    return _row(row)


async def rewrite_draft(db: Tx, answer_id: int, revision: int, answer: AnswerFields, by: int,
                        source: str) -> AnswerRow | None:
    """Change a draft that is still at `revision`; None when someone changed it first (or it
    was published meanwhile)."""
    sets = ", ".join(f"{name} = ?" for name in FIELD_NAMES)
    row = await db.fetchone(
        f"UPDATE answers SET {sets}, revision = revision + 1, answered_by = ?, answered_at = ?,"
        " source = ? WHERE id = ? AND revision = ? AND published_at IS NULL"
        f" RETURNING {_COLUMNS}",
        (*astuple(answer), by, utc_now(), source, answer_id, revision))
    return _row(row) if row else None


async def publish(db: Tx, answer_ids: Sequence[int], by: int) -> list[AnswerRow]:
    """Publish drafts; returns those that were drafts (a second publish does nothing)."""
    published: list[AnswerRow] = []
    now = utc_now()
    for marks, chunk in in_lists(answer_ids):
        published += [_row(row) for row in await db.fetchall(
            "UPDATE answers SET published_at = ?, published_by = ?, revision = revision + 1"
            f" WHERE id IN ({marks}) AND published_at IS NULL"
            f" RETURNING {_COLUMNS}", (now, by, *chunk))]
    return sorted(published, key=lambda row: row.id)


@dataclass(frozen=True)
class Draft:
    """A draft answer with what publishing needs of its proposal."""

    answer: AnswerRow
    ref: str
    district: str
    topic: str


async def drafts(db: Tx, districts: Collection[str] | None, topic: str | None = None,
                 refs: Collection[str] | None = None) -> list[Draft]:
    """Unpublished latest versions of answers to approved proposals (one a moderator took out
    since, to safeguarding say, is not for publishing), in `districts` (None: all), a topic
    and refs if given."""
    if (districts is not None and not districts) or (refs is not None and not refs):
        return []  # (an empty IN () is an error on PostgreSQL)
    where, params = ["a.published_at IS NULL", "p.status = 'approved'",
                     "a.version = (SELECT max(version) FROM answers WHERE proposal_id ="
                     " a.proposal_id)"], []
    if districts is not None:
        where.append(f"p.district IN ({', '.join('?' * len(districts))})")
        params += sorted(districts)
    if topic is not None:
        where.append("p.topic = ?")
        params.append(topic)
    if refs is not None:
        where.append(f"p.ref IN ({', '.join('?' * len(refs))})")
        params += sorted(refs)
    columns = ", ".join(f"a.{c.strip()}" for c in _COLUMNS.split(","))
    found = await db.fetchall(
        f"SELECT {columns}, p.ref, p.district, p.topic FROM answers a"
        f" JOIN proposals p ON p.id = a.proposal_id WHERE {' AND '.join(where)}"
        " ORDER BY p.district, p.id", params)
    return [Draft(_row(row[:-3]), row[-3], row[-2], row[-1]) for row in found]


async def previous_published_state(db: Tx, proposal_id: int, before_version: int) -> str | None:
    """The state of the last version published before `before_version` (None: none was)."""
    value = await db.fetchval(
        "SELECT state FROM answers WHERE proposal_id = ? AND version < ?"
        " AND published_at IS NOT NULL ORDER BY version DESC LIMIT 1",
        (proposal_id, before_version))
    return str(value) if value is not None else None


def notice_key(answer_id: int, chat_id: int) -> str:
    """The outbox dedupe key of the message telling `chat_id` about an answer version."""
    return f"answer:{answer_id}:{chat_id}"


END_OF_TIME = "9999-12-31T23:59:59+00:00"  # a period's end that is no end: to date
# The outbox row o that told notice n of answer version v (its dedupe key, notice_key), sent.
# A forgotten child's notice has no such row any more: its told_at says when.
_TOLD = "o.dedupe = 'answer:' || v.id || ':' || n.chat_id AND o.state = 'sent'"


async def add_notice(db: Tx, answer_id: int, chat_id: int) -> None:
    await db.execute(
        "INSERT INTO answer_notices (answer_id, chat_id) VALUES (?, ?)"
        " ON CONFLICT (answer_id, chat_id) DO NOTHING", (answer_id, chat_id))


async def feedback(db: Tx, answer_id: int, chat_id: int, value: str) -> bool:
    """Record 👍/👎 of the person who was told; False when they were not told this answer."""
    changed = await db.execute(
        "UPDATE answer_notices SET feedback = ?, feedback_at = ? WHERE answer_id = ?"
        " AND chat_id = ?", (value, utc_now(), answer_id, chat_id))
    return changed == 1


async def erase_chat(db: Tx, chat_id: int) -> None:
    await db.execute("DELETE FROM answer_notices WHERE chat_id = ?", (chat_id,))


@dataclass(frozen=True)
class Published:
    """The latest published answer of one of a child's proposals (for /my)."""

    ref: str
    state: str
    text_vi: str
    text_en: str
    reason: str
    solution: str


async def published_for(db: Tx, refs: Collection[str]) -> dict[str, Published]:
    """The latest published answer of each of these proposals that has one."""
    if not refs:
        return {}
    found = await db.fetchall(
        "SELECT p.ref, a.state, a.text_vi, a.text_en, a.reason, a.solution FROM answers a"
        " JOIN proposals p ON p.id = a.proposal_id"
        f" WHERE p.ref IN ({', '.join('?' * len(refs))}) AND a.published_at IS NOT NULL"
        " AND a.version = (SELECT max(version) FROM answers b WHERE b.proposal_id ="
        " a.proposal_id AND b.published_at IS NOT NULL)", sorted(refs))
    return {row[0]: Published(*row) for row in found}


async def add_import(db: Tx, user_id: int, filename: str, body: bytes) -> int:
    return int(await db.fetchval(
        "INSERT INTO answer_imports (user_id, filename, body, created_at) VALUES (?, ?, ?, ?)"
        " RETURNING id", (user_id, filename, body, utc_now())))


async def finish_import(db: Tx, import_id: int, user_id: int) -> bool:
    """Mark a spreadsheet sent in chat as applied, once (its bytes go); False when it was."""
    changed = await db.execute(
        "UPDATE answer_imports SET applied_at = ?, body = ? WHERE id = ? AND user_id = ?"
        " AND applied_at IS NULL", (utc_now(), b"", import_id, user_id))
    return changed == 1


async def import_body(db: Tx, import_id: int, user_id: int) -> tuple[str, bytes] | None:
    row = await db.fetchone(
        "SELECT filename, body FROM answer_imports WHERE id = ? AND user_id = ?"
        " AND applied_at IS NULL", (import_id, user_id))
    return None if row is None else (str(row[0]), bytes(row[1]))


async def prune_imports(db: Tx, before: str) -> int:
    """Forget the workbooks sent in chat before `before` (ISO time), applied or not."""
    return await db.execute("DELETE FROM answer_imports WHERE created_at < ?", (before,))


async def drop_pending_imports(db: Tx) -> None:
    """Forget the workbooks sent in chat and not applied yet (their rows may quote anyone)."""
    await db.execute("DELETE FROM answer_imports WHERE applied_at IS NULL")


@dataclass(frozen=True)
class Answerable:
    """An approved proposal with its current answer (the template's rows)."""

    ref: str
    forum_year: int
    district: str
    topic: str
    is_group: bool
    age_band: str | None
    gender: str | None
    group_size: int | None
    group_age_range: str | None
    school: str | None
    commune: str | None
    seen: str
    proposal: str
    answer: AnswerFields | None
    seen_vi: str | None = None  # a translator's Vietnamese (a proposal in another language)
    proposal_vi: str | None = None


async def answerable(db: Tx, districts: Collection[str] | None,
                     year: int | None) -> list[Answerable]:
    """Approved proposals of `districts` (None: all) and `year` (None: all), with the latest
    version of their answer, by district and id."""
    where: list[str] = ["p.status = 'approved'"]
    params: list[object] = []
    if districts is not None:
        where.append(f"p.district IN ({', '.join('?' * len(districts))})")
        params += sorted(districts)
    if year is not None:
        where.append("p.forum_year = ?")
        params.append(year)
    columns = ", ".join(f"a.{name}" for name in FIELD_NAMES)
    found = await db.fetchall(
        "SELECT p.ref, p.forum_year, p.district, p.topic, p.is_group, p.age_band, p.gender,"
        " p.group_size, p.group_age_range, p.school, p.commune, p.seen, p.proposal,"
        f" p.seen_vi, p.proposal_vi, a.id, {columns} FROM proposals p LEFT JOIN answers a"
        " ON a.proposal_id = p.id"
        " AND a.version = (SELECT max(version) FROM answers b WHERE b.proposal_id = p.id)"
        f" WHERE {' AND '.join(where)} ORDER BY p.district, p.id", params)
    keys = [f.name for f in fields(Answerable)]
    result = []
    for row in found:
        values = dict(zip(keys[:13], row[:13], strict=True))
        values["is_group"] = bool(values["is_group"])
        answer = AnswerFields(*row[16:]) if row[15] is not None else None
        result.append(Answerable(**values, answer=answer, seen_vi=row[13], proposal_vi=row[14]))
    return result


@dataclass(frozen=True)
class FollowupRow:
    """A proposal of an earlier (or this) forum and where its answer stands now."""

    ref: str
    forum_year: int
    district: str
    topic: str
    origin: str
    is_group: bool
    age_band: str | None
    group_size: int | None
    school: str | None
    commune: str | None
    proposal: str
    answer: AnswerFields | None  # the latest published version; None: not answered yet
    published_at: str | None
    told_at: str | None  # when a child (or facilitator) was last told of it
    proposal_vi: str | None = None  # a translator's Vietnamese
    # The responsible agency the latest version names, a draft's too: the proposal is that
    # agency's to answer (whether it has, `answer` says).
    agency: str | None = None


async def followup(db: Tx, districts: Collection[str] | None, since: int, until: int,
                   still_open: Collection[str], period: tuple[str, str | None]
                   ) -> list[FollowupRow]:
    """Approved proposals of forum years `since`..`until` in `districts` (None: all), and those
    of earlier years still open at the end of the period (their latest answer published by
    then in `still_open`, or none yet) or answered within it (a version published from
    `period[0]` to before `period[1]`, UTC timestamps: carried out during the period, it is
    reported in it), by year, district and id. Each as it stood at the end of the period
    (`period[1]`; None: now): the latest answer published by then, the agency the latest
    version written by then names (a draft's too), when a child was last told by then."""
    end = period[1] or END_OF_TIME
    marks = ", ".join("?" * len(still_open))
    where: list[str] = [
        "p.status = 'approved'", "p.forum_year <= ?",
        f"(p.forum_year >= ? OR a.id IS NULL OR a.state IN ({marks}) OR EXISTS (SELECT 1"
        " FROM answers c WHERE c.proposal_id = p.id AND c.published_at >= ?"
        " AND c.published_at < ?))"]
    params: list[object] = [end, end, end, until, since, *sorted(still_open), period[0], end]
    if districts is not None:
        where.append(f"p.district IN ({', '.join('?' * len(districts))})")
        params += sorted(districts)
    columns = ", ".join(f"a.{name}" for name in FIELD_NAMES)
    found = await db.fetchall(
        "SELECT p.ref, p.forum_year, p.district, p.topic, p.origin, p.is_group, p.age_band,"
        " p.group_size, p.school, p.commune, p.proposal, a.published_at, p.proposal_vi,"
        " (SELECT d.agency FROM answers d WHERE d.proposal_id = p.id AND d.answered_at < ?"
        "  ORDER BY d.version DESC LIMIT 1),"
        f" (SELECT max(coalesce(n.told_at, o.done_at)) FROM answers v JOIN answer_notices n"
        f"  ON n.answer_id = v.id LEFT JOIN outbox o ON {_TOLD}"
        "  WHERE v.proposal_id = p.id AND coalesce(n.told_at, o.done_at) < ?),"
        f" a.id, {columns} FROM proposals p LEFT JOIN answers a ON a.proposal_id = p.id"
        " AND a.version = (SELECT max(version) FROM answers b WHERE b.proposal_id = p.id"
        " AND b.published_at IS NOT NULL AND b.published_at < ?)"
        f" WHERE {' AND '.join(where)} ORDER BY p.forum_year, p.district, p.id", params)
    rows = []
    for row in found:
        answer = AnswerFields(*row[16:]) if row[15] is not None else None
        rows.append(FollowupRow(row[0], row[1], row[2], row[3], row[4], bool(row[5]), row[6],
                                row[7], row[8], row[9], row[10], answer, row[11], row[14],
                                row[12], row[13]))
    return rows


@dataclass(frozen=True)
class AnswerCount:
    """/stats: per district and topic, approved proposals and how their answers stand."""

    district: str
    topic: str
    approved: int
    answered: int  # with a published answer
    implemented: int
    told: int  # whose sender was told (a notice sent)
    up: int
    down: int


async def counts(db: Tx, districts: Collection[str] | None,
                 year: int | None = None) -> list[AnswerCount]:
    """Children's proposals only (of one forum year, or of every year: None): earlier forums'
    imported recommendations have nobody to tell and belong to the follow-up report. They are
    counted apart (a few, by their own index) and taken off: a filter on `origin` in the main
    query made it three times slower."""
    where, params = within(districts, "p.district")
    if year is not None:
        where, params = f"{where} AND p.forum_year = ?", [*params, year]
    every = await _answer_counts(db, "p.status = 'approved'" + where, params)
    history = {(c.district, c.topic): c for c in await _answer_counts(
        db, "p.status = 'approved' AND p.origin = 'history'" + where, params)}
    found = []
    for count in every:
        old = history.get((count.district, count.topic))
        if old is not None:
            count = AnswerCount(count.district, count.topic, *(
                getattr(count, f.name) - getattr(old, f.name) for f in fields(AnswerCount)[2:]))
        if count.approved:
            found.append(count)
    return found


async def _answer_counts(db: Tx, where: str, params: list[object]) -> list[AnswerCount]:
    """Approved proposals by district and topic (from the proposals' covering index), then what
    their answers count, read from the answers: per proposal, the latest published version
    (reading every approved proposal's answers one by one took most of /stats's time)."""
    approved: Counter[tuple[str, str]] = Counter()
    for district, topic, count in await db.fetchall(
            f"SELECT district, topic, count(*) FROM proposals p WHERE {where}"
            " GROUP BY district, topic", params):
        approved[str(district), str(topic)] += int(count)
    answered = {(row[0], row[1]): row[2:] for row in await db.fetchall(
        "SELECT p.district, p.topic, count(*),"
        " sum(CASE WHEN a.state = 'implemented' THEN 1 ELSE 0 END),"
        " sum(CASE WHEN EXISTS (SELECT 1 FROM answers v JOIN answer_notices n"
        f"   ON n.answer_id = v.id LEFT JOIN outbox o ON {_TOLD}"
        "   WHERE v.proposal_id = a.proposal_id AND (n.told_at IS NOT NULL OR o.id IS NOT NULL))"
        "   THEN 1 ELSE 0 END),"
        " sum((SELECT count(*) FROM answers v JOIN answer_notices n ON n.answer_id = v.id"
        "   WHERE v.proposal_id = a.proposal_id AND n.feedback = 'up')),"
        " sum((SELECT count(*) FROM answers v JOIN answer_notices n ON n.answer_id = v.id"
        "   WHERE v.proposal_id = a.proposal_id AND n.feedback = 'down'))"
        " FROM answers a JOIN proposals p ON p.id = a.proposal_id"
        " WHERE a.published_at IS NOT NULL AND a.version = (SELECT max(version) FROM answers b"
        " WHERE b.proposal_id = a.proposal_id AND b.published_at IS NOT NULL)"
        f" AND {where} GROUP BY p.district, p.topic", params)}
    return [AnswerCount(district, topic, int(count), *(
        int(value or 0) for value in answered.get((district, topic), (0, 0, 0, 0, 0))))
        for (district, topic), count in sorted(approved.items())]
