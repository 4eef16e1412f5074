"""The frame of a report in the Decree 30/2020 layout (see ../shared/report-format.md), shared by
the compiled report of proposals and the follow-up report of answers.

`Decree30` builds one python-docx Document: A4 pages with the configured margins, Times New Roman
everywhere, page numbers from page 2, the header table (issuing body, Quốc hiệu and motto, Số,
place and date), BÁO CÁO with its trích yếu and rule, Kính gửi, body paragraphs, the closing
(Nơi nhận and the signature block) and annexes on landscape pages with a repeated table header.
"""

from __future__ import annotations

from collections.abc import Sequence
from copy import deepcopy
from datetime import UTC, datetime
from typing import IO, Any
from zoneinfo import ZoneInfo

from docx import Document
from docx.enum.section import WD_ORIENT, WD_SECTION
from docx.enum.table import WD_TABLE_ALIGNMENT
from docx.enum.text import WD_ALIGN_PARAGRAPH
from docx.oxml import OxmlElement
from docx.oxml.ns import qn
from docx.shared import Cm, Mm, Pt
from docx.text.paragraph import Paragraph as DocxParagraph

from bot.exports.common import clean
from bot.exports.settings import ReportSettings
from bot.exports.spill import Spill, Template

FONT = "Times New Roman"
FONT_SLOTS = ("w:ascii", "w:hAnsi", "w:eastAsia", "w:cs")
THEME_SLOTS = ("w:asciiTheme", "w:hAnsiTheme", "w:eastAsiaTheme", "w:cstheme")
BODY_PT, HEADER_PT, RECIPIENTS_PT, ITEMS_PT = 14, 13, 12, 11
# The Quốc hiệu, 13 pt bold, on one line: rendered (LibreOffice, Times New Roman's metrics),
# it broke before "NAM" in a 10 cm cell and fits in 10.5 cm.
HEADER_WIDTHS_CM, SIGNATURE_WIDTHS_CM = (6.0, 10.5), (6.0, 10.5)
NATION, MOTTO = "CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM", "Độc lập - Tự do - Hạnh phúc"
LANGUAGE = "vi-VN"
BLANK_NUMBER = "      "  # the văn thư writes the number and date after signing
LEFT, CENTER, JUSTIFY = (WD_ALIGN_PARAGRAPH.LEFT, WD_ALIGN_PARAGRAPH.CENTER,
                         WD_ALIGN_PARAGRAPH.JUSTIFY)
Container = Any  # a Document, a table cell or a header: anything with add_paragraph()
Paragraph = Any


def vietnamese_date(place: str, when: datetime | None, year: int) -> str:
    """"Đắk Hà, ngày 05 tháng 02 năm 2024" (day < 10 and months 1-2 padded), or a blank draft."""
    if when is None:
        return f"{place}, ngày    tháng    năm {year}"
    month = f"{when.month:02d}" if when.month < 3 else str(when.month)
    return f"{place}, ngày {when.day:02d} tháng {month} năm {when.year}"


def _times(fonts: Any) -> None:
    """Times New Roman on every slot of an rFonts; theme fonts would override it: dropped."""
    for slot in THEME_SLOTS:
        fonts.attrib.pop(qn(slot), None)
    for slot in FONT_SLOTS:
        fonts.set(qn(slot), FONT)


def _child(parent: Any, tag: str) -> Any:
    """The first `tag` child of an element, appended when missing."""
    found = parent.find(qn(tag))
    if found is None:
        found = OxmlElement(tag)
        parent.append(found)
    return found


def _setup_fonts(document: Any) -> None:
    """The font on the document defaults and every style (conditional parts too), 14 pt body,
    single line spacing; the language Vietnamese (Word checks the spelling as Vietnamese)."""
    styles = document.styles.element
    defaults = _child(_child(_child(styles, "w:docDefaults"), "w:rPrDefault"), "w:rPr")
    _times(_child(defaults, "w:rFonts"))
    _child(defaults, "w:lang")
    for lang in styles.iter(qn("w:lang")):
        for slot in ("w:val", "w:eastAsia"):
            lang.set(qn(slot), LANGUAGE)
    for style in styles.findall(qn("w:style")):
        style.get_or_add_rPr().get_or_add_rFonts()
    for fonts in styles.iter(qn("w:rFonts")):
        _times(fonts)
    normal = document.styles["Normal"]
    normal.font.size = Pt(BODY_PT)
    normal.paragraph_format.space_before, normal.paragraph_format.space_after = Pt(0), Pt(0)
    normal.paragraph_format.line_spacing = 1.0


