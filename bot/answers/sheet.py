"""The answers spreadsheet officers already work in: the template, and reading it back.

Pure apart from the bytes: `write_template` makes the workbook from rows given to it, and
`read_sheet` turns a workbook into rows and problems (each with its row number and column)
without touching the database; bot.answers.imports checks the rows against it and applies them.

The sheet is the one whose header row is found ("Trả lời" first, then every other: renamed or
moved, it is still found). Columns are found by their header, whatever their order, with or
without tone marks; a column the sheet lacks is reported once, one it has twice too. States
and the "how" column take the codes or the labels in Vietnamese or English, whatever their
case, tone marks, spaces and punctuation, or the first words (two at least) of one label only:
never a guess between two. Dates are real dates or "30/06/2024" / "2024-06-30"; a date cell in
a free-text column ("Thời hạn") is read as "30/06/2024".
"""

from __future__ import annotations

import io
import re
import zipfile
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

from bot.answers.states import HOWS, STATES, usual_how
from bot.exports.common import put_text
from bot.textnorm import NOT_XML, fold, nfc, small_int
from storage.answers import AnswerFields

SHEET = "Trả lời"
GUIDE = "Hướng dẫn"
MAX_BYTES = 20 * 1024 * 1024  # what Telegram lets a bot download
MAX_ROWS = 100_000
MAX_CELL = 5000


@dataclass(frozen=True)
class Column:
    key: str
    header: str  # as written in the template
    width: float
    guide: str  # the guide sheet's line about it
    other_names: tuple[str, ...] = ()  # English headers, older wordings


COLUMNS = (
    Column("ref", "Mã kiến nghị", 13, "Mã do hệ thống cấp (ví dụ DHA-0012). Để trống cho kiến"
           " nghị của các năm trước chưa có mã: khi đó điền Năm, Địa bàn, Chủ đề và Nội dung.",
           ("ref", "ma", "mã")),
    Column("year", "Năm diễn đàn", 9, "Năm tổ chức diễn đàn nhận kiến nghị.", ("year",)),
    Column("district", "Địa bàn", 18, "Tên hoặc mã huyện/xã như trong cấu hình (có thể bỏ"
           " chữ Huyện/Xã/Phường...: «Đắk Hà»).",
           ("district", "area", "huyện")),
    Column("topic", "Chủ đề", 22, "Tên chủ đề, mã chủ đề, hoặc số thứ tự 1-5.", ("topic",)),
    Column("group", "Nhóm trẻ em", 20, "Để tham khảo (không đọc khi nhập).",
           ("children", "who")),
    Column("proposal", "Nội dung kiến nghị", 50, "Để tham khảo; bắt buộc với kiến nghị chưa"
           " có mã.", ("proposal", "kiến nghị")),
    Column("state", "Kết quả", 26, "Chọn trong danh sách: " + "; ".join(
        ("Đã thực hiện", "Đang thực hiện / có lộ trình", "Chưa thể thực hiện",
         "Đã chuyển cơ quan có thẩm quyền", "Đã trả lời tại Diễn đàn")) + ".",
           ("result", "state", "kết quả trả lời")),
    Column("text_vi", "Nội dung trả lời", 50, "Bắt buộc. Viết ngắn gọn, dễ hiểu: trẻ em sẽ"
           " đọc câu trả lời này.", ("answer", "trả lời")),
    Column("text_en", "Nội dung trả lời (tiếng Anh)", 30, "Không bắt buộc.",
           ("answer (english)", "answer in english")),
    Column("agency", "Cơ quan chủ trì", 24, "Cơ quan chịu trách nhiệm chính.",
           ("agency", "responsible agency")),
    Column("partners", "Cơ quan phối hợp", 24, "Không bắt buộc.",
           ("partners", "coordinating agencies")),
    Column("due", "Thời hạn / lộ trình", 16, "Ngày hoặc khoảng thời gian (ví dụ: Quý III/2024).",
           ("due", "timeline", "thời hạn")),
    Column("how", "Hình thức trả lời", 16, "Tại Diễn đàn, hoặc Bằng văn bản.",
           ("how", "how answered")),
    Column("doc_number", "Số văn bản", 14, "Nếu trả lời bằng văn bản.",
           ("document number",)),
    Column("doc_date", "Ngày văn bản", 12, "Ngày ký văn bản (30/06/2024).",
           ("document date",)),
    Column("reason", "Lý do (nếu chưa thể thực hiện)", 30,
           "Bắt buộc khi kết quả là «Chưa thể thực hiện».", ("reason", "lý do")),
    Column("solution", "Giải pháp / lộ trình (nếu chưa thể thực hiện)", 30,
           "Bắt buộc khi kết quả là «Chưa thể thực hiện».", ("solution", "giải pháp")),
)
BY_KEY = {column.key: column for column in COLUMNS}
REQUIRED = ("ref", "state", "text_vi")
# Free text that Excel or LibreOffice would turn into a date or a number as it is typed
# ("15/12", "15/3/2027"): formatted as Text in the template's rows. (Not the long texts: Excel
# shows "####" for a Text cell of more than 255 characters.)
AS_TEXT = ("due", "doc_number")
ANSWER_KEYS = ("state", "text_vi", "text_en", "agency", "partners", "due", "how",
               "doc_number", "doc_date", "reason", "solution")


