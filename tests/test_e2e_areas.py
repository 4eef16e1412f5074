"""A forum held by communes, end to end: the real bot process with config.communes.example.toml,
the simulator, a real SQLite file. The child types part of their commune's name."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from bot.simulator import BotApiSimulator
from tests.e2e import Child, running_bot, texts, write_config
from tests.stores import query

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture
async def commune_bot(simulator: BotApiSimulator, tmp_path: Path) -> AsyncIterator[Path]:
    database = tmp_path / "forum.sqlite3"
    config = write_config(tmp_path / "config.toml", simulator, database,
                          example="config.communes.example.toml")
    async with running_bot(simulator, config):
        yield database


async def test_a_child_of_a_commune_sends_a_proposal(simulator: BotApiSimulator,
                                                     commune_bot: Path) -> None:
    child = Child(simulator, 801)
    await child.say("/start")
    await child.tap("Em đồng ý")
    await child.tap("Có, đã đồng ý")
    assert "Em sống ở xã, phường nào?" in texts(await child.tap("Tiếng Việt"))
    for label in ("Xã Mô Rai", "10-12", "Em không muốn nói"):
        await child.tap(label)
    await child.answer_topic("2.", "Suối sâu gần trường", "Làm rào chắn ở suối", "Xã")
    assert "MORAI-0001" in texts(await child.tap("✅"))
    assert query(commune_bot, "SELECT district, forum_year FROM proposals") == [("MORAI", 2026)]


async def test_among_120_communes_a_child_types_part_of_the_name(
        simulator: BotApiSimulator, tmp_path: Path) -> None:
    rows = ["code,name,name_en,level,parent,valid_from"]
    rows += [f"X{n:03d},Xã Thử {n:03d},Test Commune {n:03d},commune,QNG,2025-07-01"
             for n in range(117)]
    rows += ["MORAI,Xã Mô Rai,Mo Rai Commune,commune,QNG,2025-07-01",
             "DLONG,Xã Đăk Long,Dak Long Commune,commune,QNG,2025-07-01",
             "IADAL,Xã Ia Đal,Ia Dal Commune,commune,QNG,2025-07-01"]
    areas = tmp_path / "areas.csv"
    areas.write_text("\n".join(rows) + "\n", encoding="utf-8")
    config = write_config(tmp_path / "config.toml", simulator, tmp_path / "forum.sqlite3",
                          example="config.communes.example.toml",
                          changes={f'"{ROOT}/docs/areas/quang-ngai-example.csv"': f'"{areas}"'})
    async with running_bot(simulator, config):
        child = Child(simulator, 802)
        await child.say("/start")
        await child.tap("Em đồng ý")
        await child.tap("Có, đã đồng ý")
        asked = (await child.tap("Tiếng Việt"))[-1]
        assert "Có 120 nơi" in asked.plain and "1/15" in [b for b, _ in asked.buttons()]
        await child.tap("▶")  # the page turns on the same message
        assert child.latest_keyboard().buttons()[0][0] == "Xã Thử 008"
        found = texts(await child.say("ra"))  # the start of a word: the places to pick from
        assert "Có 1 nơi khớp với “ra”" in found
        assert "Em bao nhiêu tuổi?" in texts(await child.tap("Xã Mô Rai"))


# A forum of 29 communes and wards, as a tester's config had (more than a page: a search).
COMMUNES_29 = (
    "DLONG,Xã Đăk Long", "MORAI,Xã Mô Rai", "IADAL,Xã Ia Đal", "ROKOI,Xã Rờ Kơi",
    "BAXA,Xã Ba Xa", "TKHE,Xã Tịnh Khê", "APHU,Xã An Phú", "BSON,Xã Bình Sơn",
    "VTUONG,Xã Vạn Tường", "TGIANG,Xã Trường Giang", "IAHDRAI,Xã Ia H'Drai", "DAKHA,Xã Đăk Hà",
    "SATHAY,Xã Sa Thầy", "BATO,Xã Ba Tơ", "BATO2,Xã Ba Tô", "BAVI,Xã Ba Vì", "BADINH,Xã Ba Dinh",
    "MLONG,Xã Minh Long", "SONHA,Xã Sơn Hà", "SONTAY,Xã Sơn Tây", "TRABONG,Xã Trà Bồng",
    "KONPLONG,Xã Kon Plông", "PKONTUM,Phường Kon Tum", "PDAKBLA,Phường Đăk Bla",
    "PDUCPHO,Phường Đức Phổ", "PSAHUYNH,Phường Sa Huỳnh", "PNGHLO,Phường Nghĩa Lộ",
    "PCAMTH,Phường Cẩm Thành", "LYSON,Đặc khu Lý Sơn")


def communes_29(simulator: BotApiSimulator, tmp_path: Path) -> Path:
    """A config held by the 29 communes above, beside the 2023 districts (for their records)."""
    rows = ["code,name,name_en,level,parent,valid_from,valid_to",
            "DHA,Huyện Đắk Hà,Dak Ha District,district,KTU,,2025-06-30"]
    rows += [f"{line},{line.split(',')[1]},commune,QNG,2025-07-01," for line in COMMUNES_29]
    areas = tmp_path / "areas.csv"
    areas.write_text("\n".join(rows) + "\n", encoding="utf-8")
    return write_config(tmp_path / "communes.toml", simulator, tmp_path / "forum.sqlite3",
                        example="config.communes.example.toml",
                        changes={f'"{ROOT}/docs/areas/quang-ngai-example.csv"': f'"{areas}"'})


async def test_a_number_typed_picks_among_the_places_shown(simulator: BotApiSimulator,
                                                           tmp_path: Path) -> None:
    """A tester typed "ba", saw five buttons, typed "2" and was registered in Mô Rai, the 2nd
    of all 29; "29" at the first screen picked Lý Sơn, from a list the child never saw."""
    async with running_bot(simulator, communes_29(simulator, tmp_path)):
        child = Child(simulator, 803)
        await child.say("/start")
        await child.tap("Em đồng ý")
        await child.tap("Có, đã đồng ý")
        await child.tap("Tiếng Việt")
        missed = texts(await child.say("29"))  # the first page shows 8, unnumbered
        assert "gõ vài chữ trong tên" in missed and "Em bao nhiêu tuổi?" not in missed
        found = (await child.say("ba"))[-1]
        assert [label for label, _ in found.buttons()][:5] == [
            "Xã Ba Xa", "Xã Ba Tơ", "Xã Ba Tô", "Xã Ba Vì", "Xã Ba Dinh"]
        picked = texts(await child.say("2"))
        assert "✓ Xã Ba Tơ" in picked and "Em bao nhiêu tuổi?" in picked
    assert query(tmp_path / "forum.sqlite3", "SELECT district FROM children") == [("BATO",)]


async def test_export_in_chat_speaks_of_communes(simulator: BotApiSimulator,
                                                 commune_bot: Path) -> None:
    """Forums held by commune: /export asks for the commune, not a district that is no more."""
    simulator.add_chat(123456789, "private")  # the example's admin
    admin = Child(simulator, 123456789)
    menu = texts(await admin.say("/export"))
    assert "Chọn xã, phường:" in menu and "huyện" not in menu.lower()
    assert "🗂 Tất cả xã, phường của bạn" in [label for label, _ in
                                              admin.latest_keyboard().buttons()]


async def test_a_child_of_2023_comes_back_to_a_forum_held_by_commune(simulator: BotApiSimulator,
                                                                      tmp_path: Path) -> None:
    """Registered in 2023 in Huyện Đắk Hà (a district until 30 June 2025), a child came back
    in 2026: /start went to the topics and the new proposal became DHA-0004 of 2026, which no
    commune's moderator saw. Now the place is asked again first; the 2023 proposal stays."""
    database = tmp_path / "forum.sqlite3"
    child = Child(simulator, 804)
    async with running_bot(simulator, write_config(tmp_path / "2023.toml", simulator, database)):
        await child.register("Huyện Đắk Hà")
        await child.answer_topic("2.", "Suối sâu gần trường", "Làm rào chắn ở suối", "Xã")
        assert "DHA-0001" in texts(await child.tap("✅"))
    async with running_bot(simulator, communes_29(simulator, tmp_path)):
        assert "111" in texts(await child.say("/sos"))  # help first, wherever the child is
        back = texts(await child.say("/start"))
        assert "danh sách nơi ở mới" in back and "Em sống ở xã, phường nào?" in back
        assert "chủ đề nào" not in back
        picked = texts(await child.say("mo rai"))
        assert "✓ Xã Mô Rai" in picked and "Em muốn góp ý về chủ đề nào?" in picked
        await child.answer_topic("2.", "Đường trơn khi mưa", "Làm đường bê tông tới trường",
                                 "Xã")
        assert "MORAI-0001" in texts(await child.tap("✅"))
    assert query(database, "SELECT ref, district, forum_year FROM proposals ORDER BY id") == [
        ("DHA-0001", "DHA", 2023), ("MORAI-0001", "MORAI", 2026)]
    assert query(database, "SELECT district, age_band FROM children") == [("MORAI", "10-12")]
    # The call for help made before the place was said is the place's, once said.
    assert query(database, "SELECT district FROM cases") == [("MORAI",)]


