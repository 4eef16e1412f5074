"""A proposal in another language waits for a translator of its area, then goes on to
moderation with both texts; the exports carry both, marked. On SQLite and PostgreSQL."""

from __future__ import annotations

import csv
import io
from collections.abc import AsyncIterator
from dataclasses import replace
from pathlib import Path
from typing import Any, cast

import docx
import openpyxl
import pytest

from bot.answers.imports import AnswerSheets
from bot.answers.service import Answers
from bot.compiling.service import COMMAND_LINE
from bot.config import load_config
from bot.conversation.catalog import load_catalog
from bot.exports import ExportQuery, export
from bot.exports.followup import followup_export
from bot.safeguarding.cases import Cases
from bot.staff.desk import StaffDesk
from bot.staff.moderation import Conflict, Done, Moderation, QueueItem, Refused, Stats
from bot.staff.roles import Scope, StaffMember
from bot.translating.desk import TranslateDesk
from bot.transport.outbox import Outbox
from storage import proposals, recommendations
from storage.db import Database, open_database
from tests.stores import Target, query

ROOT = Path(__file__).resolve().parents[1]
TRANSLATOR, TRANSLATOR_KTM, MODERATOR, GUARD = 31, 32, 33, 34
STAFF = (StaffMember(TRANSLATOR, "translator", Scope.of({"DHA"})),
         StaffMember(TRANSLATOR_KTM, "translator", Scope.of({"KTM"})),
         StaffMember(MODERATOR, "moderator", Scope.of({"DHA"})))
BAHNAR_SEEN = "Đe ŏ hơdruh hơ̆k krao mă lơ̆m pơlei"  # the child's own words, kept as they are
BAHNAR_PROPOSAL = "Bơ̆n apinh pơjăng kơ hơdruh"


@pytest.fixture
async def db(target: Target) -> AsyncIterator[Database]:
    database = await open_database(target)
    async with database.transaction() as tx:
        for number, (lang, seen, proposal) in enumerate((
                ("other", BAHNAR_SEEN, BAHNAR_PROPOSAL),
                ("vi", "Suối sâu", "Làm rào chắn ở suối"))):
            await proposals.insert(tx, proposals.NewProposal(
                chat_id=None, forum_year=2023, district="DHA", topic="violence",
                age_band="10-12", gender="female", seen=seen, proposal=proposal,
                actors="commune", message="", lang=lang, needs_translation=lang == "other",
                source_update_id=number))
    yield database
    await database.close()


async def test_a_translator_of_the_area_translates_then_moderation_sees_both(
        db: Database, target: Target, tmp_path: Path,
        monkeypatch: pytest.MonkeyPatch) -> None:
    config = replace(load_config(ROOT / "config.example.toml").with_database(target),
                     staff=STAFF)
    catalog = load_catalog(config)
    moderation = Moderation(db, STAFF, {d.code for d in config.districts})
    desk = TranslateDesk(db, moderation, catalog, config)
    before = await moderation.stats(MODERATOR)
    assert isinstance(before, Stats) and before.languages == (("other", 1, 0, 1), ("vi", 1, 0, 0))
    first = await moderation.next_pending(MODERATOR, frozenset())
    assert isinstance(first, QueueItem) and first.ref == "DHA-0002"  # the Bahnar one waits
    assert first.remaining == 1
    assert not await desk.may_translate(MODERATOR) and await desk.may_translate(TRANSLATOR)
    assert "Không có ý kiến nào đang chờ dịch" in (await desk.start(TRANSLATOR_KTM, "vi"))[0]
    card, ask = await desk.start(TRANSLATOR, "vi")
    assert "DHA-0001" in card and BAHNAR_SEEN in card and BAHNAR_PROPOSAL in card
    assert "phần <b>Em thấy</b>" in ask and desk.owes_text(TRANSLATOR)
    assert "Không có ý kiến" in (await desk.typed(TRANSLATOR_KTM, "vi", "x"))[0]
    assert "phần <b>Em đề nghị</b>" in (await desk.typed(TRANSLATOR, "vi",
                                                         "Nhiều bạn bị đánh ở làng"))[0]
    done = (await desk.typed(TRANSLATOR, "vi", "Người lớn không được đánh trẻ em"))[0]
    assert "Đã lưu bản dịch DHA-0001" in done and "Còn 0" in done
    assert not desk.owes_text(TRANSLATOR)
    assert query(target, "SELECT action FROM audit_log WHERE action = 'translate'") == [
        ("translate",)]
    after = await moderation.stats(MODERATOR)
    assert isinstance(after, Stats) and after.languages[0] == ("other", 1, 1, 0)
    item = await moderation.next_pending(MODERATOR, frozenset())
    assert isinstance(item, QueueItem) and item.ref == "DHA-0001"
    assert (item.proposal, item.proposal_vi) == (BAHNAR_PROPOSAL,
                                                 "Người lớn không được đánh trẻ em")
    await db.reader.execute("UPDATE proposals SET status = 'approved'")
    monkeypatch.setenv("CHILDFORUM_PSEUDONYM_KEY", "a-long-enough-secret-key")
    out = tmp_path / "dha.csv"
    await export(db, config, catalog, ExportQuery(districts=("DHA",)), "csv", out)
    rows = {r["Mã kiến nghị"]: r
            for r in csv.DictReader(io.StringIO(out.read_text(encoding="utf-8-sig")))}
    assert rows["DHA-0001"]["Kiến nghị, đề xuất"] == BAHNAR_PROPOSAL
    assert rows["DHA-0001"]["Kiến nghị (bản dịch)"] == "Người lớn không được đánh trẻ em"
    assert rows["DHA-0002"]["Kiến nghị (bản dịch)"] == ""
    report = tmp_path / "dha.docx"
    await export(db, config, catalog, ExportQuery(districts=("DHA",)), "docx", report)
    text = "\n".join(p.text for p in docx.Document(str(report)).paragraphs)
    assert (f"a) Người lớn không được đánh trẻ em (bản dịch; nguyên văn: “{BAHNAR_PROPOSAL}”;"
            " thực trạng (bản dịch): Nhiều bạn bị đánh ở làng,"
            f" nguyên văn: “{BAHNAR_SEEN}”;") in text
    assert "- Ngôn ngữ khác (đã dịch sang tiếng Việt: 1): 1 kiến nghị;" in text
    assert "- Tiếng Việt: 1 kiến nghị." in text


