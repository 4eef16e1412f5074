"""What every export format shares: safe text, pseudonymous codes, columns and labels."""

from __future__ import annotations

import gc
import hashlib
import hmac
import os
import sys
from collections import Counter
from collections.abc import AsyncIterator, Iterable, Sequence
from dataclasses import dataclass
from datetime import date
from functools import lru_cache
from typing import TYPE_CHECKING, Protocol

from bot.areas import District
from bot.config import Config
from bot.conversation.catalog import Catalog
from bot.exports.contacts import mask
from bot.exports.settings import ReportSettings
from bot.localized import BASE_LANG
from bot.textnorm import NOT_XML
from storage import export_rows
from storage.db import Tx
from storage.export_rows import ExportRow, RowFilter

if TYPE_CHECKING:
    from openpyxl.cell import Cell as SheetCell

FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
# Control characters that XML (XLSX, DOCX) cannot hold; tab, line feed and return stay.
CONTROL = NOT_XML
MIN_KEY_CHARS = 16
CODE_CHARS = 12
STATUS_LABELS = {"pending": "Chờ duyệt", "approved": "Đã duyệt", "rejected": "Không duyệt"}
LANG_LABELS = {"vi": "Tiếng Việt", "en": "Tiếng Anh", "other": "Ngôn ngữ khác"}
CHILD, GROUP = "Trẻ em", "Nhóm"


class ExportError(RuntimeError):
    """An export cannot be made (for example, the pseudonym key is not set)."""


def neutralise(text: str) -> str:
    """Prefix an apostrophe when a cell or paragraph would start like a formula, or like one
    neutralised already ("'=1+5" typed so: the workbook takes one apostrophe off again)."""
    if text.startswith(FORMULA_STARTS) or (text[:1] == "'" and text[1:2] in FORMULA_STARTS):
        return "'" + text
    return text


def clean(text: str) -> str:
    """A child's words without the characters XML cannot hold (whatever the database holds:
    rows stored before these were stripped on the way in, edits...), and without contact
    details: a phone number, an e-mail, a social-network account (bot.exports.contacts)."""
    # isprintable() is a quick test that most texts pass (one line, no control character).
    return mask(text if text.isprintable() else CONTROL.sub("", text))


def put_text(cell: SheetCell, text: str) -> None:
    """Write `text` into a cell of an ordinary (not write-only) workbook as it was typed: what
    XML cannot hold dropped, and a text that would read as a formula kept as text by Excel's
    quote prefix (no apostrophe added to the words)."""
    cell.value = clean(text)
    if cell.value.startswith(FORMULA_STARTS):
        cell.data_type = "s"
        cell.quotePrefix = True


def prose(text: str) -> str:
    """A child's words for running text (the Word report): one line, single spaces, nothing
    neutralised (a leading "=" or "-" is harmless in a document)."""
    return " ".join(clean(text).split())


def clause(text: str) -> str:
    """Prose that goes inside a sentence: without its own closing full stop or semicolon."""
    return prose(text).rstrip(" .;,")


def free_text(text: str) -> str:
    """A child's words made safe for every format: no control characters, no formula."""
    return neutralise(clean(text))


@lru_cache(maxsize=4)
def _mac(key: bytes) -> hmac.HMAC:
    return hmac.new(key, digestmod=hashlib.sha256)


def author_code(chat_id: int, key: bytes) -> str:
    """A short keyed hash (HMAC-SHA256, 12 hex digits) of a chat id, never the id itself.

    The same child gets the same code in every export made with the same key.
    """
    mac = _mac(key).copy()  # the key is processed once, not once per row
    mac.update(str(chat_id).encode())
    return mac.hexdigest()[:CODE_CHARS].upper()


def pseudonym_key(config: Config) -> bytes:
    """The key for author codes, from the environment variable named in the config."""
    value = os.environ.get(config.pseudonym_key_env, "")
    if len(value) < MIN_KEY_CHARS:
        raise ExportError(
            f"set the environment variable {config.pseudonym_key_env} to a secret of at least"
            f" {MIN_KEY_CHARS} characters: it keys the pseudonymous author codes in exports")
    return value.encode()