@dataclass(frozen=True)
class TemplateRow:
    """One approved proposal, with its current answer if it has one."""

    ref: str
    year: int
    district: str  # label
    topic: str  # label
    group: str
    proposal: str
    answer: AnswerFields | None


@dataclass(frozen=True)
class Problem:
    """Something wrong in the sheet. `row` 0: the sheet as a whole. `key` names a text of
    bot/texts/answers.toml ("sheet.…" or "answer.problem.…"); `values` fill it."""

    row: int
    column: str  # the column's header ("" for the sheet)
    key: str
    values: Mapping[str, object] = field(default_factory=dict)


@dataclass(frozen=True)
class SheetRow:
    number: int
    ref: str | None
    year: int | None
    district: str  # as written
    topic: str  # as written
    proposal: str
    answer: AnswerFields
    # The fields read with problems (already reported; "" for the row itself): the row is
    # checked further, so that its problems come in one round, not one per correction, but
    # never applied.
    flawed: frozenset[str] = frozenset()


@dataclass
class Reading:
    rows: list[SheetRow] = field(default_factory=list)
    problems: list[Problem] = field(default_factory=list)
    refs: dict[str, int] = field(default_factory=dict)  # ref -> the first row that has it
    unanswered: int = 0  # rows of the template left without an answer: left as they are
    read: int = 0  # every row with anything in it: answered, unanswered, with problems


_WORD = re.compile(r"[a-z0-9]+")
PREFIX_WORDS = 2  # the fewest words of a label that may stand for it


def _words(text: str) -> tuple[str, ...]:
    """Folded words: no case, tone marks, spaces or punctuation ("Đang thực hiện/có lộ trình"
    -> dang thuc hien co lo trinh)."""
    return tuple(_WORD.findall(fold(text)))


@dataclass(frozen=True)
class Choices:
    """The codes of one drop-down and the labels that stand for them (every language's)."""

    labels: Mapping[tuple[str, ...], str]  # a label's words -> its code

    @classmethod
    def of(cls, labels: Mapping[str, Iterable[str]]) -> Choices:
        """`labels`: code -> its labels (the code stands for itself too)."""
        return cls({_words(label): code for code, names in labels.items()
                    for label in (code, *names)})

    def find(self, typed: str) -> str | None:
        """The code of a label typed loosely (case, tone marks, spaces and punctuation aside),
        or of the beginning of a label, of at least PREFIX_WORDS words, that begins no other
        code's label; None rather than a guess."""
        words = _words(typed)
        if not words:
            return None
        joined = "".join(words)
        codes = {code for label, code in self.labels.items() if "".join(label) == joined}
        if not codes and len(words) >= PREFIX_WORDS:
            codes = {code for label, code in self.labels.items()
                     if label[:len(words)] == words}
        return codes.pop() if len(codes) == 1 else None


@dataclass(frozen=True)
class Vocabulary:
    """The words a sheet may use for states and "how", in every language."""

    states: Choices
    hows: Choices

    @classmethod
    def of(cls, labels: Mapping[str, Mapping[str, str]]) -> Vocabulary:
        """`labels`: "answer.state.<code>" and "answer.how.<code>" -> {lang: label}."""
        def choices(prefix: str, codes: Sequence[str]) -> Choices:
            return Choices.of({code: labels[f"{prefix}.{code}"].values() for code in codes})

        return cls(choices("answer.state", STATES), choices("answer.how", HOWS))


