"""Exports on a real SQLite file, every file read back: CSV, XLSX (openpyxl), DOCX (python-docx)."""

from __future__ import annotations

import asyncio
import csv
import html
import io
import itertools
import os
import subprocess
import sys
import zipfile
from collections.abc import AsyncIterator
from dataclasses import dataclass, replace
from datetime import date, datetime
from itertools import pairwise
from pathlib import Path

import docx
import openpyxl
import pytest
from docx.oxml.ns import qn

from bot.areas import District
from bot.config import Config
from bot.conversation.catalog import Catalog, load_catalog
from bot.exports import ExportError, ExportQuery, ReportSettings, author_code, export
from bot.exports.common import HEADERS, neutralise
from bot.exports.decree30 import vietnamese_date
from bot.exports.worker import export_elsewhere
from bot.exports.xlsx_export import NO_PROPOSAL, NO_RECOMMENDATION
from storage import cases, children, proposals
from storage.children import ChildRow
from storage.db import Database, open_database
from tests.stores import Target

KEY = "test-pseudonym-key-0123456789"
CHILD_A, CHILD_B = 987654321, 555666777
VIET = "Đắk Hà — Ngọc Hồi: trẻ em cần được bảo vệ ✓"
FORMULAS = ('=HYPERLINK("http://evil.example","bấm")', "+1", "-2", "@SUM(A1:A2)", "\t=1")
TYPED_QUOTED = "'=1+5"  # a child's words that look neutralised already
FLAG_TEXT = "SAFEGUARDING-ONLY em bị đánh ở nhà"
DISTRICTS = (District("DHA", "Huyện Đắk Hà", "Dak Ha District"),
             District("NHO", "Huyện Ngọc Hồi", "Ngoc Hoi District"))


@dataclass(frozen=True)
class Forum:
    db: Database
    config: Config
    catalog: Catalog
    tmp: Path


@dataclass(frozen=True)
class Seed:
    district: str
    topic: str
    status: str
    proposal: str
    seen: str = ""
    message: str = ""
    actors: str = "family,school"
    chat_id: int = CHILD_A
    created_at: str = "2023-05-10T03:00:00+00:00"


SEEDS = (
    Seed("DHA", "violence", "approved", VIET, seen=FORMULAS[0], message=FORMULAS[1]),
    Seed("DHA", "injuries", "approved", FORMULAS[3], seen=FORMULAS[2], message=FORMULAS[4],
         actors="commune"),
    Seed("DHA", "online", "pending", "PENDING-TEXT"),
    Seed("DHA", "climate", "rejected", "REJECTED-TEXT"),
    Seed("NHO", "violence", "approved", "NHO-TEXT", chat_id=CHILD_B),
    Seed("DHA", "labour", "approved", "OLD-TEXT", created_at="2023-01-15T03:00:00+00:00",
         message=TYPED_QUOTED),
)


async def _seed(db: Database) -> None:
    async with db.transaction() as conn:
        for chat_id, district in ((CHILD_A, "DHA"), (CHILD_B, "NHO")):
            await children.save(conn, ChildRow(chat_id, district, "10-12", "female", "vi", "{}"))
        for update_id, seed in enumerate(SEEDS, 1):
            ref = await proposals.insert(conn, proposals.NewProposal(
                chat_id=seed.chat_id, forum_year=2023, district=seed.district, topic=seed.topic,
                age_band="10-12", gender="female", seen=seed.seen, proposal=seed.proposal,
                actors=seed.actors, message=seed.message, lang="vi", needs_translation=False,
                source_update_id=update_id))
            await conn.execute("UPDATE proposals SET status = ?, created_at = ? WHERE ref = ?",
                               (seed.status, seed.created_at, ref))
        await cases.add(conn, cases.NewCase(CHILD_A, "DHA", "detector", 1, "physical_home",
                                            FLAG_TEXT))


@pytest.fixture
async def forum(tmp_path: Path, target: Target,
                monkeypatch: pytest.MonkeyPatch) -> AsyncIterator[Forum]:
    monkeypatch.setenv("CHILDFORUM_PSEUDONYM_KEY", KEY)
    config = Config(source=tmp_path / "config.toml", districts=DISTRICTS,
                    database_path=tmp_path / "forum.sqlite3").with_database(target)
    db = await open_database(config.database)
    await _seed(db)
    yield Forum(db, config, load_catalog(config), tmp_path)
    await db.close()


async def _export(forum: Forum, fmt: str, query: ExportQuery) -> tuple[Path, int]:
    out = forum.tmp / f"export.{fmt}"
    result = await export(forum.db, forum.config, forum.catalog, query, fmt, out)  # type: ignore[arg-type]
    assert result.path == out and result.size == out.stat().st_size
    return out, result.rows


def _csv_rows(path: Path) -> list[dict[str, str]]:
    raw = path.read_bytes()
    assert raw.startswith(b"\xef\xbb\xbf")
    reader = csv.DictReader(io.StringIO(raw.decode("utf-8-sig"), newline=""))
    assert tuple(reader.fieldnames or ()) == HEADERS
    return list(reader)


def _zip_text(path: Path) -> str:
    """Every XML part of an XLSX or DOCX, decompressed."""
    with zipfile.ZipFile(path) as archive:
        return "".join(archive.read(name).decode("utf-8") for name in archive.namelist()
                       if name.endswith((".xml", ".rels")))


