"""XLSX: a summary sheet, the recommendations, then one sheet per topic, written in openpyxl's
write-only mode.

Memory stays flat: the summary comes from an aggregate query, and the rows, ordered by topic,
stream into one topic sheet after another. A sheet with no rows says so in one line, printed
on one page.
"""

from __future__ import annotations

import asyncio
import math
import re
from collections import Counter
from collections.abc import Iterable, Sequence
from datetime import datetime
from pathlib import Path
from typing import BinaryIO

from openpyxl import Workbook
from openpyxl.cell import Cell, WriteOnlyCell
from openpyxl.styles import Alignment, Font, PatternFill
from openpyxl.utils import get_column_letter
from openpyxl.worksheet._write_only import WriteOnlyWorksheet
from openpyxl.worksheet.worksheet import Worksheet

from bot.exports.common import (
    AREA_HEADERS,
    COLUMNS,
    DATE_COLUMNS,
    HEADERS,
    STATUS_LABELS,
    Column,
    Job,
    TopicRun,
    clean,
    dropped,
    neutralise,
)
from bot.exports.common import Cell as Value
from storage import export_rows, recommendations
from storage.db import Tx

SUMMARY_TITLE = "Tổng hợp"
RECOMMENDATIONS_TITLE = "Kiến nghị chung"
SHEET_NAME_MAX = 31
NOT_IN_SHEET_NAMES = re.compile(r"[\[\]:*?/\\]")
WRAP = Alignment(wrap_text=True, vertical="top")
TOP = Alignment(vertical="top")
DATE_FORMAT = "dd/mm/yyyy hh:mm"
HEADER_FONT = Font(name="Calibri", size=11, bold=True)
HEADER_FILL = PatternFill("solid", fgColor="DDEBF7")
HEADER_ALIGN = Alignment(wrap_text=True, vertical="center", horizontal="center")
WRAPPED = tuple(index for index, column in enumerate(COLUMNS) if column.wrap)
WRAPPED_SET = frozenset(WRAPPED)
LINE_PT, MAX_ROW_PT = 15, 409  # a line of 11 pt Calibri; Excel's highest row
CHARS_PER_WIDTH = 1.1  # characters of a Vietnamese text per unit of column width, about
SUMMARY_WIDTH = 48  # the summary's column B: topics, districts, the list of places


def row_height(values: Sequence[Value],
               columns: Sequence[Column] = COLUMNS) -> float | None:
    """The height a data row needs to show its wrapped texts whole (None: one line will do).

    LibreOffice does not size rows to wrapped text when it opens the file (seen in
    bench/render_report.py): each row kept one line's height and the rest of its text hid
    under the next row. Excel was not tried here; an explicit height does for both.
    """
    wrapped = WRAPPED if columns is COLUMNS else [i for i, c in enumerate(columns) if c.wrap]
    return _height(max((_lines(value, columns[index].width) for index in wrapped
                        if isinstance(value := values[index], str) and value), default=1))


def header_height(headers: Sequence[str], columns: Sequence[Column]) -> float | None:
    """The height a header row needs to show its bold names whole, wrapped between words
    (LibreOffice kept one line: "Số em trong nhóm" showed its middle line only)."""
    return _height(max((_word_lines(header, column.width) for header, column in zip(
        headers, columns, strict=True)), default=1))


def _word_lines(text: str, width: float) -> int:
    """The lines a bold text takes wrapped between words in a column `width` units wide."""
    per_line, lines, used = max(1, int(width)), 1, -1
    for word in text.split():
        if used >= 0 and used + 1 + len(word) > per_line:
            lines, used = lines + 1, -1
        used += 1 + len(word)
    return lines


def _lines(text: str, width: float) -> int:
    """The lines a wrapped text takes in a column `width` units wide, about."""
    per_line = max(1, int(width * CHARS_PER_WIDTH))
    return sum(max(1, math.ceil(len(part) / per_line)) for part in text.split("\n"))


def _height(lines: int) -> float | None:
    """A row's height for so many lines of 11 pt text (None: one line, the default)."""
    return min(MAX_ROW_PT, LINE_PT * lines) if lines > 1 else None