async def test_a_translation_that_discloses_harm_opens_a_case_and_holds_the_proposal(
        db: Database, target: Target) -> None:
    """The detector cannot read Bahnar; it reads the translator's Vietnamese: a disclosure
    reaches safeguarding staff with both texts, and the proposal waits for them."""
    config = replace(load_config(ROOT / "config.example.toml").with_database(target),
                     staff=(*STAFF, StaffMember(GUARD, "safeguarding", Scope.of({"DHA"}))))
    catalog = load_catalog(config)
    moderation = Moderation(db, config.staff, {d.code for d in config.districts})
    cases = Cases(db, moderation, Outbox(db, config.pacing, config.timetable.zone), catalog, config)
    desk = TranslateDesk(db, moderation, catalog, config, cases)
    await desk.start(TRANSLATOR, "vi")
    await desk.typed(TRANSLATOR, "vi", "Bố em đánh em bằng gậy mỗi tối khi say rượu")
    flagged, done = await desk.typed(TRANSLATOR, "vi", "Em rất sợ về nhà, xin cứu em")
    assert "trường hợp #1" in flagged and "Đã lưu bản dịch DHA-0001" in done
    ((source, tier, text, held),) = query(
        target, "SELECT c.source, c.tier, c.text, p.held_by_case FROM cases c"
        " JOIN proposals p ON p.id = c.proposal_id")
    assert source == "translation" and tier in (1, 2) and held == 1
    assert BAHNAR_SEEN in str(text) and "đánh em bằng gậy" in str(text)
    assert query(target, "SELECT chat_id FROM outbox WHERE kind = 'alert'") == [(GUARD,)]
    item = await moderation.next_pending(MODERATOR, frozenset())
    assert isinstance(item, QueueItem) and item.ref == "DHA-0002"  # not the held one
    assert item.remaining == 1  # itself: the held one is not counted