def _assert_private(text: str) -> None:
    for secret in (str(CHILD_A), str(CHILD_B), FLAG_TEXT, "SAFEGUARDING-ONLY"):
        assert secret not in text


def test_neutralise_and_author_code() -> None:
    for text in FORMULAS:
        assert neutralise(text) == "'" + text
    assert neutralise(VIET) == VIET and neutralise("") == ""
    code = author_code(CHILD_A, KEY.encode())
    assert len(code) == 12 and str(CHILD_A) not in code
    assert code == author_code(CHILD_A, KEY.encode()) != author_code(CHILD_A, b"another-key")


def test_vietnamese_dates_pad_day_and_early_months() -> None:
    assert vietnamese_date("Đắk Hà", datetime(2024, 2, 5), 2024) == (
        "Đắk Hà, ngày 05 tháng 02 năm 2024")
    assert vietnamese_date("Đắk Hà", datetime(2024, 6, 15), 2024) == (
        "Đắk Hà, ngày 15 tháng 6 năm 2024")
    assert vietnamese_date("Đắk Hà", None, 2023) == "Đắk Hà, ngày    tháng    năm 2023"


async def test_csv_has_bom_headers_and_only_approved_by_default(forum: Forum) -> None:
    path, count = await _export(forum, "csv", ExportQuery(districts=("DHA",)))
    rows = _csv_rows(path)
    assert count == len(rows) == 3
    assert [r["Mã kiến nghị"] for r in rows] == ["DHA-0001", "DHA-0002", "DHA-0005"]
    first = rows[0]
    assert first["Kiến nghị, đề xuất"] == VIET  # byte for byte after the round trip
    assert first["Huyện, thành phố"] == "Huyện Đắk Hà"
    assert first["Chủ đề"] == "Phòng, chống bạo lực, xâm hại trẻ em"
    assert first["Ai nên thực hiện"] == "Gia đình, Nhà trường"
    # In an officer's words, not the child's button ("Bạn nữ").
    assert first["Giới tính"] == "Nữ" and first["Độ tuổi"] == "10-12 tuổi"
    assert first["Trẻ em/Nhóm"] == "Trẻ em" and first["Số em trong nhóm"] == ""
    assert first["Trạng thái"] == "Đã duyệt" and first["Ngày gửi"] == "2023-05-10 10:00"
    assert first["Mã tác giả (bí danh)"] == author_code(CHILD_A, KEY.encode())
    text = path.read_bytes().decode("utf-8-sig")
    assert VIET.encode() in path.read_bytes()
    for absent in ("PENDING-TEXT", "REJECTED-TEXT", "NHO-TEXT"):
        assert absent not in text
    _assert_private(text)


async def test_csv_neutralises_formulas(forum: Forum) -> None:
    rows = _csv_rows((await _export(forum, "csv", ExportQuery(districts=("DHA",))))[0])
    cells = {cell for row in rows for cell in row.values()}
    for formula in FORMULAS:
        assert "'" + formula in cells and formula not in cells


async def test_statuses_districts_and_period_filter(forum: Forum) -> None:
    everything = ExportQuery(statuses=("approved", "pending", "rejected"))
    texts = {r["Kiến nghị, đề xuất"]
             for r in _csv_rows((await _export(forum, "csv", everything))[0])}
    assert {"PENDING-TEXT", "REJECTED-TEXT", "NHO-TEXT", "OLD-TEXT"} <= texts
    nho = _csv_rows((await _export(forum, "csv", ExportQuery(districts=("NHO",))))[0])
    assert [r["Kiến nghị, đề xuất"] for r in nho] == ["NHO-TEXT"]
    may = ExportQuery(date_from=date(2023, 5, 1), date_to=date(2023, 5, 10))
    texts = {r["Kiến nghị, đề xuất"] for r in _csv_rows((await _export(forum, "csv", may))[0])}
    assert "OLD-TEXT" not in texts and VIET in texts
    before = ExportQuery(date_to=date(2023, 5, 9))
    texts = {r["Kiến nghị, đề xuất"] for r in _csv_rows((await _export(forum, "csv", before))[0])}
    assert texts == {"OLD-TEXT"}


async def test_refusals(forum: Forum, monkeypatch: pytest.MonkeyPatch) -> None:
    with pytest.raises(ExportError, match="district"):
        await _export(forum, "csv", ExportQuery(districts=("XXX",)))
    with pytest.raises(ExportError, match="statuses"):
        await _export(forum, "csv", ExportQuery(statuses=("safeguarding",)))
    monkeypatch.delenv("CHILDFORUM_PSEUDONYM_KEY")
    with pytest.raises(ExportError, match="CHILDFORUM_PSEUDONYM_KEY"):
        await _export(forum, "xlsx", ExportQuery())
    await _export(forum, "docx", ExportQuery())  # the report names no author: no key needed


async def test_export_to_a_binary_stream(forum: Forum) -> None:
    buffer = io.BytesIO(b"prefix")
    buffer.seek(0, io.SEEK_END)
    result = await export(forum.db, forum.config, forum.catalog, ExportQuery(), "csv", buffer)
    assert result.rows == 4 and result.size == len(buffer.getvalue()) - len(b"prefix")
    assert buffer.getvalue()[len(b"prefix"):].startswith(b"\xef\xbb\xbf")


