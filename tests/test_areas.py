"""Areas as data: districts (2023) or communes and wards (since July 2025), from a CSV in the
national list's layout; a child finds theirs among many by typing part of the name."""

from __future__ import annotations

import csv
import io
from dataclasses import replace
from pathlib import Path
from typing import Any, cast

import docx
import openpyxl
import pytest

from bot.areas import AreaError, District, forum_areas, load_areas
from bot.compiling.service import Compiled, Compiling
from bot.config import ConfigError, load_config
from bot.conversation import engine
from bot.conversation.catalog import load_catalog
from bot.conversation.engine import Command, Press, Start, State, Text
from bot.exports import ExportQuery, export
from bot.exports.followup import followup_export
from bot.staff.moderation import Moderation
from storage import proposals
from storage.db import Database, open_database

ROOT = Path(__file__).resolve().parents[1]
EXAMPLE = ROOT / "docs/areas/quang-ngai-example.csv"


def test_the_example_list_and_validity() -> None:
    areas = load_areas(EXAMPLE)
    assert len(areas) == 14
    communes = forum_areas(areas, "commune", 2026)
    assert [a.code for a in communes][:3] == ["DLONG", "MORAI", "IADAL"] and len(communes) == 10
    assert all(a.parent == "QNG" for a in communes)
    assert [a.code for a in forum_areas(areas, "district", 2023)] == ["DHA", "STH"]
    assert forum_areas(areas, "district", 2026) == ()  # no district level after July 2025
    assert [a.code for a in forum_areas(areas, "district", 2025)] == ["DHA", "STH"]  # to June


def test_the_national_lists_headers_semicolons_and_levels(tmp_path: Path) -> None:
    path = tmp_path / "danh-muc.csv"
    path.write_text("\ufeffMã;Tên;Cấp;Mã cấp trên;Hiệu lực từ\n"
                    "23266;Xã Đăk Long;Xã;51;01/07/2025\n"
                    "23267;Phường Kon Tum;Phường;51;01/07/2025\n"
                    "51;Tỉnh Quảng Ngãi;Tỉnh;;\n", encoding="utf-8")
    areas = load_areas(path)
    assert [(a.code, a.level, a.parent) for a in areas] == [
        ("23266", "commune", "51"), ("23267", "commune", "51"), ("51", "province", "")]
    assert areas[0].name_en == "Xã Đăk Long" and not areas[0].valid_in(2024)
    for text, problem in (("code,name\nA,B\n", "no column level"),
                          ("code,name,level\nA,B,county\n", "row 2: level must be"),
                          ("code,name,level,valid_from\nA,B,xã,2025-13-01\n", "not a date"),
                          ("code,name,level\nA B,B,xã\n", "row 2: a code of 1-8")):
        path.write_text(text, encoding="utf-8")
        with pytest.raises(AreaError, match=problem):
            load_areas(path)


def test_a_config_by_communes(tmp_path: Path) -> None:
    config = load_config(ROOT / "config.communes.example.toml")
    assert config.area_level == "commune" and config.forum_year == 2026
    assert len(config.districts) == 10 and config.district("DLONG") is not None
    text = (ROOT / "config.communes.example.toml").read_text(encoding="utf-8")
    broken = tmp_path / "config.toml"
    broken.write_text(text.replace("year = 2026", "year = 2024").replace(
        'file = "docs/', f'file = "{ROOT}/docs/'), encoding="utf-8")
    with pytest.raises(ConfigError, match=r"no commune .* is valid in the forum year 2024"):
        load_config(broken)


def test_each_forum_year_has_its_level_and_areas(tmp_path: Path) -> None:
    """A commune config knows the level and areas of earlier years: 2023's districts; 2025,
    when both existed, the communes unless `[areas] levels` says the districts."""
    config = load_config(ROOT / "config.communes.example.toml")
    assert [(year, config.level_in(year)) for year in (2023, 2025, 2026)] == [
        (2023, "district"), (2025, "commune"), (2026, "commune")]
    assert config.areas_in(2026) == config.districts
    kon_tum = config.province_in(2023, config.areas_in(2023))
    assert kon_tum is not None and kon_tum.name == "Tỉnh Kon Tum"
    quang_ngai = config.province_in(2026, (*config.districts, *config.areas_in(2023)))
    assert quang_ngai is not None and quang_ngai.code == "QNG"
    text = (ROOT / "config.communes.example.toml").read_text(encoding="utf-8").replace(
        'file = "docs/', f'file = "{ROOT}/docs/')
    path = tmp_path / "config.toml"
    path.write_text(text.replace('level = "commune"',
                                 'level = "commune"\nlevels = { 2025 = "district" }'),
                    encoding="utf-8")
    chosen = load_config(path)
    assert chosen.level_in(2025) == "district"
    assert [a.code for a in chosen.areas_in(2025)] == ["DHA", "STH"]
    for levels, problem in (('{ 2025 = "province" }', "must be one of commune, district"),
                            ('{ 2026 = "district" }', "than \\[forum\\] year"),
                            ('{ 2027 = "district" }', "no district valid in 2027")):
        path.write_text(text.replace('level = "commune"', f'level = "commune"\nlevels = {levels}'),
                        encoding="utf-8")
        with pytest.raises(ConfigError, match=rf"\[areas.levels\].*{problem}"):
            load_config(path)


