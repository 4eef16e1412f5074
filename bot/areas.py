"""The areas a forum is held in: districts (the 2023 plan) or communes and wards (since
1 July 2025 Viet Nam has no district level), as data.

A config names its areas inline (`[[districts]]`, the district level) or loads them from a CSV
file (`[areas] file`), one row per area with its level, parent and validity, in the layout of
the national list of administrative units (Danh mục đơn vị hành chính, published by the General
Statistics Office: danhmuchanhchinh.gso.gov.vn). `[areas] level` says which level the forum
year uses; only the areas valid in that year are offered. Records of earlier years keep their
codes (a proposal stores its area's code), so the 2023 districts stay for their follow-up.
"""

from __future__ import annotations

import csv
from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path

from bot.localized import BASE_LANG, Localized

LEVELS = ("province", "district", "commune")
# The levels a forum is held at, finest first: a year whose areas the config's level has none
# of (2023, in a commune config) was held at the finest level the file has for that year.
FORUM_LEVELS = ("commune", "district")
# The unit word in front of an area's name, the longer first ("Thị trấn", "Thị xã" before
# "Xã"): the place (địa danh) is the name without it, "Xã Mô Rai" -> "Mô Rai".
UNIT_WORDS = ("Thành phố", "Thị trấn", "Thị xã", "Đặc khu", "Huyện", "Quận", "Tỉnh", "Phường",
              "Xã")
# The national list's headers, and ours (either is accepted).
HEADERS = {
    "code": ("code", "mã", "ma"),
    "name": ("name", "tên", "ten"),
    "name_en": ("name_en", "tên tiếng anh", "ten tieng anh"),
    "level": ("level", "cấp", "cap"),
    "parent": ("parent", "mã cấp trên", "ma cap tren"),
    "valid_from": ("valid_from", "hiệu lực từ", "hieu luc tu"),
    "valid_to": ("valid_to", "hiệu lực đến", "hieu luc den"),
    "place": ("place", "địa danh", "dia danh"),
}
# "Cấp" as the national list writes it.
LEVEL_WORDS = {"tỉnh": "province", "thành phố trung ương": "province", "huyện": "district",
               "quận": "district", "thị xã": "district", "thành phố": "district",
               "xã": "commune", "phường": "commune", "thị trấn": "commune",
               "đặc khu": "commune"}


class AreaError(ValueError):
    """The areas file cannot be used (the message names the file, the row and the problem)."""


@dataclass(frozen=True)
class District:
    """One area of the forum (a district in 2023's plan, a commune or ward since 2025)."""

    code: str
    name: str
    name_en: str
    place: str = ""  # địa danh on the compiled report ("Đắk Hà"); derived from the name if empty
    level: str = "district"
    parent: str = ""
    valid_from: date | None = None
    valid_to: date | None = None

    @property
    def names(self) -> Localized:
        """The area's name by language (the file's name and name_en columns)."""
        return Localized({BASE_LANG: self.name, "en": self.name_en})

    def label(self, lang: str) -> str:
        return self.names[lang]

    @property
    def place_name(self) -> str:
        """The địa danh: as the file gives it, else the name without its unit word ("Xã Mô
        Rai" -> "Mô Rai", "Đặc khu Lý Sơn" -> "Lý Sơn")."""
        if self.place:
            return self.place
        for word in UNIT_WORDS:
            if self.name.startswith(word + " "):
                return self.name[len(word) + 1:]
        return self.name

    def valid_in(self, year: int) -> bool:
        """True when the area existed at some time in `year`."""
        return ((self.valid_from is None or self.valid_from <= date(year, 12, 31))
                and (self.valid_to is None or self.valid_to >= date(year, 1, 1)))


def load_areas(path: Path) -> tuple[District, ...]:
    """Every area in a CSV file (UTF-8, with or without a byte-order mark; "," or ";")."""
    try:
        text = path.read_text(encoding="utf-8-sig")
    except (OSError, UnicodeDecodeError) as error:
        raise AreaError(f"{path}: cannot read it as UTF-8 text ({error})") from error
    dialect = csv.Sniffer().sniff(text.split("\n", 1)[0], delimiters=",;\t")
    rows = list(csv.reader(text.splitlines(), dialect))
    if not rows:
        raise AreaError(f"{path}: empty")
    header = [cell.strip().lower() for cell in rows[0]]
    where = {field: next((header.index(name) for name in names if name in header), None)
             for field, names in HEADERS.items()}
    missing = [field for field in ("code", "name", "level") if where[field] is None]
    if missing:
        raise AreaError(f"{path}: no column {', '.join(missing)} (the header row names them:"
                        f" {', '.join(HEADERS['code'][:2])}; {', '.join(HEADERS['name'][:2])};"
                        f" {', '.join(HEADERS['level'][:2])})")
    found = []
    for number, row in enumerate(rows[1:], 2):
        if not any(cell.strip() for cell in row):
            continue

        def cell(field: str, row: list[str] = row) -> str:
            index = where[field]
            return row[index].strip() if index is not None and index < len(row) else ""

        code, name = cell("code"), cell("name")
        if not code.isalnum() or len(code) > 8 or not name:
            raise AreaError(f"{path}, row {number}: a code of 1-8 letters or digits and a name"
                            f" are needed, got {code!r}, {name!r}")
        level = LEVEL_WORDS.get(cell("level").lower(), cell("level").lower())
        if level not in LEVELS:
            raise AreaError(f"{path}, row {number}: level must be one of {', '.join(LEVELS)}"
                            f" (or Tỉnh, Huyện, Xã, Phường…), got {cell('level')!r}")
        found.append(District(code.upper(), name, cell("name_en") or name, cell("place"),
                              level, cell("parent").upper(),
                              _date(path, number, cell("valid_from")),
                              _date(path, number, cell("valid_to"))))
    codes = [area.code for area in found]
    if len(set(codes)) != len(codes):
        raise AreaError(f"{path}: codes must be unique")
    return tuple(found)


def _date(path: Path, number: int, text: str) -> date | None:
    if not text:
        return None
    for pattern in ("%Y-%m-%d", "%d/%m/%Y"):
        try:
            return datetime.strptime(text, pattern).date()
        except ValueError:
            continue
    raise AreaError(f"{path}, row {number}: not a date: {text!r} (2025-07-01 or 01/07/2025)")


def forum_areas(areas: tuple[District, ...], level: str, year: int) -> tuple[District, ...]:
    """The areas a forum year is held in: its level, valid that year."""
    return tuple(area for area in areas if area.level == level and area.valid_in(year))


def level_in(areas: tuple[District, ...], level: str, year: int) -> str:
    """The level a forum year was held at: `level` (the config's) when it has areas valid
    that year, else the finest level that has (the districts, for 2023 in a commune config)."""
    for candidate in (level, *(other for other in FORUM_LEVELS if other != level)):
        if forum_areas(areas, candidate, year):
            return candidate
    return level


def level_of(areas: tuple[District, ...]) -> str:
    """The one level of these areas, or "mixed" (a file of several years: districts and
    communes)."""
    levels = {area.level for area in areas}
    return levels.pop() if len(levels) == 1 else "mixed"