async def test_the_word_report_marks_every_translation_and_keeps_the_original(
        db: Database, target: Target, tmp_path: Path,
        monkeypatch: pytest.MonkeyPatch) -> None:
    """Part III's messages, a recommendation's quotes (and its title when unnamed) and the annex
    showed the Bahnar untranslated and unmarked, or the translation unmarked."""
    message, message_vi = "Inh măt Yôl. Tơnglơ̆i e măt yưng?", "Chúng em mong người lớn lắng nghe"
    proposal_vi = "Người lớn không được đánh trẻ em"
    async with db.transaction() as tx:
        await tx.execute("UPDATE proposals SET message = ?, message_vi = ?, proposal_vi = ?,"
                         " seen_vi = 'Nhiều bạn bị đánh ở làng', translated_at = ?"
                         " WHERE ref = 'DHA-0001'",
                         (message, message_vi, proposal_vi, "2023-05-02T00:00:00"))
        await tx.execute("UPDATE proposals SET status = 'approved'")
        unnamed = await recommendations.create(tx, 2023, "DHA", "violence", "", None)
        await recommendations.assign(tx, [1, 2], unnamed)
    config = replace(load_config(ROOT / "config.example.toml").with_database(target),
                     staff=STAFF)
    monkeypatch.setenv("CHILDFORUM_PSEUDONYM_KEY", "a-long-enough-secret-key")
    report = tmp_path / "dha.docx"
    await export(db, config, load_catalog(config), ExportQuery(districts=("DHA",)), "docx",
                 report)
    document = docx.Document(str(report))
    lines = [p.text for p in document.paragraphs]
    said = next(line for line in lines if message_vi in line)
    assert said.startswith(f"- “{message_vi}” (bản dịch; nguyên văn: “{message}”;"), said
    assert not any(line.startswith(f"- “{message}”") for line in lines)
    grouped = next(line for line in lines if "Ý kiến của các em" in line)
    # Unnamed: worded as its translation.
    assert grouped.startswith(f"a) {proposal_vi} (2 trẻ em, 2 ý kiến"), grouped
    assert (f"Ý kiến của các em: “{proposal_vi}” (bản dịch; nguyên văn: “{BAHNAR_PROPOSAL}”);"
            " “Làm rào chắn ở suối”.") in grouped
    annex = {row.cells[1].text: row.cells[2].text for row in document.tables[-1].rows}
    assert annex["DHA-0001"] == f"{proposal_vi} (bản dịch; nguyên văn: “{BAHNAR_PROPOSAL}”)"
    assert annex["DHA-0002"] == "Làm rào chắn ở suối"
    assert sum(BAHNAR_PROPOSAL in line for line in lines) == 1  # only ever as the original


async def test_the_answer_and_follow_up_files_and_compiling_read_the_translation(
        db: Database, target: Target) -> None:
    """Officers answer and compile what they can read: the translator's Vietnamese, marked,
    with the child's own words after it."""
    async with db.transaction() as tx:
        await tx.execute("UPDATE proposals SET seen_vi = 'Nhiều bạn bị đánh ở làng',"
                         " proposal_vi = 'Người lớn không được đánh trẻ em', translated_at = ?,"
                         " status = 'approved' WHERE ref = 'DHA-0001'", ("2023-05-02T00:00:00",))
        await tx.execute("UPDATE proposals SET status = 'approved'")
        await tx.execute(
            "INSERT INTO answers (proposal_id, version, state, text_vi, answered_by, answered_at,"
            " published_at) SELECT id, 1, 'implemented', 'Đã làm.', 1, ?, ? FROM proposals",
            ("2024-01-01T00:00:00+00:00", "2024-01-02T00:00:00+00:00"))
    marked = (f"Người lớn không được đánh trẻ em (bản dịch; nguyên văn: “{BAHNAR_PROPOSAL}”)")
    config = replace(load_config(ROOT / "config.example.toml").with_database(target),
                     staff=STAFF)
    catalog = load_catalog(config)
    moderation = Moderation(db, STAFF, {d.code for d in config.districts})
    answers = Answers(db, catalog, config, moderation, Outbox(db, config.pacing,
                                                              config.timetable.zone))
    book = openpyxl.load_workbook(io.BytesIO(await AnswerSheets(answers, config, catalog)
                                             .template(COMMAND_LINE, "DHA", 2023)))
    cells = {row[0]: row[5] for row in book.worksheets[0].iter_rows(min_row=2, values_only=True)}
    assert cells["DHA-0001"].startswith(marked) and "Nhiều bạn bị đánh ở làng" in cells["DHA-0001"]
    assert cells["DHA-0002"].startswith("Làm rào chắn ở suối")
    followup = io.BytesIO()
    await followup_export(db, config, catalog, ("DHA",), 2019, 2023, "xlsx", followup)
    sheet = openpyxl.load_workbook(io.BytesIO(followup.getvalue()))["Theo dõi kiến nghị"]
    texts = {row[2]: row[3] for row in sheet.iter_rows(values_only=True)}
    assert texts["DHA-0001"] == marked and texts["DHA-0002"] == "Làm rào chắn ở suối", texts
    async with db.transaction() as tx:
        compiled = {m.ref: (m.text, m.seen)
                    for m in await recommendations.members(tx, 2023, {"DHA"})}
    assert compiled == {"DHA-0001": ("Người lớn không được đánh trẻ em",
                                     "Nhiều bạn bị đánh ở làng"),
                        "DHA-0002": ("Làm rào chắn ở suối", "Suối sâu")}