class Body:
    """The document's body, for adding paragraphs in constant time: python-docx's own
    add_paragraph looks for the body's last sectPr from the first element every time, which
    makes a report's time grow with the square of its length."""

    def __init__(self, document: Any) -> None:
        self.parent = document._body
        self.end = document.element.body.sectPr  # stays the last element, sections or not

    def add_paragraph(self) -> Paragraph:
        element = OxmlElement("w:p")
        self.end.addprevious(element)
        return DocxParagraph(element, self.parent)


# Decree 30's điểm under a numbered khoản: a), b), c), d), đ), e)… (the Vietnamese alphabet).
LETTERS = tuple("abcdđeghiklmnopqrstuvxy")
ROMAN = (("M", 1000), ("CM", 900), ("D", 500), ("CD", 400), ("C", 100), ("XC", 90),
         ("L", 50), ("XL", 40), ("X", 10), ("IX", 9), ("V", 5), ("IV", 4), ("I", 1))


def item_letter(number: int) -> str:
    """1 -> "a", 5 -> "đ", 23 -> "y", then "aa", "ab"… for very long lists."""
    letters = ""
    while number > 0:
        number, rest = divmod(number - 1, len(LETTERS))
        letters = LETTERS[rest] + letters
    return letters


def roman(number: int) -> str:
    out = ""
    for symbol, value in ROMAN:
        count, number = divmod(number, value)
        out += symbol * count
    return out


def _properties(document: Any, settings: ReportSettings, title: str) -> None:
    """The file's own properties (File > Info): its title and author, made now, in Vietnamese;
    not python-docx's template's ("python-docx", 2013)."""
    now = datetime.now(UTC)
    properties = document.core_properties
    properties.title, properties.subject = title, "Diễn đàn trẻ em"
    properties.author = properties.last_modified_by = f"{settings.issuer_body} {settings.unit}"
    properties.created = properties.modified = now.replace(tzinfo=None, microsecond=0)
    properties.comments, properties.keywords, properties.category = "", "", ""
    properties.language, properties.revision = LANGUAGE, 1


def paragraph(container: Container, text: str = "", *, bold: bool = False,
              italic: bool = False, underline: bool = False, size: int = BODY_PT,
              align: Any = CENTER) -> Paragraph:
    added = container.add_paragraph()
    added.alignment = align
    if text:
        run = added.add_run(text)
        run.bold, run.italic, run.underline, run.font.size = bold, italic, underline, Pt(size)
    return added


def body(container: Container, text: str = "", *, bold: bool = False,
         keep_with_next: bool = False) -> Paragraph:
    """A body paragraph: justified, 1 cm first-line indent, 6 pt after, 1.15 lines; a heading
    keeps with the next paragraph (never alone at the foot of a page)."""
    added = paragraph(container, text, bold=bold, align=JUSTIFY)
    layout = added.paragraph_format
    layout.first_line_indent, layout.space_after, layout.line_spacing = Cm(1), Pt(6), 1.15
    if keep_with_next:
        layout.keep_with_next = True
    return added


def cant_split(row: Any) -> None:
    """A table row that moves to the next page whole rather than split."""
    row.get_or_add_trPr().append(OxmlElement("w:cantSplit"))


