"""The answer loop as a service, on a real SQLite file: recording, publishing, telling, and the
spreadsheet (template written, filled in by openpyxl, read back, imported)."""

from __future__ import annotations

import io
import json
import math
import time
from collections.abc import AsyncIterator
from dataclasses import dataclass, replace
from datetime import date, datetime
from datetime import time as hour
from pathlib import Path
from types import SimpleNamespace
from typing import Any, cast

import openpyxl
import pytest

from bot.answers.desk import AnswerDesk
from bot.answers.imports import AnswerSheets
from bot.answers.service import NO_ANSWER, Answers, Invalid, Saved, Stale, parse_feedback
from bot.answers.sheet import COLUMNS, Choices, Vocabulary
from bot.areas import District
from bot.config import Config, load_config
from bot.conversation.catalog import load_catalog
from bot.conversation.engine import State
from bot.conversation.service import state_to_row
from bot.exports import ExportQuery, export
from bot.staff.chat import LOCAL_TIME, Caller
from bot.staff.moderation import Moderation, Refused
from bot.staff.roles import Scope, StaffMember
from bot.transport.outbox import Outbox
from storage import answers as answer_store
from storage import children, proposals
from storage.answers import AnswerFields
from storage.db import Database, open_database
from storage.moderation import by_ref
from tests.stores import Target
from tests.test_storage import new_proposal

ROOT = Path(__file__).resolve().parents[1]
OFFICER, OFFICER_KTM, MODERATOR, ADMIN = 11, 12, 13, 14
STAFF = (StaffMember(OFFICER, "officer", Scope.of({"DHA"})),
         StaffMember(OFFICER_KTM, "officer", Scope.of({"KTM"})),
         StaffMember(MODERATOR, "moderator", Scope.of({"DHA", "KTM"})),
         StaffMember(ADMIN, "admin", Scope(None)))
FACILITATOR = 500
HEADERS = [column.header for column in COLUMNS]
DONE = AnswerFields("implemented", "Xã đã làm rào chắn ở bến sông.", agency="UBND xã")
NOT_YET = AnswerFields("not_yet", "Chưa có kinh phí năm nay.", reason="Thiếu kinh phí",
                       solution="Đưa vào kế hoạch năm 2025", agency="UBND huyện")


@dataclass
class Forum:
    db: Database
    config: Config
    answers: Answers
    sheets: AnswerSheets


@pytest.fixture
async def forum(target: Target) -> AsyncIterator[Forum]:
    config = load_config(ROOT / "config.example.toml").with_database(target)
    config = replace(config, staff=STAFF)
    db = await open_database(config.database)
    catalog = load_catalog(config)
    moderation = Moderation(db, STAFF, {d.code for d in config.districts})
    outbox = Outbox(db, config.pacing, config.timetable.zone)
    answers = Answers(db, catalog, config, moderation, outbox)
    async with db.transaction() as tx:
        for chat_id, district, lang in ((101, "DHA", "vi"), (102, "DHA", "en"), (103, "KTM", "vi"),
                                        (FACILITATOR, "DHA", "vi")):
            state = State(profile={"district": district, "lang": lang, "age_band": "10-12",
                                   "gender": "female"}, profile_queue=())
            await children.save(tx, state_to_row(chat_id, state))
        for chat_id, update_id, district in ((101, 1, "DHA"), (102, 2, "DHA"), (103, 3, "KTM"),
                                             (101, 4, "DHA")):
            await proposals.insert(tx, new_proposal(chat_id, update_id, district))
        await proposals.insert(tx, replace(new_proposal(FACILITATOR, 5), group_size=12,
                                           group_age_range="10-12", school="Trường Kon Đào"))
        # DHA-0001, DHA-0002, DHA-0004 (group) approved; DHA-0003 still pending; KTM-0001 too
        await tx.execute("UPDATE proposals SET status = 'approved' WHERE ref != 'DHA-0003'")
    yield Forum(db, config, answers, AnswerSheets(answers, config, catalog))
    await db.close()


async def notices(db: Database) -> list[tuple[int, str, str | None]]:
    rows = await db.reader.fetchall(
        "SELECT chat_id, payload, dedupe FROM outbox WHERE kind = 'notice' ORDER BY id")
    return [(row[0], json.loads(row[1])["text"], row[2]) for row in rows]


# --- recording ------------------------------------------------------------------------------------

async def test_the_answers_of_many_proposals_are_read_together(forum: Forum) -> None:
    """What an import reads for thousands of rows: each proposal's versions, oldest first, a few
    hundred proposals a statement (ids past the first IN list included), none for the
    unanswered."""
    first, second, third = [await forum.db.reader.fetchval(
        "SELECT id FROM proposals WHERE ref = ?", (ref,)) for ref in ("DHA-0001", "DHA-0002",
                                                                      "DHA-0004")]
    async with forum.db.transaction() as tx:
        await answer_store.add_version(tx, first, DONE, OFFICER, "chat")
        await answer_store.add_version(tx, first, NOT_YET, OFFICER, "chat")
        await answer_store.add_version(tx, second, DONE, OFFICER, "chat")
        # 1,300 ids without an answer sort first: the answered ones are in the third list
        found = await answer_store.versions_of(tx, [*range(-1_300, 0), first, second, third])
    assert {key: [(row.version, row.answer.state) for row in rows]
            for key, rows in found.items()} == {
        first: [(1, "implemented"), (2, "not_yet")], second: [(1, "implemented")]}

async def test_an_officer_records_drafts_within_their_districts(forum: Forum) -> None:
    answers = forum.answers
    saved = await answers.record(OFFICER, "dha-0001", DONE)
    assert isinstance(saved, Saved) and saved.changed and saved.answer.version == 1
    assert saved.answer.draft
    again = await answers.record(OFFICER, "DHA-0001", DONE)
    assert isinstance(again, Saved) and not again.changed  # the same answer: nothing done
    assert await answers.record(OFFICER, "KTM-0001", DONE) == Refused("forbidden")
    assert await answers.record(MODERATOR, "DHA-0001", DONE) == Refused("not_staff")
    assert await answers.record(OFFICER, "DHA-0003", DONE) == Refused("wrong_status", "pending")
    assert await answers.record(OFFICER, "DHA-9999", DONE) == Refused("not_found", "DHA-9999")
    # Another area's ref that does not exist is as out of reach as one that does: nothing
    # tells which refs exist there.
    assert await answers.record(OFFICER, "KTM-9999", DONE) == Refused("forbidden")
    invalid = await answers.record(OFFICER, "DHA-0002", replace(NOT_YET, solution=""))
    assert isinstance(invalid, Invalid) and [p.field for p in invalid.problems] == ["solution"]
    too_long = await answers.record(OFFICER, "DHA-0002", replace(DONE, text_vi="x" * 1501))
    assert isinstance(too_long, Invalid)


async def test_a_dash_is_no_answer_reason_or_way_forward(forum: Forum) -> None:
    """Text without a letter or a digit is refused as an empty one, in chat and in the
    workbook: a child would read "What happens next: -"."""
    answers = forum.answers
    invalid = await answers.record(OFFICER, "DHA-0002", replace(NOT_YET, solution="-"))
    assert isinstance(invalid, Invalid) and [p.field for p in invalid.problems] == ["solution"]
    invalid = await answers.record(OFFICER, "DHA-0002", replace(NOT_YET, text_vi="…",
                                                                reason=" ? "))
    assert isinstance(invalid, Invalid)
    assert [p.field for p in invalid.problems] == ["text_vi", "reason"]
    filled = fill(await forum.sheets.template(OFFICER, None, 2023), {"DHA-0002": {
        "Kết quả": "Chưa thể thực hiện", "Nội dung trả lời": "Chưa làm được",
        "Lý do (nếu chưa thể thực hiện)": "Thiếu kinh phí",
        "Giải pháp / lộ trình (nếu chưa thể thực hiện)": "-"}})
    plan = await forum.sheets.run(OFFICER, filled, apply=True)
    assert [forum.sheets.describe(p, "vi") for p in plan.problems] == [
        "Hàng 3, cột «Giải pháp / lộ trình (nếu chưa thể thực hiện)»: «Chưa thể thực hiện» cần"
        " ghi giải pháp / lộ trình"]
    assert await forum.db.reader.fetchval("SELECT count(*) FROM answers") == 0
    # In an optional field a dash says nothing too: kept empty (no "In charge: -")
    saved = await answers.record(OFFICER, "DHA-0002", replace(DONE, agency="-", due=" … "))
    assert isinstance(saved, Saved) and (saved.answer.answer.agency,
                                         saved.answer.answer.due) == ("", "")


async def test_of_two_officers_changing_one_draft_the_second_is_told(forum: Forum) -> None:
    answers = forum.answers
    first = await answers.record(OFFICER, "DHA-0001", DONE)
    assert isinstance(first, Saved)
    seen = first.answer.revision
    mine = await answers.record(OFFICER, "DHA-0001", replace(DONE, agency="Huyện"), seen)
    assert isinstance(mine, Saved) and mine.changed
    theirs = await answers.record(ADMIN, "DHA-0001", replace(DONE, agency="Tỉnh"), seen)
    assert isinstance(theirs, Stale) and theirs.by_user_id == OFFICER
    versions = await forum.db.reader.fetchall("SELECT version, agency FROM answers")
    assert versions == [(1, "Huyện")]
    # The draft was changed in place: the audit log keeps what it said before.
    details = [json.loads(row[0]) for row in await forum.db.reader.fetchall(
        "SELECT detail FROM audit_log WHERE action = 'answer' ORDER BY id")]
    assert "before" not in details[0]
    assert details[1]["fields"] == ["agency"] and details[1]["before"] == {"agency": DONE.agency}