async def test_a_moderator_sends_a_proposal_the_tagger_missed_to_a_translator(
        db: Database, target: Target) -> None:
    config = replace(load_config(ROOT / "config.example.toml").with_database(target),
                     staff=STAFF)
    moderation = Moderation(db, STAFF, {d.code for d in config.districts})
    desk = TranslateDesk(db, moderation, load_catalog(config), config)
    async with db.transaction() as tx:  # unmarked Bahnar the tagger took for Vietnamese
        await tx.execute("UPDATE proposals SET needs_translation = 0, lang = 'vi'"
                         " WHERE ref = 'DHA-0001'")
    item = await moderation.next_pending(MODERATOR, frozenset())
    assert isinstance(item, QueueItem) and item.ref == "DHA-0001"
    assert await moderation.needs_translator(TRANSLATOR, item.id, item.version) == Refused(
        "forbidden")  # a translator does not moderate
    old_card = await moderation.needs_translator(MODERATOR, item.id, item.version - 1)
    assert isinstance(old_card, Conflict)  # a card shown before a change changes nothing
    sent = await moderation.needs_translator(MODERATOR, item.id, item.version)
    assert isinstance(sent, Done) and sent.action == "translate"
    assert query(target, "SELECT lang, needs_translation FROM proposals WHERE ref = 'DHA-0001'"
                 ) == [("other", 1)]
    assert query(target, "SELECT detail FROM audit_log WHERE action = 'to_translator'") == [
        ('{"ref": "DHA-0001"}',)]
    after = await moderation.next_pending(MODERATOR, frozenset())
    assert isinstance(after, QueueItem) and after.ref == "DHA-0002"  # it left the queue
    card, _ = await desk.start(TRANSLATOR, "vi")
    assert "DHA-0001" in card
    await desk.typed(TRANSLATOR, "vi", "Nhiều bạn bị đánh ở làng")
    await desk.typed(TRANSLATOR, "vi", "Người lớn không được đánh trẻ em")
    back = await moderation.next_pending(MODERATOR, frozenset())
    assert isinstance(back, QueueItem) and back.ref == "DHA-0001" and back.proposal_vi
    again = await moderation.needs_translator(MODERATOR, back.id, back.version)
    assert again == Refused("translated")


async def test_a_proposal_sent_back_to_translators_hides_no_new_one_from_the_digest(
        db: Database, target: Target) -> None:
    config = replace(load_config(ROOT / "config.example.toml").with_database(target),
                     staff=STAFF)
    moderation = Moderation(db, STAFF, {d.code for d in config.districts})
    outbox = Outbox(db, config.pacing, config.timetable.zone)
    desk = StaffDesk(moderation, load_catalog(config), outbox, config, cast(Any, None))
    assert await desk._digest_new(MODERATOR) == 1  # DHA-0002; 0001 waits
    item = await moderation.next_pending(MODERATOR, frozenset())
    assert isinstance(item, QueueItem) and item.ref == "DHA-0002"
    assert isinstance(await moderation.needs_translator(MODERATOR, item.id, item.version), Done)
    async with db.transaction() as tx:  # in the same interval, a new proposal comes in
        await proposals.insert(tx, proposals.NewProposal(
            chat_id=None, forum_year=2023, district="DHA", topic="violence", age_band="10-12",
            gender="female", seen="Đường tối", proposal="Lắp đèn", actors="commune",
            message="", lang="vi", needs_translation=False, source_update_id=9))
    assert await desk._digest_new(MODERATOR) == 1