async def test_xlsx_summary_topic_sheets_and_layout(forum: Forum) -> None:
    query = ExportQuery(districts=("DHA",), statuses=("approved", "pending"))
    path, count = await _export(forum, "xlsx", query)
    assert count == 4
    book = openpyxl.load_workbook(path)
    titles = [t.title["vi"] for t in forum.catalog.topics]
    assert book.sheetnames[:2] == ["Tổng hợp", "Kiến nghị chung"]
    assert len(book.sheetnames) == 2 + len(titles)
    summary = {row[1]: row[2:] for row in book["Tổng hợp"].iter_rows(values_only=True)
               if row[1] in (*titles, "Chủ đề", "Tổng cộng")}
    assert summary["Chủ đề"] == ("Đã duyệt", "Chờ duyệt", "Tổng")
    assert summary[titles[0]] == (1, 0, 1) and summary[titles[2]] == (0, 1, 1)
    assert summary["Tổng cộng"] == (3, 1, 4)
    first = book.worksheets[2]
    assert [sheet.title for sheet in book.worksheets[2:]] == [
        f"{t.order}. {t.short['vi']}" for t in forum.catalog.topics]  # whole words, <= 31
    assert all(len(sheet.title) <= 31 for sheet in book.worksheets)
    assert first.freeze_panes == "A2" and first.auto_filter.ref == "A1:Y2"
    assert tuple(c.value for c in first[1]) == HEADERS and first["A1"].font.b
    assert first.row_dimensions[1].height == 45  # "Số em / trong / nhóm" whole, not its middle
    proposal = first.cell(2, HEADERS.index("Kiến nghị, đề xuất") + 1)
    assert proposal.value == VIET and proposal.alignment.wrap_text
    assert first.column_dimensions["J"].width == 40
    # A row taller than one line: every cell level with the first line of its texts.
    assert first.row_dimensions[2].height and first.cell(2, 1).value == "DHA-0001"
    assert {c.alignment.vertical for c in first[2] if c.value is not None} == {"top"}
    online = book.worksheets[4]
    assert online.max_row == 2 and online.cell(2, 1).value == "DHA-0003"
    # A topic without proposals in the file: its title and one line, printed on one page
    # (its 25 column names alone printed three pages, and each topic's empty sheet its own).
    climate = book.worksheets[5]  # only rejected, not asked for
    assert [[c.value for c in row] for row in climate.iter_rows()] == [
        [titles[3]], [NO_PROPOSAL]]
    assert climate["A1"].font.b and climate["A2"].alignment.wrap_text
    assert climate.page_setup.fitToWidth == 1 and climate.print_title_cols is None
    assert climate.print_title_rows is None and climate.auto_filter.ref is None
    assert climate.column_dimensions["A"].width >= 100  # the line across the page, not down it
    nothing = book["Kiến nghị chung"]  # nothing compiled yet: said so, on one page
    assert [c.value for c in nothing["A"]] == ["Kiến nghị chung", NO_RECOMMENDATION]
    assert nothing.page_setup.fitToWidth == 1 and nothing.print_title_cols is None
    _assert_private(_zip_text(path))


async def test_xlsx_neutralises_formulas(forum: Forum) -> None:
    book = openpyxl.load_workbook((await _export(forum, "xlsx", ExportQuery()))[0])
    cells = [c for sheet in book.worksheets[2:] for row in sheet.iter_rows() for c in row]
    assert all(c.data_type != "f" for c in cells)
    texts = {c.value: c for c in cells if isinstance(c.value, str)}
    for formula in FORMULAS:  # kept as typed, as text: Excel's quote prefix, no apostrophe
        assert "'" + formula not in texts and texts[formula].quotePrefix, formula
        assert texts[formula].data_type == "s"
    assert texts[TYPED_QUOTED].quotePrefix  # the apostrophe the child typed stays


def _docx_text(document: docx.document.Document) -> str:
    parts = [p.text for p in document.paragraphs]
    for table in document.tables:
        parts += [cell.text for row in table.rows for cell in row.cells]
    return "\n".join(parts)


async def test_docx_report_layout_and_content(forum: Forum) -> None:
    path, count = await _export(forum, "docx", ExportQuery(districts=("DHA",)))
    assert count == 3
    report = docx.Document(str(path))
    text = _docx_text(report)
    assert "BÁO CÁO" in text
    assert ("Tổng hợp kiến nghị, thông điệp của trẻ em tại Diễn đàn trẻ em huyện Đắk Hà năm 2023"
            in text)
    assert "ỦY BAN NHÂN DÂN" in text and "HUYỆN ĐẮK HÀ" in text
    assert "CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM" in text and "Độc lập - Tự do - Hạnh phúc" in text
    assert "Số:       /BC-UBND" in text and "Đắk Hà, ngày    tháng    năm" in text
    assert "Kính gửi: Ủy ban nhân dân tỉnh Kon Tum." in text
    for title in (t.title["vi"] for t in forum.catalog.topics):
        assert title in text
    assert f"a) {VIET}" in text and "ai nên thực hiện: Gia đình, Nhà trường" in text
    assert "trẻ em 10-12 tuổi" in text
    assert "./." in text and "Nơi nhận:" in text and "- Lưu: VT, LĐTBXH." in text
    for absent in ("PENDING-TEXT", "REJECTED-TEXT", "NHO-TEXT"):
        assert absent not in text
    for formula in FORMULAS[1:]:  # formulas are harmless in a document: not neutralised
        assert "'" + formula.strip() not in text.replace(TYPED_QUOTED, "")
        assert formula.strip() in text
    assert f"“{TYPED_QUOTED}”" in text  # as the child typed it
    _assert_private(_zip_text(path))


