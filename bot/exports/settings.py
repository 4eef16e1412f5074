"""What the compiled report needs beyond the main config: issuer, place, signer, page layout.

Defaults derive from Config (the areas file: an area's name, place and parent; the province);
the caller may override any field (for example from a `[report]` table and a per-area
`[report.areas.<code>]` in config.toml).

Who issues a report, and to whom, follows the year it is dated (the forum year for the compiled
report, the last year for the follow-up; today's with `fill_date`): a body that existed then.
An area that existed issues its own report, to its parent of that year (Huyện Đắk Hà's 2023
report to the Ủy ban nhân dân tỉnh Kon Tum); several areas, or an area gone by then (a district
after 30 June 2025), are the province's of that year (Tỉnh Quảng Ngãi's in 2026, to
`province_recipient`). `[report]` describes the config's forum year: its forum facts are
only for a report on that year, its addressees, basis, signer and proposals only for a report
its bodies issue (one of the year's areas, or their province); another body's addressee comes
from the areas file (its parent then), or is left blank to fill in Word.
`[report.areas.<code>]` is that area's own: all of it when the area issues, its forum facts when
the province issues in its place; a province's code ([report.areas.KTU]) is the province's.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import datetime
from zoneinfo import ZoneInfo

from bot.areas import District
from bot.config import Config

FORUM_LEVEL_WORDS = {"commune": "cấp xã", "district": "cấp huyện"}  # "Diễn đàn trẻ em cấp xã"
# [report] keys about the forum itself (a year's, an area's).
FORUM_KEYS = frozenset({"forum_date", "forum_place", "forum_children", "forum_girls",
                        "forum_boys", "forum_ages", "forum_facilitators"})
# [report] keys naming who the report goes to, what it answers and who signs: the config's
# bodies' (its forum year's areas and their province).
DATED_KEYS = frozenset({"recipient", "province_recipient", "issuer_parent", "basis",
                        "signer_name", "proposals"})
MISSING = "…"  # an addressee not known for that year: a gap to fill in Word


def place_of(district: District) -> str:
    """The địa danh of an area's body: as configured, else its name without the unit word
    ("Xã Mô Rai" -> "Mô Rai": bot.areas.UNIT_WORDS)."""
    return district.place_name


def lower_first(text: str) -> str:
    """"Huyện Đắk Hà" -> "huyện Đắk Hà", for the unit word in running text."""
    return text[:1].lower() + text[1:]


def body_of(area: District | None, province: str) -> str:
    """"Ủy ban nhân dân tỉnh Kon Tum": the People's Committee of an area (of the province named
    in the config, without one)."""
    return f"Ủy ban nhân dân {lower_first(area.name) if area else f'tỉnh {province}'}"


@dataclass(frozen=True)
class ReportSettings:
    """Layout and wording of the compiled Word report (Decree 30/2020).

    For a single area its People's Committee issues the report; for several, or for an area
    gone by the year the report is dated, the province's does (see the module's docstring).
    """

    unit: str  # "huyện Đắk Hà", "tỉnh Kon Tum": who issues (and whose forum, but for `area`)
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
    area: str = ""  # whose forum when another body issues: "huyện Đắk Hà" (the province's)

    @property
    def whose(self) -> str:
        """The unit whose forums the report is on: "huyện Đắk Hà"."""
        return self.area or self.unit

    @classmethod
    def for_districts(cls, config: Config, districts: tuple[District, ...],
                      year: int | None = None, dated: int | None = None) -> ReportSettings:
        """For a report on these districts (one district, or the province) of the forum of
        `year` (the config's by default), dated in `dated` (the year its blank date names:
        `year` by default; with `fill_date`, today's), with [report] and [report.areas.<code>]
        as the module's docstring says.
        A report on several areas speaks of the level and the province of its year: "cấp huyện
        … tỉnh Kon Tum" for 2023's districts in a commune config."""
        year = year or config.forum_year
        own = dict(config.report_areas)
        general = dict(config.report)
        one = districts[0] if len(districts) == 1 else None
        fill = dict(own.get(one.code, ()) if one else ()).get(
            "fill_date", general.get("fill_date", False))
        zone = config.timetable.timezone
        dated = datetime.now(ZoneInfo(zone)).year if fill else dated or year

        def general_for(ours: bool) -> dict[str, object]:
            """[report]: its forum facts for a report on the config's forum year only; its
            addressees, basis, signer and proposals when the config's bodies issue it."""
            return {key: value for key, value in general.items()
                    if not (key in FORUM_KEYS and year != config.forum_year)
                    and not (key in DATED_KEYS and not ours)}

        if one is not None and one.valid_in(dated):  # the area's own body issues it
            unit = lower_first(one.name)
            defaults = cls(unit=unit, forum_name=f"Diễn đàn trẻ em {unit}", place=place_of(one),
                           recipient=body_of(config.parent_in(one, dated), config.province))
            report = general_for(one in config.districts) | dict(own.get(one.code, ()))
            report.pop("province_recipient", None)  # several areas' addressee
            return replace(defaults, timezone=zone, **report)  # type: ignore[arg-type]
        # The province's body of that year: for several areas, or one gone by then
        years = [d for d in districts if d in config.areas_in(year)] or list(districts)
        issuer = config.province_in(dated, tuple(years))
        ours = issuer == config.province_in(config.forum_year, config.districts)
        unit = lower_first(issuer.name) if issuer else f"tỉnh {config.province}"
        report = general_for(ours)
        recipient = report.pop("province_recipient", "Bộ Y tế" if ours else MISSING)
        report.pop("recipient", None)  # an area's report's addressee
        if issuer is not None:
            report.update(own.get(issuer.code, ()))
            recipient = dict(own.get(issuer.code, ())).get("province_recipient", recipient)
            report.pop("province_recipient", None)
        if one is not None:  # the gone area's forum, as its own table states it
            area = lower_first(one.name)
            report.update((key, value) for key, value in own.get(one.code, ())
                          if key in FORUM_KEYS)
            forum_name = f"Diễn đàn trẻ em {area}"
        else:
            province = config.province_in(year, tuple(years))
            whose = lower_first(province.name) if province else f"tỉnh {config.province}"
            if province is not None and province != issuer:
                report.update((key, value) for key, value in own.get(province.code, ())
                              if key in FORUM_KEYS)
            level = FORUM_LEVEL_WORDS.get(config.level_in(year), "cấp huyện")
            forum_name = f"Diễn đàn trẻ em {level} trên địa bàn {whose}"
            area = whose if whose != unit else ""
        defaults = cls(unit=unit, forum_name=forum_name, area=area,
                       place=place_of(issuer) if issuer else config.province,
                       recipient=str(recipient))
        return replace(defaults, timezone=zone, **report)  # type: ignore[arg-type]
