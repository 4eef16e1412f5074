"""The compiled Word report, laid out after Decree 30/2020 (see ../shared/report-format.md).

"Tổng hợp kiến nghị, thông điệp của trẻ em tại Diễn đàn trẻ em huyện … năm …": header table,
BÁO CÁO and trích yếu, Kính gửi, I. a summary with counts, II. one khoản per topic listing the
proposals, III. the children's messages, Nơi nhận and signature, then the annex table on its own
landscape section. Several districts make one province-level report (each item names its
district). The rows are read three times from the same snapshot; python-docx keeps the document
in memory, so the report is meant for the approved proposals of a forum, not for bulk data.
"""

from __future__ import annotations

import asyncio
from collections import Counter
from collections.abc import AsyncIterator, Sequence
from copy import deepcopy
from datetime import datetime
from pathlib import Path
from typing import Any, BinaryIO
from zoneinfo import ZoneInfo

from docx import Document
from docx.enum.section import WD_ORIENT, WD_SECTION
from docx.enum.table import WD_TABLE_ALIGNMENT
from docx.enum.text import WD_ALIGN_PARAGRAPH
from docx.oxml import OxmlElement
from docx.oxml.ns import qn
from docx.shared import Cm, Mm, Pt

from bot.exports.common import STATUS_LABELS, Job, TopicRun, free_text
from storage import export_rows
from storage.db import Tx
from storage.export_rows import ExportRow

FONT = "Times New Roman"
FONT_SLOTS = ("w:ascii", "w:hAnsi", "w:eastAsia", "w:cs")
THEME_SLOTS = ("w:asciiTheme", "w:hAnsiTheme", "w:eastAsiaTheme", "w:cstheme")
BODY_PT, HEADER_PT, RECIPIENTS_PT, ITEMS_PT = 14, 13, 12, 11
HEADER_WIDTHS_CM, SIGNATURE_WIDTHS_CM = (6.5, 10.0), (6.0, 10.5)
ANNEX_WIDTHS_CM = (1.5, 9.7, 5.0, 4.5, 4.5)
ANNEX_HEADERS = ("STT", "Nội dung kiến nghị/câu hỏi", "Nhóm trẻ em (xã/trường, số em)",
                 "Cơ quan có trách nhiệm", "Kết quả trả lời/giải quyết")
NATION, MOTTO = "CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM", "Độc lập - Tự do - Hạnh phúc"
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
    """The font on the document defaults and every style (conditional parts too), 14 pt body."""
    styles = document.styles.element
    defaults = _child(_child(_child(styles, "w:docDefaults"), "w:rPrDefault"), "w:rPr")
    _times(_child(defaults, "w:rFonts"))
    for style in styles.findall(qn("w:style")):
        style.get_or_add_rPr().get_or_add_rFonts()
    for fonts in styles.iter(qn("w:rFonts")):
        _times(fonts)
    normal = document.styles["Normal"]
    normal.font.size = Pt(BODY_PT)
    normal.paragraph_format.space_before, normal.paragraph_format.space_after = Pt(0), Pt(0)


def _paragraph(container: Container, text: str = "", *, bold: bool = False,
               italic: bool = False, underline: bool = False, size: int = BODY_PT,
               align: Any = CENTER) -> Paragraph:
    paragraph = container.add_paragraph()
    paragraph.alignment = align
    if text:
        run = paragraph.add_run(text)
        run.bold, run.italic, run.underline, run.font.size = bold, italic, underline, Pt(size)
    return paragraph


def _body(container: Container, text: str = "", *, bold: bool = False) -> Paragraph:
    """A body paragraph: justified, 1 cm first-line indent, 6 pt after, 1.15 lines."""
    paragraph = _paragraph(container, text, bold=bold, align=JUSTIFY)
    layout = paragraph.paragraph_format
    layout.first_line_indent, layout.space_after, layout.line_spacing = Cm(1), Pt(6), 1.15
    return paragraph


def _rule(container: Container, width_cm: float, room_cm: float) -> None:
    """A centred solid line `width_cm` long: a thin paragraph's bottom border between indents."""
    paragraph = container.add_paragraph()
    ppr = paragraph._p.get_or_add_pPr()
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
    layout = paragraph.paragraph_format
    layout.left_indent = layout.right_indent = Cm((room_cm - width_cm) / 2)


def _table(container: Container, rows: int, widths_cm: Sequence[float]) -> Any:
    table = container.add_table(rows=rows, cols=len(widths_cm))
    table.autofit = False
    for column, width in zip(table.columns, widths_cm, strict=True):
        column.width = Cm(width)
        for cell in column.cells:
            cell.width = Cm(width)
    return table


