"""What the compiled report needs beyond the main config: issuer, place, signer, page layout.

Defaults derive from Config (district name, province); the caller may override any field
(for example from a `[report]` table and a per-district `place` in config.toml).
"""

from __future__ import annotations

from dataclasses import dataclass, replace

from bot.areas import District
from bot.config import Config

FORUM_LEVEL_WORDS = {"commune": "cấp xã", "district": "cấp huyện"}  # "Diễn đàn trẻ em cấp xã"


def place_of(district: District) -> str:
    """The địa danh of an area's body: as configured, else its name without the unit word
    ("Xã Mô Rai" -> "Mô Rai": bot.areas.UNIT_WORDS)."""
    return district.place_name


def lower_first(text: str) -> str:
    """"Huyện Đắk Hà" -> "huyện Đắk Hà", for the unit word in running text."""
    return text[:1].lower() + text[1:]


@dataclass(frozen=True)
class ReportSettings:
    """Layout and wording of the compiled Word report (Decree 30/2020).

    For a single district the district People's Committee issues the report; for several or all
    districts the provincial one does (one report, province-level wording).
    """

    unit: str  # "huyện Đắk Hà", "tỉnh Kon Tum": who issues and whose forum
    forum_name: str  # "Diễn đàn trẻ em huyện Đắk Hà"
    place: str  # địa danh before the date: "Đắk Hà"
    recipient: str  # Kính gửi
    issuer_parent: str = ""  # "UBND HUYỆN ĐẮK HÀ" when one of its offices issues the report
    issuer_body: str = "Ủy ban nhân dân"  # as in running text; upper-cased in the header
    symbol: str = "BC-UBND"
    basis: str = ""  # "Kế hoạch số 45/KH-UBND ngày 10/3/2023 của ..." (Thực hiện ...)
    signer_lines: tuple[str, ...] = ("TM. ỦY BAN NHÂN DÂN", "KT. CHỦ TỊCH", "PHÓ CHỦ TỊCH")
    signer_name: str = ""
    copies_to: tuple[str, ...] = ("Như trên",)
    drafting_unit: str = "LĐTBXH"
    fill_date: bool = False
    # The forum itself, as the report states it (a gap to fill in Word where not given).
    forum_date: str = ""  # "02/6/2023"
    forum_place: str = ""  # "Hội trường UBND huyện"
    forum_children: int = 0
    forum_girls: int = 0
    forum_boys: int = 0
    forum_ages: str = ""  # "từ 10 đến 15 tuổi"
    forum_facilitators: int = 0
    proposals: tuple[str, ...] = ()  # V. the issuer's own proposals
    timezone: str = "Asia/Ho_Chi_Minh"
    margins_mm: tuple[float, float, float, float] = (20, 20, 30, 15)  # top, bottom, left, right

    @classmethod
    def for_districts(cls, config: Config, districts: tuple[District, ...],
                      year: int | None = None) -> ReportSettings:
        """For a report on these districts (one district, or the province) of the forum of
        `year` (the config's by default), with [report]. A report on several areas speaks of
        the level and the province of its year: "cấp huyện … tỉnh Kon Tum" for 2023's
        districts in a commune config."""
        year = year or config.forum_year
        report = dict(config.report)
        if len(districts) == 1:  # the area's own forum and signer, over the province's
            report.update(dict(config.report_areas).get(districts[0].code, ()))
        province_recipient = report.pop("province_recipient", "Bộ Y tế")
        if len(districts) == 1:
            unit = lower_first(districts[0].name)
            defaults = cls(unit=unit, forum_name=f"Diễn đàn trẻ em {unit}",
                           place=place_of(districts[0]),
                           recipient=f"Ủy ban nhân dân tỉnh {config.province}")
        else:
            province = config.province_in(year, districts)
            unit = lower_first(province.name) if province else f"tỉnh {config.province}"
            level = FORUM_LEVEL_WORDS.get(config.level_in(year), "cấp huyện")
            defaults = cls(unit=unit,
                           forum_name=f"Diễn đàn trẻ em {level} trên địa bàn {unit}",
                           place=place_of(province) if province else config.province,
                           recipient=str(province_recipient))
            report.pop("recipient", None)  # a district report's addressee
        return replace(defaults, timezone=config.timetable.timezone,
                       **report)  # type: ignore[arg-type]