async def test_an_officer_is_given_a_former_district_to_answer_its_proposals(
        simulator: BotApiSimulator, tmp_path: Path) -> None:
    """A commune config: /grant to an old district (its 2023 proposals are answered still)
    works; a code that names no area is refused in the admin's language, naming the code and
    the nearest one, not listing every area."""
    from storage import proposals
    from storage.db import open_database

    database = tmp_path / "forum.sqlite3"

    async def seed() -> None:  # a 2023 proposal of the district, approved
        db = await open_database(database)
        async with db.transaction() as tx:
            await proposals.insert(tx, proposals.NewProposal(
                chat_id=None, forum_year=2023, district="DHA", topic="injuries",
                age_band="10-12", gender="female", seen="", proposal="Rào chắn ở bến sông",
                actors="commune", message="", lang="vi", needs_translation=False,
                source_update_id=1))
            await tx.execute("UPDATE proposals SET status = 'approved'")
        await db.close()

    await seed()
    config = write_config(tmp_path / "config.toml", simulator, database,
                          example="config.communes.example.toml")
    async with running_bot(simulator, config):
        for user_id in (123456789, 9004):
            simulator.add_chat(user_id, "private")
        admin, officer = Child(simulator, 123456789), Child(simulator, 9004)
        wrong = texts(await admin.say("/grant 9004 officer DHX"))
        assert wrong == ("Chưa cấp quyền: không có địa bàn mã DHX. Gõ mã như trong danh sách"
                         " địa bàn của cấu hình (kể cả địa bàn của các năm trước, như huyện"
                         " cũ), hoặc all cho cả tỉnh. Có phải DHA?"), wrong
        role = texts(await admin.say("/grant 9004 chief DHA"))
        assert role.startswith("Chưa cấp quyền: không có vai trò «chief».") and "must" not in role
        granted = texts(await admin.say("/grant 9004 officer DHA"))
        assert "Đã cấp quyền" in granted and "Huyện Đắk Hà" in granted, granted
        card = texts(await officer.say("/answer DHA-0001"))
        assert "Rào chắn ở bến sông" in card and "ngoài phạm vi" not in card, card