def _fill(cell: Any) -> Any:
    """An empty cell to add paragraphs to (its first, empty paragraph removed)."""
    for paragraph in cell.paragraphs:
        paragraph._p.getparent().remove(paragraph._p)
    return cell


def _field_part(run: Any, tag: str, **attributes: str) -> Any:
    element = OxmlElement(tag)
    for name, value in attributes.items():
        element.set(qn(name), value)
    run._r.append(element)
    return element


def _page_number(header: Any) -> None:
    """A centred PAGE field in the header (Word shows the number; "1" until it updates)."""
    run = _paragraph(header).add_run()
    run.font.size = Pt(BODY_PT)
    _field_part(run, "w:fldChar", **{"w:fldCharType": "begin"})
    _field_part(run, "w:instrText", **{"xml:space": "preserve"}).text = " PAGE "
    _field_part(run, "w:fldChar", **{"w:fldCharType": "separate"})
    _field_part(run, "w:t").text = "1"
    _field_part(run, "w:fldChar", **{"w:fldCharType": "end"})


class _Report:
    """The document being built, with the job's wording."""

    def __init__(self, job: Job) -> None:
        self.job, self.settings, self.labels = job, job.settings, job.labels
        self.document = Document()
        _setup_fonts(self.document)
        self._page(self.document.sections[0])
        section = self.document.sections[0]
        section.different_first_page_header_footer = True
        section.first_page_header.is_linked_to_previous = False  # page 1 shows no number
        _page_number(_fill(section.header))
        self.issuer = f"{self.settings.issuer_body} {self.settings.unit}"
        self.title = (f"Tổng hợp kiến nghị, thông điệp của trẻ em tại {self.settings.forum_name}"
                      f" năm {job.forum_year}")
        self.multi_district = len(job.districts) > 1

    def _page(self, section: Any, *, landscape: bool = False) -> None:
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
        table = _table(self.document, 2, HEADER_WIDTHS_CM)
        table.alignment = WD_TABLE_ALIGNMENT.CENTER
        issuer = _fill(table.cell(0, 0))
        if settings.issuer_parent:
            _paragraph(issuer, settings.issuer_parent.upper(), size=HEADER_PT)
            _paragraph(issuer, settings.issuer_body.upper(), bold=True, size=HEADER_PT)
        else:
            _paragraph(issuer, settings.issuer_body.upper(), bold=True, size=HEADER_PT)
            _paragraph(issuer, settings.unit.upper(), bold=True, size=HEADER_PT)
        _rule(issuer, HEADER_WIDTHS_CM[0] / 3, HEADER_WIDTHS_CM[0])
        nation = _fill(table.cell(0, 1))
        _paragraph(nation, NATION, bold=True, size=HEADER_PT)
        # The line under the motto is as long as the motto: an underlined run is exactly that.
        _paragraph(nation, MOTTO, bold=True, underline=True)
        _paragraph(_fill(table.cell(1, 0)), f"Số: {BLANK_NUMBER}/{settings.symbol}",
                   size=HEADER_PT)
        now = datetime.now(ZoneInfo(settings.timezone))
        _paragraph(_fill(table.cell(1, 1)),
                   vietnamese_date(settings.place, now if settings.fill_date else None, now.year),
                   italic=True)

    def title_block(self) -> None:
        """BÁO CÁO, the trích yếu with its rule, and Kính gửi."""
        name = _paragraph(self.document, "BÁO CÁO", bold=True)
        name.paragraph_format.space_before = Pt(12)
        _paragraph(self.document, self.title, bold=True)
        _rule(self.document, self.text_width_cm() / 3, self.text_width_cm())
        recipient = _paragraph(self.document, f"Kính gửi: {self.settings.recipient}.")
        recipient.paragraph_format.space_before = Pt(6)
        recipient.paragraph_format.space_after = Pt(12)
        basis = f"Thực hiện {self.settings.basis}, " if self.settings.basis else ""
        _body(self.document, f"{basis}{self.issuer} báo cáo tổng hợp kiến nghị, thông điệp của"
                             f" trẻ em tại {self.settings.forum_name} năm {self.job.forum_year}"
                             " như sau:")

    def summary(self, counts: list[export_rows.Count]) -> Counter[str]:
        """I. The counts: in all, by topic, and by district when there are several."""
        by_topic = Counter[str]()
        by_district = Counter[str]()
        for count in counts:
            by_topic[count.topic] += count.count
            by_district[count.district] += count.count
        _body(self.document, "I. TỔNG HỢP CHUNG", bold=True)
        period = self.job.period()
        statuses = ", ".join(STATUS_LABELS[s].lower() for s in self.job.selection.statuses)
        _body(self.document, f"Tổng số kiến nghị của trẻ em được tổng hợp ({statuses}"
                             f"{', ' + period if period else ''}): {by_topic.total()}, gồm:")
        topics = [*self.job.topic_order, *sorted(set(by_topic) - set(self.job.topic_order))]
        self._tally([(self.labels.topic(t), by_topic[t]) for t in topics])
        if self.multi_district:
            _body(self.document, "Theo đơn vị:")
            self._tally([(self.labels.district(d.code), by_district[d.code])
                         for d in self.job.districts])
        return by_topic

    def _tally(self, items: list[tuple[str, int]]) -> None:
        for index, (label, count) in enumerate(items, 1):
            end = "." if index == len(items) else ";"
            _body(self.document, f"- {label}: {count} kiến nghị{end}")

    def who(self, row: ExportRow) -> str:
        """The child or group, and the district in a report on several districts."""
        if row.group_size is not None:
            ages = ", ".join(self.labels.age_band(b) for b in (row.group_ages or "").split(",")
                             if b)
            where = ", ".join(free_text(p) for p in (row.school, row.commune) if p)
            who = ", ".join(p for p in (f"nhóm {row.group_size} em", ages, where) if p)
        else:
            band = self.labels.age_band(row.age_band)
            who = f"trẻ em {band}" if band else "trẻ em"
        return f"{who}, {self.labels.district(row.district)}" if self.multi_district else who

    async def proposals(self, rows: AsyncIterator[ExportRow], by_topic: Counter[str]) -> int:
        """II. One numbered khoản per topic, each proposal numbered under it."""
        _body(self.document, "II. KIẾN NGHỊ CỦA TRẺ EM THEO CHỦ ĐỀ", bold=True)
        run, number, item, total = TopicRun(self.job.topic_order), 0, 0, 0
        async for row in rows:
            for topic in run.starts(row.topic):
                number, item = number + 1, 0
                self._topic_heading(number, topic, by_topic[topic])
            item, total = item + 1, total + 1
            self._proposal(f"{number}.{item}.", row)
        for topic in run.rest():
            number += 1
            self._topic_heading(number, topic, 0)
        return total

    def _topic_heading(self, number: int, topic: str, count: int) -> None:
        _body(self.document, f"{number}. {self.labels.topic(topic)}", bold=True)
        if not count:
            _body(self.document, "Không có kiến nghị về chủ đề này.")

    def _proposal(self, number: str, row: ExportRow) -> None:
        details = [f"thực trạng: {free_text(row.seen)}" if row.seen else "",
                   f"ai nên thực hiện: {self.labels.who_acts(row.actors)}" if row.actors else "",
                   self.who(row), f"mã {row.ref}"]
        if row.status != "approved":
            details.append(STATUS_LABELS.get(row.status, row.status).lower())
        paragraph = _body(self.document, f"{number} {free_text(row.proposal)}")
        detail = paragraph.add_run(f" ({'; '.join(d for d in details if d)})")
        detail.italic = True

    async def messages(self, rows: AsyncIterator[ExportRow]) -> None:
        """III. The children's messages to adults, quoted."""
        _body(self.document, "III. THÔNG ĐIỆP CỦA TRẺ EM GỬI NGƯỜI LỚN", bold=True)
        count = 0
        async for row in rows:
            if row.message.strip():
                count += 1
                paragraph = _body(self.document, f"- “{free_text(row.message.strip())}”")
                paragraph.add_run(f" ({self.who(row)}; {self.labels.topic(row.topic)})").italic = (
                    True)
        if not count:
            _body(self.document, "Không có thông điệp.")

    def closing(self) -> None:
        """The last body paragraph (ending ./.), then Nơi nhận and the signature block."""
        _body(self.document, f"Trên đây là báo cáo {self.title[0].lower()}{self.title[1:]}"
                             f" của {self.issuer}./.")
        table = _table(self.document, 1, SIGNATURE_WIDTHS_CM)
        recipients = _fill(table.cell(0, 0))
        _paragraph(recipients, "Nơi nhận:", bold=True, italic=True, size=RECIPIENTS_PT,
                   align=LEFT)
        for name in self.settings.copies_to:
            _paragraph(recipients, f"- {name};", size=ITEMS_PT, align=LEFT)
        _paragraph(recipients, f"- Lưu: VT, {self.settings.drafting_unit}.", size=ITEMS_PT,
                   align=LEFT)
        signer = _fill(table.cell(0, 1))
        for line in self.settings.signer_lines:
            _paragraph(signer, line, bold=True, size=HEADER_PT)
        for _ in range(4):  # room for the signature and the seal
            _paragraph(signer)
        _paragraph(signer, self.settings.signer_name, bold=True)

    def annex_heading(self) -> Any:
        """A landscape section numbered on its own, the Phụ lục heading, the table's header."""
        section = self.document.add_section(WD_SECTION.NEW_PAGE)
        self._page(section, landscape=True)
        numbering = OxmlElement("w:pgNumType")
        numbering.set(qn("w:start"), "1")
        section._sectPr.insert_element_before(
            numbering, "w:cols", "w:formProt", "w:vAlign", "w:noEndnote", "w:titlePg",
            "w:textDirection", "w:bidi", "w:rtlGutter", "w:docGrid", "w:printerSettings")
        _paragraph(self.document, "Phụ lục", bold=True)
        _paragraph(self.document, self.title.upper(), bold=True)
        _paragraph(self.document, f"(Kèm theo Báo cáo số {BLANK_NUMBER}/{self.settings.symbol}"
                                  f" ngày    tháng    năm     của {self.issuer})", italic=True)
        table = _table(self.document, 1, ANNEX_WIDTHS_CM)
        table.style = "Table Grid"
        for cell, text in zip(table.rows[0].cells, ANNEX_HEADERS, strict=True):
            _paragraph(_fill(cell), text, bold=True)
        header_row = table.rows[0]._tr.get_or_add_trPr()
        header_row.append(OxmlElement("w:tblHeader"))  # repeated on every page
        return table

    async def annex(self, rows: AsyncIterator[ExportRow]) -> None:
        """The Phụ lục table: one bold group row per topic, then its proposals."""
        table = self.annex_heading()
        templates = _AnnexRows(table)
        run, number, item = TopicRun(self.job.topic_order), 0, 0
        async for row in rows:
            for topic in run.starts(row.topic):
                number, item = number + 1, 0
                templates.group(f"{number}. {self.labels.topic(topic)}")
            item += 1
            templates.item((str(item), free_text(row.proposal), self.who(row),
                            self.labels.who_acts(row.actors), ""))
        for topic in run.rest():
            number += 1
            templates.group(f"{number}. {self.labels.topic(topic)}")


