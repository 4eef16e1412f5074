"""The follow-up report: what became of the children's recommendations of earlier forums.

The plan asks each area, before the next forum, to report on the recommendations since 2019:
those met and carried out; those under consideration; those that cannot yet be, with the reason
and the way to carry them out. One report in the Decree 30/2020 layout (bot.exports.decree30) or
one workbook, from the same rows: the latest published answer of each approved proposal of the
years asked, and when the child was told. Open items (under way, passed on, cannot yet) stay
in every later follow-up until an answer closes them, and are in the follow-up of the years
that answer was published in ("carried out during the year"). A follow-up of years before the
config's forum year shows each item as it stood at the end of the last one (`period_end`).
"""

from __future__ import annotations

import asyncio
import io
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any, BinaryIO, Literal
from zoneinfo import ZoneInfo

from openpyxl import Workbook
from openpyxl.styles import Alignment, Font, PatternFill
from openpyxl.utils import get_column_letter

from bot.answers.states import OPEN, PART_OF, shown_date
from bot.config import Config
from bot.conversation.catalog import Catalog
from bot.exports.common import ExportError, as_read, put_text
from bot.exports.decree30 import AnnexRows, Decree30
from bot.exports.settings import ReportSettings
from bot.localized import BASE_LANG
from storage import answers as store
from storage.answers import FollowupRow
from storage.db import Database

Part = Literal["met", "considering", "cannot_yet", "unanswered"]
PARTS: tuple[Part, ...] = ("met", "considering", "cannot_yet", "unanswered")
PART_TITLES = {
    "met": "KIẾN NGHỊ ĐÃ ĐƯỢC GIẢI QUYẾT, THỰC HIỆN",
    "considering": "KIẾN NGHỊ ĐANG ĐƯỢC XEM XÉT, GIẢI QUYẾT",
    "cannot_yet": "KIẾN NGHỊ CHƯA THỂ THỰC HIỆN (LÝ DO, GIẢI PHÁP)",
    "unanswered": "KIẾN NGHỊ CHƯA CÓ TRẢ LỜI",
}
HEADERS = ("STT", "Mã", "Nội dung kiến nghị", "Chủ đề", "Nhóm trẻ em / địa bàn",
           "Năm diễn đàn", "Cơ quan chủ trì / phối hợp", "Hình thức trả lời", "Kết quả",
           "Nội dung trả lời", "Lý do", "Giải pháp / lộ trình", "Ngày thông báo cho trẻ em")
WIDTHS_CM = (1.0, 2.8, 3.4, 1.7, 1.9, 1.2, 2.0, 1.6, 1.7, 2.9, 1.5, 1.9, 1.6)  # 25.2: A4 across


@dataclass(frozen=True)
class Rate:
    label: str
    total: int
    answered: int
    implemented: int

    def answered_pct(self) -> str:
        return _pct(self.answered, self.total)

    def implemented_pct(self) -> str:
        return _pct(self.implemented, self.total)


def _pct(part: int, whole: int) -> str:
    return f"{100 * part / whole:.0f}%" if whole else "-"


def part_of(row: FollowupRow) -> Part:
    return "unanswered" if row.answer is None else PART_OF[row.answer.state]