NONE = "Không có kiến nghị về chủ đề này."  # under a topic without a proposal


async def test_docx_annex_table(forum: Forum) -> None:
    report = docx.Document(str((await _export(forum, "docx", ExportQuery(districts=("DHA",))))[0]))
    annex = report.tables[-1]
    assert [c.text for c in annex.rows[0].cells] == [
        "STT", "Mã", "Nội dung kiến nghị/câu hỏi", "Nhóm trẻ em (xã/trường, số em)",
        "Trẻ em đề xuất ai thực hiện", "Cơ quan trả lời, giải quyết",
        "Kết quả trả lời/giải quyết"]
    across = [row for row in annex.rows[1:] if len(row._tr.tc_lst) == 1]
    groups = [row for row in across if row.cells[0].text != NONE]
    assert len(groups) == len(forum.catalog.topics)
    assert all(run.bold for row in groups for run in row.cells[0].paragraphs[0].runs)
    # Under each topic its proposals, or one line saying there is none: never a bare heading.
    kinds = ["item" if len(row._tr.tc_lst) == 7 else "note" if row.cells[0].text == NONE
             else "group" for row in annex.rows[1:]]
    pairs = list(pairwise([*kinds, "end"]))
    assert all(b in ("item", "note") for a, b in pairs if a == "group")
    assert all(a == "group" for a, b in pairs if b == "note"), kinds
    assert "note" in kinds  # DHA has topics without a proposal
    assert not any(run.bold for row in across if row.cells[0].text == NONE
                   for run in row.cells[0].paragraphs[0].runs)
    items = [[c.text for c in row.cells] for row in annex.rows[1:] if len(row._tr.tc_lst) == 7]
    assert items[0] == ["1", "DHA-0001", VIET, "trẻ em 10-12 tuổi", "Gia đình, Nhà trường",
                        "", ""]
    assert items[1][:3] == ["2", "DHA-0002", FORMULAS[3]]
    assert len(items) == 3


async def test_docx_typography_and_page_numbers(forum: Forum) -> None:
    report = docx.Document(str((await _export(forum, "docx", ExportQuery()))[0]))
    styles = report.styles.element
    for fonts in styles.iter(qn("w:rFonts")):
        assert all(fonts.get(qn(slot)) == "Times New Roman"
                   for slot in ("w:ascii", "w:hAnsi", "w:eastAsia", "w:cs"))
        assert fonts.get(qn("w:asciiTheme")) is None
    defaults = styles.find(qn("w:docDefaults")).find(qn("w:rPrDefault")).find(qn("w:rPr"))
    assert defaults.find(qn("w:rFonts")).get(qn("w:eastAsia")) == "Times New Roman"
    assert report.styles["Normal"].font.size.pt == 14
    body, annex = report.sections
    assert round(body.page_width.mm) == 210 and round(body.page_height.mm) == 297
    assert round(body.left_margin.mm) == 30 and round(body.right_margin.mm) == 15
    assert body.different_first_page_header_footer
    header = body.header._element.xml
    assert "PAGE" in header and body.header.paragraphs[0].alignment == 1  # centred
    assert "PAGE" not in body.first_page_header._element.xml
    assert annex.orientation == 1  # landscape
    assert annex._sectPr.find(qn("w:pgNumType")).get(qn("w:start")) == "1"
    text = _docx_text(report)
    assert "Diễn đàn trẻ em cấp huyện trên địa bàn tỉnh Kon Tum" in text
    assert "NHO-TEXT" in text and "Huyện Ngọc Hồi" in text  # several districts: each item names it
    for run in (r for p in report.paragraphs for r in p.runs):
        assert run.font.name in (None, "Times New Roman")


async def test_report_settings_override(forum: Forum) -> None:
    settings = ReportSettings(unit="huyện Đắk Hà", forum_name="Diễn đàn trẻ em huyện Đắk Hà",
                              place="Đăk Hà", recipient="Sở Y tế tỉnh Kon Tum",
                              issuer_parent="UBND huyện Đắk Hà", issuer_body="Phòng Y tế",
                              symbol="BC-PYT", signer_lines=("TRƯỞNG PHÒNG",),
                              signer_name="Nguyễn Văn A", margins_mm=(25, 20, 35, 20))
    out = forum.tmp / "report.docx"
    await export(forum.db, forum.config, forum.catalog, ExportQuery(districts=("DHA",)), "docx",
                 out, settings)
    report = docx.Document(str(out))
    text = _docx_text(report)
    assert "UBND HUYỆN ĐẮK HÀ" in text and "PHÒNG Y TẾ" in text and "BC-PYT" in text
    assert "Kính gửi: Sở Y tế tỉnh Kon Tum." in text and "Nguyễn Văn A" in text
    assert round(report.sections[0].left_margin.mm) == 35


