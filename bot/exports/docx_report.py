"""The compiled Word report, laid out after Decree 30/2020 (see ../shared/report-format.md).

"Tổng hợp kiến nghị, thông điệp của trẻ em tại Diễn đàn trẻ em huyện … năm …": header table,
BÁO CÁO and trích yếu, Kính gửi, I. the forum and a summary with counts, II. one khoản per topic
listing the proposals as điểm a), b)…, III. the children's messages, IV. the answers, V. the
issuer's own proposals, Nơi nhận and signature, then the annex table on its own landscape
section. The children's words are prose here: one line each, nothing neutralised (that is for
spreadsheets). Several districts make one province-level report (each item names its
district). The rows are read three times from the same snapshot; the paragraphs and annex rows
are written out as they come (bot.exports.spill), so memory stays flat at any size.
"""

from __future__ import annotations

import asyncio
from collections import Counter
from collections.abc import AsyncIterator
from pathlib import Path
from typing import BinaryIO

from bot.exports.common import (
    STATUS_LABELS,
    Job,
    TopicRun,
    as_read,
    clause,
    is_group,
    prose,
)
from bot.exports.decree30 import AnnexRows, Decree30, item_letter, roman
from bot.textnorm import fold
from storage import export_rows, recommendations
from storage.db import Tx
from storage.export_rows import ExportRow

# STT: 3 digits on one line; Mã: a commune's ref ("DAKLON-0033") or an earlier forum's
# ("DHA-2021-003") on one line at 12 pt (rendered with LibreOffice: 2.4 cm broke them)
ANNEX_WIDTHS_CM = (1.4, 3.2, 6.8, 4.0, 3.3, 3.2, 3.3)
ANNEX_HEADERS = ("STT", "Mã", "Nội dung kiến nghị/câu hỏi", "Nhóm trẻ em (xã/trường, số em)",
                 "Trẻ em đề xuất ai thực hiện", "Cơ quan trả lời, giải quyết",
                 "Kết quả trả lời/giải quyết")
MISSING = "…"  # a fact the officer has not given: a gap to fill in Word
LIST_EVERY_AREA = 12  # past this many areas, part I lists only those with proposals
NO_PROPOSAL = "Không có kiến nghị về chủ đề này."
QUOTE_CHARS = 160  # a child's words quoted under a recommendation, at most


def _quoted(words: str) -> str:
    return f"“{words if len(words) <= QUOTE_CHARS else words[:QUOTE_CHARS - 1] + '…'}”"


def _original(words: str) -> str:
    """The mark of a translator's Vietnamese, with the child's own words (as in part II)."""
    return f"bản dịch; nguyên văn: “{prose(words)}”"