class FollowupLabels:
    def __init__(self, config: Config, catalog: Catalog, zone: ZoneInfo) -> None:
        self.config, self.catalog, self.zone = config, catalog, zone
        self.topic_order = tuple(flow.id for flow in catalog.topics)
        texts = catalog.texts
        self.states = {s: texts.get(f"answer.state.{s}", BASE_LANG) for s in PART_OF}
        self.hows = {h: texts.get(f"answer.how.{h}", BASE_LANG) for h in ("forum", "document")}

    def topic(self, topic: str) -> str:
        flow = self.catalog.topic(topic)
        return flow.title[BASE_LANG] if flow else topic

    def district(self, code: str) -> str:
        district = self.config.area(code)  # an earlier year's area is named too
        return district.name if district else code

    def who(self, row: FollowupRow) -> str:
        texts = self.catalog.texts
        if row.origin == "history":
            who = "Diễn đàn trẻ em"
        elif row.is_group:
            who = ", ".join(p for p in (f"nhóm {row.group_size or '?'} em", row.school or "",
                                        row.commune or "") if p)
        else:
            band = (texts.get("age_band.label", BASE_LANG, band=row.age_band) if row.age_band
                    else "")
            who = f"trẻ em {band}".strip()
        return f"{who}, {self.district(row.district)}"

    def agencies(self, answer: store.AnswerFields | None) -> str:
        if answer is None:
            return ""
        return "; ".join(p for p in (answer.agency, answer.partners and
                                     f"phối hợp: {answer.partners}") if p)

    def how(self, answer: store.AnswerFields | None) -> str:
        if answer is None:
            return ""
        how = self.hows.get(answer.how, answer.how)
        if answer.how == "document" and (answer.doc_number or answer.doc_date):
            number = f" số {answer.doc_number}" if answer.doc_number else ""
            when = f" ngày {date.fromisoformat(answer.doc_date):%d/%m/%Y}" if answer.doc_date \
                else ""
            how += f" ({number.strip()}{when})".replace("( ", "(")
        return how

    @staticmethod
    def due(answer: store.AnswerFields) -> str:
        """"thời hạn: …" of an item not met yet ("" without one, or once it is met)."""
        if not answer.due or PART_OF[answer.state] == "met":
            return ""
        return f"thời hạn: {shown_date(answer.due)}"

    def timeline(self, answer: store.AnswerFields | None) -> str:
        """The "Giải pháp / lộ trình" cell: the way forward and the date or timeline."""
        if answer is None:
            return ""
        return "; ".join(part for part in (answer.solution, self.due(answer)) if part)

    def local_date(self, stamp: str | None) -> date | None:
        return datetime.fromisoformat(stamp).astimezone(self.zone).date() if stamp else None

    def cells(self, number: int, row: FollowupRow) -> list[Any]:
        answer = row.answer
        told = self.local_date(row.told_at)
        return [number, row.ref, as_read(row.proposal, row.proposal_vi), self.topic(row.topic),
                self.who(row),
                row.forum_year, self.agencies(answer), self.how(answer),
                self.states[answer.state] if answer else "Chưa trả lời",
                answer.text_vi if answer else "", answer.reason if answer else "",
                self.timeline(answer), told]


@dataclass
class Followup:
    """Everything the report and the workbook show, worked out once."""

    rows: list[FollowupRow]
    since: int
    until: int
    labels: FollowupLabels

    def rates_by(self, key: str) -> list[Rate]:
        """Rates by topic ("topic", in catalog order) or by responsible agency ("agency"). An
        agency's proposals are those its latest answer names (a draft too); it has answered one
        when the published answer is its own and not "passed to the competent agency" (the
        agency named there has not answered yet)."""
        totals: Counter[str] = Counter()
        answered: Counter[str] = Counter()
        implemented: Counter[str] = Counter()
        for row in self.rows:
            answer = row.answer
            if key == "topic":
                name = self.labels.topic(row.topic)
            elif row.agency and row.agency.strip():
                name = " ".join(row.agency.split())
                if answer is not None and (answer.state == "transferred"
                                           or " ".join(answer.agency.split()) != name):
                    answer = None
            else:
                continue
            totals[name] += 1
            answered[name] += answer is not None
            implemented[name] += answer is not None and answer.state == "implemented"
        names = ([self.labels.topic(t) for t in self.labels.topic_order
                  if self.labels.topic(t) in totals] + sorted(
                      n for n in totals if n not in {self.labels.topic(t)
                                                     for t in self.labels.topic_order})
                 if key == "topic" else sorted(totals, key=lambda n: (-totals[n], n)))
        return [Rate(name, totals[name], answered[name], implemented[name]) for name in names]

    def carried_note(self) -> str:
        """" (gồm N kiến nghị của các năm trước chưa giải quyết xong và M … đã giải quyết
        trong kỳ)", or "" without any."""
        carried = Counter(row.answer is None or row.answer.state in OPEN
                          for row in self.rows if row.forum_year < self.since)
        said = [f"{count} kiến nghị của các năm trước {what}" for count, what in (
            (carried[True], "chưa giải quyết xong"), (carried[False], "đã giải quyết trong kỳ"))
            if count]
        return f" (gồm {' và '.join(said)})" if said else ""

    def overall(self) -> Rate:
        return Rate("", len(self.rows), sum(r.answer is not None for r in self.rows),
                    sum(r.answer is not None and r.answer.state == "implemented"
                        for r in self.rows))


