"""On-demand exports of children's proposals: CSV, XLSX and the compiled Word report.

One entry point, `export`. Rows stream from a read snapshot of the database; every text is
neutralised against formula injection; authors appear only as a keyed pseudonymous code.
"""

from __future__ import annotations

import importlib
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta, tzinfo
from pathlib import Path
from typing import BinaryIO, Literal
from zoneinfo import ZoneInfo

from bot.areas import District, level_of
from bot.config import Config
from bot.conversation.catalog import Catalog
from bot.exports.common import (
    CSV_DIALECTS,
    ExportError,
    Job,
    Labels,
    author_code,
    headers_for,
    neutralise,
    pseudonym_key,
)
from bot.exports.settings import ReportSettings
from storage import export_rows
from storage.db import Database, Tx

__all__ = [
    "ExportError", "ExportQuery", "ExportResult", "Format", "ReportSettings", "author_code",
    "export", "neutralise",
]

Format = Literal["csv", "xlsx", "docx"]
Writer = Callable[[Tx, Job, Path | BinaryIO], Awaitable[int]]
# Each format's writer, imported when first used: the bot's process does not carry openpyxl
# and python-docx until someone exports (in chat, exports are made in another process anyway).
WRITERS = {"csv": ("bot.exports.csv_export", "write_csv"),
           "xlsx": ("bot.exports.xlsx_export", "write_xlsx"),
           "docx": ("bot.exports.docx_report", "write_docx")}


def writer(fmt: str) -> Writer:
    module, name = WRITERS[fmt]
    found: Writer = getattr(importlib.import_module(module), name)
    return found


@dataclass(frozen=True)
class ExportQuery:
    """What to export: districts (None: all), statuses, and a period of local dates (inclusive)."""

    districts: tuple[str, ...] | None = None
    statuses: tuple[str, ...] = ("approved",)
    date_from: date | None = None
    date_to: date | None = None
    forum_year: int | None = None

    def selection(self, zone: tzinfo) -> export_rows.RowFilter:
        """The storage filter: local dates become UTC bounds, `date_to` included.

        Dates in the rows use the zone's current offset (Vietnam has had no daylight saving
        time since 1975).
        """
        since = datetime.combine(self.date_from, time(), zone) if self.date_from else None
        until = (datetime.combine(self.date_to + timedelta(days=1), time(), zone)
                 if self.date_to else None)
        offset = datetime.now(zone).utcoffset() or timedelta()
        return export_rows.RowFilter(self.districts, self.statuses, since, until, self.forum_year,
                                     int(offset.total_seconds()) // 60)


@dataclass(frozen=True)
class ExportResult:
    rows: int
    size: int  # bytes written
    path: Path | None = None


def _districts(config: Config, codes: tuple[str, ...] | None,
               year: int | None) -> tuple[District, ...]:
    """The areas asked for: by code (an earlier year's area is in the records), or, for all,
    the areas of the forum year exported (every year: the config's year's)."""
    if codes is None:
        return config.areas_in(year) if year else config.districts
    found = [config.area(code) for code in codes]
    unknown = [code for code, area in zip(codes, found, strict=True) if area is None]
    if unknown or not codes:
        raise ExportError(f"unknown district code(s): {', '.join(unknown) or '(none given)'}")
    return tuple(area for area in found if area is not None)


def _with_records(config: Config, areas: tuple[District, ...],
                  holding: set[str]) -> tuple[District, ...]:
    """`areas`, then the other areas that hold proposals of the selection (a 2026 proposal
    filed under a 2023 district; the 2023 districts in an export of every year), in the areas
    file's order, codes the config does not know last: every proposal's area is listed, and the
    totals by area add up."""
    listed = {area.code for area in areas}
    known = [area for area in config.every_area
             if area.code in holding and area.code not in listed]
    unknown = sorted(holding - listed - {area.code for area in known})
    return (*areas, *known, *(District(code, code, code, level="") for code in unknown))


def _selection(query: ExportQuery, zone: tzinfo) -> export_rows.RowFilter:
    try:
        return query.selection(zone)
    except ValueError as error:
        raise ExportError(str(error)) from error


async def _job(db: Tx, config: Config, catalog: Catalog, query: ExportQuery, fmt: Format,
               settings: ReportSettings | None, csv_dialect: str) -> Job:
    """What to write: the areas asked for with those holding the selection's proposals, the
    report's wording for the forum year exported, the area column named for their level."""
    if csv_dialect not in CSV_DIALECTS:
        raise ExportError(f"unknown CSV dialect {csv_dialect!r}: choose"
                          f" {' or '.join(CSV_DIALECTS)}")
    year = query.forum_year or config.forum_year
    asked = _districts(config, query.districts, query.forum_year)
    zone = ZoneInfo(settings.timezone if settings else config.timetable.timezone)
    selection = _selection(query, zone)
    holding = {count.district for count in await export_rows.counts(db, selection)}
    districts = _with_records(config, asked, holding)
    settings = settings or ReportSettings.for_districts(config, districts, year)
    return Job(
        selection=selection, topic_order=tuple(t.id for t in catalog.topics),
        labels=Labels(config, catalog),
        key=b"" if fmt == "docx" else pseudonym_key(config),  # the report names no author
        districts=districts, settings=settings, forum_year=year, date_from=query.date_from,
        csv_delimiter=CSV_DIALECTS[csv_dialect],
        headers=headers_for(level_of(tuple(d for d in districts if d.level))),
        date_to=query.date_to,
    )


async def export(db: Database, config: Config, catalog: Catalog, query: ExportQuery,
                 fmt: Format, out: Path | BinaryIO,
                 settings: ReportSettings | None = None,
                 csv_dialect: str = "excel") -> ExportResult:
    """Write one export to a path or a binary stream (which must support tell()).

    `settings` overrides the report defaults derived from the config (DOCX only);
    `csv_dialect` is "excel" (commas) or "excel-vn" (semicolons: Vietnamese Windows).
    Raises ExportError for an unknown district, status or format, or a missing pseudonym key.
    """
    if fmt not in WRITERS:
        raise ExportError(f"unknown format {fmt!r}: choose csv, xlsx or docx")
    start = 0 if isinstance(out, Path) else out.tell()
    async with db.snapshot() as connection:
        job = await _job(connection, config, catalog, query, fmt, settings, csv_dialect)
        rows = await writer(fmt)(connection, job, out)
    if isinstance(out, Path):
        return ExportResult(rows, out.stat().st_size, out)
    return ExportResult(rows, out.tell() - start)