def dropped(error: OSError) -> OSError:
    """`error` (a failed save: a full disk), its half-written streams dropped here in silence,
    as a plain error to raise. Otherwise, once the caller has said "cannot write …", Python
    prints each stream's own failure to close ("Exception ignored in …", a dozen tracebacks
    from openpyxl and zipfile) as they are collected. The caller lets go of the object that
    holds them (`del book`) first."""
    hook = sys.unraisablehook
    sys.unraisablehook = lambda _: None
    try:
        failure: BaseException | None = error
        while failure is not None:  # the frames holding the streams go now (all the chain's)
            failure.__traceback__ = None
            failure = failure.__context__
        gc.collect()
    finally:
        sys.unraisablehook = hook
    return OSError(error.errno, error.strerror)


def as_read(words: str, translation: str | None) -> str:
    """A child's words as officials read them: a translator's Vietnamese, marked as such, with
    the child's own words after it; the words alone when they needed no translator."""
    if not translation:
        return words
    return f"{translation} (bản dịch; nguyên văn: “{words}”)" if words else translation


@dataclass(frozen=True)
class Column:
    header: str
    width: float  # in Excel character units
    wrap: bool = False  # free text: wrapped in Excel


COLUMNS = (
    Column("Mã kiến nghị", 12), Column("Năm diễn đàn", 9),
    Column("Huyện, thành phố", 18), Column("Chủ đề", 24, wrap=True),
    Column("Trẻ em/Nhóm", 10), Column("Số em trong nhóm", 9), Column("Độ tuổi", 14, wrap=True),
    Column("Giới tính", 20), Column("Trẻ em thấy", 40, wrap=True),
    Column("Kiến nghị, đề xuất", 40, wrap=True), Column("Ai nên thực hiện", 22, wrap=True),
    Column("Thông điệp gửi người lớn", 36, wrap=True), Column("Ngôn ngữ", 11),
    Column("Trạng thái", 12),
    Column("Ngày gửi", 16), Column("Ngày cập nhật", 16), Column("Mã tác giả (bí danh)", 13),
    Column("Kết quả trả lời", 18, wrap=True), Column("Cơ quan chủ trì", 22, wrap=True),
    Column("Trường (nhóm)", 22, wrap=True), Column("Xã, phường (nhóm)", 18, wrap=True),
    Column("Kiến nghị chung số", 11),
    Column("Trẻ em thấy (bản dịch)", 40, wrap=True), Column("Kiến nghị (bản dịch)", 40, wrap=True),
    Column("Thông điệp (bản dịch)", 36, wrap=True),
)
DATE_COLUMNS = tuple(index for index, column in enumerate(COLUMNS)
                     if column.header in ("Ngày gửi", "Ngày cập nhật"))
HEADERS = tuple(column.header for column in COLUMNS)
# The area column, named for the level of the areas in the file; a file of several forum years
# holds districts and communes ("mixed").
AREA_HEADERS = {"district": "Huyện, thành phố", "commune": "Xã, phường",
                "mixed": "Đơn vị hành chính"}


def headers_for(level: str) -> tuple[str, ...]:
    """The columns' headers, the area's named for the level of the areas in the file."""
    area = AREA_HEADERS.get(level, AREA_HEADERS["district"])
    return tuple(area if header == AREA_HEADERS["district"] else header for header in HEADERS)
# "excel": the comma, as RFC 4180 and most software expect. "excel-vn": the semicolon, the list
# separator of Windows set to Vietnamese, so that a double-clicked file opens in columns.
CSV_DIALECTS = {"excel": ",", "excel-vn": ";"}

Cell = str | int | None