async def test_of_two_officers_writing_the_first_answer_the_second_is_told(forum: Forum) -> None:
    """Both cards showed "no answer yet": the second typed answer must not replace the first."""
    answers = forum.answers
    first = await answers.record(OFFICER, "DHA-0002", DONE, NO_ANSWER)
    assert isinstance(first, Saved)
    second = await answers.record(ADMIN, "DHA-0002", replace(DONE, text_vi="Khác"), NO_ANSWER)
    assert isinstance(second, Stale) and second.by_user_id == OFFICER
    assert await forum.db.reader.fetchall(
        "SELECT text_vi FROM answers WHERE proposal_id = (SELECT id FROM proposals"
        " WHERE ref = 'DHA-0002')") == [(DONE.text_vi,)]


# --- publishing and telling -----------------------------------------------------------------------

async def test_publishing_tells_each_sender_once_in_their_language(forum: Forum) -> None:
    answers = forum.answers
    for ref in ("DHA-0001", "DHA-0002", "DHA-0004"):
        await answers.record(OFFICER, ref, NOT_YET if ref == "DHA-0002" else DONE)
    result = await answers.publish(OFFICER, "DHA")
    assert (result.published, result.told) == (3, 3)  # type: ignore[union-attr]
    told = await notices(forum.db)
    assert [chat for chat, _, _ in told] == [101, 102, FACILITATOR]
    vi, en, adult = (text for _, text, _ in told)
    assert "Ý kiến DHA-0001 của em đã có trả lời" in vi and "Đã thực hiện" in vi
    assert "Rào chắn" in vi  # the first words of the proposal, to recognise it
    assert "Your proposal DHA-0002 has an answer" in en and "Why not yet: Thiếu kinh phí" in en
    assert "What happens next: Đưa vào kế hoạch năm 2025" in en
    assert "thầy cô" in adult and "của em" not in adult  # a facilitator is an adult
    # 👍 / 👎, and 🆘 as on every screen (a child's words, or a facilitator's)
    keyboards = [json.loads(row[0])["keyboard"] for row in await forum.db.reader.fetchall(
        "SELECT payload FROM outbox WHERE kind = 'notice' ORDER BY id")]
    assert [[b[0] for b in rows[-1]] for rows in keyboards] == [
        ["🆘 Em cần giúp ngay"], ["🆘 I need help now"], ["🆘 Cần hỗ trợ khẩn cho một em"]]
    again = await answers.publish(OFFICER, "DHA")
    assert (again.published, again.told) == (0, 0)  # type: ignore[union-attr]
    assert len(await notices(forum.db)) == 3

    # A new wording of the same state tells nobody; a new state tells again.
    await answers.record(OFFICER, "DHA-0001", replace(DONE, text_vi="Đã làm rào, cắm biển."))
    await answers.record(OFFICER, "DHA-0002", DONE)
    result = await answers.publish(OFFICER, refs=["DHA-0001", "dha-0002"])
    assert (result.published, result.told) == (2, 1)  # type: ignore[union-attr]
    chat, text, _ = (await notices(forum.db))[-1]
    assert chat == 102 and "Your proposal DHA-0002 has a new answer" in text
    versions = await forum.db.reader.fetchall(
        "SELECT count(*) FROM answers WHERE published_at IS NOT NULL")
    assert versions == [(5,)]  # every version kept
    audited = await forum.db.reader.fetchall(
        "SELECT action, count(*) FROM audit_log GROUP BY action ORDER BY action")
    assert audited == [("answer", 5), ("publish", 5)]


async def test_a_draft_whose_proposal_left_the_forum_is_not_published(forum: Forum) -> None:
    """A moderator sent DHA-0001 to safeguarding after its answer was drafted: /publish by area
    (or by ref) leaves that draft alone, and its child is told nothing (a tester saw it told)."""
    answers = forum.answers
    for ref in ("DHA-0001", "DHA-0002"):
        await answers.record(OFFICER, ref, DONE)
    async with forum.db.transaction() as tx:
        await tx.execute("UPDATE proposals SET status = 'safeguarding' WHERE ref = 'DHA-0001'")
    result = await answers.publish(OFFICER, "DHA")
    assert (result.published, result.told) == (1, 1)  # type: ignore[union-attr]
    assert [chat for chat, _, _ in await notices(forum.db)] == [102]
    by_ref = await answers.publish(OFFICER, refs=["DHA-0001"])
    assert (by_ref.published, by_ref.told) == (0, 0)  # type: ignore[union-attr]


async def test_a_changed_result_is_told_as_a_new_answer(forum: Forum) -> None:
    """The child (or facilitator) told an earlier answer reads that this one is new."""
    answers = forum.answers
    for ref in ("DHA-0001", "DHA-0004"):
        await answers.record(OFFICER, ref, replace(DONE, state="in_progress"))
    await answers.publish(OFFICER)
    for ref in ("DHA-0001", "DHA-0004"):
        await answers.record(OFFICER, ref, DONE)
    await answers.publish(OFFICER)
    first_child, first_adult, child, adult = (text for _, text, _ in await notices(forum.db))
    assert "Ý kiến DHA-0001 của em đã có trả lời</b>" in first_child
    assert "nhóm do thầy cô ghi lại đã có trả lời</b>" in first_adult
    assert "Ý kiến DHA-0001 của em đã có trả lời mới</b>" in child and "Đã thực hiện" in child
    assert "Kiến nghị DHA-0004 của nhóm do thầy cô ghi lại đã có trả lời mới</b>" in adult
    assert "Thầy cô vui lòng báo lại" in adult


async def test_an_erased_child_is_told_nothing_and_feedback_is_theirs_only(forum: Forum) -> None:
    answers = forum.answers
    await answers.record(OFFICER, "DHA-0002", DONE)
    async with forum.db.transaction() as tx:
        await children.erase(tx, 102)  # /delete: their proposal goes with them
    assert await answers.record(OFFICER, "DHA-0002", DONE) == Refused("not_found", "DHA-0002")
    await answers.record(OFFICER, "DHA-0001", DONE)
    await answers.publish(OFFICER)
    told = await notices(forum.db)
    assert [chat for chat, _, _ in told] == [101]
    payload = json.loads((await forum.db.reader.fetchall("SELECT payload FROM outbox"))[0][0])
    up = payload["keyboard"][0][0][1]
    parsed = parse_feedback(up)
    assert parsed is not None and parsed[1] == "up"
    async with forum.db.transaction() as tx:
        assert await answers.feedback(tx, 101, parsed[0], "up")
        assert not await answers.feedback(tx, 103, parsed[0], "down")  # not told: ignored
    assert parse_feedback("a|①|up") is None and parse_feedback("a|" + "9" * 30 + "|up") is None


# --- the spreadsheet ------------------------------------------------------------------------------

def fill(template: bytes, values: dict[str, dict[str, object]],
         extra: list[dict[str, object]] | None = None) -> bytes:
    """Fill the template's rows (by ref) and append rows without a ref."""
    book = openpyxl.load_workbook(io.BytesIO(template))
    sheet = book["Trả lời"]
    where = {header: index + 1 for index, header in enumerate(HEADERS)}
    for row in range(2, sheet.max_row + 1):
        ref = sheet.cell(row, 1).value
        for header, value in values.get(str(ref), {}).items():
            sheet.cell(row, where[header], value)
    for row, line in enumerate(extra or [], sheet.max_row + 1):  # {}: an empty row
        for header, value in line.items():
            sheet.cell(row, where[header], value)
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