def rule(container: Container, width_cm: float, room_cm: float) -> None:
    """A centred solid line `width_cm` long: a thin paragraph's bottom border between indents."""
    added = container.add_paragraph()
    ppr = added._p.get_or_add_pPr()
    borders, bottom = OxmlElement("w:pBdr"), OxmlElement("w:bottom")
    for name, value in (("w:val", "single"), ("w:sz", "6"), ("w:space", "1"),
                        ("w:color", "000000")):
        bottom.set(qn(name), value)
    borders.append(bottom)
    mark, size = OxmlElement("w:rPr"), OxmlElement("w:sz")
    size.set(qn("w:val"), "4")  # a 2 pt paragraph mark keeps the line close to the text
    mark.append(size)
    ppr.append(borders)
    ppr.append(mark)
    # Set after the border so that python-docx puts the indents in schema order.
    layout = added.paragraph_format
    layout.left_indent = layout.right_indent = Cm((room_cm - width_cm) / 2)


def table(container: Container, rows: int, widths_cm: Sequence[float]) -> Any:
    added = container.add_table(rows=rows, cols=len(widths_cm))
    added.autofit = False
    for column, width in zip(added.columns, widths_cm, strict=True):
        column.width = Cm(width)
        for cell in column.cells:
            cell.width = Cm(width)
    return added


def fill(cell: Any) -> Any:
    """An empty cell to add paragraphs to (its first, empty paragraph removed)."""
    for empty in cell.paragraphs:
        empty._p.getparent().remove(empty._p)
    return cell


def _field_part(run: Any, tag: str, **attributes: str) -> Any:
    element = OxmlElement(tag)
    for name, value in attributes.items():
        element.set(qn(name), value)
    run._r.append(element)
    return element


def _page_number(header: Any) -> None:
    """A centred PAGE field in the header (Word shows the number; "1" until it updates)."""
    run = paragraph(header).add_run()
    run.font.size = Pt(BODY_PT)
    _field_part(run, "w:fldChar", **{"w:fldCharType": "begin"})
    _field_part(run, "w:instrText", **{"xml:space": "preserve"}).text = " PAGE "
    _field_part(run, "w:fldChar", **{"w:fldCharType": "separate"})
    _field_part(run, "w:t").text = "1"
    _field_part(run, "w:fldChar", **{"w:fldCharType": "end"})