async def test_group_proposals_name_the_group_in_every_format(forum: Forum) -> None:
    async with forum.db.transaction() as conn:
        ref = await proposals.insert(conn, proposals.NewProposal(
            chat_id=CHILD_A, forum_year=2023, district="DHA", topic="climate",
            age_band=None, gender=None, seen="", proposal="Trồng rừng quanh trường",
            actors="commune", message="", lang="vi", needs_translation=False,
            source_update_id=99, group_size=25, group_age_range="10-12,13-15",
            school="Trường PTDTBT Đắk Long", commune="=Xã Đắk Long"))
        await conn.execute("UPDATE proposals SET status = 'approved' WHERE ref = ?", (ref,))
    report = docx.Document(str((await _export(forum, "docx", ExportQuery(districts=("DHA",))))[0]))
    items = [[c.text for c in row.cells] for row in report.tables[-1].rows[1:]
             if len(row._tr.tc_lst) == 7]
    group = next(item for item in items if item[2] == "Trồng rừng quanh trường")
    assert group[3] == ("nhóm 25 em, 10-12 tuổi, 13-15 tuổi, Trường PTDTBT Đắk Long,"
                        " =Xã Đắk Long")
    path, _ = await _export(forum, "csv", ExportQuery(districts=("DHA",)))
    row = next(r for r in _csv_rows(path) if r and "Trồng rừng quanh trường" in r.values())
    assert "Nhóm" in row.values() and "25" in row.values()


async def test_docx_reads_as_an_officer_checks_it(forum: Forum) -> None:
    """Issue 10's page-by-page findings, each read back from the file."""
    async with forum.db.transaction() as conn:
        ref = await proposals.insert(conn, proposals.NewProposal(
            chat_id=CHILD_A, forum_year=2023, district="DHA", topic="violence",
            age_band="13-15", gender="male", seen="Bạn em bị đánh.\r\nỞ nhà.",
            proposal="Em   đề nghị:\nthầy cô\r\n\r\nkhông đánh học sinh", actors="school",
            message="- Người lớn\r\nhãy nghe em", lang="vi", needs_translation=False,
            source_update_id=77))
        await conn.execute("UPDATE proposals SET status = 'approved' WHERE ref = ?", (ref,))
    settings = replace(ReportSettings.for_districts(forum.config, forum.config.districts[:1]),
                       forum_date="02/6/2023", forum_place="Hội trường UBND huyện",
                       forum_children=60, forum_girls=32, forum_boys=28,
                       forum_ages="từ 10 đến 15 tuổi", forum_facilitators=6,
                       proposals=("Tăng kinh phí cho công tác trẻ em.",))
    out = forum.tmp / "report.docx"
    await export(forum.db, forum.config, forum.catalog, ExportQuery(districts=("DHA",)), "docx",
                 out, settings)
    report = docx.Document(str(out))
    paragraphs = [p.text for p in report.paragraphs]
    text = "\n".join(paragraphs)
    # Children's words: one line each, no spreadsheet apostrophe, no ".;" joint.
    assert "b) Em đề nghị: thầy cô không đánh học sinh (thực trạng: Bạn em bị đánh. Ở nhà;" in text
    assert "“- Người lớn hãy nghe em”" in text and "'-" not in text
    assert "'=" not in text.replace(TYPED_QUOTED, "")  # prose: only what a child typed so
    assert ".;" not in text and "\n\n" not in "".join(paragraphs)
    assert "a) " in text and "1.1." not in text  # điểm a), b) under a numbered khoản
    # Headings stay with what follows; the signature block and annex rows never split.
    headings = [p for p in report.paragraphs if p.text.startswith(("I. ", "II. ", "1. "))]
    assert headings and all(p.paragraph_format.keep_with_next for p in headings)
    closing = report.tables[1]
    assert closing.rows[0]._tr.trPr.find(qn("w:cantSplit")) is not None
    assert "Nơi nhận:" in closing.cell(0, 0).text
    annex = report.tables[-1]
    assert all(row._tr.trPr is not None and row._tr.trPr.find(qn("w:cantSplit")) is not None
               for row in annex.rows[1:])
    groups = [row.cells[0].text for row in annex.rows[1:] if len(row._tr.tc_lst) == 1
              and row.cells[0].text != NONE]
    assert groups[:2] == ["I. Phòng, chống bạo lực, xâm hại trẻ em",
                          "II. Tai nạn thương tích, đuối nước, giao thông"]
    numbers = [row.cells[0].text for row in annex.rows[1:] if len(row._tr.tc_lst) == 7]
    assert numbers == [str(n) for n in range(1, len(numbers) + 1)]  # one sequence, no clash
    # The forum itself, and part V.
    assert ("Diễn đàn trẻ em huyện Đắk Hà năm 2023 được tổ chức ngày 02/6/2023 tại Hội trường"
            " UBND huyện, với sự tham gia của 60 trẻ em (32 em nữ, 28 em nam, từ 10 đến 15"
            " tuổi) và 6 người hỗ trợ, hướng dẫn.") in text
    assert "V. ĐỀ XUẤT, KIẾN NGHỊ" in text and "Tăng kinh phí cho công tác trẻ em." in text
    # Vietnamese everywhere, single-spaced header, the file's own properties, the forum's year.
    langs = list(report.styles.element.iter(qn("w:lang")))
    assert langs and all(lang.get(qn("w:val")) == "vi-VN" for lang in langs)
    assert report.styles["Normal"].paragraph_format.line_spacing == 1.0
    properties = report.core_properties
    assert properties.title.startswith("Tổng hợp kiến nghị") and properties.author != "python-docx"
    assert properties.created is not None and properties.created.year >= 2026
    assert "Đắk Hà, ngày    tháng    năm 2023" in "\n".join(
        cell.text for row in report.tables[0].rows for cell in row.cells)


async def test_docx_without_forum_facts_leaves_gaps_to_fill(forum: Forum) -> None:
    path, _ = await _export(forum, "docx", ExportQuery(districts=("DHA",)))
    text = _docx_text(docx.Document(str(path)))
    assert "được tổ chức ngày … tại …, với sự tham gia của … trẻ em (… em nữ, … em nam)" in text