async def test_template_fill_dry_run_import_and_import_again(
        forum: Forum, monkeypatch: pytest.MonkeyPatch) -> None:
    sheets = forum.sheets
    template = await sheets.template(OFFICER, None, 2023)
    book = openpyxl.load_workbook(io.BytesIO(template))
    sheet = book["Trả lời"]
    assert [c.value for c in sheet[1]] == HEADERS
    assert [sheet.cell(r, 1).value for r in range(2, sheet.max_row + 1)] == [
        "DHA-0001", "DHA-0002", "DHA-0004"]  # DHA only, approved only
    assert "Nhóm 12 em" in str(sheet.cell(4, 5).value)
    lists = [v.formula1 for v in sheet.data_validations.dataValidation]
    assert any("Chưa thể thực hiện" in f for f in lists) and any("Tại Diễn đàn" in f for f in
                                                                  lists)
    assert "Hướng dẫn" in book.sheetnames
    filled = fill(template, {
        "DHA-0001": {"Kết quả": "Đã thực hiện", "Nội dung trả lời": "Đã làm rào chắn",
                     "Cơ quan chủ trì": "UBND xã", "Ngày văn bản": date(2024, 3, 5),
                     "Số văn bản": "12/UBND"},
        "DHA-0002": {"Kết quả": "not_yet", "Nội dung trả lời": "Chưa có kinh phí",
                     "Lý do (nếu chưa thể thực hiện)": "Thiếu kinh phí",
                     "Giải pháp / lộ trình (nếu chưa thể thực hiện)": "Năm 2025"},
        "DHA-0004": {"Kết quả": "Answered at the Forum", "Nội dung trả lời": "Đã trả lời",
                     "Hình thức trả lời": "Tại Diễn đàn"},
    }, extra=[{"Năm diễn đàn": 2019, "Địa bàn": "Huyện Đắk Hà", "Chủ đề": "2",
               "Nội dung kiến nghị": "Làm cầu qua suối Đăk Uy", "Kết quả": "Đã thực hiện",
               "Nội dung trả lời": "Cầu đã xong năm 2021"}])
    dry = await sheets.run(OFFICER, filled, apply=False)
    assert dry.problems == [] and (dry.new, dry.changed, dry.history) == (4, 0, 1)
    assert await forum.db.reader.fetchval("SELECT count(*) FROM answers") == 0
    done = await sheets.run(OFFICER, filled, apply=True)
    assert done.applied and done.new == 4
    rows = await forum.db.reader.fetchall(
        "SELECT p.ref, a.state, a.doc_date, a.how, a.source FROM answers a"
        " JOIN proposals p ON p.id = a.proposal_id ORDER BY p.ref")
    assert rows == [("DHA-0001", "implemented", "2024-03-05", "document", "import"),
                    ("DHA-0002", "not_yet", None, "document", "import"),
                    ("DHA-0004", "answered_at_forum", None, "forum", "import"),
                    ("DHA-2019-001", "implemented", None, "document", "import")]
    again = await sheets.run(OFFICER, filled, apply=True)
    assert again.applied and (again.new, again.changed, again.unchanged) == (0, 0, 4)
    assert await forum.db.reader.fetchval("SELECT count(*) FROM answers") == 4
    assert await forum.db.reader.fetchval(
        "SELECT count(*) FROM proposals WHERE origin = 'history'") == 1
    # The template now carries the answers (as labels), ready to be edited again.
    again_template = openpyxl.load_workbook(io.BytesIO(await sheets.template(OFFICER, "DHA",
                                                                              None)))
    states = [row[6].value for row in again_template["Trả lời"].iter_rows(min_row=2)]
    assert "Chưa thể thực hiện" in states
    # Published, the earlier forum's recommendation tells nobody, and the log says so.
    published = await forum.answers.publish(OFFICER, "DHA")
    assert not isinstance(published, Refused) and "DHA-2019-001" in published.refs
    told = await forum.db.reader.fetchval(
        "SELECT detail FROM audit_log WHERE action = 'publish' AND detail LIKE '%DHA-2019-001%'")
    assert '"told": false' in told
    # Nor is it one of this year's children's proposals: not in the exports, not in /stats.
    monkeypatch.setenv(forum.config.pseudonym_key_env, "a-long-enough-secret-key")
    csv_out = io.BytesIO()
    await export(forum.db, forum.config, load_catalog(forum.config), ExportQuery(), "csv",
                 csv_out)
    exported = csv_out.getvalue().decode("utf-8-sig")
    assert "DHA-0001" in exported and "DHA-2019-001" not in exported
    counted = await answer_store.counts(forum.db.reader, {"DHA"})
    assert sum(c.approved for c in counted) == 3 and sum(c.answered for c in counted) == 3
    stats = await forum.answers.moderation.stats(OFFICER)
    assert not isinstance(stats, Refused)
    assert sum(n for (district, _, status), n in stats.by_district_topic_status.items()
               if district == "DHA" and status == "approved") == 3


async def test_the_workbook_says_who_asked_in_an_officers_words(forum: Forum) -> None:
    """«Nhóm trẻ em» gives a child's sex as an officer writes it, not the child's button
    ("Bạn nữ", "Em không muốn nói")."""
    await forum.db.reader.execute(
        "UPDATE proposals SET gender = 'unsaid' WHERE ref = 'DHA-0002'")
    template = await forum.sheets.template(OFFICER, None, 2023)
    sheet = openpyxl.load_workbook(io.BytesIO(template))["Trả lời"]
    column = HEADERS.index("Nhóm trẻ em") + 1
    who = {sheet.cell(row, 1).value: sheet.cell(row, column).value
           for row in range(2, sheet.max_row + 1)}
    assert who["DHA-0001"] == "Trẻ em, 10-12 tuổi, nữ", who
    assert who["DHA-0002"] == "Trẻ em, 10-12 tuổi, giới tính: không nêu", who
    assert not any("Bạn" in text or "Em không" in text for text in who.values()), who


async def test_an_old_copy_of_the_workbook_does_not_undo_a_newer_answer(forum: Forum) -> None:
    """A row saying what an earlier version said (not the latest) is an old copy: importing it
    would bring the old result back and tell the child it again. The file being edited still
    imports: rows as they are now are unchanged, rows with new words are changed."""
    sheets, answers = forum.sheets, forum.answers
    under_way = {"Kết quả": "Đang thực hiện / có lộ trình", "Nội dung trả lời": "Đang làm cầu"}
    old = fill(await sheets.template(OFFICER, None, 2023), {"DHA-0002": under_way})
    assert (await sheets.run(OFFICER, old, apply=True)).applied
    await answers.publish(OFFICER)  # version 1
    newer = fill(await sheets.template(OFFICER, None, 2023), {"DHA-0002": {
        "Kết quả": "Đã thực hiện", "Nội dung trả lời": "Cầu đã làm xong"}})
    assert (await sheets.run(OFFICER, newer, apply=True)).changed == 1
    await answers.publish(OFFICER)  # version 2
    told = len(await notices(forum.db))
    again = await sheets.run(OFFICER, old, apply=True)
    assert not again.applied
    written = await forum.db.reader.fetchval("SELECT answered_at FROM answers WHERE version = 2")
    day = datetime.fromisoformat(written).astimezone(LOCAL_TIME).strftime("%d/%m/%Y")
    assert [sheets.describe(p, "vi") for p in again.problems] == [
        f"Hàng 3: DHA-0002: hàng này là câu trả lời cũ (phiên bản 1), đã được thay bằng phiên"
        f" bản 2 ngày {day} — có thể đây là bản sao cũ của tệp; hãy tải bản mẫu mới"]
    assert "an old copy of the file" in sheets.describe(again.problems[0], "en")
    assert await forum.db.reader.fetchval("SELECT count(*) FROM answers") == 2
    assert len(await notices(forum.db)) == told
    # The newer file, edited on: DHA-0002 as it is now is unchanged; new words are changed.
    edited = fill(newer, {"DHA-0001": {"Kết quả": "Đã thực hiện", "Nội dung trả lời": "Xong"}})
    plan = await sheets.run(OFFICER, edited, apply=True)
    assert plan.applied and (plan.new, plan.changed, plan.unchanged) == (1, 0, 1)
    edited = fill(edited, {"DHA-0002": {"Nội dung trả lời": "Cầu đã xong, có lan can"}})
    plan = await sheets.run(OFFICER, edited, apply=True)
    assert plan.applied and (plan.new, plan.changed, plan.unchanged) == (0, 1, 1)
    edited = fill(edited, {"DHA-0002": {"Nội dung trả lời": "Cầu đã xong, có lan can."}})
    plan = await sheets.run(OFFICER, edited, apply=True)  # the draft (version 3) rewritten
    assert plan.applied and (plan.new, plan.changed, plan.unchanged) == (0, 1, 1)


async def test_dates_in_free_text_are_written_and_shown_day_first(forum: Forum) -> None:
    """A date cell in «Thời hạn» (Excel, or "15/3/2027" that LibreOffice turned into a date) is
    kept as 15/03/2027; a date an older import stored as ISO is shown day first to the child
    and on the card; the template keeps "15/12" typed as a document number as text."""
    where = {header: index + 1 for index, header in enumerate(HEADERS)}
    template = await forum.sheets.template(OFFICER, None, 2023)
    sheet = openpyxl.load_workbook(io.BytesIO(template))["Trả lời"]
    assert [sheet.cell(2, where[header]).number_format for header in (
        "Thời hạn / lộ trình", "Số văn bản")] == ["@", "@"]
    filled = fill(template, {"DHA-0001": {
        "Kết quả": "Đang thực hiện / có lộ trình", "Nội dung trả lời": "Đang làm rào chắn",
        "Thời hạn / lộ trình": date(2027, 3, 15), "Số văn bản": "15/12"}})
    assert (await forum.sheets.run(OFFICER, filled, apply=True)).applied
    assert await forum.db.reader.fetchall("SELECT due, doc_number FROM answers") == [
        ("15/03/2027", "15/12")]
    await forum.db.reader.execute("UPDATE answers SET due = '2027-06-30'")  # an older import
    await forum.answers.publish(OFFICER)
    [(_, told, _)] = await notices(forum.db)
    assert "Thời gian: 30/06/2027" in told and "2027-06-30" not in told
    desk = AnswerDesk(forum.answers, forum.sheets, forum.answers.catalog, forum.config)
    item = await by_ref(forum.db.reader, "DHA-0001")
    latest = await answer_store.latest(forum.db.reader, item.id) if item else None
    assert item is not None and latest is not None
    card = desk._card_text(cast(Caller, SimpleNamespace(lang="vi")), item, latest.answer, latest)
    assert "Thời hạn / lộ trình: 30/06/2027" in card