class Decree30:
    """One report being built: `title` is its trích yếu ("Tổng hợp kiến nghị …"), `year` the
    forum's (the date line of a draft reads "năm <year>")."""

    def __init__(self, settings: ReportSettings, title: str, year: int) -> None:
        self.settings, self.title, self.year = settings, title, year
        self.document = Document()
        self.content = Body(self.document)
        self.spill = Spill()
        self._templates: dict[str, Template] = {}
        _setup_fonts(self.document)
        _properties(self.document, settings, title)
        self.page(self.document.sections[0])
        section = self.document.sections[0]
        section.different_first_page_header_footer = True
        section.first_page_header.is_linked_to_previous = False  # page 1 shows no number
        _page_number(fill(section.header))
        self.issuer = f"{settings.issuer_body} {settings.unit}"

    def page(self, section: Any, *, landscape: bool = False) -> None:
        """A4 with the configured margins."""
        top, bottom, left, right = self.settings.margins_mm
        section.orientation = WD_ORIENT.LANDSCAPE if landscape else WD_ORIENT.PORTRAIT
        width, height = (Mm(297), Mm(210)) if landscape else (Mm(210), Mm(297))
        section.page_width, section.page_height = width, height
        section.top_margin, section.bottom_margin = Mm(top), Mm(bottom)
        section.left_margin, section.right_margin = Mm(left), Mm(right)
        section.header_distance = Mm(10)

    def text_width_cm(self) -> float:
        _, _, left, right = self.settings.margins_mm
        return 21.0 - (left + right) / 10

    def header(self) -> None:
        """Issuing body and Quốc hiệu, Số and the place and date (ô 1 to 4)."""
        settings = self.settings
        grid = table(self.document, 2, HEADER_WIDTHS_CM)
        grid.alignment = WD_TABLE_ALIGNMENT.CENTER
        issuer = fill(grid.cell(0, 0))
        if settings.issuer_parent:
            paragraph(issuer, settings.issuer_parent.upper(), size=HEADER_PT)
            paragraph(issuer, settings.issuer_body.upper(), bold=True, size=HEADER_PT)
        else:
            paragraph(issuer, settings.issuer_body.upper(), bold=True, size=HEADER_PT)
            paragraph(issuer, settings.unit.upper(), bold=True, size=HEADER_PT)
        rule(issuer, HEADER_WIDTHS_CM[0] / 3, HEADER_WIDTHS_CM[0])
        nation = fill(grid.cell(0, 1))
        paragraph(nation, NATION, bold=True, size=HEADER_PT)
        # The line under the motto is as long as the motto: an underlined run is exactly that.
        paragraph(nation, MOTTO, bold=True, underline=True)
        paragraph(fill(grid.cell(1, 0)), f"Số: {BLANK_NUMBER}/{settings.symbol}",
                  size=HEADER_PT)
        now = datetime.now(ZoneInfo(settings.timezone))
        paragraph(fill(grid.cell(1, 1)),
                  vietnamese_date(settings.place, now if settings.fill_date else None, self.year),
                  italic=True)

    def title_block(self, opening: str) -> None:
        """BÁO CÁO, the trích yếu with its rule, Kính gửi, and the opening paragraph."""
        name = paragraph(self.content, "BÁO CÁO", bold=True)
        name.paragraph_format.space_before = Pt(12)
        paragraph(self.content, self.title, bold=True)
        rule(self.content, self.text_width_cm() / 3, self.text_width_cm())
        recipient = paragraph(self.content, f"Kính gửi: {self.settings.recipient}.")
        recipient.paragraph_format.space_before = Pt(6)
        recipient.paragraph_format.space_after = Pt(12)
        basis = f"Thực hiện {self.settings.basis}, " if self.settings.basis else ""
        body(self.content, f"{basis}{opening}")

    def body(self, text: str = "", *, bold: bool = False, detail: str = "") -> None:
        """A body paragraph; `detail` follows the text in italics."""
        self._add(text, "bold" if bold else "plain", detail)

    def heading(self, text: str) -> None:
        """A part's or a khoản's title: bold, kept with what follows."""
        self._add(text, "heading", "")

    def _add(self, text: str, kind: str, detail: str) -> None:
        """A template paragraph with its text, written out (bot.exports.spill): a report of
        thousands of proposals pays for python-docx's formatting calls once per kind, and
        keeps none of its paragraphs in memory."""
        if not self._templates:
            self._templates = self._make_templates()
        extra = self._templates["detail"].fill([clean(detail)]) if detail else ""
        self.spill.add(self.content.end.getparent(),
                       self._templates[kind].fill([clean(text)], extra), self.content.end)

    def _make_templates(self) -> dict[str, Template]:
        """One formatted paragraph per kind (and an italic run), made by python-docx once."""
        found = {}
        for kind, bold, keep in (("plain", False, False), ("bold", True, False),
                                 ("heading", True, True), ("last", False, True)):
            added = body(self.content, "x", bold=bold, keep_with_next=keep)
            added._p.getparent().remove(added._p)
            found[kind] = added._p
        detail = deepcopy(found["plain"][-1])
        detail.get_or_add_rPr().get_or_add_i()
        return {kind: Template(element) for kind, element in {**found, "detail": detail}.items()}

    def save(self, out: str | IO[bytes]) -> None:
        """Write the report to a path or a binary file."""
        self.spill.save(self.document, out)

    def tally(self, items: Sequence[tuple[str, int]], unit: str, *, last: bool = True) -> None:
        """"- label: 3 <unit>;" lines, the last one ending with a full stop (a semicolon when
        another line of the list follows: not `last`)."""
        for index, (label, count) in enumerate(items, 1):
            end = "." if index == len(items) and last else ";"
            self.body(f"- {label}: {count} {unit}{end}")

    def closing(self) -> None:
        """The last body paragraph (ending ./.), then Nơi nhận and the signature block."""
        self._add(f"Trên đây là báo cáo {self.title[0].lower()}{self.title[1:]}"
                  f" của {self.issuer}./.", "last", "")  # kept with the signature
        grid = table(self.document, 1, SIGNATURE_WIDTHS_CM)
        cant_split(grid.rows[0]._tr)  # the signer's titles and the signature stay together
        recipients = fill(grid.cell(0, 0))
        paragraph(recipients, "Nơi nhận:", bold=True, italic=True, size=RECIPIENTS_PT,
                  align=LEFT)
        for name in self.settings.copies_to:
            paragraph(recipients, f"- {name};", size=ITEMS_PT, align=LEFT)
        paragraph(recipients, f"- Lưu: VT, {self.settings.drafting_unit}.", size=ITEMS_PT,
                  align=LEFT)
        signer = fill(grid.cell(0, 1))
        for line in self.settings.signer_lines:
            paragraph(signer, line, bold=True, size=HEADER_PT)
        for _ in range(4):  # room for the signature and the seal
            paragraph(signer)
        paragraph(signer, self.settings.signer_name, bold=True)

    def annex(self, heading: str, widths_cm: Sequence[float], headers: Sequence[str]) -> Any:
        """A landscape section numbered on its own, the Phụ lục heading, the table's header row
        (repeated on every page); returns the table."""
        section = self.document.add_section(WD_SECTION.NEW_PAGE)
        self.page(section, landscape=True)
        numbering = OxmlElement("w:pgNumType")
        numbering.set(qn("w:start"), "1")
        section._sectPr.insert_element_before(
            numbering, "w:cols", "w:formProt", "w:vAlign", "w:noEndnote", "w:titlePg",
            "w:textDirection", "w:bidi", "w:rtlGutter", "w:docGrid", "w:printerSettings")
        paragraph(self.content, heading, bold=True)
        paragraph(self.content, self.title.upper(), bold=True)
        paragraph(self.content, f"(Kèm theo Báo cáo số {BLANK_NUMBER}/{self.settings.symbol}"
                                f" ngày    tháng    năm {self.year} của {self.issuer})",
                  italic=True)
        grid = table(self.document, 1, widths_cm)
        grid.style = "Table Grid"
        for cell, text in zip(grid.rows[0].cells, headers, strict=True):
            paragraph(fill(cell), text, bold=True)
        header_row = grid.rows[0]._tr.get_or_add_trPr()
        header_row.append(OxmlElement("w:tblHeader"))  # repeated on every page
        return grid