async def test_stats_and_staff_texts_of_a_commune_forum_keep_each_year_apart(
        simulator: BotApiSimulator, tmp_path: Path) -> None:
    """/stats counts one forum year in its own words (the commune forum's by default, the 2023
    districts' with /stats 2023) and names the other years; the staff's and the children's
    texts and the command menu speak of communes and wards, not of districts."""
    from storage.db import open_database
    from tests.test_areas import approved

    database = tmp_path / "forum.sqlite3"
    db = await open_database(database)
    for update_id, (year, area) in enumerate(((2023, "DHA"), (2023, "DHA"), (2023, "STH"),
                                              (2026, "MORAI")), 1):
        await approved(db, year, area, f"Kiến nghị số {update_id}", update_id)
    await db.close()
    config = write_config(tmp_path / "config.toml", simulator, database,
                          example="config.communes.example.toml")
    admin, moderator = 123456789, 234567890  # the example's: the province; three communes
    async with running_bot(simulator, config):
        simulator.send_text(admin, "/stats")
        stats, chart = await simulator.wait_for_messages(admin, 2, timeout=30)
        assert chart.kind == "photo" and chart.plain == (
            "Biểu đồ ý kiến theo xã, phường và chủ đề, năm 2026")
        said = stats.plain
        assert "Thống kê diễn đàn năm 2026" in said and "Tổng: 1 (trẻ em: 1" in said
        assert "Năm khác: 2023 (3 ý kiến). Xem một năm: /stats 2023" in said
        assert "Theo xã, phường × chủ đề × trạng thái" in said and "• Xã Mô Rai · " in said
        assert "huyện" not in said.lower()

        simulator.send_text(admin, "/stats 2023")
        earlier = (await simulator.wait_for_messages(admin, 2, timeout=30))[0].plain
        assert "Thống kê diễn đàn năm 2023" in earlier and "Tổng: 3 (trẻ em: 3" in earlier
        assert "Theo huyện × chủ đề × trạng thái" in earlier and "• Huyện Đắk Hà · " in earlier
        assert "Mô Rai" not in earlier and "Năm khác: 2026 (1 ý kiến)" in earlier
        person = Child(simulator, admin)
        person.sim.new_messages(admin)  # what came before is read
        assert "Cách dùng: /stats" in texts(await person.say("/stats năm"))

        simulator.add_chat(moderator, "private")
        queue = texts(await Child(simulator, moderator).say("/queue"))
        assert "ở các xã, phường của bạn" in queue and "huyện" not in queue

        child = Child(simulator, 811)
        await child.say("/start")
        await child.tap("Em đồng ý")
        await child.tap("Có, đã đồng ý")
        await child.tap("Tiếng Việt")
        helped = texts(await child.say("/help"))
        assert "/profile – đổi xã, phường, tuổi, ngôn ngữ" in helped and "huyện" not in helped
        default = '{"type": "default"}'  # the command menu by language: Vietnamese, English
        menus = {lang: {c["command"]: c["description"]
                        for c in simulator.commands_by_scope[default, lang]} for lang in ("", "en")}
        assert (menus[""]["profile"], menus["en"]["profile"]) == (
            "Đổi xã, phường, tuổi, ngôn ngữ", "Change commune or ward, age, language")