def test_a_forum_held_by_commune_does_not_offer_the_gone_district_level_as_an_actor() -> None:
    """Since 1 July 2025 there is no district level: "who should act?" of a forum held by
    commune offers family, school, commune, province and nation; the 2023 district plan keeps
    the district, and a district actor of its proposals is still named in the exports."""
    communes = load_catalog(load_config(ROOT / "config.communes.example.toml"))
    districts = load_catalog(load_config(ROOT / "config.example.toml"))
    for flow in communes.topics:
        actors = flow.step("actors")
        assert actors is not None
        assert [c.id for c in actors.choices] == [
            "family", "school", "commune", "province", "nation"], flow.id
    actors = districts.topics[0].step("actors")
    assert actors is not None and "district" in [c.id for c in actors.choices]
    assert communes.texts.get("actors.district", "vi") == "Huyện"


def many_communes(count: int) -> tuple[District, ...]:
    names = [f"Xã {first} {second}" for first in ("Đăk", "Ia", "Ngọk", "Tân", "Bình", "An")
             for second in ("Long", "Tơi", "Hà", "Mỹ", "Sơn", "Phú", "Lộc")]
    return tuple(District(f"C{n:03d}", name, name.replace("Xã", "Commune"), level="commune")
                 for n, name in enumerate(names[:count]))


def test_a_child_finds_their_commune_among_many() -> None:
    config = replace(load_config(ROOT / "config.communes.example.toml"),
                     districts=many_communes(40))
    catalog = load_catalog(config)
    state = State(rev=1, profile={"lang": "vi"}, profile_queue=("district", "age_band"))
    shown = engine.prompt(catalog, state)
    assert shown.text.startswith("Em sống ở xã, phường nào?") and "Có 40 nơi" in shown.text
    labels = [b.label for row in shown.keyboard for b in row]
    assert labels[:8] == [c.label["vi"] for c in catalog.profile["district"][:8]]
    assert "▶" in labels and "◀" not in labels and "1/5" in labels
    nxt = next(b for row in shown.keyboard for b in row if b.label == "▶")
    turned = engine.step(catalog, state, Press(nxt.data))
    assert turned.state is not None and turned.state.page == 1 and turned.keyboard is not None
    page2 = [b.label for row in turned.keyboard for b in row]
    assert page2[0] == catalog.profile["district"][8].label["vi"] and "◀" in page2
    found = engine.step(catalog, state, Text("ia to"))  # no tone marks, two word starts
    assert "khớp với “ia to”" in found.replies[0].text
    assert [b.label for row in found.replies[0].keyboard for b in row
            if "|pick|" in b.data] == ["Xã Ia Tơi"]
    many = engine.step(catalog, state, Text("dak"))
    assert "Có 7 nơi khớp" in many.replies[0].text
    none = engine.step(catalog, state, Text("zzz"))
    assert "chưa thấy nơi nào có “zzz”" in none.replies[0].text
    picked = engine.step(catalog, state, Text("Xã Ngọk Sơn"))
    assert picked.state is not None and picked.state.profile["district"] == "C018"


# The 29 communes and wards a tester's config offered (probe_year), in its order.
PROBE_NAMES = (
    "Xã Đăk Long", "Xã Mô Rai", "Xã Ia Đal", "Xã Rờ Kơi", "Xã Ba Xa", "Xã Tịnh Khê",
    "Xã An Phú", "Xã Bình Sơn", "Xã Vạn Tường", "Xã Trường Giang", "Xã Ia H'Drai",
    "Xã Đăk Hà", "Xã Sa Thầy", "Xã Ba Tơ", "Xã Ba Tô", "Xã Ba Vì", "Xã Ba Dinh",
    "Xã Minh Long", "Xã Sơn Hà", "Xã Sơn Tây", "Xã Trà Bồng", "Xã Kon Plông", "Phường Kon Tum",
    "Phường Đăk Bla", "Phường Đức Phổ", "Phường Sa Huỳnh", "Phường Nghĩa Lộ",
    "Phường Cẩm Thành", "Đặc khu Lý Sơn")