async def test_a_bad_sheet_is_refused_whole_with_every_problem_by_row_and_column(
        forum: Forum) -> None:
    sheets = forum.sheets
    template = await sheets.template(ADMIN, None, None)
    filled = fill(template, {
        "DHA-0001": {"Kết quả": "Xong rồi", "Nội dung trả lời": "x"},  # not a state label
        "DHA-0002": {"Kết quả": "Chưa thể thực hiện", "Nội dung trả lời": "y"},  # no reason
        "DHA-0004": {"Kết quả": "Đã thực hiện", "Nội dung trả lời": "z",
                     "Ngày văn bản": "hôm qua"},
        "KTM-0001": {"Kết quả": "Đã thực hiện", "Nội dung trả lời": "=1+1"},
    }, extra=[{"Mã kiến nghị": "DHA-0003", "Kết quả": "Đã thực hiện", "Nội dung trả lời": "a"},
              {"Mã kiến nghị": "XYZ-0001", "Kết quả": "Đã thực hiện", "Nội dung trả lời": "b"},
              {}, {"Mã kiến nghị": "DHA-0001", "Kết quả": "Đã thực hiện",
                   "Nội dung trả lời": "c"}])
    plan = await sheets.run(OFFICER, filled, apply=True)
    assert not plan.applied
    lines = [sheets.describe(p, "vi") for p in plan.problems]
    text = "\n".join(lines)
    assert "Hàng 2, cột «Kết quả»: kết quả «Xong rồi» không có trong danh sách; chọn trong ô" \
        " thả xuống một trong: Đã thực hiện, Đang thực hiện / có lộ trình, Chưa thể thực hiện," \
        " Đã chuyển cơ quan có thẩm quyền, Đã trả lời tại Diễn đàn" in text
    assert "Hàng 3, cột «Lý do (nếu chưa thể thực hiện)»: «Chưa thể thực hiện» cần ghi lý do" \
        in text
    assert "Hàng 4, cột «Ngày văn bản»: không phải là ngày" in text
    assert "Hàng 5, cột «Nội dung trả lời»: ô chứa công thức" in text
    assert "Hàng 6, cột «Mã kiến nghị»: kiến nghị DHA-0003 chưa được duyệt" in text
    assert "Hàng 7, cột «Mã kiến nghị»: không có kiến nghị mã XYZ-0001" in text
    assert "Hàng 9, cột «Mã kiến nghị»: mã DHA-0001 đã có ở hàng 2" in text
    # every problem of a row in one round, each cell said once: KTM-0001's row reports its
    # formula and that it is outside this officer's districts (not the emptied text again)
    assert [line for line in lines if line.startswith("Hàng 5")] == [
        "Hàng 5, cột «Nội dung trả lời»: ô chứa công thức; hãy gõ giá trị thay cho công thức",
        "Hàng 5, cột «Mã kiến nghị»: kiến nghị KTM-0001 thuộc địa bàn ngoài phạm vi của bạn"]
    both = fill(template, {"DHA-0002": {"Kết quả": "Chưa thể thực hiện", "Nội dung trả lời": "y",
                                        "Ngày văn bản": "31/02/2024"}})
    found = [sheets.describe(p, "vi") for p in (await sheets.run(OFFICER, both, False)).problems]
    assert found[0].startswith("Hàng 3, cột «Ngày văn bản»: không phải là ngày")
    assert any("cần ghi lý do" in line for line in found[1:]), found
    assert await forum.db.reader.fetchval("SELECT count(*) FROM answers") == 0
    outside = fill(template, {"KTM-0001": {"Kết quả": "Đã thực hiện",
                                            "Nội dung trả lời": "ok"}})
    lines = [sheets.describe(p, "en") for p in (await sheets.run(OFFICER, outside,
                                                                  False)).problems]
    assert lines == ["Row 5, column «Mã kiến nghị»: proposal KTM-0001 is outside your districts"]


async def test_two_columns_with_one_header_are_a_problem(forum: Forum) -> None:
    """An inserted column headed as another: the later one, empty, won silently."""
    book = openpyxl.load_workbook(io.BytesIO(await forum.sheets.template(OFFICER, None, 2023)))
    sheet = book["Trả lời"]
    sheet["G2"], sheet["H2"] = "Đã thực hiện", "Đã làm rào chắn"
    sheet.insert_cols(9)
    sheet["I1"] = "Nội dung trả lời"
    out = io.BytesIO()
    book.save(out)
    plan = await forum.sheets.run(OFFICER, out.getvalue(), apply=True)
    assert [forum.sheets.describe(p, "en") for p in plan.problems] == [
        "Row 1: two columns named «Nội dung trả lời» (columns H and I); delete or rename one"]
    assert not plan.applied


async def test_the_answers_sheet_renamed_and_moved_after_the_guide_is_found(
        forum: Forum) -> None:
    book = openpyxl.load_workbook(io.BytesIO(await forum.sheets.template(OFFICER, None, 2023)))
    sheet = book["Trả lời"]
    sheet["G2"], sheet["H2"] = "Đã thực hiện", "Đã làm rào chắn"
    sheet.title = "Huyện Đắk Hà"
    book.move_sheet(sheet, offset=1)
    assert book.sheetnames == ["Hướng dẫn", "Huyện Đắk Hà"]
    out = io.BytesIO()
    book.save(out)
    plan = await forum.sheets.run(OFFICER, out.getvalue(), apply=True)
    assert plan.problems == [] and plan.applied and plan.new == 1


async def test_a_text_starting_with_equals_is_not_a_formula(forum: Forum) -> None:
    """A child's "=))" (kept as text in the template by the quote prefix) and an officer's
    "=> …" typed as text are words; only a cell Excel stores as a formula is refused."""
    await forum.db.reader.execute(
        "UPDATE proposals SET proposal = '=)) tụi em muốn có sân chơi an toàn'"
        " WHERE ref = 'DHA-0004'")
    template = await forum.sheets.template(OFFICER, None, None)
    book = openpyxl.load_workbook(io.BytesIO(template))
    sheet = book["Trả lời"]
    where = {header: index + 1 for index, header in enumerate(HEADERS)}
    row = next(r for r in range(2, sheet.max_row + 1) if sheet.cell(r, 1).value == "DHA-0004")
    assert sheet.cell(row, where["Nội dung kiến nghị"]).value.startswith("=))")
    sheet.cell(row, where["Kết quả"], "Đã thực hiện")
    answer = sheet.cell(row, where["Nội dung trả lời"], "=> Xã đã làm sân chơi")
    answer.data_type, answer.quotePrefix = "s", True
    out = io.BytesIO()
    book.save(out)
    plan = await forum.sheets.run(OFFICER, out.getvalue(), apply=True)
    assert [forum.sheets.describe(p, "vi") for p in plan.problems] == []
    assert plan.applied and plan.new == 1
    assert await forum.db.reader.fetchval("SELECT text_vi FROM answers") == (
        "=> Xã đã làm sân chơi")
    formula = fill(template, {"DHA-0004": {"Kết quả": "Đã thực hiện",
                                           "Nội dung trả lời": "=1+1"}})
    refused = await forum.sheets.run(OFFICER, formula, apply=False)
    assert [p.key for p in refused.problems] == ["sheet.formula"]


async def test_labels_typed_in_decomposed_unicode_are_the_same_labels(forum: Forum) -> None:
    """Unikey's "Unicode tổ hợp" and macOS type Vietnamese decomposed (NFD)."""
    import unicodedata

    def nfd(text: str) -> str:
        return unicodedata.normalize("NFD", text)

    assert nfd("Đã thực hiện") != "Đã thực hiện"
    filled = fill(await forum.sheets.template(OFFICER, None, None), {
        "DHA-0001": {"Kết quả": nfd("Đã thực hiện"), "Nội dung trả lời": nfd("Đã làm rào chắn"),
                     "Hình thức trả lời": nfd("Tại Diễn đàn")}})
    plan = await forum.sheets.run(OFFICER, filled, apply=True)
    assert [forum.sheets.describe(p, "vi") for p in plan.problems] == []
    assert plan.applied and plan.new == 1
    assert await forum.db.reader.fetchall("SELECT state, how, text_vi FROM answers") == [
        ("implemented", "forum", "Đã làm rào chắn")]


def test_results_and_hows_are_read_as_officers_type_them() -> None:
    """Any case, tone marks, spaces and punctuation, either language, or the first words (two
    at least) of one label; never a guess between two."""
    vocabulary = Vocabulary.of(load_catalog(load_config(ROOT / "config.example.toml")).texts.table)
    states = {typed: vocabulary.states.find(typed) for typed in (
        "đã thực hiện", "DA THUC HIEN", "Chua the thuc hien", "carried out", "Đang thực hiện",
        "Đang thực hiện/có lộ trình", "Đã  thực hiện", "Đã chuyển", "  not_yet ", "Đã",
        "Xong rồi", "Đang", "")}
    assert states == {"đã thực hiện": "implemented", "DA THUC HIEN": "implemented",
                      "Chua the thuc hien": "not_yet", "carried out": "implemented",
                      "Đang thực hiện": "in_progress", "Đang thực hiện/có lộ trình": "in_progress",
                      "Đã  thực hiện": "implemented", "Đã chuyển": "transferred",
                      "  not_yet ": "not_yet", "Đã": None, "Xong rồi": None, "Đang": None,
                      "": None}
    assert [vocabulary.hows.find(typed) for typed in ("tai dien dan", "BẰNG VĂN BẢN.",
                                                      "by a document", "văn bản")] == [
        "forum", "document", "document", None]
    two = Choices.of({"done": ["Đã làm xong"], "partly": ["Đã làm một phần"]})
    assert (two.find("Đã làm"), two.find("da lam xong"), two.find("Đã làm một")) == (
        None, "done", "partly")