def sheet_title(number: int, title: str) -> str:
    """A valid, unique sheet name of 31 characters at most: "1. Bạo lực, xâm hại" (the topic's
    short title); a longer one is cut between words, never inside one."""
    name = f"{number}. {NOT_IN_SHEET_NAMES.sub(' ', title)}"
    if len(name) <= SHEET_NAME_MAX:
        return name
    cut = name[:SHEET_NAME_MAX + 1].rsplit(" ", 1)[0]
    return cut.rstrip(" ,;-") if len(cut) > len(str(number)) + 2 else name[:SHEET_NAME_MAX]


class _Book:
    """A write-only workbook with the two cell styles the export uses."""

    def __init__(self) -> None:
        self.workbook = Workbook(write_only=True)
        self.summary = self.workbook.create_sheet(SUMMARY_TITLE)
        # Copying one style array is much cheaper than styling each cell (see bench/README.md).
        self._wrap = self._style(alignment=WRAP)
        # A text that would read as a formula: Excel's quote prefix keeps it text, and shows
        # it as typed (no apostrophe in the cell, unlike in a CSV).
        self._quoted = self._style(alignment=WRAP, quotePrefix=True)
        self._date = self._style(alignment=TOP, number_format=DATE_FORMAT)
        self._top = self._style(alignment=TOP)
        self._rows: dict[str, int] = {}  # the last row written, by sheet

    def _style(self, **style: object) -> object:
        template = WriteOnlyCell(self.summary)
        for name, value in style.items():
            setattr(template, name, value)
        return template._style

    def header(self, sheet: WriteOnlyWorksheet, values: Iterable[str]) -> list[Cell]:
        cells = []
        for value in values:
            cell = WriteOnlyCell(sheet, value)
            cell.font, cell.fill, cell.alignment = HEADER_FONT, HEADER_FILL, HEADER_ALIGN
            cells.append(cell)
        return cells

    def bold(self, sheet: WriteOnlyWorksheet, values: Iterable[Value]) -> list[Cell]:
        cells = []
        for value in values:
            cell = WriteOnlyCell(sheet, value)
            cell.font = HEADER_FONT
            cells.append(cell)
        return cells

    def data(self, sheet: WriteOnlyWorksheet, values: Sequence[Value],
             tall: bool = False) -> list[Value | Cell]:
        """A data row: free-text columns wrapped, dates as dates, empty cells left out; in a
        row taller than one line (`tall`) every cell at the top, level with the texts' first
        line (Excel's default is the bottom)."""
        row: list[Value | Cell] = list(values)
        if tall:
            for index, value in enumerate(values):
                if value is not None and index not in WRAPPED_SET:
                    row[index] = Cell(sheet, row=1, column=1, value=value,
                                      style_array=self._top)
        for index in WRAPPED:  # only these cells need a cell object, for their style
            value = values[index]
            if value is not None:
                row[index] = self.wrapped(sheet, value)
        for index in DATE_COLUMNS:
            value = values[index]
            if isinstance(value, str):
                row[index] = Cell(sheet, row=1, column=1, value=datetime.fromisoformat(value),
                                  style_array=self._date)
        return row

    def append_data(self, sheet: WriteOnlyWorksheet, values: Sequence[Value]) -> None:
        """A data row, as tall as its wrapped texts need (rows are counted here: a write-only
        sheet does not say which row comes next)."""
        number = self._rows[sheet.title] = self._rows.get(sheet.title, 1) + 1  # 1: the header
        height = row_height(values)
        if height is not None:
            sheet.row_dimensions[number].height = height
        sheet.append(self.data(sheet, values, tall=height is not None))
        if height is not None:
            del sheet.row_dimensions[number]  # written: no need to keep it

    def top(self, sheet: WriteOnlyWorksheet, value: Value) -> Cell:
        """A cell at the top of a tall row, level with its neighbours' first line."""
        return Cell(sheet, row=1, column=1, value=value, style_array=self._top)

    def wrapped(self, sheet: WriteOnlyWorksheet, value: Value) -> Cell:
        """A wrapped cell; a text neutralised with an apostrophe (common.neutralise) shown as
        typed, kept text by the quote prefix."""
        if isinstance(value, str) and value[:1] == "'" and neutralise(value[1:]) == value:
            quoted = Cell(sheet, row=1, column=1, value=value[1:], style_array=self._quoted)
            quoted.data_type = "s"  # openpyxl would store "=…" as a formula
            return quoted
        return Cell(sheet, row=1, column=1, value=value, style_array=self._wrap)

    def table(self, sheet: WriteOnlyWorksheet, columns: Sequence[Column],
              headers: Sequence[str], titles: int = 1) -> None:
        """A table's widths, frozen header row and print setup (its first `titles` columns
        repeated on every page across), then its header: before any other row."""
        for index, column in enumerate(columns, 1):
            sheet.column_dimensions[get_column_letter(index)].width = column.width
        sheet.freeze_panes = "A2"
        _print_setup(sheet, sum(column.width for column in columns),
                     sum(column.width for column in columns[:titles]), titles)
        height = header_height(headers, columns)
        if height is not None:
            sheet.row_dimensions[1].height = height
        sheet.append(self.header(sheet, headers))
        if height is not None:
            del sheet.row_dimensions[1]  # written: no need to keep it

    def nothing(self, sheet: WriteOnlyWorksheet, title: str, note: str) -> None:
        """A sheet with no rows: its title and one line saying why, on one printed page (its
        table's header alone printed a page, or three, of column names)."""
        sheet.column_dimensions["A"].width = NOTE_WIDTH
        _print_setup(sheet, header=False)
        sheet.append(self.bold(sheet, [title]))
        sheet.append([self.wrapped(sheet, note)])