@pytest.fixture(scope="module")
def probe_catalog() -> engine.Catalog:
    areas = tuple(District(f"P{n:02d}", name, name, level="commune")
                  for n, name in enumerate(PROBE_NAMES, 1))
    return load_catalog(replace(load_config(ROOT / "config.communes.example.toml"),
                                districts=areas))


def at_the_area_question(catalog: engine.Catalog) -> State:
    """A child who picked a language and is shown the area question (its first page)."""
    first = engine.step(catalog, None, Press("0|guardian|yes"), consenting=True)
    assert first.state is not None
    state = engine.step(catalog, first.state, Press(f"{first.state.rev}|pick|vi")).state
    assert state is not None and state.profile_queue[0] == "district"
    return state


def shown(outcome: engine.Outcome) -> list[str]:
    """The area buttons of the last reply."""
    return [b.label for row in outcome.replies[-1].keyboard for b in row if "|pick|" in b.data]


def area(outcome: engine.Outcome) -> str | None:
    return outcome.state.profile.get("district") if outcome.state else None


def test_a_typed_number_picks_among_the_areas_shown(probe_catalog: engine.Catalog) -> None:
    """A tester typed "ba", saw 5 buttons, typed "2" and was put in Mô Rai (the 2nd of all
    29): a number picks among what the last screen showed, and says what it picked."""
    state = at_the_area_question(probe_catalog)
    found = engine.step(probe_catalog, state, Text("ba"))
    assert shown(found) == ["Xã Ba Xa", "Xã Ba Tơ", "Xã Ba Tô", "Xã Ba Vì", "Xã Ba Dinh"]
    assert found.state is not None
    picked = engine.step(probe_catalog, found.state, Text("2"))
    assert area(picked) == "P14"  # Ba Tơ
    assert "✓ Xã Ba Tơ" in picked.replies[0].text and "Em bao nhiêu tuổi?" in engine.prompt(
        probe_catalog, picked.state).text
    # The first page shows 8 places, unnumbered: "1" is its first; "29" is none of them.
    first = engine.step(probe_catalog, state, Text("1"))
    assert area(first) == "P01" and "✓ Xã Đăk Long" in first.replies[0].text
    for number in ("29", "9", "0"):
        missed = engine.step(probe_catalog, state, Text(number))
        assert area(missed) is None, number
        assert "gõ vài chữ trong tên" in missed.replies[0].text
        assert shown(missed) == list(PROBE_NAMES[:8])
    # After "ba" found nothing more ("zzz"), the page is the last screen again.
    again = engine.step(probe_catalog, found.state, Text("zzz"))
    assert again.state is not None
    assert area(engine.step(probe_catalog, again.state, Text("2"))) == "P02"


def test_a_page_turned_is_what_a_number_picks_from_and_what_is_shown_again(
        probe_catalog: engine.Catalog) -> None:
    """▶ turns the page (on Telegram the message is edited; on Zalo, with no edits, the
    question is sent again and must show the new page): a number picks from that page."""
    state = at_the_area_question(probe_catalog)
    nxt = next(b for row in engine.prompt(probe_catalog, state).keyboard for b in row
               if b.label == "▶")
    turned = engine.step(probe_catalog, state, Press(nxt.data))
    assert turned.state is not None and turned.keyboard is not None
    assert turned.state.rev == state.rev  # the buttons already sent stay good
    again = engine.prompt(probe_catalog, turned.state)
    assert [b.label for row in again.keyboard for b in row if "|pick|" in b.data] == list(
        PROBE_NAMES[8:16])
    assert area(engine.step(probe_catalog, turned.state, Text("1"))) == "P09"
    # Once the area is picked, the next question starts from its first page again.
    picked = engine.step(probe_catalog, turned.state, Text("1"))
    assert picked.state is not None and picked.state.page == 0