class AnnexRows:
    """Annex rows made from two template rows and written out as they come
    (bot.exports.spill): much faster than python-docx's add_row, and none kept in memory."""

    def __init__(self, grid: Any, widths_cm: Sequence[float], spill: Spill) -> None:
        self.tbl, self.spill = grid._tbl, spill
        self.item_row = Template(self._template(grid, bold=False))
        self.group_row = Template(self._spanning(grid, widths_cm, bold=True))
        self.note_row = Template(self._spanning(grid, widths_cm, bold=False))

    def _spanning(self, grid: Any, widths_cm: Sequence[float], *, bold: bool) -> Any:
        """A row of one cell across the table."""
        row = self._template(grid, bold=bold)
        first = row.tc_lst[0]
        for cell in row.tc_lst[1:]:
            row.remove(cell)
        first.grid_span = len(widths_cm)
        first.width = Cm(sum(widths_cm))
        return row

    def _template(self, grid: Any, *, bold: bool) -> Any:
        row = grid.add_row()
        for index, cell in enumerate(row.cells):
            added = paragraph(fill(cell), "x", bold=bold, align=CENTER if index == 0 else LEFT)
            added.paragraph_format.keep_with_next = bold  # a group row stays with its first item
        cant_split(row._tr)
        self.tbl.remove(row._tr)
        return row._tr

    def group(self, title: str) -> None:
        self.spill.add(self.tbl, self.group_row.fill([" ".join(clean(title).split())]))

    def note(self, text: str) -> None:
        """A line across the table under a group ("no proposal on this topic")."""
        self.spill.add(self.tbl, self.note_row.fill([" ".join(clean(text).split())]))

    def item(self, texts: Sequence[str]) -> None:
        self.spill.add(self.tbl, self.item_row.fill([" ".join(clean(text).split())
                                                      for text in texts]))