class _TopicSheets:
    """Topic sheets opened one after another as rows, ordered by topic, arrive.

    Every catalog topic gets a sheet, even with no rows (it says so in a line, as the report
    does); unknown topics come after them. A sheet's table begins with its first row.
    """

    def __init__(self, book: _Book, job: Job) -> None:
        self.book, self.labels, self.run = book, job.labels, TopicRun(job.topic_order)
        self.headers = job.headers
        self.sheet: WriteOnlyWorksheet | None = None
        self.topic = ""
        self.number = self.rows = 0

    def sheet_for(self, topic: str) -> WriteOnlyWorksheet:
        """The sheet a row of this topic goes to (counted as one more row)."""
        for begun in self.run.starts(topic):
            self._open(begun)
        assert self.sheet is not None
        if not self.rows:
            self.book.table(self.sheet, COLUMNS, self.headers)
        self.rows += 1
        return self.sheet

    def close(self) -> None:
        for topic in self.run.rest():
            self._open(topic)
        self._close()

    def _open(self, topic: str) -> None:
        self._close()
        self.number += 1
        self.sheet = self.book.workbook.create_sheet(
            sheet_title(self.number, self.labels.short_topic(topic)))
        self.topic, self.rows = topic, 0

    def _close(self) -> None:
        """Filter the header and the rows written (the filter is written when saving); a
        sheet without rows gets its line instead."""
        if self.sheet is None:
            return
        if not self.rows:
            self.book.nothing(self.sheet, self.labels.topic(self.topic), NO_PROPOSAL)
            return
        last = f"{get_column_letter(len(COLUMNS))}{self.rows + 1}"
        self.sheet.auto_filter.ref = f"A1:{last}"


PAGE_WIDTH = 140  # column-width units an A4 landscape page holds at 100 %, default margins
MIN_PRINT_SCALE = 0.75  # smaller, an 11 pt text prints under 8 pt: too small to read


def pages_across(width: float, titles_width: float = 0) -> int:
    """How many pages wide a sheet of `width` units prints with its text at MIN_PRINT_SCALE or
    more, when each page after the first repeats `titles_width` units of its first columns."""
    page = PAGE_WIDTH / MIN_PRINT_SCALE
    if width <= page:
        return 1
    return 1 + math.ceil((width - page) / (page - titles_width))