def test_a_place_is_found_as_children_write_it(probe_catalog: engine.Catalog) -> None:
    """A tester's spellings that found nothing: spaces and apostrophes (the curly one phones
    put in) left out, Tp/huyện/xã before the name, a letter wrong (c for k, one too many); and
    "Xã Ba Tô" typed exactly still offered Ba Tơ beside it."""
    state = at_the_area_question(probe_catalog)
    code = {name: f"P{n:02d}" for n, name in enumerate(PROBE_NAMES, 1)}
    # The whole name, written so: picked, and said on top of the next question.
    for typed, name in (("morai", "Xã Mô Rai"), ("kontum", "Phường Kon Tum"),
                        ("iadal", "Xã Ia Đal"), ("daklong", "Xã Đăk Long"),
                        ("Ia H’Drai", "Xã Ia H'Drai"), ("ia hdrai", "Xã Ia H'Drai"),
                        ("IA H'DRAI", "Xã Ia H'Drai"), ("Xã Ba Tô", "Xã Ba Tô"),
                        ("Ba Tô", "Xã Ba Tô"), ("xa ba tơ", "Xã Ba Tơ"),
                        ("xã mô rai", "Xã Mô Rai"), ("phuong kon tum", "Phường Kon Tum"),
                        ("Đặc khu Lý Sơn", "Đặc khu Lý Sơn")):
        picked = engine.step(probe_catalog, state, Text(typed))
        assert area(picked) == code[name], typed
        assert f"✓ {name}" in picked.replies[0].text, typed
    # Part of a name, or a name near one: the places to choose from (a press picks).
    for typed, names in (("drai", ["Xã Ia H'Drai"]), ("Tp Kon Tum", ["Phường Kon Tum"]),
                         ("huyện đắk hà", ["Xã Đăk Hà"]), ("Ba To", ["Xã Ba Tơ", "Xã Ba Tô"]),
                         ("Đắc Long", ["Xã Đăk Long"]), ("dac long", ["Xã Đăk Long"]),
                         ("tinh khee", ["Xã Tịnh Khê"]), ("Mo Rao", ["Xã Mô Rai"]),
                         ("mroai", ["Xã Mô Rai"]), ("long dak", ["Xã Đăk Long"]),
                         ("em ở xã mô rai", ["Xã Mô Rai"]),
                         ("sa", ["Xã Sa Thầy", "Phường Sa Huỳnh"])):
        found = engine.step(probe_catalog, state, Text(typed))
        assert area(found) is None and shown(found) == names, typed
        labels = [b.label for row in found.replies[-1].keyboard for b in row]
        assert "🆘 Em cần giúp ngay" in labels, typed  # help on every screen
    slip = engine.step(probe_catalog, state, Text("Đắc Long"))
    assert "Có phải em muốn tìm" in slip.replies[-1].text
    # A slip that many names are near, or too short to tell: nothing guessed.
    for typed in ("sonx", "zzz", "tp"):
        none = engine.step(probe_catalog, state, Text(typed))
        assert area(none) is None and "chưa thấy nơi nào" in none.replies[0].text, typed


def test_a_short_list_of_areas_finds_as_the_long_one_does() -> None:
    """Ten communes are all shown as buttons; typed, a name is found the same way."""
    catalog = load_catalog(load_config(ROOT / "config.communes.example.toml"))
    state = at_the_area_question(catalog)
    assert area(engine.step(catalog, state, Text("morai"))) == "MORAI"
    assert shown(engine.step(catalog, state, Text("Đắc Long"))) == ["Xã Đăk Long"]
    assert "chọn một ý" in engine.step(catalog, state, Text("hmm")).replies[0].text