def period_end(config: Config, until: int, end: str) -> str | None:
    """When a follow-up's period ends: at the end of `until` (`end`, 1 January after it by the
    local calendar) when that is before the config's forum year, so that a report of earlier
    years made later shows them as they stood then (an item closed since is still open in
    it, an answer published since is not); None (to date) for a period that reaches the
    config's forum year, whose answers come in the months after its forum."""
    return end if until < config.forum_year else None


async def followup_export(db: Database, config: Config, catalog: Catalog,
                          districts: Sequence[str] | None, since: int, until: int,
                          fmt: str, out: Path | BinaryIO) -> int:
    """Write the follow-up report (docx) or workbook (xlsx); returns how many proposals."""
    if fmt not in ("docx", "xlsx"):
        raise ExportError("the follow-up report is a docx or an xlsx file")
    if districts is not None:
        unknown = [code for code in districts if config.area(code) is None]
        if unknown or not districts:
            raise ExportError(f"unknown district code(s): {', '.join(unknown) or '(none)'}")
    if not 2000 <= since <= until <= 2100:
        raise ExportError(f"years must run from 2000 to 2100, first to last: {since}-{until}")
    zone = config.timetable.zone
    start, end = (datetime(year, 1, 1, tzinfo=zone).astimezone(UTC).isoformat(
        timespec="seconds") for year in (since, until + 1))
    async with db.snapshot() as tx:
        rows = await store.followup(tx, districts, since, until, OPEN,
                                    (start, period_end(config, until, end)))
    found = Followup(rows, since, until, FollowupLabels(config, catalog, zone))
    chosen = (config.districts if districts is None
              else tuple(area for code in districts if (area := config.area(code))))
    # Written now about earlier forums: issued by a body that exists in its last year (a
    # district's follow-up dated 2026 is the province's), bot.exports.settings.
    settings = ReportSettings.for_districts(config, chosen, dated=until)
    writer = _docx if fmt == "docx" else _xlsx
    data = await asyncio.to_thread(writer, found, settings)
    if isinstance(out, Path):
        out.write_bytes(data)
    else:
        out.write(data)
    return len(rows)


# --- the Word report ----------------------------------------------------------------------------

def _docx(found: Followup, settings: ReportSettings) -> bytes:
    years = (f"năm {found.since}" if found.since == found.until
             else f"từ năm {found.since} đến năm {found.until}")
    title = (f"Kết quả giải quyết, trả lời kiến nghị của trẻ em tại các Diễn đàn trẻ em"
             f" {settings.whose} {years}")
    report = Decree30(settings, title, found.until)
    report.header()
    whose = f" {settings.area}" if settings.area else ""  # when another body reports for it
    report.title_block(f"{report.issuer} báo cáo kết quả giải quyết, trả lời các kiến nghị của"
                       f" trẻ em{whose} {years} như sau:")
    overall = found.overall()
    told = sum(row.told_at is not None for row in found.rows)
    report.body("I. TỔNG QUAN", bold=True)
    report.body(f"Tổng số kiến nghị của trẻ em: {overall.total}{found.carried_note()};"
                f" đã được trả lời:"
                f" {overall.answered} ({overall.answered_pct()}); đã thực hiện:"
                f" {overall.implemented} ({overall.implemented_pct()}); trẻ em đã được thông"
                f" báo kết quả: {told}.")
    parts = Counter(part_of(row) for row in found.rows)
    report.tally([(PART_TITLES[p].split(" (")[0].capitalize(), parts[p]) for p in PARTS],
                 "kiến nghị")
    for title, key in (("Theo chủ đề:", "topic"), ("Theo cơ quan chủ trì:", "agency")):
        rates = found.rates_by(key)
        if rates or key == "topic":
            report.body(title)
        for rate in rates:
            report.body(f"- {rate.label}: {rate.total} kiến nghị, đã trả lời {rate.answered}"
                        f" ({rate.answered_pct()}), đã thực hiện {rate.implemented}"
                        f" ({rate.implemented_pct()});")
    for numeral, part in zip(("II", "III", "IV", "V"), PARTS, strict=True):
        report.body(f"{numeral}. {PART_TITLES[part]}", bold=True)
        items = [row for row in found.rows if part_of(row) == part]
        if not items:
            report.body("Không có.")
        for row in items:
            report.body(_item(found, row, part))
    report.closing()
    grid = report.annex("Phụ lục", WIDTHS_CM, HEADERS)
    annex = AnnexRows(grid, WIDTHS_CM, report.spill)
    number = 0
    for part in PARTS:
        items = [row for row in found.rows if part_of(row) == part]
        if items:
            annex.group(PART_TITLES[part].capitalize())
        for row in items:
            number += 1
            cells = found.labels.cells(number, row)
            cells[-1] = f"{cells[-1]:%d/%m/%Y}" if cells[-1] else ""
            annex.item([str(cell) if cell is not None else "" for cell in cells])
    out = io.BytesIO()
    report.save(out)
    return out.getvalue()