def _print_setup(sheet: WriteOnlyWorksheet, width: float = 0, titles_width: float = 0,
                 titles: int = 1, header: bool = True) -> None:
    """A4 landscape, the `header` row on every page; as wide as one page, or for a sheet of
    `width` units too wide to print readably on one, as few pages wide as keep the text at
    MIN_PRINT_SCALE or more, each starting with the `titles` columns that say what a row is
    (fitted to one page, a topic sheet's 25 columns printed at 29 %: 3 pt letters)."""
    sheet.page_setup.paperSize = Worksheet.PAPERSIZE_A4
    sheet.page_setup.orientation = "landscape"
    pages = pages_across(width, titles_width)
    sheet.page_setup.fitToWidth, sheet.page_setup.fitToHeight = pages, 0
    sheet.sheet_properties.pageSetUpPr.fitToPage = True
    if header:
        sheet.print_title_rows = "1:1"
    if pages > 1:
        sheet.print_title_cols = f"A:{get_column_letter(titles)}"


def _write_summary(book: _Book, job: Job, counts: list[export_rows.Count]) -> None:
    """Counts by topic (rows) and status (columns) for the selection; with several districts,
    the same by district."""
    sheet, labels = book.summary, job.labels
    by_topic = Counter[tuple[str, str]]()
    by_district = Counter[tuple[str, str]]()
    for count in counts:
        by_topic[count.topic, count.status] += count.count
        by_district[count.district, count.status] += count.count
    topics = [*job.topic_order, *sorted({t for t, _ in by_topic} - set(job.topic_order))]
    statuses = job.selection.statuses
    sheet.column_dimensions["A"].width = 12
    sheet.column_dimensions["B"].width = SUMMARY_WIDTH
    for letter in "CDEF":
        sheet.column_dimensions[letter].width = 12
    _print_setup(sheet)
    places = ", ".join(d.name for d in job.districts)
    sheet.append(book.bold(sheet, ["Tổng hợp kiến nghị của trẻ em"]))
    height = _height(_lines(places, SUMMARY_WIDTH))
    if height is not None:  # as tall as the list of places needs (LibreOffice does not size it)
        sheet.row_dimensions[2].height = height
    sheet.append([book.wrapped(sheet, "Đơn vị:"), book.wrapped(sheet, neutralise(places))])
    year = job.selection.forum_year  # a forum year's proposals, or every year's (None)
    when = ", ".join(part for part in (f"năm diễn đàn {year}" if year else "", job.period())
                     if part)
    sheet.append(["Thời gian:", when[:1].upper() + when[1:] if when else "toàn bộ"])
    sheet.append([])
    head = [*(STATUS_LABELS[s] for s in statuses), "Tổng"]
    sheet.append(book.header(sheet, ["STT", "Chủ đề", *head]))
    _count_rows(book, sheet, [(labels.topic(t), t) for t in topics], by_topic, statuses)
    if len(job.districts) > 1:
        sheet.append([])
        sheet.append(book.header(sheet, ["STT", job.headers[2], *head]))
        _count_rows(book, sheet, [(labels.district(d.code), d.code) for d in job.districts],
                    by_district, statuses)


def _count_rows(book: _Book, sheet: WriteOnlyWorksheet, keys: list[tuple[str, str]],
                counts: Counter[tuple[str, str]], statuses: Sequence[str]) -> None:
    for number, (label, key) in enumerate(keys, 1):
        values = [counts[key, status] for status in statuses]
        sheet.append([number, label, *values, sum(values)])
    totals = [sum(counts[key, status] for _, key in keys) for status in statuses]
    sheet.append(book.bold(sheet, [None, "Tổng cộng", *totals, sum(totals)]))