async def test_districts_come_in_the_configs_order_in_every_list(forum: Forum) -> None:
    """Not by code: the summary counts and the rows follow the same order."""
    config = replace(forum.config, districts=tuple(reversed(forum.config.districts)))
    out = forum.tmp / "all.csv"
    await export(forum.db, config, forum.catalog, ExportQuery(), "csv", out)
    districts = [row[HEADERS[2]] for row in _csv_rows(out)]
    assert districts.index("Huyện Ngọc Hồi") < districts.index("Huyện Đắk Hà")
    report = forum.tmp / "all.docx"
    await export(forum.db, config, forum.catalog, ExportQuery(), "docx", report)
    text = _docx_text(docx.Document(str(report)))
    assert text.index("- Huyện Ngọc Hồi: 1 kiến nghị") < text.index("- Huyện Đắk Hà:")
    assert text.index("NHO-TEXT") < text.index("Đắk Hà — Ngọc Hồi: trẻ em")


async def test_a_big_report_is_made_off_the_event_loop(forum: Forum) -> None:
    """The bot's loop keeps ticking while another process writes a report of 8,000 proposals
    (long enough, about a second, for a report made on the loop to show as a pause)."""
    async with forum.db.transaction() as conn:
        await conn.executemany(
            "INSERT INTO proposals (ref, chat_id, forum_year, district, topic, seen, proposal,"
            " actors, message, lang, status, created_at, updated_at) VALUES (?, NULL, 2023,"
            " 'DHA', ?, 'Suối sâu.', ?, 'school', '', 'vi', 'approved', ?, ?)",
            [(f"DHA-{5000 + n}", ("violence", "injuries", "online")[n % 3],
              f"Đề nghị số {n} làm rào chắn", "2023-05-10T03:00:00+00:00",
              "2023-05-10T03:00:00+00:00") for n in range(8000)])
    loop, ticks = asyncio.get_running_loop(), []

    async def ticker() -> None:
        while True:
            ticks.append(loop.time())
            await asyncio.sleep(0.01)

    settings = ReportSettings.for_districts(forum.config, forum.config.districts[:1])
    task = asyncio.create_task(ticker())
    started = loop.time()
    data, rows = await export_elsewhere(forum.config, ExportQuery(districts=("DHA",)), "docx",
                                        settings)
    took = loop.time() - started
    task.cancel()
    assert rows == 8003 and data.startswith(b"PK")
    assert "Đề nghị số 7999 làm rào chắn" in _docx_text(docx.Document(io.BytesIO(data)))
    longest = max(later - earlier for earlier, later in itertools.pairwise(ticks))
    print(f"took {took:.2f} s, longest pause of the loop {longest * 1000:.0f} ms")
    assert took > 0.5 and longest < 0.25, (took, longest)


async def test_xlsx_prints_and_reads_as_an_officer_expects(forum: Forum) -> None:
    async with forum.db.transaction() as conn:
        ref = await proposals.insert(conn, proposals.NewProposal(
            chat_id=None, forum_year=2023, district="NHO", topic="online", age_band=None,
            gender=None, seen="", proposal="Dạy an toàn trên mạng. " * 12, actors="school",
            message="", lang="vi", needs_translation=False, source_update_id=88,
            group_size=12, group_age_range="10-12,13-15", school="Trường THCS Ngọc Hồi",
            commune="Xã Đắk Dục"))
        await conn.execute("UPDATE proposals SET status = 'approved' WHERE ref = ?", (ref,))
    path, _ = await _export(forum, "xlsx", ExportQuery())
    book = openpyxl.load_workbook(path)
    summary = book["Tổng hợp"]
    assert summary.column_dimensions["A"].width >= 12
    assert summary["B2"].alignment.wrap_text  # the list of districts
    rows = [row for row in summary.iter_rows(values_only=True)]
    start = next(n for n, row in enumerate(rows) if row[1] == "Huyện, thành phố")
    by_district = {row[1]: row[2:] for row in rows[start:]}
    assert by_district["Huyện Đắk Hà"] == (3, 3) and by_district["Huyện Ngọc Hồi"] == (2, 2)
    assert summary.row_dimensions[2].height is None  # two districts' names fit one line
    for sheet in book.worksheets:
        assert sheet.page_setup.orientation == "landscape"
        assert sheet.sheet_properties.pageSetUpPr.fitToPage
        assert sheet.page_setup.fitToHeight == 0
    # The summary fits a page's width; a topic sheet's 25 columns print three pages wide (at
    # 80 %, where one page printed them at 29 %), the ref column on each.
    assert summary.page_setup.fitToWidth == 1
    online = book["3. An toàn trên mạng"]
    assert online.page_setup.fitToWidth == 3 and online.print_title_cols == "$A:$A"
    assert online.print_title_rows == "$1:$1"
    header = online["A1"].font
    assert (header.name, header.sz, header.b) == ("Calibri", 11, True)
    assert online.column_dimensions["H"].width >= 19  # "Không nêu giới tính" fits
    group = {HEADERS[i]: cell for i, cell in enumerate(next(
        r for r in online.iter_rows(min_row=2) if r[0].value == ref))}
    assert group["Trường (nhóm)"].value == "Trường THCS Ngọc Hồi"
    assert group["Xã, phường (nhóm)"].value == "Xã Đắk Dục"
    assert group["Độ tuổi"].value == "10-12 tuổi, 13-15 tuổi"
    # Rows as tall as their wrapped texts: 287 characters in a 40-wide column make about seven
    # lines; the others' longest wrapped text is a topic's title over two lines at most.
    tall = online.row_dimensions[group["Độ tuổi"].row].height
    assert tall is not None and 90 <= tall <= 120, tall
    others = [sheet.row_dimensions[row[0].row].height for sheet in book.worksheets[1:]
              if sheet is not online for row in sheet.iter_rows(min_row=2) if row[0].value]
    assert others and set(others) <= {None, 30}, others
    sent = group["Ngày gửi"]
    assert isinstance(sent.value, datetime) and sent.number_format == "dd/mm/yyyy hh:mm"
    csv_path, _ = await _export(forum, "csv", ExportQuery(districts=("NHO",)))
    line = next(r for r in _csv_rows(csv_path) if r[HEADERS[0]] == ref)
    assert (line["Trường (nhóm)"], line["Xã, phường (nhóm)"]) == ("Trường THCS Ngọc Hồi",
                                                                   "Xã Đắk Dục")