async def test_a_result_typed_loosely_is_imported_and_one_refused_is_quoted(
        forum: Forum) -> None:
    template = await forum.sheets.template(OFFICER, None, 2023)
    filled = fill(template, {
        "DHA-0001": {"Kết quả": "DA THUC HIEN", "Nội dung trả lời": "Xong",
                     "Hình thức trả lời": "tai dien dan"},
        "DHA-0002": {"Kết quả": "Đang thực hiện", "Nội dung trả lời": "Đang làm"},
        "DHA-0004": {"Kết quả": "Đã trả lời tại Diễn đàn", "Nội dung trả lời": "Đã trả lời"}})
    plan = await forum.sheets.run(OFFICER, filled, apply=True)
    assert plan.applied and plan.problems == []
    # an empty «Hình thức trả lời»: by a document, but at the forum for a result that says so
    assert await forum.db.reader.fetchall("SELECT state, how FROM answers ORDER BY id") == [
        ("implemented", "forum"), ("in_progress", "document"), ("answered_at_forum", "forum")]
    refused = fill(template, {"DHA-0004": {"Kết quả": "Đã", "Nội dung trả lời": "Xong",
                                           "Hình thức trả lời": "họp"}})
    lines = [forum.sheets.describe(p, "en") for p in (await forum.sheets.run(
        OFFICER, refused, apply=False)).problems]
    assert lines == [
        "Row 4, column «Kết quả»: the result «Đã» is not one of the list; pick one from the"
        " drop-down: Carried out, Under way / scheduled, Cannot be done yet, Passed to the"
        " competent agency, Answered at the Forum",
        "Row 4, column «Hình thức trả lời»: how it was answered, «họp», is not one of the"
        " list; pick «At the Forum» or «By a document»"]


async def test_an_earlier_forums_recommendation_typed_twice_is_one_row_to_remove(
        forum: Forum) -> None:
    """Without a ref, a recommendation is its year, area, topic and text: on two rows it would
    be added twice, and which row's answer is meant is the officer's to say."""
    bridge = {"Năm diễn đàn": 2019, "Chủ đề": 2, "Kết quả": "Đã thực hiện",
              "Nội dung kiến nghị": "Xây cầu qua suối cho học sinh",
              "Nội dung trả lời": "Đã xây cầu năm 2021"}
    template = await forum.sheets.template(OFFICER, None, None)
    twice = fill(template, {}, extra=[{**bridge, "Địa bàn": "DHA"},
                                      {**bridge, "Địa bàn": "Huyện Đắk Hà"},
                                      {**bridge, "Địa bàn": "DHA", "Năm diễn đàn": 2020}])
    plan = await forum.sheets.run(OFFICER, twice, apply=True)
    assert not plan.applied
    assert [forum.sheets.describe(p, "vi") for p in plan.problems] == [
        "Hàng 6, cột «Nội dung kiến nghị»: kiến nghị này đã có ở hàng 5 (cùng năm, địa bàn, chủ"
        " đề và nội dung): mỗi kiến nghị chỉ ghi một hàng; hãy xoá một trong hai hàng"]
    assert await forum.db.reader.fetchval(
        "SELECT count(*) FROM proposals WHERE origin = 'history'") == 0
    once = fill(template, {}, extra=[{**bridge, "Địa bàn": "DHA"}])
    assert (await forum.sheets.run(OFFICER, once, apply=True)).history == 1


async def test_an_area_is_found_by_its_place_name_or_the_names_to_write_are_said(
        forum: Forum) -> None:
    """"Đắk Hà" for "Huyện Đắk Hà" (the config's place, or the name without its unit word);
    an area not found lists the names when they are few, or says where to find them."""
    template = await forum.sheets.template(ADMIN, None, None)
    old = {"Năm diễn đàn": 2019, "Chủ đề": 2, "Kết quả": "Đã thực hiện",
           "Nội dung trả lời": "Đã làm"}
    places = fill(template, {}, extra=[
        {**old, "Địa bàn": "Đắk Hà", "Nội dung kiến nghị": "Làm cầu"},
        {**old, "Địa bàn": "dak to", "Nội dung kiến nghị": "Làm cầu"},
        {**old, "Địa bàn": "Kon Tum", "Nội dung kiến nghị": "Làm cầu"}])
    plan = await forum.sheets.run(ADMIN, places, apply=True)
    assert plan.problems == [] and plan.history == 3
    assert await forum.db.reader.fetchall(
        "SELECT district FROM proposals WHERE origin = 'history' ORDER BY id") == [
        ("DHA",), ("DTO",), ("KTM",)]
    unknown = fill(template, {}, extra=[{**old, "Địa bàn": "Đắk Hàa",
                                         "Nội dung kiến nghị": "Làm cầu"}])
    [problem] = (await forum.sheets.run(OFFICER, unknown, apply=False)).problems
    assert forum.sheets.describe(problem, "vi") == (
        "Hàng 6, cột «Địa bàn»: không có địa bàn «Đắk Hàa»; ghi tên hoặc mã một trong:"
        " Huyện Đắk Hà (DHA)")
    everywhere = [forum.sheets.describe(p, "vi") for p in (await forum.sheets.run(
        ADMIN, unknown, apply=False)).problems]
    assert everywhere[0].endswith("Thành phố Kon Tum (KTM), Huyện Đắk Glei (DGL), Huyện Đắk Hà"
                                  " (DHA), Huyện Đắk Tô (DTO), Huyện Ia H'Drai (IHD), Huyện Kon"
                                  " Plông (KPL), Huyện Kon Rẫy (KRY), Huyện Ngọc Hồi (NHO),"
                                  " Huyện Sa Thầy (STH), Huyện Tu Mơ Rông (TMR)"), everywhere
    many = replace(forum.config, past_areas=tuple(
        District(f"X{n:02d}", f"Xã Số {n}", f"Commune {n}") for n in range(6)))
    sheets = AnswerSheets(forum.answers, many, forum.answers.catalog)
    [problem] = (await sheets.run(ADMIN, unknown, apply=False)).problems
    assert sheets.describe(problem, "en") == (
        "Row 6, column «Địa bàn»: there is no area «Đắk Hàa»; write the area's name or code as"
        " the template's «Địa bàn» column has it")


async def test_a_name_several_areas_have_is_said_to_be_ambiguous_with_their_codes(
        forum: Forum, tmp_path: Path) -> None:
    """A 2026 config held by commune keeps the 2023 districts: "Đắk Hà" is the district and,
    since July 2025, a commune; "Kon Tum" a city, a province and a ward. The forum year tells
    some apart (no commune in 2022); otherwise the problem says the name is ambiguous and
    names each area with its code, not that there is no such area."""
    from bot.areas import forum_areas, load_areas

    csv_file = tmp_path / "areas.csv"
    csv_file.write_text(
        "code,name,name_en,level,parent,valid_from,valid_to,place\n"
        "KTU,Tỉnh Kon Tum,Kon Tum Province,province,,,2025-06-30,Kon Tum\n"
        "KTM,Thành phố Kon Tum,Kon Tum City,district,KTU,,2025-06-30,Kon Tum\n"
        "DHA,Huyện Đắk Hà,Dak Ha District,district,KTU,,2025-06-30,Đắk Hà\n"
        "DAKHA,Xã Đăk Hà,Dak Ha Commune,commune,QNG,2025-07-01,,\n"
        "PKONTUM,Phường Kon Tum,Kon Tum Ward,commune,QNG,2025-07-01,,\n"
        "BATO,Xã Ba Tơ,Ba To Commune,commune,QNG,2025-07-01,,\n"
        "BATO2,Xã Ba Tô,Ba To Commune,commune,QNG,2025-07-01,,\n", encoding="utf-8")
    every = load_areas(csv_file)
    communes = forum_areas(every, "commune", 2026)
    config = replace(forum.config, forum_year=2026, area_level="commune", districts=communes,
                     past_areas=tuple(a for a in every if a not in communes))
    sheets = AnswerSheets(forum.answers, config, forum.answers.catalog)
    template = await forum.sheets.template(ADMIN, None, None)
    old = {"Chủ đề": 2, "Kết quả": "Đã thực hiện", "Nội dung trả lời": "Đã làm",
           "Nội dung kiến nghị": "Làm cầu"}
    rows = [(2025, "Đắk Hà"), (2021, "Kon Tum"), (2025, "Kon Tum"), (2025, "xa ba to")]
    book = fill(template, {}, extra=[{**old, "Năm diễn đàn": year, "Địa bàn": area}
                                     for year, area in rows])
    said = [sheets.describe(p, "vi") for p in (await sheets.run(ADMIN, book, apply=False))
            .problems]
    assert said == [
        "Hàng 6, cột «Địa bàn»: «Đắk Hà» là tên của nhiều địa bàn: Huyện Đắk Hà (DHA), Xã Đăk"
        " Hà (DAKHA); ghi mã của địa bàn muốn chọn (trong ngoặc)",
        "Hàng 7, cột «Địa bàn»: «Kon Tum» là tên của nhiều địa bàn: Tỉnh Kon Tum (KTU), Thành"
        " phố Kon Tum (KTM); ghi mã của địa bàn muốn chọn (trong ngoặc)",
        "Hàng 8, cột «Địa bàn»: «Kon Tum» là tên của nhiều địa bàn: Tỉnh Kon Tum (KTU), Thành"
        " phố Kon Tum (KTM), Phường Kon Tum (PKONTUM); ghi mã của địa bàn muốn chọn (trong"
        " ngoặc)",
        "Hàng 9, cột «Địa bàn»: «xa ba to» là tên của nhiều địa bàn: Xã Ba Tơ (BATO), Xã Ba Tô"
        " (BATO2); ghi mã của địa bàn muốn chọn (trong ngoặc)"], said
    english = (await sheets.run(ADMIN, book, apply=False)).problems[0]
    assert sheets.describe(english, "en").endswith(
        "«Đắk Hà» is the name of several areas: Huyện Đắk Hà (DHA), Xã Đăk Hà (DAKHA); write"
        " the code (in brackets) of the one meant")
    # In 2022 there was no commune of that name: the district is meant. A code is a code.
    clear = fill(template, {}, extra=[{**old, "Năm diễn đàn": 2022, "Địa bàn": "Đắk Hà"},
                                      {**old, "Năm diễn đàn": 2025, "Địa bàn": "dakha"}])
    plan = await sheets.run(ADMIN, clear, apply=True)
    assert plan.problems == [] and plan.history == 2
    assert await forum.db.reader.fetchall(
        "SELECT forum_year, district FROM proposals WHERE origin = 'history'"
        " ORDER BY forum_year") == [(2022, "DHA"), (2025, "DAKHA")]