# The first three say which recommendation a row is: printed on every page across (the
# quotes and refs print on the second). "Kiến nghị chung số" is its number on the topic
# sheets and in /compile.
RECOMMENDATION_COLUMNS = (
    Column("STT", 6), Column("Kiến nghị chung số", 11), Column("Kiến nghị chung", 48, wrap=True),
    Column("Chủ đề", 24, wrap=True), Column("Huyện, thành phố", 18), Column("Số trẻ em", 9),
    Column("Số ý kiến", 9), Column("Số nhóm", 9), Column("Xã, phường (nhóm)", 20, wrap=True),
    Column("Độ tuổi", 18, wrap=True), Column("Giới tính", 18, wrap=True),
    Column("Ý kiến tiêu biểu của trẻ em", 60, wrap=True),
    Column("Mã các kiến nghị", 30, wrap=True),
)
RECOMMENDATION_TITLES = 3
NOTE_WIDTH = 110  # the one column of a sheet that only says it has no rows
NO_PROPOSAL = ("Không có kiến nghị nào về chủ đề này trong tệp (đơn vị, thời gian, trạng thái"
               " đã chọn: xem trang “Tổng hợp”).")
NO_RECOMMENDATION = ("Không có kiến nghị chung nào trong tệp: chưa có hai ý kiến trở lên được"
                     " tổng hợp thành một (lệnh /compile), hoặc các ý kiến ấy nằm ngoài đơn vị,"
                     " thời gian, trạng thái đã chọn.")


def _write_recommendations(book: _Book, job: Job,
                           found: list[recommendations.Recommendation]) -> None:
    """One row per recommendation (proposals compiled together): who asked, their words."""
    sheet = book.workbook.create_sheet(RECOMMENDATIONS_TITLE)
    labels, order = job.labels, {topic: n for n, topic in enumerate(job.topic_order)}
    chosen = sorted((r for r in found if len(r.members) > 1),
                    key=lambda r: (order.get(r.topic, len(order)), r.district, -len(r.members)))
    if not chosen:
        book.nothing(sheet, RECOMMENDATIONS_TITLE, NO_RECOMMENDATION)
        return
    area = job.headers[HEADERS.index(AREA_HEADERS["district"])]  # named for the forum's level
    book.table(sheet, RECOMMENDATION_COLUMNS, [
        area if c.header == AREA_HEADERS["district"] else c.header
        for c in RECOMMENDATION_COLUMNS], RECOMMENDATION_TITLES)
    for number, item in enumerate(chosen, 1):
        members = item.members
        who = labels.asked(members)
        # In “…” a quote cannot read as a formula; the other texts are neutralised whole.
        quotes = list(dict.fromkeys(clean(m.text).strip() for m in members))[:3]
        values: list[Value] = [
            number, item.id, neutralise(clean(item.title)), labels.topic(item.topic),
            labels.district(item.district),
            who.children if not who.unsized else who.children_text(), who.proposals,
            who.groups,
            neutralise(", ".join(sorted({clean(m.commune) for m in members if m.commune}))),
            who.ages_text(), ", ".join(f"{label}: {n}" for label, n in who.sexes),
            "\n".join(f"“{quote}”" for quote in quotes), ", ".join(m.ref for m in members)]
        height = row_height(values, RECOMMENDATION_COLUMNS)
        if height is not None:  # as tall as its quotes (LibreOffice does not size it)
            sheet.row_dimensions[number + 1].height = height
        sheet.append([None if v is None or v == "" else book.wrapped(sheet, v)
                      if isinstance(v, str) else book.top(sheet, v) if height else v
                      for v in values])
        if height is not None:
            del sheet.row_dimensions[number + 1]


async def write_xlsx(db: Tx, job: Job, out: Path | BinaryIO) -> int:
    """The workbook; returns the number of proposals written to topic sheets."""
    book = _Book()
    _write_summary(book, job, await export_rows.counts(db, job.selection))
    _write_recommendations(book, job, await recommendations.selected(db, job.selection))
    sheets, total = _TopicSheets(book, job), 0
    async for row in job.rows(db, topic_first=True):
        book.append_data(sheets.sheet_for(row.topic), job.labels.cells(row, job.key))
        total += 1
    sheets.close()
    try:
        await asyncio.to_thread(book.workbook.save, out)
    except OSError as error:
        del book, sheets  # their half-written streams go quietly (a full disk)
        raise dropped(error) from None
    return total