class Labels:
    """Vietnamese labels for the codes stored in a proposal row, neutralised once."""

    def __init__(self, config: Config, catalog: Catalog) -> None:
        texts = catalog.texts
        self.districts = {d.code: neutralise(d.name)
                          for d in (*config.past_areas, *config.districts)}
        self.topics = {t.id: neutralise(t.title[BASE_LANG]) for t in catalog.topics}
        self.short_topics = {t.id: neutralise(t.short[BASE_LANG]) for t in catalog.topics}
        # A child's sex in an officer's words ("Không nêu giới tính"), not the child's own
        # button ("Em không muốn nói"); the button where bot/texts has no such label.
        self.genders = {c.id: neutralise(texts.get(f"export.gender.{c.id}", BASE_LANG)
                                         if f"export.gender.{c.id}" in texts.table
                                         else c.label[BASE_LANG])
                        for c in catalog.profile["gender"]}
        self.actors = {key.split(".", 1)[1]: neutralise(texts.get(key, BASE_LANG))
                       for key in texts.table if key.startswith("actors.")}
        self._age_label = texts.table["age_band.label"][BASE_LANG]
        # Bands and sexes listed as the forum orders them (6-9 before 10-12), not as text sorts
        self._order = {label: index for index, label in enumerate((
            *(neutralise(self._age_label.format(band=band)) for band in config.age_bands),
            *self.genders.values()))}
        self.states = {key.rsplit(".", 1)[1]: neutralise(texts.get(key, BASE_LANG))
                       for key in texts.table if key.startswith("answer.state.")}
        # A language by its name: Vietnamese and English as officers write them, another by the
        # name its language file gives ("Bahnar"), an unknown code as it is.
        self.languages = {key.split(".", 1)[1]: neutralise(text[BASE_LANG])
                          for key, text in texts.table.items() if key.startswith("lang.")
                          and BASE_LANG in text} | LANG_LABELS
        self._memo: dict[str, str] = {}  # a few age bands and actor combinations

    def district(self, code: str) -> str:
        return self.districts.get(code) or neutralise(code)

    def language(self, code: str) -> str:
        return self.languages.get(code) or neutralise(code)

    def topic(self, topic_id: str) -> str:
        return self.topics.get(topic_id) or neutralise(topic_id)

    def short_topic(self, topic_id: str) -> str:
        return self.short_topics.get(topic_id) or neutralise(topic_id)

    def age_band(self, band: str | None) -> str:
        if not band:
            return ""
        key = f"age:{band}"
        if key not in self._memo:
            self._memo[key] = neutralise(self._age_label.format(band=band))
        return self._memo[key]

    def who_acts(self, actors: str) -> str:
        """"family,school" -> "Gia đình, Nhà trường"."""
        if actors not in self._memo:
            self._memo[actors] = neutralise(
                ", ".join(self.actors.get(a, a) for a in actors.split(",") if a))
        return self._memo[actors]

    def cells(self, row: ExportRow, key: bytes) -> list[Cell]:
        """One export row, in COLUMNS order: texts neutralised, empty cells None."""
        seen, proposal, message = row.seen, row.proposal, row.message
        return [
            row.ref, row.forum_year, self.district(row.district), self.topic(row.topic),
            GROUP if is_group(row) else CHILD, row.group_size,
            self.ages(row) or None, self.genders.get(row.gender or "") or None,
            free_text(seen) if seen else None, free_text(proposal) if proposal else None,
            self.who_acts(row.actors) or None, free_text(message) if message else None,
            self.language(row.lang), STATUS_LABELS.get(row.status, row.status),
            row.created, row.updated,
            author_code(row.chat_id, key) if row.chat_id is not None else None,
            self.states.get(row.answer_state or "") or None,
            free_text(row.answer_agency) if row.answer_agency else None,
            free_text(row.school) if row.school else None,
            free_text(row.commune) if row.commune else None,
            row.recommendation_id,
            *(free_text(text) if text else None
              for text in (row.seen_vi, row.proposal_vi, row.message_vi)),
        ]

    def ages(self, row: Asker) -> str:
        """A child's age band, or a group's bands ("10-12 tuổi, 13-15 tuổi")."""
        if not is_group(row):
            return self.age_band(row.age_band)
        return ", ".join(self.age_band(b) for b in (row.group_ages or "").split(",") if b)

    def asked(self, rows: Sequence[Asker]) -> Asked:
        """Who asked for a recommendation (its proposals `rows`): how many proposals, groups
        and children, and the children's age bands and sexes (labels, each with its count)."""
        askers = one_each(rows)
        groups = [row for row in askers if is_group(row)]
        unsized = sum(1 for row in groups if not row.group_size)
        children = len(askers) - len(groups) + sum(row.group_size or 1 for row in groups)
        bands = Counter(self.age_band(row.age_band) for row in askers
                        if not is_group(row) and row.age_band)
        group_bands = Counter(label for row in groups for label in self.ages(row).split(", ")
                              if label)
        sexes = Counter(self.genders.get(row.gender or "", "") for row in askers
                        if not is_group(row) and row.gender)
        def ordered(labels: Iterable[str]) -> list[str]:
            return sorted(labels, key=lambda label: (self._order.get(label, len(self._order)),
                                                     label))

        return Asked(len(rows), len(groups), children, unsized,
                     tuple((label, bands[label], group_bands[label])
                           for label in ordered({*bands, *group_bands})),
                     tuple((label, sexes[label]) for label in ordered(sexes) if label))