# --- the template -----------------------------------------------------------------------------

def write_template(rows: Iterable[TemplateRow], vocabulary: Vocabulary,
                   labels: Mapping[str, str]) -> bytes:
    """The workbook: one row per proposal, answer columns to fill (drop-downs for the states
    and "how"), and a guide sheet. `labels`: code -> Vietnamese label of states and hows."""
    # openpyxl only when a workbook is made: the bot's process does not carry it otherwise.
    from openpyxl import Workbook
    from openpyxl.styles import Alignment, Font, PatternFill
    from openpyxl.utils import get_column_letter
    from openpyxl.worksheet.datavalidation import DataValidation

    book = Workbook()
    sheet = book.active
    assert sheet is not None
    sheet.title = SHEET
    header_font, fill = Font(name="Times New Roman", size=12, bold=True), PatternFill(
        "solid", fgColor="DDEBF7")
    for index, column in enumerate(COLUMNS, 1):
        cell = sheet.cell(1, index, column.header)
        cell.font, cell.fill = header_font, fill
        cell.alignment = Alignment(wrap_text=True, vertical="center", horizontal="center")
        sheet.column_dimensions[get_column_letter(index)].width = column.width
    sheet.freeze_panes = "B2"
    body, wrap = Font(name="Times New Roman", size=12), Alignment(wrap_text=True,
                                                                   vertical="top")
    count = 0
    for count, row in enumerate(rows, 1):
        values: dict[str, Any] = {"ref": row.ref, "year": row.year, "district": row.district,
                                  "topic": row.topic, "group": row.group,
                                  "proposal": row.proposal}
        if row.answer is not None:
            answer = row.answer
            values.update({key: getattr(answer, key) for key in ANSWER_KEYS})
            values["state"] = labels.get(answer.state, answer.state)
            values["how"] = labels.get(answer.how, answer.how)
            values["doc_date"] = date.fromisoformat(answer.doc_date) if answer.doc_date else None
        for index, column in enumerate(COLUMNS, 1):
            value = values.get(column.key)
            cell = sheet.cell(count + 1, index)
            if isinstance(value, str):
                put_text(cell, value)
            else:
                cell.value = value
            cell.font, cell.alignment = body, wrap
            if column.key == "doc_date":
                cell.number_format = "DD/MM/YYYY"
            elif column.key in AS_TEXT:
                cell.number_format = "@"
    last = max(count + 1, 200) + 500  # room for history rows typed below
    for key, words in (("state", [labels[s] for s in STATES]),
                       ("how", [labels[h] for h in HOWS])):
        letter = get_column_letter(list(BY_KEY).index(key) + 1)
        check = DataValidation(type="list", formula1='"' + ",".join(words) + '"',
                               allow_blank=True, showErrorMessage=True,
                               errorTitle="Không có trong danh sách",
                               error="Chọn một giá trị trong danh sách.")
        check.add(f"{letter}2:{letter}{last}")
        sheet.add_data_validation(check)
    guide = book.create_sheet(GUIDE)
    guide.append(["Cột", "Cách ghi"])
    for column in COLUMNS:
        guide.append([column.header, column.guide])
    guide.append([])
    guide.append(["Kết quả", "Ý nghĩa"])
    for state in STATES:
        guide.append([labels[state], f"mã: {state}"])
    guide.column_dimensions["A"].width, guide.column_dimensions["B"].width = 40, 100
    for line in guide.iter_rows():
        for cell in line:
            cell.alignment = Alignment(wrap_text=True, vertical="top")
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


# --- reading a sheet back -------------------------------------------------------------------------

_HEADER_NOISE = re.compile(r"[^a-z0-9]+")
_MERGE = re.compile(rb'<mergeCell ref="([A-Z]+)([0-9]+):([A-Z]+)([0-9]+)"')


def _header_key(text: str) -> str:
    return _HEADER_NOISE.sub("", fold(text))


