"""XLSX: a summary sheet, then one sheet per topic, written in openpyxl's write-only mode.

Memory stays flat: the summary comes from an aggregate query, and the rows, ordered by topic,
stream into one topic sheet after another.
"""

from __future__ import annotations

import asyncio
import re
from collections import Counter
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import BinaryIO

from openpyxl import Workbook
from openpyxl.cell import Cell, WriteOnlyCell
from openpyxl.styles import Alignment, Font, PatternFill
from openpyxl.utils import get_column_letter
from openpyxl.worksheet._write_only import WriteOnlyWorksheet

from bot.exports.common import COLUMNS, HEADERS, STATUS_LABELS, Job, TopicRun, neutralise
from bot.exports.common import Cell as Value
from storage import export_rows
from storage.db import Tx

SUMMARY_TITLE = "Tổng hợp"
SHEET_NAME_MAX = 31
NOT_IN_SHEET_NAMES = re.compile(r"[\[\]:*?/\\]")
WRAP = Alignment(wrap_text=True, vertical="top")
HEADER_FONT = Font(bold=True)
HEADER_FILL = PatternFill("solid", fgColor="DDEBF7")
HEADER_ALIGN = Alignment(wrap_text=True, vertical="center", horizontal="center")
WRAPPED = tuple(index for index, column in enumerate(COLUMNS) if column.wrap)


def sheet_title(number: int, title: str) -> str:
    """A valid, unique sheet name: "1. Phòng, chống bạo lực, xâm hại" (31 characters at most)."""
    return f"{number}. {NOT_IN_SHEET_NAMES.sub(' ', title)}"[:SHEET_NAME_MAX].rstrip()


class _Book:
    """A write-only workbook with the two cell styles the export uses."""

    def __init__(self) -> None:
        self.workbook = Workbook(write_only=True)
        self.summary = self.workbook.create_sheet(SUMMARY_TITLE)
        template = WriteOnlyCell(self.summary)
        template.alignment = WRAP
        # Copying one style array is much cheaper than styling each cell (see bench/README.md).
        self._wrap = template._style

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

    def data(self, sheet: WriteOnlyWorksheet, values: Sequence[Value]) -> list[Value | Cell]:
        """A data row: free-text columns wrapped, empty cells left out."""
        row: list[Value | Cell] = list(values)
        for index in WRAPPED:  # only these cells need a cell object, for their style
            value = values[index]
            if value is not None:
                row[index] = Cell(sheet, row=1, column=1, value=value, style_array=self._wrap)
        return row

    def topic_sheet(self, number: int, title: str) -> WriteOnlyWorksheet:
        """A topic sheet with widths, a frozen header row and the header written."""
        sheet = self.workbook.create_sheet(sheet_title(number, title))
        for index, column in enumerate(COLUMNS, 1):
            sheet.column_dimensions[get_column_letter(index)].width = column.width
        sheet.freeze_panes = "A2"
        sheet.append(self.header(sheet, HEADERS))
        return sheet


class _TopicSheets:
    """Topic sheets opened one after another as rows, ordered by topic, arrive.

    Every catalog topic gets a sheet, even with no rows; unknown topics come after them.
    """

    def __init__(self, book: _Book, job: Job) -> None:
        self.book, self.labels, self.run = book, job.labels, TopicRun(job.topic_order)
        self.sheet: WriteOnlyWorksheet | None = None
        self.number = self.rows = 0

    def sheet_for(self, topic: str) -> WriteOnlyWorksheet:
        """The sheet a row of this topic goes to (counted as one more row)."""
        for begun in self.run.starts(topic):
            self._open(begun)
        assert self.sheet is not None
        self.rows += 1
        return self.sheet

    def close(self) -> None:
        for topic in self.run.rest():
            self._open(topic)
        self._close()

    def _open(self, topic: str) -> None:
        self._close()
        self.number += 1
        self.sheet = self.book.topic_sheet(self.number, self.labels.topic(topic))
        self.rows = 0

    def _close(self) -> None:
        """Filter the header and the rows written (the filter is written when saving)."""
        if self.sheet is not None:
            last = f"{get_column_letter(len(COLUMNS))}{self.rows + 1}"
            self.sheet.auto_filter.ref = f"A1:{last}"


def _write_summary(book: _Book, job: Job, counts: list[export_rows.Count]) -> None:
    """Counts by topic (rows) and status (columns) for the selection."""
    sheet, labels = book.summary, job.labels
    by_cell = Counter[tuple[str, str]]()
    for count in counts:
        by_cell[count.topic, count.status] += count.count
    topics = [*job.topic_order, *sorted({t for t, _ in by_cell} - set(job.topic_order))]
    statuses = job.selection.statuses
    sheet.column_dimensions["A"].width, sheet.column_dimensions["B"].width = 6, 48
    places = ", ".join(d.name for d in job.districts)
    sheet.append(book.bold(sheet, ["Tổng hợp kiến nghị của trẻ em"]))
    sheet.append(["Đơn vị:", neutralise(places)])
    sheet.append(["Thời gian:", job.period() or "toàn bộ"])
    sheet.append([])
    sheet.append(book.header(sheet, ["STT", "Chủ đề", *(STATUS_LABELS[s] for s in statuses),
                                     "Tổng"]))
    for number, topic in enumerate(topics, 1):
        values = [by_cell[topic, status] for status in statuses]
        sheet.append([number, labels.topic(topic), *values, sum(values)])
    totals = [sum(by_cell[t, status] for t in topics) for status in statuses]
    sheet.append(book.bold(sheet, [None, "Tổng cộng", *totals, sum(totals)]))


async def write_xlsx(db: Tx, job: Job, out: Path | BinaryIO) -> int:
    """The workbook; returns the number of proposals written to topic sheets."""
    book = _Book()
    _write_summary(book, job, await export_rows.counts(db, job.selection))
    sheets, total = _TopicSheets(book, job), 0
    async for row in job.rows(db, topic_first=True):
        sheet = sheets.sheet_for(row.topic)
        sheet.append(book.data(sheet, job.labels.cells(row, job.key)))
        total += 1
    sheets.close()
    await asyncio.to_thread(book.workbook.save, out)
    return total