class Asker(Protocol):
    """A proposal as counted under a recommendation (an ExportRow, a recommendation's Member)."""

    @property
    def chat_id(self) -> int | None: ...
    @property
    def is_group(self) -> bool: ...
    @property
    def group_size(self) -> int | None: ...
    @property
    def group_ages(self) -> str | None: ...
    @property
    def age_band(self) -> str | None: ...
    @property
    def gender(self) -> str | None: ...


def is_group(row: Asker) -> bool:
    """A facilitator's group proposal (its size known or not)."""
    return bool(row.is_group) or row.group_size is not None


def one_each(rows: Sequence[Asker]) -> list[Asker]:
    """`rows` with a child's second and later proposals left out: each child once (by their
    chat; a proposal whose chat is gone counts alone), each group."""
    seen: set[int] = set()
    kept = []
    for row in rows:
        if not is_group(row) and row.chat_id is not None:
            if row.chat_id in seen:
                continue
            seen.add(row.chat_id)
        kept.append(row)
    return kept


@dataclass(frozen=True)
class Asked:
    """Who asked for a recommendation: children count once each, a group by its size; a
    group whose size is not known counts as one child, and `children` is then a floor."""

    proposals: int
    groups: int
    children: int
    unsized: int  # groups of unknown size
    # ("10-12 tuổi", 3, 1): the band, the children in it, the groups with children in it (a
    # group's size is not told by band)
    ages: tuple[tuple[str, int, int], ...]
    sexes: tuple[tuple[str, int], ...]  # ("Nữ", 2): the children who said (not groups)

    def children_text(self) -> str:
        """"28", or "ít nhất 4" when a group's size is not known."""
        return f"ít nhất {self.children}" if self.unsized else str(self.children)

    def ages_text(self) -> str:
        """"10-12 tuổi: 3 em và 1 nhóm, 13-15 tuổi: 1 nhóm"."""
        return ", ".join(f"{label}: " + " và ".join(
            part for part in (f"{children} em" if children else "",
                              f"{groups} nhóm" if groups else "") if part)
            for label, children, groups in self.ages)


@dataclass(frozen=True)
class Job:
    """Everything a format writer needs for one export."""

    selection: RowFilter
    topic_order: tuple[str, ...]
    labels: Labels
    key: bytes
    districts: tuple[District, ...]
    settings: ReportSettings
    forum_year: int = 0
    headers: tuple[str, ...] = HEADERS  # headers_for(the level of `districts`)
    csv_delimiter: str = ","  # ";" for Excel on Vietnamese Windows (CSV_DIALECTS)
    date_from: date | None = None
    date_to: date | None = None

    def rows(self, db: Tx, *, topic_first: bool = False) -> AsyncIterator[ExportRow]:
        """The selected proposals, districts in `districts`' order, topics in the catalog's."""
        return export_rows.rows(db, self.selection, self.topic_order, topic_first=topic_first,
                                district_order=tuple(d.code for d in self.districts))

    def period(self) -> str:
        """"từ ngày 01/05/2023 đến ngày 31/05/2023", or "" when no period was asked."""
        parts = []
        if self.date_from:
            parts.append(f"từ ngày {self.date_from:%d/%m/%Y}")
        if self.date_to:
            parts.append(f"đến ngày {self.date_to:%d/%m/%Y}")
        return " ".join(parts)


class TopicRun:
    """Walks the catalog topics beside rows ordered by topic (catalog order, unknown last).

    `starts(topic)` tells which topics begin when a row of `topic` arrives: the catalog topics
    skipped because they have no rows, then `topic` itself. `rest()` gives the ones never reached.
    """

    def __init__(self, order: tuple[str, ...]) -> None:
        self.pending = list(order)
        self.current: str | None = None

    def starts(self, topic: str) -> list[str]:
        if topic == self.current:
            return []
        begun = []
        while self.pending and self.pending[0] != topic:
            begun.append(self.pending.pop(0))
        if self.pending:
            self.pending.pop(0)
        self.current = topic
        return [*begun, topic]

    def rest(self) -> list[str]:
        rest, self.pending = self.pending, []
        return rest