_HEADERS = {_header_key(name): column.key for column in COLUMNS
            for name in (column.header, *column.other_names)}


def read_sheet(data: bytes, vocabulary: Vocabulary) -> Reading:
    """Rows and problems of a filled-in workbook. Nothing in it is trusted."""
    from openpyxl import load_workbook

    reading = Reading()
    if len(data) > MAX_BYTES:
        reading.problems.append(Problem(0, "", "sheet.too_big", {"mb": MAX_BYTES // 2**20}))
        return reading
    try:
        book = load_workbook(io.BytesIO(data), read_only=True, data_only=False)
    except (zipfile.BadZipFile, KeyError, OSError, ValueError, TypeError):
        reading.problems.append(Problem(0, "", "sheet.not_xlsx"))
        return reading
    try:
        found = _header_sheet(book.worksheets)
        if found is None:
            reading.problems.append(Problem(0, "", "sheet.no_header", {
                "columns": ", ".join(BY_KEY[k].header for k in REQUIRED)}))
            return reading
        sheet, lines, (header_row, columns) = found
        missing = [BY_KEY[key].header for key in REQUIRED if key not in columns.values()]
        if missing:
            reading.problems.append(Problem(header_row, "", "sheet.missing_columns",
                                            {"columns": ", ".join(missing)}))
        reading.problems += [Problem(header_row, "", "sheet.same_header", values)
                             for values in _same_headers(columns)]
        if reading.problems:
            return reading
        merged = _merged_rows(data, getattr(sheet, "_worksheet_path", ""))
        for number, (values, formulas) in enumerate(lines, header_row + 1):
            if number > header_row + MAX_ROWS:
                reading.problems.append(Problem(number, "", "sheet.too_many_rows",
                                                {"max": MAX_ROWS}))
                break
            _read_row(reading, number, values, formulas, columns, vocabulary,
                      number in merged)
    finally:
        book.close()
    return reading


_Lines = Iterator[tuple[tuple[Any, ...], frozenset[int]]]


def _header_sheet(sheets: Sequence[Any]) -> tuple[Any, _Lines, tuple[int, dict[int, str]]] | None:
    """The sheet with the header row, its rows after it, and the header: the sheet named
    SHEET first, then every other in order (renamed, moved after the guide)."""
    for sheet in sorted(sheets, key=lambda sheet: sheet.title != SHEET):
        lines = _lines(sheet.iter_rows())
        found = _find_header(values for values, _ in lines)
        if found is not None:
            return sheet, lines, found
    return None


def _lines(rows: Iterable[tuple[Any, ...]]) -> _Lines:
    """Each row's values and the places of its formulas. A formula is a cell Excel stores as
    one (data type "f"), not a text that starts with "=": a child's "=))" written with the quote
    prefix, or an officer's "=> …", is text."""
    for cells in rows:
        yield (tuple(cell.value for cell in cells),
               frozenset(index for index, cell in enumerate(cells) if cell.data_type == "f"))


def _find_header(lines: Iterable[tuple[Any, ...]]) -> tuple[int, dict[int, str]] | None:
    """The first of the first ten rows that names at least two known columns."""
    for number, values in enumerate(lines, 1):
        columns = {index: _HEADERS[key] for index, value in enumerate(values)
                   if isinstance(value, str) and (key := _header_key(value)) in _HEADERS}
        if len(set(columns.values())) >= 2:
            return number, columns
        if number >= 10:
            return None
    return None


def _same_headers(columns: Mapping[int, str]) -> Iterator[dict[str, str]]:
    """The columns found twice (an inserted column headed as another): which one is meant
    cannot be told, and the later one, empty, would silently win."""
    from openpyxl.utils import get_column_letter

    places: dict[str, list[int]] = {}
    for index, key in columns.items():
        places.setdefault(key, []).append(index)
    for key, found in places.items():
        if len(found) > 1:
            yield {"column": BY_KEY[key].header, "first": get_column_letter(found[0] + 1),
                   "second": get_column_letter(found[1] + 1)}


def _merged_rows(data: bytes, path: str) -> set[int]:
    """The rows that take part in a merged range below the header (read-only openpyxl does not
    report merges; the sheet's XML lists them at its end)."""
    if not path:
        return set()
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            xml = archive.read(path)
    except (KeyError, zipfile.BadZipFile):
        return set()
    rows: set[int] = set()
    for match in _MERGE.finditer(xml[xml.rfind(b"<mergeCells"):] if b"<mergeCells" in xml
                                 else b""):
        rows.update(range(int(match.group(2)), int(match.group(4)) + 1))
    return rows


def _read_row(reading: Reading, number: int, values: tuple[Any, ...], formulas: frozenset[int],
              columns: dict[int, str], vocabulary: Vocabulary, merged: bool) -> None:
    cells: dict[str, Any] = {key: values[index] if index < len(values) else None
                             for index, key in columns.items()}
    formula_keys = {columns[index] for index in formulas if index in columns}
    if all(_blank(value) for key, value in cells.items() if key != "group") and not merged:
        return  # an empty row
    reading.read += 1
    if all(_blank(cells.get(key)) for key in ANSWER_KEYS) and not merged:
        reading.unanswered += 1  # a proposal not answered yet: nothing to do with it
        return
    problems: list[Problem] = []
    flawed: set[str] = set()

    def problem(key: str, what: str, **values: object) -> None:
        problems.append(Problem(number, BY_KEY[key].header if key else "", f"sheet.{what}",
                                values))
        flawed.add(key)

    if merged:
        problem("", "merged")
    text: dict[str, str] = {}
    for key, value in cells.items():
        if key in formula_keys:
            problem(key, "formula")
            value = None
        text[key] = _text(value)
        if len(text[key]) > MAX_CELL:
            problem(key, "too_long", limit=MAX_CELL)
    state = vocabulary.states.find(text.get("state", ""))
    if state is None and text.get("state"):
        problem("state", "state", value=_quoted(text["state"]))
    elif state is None:
        problem("state", "state_missing")
    how_text = text.get("how", "")
    # left empty: as the result says
    how = vocabulary.hows.find(how_text) if how_text else usual_how(state or "")
    if how is None:
        problem("how", "how", value=_quoted(how_text))
    doc_date: str | None = None
    if "doc_date" in cells and cells["doc_date"] not in (None, ""):
        parsed = _date(cells["doc_date"])
        if parsed is None:
            problem("doc_date", "date")
        else:
            doc_date = parsed.isoformat()
    ref = text.get("ref", "").upper()
    if ref and ref in reading.refs:
        problem("ref", "twice", ref=ref, first=reading.refs[ref])
    elif ref:
        reading.refs[ref] = number
    year: int | None = None
    if text.get("year"):
        year = small_int(text["year"])
        if year is None or not 2000 <= year <= 2100:
            problem("year", "year")
            year = None
    reading.problems.extend(problems)
    if state is None or how is None:
        return  # nothing more to check in it
    answer = AnswerFields(state=state, how=how, doc_date=doc_date, **{
        key: text.get(key, "") for key in ANSWER_KEYS if key not in ("state", "how",
                                                                      "doc_date")})
    reading.rows.append(SheetRow(number, ref or None, year,
                                 text.get("district", ""), text.get("topic", ""),
                                 text.get("proposal", ""), answer,
                                 flawed=frozenset(flawed)))


def _quoted(typed: str) -> str:
    """What was typed, to quote in a problem (its start, if long)."""
    return typed if len(typed) <= 60 else typed[:59] + "…"


def _blank(value: object) -> bool:
    return value is None or (isinstance(value, str) and not value.strip())


def _text(value: object) -> str:
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    if isinstance(value, date):  # (a datetime too) a date cell: written as people here do
        return f"{value:%d/%m/%Y}"
    # NFC: a label typed decomposed (Unikey's "Unicode tổ hợp", macOS) is the same label
    return nfc(NOT_XML.sub("", str(value))).strip().removeprefix("'")


def _date(value: object) -> date | None:
    if isinstance(value, datetime):
        found = value.date()
    elif isinstance(value, date):
        found = value
    else:
        found = None
        for pattern in ("%d/%m/%Y", "%Y-%m-%d", "%d-%m-%Y", "%d.%m.%Y"):
            try:
                found = datetime.strptime(str(value).strip(), pattern).date()
                break
            except ValueError:
                continue
    return found if found is not None and 2000 <= found.year <= 2100 else None