class _Report:
    """The document being built, with the job's wording."""

    def __init__(self, job: Job) -> None:
        self.job, self.labels = job, job.labels
        self.title = (f"Tổng hợp kiến nghị, thông điệp của trẻ em tại {job.settings.forum_name}"
                      f" năm {job.forum_year}")
        self.frame = Decree30(job.settings, self.title, job.forum_year)
        self.document = self.frame.document
        self.multi_district = len(job.districts) > 1
        self.answered: Counter[str] = Counter()  # the answers' states, counted in section II
        self.titles: dict[int, str] = {}  # the recommendations' words, by id
        self.languages: list[tuple[str, int, int]] = []  # (language, proposals, translated)

    def title_block(self) -> None:
        self.frame.title_block(
            f"{self.frame.issuer} báo cáo tổng hợp kiến nghị, thông điệp của trẻ em tại"
            f" {self.job.settings.forum_name} năm {self.job.forum_year} như sau:")

    def summary(self, counts: list[export_rows.Count]) -> Counter[str]:
        """I. The counts: in all, by topic, and by district when there are several."""
        by_topic = Counter[str]()
        by_district = Counter[str]()
        for count in counts:
            by_topic[count.topic] += count.count
            by_district[count.district] += count.count
        self.frame.heading("I. TỔNG HỢP CHUNG")
        self.forum_facts()
        period = self.job.period()
        statuses = ", ".join(STATUS_LABELS[s].lower() for s in self.job.selection.statuses)
        self.frame.body(f"Tổng số kiến nghị của trẻ em được tổng hợp ({statuses}"
                        f"{', ' + period if period else ''}): {by_topic.total()}, gồm:")
        topics = [*self.job.topic_order, *sorted(set(by_topic) - set(self.job.topic_order))]
        self.frame.tally([(self.labels.topic(t), by_topic[t]) for t in topics], "kiến nghị")
        if self.multi_district:
            self.frame.body("Theo đơn vị:")
            # A province of a hundred communes: those with proposals, then the others in one
            # line (not ninety lines of "0")
            every = len(self.job.districts) <= LIST_EVERY_AREA
            listed = [d for d in self.job.districts if every or by_district[d.code]]
            quiet = len(self.job.districts) - len(listed)
            self.frame.tally([(self.labels.district(d.code), by_district[d.code])
                              for d in listed], "kiến nghị", last=not quiet)
            if quiet:
                self.frame.body(f"- Các đơn vị còn lại ({quiet}): chưa có kiến nghị.")
        if self.languages:
            self.frame.body("Theo ngôn ngữ trẻ em viết:")
            self.frame.tally([(self.labels.language(lang) + (
                f" (đã dịch sang tiếng Việt: {translated})" if lang == "other" else ""), count)
                for lang, count, translated in self.languages], "kiến nghị")
        return by_topic

    def forum_facts(self) -> None:
        """The forum itself, as the plan asks a district to report it ([report] forum_*; a gap
        to fill in where the config does not say)."""
        s = self.job.settings
        children = (f"{s.forum_children} trẻ em" if s.forum_children else f"{MISSING} trẻ em")
        split = (f" ({s.forum_girls or MISSING} em nữ, {s.forum_boys or MISSING} em nam"
                 f"{', ' + s.forum_ages if s.forum_ages else ''})")
        helpers = s.forum_facilitators or MISSING
        self.frame.body(f"{self.job.settings.forum_name[:1].upper()}"
                        f"{self.job.settings.forum_name[1:]} năm {self.job.forum_year} được tổ"
                        f" chức ngày {s.forum_date or MISSING} tại {s.forum_place or MISSING},"
                        f" với sự tham gia của {children}{split} và {helpers} người hỗ trợ,"
                        " hướng dẫn.")

    def who(self, row: ExportRow) -> str:
        """The child or group, and the district in a report on several districts."""
        area = self.labels.district(row.district) if self.multi_district else ""
        if is_group(row):
            ages = self.labels.ages(row)
            # the group's commune, unless it is the area named after it anyway
            where = ", ".join(prose(p) for p in (row.school, row.commune)
                              if p and fold(p) != fold(area))
            size = (f"nhóm {row.group_size} em" if row.group_size
                    else "nhóm trẻ em (chưa rõ số em)")
            who = ", ".join(p for p in (size, ages, where) if p)
        else:
            band = self.labels.age_band(row.age_band)
            who = f"trẻ em {band}" if band else "trẻ em"
        return f"{who}, {area}" if area else who

    async def proposals(self, rows: AsyncIterator[ExportRow], by_topic: Counter[str]) -> int:
        """II. One numbered khoản per topic: its recommendations (proposals compiled together,
        each shown once), then the proposals on their own, as điểm a), b)…"""
        self.frame.heading("II. KIẾN NGHỊ CỦA TRẺ EM THEO CHỦ ĐỀ")
        run, number, total = TopicRun(self.job.topic_order), 0, 0
        topic_rows: list[ExportRow] = []
        async for row in rows:
            for topic in run.starts(row.topic):
                self._topic_items(topic_rows)
                topic_rows = []
                number += 1
                self._topic_heading(number, topic, by_topic[topic])
            topic_rows.append(row)
            total += 1
            self.answered[row.answer_state or ""] += 1
        self._topic_items(topic_rows)
        for topic in run.rest():
            number += 1
            self._topic_heading(number, topic, 0)
        return total

    def _topic_items(self, rows: list[ExportRow]) -> None:
        """One topic's điểm: recommendations of two or more proposals first, largest first."""
        gathered: dict[int, list[ExportRow]] = {}
        for row in rows:
            if row.recommendation_id is not None:
                gathered.setdefault(row.recommendation_id, []).append(row)
        together = {key: found for key, found in gathered.items() if len(found) > 1}
        item = 0
        for key, found in sorted(together.items(), key=lambda pair: (-len(pair[1]), pair[0])):
            item += 1
            self._recommendation(f"{item_letter(item)})", key, found)
        for row in rows:
            if row.recommendation_id not in together:
                item += 1
                self._proposal(f"{item_letter(item)})", row)

    def _recommendation(self, number: str, key: int, rows: list[ExportRow]) -> None:
        """A recommendation: its words, who asked (how many, groups, areas, ages, sexes), two
        or three of the children's own words, and the refs."""
        who = self.labels.asked(rows)
        asked = f"{who.children_text()} trẻ em, {who.proposals} ý kiến" + (
            f", trong đó {who.groups} của nhóm trẻ em" if who.groups else "") + (
            f" ({who.unsized} nhóm chưa rõ số em)" if who.unsized else "")
        named = sorted({self.labels.district(row.district) for row in rows}
                       if self.multi_district else set())
        named += sorted({prose(row.commune) for row in rows if row.commune})
        # An area named twice (a group's commune typed as the area's own name) once
        areas: list[str] = []
        for name in named:
            if all(fold(name) != fold(other) for other in areas):
                areas.append(name)
        facts = [asked, ", ".join(areas),
                 who.ages_text(),
                 ", ".join(f"{label.lower()}: {n}" for label, n in who.sexes)]
        quotes: list[str] = []
        said: set[str] = set()
        for row in rows:  # a translated proposal: its translation, marked, and the original
            words = prose(row.proposal_vi or row.proposal)
            if words and words.lower() not in said and len(quotes) < 3:
                said.add(words.lower())
                quotes.append(_quoted(words) + (
                    f" (bản dịch; nguyên văn: {_quoted(prose(row.proposal))})"
                    if row.proposal_vi else ""))
        title = (prose(self.titles.get(key, ""))
                 or prose(rows[0].proposal_vi or rows[0].proposal))
        self.frame.body(f"{number} {title} ({'; '.join(f for f in facts if f)}).",
                        detail=f" Ý kiến của các em: {'; '.join(quotes)}."
                               f" Mã: {', '.join(row.ref for row in rows)}.")

    def _topic_heading(self, number: int, topic: str, count: int) -> None:
        self.frame.heading(f"{number}. {self.labels.topic(topic)}")
        if not count:
            self.frame.body(NO_PROPOSAL)

    def _proposal(self, number: str, row: ExportRow) -> None:
        seen = (f"thực trạng (bản dịch): {clause(row.seen_vi)}, nguyên văn: “{clause(row.seen)}”"
                if row.seen_vi else f"thực trạng: {clause(row.seen)}" if row.seen.strip() else "")
        details = [seen,
                   f"ai nên thực hiện: {self.labels.who_acts(row.actors)}" if row.actors else "",
                   self.who(row), f"mã {row.ref}"]
        if row.status != "approved":
            details.append(STATUS_LABELS.get(row.status, row.status).lower())
        if row.proposal_vi:  # translated: the translation, and the child's own words
            details.insert(0, _original(row.proposal))
        self.frame.body(f"{number} {prose(row.proposal_vi or row.proposal)}",
                        detail=f" ({'; '.join(d for d in details if d)})")

    async def messages(self, rows: AsyncIterator[ExportRow]) -> None:
        """III. The children's messages to adults, quoted (a translation marked, with the
        child's own words)."""
        self.frame.heading("III. THÔNG ĐIỆP CỦA TRẺ EM GỬI NGƯỜI LỚN")
        count = 0
        async for row in rows:
            if row.message.strip():
                count += 1
                original = f"{_original(row.message)}; " if row.message_vi else ""
                self.frame.body(f"- “{prose(row.message_vi or row.message)}”",
                                detail=f" ({original}{self.who(row)};"
                                       f" {self.labels.topic(row.topic)})")
        if not count:
            self.frame.body("Không có thông điệp.")

    def answers(self) -> None:
        """IV. What the authorities answered, by result (from the answer loop)."""
        self.frame.heading("IV. KẾT QUẢ TRẢ LỜI, GIẢI QUYẾT")
        answered = self.answered.total() - self.answered[""]
        if not answered:
            self.frame.body("Các kiến nghị chưa có trả lời của cơ quan có thẩm quyền.")
            return
        self.frame.body(f"Đã có trả lời {answered}/{self.answered.total()} kiến nghị, gồm:")
        self.frame.tally([(label, self.answered[state])
                          for state, label in self.labels.states.items()
                          if self.answered[state]], "kiến nghị")

    def district_proposals(self) -> None:
        """V. What the issuing body itself proposes ([report] proposals, else a gap)."""
        self.frame.heading("V. ĐỀ XUẤT, KIẾN NGHỊ")
        proposals = self.job.settings.proposals or (MISSING,)
        for index, text in enumerate(proposals, 1):
            self.frame.body(f"{index}. {text}" if len(proposals) > 1 else text)

    async def annex(self, rows: AsyncIterator[ExportRow]) -> None:
        """The Phụ lục table: a group row per topic (I, II…), its proposals numbered on
        through the table, each with its ref (the same as in the spreadsheet)."""
        grid = self.frame.annex("Phụ lục", ANNEX_WIDTHS_CM, ANNEX_HEADERS)
        templates = AnnexRows(grid, ANNEX_WIDTHS_CM, self.frame.spill)
        run, number, item = TopicRun(self.job.topic_order), 0, 0
        def group(topic: str, empty: bool) -> None:
            nonlocal number
            number += 1
            templates.group(f"{roman(number)}. {self.labels.topic(topic)}")
            if empty:
                templates.note(NO_PROPOSAL)

        async for row in rows:
            begun = run.starts(row.topic)
            for index, topic in enumerate(begun):
                group(topic, empty=index < len(begun) - 1)  # skipped: none of its own
            item += 1
            templates.item((str(item), row.ref,
                            as_read(prose(row.proposal), prose(row.proposal_vi or "")),
                            self.who(row),
                            self.labels.who_acts(row.actors), prose(row.answer_agency or ""),
                            self.labels.states.get(row.answer_state or "", "")))
        for topic in run.rest():
            group(topic, empty=True)




async def write_docx(db: Tx, job: Job, out: Path | BinaryIO) -> int:
    """The report; returns the number of proposals in it."""
    report = _Report(job)
    report.titles = await recommendations.titles(db, [d.code for d in job.districts])
    report.languages = await export_rows.languages(db, job.selection)
    report.frame.header()
    report.title_block()
    by_topic = report.summary(await export_rows.counts(db, job.selection))
    total = await report.proposals(
        job.rows(db, topic_first=True), by_topic)
    await report.messages(job.rows(db, topic_first=True))
    report.answers()
    report.district_proposals()
    report.frame.closing()
    await report.annex(job.rows(db, topic_first=True))
    await asyncio.to_thread(report.frame.save, str(out) if isinstance(out, Path) else out)
    return total