async def test_csv_for_excel_on_vietnamese_windows_uses_semicolons(forum: Forum) -> None:
    out = forum.tmp / "vn.csv"
    await export(forum.db, forum.config, forum.catalog, ExportQuery(), "csv", out,
                 csv_dialect="excel-vn")
    raw = out.read_bytes().decode("utf-8-sig")
    rows = list(csv.reader(io.StringIO(raw, newline=""), delimiter=";"))
    assert tuple(rows[0]) == HEADERS and len(rows) == 5
    with pytest.raises(ExportError, match="CSV dialect"):
        await export(forum.db, forum.config, forum.catalog, ExportQuery(), "csv", out,
                     csv_dialect="tsv")


def test_the_word_frame_keeps_no_paragraph_in_memory_and_each_in_its_place(tmp_path: Path) -> None:
    """bot.exports.spill: paragraphs and annex rows go out as they come; python-docx's tree
    holds one marker per run, and the file has every one, escaped, between the frame's parts."""
    from bot.exports.decree30 import AnnexRows, Decree30

    settings = ReportSettings(unit="huyện Đắk Hà", forum_name="Diễn đàn trẻ em huyện Đắk Hà",
                              place="Đắk Hà", recipient="UBND tỉnh", issuer_parent="",
                              issuer_body="UBND", symbol="BC-UBND", signer_lines=("CHỦ TỊCH",),
                              signer_name="A", margins_mm=(20, 20, 30, 15))
    frame = Decree30(settings, "Tổng hợp", 2023)
    frame.header()
    frame.title_block("mở đầu")
    frame.heading("I. PHẦN MỘT")
    for n in range(3000):
        frame.body(f"mục {n} <&>", detail=f"chi tiết {n}" if n % 2 else "")
    frame.closing()  # python-docx's own table between the runs
    annex = AnnexRows(frame.annex("Phụ lục", (3.0, 12.0), ("STT", "Nội dung")), (3.0, 12.0),
                      frame.spill)
    annex.group("Nhóm <1>")
    for n in range(3000):
        annex.item([str(n), f"hàng {n}" if n % 3 else ""])
    body = frame.document.element.body
    assert len(body) < 40 and len(frame.document.tables[-1]._tbl) < 10  # markers, not items
    out = tmp_path / "frame.docx"
    frame.save(str(out))
    document = docx.Document(str(out))
    texts = [p.text for p in document.paragraphs]
    items = [t for t in texts if t.startswith("mục ")]
    assert items[:2] == ["mục 0 <&>", "mục 1 <&>chi tiết 1"] and len(items) == 3000
    assert texts.index("I. PHẦN MỘT") < texts.index("mục 0 <&>")
    assert texts.index("mục 2999 <&>chi tiết 2999") < texts.index("Phụ lục")
    rows = document.tables[-1].rows
    assert rows[1].cells[0].text == "Nhóm <1>" and len(rows) == 3002
    assert [c.text for c in rows[2].cells] == ["0", ""]
    assert [c.text for c in rows[-1].cells] == ["2999", "hàng 2999"]
    signature = document.tables[1]
    assert "CHỦ TỊCH" in signature.rows[0].cells[1].text  # the frame's own table, in its place


FULL_DISK = """
import asyncio, errno, io, os, sys
from pathlib import Path
from bot.config import load_config
from bot.conversation.catalog import load_catalog
from bot.exports import ExportQuery, export
from storage import proposals
from storage.db import open_database


class Full(io.RawIOBase):  # a disk that fills up after 20 kB
    written = 0

    def writable(self) -> bool:
        return True

    def write(self, data) -> int:
        self.written += len(data)
        if self.written > 20_000:
            raise OSError(errno.ENOSPC, "No space left on device")
        return len(data)

    def tell(self) -> int:
        return self.written


async def main() -> None:
    config = load_config(Path("config.example.toml")).with_database(Path(sys.argv[1]))
    db = await open_database(config.database)
    async with db.transaction() as tx:
        for number in range(400):
            await proposals.insert(tx, proposals.NewProposal(
                chat_id=None, forum_year=2023, district="DHA", topic="injuries",
                age_band=None, gender=None, seen="Suối sâu " * 20, proposal="Rào chắn " * 20,
                actors="commune", message="", lang="vi", needs_translation=False,
                source_update_id=number))
        await tx.execute("UPDATE proposals SET status = 'approved'")
    try:
        await export(db, config, load_catalog(config), ExportQuery(), "xlsx", Full())
    except OSError as error:
        print("refused:", error.strerror)
    await db.close()


asyncio.run(main())
"""