class _AnnexRows:
    """Annex rows copied from two template rows: much faster than python-docx's add_row."""

    def __init__(self, table: Any) -> None:
        self.tbl = table._tbl
        self.item_row = self._template(table, bold=False)
        group = self._template(table, bold=True)
        first = group.tc_lst[0]
        for cell in group.tc_lst[1:]:
            group.remove(cell)
        first.grid_span = len(ANNEX_WIDTHS_CM)
        first.width = Cm(sum(ANNEX_WIDTHS_CM))
        self.group_row = group

    def _template(self, table: Any, *, bold: bool) -> Any:
        row = table.add_row()
        for index, cell in enumerate(row.cells):
            _paragraph(_fill(cell), "x", bold=bold, align=CENTER if index == 0 else LEFT)
        self.tbl.remove(row._tr)
        return row._tr

    def _append(self, template: Any, texts: Sequence[str]) -> None:
        row = deepcopy(template)
        for cell, text in zip(row.iter(qn("w:tc")), texts, strict=True):
            node = next(cell.iter(qn("w:t")))
            if text:
                node.text = " ".join(text.split())
            else:
                run = node.getparent()
                run.getparent().remove(run)
        self.tbl.append(row)

    def group(self, title: str) -> None:
        self._append(self.group_row, (title,))

    def item(self, texts: Sequence[str]) -> None:
        self._append(self.item_row, texts)


async def write_docx(db: Tx, job: Job, out: Path | BinaryIO) -> int:
    """The report; returns the number of proposals in it."""
    report = _Report(job)
    report.header()
    report.title_block()
    by_topic = report.summary(await export_rows.counts(db, job.selection))
    order = job.topic_order
    total = await report.proposals(
        export_rows.rows(db, job.selection, order, topic_first=True), by_topic)
    await report.messages(export_rows.rows(db, job.selection, order, topic_first=True))
    report.closing()
    await report.annex(export_rows.rows(db, job.selection, order, topic_first=True))
    await asyncio.to_thread(report.document.save, str(out) if isinstance(out, Path) else out)
    return total