async def test_an_earlier_forums_recommendation_retyped_a_little_is_the_same_one(
        forum: Forum) -> None:
    """Case, runs of spaces and the punctuation at the end aside, a recommendation without a
    ref is the one imported before (and typed twice in one file, one row too many)."""
    old = {"Năm diễn đàn": 2019, "Địa bàn": "DHA", "Chủ đề": 2, "Kết quả": "Đã thực hiện",
           "Nội dung trả lời": "Đã làm"}
    template = await forum.sheets.template(OFFICER, None, None)
    first = fill(template, {}, extra=[{**old, "Nội dung kiến nghị": "Làm cầu qua suối"},
                                      {**old, "Nội dung kiến nghị": "Lắp  camera ở cổng  trường"}])
    assert (await forum.sheets.run(OFFICER, first, apply=True)).history == 2
    retyped = fill(template, {}, extra=[
        {**old, "Nội dung kiến nghị": "Làm cầu qua suối."},
        {**old, "Nội dung kiến nghị": "lắp camera ở cổng trường !", "Nội dung trả lời": "Xong"}])
    plan = await forum.sheets.run(OFFICER, retyped, apply=True)
    assert plan.applied and (plan.history, plan.unchanged, plan.changed) == (0, 1, 1)
    assert await forum.db.reader.fetchall(
        "SELECT proposal FROM proposals WHERE origin = 'history' ORDER BY id") == [
        ("Làm cầu qua suối",), ("Lắp camera ở cổng trường",)]
    twice = fill(template, {}, extra=[{**old, "Nội dung kiến nghị": "Xây sân chơi"},
                                      {**old, "Nội dung kiến nghị": "xây sân  chơi."}])
    assert [p.key for p in (await forum.sheets.run(OFFICER, twice, apply=False)).problems] == [
        "sheet.history_twice"]


async def test_the_import_report_counts_every_row_read(forum: Forum) -> None:
    """"(N hàng)": the answered rows, those left unanswered and those with a problem alike."""
    template = await forum.sheets.template(OFFICER, None, 2023)  # DHA-0001, 0002, 0004
    answered = fill(template, {"DHA-0001": {"Kết quả": "Đã thực hiện", "Nội dung trả lời": "x"}},
                    extra=[{}])  # and an empty row: not a row read
    plan = await forum.sheets.run(OFFICER, answered, apply=False)
    assert (plan.rows, plan.new, plan.unanswered, plan.problems) == (3, 1, 2, [])
    flawed = fill(template, {"DHA-0001": {"Kết quả": "Đã thực hiện", "Nội dung trả lời": "x"},
                             "DHA-0002": {"Kết quả": "Xong rồi", "Nội dung trả lời": "y"}})
    plan = await forum.sheets.run(OFFICER, flawed, apply=False)
    assert (plan.rows, plan.unanswered, len(plan.problems)) == (3, 1, 1)


async def test_files_that_are_not_answer_sheets_get_a_clear_answer(forum: Forum) -> None:
    sheets = forum.sheets
    not_xlsx = await sheets.run(OFFICER, b"%PDF-1.4 not a workbook", apply=True)
    assert [sheets.describe(p, "vi") for p in not_xlsx.problems] == [
        "Tệp này không phải bảng tính Excel (.xlsx); hãy lưu lại dưới dạng .xlsx rồi gửi"]
    book = openpyxl.Workbook()
    assert book.active is not None
    book.active.append(["Mã kiến nghị", "Ghi chú", "Nội dung trả lời"])
    book.active.append(["DHA-0001", "x", "y"])
    out = io.BytesIO()
    book.save(out)
    missing = await sheets.run(OFFICER, out.getvalue(), apply=True)
    assert [sheets.describe(p, "vi") for p in missing.problems] == ["Hàng 1: thiếu cột Kết quả"]
    huge = await sheets.run(OFFICER, b"0" * (21 * 1024 * 1024), apply=True)
    assert "lớn quá" in sheets.describe(huge.problems[0], "vi")
    merged_book = openpyxl.load_workbook(io.BytesIO(await sheets.template(OFFICER, None, None)))
    sheet = merged_book["Trả lời"]
    sheet["G2"], sheet["H2"] = "Đã thực hiện", "Đã làm"
    sheet.merge_cells("G2:G3")
    merged = io.BytesIO()
    merged_book.save(merged)
    plan = await sheets.run(OFFICER, merged.getvalue(), apply=True)
    assert [sheets.describe(p, "vi") for p in plan.problems if p.key == "sheet.merged"] == [
        f"Hàng {row}: có ô bị gộp (merge); hãy bỏ gộp và điền từng hàng" for row in (2, 3)]


async def test_twenty_thousand_rows_are_checked_in_reasonable_time(forum: Forum) -> None:
    rows = 20_000
    book = openpyxl.Workbook(write_only=True)
    sheet = book.create_sheet("Trả lời")
    sheet.append(HEADERS)
    for number in range(rows):
        sheet.append([f"DHA-{number + 10_000}", 2023, "", "", "", "", "Đã thực hiện", "Xong"])
    out = io.BytesIO()
    book.save(out)

    def floor() -> float:
        """openpyxl merely reading every cell."""
        started = time.monotonic()
        read = openpyxl.load_workbook(io.BytesIO(out.getvalue()), read_only=True)
        assert sum(1 for _ in read.worksheets[0].iter_rows()) == rows + 1
        return time.monotonic() - started

    before = floor()
    started = time.monotonic()
    plan = await forum.sheets.run(OFFICER, out.getvalue(), apply=True)
    took = time.monotonic() - started
    after = floor()
    assert not plan.applied and len(plan.problems) == rows
    assert plan.problems[0].key == "sheet.unknown_ref"
    # Against a floor measured just before and just after (the machine may be shared, and its
    # load change meanwhile): checking each row against the database adds a few times the
    # reading, not a quadratic blow-up (which, at 20,000 rows, would take minutes).
    assert took < 6 * max(before, after), (took, before, after)


# --- the follow-up report -------------------------------------------------------------------------

async def test_the_follow_up_report_in_word_and_excel(forum: Forum, tmp_path: Path) -> None:
    import docx

    from bot.exports.followup import HEADERS as FOLLOWUP_HEADERS
    from bot.exports.followup import followup_export

    answers = forum.answers
    await answers.record(OFFICER, "DHA-0001", DONE)
    await answers.record(OFFICER, "DHA-0002", NOT_YET)
    await answers.record(OFFICER, "DHA-0004", replace(DONE, state="in_progress",
                                                      due="Quý III/2024", partners="Đoàn xã"))
    await answers.publish(OFFICER)
    # Child 101 was told (the outbox sent the notice); 102's notice is still waiting.
    await forum.db.reader.execute(
        "UPDATE outbox SET state = 'sent', done_at = '2024-03-05T02:00:00+00:00'"
        " WHERE chat_id = 101")
    sheet = fill(await forum.sheets.template(ADMIN, None, None), {}, extra=[
        {"Năm diễn đàn": 2019, "Địa bàn": "DHA", "Chủ đề": "Phòng chống tai nạn, thương tích",
         "Nội dung kiến nghị": "Có hồ bơi cho trẻ em", "Kết quả": "Đã thực hiện",
         "Nội dung trả lời": "Đã xây hồ bơi năm 2021", "Cơ quan chủ trì": "UBND huyện"}])
    assert (await forum.sheets.run(ADMIN, sheet, apply=True)).applied
    await answers.publish(ADMIN)
    word, excel = tmp_path / "f.docx", tmp_path / "f.xlsx"
    count = await followup_export(forum.db, forum.config, forum.answers.catalog, ("DHA",), 2019,
                                  2023, "docx", word)
    await followup_export(forum.db, forum.config, forum.answers.catalog, ("DHA",), 2019, 2023,
                          "xlsx", excel)
    assert count == 4  # DHA-2019-001, DHA-0001, DHA-0002, DHA-0004 (DHA-0003: not approved)
    document = docx.Document(str(word))
    text = "\n".join(p.text for p in document.paragraphs)
    assert "Kết quả giải quyết, trả lời kiến nghị của trẻ em" in text
    assert "từ năm 2019 đến năm 2023" in text
    assert "Tổng số kiến nghị của trẻ em: 4; đã được trả lời: 4 (100%); đã thực hiện: 2 (50%)" \
        in text
    assert "II. KIẾN NGHỊ ĐÃ ĐƯỢC GIẢI QUYẾT, THỰC HIỆN" in text
    assert "IV. KIẾN NGHỊ CHƯA THỂ THỰC HIỆN (LÝ DO, GIẢI PHÁP)" in text
    assert "lý do: Thiếu kinh phí; giải pháp, lộ trình: Đưa vào kế hoạch năm 2025" in text
    assert "thời hạn: Quý III/2024" in text
    assert "- UBND huyện: 2 kiến nghị, đã trả lời 2 (100%), đã thực hiện 1 (50%);" in text
    annex = document.tables[-1]
    assert [c.text for c in annex.rows[0].cells] == list(FOLLOWUP_HEADERS)
    refs = [row.cells[1].text for row in annex.rows[1:] if row.cells[1].text != row.cells[0].text]
    assert refs == ["DHA-2019-001", "DHA-0001", "DHA-0004", "DHA-0002"]
    told = {row.cells[1].text: row.cells[12].text for row in annex.rows[1:]}
    assert told["DHA-0001"] == "05/03/2024" and told["DHA-0002"] == ""
    answered = FOLLOWUP_HEADERS.index("Nội dung trả lời")
    # the answer and its timeline, as in the report's text: an item under way has its date
    expected = {"DHA-0004": (DONE.text_vi, "thời hạn: Quý III/2024"),
                "DHA-0002": (NOT_YET.text_vi, "Đưa vào kế hoạch năm 2025"),
                "DHA-0001": (DONE.text_vi, "")}
    assert {row.cells[1].text: (row.cells[answered].text, row.cells[answered + 2].text)
            for row in annex.rows[1:] if row.cells[1].text in expected} == expected
    book = openpyxl.load_workbook(excel)
    follow = book["Theo dõi kiến nghị"]
    assert [c.value for c in follow[1]] == ["Phần", *FOLLOWUP_HEADERS]
    told_cell = next(r[13].value for r in follow.iter_rows(min_row=2) if r[2].value == "DHA-0001")
    assert told_cell.date() == date(2024, 3, 5)  # a real date
    assert {r[2].value: (r[answered + 1].value, r[answered + 3].value or "")
            for r in follow.iter_rows(min_row=2) if r[2].value in expected} == expected
    rates = [tuple(c.value for c in row) for row in book["Tỷ lệ"].iter_rows()]
    assert ("Tổng số", 4, "Đã trả lời", 4, "Đã thực hiện", 2) in rates