def test_a_full_disk_gives_one_error_not_a_dozen_tracebacks(tmp_path: Path) -> None:
    """openpyxl's half-written streams, collected after a failed save, each printed "Exception
    ignored in …" with its traceback after the one clear message."""
    done = subprocess.run([sys.executable, "-c", FULL_DISK, str(tmp_path / "forum.sqlite3")],
                          capture_output=True, text=True, cwd=Path(__file__).parents[1],
                          timeout=60,
                          env={**os.environ, "CHILDFORUM_PSEUDONYM_KEY": "a-long-enough-key!"})
    assert done.stdout.strip() == "refused: No space left on device", done.stderr
    assert "Exception ignored" not in done.stderr and "Traceback" not in done.stderr, done.stderr


CONTACTS = ("0912 345 678", "lan.nguyen_2010@gmail.com", "facebook.com/lan.nguyen.123",
            "@be_lan2010")


async def test_contact_details_are_masked_in_every_format(forum: Forum) -> None:
    """A phone number, an e-mail, a social-network link or @account a child wrote: masked in
    every file (the moderator saw them on the card); the rest of the words as written."""
    async with forum.db.transaction() as conn:
        ref = await proposals.insert(conn, proposals.NewProposal(
            chat_id=CHILD_A, forum_year=2023, district="DHA", topic="online",
            age_band="10-12", gender="female",
            seen=f"Người lạ nhắn tin cho bạn em qua {CONTACTS[2]} và tiktok {CONTACTS[3]}",
            proposal=f"Ai bị lừa thì gọi 111 hoặc em {CONTACTS[0]}, mail {CONTACTS[1]}",
            actors="school", message="", lang="vi", needs_translation=False,
            source_update_id=99))
        await conn.execute("UPDATE proposals SET status = 'approved', created_at = ?"
                           " WHERE ref = ?", ("2023-05-10T03:00:00+00:00", ref))
    for fmt in ("csv", "xlsx", "docx"):
        path, _ = await _export(forum, fmt, ExportQuery(districts=("DHA",)))
        text = path.read_text("utf-8-sig") if fmt == "csv" else html.unescape(_zip_text(path))
        for contact in CONTACTS:
            assert contact not in text, (fmt, contact)
        for word in ("[số điện thoại]", "[email]", "[tài khoản mạng]", "gọi 111 hoặc em"):
            assert word in text, (fmt, word)


def test_age_bands_and_sexes_come_in_the_forums_order() -> None:
    """"6-9 tuổi, 10-12 tuổi, 13-15 tuổi", as [forum] age_bands lists them (as text they sorted
    10-12 first); the sexes in the profile's order, not alphabetically."""
    from bot.exports.common import Labels
    from storage.recommendations import Member

    config = Config(source=Path("config.toml"), districts=DISTRICTS,
                    database_path=Path("forum.sqlite3"))
    labels = Labels(config, load_catalog(config))
    rows = [Member(n, f"DHA-{n:04d}", "DHA", "injuries", "", "", band, gender, None, None, None,
                   None, chat_id=n)
            for n, (band, gender) in enumerate((("13-15", "male"), ("6-9", "female"),
                                                ("10-12", "unsaid"), ("10-12", "female")))]
    asked = labels.asked(rows)
    assert asked.ages_text() == "6-9 tuổi: 1 em, 10-12 tuổi: 2 em, 13-15 tuổi: 1 em"
    assert [label for label, _ in asked.sexes] == [
        labels.genders["female"], labels.genders["male"], labels.genders["unsaid"]]


async def test_a_report_on_many_areas_lists_those_with_proposals(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Fifteen communes, two with proposals: part I names those two and the thirteen others in
    one line (not thirteen lines of "0 kiến nghị"); a group's commune typed as its area's own
    name is named once."""
    monkeypatch.setenv("CHILDFORUM_PSEUDONYM_KEY", KEY)
    communes = tuple(District(f"X{n:02d}", f"Xã Số {n}", f"Commune {n}") for n in range(15))
    config = Config(source=tmp_path / "config.toml", districts=communes,
                    database_path=tmp_path / "forum.sqlite3")
    db = await open_database(config.database)
    async with db.transaction() as conn:
        for number, (code, commune) in enumerate((("X03", "xã số 3"), ("X07", "Thôn 5")), 1):
            ref = await proposals.insert(conn, proposals.NewProposal(
                chat_id=None, forum_year=2023, district=code, topic="injuries",
                age_band=None, gender=None, seen="", proposal="Làm rào chắn ở suối",
                actors="commune", message="", lang="vi", needs_translation=False,
                source_update_id=number, group_size=10, commune=commune))
            await conn.execute("UPDATE proposals SET status = 'approved' WHERE ref = ?", (ref,))
    out = tmp_path / "report.docx"
    await export(db, config, load_catalog(config), ExportQuery(), "docx", out)
    await db.close()
    text = "\n".join(p.text for p in docx.Document(str(out)).paragraphs)
    assert "- Xã Số 3: 1 kiến nghị;" in text and "- Xã Số 7: 1 kiến nghị" in text
    assert "Các đơn vị còn lại (13): chưa có kiến nghị." in text
    assert "Xã Số 0: 0 kiến nghị" not in text
    assert "nhóm 10 em, Xã Số 3" in text and "xã số 3" not in text