def test_a_child_of_a_district_that_is_gone_chooses_their_place_again() -> None:
    """A child registered in 2023 in Huyện Đắk Hà (a district until 30 June 2025) came back in
    2026 and sent a proposal to DHA, which no commune's moderator sees: now the place is asked
    again first (kindly, shortly), the rest of the profile kept; help and /delete still work."""
    catalog = load_catalog(load_config(ROOT / "config.communes.example.toml"))
    old = State(rev=5, profile={"lang": "vi", "district": "DHA", "age_band": "10-12",
                                "gender": "unsaid"}, profile_queue=())
    assert engine.area_of(catalog, old) is None  # not a place of this year's forum
    for event in (Start(), Text("2"), Press("5|topic|injuries"), Command("profile")):
        back = engine.step(catalog, old, event)
        assert back.state is not None and back.state.topic is None, event
        assert back.state.profile_queue == ("district",), event
        assert back.state.profile == {"lang": "vi", "age_band": "10-12", "gender": "unsaid"}
        note, asked = back.replies
        assert "danh sách nơi ở mới" in note.text and len(note.text) < 200
        assert asked.text.startswith("Em sống ở xã, phường nào?")
        labels = [b.label for row in asked.keyboard for b in row]
        assert "Xã Mô Rai" in labels and "✖️ Dừng" not in labels  # no way round it
    asked_state = engine.step(catalog, old, Start()).state
    assert asked_state is not None
    cancel = engine.step(catalog, asked_state, Command("cancel"))
    assert cancel.state == asked_state and "Còn vài câu nữa" in cancel.replies[0].text
    picked = engine.step(catalog, asked_state, Text("mo rai"))
    assert picked.state is not None and not picked.state.profile_queue
    assert picked.state.profile == {"lang": "vi", "district": "MORAI", "age_band": "10-12",
                                    "gender": "unsaid"}
    assert engine.area_of(catalog, picked.state) == "MORAI"
    assert "✓ Xã Mô Rai" in picked.replies[0].text
    assert picked.replies[-1].text.startswith("Em muốn góp ý về chủ đề nào?")
    # Help first, as anywhere; the place is asked after. /delete asks as it always does.
    assert isinstance(engine.step(catalog, old, Command("sos")).effect, engine.Help)
    deleting = engine.step(catalog, old, Command("delete")).state
    assert deleting is not None and deleting.confirming_delete
    assert isinstance(engine.step(catalog, deleting, Press(f"{deleting.rev}|delete|yes")).effect,
                      engine.Erase)
    # A draft begun then is kept: the place, then the question the child was at.
    drafting = State(rev=5, profile=old.profile, profile_queue=(), topic="injuries",
                     step="proposal", answers={"seen": "Suối sâu"})
    asked_draft = engine.step(catalog, drafting, Text("Làm cầu")).state
    assert asked_draft is not None and asked_draft.answers == {"seen": "Suối sâu"}
    resumed = engine.step(catalog, asked_draft, Text("dak long"))
    assert resumed.state is not None and resumed.state.step == "proposal"
    assert resumed.state.profile["district"] == "DLONG"


def test_a_facilitator_of_a_district_that_is_gone_is_asked_for_a_new_invite() -> None:
    """A facilitator's place comes with the invite: theirs gone, no group's proposal goes to
    it; a new invite code (typed: bot.conversation.service) makes them a facilitator again."""
    catalog = load_catalog(load_config(ROOT / "config.communes.example.toml"))
    old = State(rev=3, profile={"lang": "vi", "district": "DHA"}, profile_queue=(),
                facilitator=True)
    for event in (Start(), Press("3|topic|injuries"), Text("1")):
        told = engine.step(catalog, old, event)
        assert told.state == old and told.effect is None, event
        assert "mã mời mới" in told.replies[0].text, event
    joined = engine.join_as_facilitator(catalog, old, "MORAI")
    assert joined.state is not None
    started = engine.step(catalog, joined.state, Press(f"{joined.state.rev}|topic|injuries"))
    assert started.state is not None and started.state.topic == "injuries"


async def approved(db: Database, year: int, area: str, proposal: str, update_id: int = 1
                   ) -> None:
    """One approved proposal of `area`'s children in `year` (`update_id`: the update it came
    in, one per proposal)."""
    async with db.transaction() as tx:
        await proposals.insert(tx, proposals.NewProposal(
            chat_id=None, forum_year=year, district=area, topic="injuries", age_band=None,
            gender=None, seen="", proposal=proposal, actors="commune", message="", lang="vi",
            needs_translation=False, source_update_id=update_id))
        await tx.execute("UPDATE proposals SET status = 'approved'")