async def test_open_items_carry_over_to_a_later_years_follow_up(forum: Forum,
                                                                 tmp_path: Path) -> None:
    import docx

    from bot.exports.followup import followup_export

    answers = forum.answers  # the fixture's proposals are of the 2023 forum
    await answers.record(OFFICER, "DHA-0001", DONE)
    await answers.record(OFFICER, "DHA-0002", NOT_YET)
    await answers.record(OFFICER, "DHA-0004", replace(DONE, state="transferred"))
    await answers.publish(OFFICER)
    # Answered in the forum's year (not on the day the test runs: in 2024's report, an answer
    # published after 2024 would be one carried out during the years asked).
    await forum.db.reader.execute("UPDATE answers SET published_at = '2023-11-20T03:00:00+00:00'")
    word, excel = tmp_path / "f.docx", tmp_path / "f.xlsx"
    count = await followup_export(forum.db, forum.config, answers.catalog, ("DHA",), 2024, 2024,
                                  "docx", word)
    assert count == 2  # DHA-0001 is carried out: it stays in 2023's report only
    text = "\n".join(p.text for p in docx.Document(str(word)).paragraphs)
    assert "gồm 2 kiến nghị của các năm trước chưa giải quyết xong" in text
    assert "DHA-0002" in text and "DHA-0004" in text and "DHA-0001" not in text
    await followup_export(forum.db, forum.config, answers.catalog, ("DHA",), 2024, 2024, "xlsx",
                          excel)
    sheet = openpyxl.load_workbook(excel)["Theo dõi kiến nghị"]
    assert sorted((r[2].value, r[6].value) for r in sheet.iter_rows(min_row=2)) == [
        ("DHA-0002", 2023), ("DHA-0004", 2023)]
    title = openpyxl.load_workbook(excel)["Tỷ lệ"]["A1"].value
    assert title.endswith("2024-2024 (gồm 2 kiến nghị của các năm trước chưa giải quyết xong)")


async def test_an_earlier_item_carried_out_during_a_year_is_in_that_years_follow_up(
        forum: Forum, tmp_path: Path) -> None:
    from bot.exports.followup import followup_export

    answers = forum.answers  # the fixture's proposals are of the 2023 forum
    await answers.record(OFFICER, "DHA-0001", replace(DONE, state="in_progress", due="2024"))
    await answers.record(OFFICER, "DHA-0002", NOT_YET)
    await answers.record(OFFICER, "DHA-0004", DONE)
    await answers.publish(OFFICER)
    await forum.db.reader.execute("UPDATE answers SET published_at = '2023-11-20T03:00:00+00:00'")
    # 23:00 on 31/12/2023 in Vietnam: carried out in 2023, not in 2024
    await forum.db.reader.execute(
        "UPDATE answers SET published_at = '2023-12-31T16:00:00+00:00' WHERE proposal_id ="
        " (SELECT id FROM proposals WHERE ref = 'DHA-0004')")
    await answers.record(OFFICER, "DHA-0001", DONE)  # carried out in 2024
    await answers.publish(OFFICER)
    await forum.db.reader.execute(
        "UPDATE answers SET published_at = '2024-05-02T03:00:00+00:00' WHERE version = 2")

    async def report(year: int) -> list[tuple[str, str]]:
        excel = tmp_path / f"{year}.xlsx"
        await followup_export(forum.db, forum.config, answers.catalog, ("DHA",), year, year,
                              "xlsx", excel)
        book = openpyxl.load_workbook(excel)
        notes.append(book["Tỷ lệ"]["A1"].value)
        return sorted((r[2].value, r[9].value) for r in book["Theo dõi kiến nghị"].iter_rows(
            min_row=2))

    notes: list[str] = []
    assert await report(2024) == [("DHA-0001", "Đã thực hiện"),
                                  ("DHA-0002", "Chưa thể thực hiện")]
    assert notes[-1].endswith("(gồm 1 kiến nghị của các năm trước chưa giải quyết xong và 1"
                              " kiến nghị của các năm trước đã giải quyết trong kỳ)")
    assert await report(2025) == [("DHA-0002", "Chưa thể thực hiện")]  # done in 2024: gone
    assert notes[-1].endswith("(gồm 1 kiến nghị của các năm trước chưa giải quyết xong)")


async def test_a_follow_up_of_earlier_years_made_later_shows_them_as_they_stood_then(
        forum: Forum, tmp_path: Path) -> None:
    """A 2026 config; the 2024-2025 follow-up made afterwards: an item open through those
    years and closed in 2026 is in it, open; an answer published in 2026 is not shown nor
    counted, nor a child told in 2026. A follow-up reaching the config's year is to date."""
    import docx

    from bot.exports.followup import followup_export

    answers = forum.answers  # the fixture's proposals are of the 2023 forum
    config = replace(forum.config, forum_year=2026)

    async def published(ref: str, version: int, stamp: str) -> None:
        await forum.db.reader.execute(
            "UPDATE answers SET published_at = ?, answered_at = ? WHERE version = ? AND"
            " proposal_id = (SELECT id FROM proposals WHERE ref = ?)", (stamp, stamp, version, ref))

    await answers.record(OFFICER, "DHA-0002", NOT_YET)
    await answers.record(OFFICER, "DHA-0004", DONE)
    await answers.publish(OFFICER)
    await published("DHA-0002", 1, "2024-03-01T03:00:00+00:00")
    await published("DHA-0004", 1, "2023-11-20T03:00:00+00:00")  # done before 2024
    await answers.record(OFFICER, "DHA-0001", replace(DONE, agency="UBND huyện Đắk Hà"))
    await answers.record(OFFICER, "DHA-0002", replace(DONE, state="in_progress",
                                                      text_vi="Đang làm biển báo."))
    await answers.publish(OFFICER)
    await published("DHA-0001", 1, "2026-03-02T03:00:00+00:00")
    await published("DHA-0002", 2, "2026-03-02T03:00:00+00:00")
    await forum.db.reader.execute(  # child 101 was told of DHA-0001's answer in 2026
        "UPDATE outbox SET state = 'sent', done_at = '2026-03-03T02:00:00+00:00'"
        " WHERE chat_id = 101")

    async def report(until: int) -> tuple[str, dict[str, tuple[str, str, str]], list[Any]]:
        word, excel = tmp_path / f"{until}.docx", tmp_path / f"{until}.xlsx"
        for path in (word, excel):
            await followup_export(forum.db, config, answers.catalog, ("DHA",), 2024, until,
                                  path.suffix[1:], path)
        text = "\n".join(p.text for p in docx.Document(str(word)).paragraphs)
        book = openpyxl.load_workbook(excel)
        rows = {r[2].value: (r[0].value, r[9].value, r[13].value)
                for r in book["Theo dõi kiến nghị"].iter_rows(min_row=2)}
        return text, rows, [tuple(c.value for c in r) for r in book["Tỷ lệ"].iter_rows()]

    text, rows, rates = await report(2025)
    assert rows == {"DHA-0001": ("Kiến nghị chưa có trả lời", "Chưa trả lời", None),
                    "DHA-0002": ("Kiến nghị chưa thể thực hiện (lý do, giải pháp)",
                                 "Chưa thể thực hiện", None)}, rows
    assert "Tổng số kiến nghị của trẻ em: 2 (gồm 2 kiến nghị của các năm trước chưa giải" \
        " quyết xong); đã được trả lời: 1 (50%); đã thực hiện: 0 (0%); trẻ em đã được thông" \
        " báo kết quả: 0." in text, text
    assert "Đang làm biển báo" not in text and "UBND huyện Đắk Hà" not in text
    assert "V. KIẾN NGHỊ CHƯA CÓ TRẢ LỜI\n- Rào chắn (DHA-0001" in text
    assert ("Tổng số", 2, "Đã trả lời", 1, "Đã thực hiện", 0) in rates
    text, rows, rates = await report(2026)  # the config's year: to date
    assert rows["DHA-0001"][1:] == ("Đã thực hiện", datetime(2026, 3, 3, 0, 0))
    assert rows["DHA-0002"][1] == "Đang thực hiện / có lộ trình"
    assert "Đang làm biển báo" in text and "DHA-0004" not in rows