async def test_a_proposal_taken_by_someone_who_may_no_longer_translate_it_is_offered_again(
        db: Database, target: Target) -> None:
    """A translator took a proposal, then lost the role (or the area): the area's other
    translators get it, with what was translated of it; it never stays stuck out of
    moderation."""
    admin, granted = 35, 36
    staff = (*STAFF, StaffMember(admin, "admin", Scope(None)))
    config = replace(load_config(ROOT / "config.example.toml").with_database(target),
                     staff=staff)
    moderation = Moderation(db, staff, {d.code for d in config.districts})
    desk = TranslateDesk(db, moderation, load_catalog(config), config)
    assert not isinstance(await moderation.grant(admin, granted, "translator", ["DHA"]), Refused)
    card, _ = await desk.start(granted, "vi")
    assert "DHA-0001" in card
    await desk.typed(granted, "vi", "Nhiều bạn bị đánh ở làng")  # the first field, then gone
    assert not isinstance(await moderation.revoke(admin, granted, "translator"), Refused)
    card, ask = await desk.start(TRANSLATOR, "vi")
    assert "DHA-0001" in card and "phần <b>Em đề nghị</b>" in ask  # where the other stopped
    assert query(target, "SELECT translated_by FROM proposals WHERE ref = 'DHA-0001'") == [
        (TRANSLATOR,)]


async def test_a_moderator_puts_a_wrong_translation_right_and_the_childs_words_stay(
        db: Database, target: Target) -> None:
    """✏️ offered only the child's fields: a moderator correcting the translation overwrote the
    Bahnar with Vietnamese (exported as the child's 'nguyên văn'), the wrong translation kept."""
    config = replace(load_config(ROOT / "config.example.toml").with_database(target),
                     staff=STAFF)
    moderation = Moderation(db, STAFF, {d.code for d in config.districts})
    catalog = load_catalog(config)
    translate = TranslateDesk(db, moderation, catalog, config)
    await translate.start(TRANSLATOR, "vi")
    await translate.typed(TRANSLATOR, "vi", "Nhiều bạn bị đánh ở làng")
    await translate.typed(TRANSLATOR, "vi", "Người lớn không được đánh")
    item = await moderation.next_pending(MODERATOR, frozenset())
    assert isinstance(item, QueueItem) and item.ref == "DHA-0001"
    desk = StaffDesk(moderation, catalog, Outbox(db, config.pacing, config.timetable.zone),
                     config, cast(Any, None))
    offered = desk._editable(item)
    assert offered[:4] == ("seen", "seen_vi", "proposal", "proposal_vi")
    assert catalog.texts.get("staff.field.proposal_vi", "vi") == "Đề xuất (bản dịch)"
    done = await moderation.edit(MODERATOR, item.id, item.version, "proposal_vi",
                                 "Người lớn không được đánh trẻ em")
    assert isinstance(done, Done)
    assert query(target, "SELECT proposal, proposal_vi FROM proposals WHERE ref = 'DHA-0001'"
                 ) == [(BAHNAR_PROPOSAL, "Người lớn không được đánh trẻ em")]
    assert query(target, "SELECT field, before_text FROM moderation_edits") == [
        ("proposal_vi", "Người lớn không được đánh")]
    vietnamese = await moderation.next_pending(MODERATOR, frozenset({item.id}))
    assert isinstance(vietnamese, QueueItem) and vietnamese.ref == "DHA-0002"
    assert desk._editable(vietnamese) == ("seen", "proposal")
    assert reason_of(await moderation.edit(  # no translation to put right: none is made up
        MODERATOR, vietnamese.id, vietnamese.version, "proposal_vi", "Rào chắn")) == "invalid"
    assert query(target, "SELECT proposal_vi FROM proposals WHERE ref = 'DHA-0002'") == [(None,)]


def reason_of(result: object) -> str:
    assert isinstance(result, Refused), result
    return result.reason


async def test_a_menus_number_typed_by_habit_is_not_saved_as_a_translation(
        db: Database, target: Target) -> None:
    """On Zalo staff answer menus by number: a translator's "1" after the card was saved as the
    Vietnamese of the child's words and the proposal went on to moderation with it."""
    config = replace(load_config(ROOT / "config.example.toml").with_database(target),
                     staff=STAFF)
    moderation = Moderation(db, STAFF, {d.code for d in config.districts})
    desk = TranslateDesk(db, moderation, load_catalog(config), config)
    await desk.start(TRANSLATOR, "vi")
    for habit in ("1", " 2. ", "✅"):
        [said] = await desk.typed(TRANSLATOR, "vi", habit)
        assert "cần viết thành lời" in said and "<b>Em thấy</b>" in said, said
    assert desk.owes_text(TRANSLATOR)
    assert query(target, "SELECT seen_vi FROM proposals WHERE ref = 'DHA-0001'") == [(None,)]
    assert "phần <b>Em đề nghị</b>" in (await desk.typed(TRANSLATOR, "vi",
                                                         "Nhiều bạn bị đánh ở làng"))[0]