async def test_exports_name_the_area_column_for_the_level(tmp_path: Path,
                                                          monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CHILDFORUM_PSEUDONYM_KEY", "a-long-enough-secret-key")
    config = load_config(ROOT / "config.communes.example.toml").with_database(
        tmp_path / "forum.sqlite3")
    db = await open_database(config.database)
    await approved(db, 2026, "MORAI", "Làm rào chắn và biển báo ở bến sông")
    await approved(db, 2026, "MORAI", "lam rao chan va bien bao o ben song", update_id=2)
    assert await Compiling(db, Moderation(db, (), set())).auto(0, 2026) == Compiled(1, 2, 0)
    out = tmp_path / "morai.csv"
    await export(db, config, load_catalog(config), ExportQuery(districts=("MORAI",)), "csv", out)
    book = tmp_path / "morai.xlsx"
    await export(db, config, load_catalog(config), ExportQuery(districts=("MORAI",)), "xlsx",
                 book)
    await db.close()
    rows = list(csv.DictReader(io.StringIO(out.read_text(encoding="utf-8-sig"))))
    assert rows[0]["Xã, phường"] == "Xã Mô Rai" and rows[0]["Mã kiến nghị"] == "MORAI-0001"
    sheet = openpyxl.load_workbook(book)["Kiến nghị chung"]
    headers = [cell.value for row in sheet.iter_rows(max_row=5) for cell in row]
    assert "Xã, phường" in headers and "Huyện, thành phố" not in headers, headers


async def test_the_2023_districts_stay_in_the_records_of_a_commune_config(tmp_path: Path) -> None:
    """Since July 2025 forums are held by commune; the 2023 plan's districts are not areas of a
    forum any more, but their proposals' follow-up is still made by district, by name."""
    config = load_config(ROOT / "config.communes.example.toml").with_database(
        tmp_path / "forum.sqlite3")
    assert config.district("DHA") is None  # no forum is held in a district now
    assert config.area("DHA") is not None and config.area("DHA").name == "Huyện Đắk Hà"
    db = await open_database(config.database)
    try:
        await approved(db, 2023, "DHA", "Rào chắn suối")
        out = io.BytesIO()
        written = await followup_export(db, config, load_catalog(config), ("DHA",), 2019,
                                        2026, "xlsx", out)
    finally:
        await db.close()
    assert written == 1
    # An earlier forum's recommendation imported by its district's name, as the template
    # writes it: known.
    from bot.answers.imports import AnswerSheets

    sheets = AnswerSheets(cast(Any, None), config, load_catalog(config))
    assert sheets._district("Huyện Đắk Hà") == "DHA"
    rows = list(openpyxl.load_workbook(io.BytesIO(out.getvalue()))["Theo dõi kiến nghị"]
                .iter_rows(values_only=True))
    row = next(r for r in rows if "DHA-0001" in r)
    assert any(isinstance(cell, str) and "Huyện Đắk Hà" in cell for cell in row), row


def test_staff_of_a_commune_config_may_be_given_a_former_district(tmp_path: Path) -> None:
    """The 2023 districts are no forum's areas now, but their proposals are still answered and
    published: a scope may name them. A code that names no area is refused in a few words
    that name it, with the nearest code, not the whole list."""
    text = (ROOT / "config.communes.example.toml").read_text(encoding="utf-8").replace(
        'file = "docs/', f'file = "{ROOT}/docs/')
    path = tmp_path / "config.toml"
    path.write_text(text + '\n[[staff]]\nuser_id = 9004\nrole = "officer"\n'
                    'districts = ["DHA", "MORAI"]\n', encoding="utf-8")
    config = load_config(path)
    assert [m.scope.districts for m in config.staff if m.user_id == 9004] == [
        frozenset({"DHA", "MORAI"})]
    assert {"DHA", "STH", "MORAI"} <= config.area_codes
    path.write_text(text + '\n[[staff]]\nuser_id = 9004\nrole = "officer"\n'
                    'districts = ["DHX"]\n', encoding="utf-8")
    with pytest.raises(ConfigError) as error:
        load_config(path)
    said = str(error.value)
    assert "[staff[2].districts] unknown area code(s) DHX (did you mean DHA?)" in said, said


def _paragraphs(path: Path) -> list[str]:
    return [p.text for p in docx.Document(str(path)).paragraphs]


def _by_area(lines: list[str]) -> dict[str, int]:
    """The report's "Theo đơn vị" lines: {area: proposals}."""
    start = lines.index("Theo đơn vị:") + 1
    found = {}
    for line in lines[start:]:
        if not line.startswith("- ") or "kiến nghị" not in line:
            break
        name, count = line[2:].rsplit(": ", 1)
        found[name] = int(count.split()[0])
    return found


async def test_a_report_on_2023_from_a_commune_config_follows_2023s_districts(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The 2023 forum was held by district: a report on it, made from a commune config, speaks
    of that year's level, province and districts; every proposal's area is listed (a 2026
    proposal filed under a district too), and the totals by area add up."""
    monkeypatch.setenv("CHILDFORUM_PSEUDONYM_KEY", "a-long-enough-secret-key")
    config = load_config(ROOT / "config.communes.example.toml").with_database(
        tmp_path / "forum.sqlite3")
    db = await open_database(config.database)
    for update_id, (year, area) in enumerate(((2023, "DHA"), (2023, "DHA"), (2023, "STH"),
                                              (2026, "MORAI"), (2026, "DHA")), 1):
        await approved(db, year, area, f"Kiến nghị {update_id}", update_id)
    catalog = load_catalog(config)
    files = {name: tmp_path / name for name in ("2023.docx", "2023.xlsx", "2026.docx",
                                                 "all.csv")}
    try:
        for name, query in (("2023.docx", ExportQuery(forum_year=2023)),
                            ("2023.xlsx", ExportQuery(forum_year=2023)),
                            ("2026.docx", ExportQuery(forum_year=2026)),
                            ("all.csv", ExportQuery())):
            await export(db, config, catalog, query, name.split(".")[1], files[name])  # type: ignore[arg-type]
    finally:
        await db.close()

    report = _paragraphs(files["2023.docx"])
    title = ("Tổng hợp kiến nghị, thông điệp của trẻ em tại Diễn đàn trẻ em cấp huyện trên địa"
             " bàn tỉnh Kon Tum năm 2023")
    assert title in report, report[:6]
    assert "cấp xã" not in "\n".join(report)
    assert _by_area(report) == {"Huyện Đắk Hà": 2, "Huyện Sa Thầy": 1}
    assert not any("Các đơn vị còn lại" in line for line in report)

    book = openpyxl.load_workbook(files["2023.xlsx"])
    rows = [row for row in book["Tổng hợp"].iter_rows(values_only=True)]
    assert rows[1][:2] == ("Đơn vị:", "Huyện Đắk Hà, Huyện Sa Thầy")
    assert rows[2][:2] == ("Thời gian:", "Năm diễn đàn 2023")  # not "toàn bộ": one year
    totals = [row[-1] for row in rows if row[1] == "Tổng cộng"]
    assert totals == [3, 3], rows  # by topic, by area
    assert any(row[1] == "Huyện, thành phố" for row in rows), rows
    sheet = next(s for s in book.worksheets if s.title.startswith("2."))
    assert [cell.value for cell in sheet[1]][2] == "Huyện, thành phố"

    report = _paragraphs(files["2026.docx"])
    assert any("Diễn đàn trẻ em cấp xã trên địa bàn tỉnh Quảng Ngãi năm 2026" in line
               for line in report)
    by_area = _by_area(report)
    assert {name: n for name, n in by_area.items() if n} == {"Xã Mô Rai": 1, "Huyện Đắk Hà": 1}
    assert list(by_area)[-1] == "Huyện Đắk Hà", by_area  # after the year's communes
    said = next(line for line in report if line.startswith("Tổng số kiến nghị"))
    assert said.endswith(f": {sum(by_area.values())}, gồm:"), said

    every = list(csv.DictReader(io.StringIO(files["all.csv"].read_text(encoding="utf-8-sig"))))
    assert sorted((row["Năm diễn đàn"], row["Đơn vị hành chính"]) for row in every) == [
        ("2023", "Huyện Sa Thầy"), ("2023", "Huyện Đắk Hà"), ("2023", "Huyện Đắk Hà"),
        ("2026", "Huyện Đắk Hà"), ("2026", "Xã Mô Rai")]
    assert (config.level_in(2023), [a.code for a in config.areas_in(2023)]) == (
        "district", ["DHA", "STH"])


async def test_a_communes_report_is_dated_at_its_place_without_the_unit_word(
        tmp_path: Path) -> None:
    """The national list gives no place (Địa danh): a commune's, a ward's, a special zone's
    and the province's are their names without "Xã", "Phường", "Đặc khu", "Tỉnh"."""
    areas = tmp_path / "areas.csv"
    areas.write_text("Mã;Tên;Tên tiếng Anh;Cấp;Mã cấp trên;Hiệu lực từ\n"
                     "QNG;Tỉnh Quảng Ngãi;Quang Ngai Province;Tỉnh;;\n"
                     "MORAI;Xã Mô Rai;Mo Rai Commune;Xã;QNG;01/07/2025\n"
                     "PKONTUM;Phường Kon Tum;Kon Tum Ward;Phường;QNG;01/07/2025\n"
                     "LYSON;Đặc khu Lý Sơn;Ly Son Special Zone;Đặc khu;QNG;01/07/2025\n",
                     encoding="utf-8")
    text = (ROOT / "config.communes.example.toml").read_text(encoding="utf-8")
    path = tmp_path / "config.toml"
    path.write_text(text.replace('file = "docs/areas/quang-ngai-example.csv"',
                                 f'file = "{areas}"').replace(
        'districts = ["DLONG", "MORAI", "IADAL"]', 'districts = ["MORAI"]'), encoding="utf-8")
    config = load_config(path).with_database(tmp_path / "forum.sqlite3")
    db = await open_database(config.database)
    catalog = load_catalog(config)
    dated = {}
    try:
        for codes in (("MORAI",), ("PKONTUM",), ("LYSON",), None):
            out = tmp_path / f"{codes}.docx"
            await export(db, config, catalog, ExportQuery(districts=codes), "docx", out)
            dated[codes[0] if codes else "all"] = docx.Document(str(out)).tables[0].cell(
                1, 1).text
    finally:
        await db.close()
    assert dated == {"MORAI": "Mô Rai, ngày    tháng    năm 2026",
                     "PKONTUM": "Kon Tum, ngày    tháng    năm 2026",
                     "LYSON": "Lý Sơn, ngày    tháng    năm 2026",
                     "all": "Quảng Ngãi, ngày    tháng    năm 2026"}
    from bot.answers.imports import AnswerSheets  # an answers sheet names it so too

    sheets = AnswerSheets(cast(Any, None), config, catalog)
    assert [sheets._district(name) for name in ("Lý Sơn", "Mô Rai")] == ["LYSON", "MORAI"]


async def test_a_report_is_issued_by_a_body_of_the_year_it_is_dated(tmp_path: Path) -> None:
    """Huyện Đắk Hà was abolished on 1 July 2025: its follow-up written in 2026 is the
    province's; its 2023 reports are its own, addressed to its parent of 2023 (Tỉnh Kon Tum),
    not to the config's [report] recipient, and the config's forum facts (of 2026) are not
    2023's."""
    text = (ROOT / "config.communes.example.toml").read_text(encoding="utf-8").replace(
        'file = "docs/', f'file = "{ROOT}/docs/').replace(
        'forum_date = ""', 'forum_date = "02/6/2026"')
    path = tmp_path / "config.toml"
    path.write_text(text + '\n[report.areas.DHA]\nforum_place = "Hội trường huyện Đắk Hà"\n',
                    encoding="utf-8")
    config = load_config(path).with_database(tmp_path / "forum.sqlite3")
    db = await open_database(config.database)
    await approved(db, 2023, "DHA", "Rào chắn suối", 1)
    await approved(db, 2026, "MORAI", "Dạy bơi", 2)
    catalog = load_catalog(config)
    out = {name: tmp_path / f"{name}.docx" for name in ("followup", "followup-2023", "dha-2023",
                                                         "morai")}
    try:
        await followup_export(db, config, catalog, ("DHA",), 2019, 2026, "docx",
                              out["followup"])
        await followup_export(db, config, catalog, ("DHA",), 2019, 2023, "docx",
                              out["followup-2023"])
        await export(db, config, catalog, ExportQuery(("DHA",), forum_year=2023), "docx",
                     out["dha-2023"])
        await export(db, config, catalog, ExportQuery(("MORAI",)), "docx", out["morai"])
    finally:
        await db.close()

    def read(name: str) -> tuple[str, str, str]:
        document = docx.Document(str(out[name]))
        head = document.tables[0]
        return (" ".join(head.cell(0, 0).text.split()), head.cell(1, 1).text,
                "\n".join(p.text for p in document.paragraphs))

    issuer, dated, body = read("followup")
    assert (issuer, dated) == ("ỦY BAN NHÂN DÂN TỈNH QUẢNG NGÃI",
                               "Quảng Ngãi, ngày    tháng    năm 2026")
    assert "các Diễn đàn trẻ em huyện Đắk Hà từ năm 2019 đến năm 2026" in body
    assert "Kính gửi: Bộ Y tế." in body and "HUYỆN ĐẮK HÀ" not in issuer

    issuer, dated, body = read("followup-2023")
    assert (issuer, dated) == ("ỦY BAN NHÂN DÂN HUYỆN ĐẮK HÀ",
                               "Đắk Hà, ngày    tháng    năm 2023")
    assert "Kính gửi: Ủy ban nhân dân tỉnh Kon Tum." in body

    issuer, dated, body = read("dha-2023")
    assert issuer == "ỦY BAN NHÂN DÂN HUYỆN ĐẮK HÀ"
    assert "Kính gửi: Ủy ban nhân dân tỉnh Kon Tum." in body
    assert "Quảng Ngãi" not in body
    assert ("Diễn đàn trẻ em huyện Đắk Hà năm 2023 được tổ chức ngày … tại Hội trường huyện"
            " Đắk Hà") in body  # 2026's date is not 2023's; the district's own place is

    issuer, dated, body = read("morai")
    assert issuer == "ỦY BAN NHÂN DÂN XÃ MÔ RAI"
    assert "Kính gửi: Ủy ban nhân dân tỉnh Quảng Ngãi." in body
    assert "năm 2026 được tổ chức ngày 02/6/2026" in body