async def test_the_reply_rate_by_agency_counts_what_each_agency_has_yet_to_answer(
        forum: Forum, tmp_path: Path) -> None:
    """A proposal is an agency's once an answer (a draft too) names it; the agency has replied
    when its answer is published, and not by passing the proposal on to it."""
    from bot.exports.followup import followup_export

    answers = forum.answers
    await answers.record(OFFICER, "DHA-0001", DONE)  # UBND xã: carried out
    await answers.record(OFFICER, "DHA-0004", replace(DONE, state="transferred",
                                                      agency="Sở Giao thông vận tải"))
    await answers.publish(OFFICER)
    await answers.record(OFFICER, "DHA-0002", NOT_YET)  # UBND huyện: a draft, not published
    excel = tmp_path / "f.xlsx"
    await followup_export(forum.db, forum.config, answers.catalog, ("DHA",), 2023, 2023, "xlsx",
                          excel)
    lines = [tuple(c.value for c in row) for row in openpyxl.load_workbook(excel)[
        "Tỷ lệ"].iter_rows()]
    by_agency = lines[[line[0] for line in lines].index("Theo cơ quan chủ trì") + 1:]
    assert by_agency == [("Sở Giao thông vận tải", 1, 0, 0, 0, 0),
                         ("UBND huyện", 1, 0, 0, 0, 0),
                         ("UBND xã", 1, 1, 1, 1, 1)]


async def test_what_xml_cannot_hold_never_breaks_a_follow_up_file(forum: Forum,
                                                                   tmp_path: Path) -> None:
    """An officer's answer typed with U+FFFF is cleaned as it is saved; one already stored
    (before that) is left out of the files, which still open."""
    import docx

    from bot.exports.followup import followup_export

    answers = forum.answers
    typed = await answers.record(OFFICER, "DHA-0001", replace(
        DONE, text_vi="Xã \uffff đã\u200b làm", agency="UBND \ufffe xã"))
    assert isinstance(typed, Saved) and typed.answer.answer.text_vi == "Xã đã làm"
    await answers.record(OFFICER, "DHA-0002", DONE)
    await answers.record(OFFICER, "DHA-0004", replace(DONE, agency="@SUM(1) xã"))
    await answers.publish(OFFICER)
    await forum.db.reader.execute(
        "UPDATE answers SET agency = 'UBND \x01 huyện\uffff' WHERE version = 1"
        " AND proposal_id = (SELECT id FROM proposals WHERE ref = 'DHA-0002')")
    word, excel = tmp_path / "f.docx", tmp_path / "f.xlsx"
    for path in (word, excel):
        await followup_export(forum.db, forum.config, answers.catalog, ("DHA",), 2023, 2023,
                              path.suffix[1:], path)
    text = "\n".join(p.text for p in docx.Document(str(word)).paragraphs)
    assert "cơ quan chủ trì: UBND  huyện" in text or "cơ quan chủ trì: UBND huyện" in text
    sheet = openpyxl.load_workbook(excel)["Theo dõi kiến nghị"]
    agency = next(r[7] for r in sheet.iter_rows(min_row=2) if r[2].value == "DHA-0002")
    assert agency.value == "UBND  huyện"
    formula = next(r[7] for r in sheet.iter_rows(min_row=2) if r[2].value == "DHA-0004")
    assert (formula.value, formula.data_type, formula.quotePrefix) == ("@SUM(1) xã", "s", True)
    rates = openpyxl.load_workbook(excel)["Tỷ lệ"]
    assert "UBND  huyện" in [row[0].value for row in rates.iter_rows()]


async def test_stats_count_answers_children_told_and_thumbs(forum: Forum) -> None:
    from bot.staff import charts

    answers = forum.answers
    for ref in ("DHA-0001", "DHA-0002"):
        await answers.record(OFFICER, ref, DONE)
    await answers.publish(OFFICER)
    await forum.db.reader.execute("UPDATE outbox SET state = 'sent' WHERE chat_id = 101")
    answer_id = await forum.db.reader.fetchval("SELECT min(id) FROM answers")
    async with forum.db.transaction() as tx:
        await answers.feedback(tx, 101, answer_id, "up")
    stats = await answers.moderation.stats(ADMIN)
    assert not isinstance(stats, Refused)
    dha = next(count for count in stats.answers if count.district == "DHA")
    # DHA approved: 0001, 0002, 0004 (group); answered 2, carried out 2, told 1, one 👍
    assert (dha.approved, dha.answered, dha.implemented, dha.told, dha.up, dha.down) == (
        3, 2, 2, 1, 1, 0)
    rates = charts.answer_rates(stats)
    assert rates["DHA"] == {"answered": pytest.approx(66.67, 0.01),
                            "implemented": pytest.approx(66.67, 0.01), "told": 50.0,
                            "liked": 100.0}
    assert math.isnan(rates["KTM"]["liked"])  # no votes: no bar, not one at 0 %
    by_topic = charts.answer_rates(stats, "topic")
    injuries = [c for c in stats.answers if c.topic == "injuries"]
    assert by_topic["injuries"]["answered"] == pytest.approx(
        100 * sum(c.answered for c in injuries) / sum(c.approved for c in injuries))
    labels = charts.ChartLabels("t", "d", "p", "n", {}, {}, {}, "a", {}, "b")
    figure = charts.chart_figure(stats, labels)
    # the answers panels (by district, by topic) join once answers are published
    assert [axes.get_title() for axes in figure.axes] == ["d", "p", "a", "b"]


async def test_the_compiled_report_and_spreadsheets_carry_the_answers(forum: Forum,
                                                                      tmp_path: Path) -> None:
    import docx

    from bot.exports import ExportQuery, export

    await forum.answers.record(OFFICER, "DHA-0001", DONE)
    await forum.answers.publish(OFFICER)
    await forum.answers.record(OFFICER, "DHA-0002", NOT_YET)  # a draft: not shown anywhere
    out = tmp_path / "report.docx"
    await export(forum.db, forum.config, forum.answers.catalog, ExportQuery(("DHA",)), "docx",
                 out)
    document = docx.Document(str(out))
    text = "\n".join(p.text for p in document.paragraphs)
    assert "IV. KẾT QUẢ TRẢ LỜI, GIẢI QUYẾT" in text
    assert "Đã có trả lời 1/3 kiến nghị, gồm:" in text and "- Đã thực hiện: 1 kiến nghị." in text
    results = [(row.cells[5].text, row.cells[6].text) for row in document.tables[-1].rows[1:]
               if len(row._tr.tc_lst) == 7]
    assert ("UBND xã", "Đã thực hiện") in results
    assert "Chưa thể thực hiện" not in " ".join(result for _, result in results)


async def test_a_row_without_a_ref_of_this_forum_or_later_is_a_problem(forum: Forum) -> None:
    """Rows without a ref are earlier forums' recommendations; a ref cleared from one of this
    forum's rows (or a year mistyped ahead) would add the proposal a second time."""
    template = await forum.sheets.template(OFFICER, None, None)
    row = {"Địa bàn": "DHA", "Chủ đề": 2, "Kết quả": "Đã thực hiện",
           "Nội dung kiến nghị": "Xây cầu qua suối cho học sinh",
           "Nội dung trả lời": "Đã xây cầu"}
    year = forum.sheets.config.forum_year
    ahead = fill(template, {}, extra=[{**row, "Năm diễn đàn": year},
                                      {**row, "Năm diễn đàn": year + 8}])
    plan = await forum.sheets.run(OFFICER, ahead, apply=True)
    assert not plan.applied and [p.key for p in plan.problems] == ["sheet.history_year"] * 2
    assert f"trước năm {year}" in forum.sheets.describe(plan.problems[0], "vi")
    assert await forum.db.reader.fetchval(
        "SELECT count(*) FROM proposals WHERE origin = 'history'") == 0


async def test_publishing_one_answer_to_one_child_says_so_in_the_singular(
        forum: Forum) -> None:
    """Not "1 answers published; 1 children and facilitators will be told"."""
    await forum.answers.record(OFFICER, "DHA-0002", DONE)
    await forum.answers.record(OFFICER, "DHA-0001", DONE)
    desk = AnswerDesk(forum.answers, forum.sheets, forum.answers.catalog, forum.config)
    said: list[str] = []
    caller = cast(Caller, SimpleNamespace(user_id=OFFICER, lang="en", send=lambda text,
                                          keyboard=(): said.append(text)))
    await desk.command(caller, "publish", ["DHA-0002"])
    assert said[-1].startswith("📣 1 answer published; 1 child or facilitator will be told")
    await desk.command(caller, "publish", ["DHA-0001"])
    await desk.command(caller, "publish", ["DHA-0001"])  # published already: nothing to do
    assert said[-1] == "There is no draft answer to publish DHA-0001."


def test_publishing_says_the_quiet_hours_of_the_config() -> None:
    """"… will be told (outside the quiet hours 21:00–07:00)": the config's hours, or nothing
    when notices never wait."""
    config = load_config(ROOT / "config.example.toml")
    desk = AnswerDesk(cast(Any, None), cast(Any, None), load_catalog(config), config)
    caller = cast(Caller, SimpleNamespace(lang="vi"))
    assert desk._quiet(caller) == " (ngoài giờ yên lặng 21:00–07:00)"
    late = replace(config, pacing=replace(config.pacing, quiet_start=hour(22, 30),
                                          quiet_end=hour(6, 0)))
    desk = AnswerDesk(cast(Any, None), cast(Any, None), load_catalog(late), late)
    assert desk._quiet(caller) == " (ngoài giờ yên lặng 22:30–06:00)"
    never = replace(config, pacing=replace(config.pacing, quiet_start=None, quiet_end=None))
    desk = AnswerDesk(cast(Any, None), cast(Any, None), load_catalog(never), never)
    assert desk._quiet(caller) == ""