def _item(found: Followup, row: FollowupRow, part: Part) -> str:
    labels, answer = found.labels, row.answer
    where = f"{row.ref}, {row.forum_year}, {labels.who(row)}"
    text = f"- {' '.join(as_read(row.proposal, row.proposal_vi).split())} ({where})"
    if answer is None:
        return text + "."
    details = [" ".join(answer.text_vi.split())]
    if answer.agency:
        details.append(f"cơ quan chủ trì: {answer.agency}")
    details.append(labels.due(answer))
    if part == "cannot_yet":
        details += [f"lý do: {answer.reason}", f"giải pháp, lộ trình: {answer.solution}"]
    return f"{text}: {'; '.join(d.rstrip('.') for d in details if d)}."


# --- the workbook -------------------------------------------------------------------------------

def _xlsx(found: Followup, settings: ReportSettings) -> bytes:
    book = Workbook()
    sheet = book.active
    assert sheet is not None
    sheet.title = "Theo dõi kiến nghị"
    bold, fill = Font(bold=True), PatternFill("solid", fgColor="DDEBF7")
    wrap = Alignment(wrap_text=True, vertical="top")
    headers = ("Phần", *HEADERS)
    sheet.append(list(headers))
    for cell in sheet[1]:
        cell.font, cell.fill, cell.alignment = bold, fill, wrap
    number = 0
    for part in PARTS:
        for row in (r for r in found.rows if part_of(r) == part):
            number += 1
            values = [PART_TITLES[part].capitalize(), *found.labels.cells(number, row)]
            sheet.append([None if isinstance(v, str) else v for v in values])
            line = number + 1  # after the header; max_row would scan every cell, every row
            for column, value in enumerate(values, 1):
                if isinstance(value, str):
                    put_text(sheet.cell(line, column), value)
            sheet.cell(line, len(headers)).number_format = "DD/MM/YYYY"
    widths = (22, *(w * 4.2 for w in WIDTHS_CM))
    for index, width in enumerate(widths, 1):
        sheet.column_dimensions[get_column_letter(index)].width = width
    for line in sheet.iter_rows(min_row=2):
        for cell in line:
            cell.alignment = wrap
    sheet.freeze_panes = "C2"
    sheet.print_title_rows = "1:1"
    sheet.page_setup.orientation = "landscape"
    sheet.page_setup.fitToWidth, sheet.page_setup.fitToHeight = 1, 0
    sheet.sheet_properties.pageSetUpPr.fitToPage = True
    rates = book.create_sheet("Tỷ lệ")
    overall = found.overall()
    rates.append([f"Kiến nghị của trẻ em {settings.whose}, {found.since}-{found.until}"
                  f"{found.carried_note()}"])
    rates["A1"].font = bold
    rates.append(["Tổng số", overall.total, "Đã trả lời", overall.answered,
                  "Đã thực hiện", overall.implemented])
    for title, key in (("Theo chủ đề", "topic"), ("Theo cơ quan chủ trì", "agency")):
        rates.append([])
        rates.append([title, "Số kiến nghị", "Đã trả lời", "Tỷ lệ trả lời", "Đã thực hiện",
                      "Tỷ lệ thực hiện"])
        for cell in rates[rates.max_row]:
            cell.font, cell.fill = bold, fill
        for rate in found.rates_by(key):
            rates.append([None, rate.total, rate.answered,
                          rate.answered / rate.total if rate.total else None,
                          rate.implemented,
                          rate.implemented / rate.total if rate.total else None])
            put_text(rates.cell(rates.max_row, 1), rate.label)
            for column in (4, 6):
                rates.cell(rates.max_row, column).number_format = "0%"
    rates.column_dimensions["A"].width = 45
    for letter in "BCDEF":
        rates.column_dimensions[letter].width = 14
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()
