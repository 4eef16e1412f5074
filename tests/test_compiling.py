"""Compiling: proposals that ask for the same thing become one recommendation; an officer
reviews it; the report and the spreadsheet show it once. On SQLite and PostgreSQL."""

from __future__ import annotations

import csv
import io
import tracemalloc
from collections import defaultdict
from collections.abc import AsyncIterator
from dataclasses import replace
from datetime import date
from pathlib import Path

import docx
import openpyxl
import pytest

from bot.compiling import service as service_module
from bot.compiling.grouping import NEIGHBOURS, group, nearest, similarities, vectors
from bot.compiling.service import Changed, Compiled, Compiling, default_title, forget_words
from bot.config import Config, load_config
from bot.conversation.catalog import Catalog, load_catalog
from bot.exports import ExportQuery, export
from bot.exports.xlsx_export import NO_RECOMMENDATION
from bot.staff.moderation import Moderation, Refused
from bot.staff.roles import Scope, StaffMember
from storage import children, proposals, recommendations
from storage.children import ChildRow
from storage.db import Database, open_database
from storage.recommendations import Recommendation
from tests.command_line import Ran
from tests.command_line import childforum as command_line
from tests.recombined import recombined
from tests.stores import Target, query

ROOT = Path(__file__).resolve().parents[1]
DATA = Path(__file__).parent / "data" / "grouping"
OFFICER, OFFICER_KTM = 21, 22
STAFF = (StaffMember(OFFICER, "officer", Scope.of({"DHA"})),
         StaffMember(OFFICER_KTM, "officer", Scope.of({"KTM"})))
RIVER = ("Em đề nghị xã làm rào chắn và cắm biển báo ở bến sông để các bạn không bị đuối nước",
         "de nghi lam rao chan o ben song va cam bien bao nguy hiem",
         "Xã nên làm hàng rào ở bờ sông chỗ nước sâu, có biển cảnh báo cho tụi em",
         "mong xa lam rao chan ben song nha, nuoc sau lam")
SWIM = ("Em mong nhà trường mở lớp dạy bơi miễn phí cho học sinh vào mùa hè",
        "truong nen day boi cho hs vao he")
HELMET = "Bố mẹ phải đội mũ bảo hiểm cho con khi chở đi học"


def test_the_same_request_groups_whatever_the_spelling() -> None:
    texts = [*RIVER, *SWIM, HELMET]
    found = group(texts)
    assert [0, 1, 2, 3] in found and [4, 5] in found and [6] in found


def test_each_text_keeps_its_strongest_links_of_all_the_pairs() -> None:
    """`nearest` works text by text; it must keep what ranking every pair at once keeps: each
    text's NEIGHBOURS strongest links (ties by the pair's numbers), the same floats."""
    texts = [*(item["text"] for item in _load(DATA / "dev")[0]), *recombined(600, "violence")]
    everything = similarities(vectors(texts))
    near: dict[int, list[tuple[float, int, int]]] = defaultdict(list)
    for (i, j), value in everything.items():
        near[i].append((value, i, j))
        near[j].append((value, i, j))
    kept = {(i, j): value for links in near.values()
            for value, i, j in sorted(links, reverse=True)[:NEIGHBOURS]}
    assert len(kept) < len(everything) / 2
    assert nearest(vectors(texts), NEIGHBOURS) == kept


def test_grouping_holds_the_links_it_keeps_not_every_pair() -> None:
    """500 near-duplicates share about 50,000 pairs: held at once, 12 times the memory of their
    vectors; grouping needs about 3 times it."""
    texts = recombined(500)
    tracemalloc.start()
    try:
        held = vectors(texts)
        size = tracemalloc.get_traced_memory()[0]
        del held
        tracemalloc.reset_peak()
        group(texts)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert peak < 5 * size, (peak, size)


def _load(folder: Path) -> tuple[list[dict[str, str]], list[tuple[str, str, int]]]:
    with (folder / "proposals.tsv").open(encoding="utf-8") as file:
        items = list(csv.DictReader(file, delimiter="\t", quoting=csv.QUOTE_NONE))
    with (folder / "pairs.tsv").open(encoding="utf-8") as file:
        pairs = [(r["a"], r["b"], int(r["same"])) for r in csv.DictReader(file, delimiter="\t")]
    return items, pairs


def precision_recall(folder: Path) -> tuple[float, float]:
    """Of the pairs judged "same": how many the grouping put together (recall); of the pairs
    it put together, how many are judged "same" (precision). One topic at a time."""
    items, pairs = _load(folder)
    by_topic = defaultdict(list)
    for item in items:
        by_topic[item["topic"]].append(item)
    label = {}
    for topic, found in by_topic.items():
        for number, indexes in enumerate(group([item["text"] for item in found])):
            for index in indexes:
                label[found[index]["id"]] = (topic, number)
    together = [(label[a] == label[b], same) for a, b, same in pairs]
    hits = sum(1 for put, same in together if put and same)
    return hits / sum(1 for put, _ in together if put), hits / sum(s for _, s in together)


@pytest.mark.parametrize(("folder", "floor"), [
    ("dev", (0.85, 0.53)),  # tuned on: threshold, features, the concept list
    ("heldout", (0.79, 0.40)),  # held out at first, tuned on since (docs/compiling.md)
    ("heldout_v3", (0.79, 0.48)),  # never tuned on: written, then measured once before and after
])
def test_figures_on_the_two_sets(folder: str, floor: tuple[float, float]) -> None:
    precision, recall = precision_recall(DATA / folder)
    assert precision >= floor[0] and recall >= floor[1], (precision, recall)


@pytest.fixture
async def db(target: Target) -> AsyncIterator[Database]:
    database = await open_database(target)
    async with database.transaction() as tx:
        await children.save(tx, ChildRow(7001, "DHA", "10-12", "female", "vi", "{}"))
        await children.save(tx, ChildRow(7002, "DHA", "13-15", "male", "vi", "{}"))
        for number, text in enumerate((*RIVER, *SWIM, HELMET)):
            await proposals.insert(tx, proposals.NewProposal(
                chat_id=7001 + number % 2, forum_year=2023, district="DHA", topic="injuries",
                age_band=("10-12", "13-15")[number % 2], gender=("female", "male")[number % 2],
                seen="Sông sâu", proposal=text, actors="commune", message="", lang="vi",
                needs_translation=False, source_update_id=900 + number))
        await tx.execute("UPDATE proposals SET status = 'approved'")
    yield database
    await database.close()


async def test_auto_then_an_officer_reviews(db: Database, target: Target) -> None:
    service = Compiling(db, Moderation(db, STAFF, {"DHA", "KTM"}))
    assert await service.auto(OFFICER_KTM, 2023, "DHA") == Refused("forbidden")
    assert await service.auto(999, 2023) == Refused("not_staff")
    done = await service.auto(OFFICER, 2023)
    assert done == Compiled(created=2, grouped=6, alone=1)
    assert await service.auto(OFFICER, 2023) == Compiled(0, 0, 1)  # nothing new to group
    found = await service.overview(OFFICER, 2023, "DHA")
    assert isinstance(found, list)
    river, swim = sorted(found, key=lambda r: -len(r.members))
    assert [m.ref for m in river.members] == ["DHA-0001", "DHA-0002", "DHA-0003", "DHA-0004"]
    assert river.title in RIVER  # worded as its most typical proposal until named
    named = await service.name(OFFICER, river.id, "Làm rào chắn,  biển báo ở các bến sông")
    assert isinstance(named, Changed) and named.recommendation is not None
    assert named.recommendation.title == "Làm rào chắn, biển báo ở các bến sông"
    assert await service.name(OFFICER_KTM, river.id, "x") == Refused("forbidden")
    moved = await service.move(OFFICER, "DHA-0004", swim.id)
    assert isinstance(moved, Changed) and moved.recommendation is not None
    assert [m.ref for m in moved.recommendation.members] == ["DHA-0004", "DHA-0005", "DHA-0006"]
    assert await service.merge(OFFICER, river.id, river.id) == Refused("invalid", "itself")
    for alone in (["DHA-0005"], ["DHA-0005", "dha-0005 "], [" ", ""]):  # one ref is `move out`
        assert await service.split(OFFICER, alone) == Refused("invalid", "two_or_more"), alone
    assert await service.name(OFFICER, river.id, "x" * 301) == Refused("invalid",
                                                                       "title_length")
    merged = await service.merge(OFFICER, river.id, swim.id)
    assert isinstance(merged, Changed) and merged.recommendation is not None
    assert len(merged.recommendation.members) == 6
    assert query(target, "SELECT count(*) FROM recommendations") == [(1,)]  # the empty one gone
    split = await service.split(OFFICER, ["DHA-0005", "DHA-0006"])
    assert isinstance(split, Changed) and split.recommendation is not None
    assert [m.ref for m in split.recommendation.members] == ["DHA-0005", "DHA-0006"]
    out = await service.move(OFFICER, "DHA-0007", None)
    assert isinstance(out, Changed) and out.recommendation is None
    actions = [row[0] for row in query(target, "SELECT action FROM audit_log WHERE item_type ="
                                               " 'recommendation' ORDER BY id")]
    assert actions == ["compile", "compile", "name", "move", "merge", "split", "move"]


async def test_no_recommendation_keeps_the_words_of_an_erased_proposal(
        db: Database, target: Target) -> None:
    """A recommendation worded as a proposal keeps that wording when the proposal is moved out
    or split off; once its child erases everything, no recommendation holds the words."""
    service = Compiling(db, Moderation(db, STAFF, {"DHA", "KTM"}))
    await service.auto(OFFICER, 2023)
    found = await service.overview(OFFICER, 2023, "DHA")
    assert isinstance(found, list)
    river = max(found, key=lambda r: len(r.members))
    author = next(m for m in river.members if default_title([m]) == river.title)
    assert author.chat_id is not None
    moved = await service.move(OFFICER, author.ref, None)  # out on its own
    assert isinstance(moved, Changed)
    assert (river.title,) in query(target, "SELECT title FROM recommendations")
    async with db.transaction() as tx:
        compiled = await recommendations.of_chat(tx, author.chat_id)
        assert author.ref in [m.ref for m in compiled]
        await children.erase(tx, author.chat_id)
        await forget_words(tx, compiled)
    titles = [title for (title,) in query(target, "SELECT title FROM recommendations")]
    assert river.title not in titles and len(titles) == 2
    left = await service.overview(OFFICER, 2023, "DHA")
    assert isinstance(left, list)
    assert all(r.title == default_title(r.members) for r in left)  # worded as what it holds


async def test_a_recommendation_holds_one_forum_years_proposals(db: Database,
                                                                  target: Target) -> None:
    """move and split refuse to mix forum years, as merge does: a recommendation is one
    forum's."""
    service = Compiling(db, Moderation(db, STAFF, {"DHA", "KTM"}))
    await service.auto(OFFICER, 2023)
    found = await service.overview(OFFICER, 2023, "DHA")
    assert isinstance(found, list)
    river = max(found, key=lambda r: len(r.members))
    async with db.transaction() as tx:  # two proposals are of the next year's forum
        await tx.execute("UPDATE proposals SET forum_year = 2024"
                         " WHERE ref IN ('DHA-0006', 'DHA-0007')")
    assert await service.move(OFFICER, "DHA-0007", river.id) == Refused("invalid", "same_area")
    assert await service.split(OFFICER, ["DHA-0001", "DHA-0007"]) == Refused("invalid",
                                                                           "same_area")
    later = await service.split(OFFICER, ["DHA-0006", "DHA-0007"])
    assert isinstance(later, Changed) and later.recommendation is not None
    assert later.recommendation.forum_year == 2024  # the year of what it holds


async def test_auto_groups_again_what_changed_since_it_was_planned(db: Database,
                                                                    target: Target) -> None:
    """The grouping is worked out from a snapshot without the write lock; if the proposals
    changed before it is written, it is done again rather than written over the change."""
    service = Compiling(db, Moderation(db, STAFF, {"DHA", "KTM"}))
    planned = await service.plan(OFFICER, 2023)
    assert not isinstance(planned, Refused) and len(planned.groups) == 2
    split = await service.split(OFFICER, ["DHA-0001", "DHA-0002"])  # meanwhile
    assert isinstance(split, Changed) and split.recommendation is not None
    done = await service.auto(OFFICER, 2023, None, planned)
    assert done == Compiled(created=2, grouped=4, alone=1)  # river's other two, swim's two
    kept = await service.overview(OFFICER, 2023, "DHA")
    assert isinstance(kept, list)
    assert sorted(sorted(m.ref for m in r.members) for r in kept) == [
        ["DHA-0001", "DHA-0002"], ["DHA-0003", "DHA-0004"], ["DHA-0005", "DHA-0006"]]
    assert await service.auto(OFFICER, 2023, None, planned) == Compiled(0, 0, 1)  # once
    assert await service.auto(OFFICER_KTM, 2023, "DHA", planned) == Refused("forbidden")


async def test_a_planned_grouping_is_written_without_working_in_the_transaction(
        db: Database, monkeypatch: pytest.MonkeyPatch) -> None:
    """The plan names its groups too (seconds for 10,000 proposals, in a thread): writing it
    holds the write lock, on the event loop, only to write."""
    service = Compiling(db, Moderation(db, STAFF, {"DHA", "KTM"}))
    planned = await service.plan(OFFICER, 2023)
    assert not isinstance(planned, Refused)
    titles = sorted(title for _, _, title in planned.groups)

    def no_work(*_: object) -> None:
        raise AssertionError("grouping or naming inside the write transaction")

    monkeypatch.setattr(service_module, "group", no_work)
    monkeypatch.setattr(service_module, "central", no_work)
    assert await service.auto(OFFICER, 2023, None, planned) == Compiled(2, 6, 1)
    found = await service.overview(OFFICER, 2023, "DHA")
    assert isinstance(found, list) and sorted(r.title for r in found) == titles


async def _named_river(db: Database, target: Target, monkeypatch: pytest.MonkeyPatch,
                       title: str) -> tuple[Recommendation, Config, Catalog]:
    """Grouped automatically, the river's four proposals named `title`; the config and
    catalog to export with."""
    monkeypatch.setenv("CHILDFORUM_PSEUDONYM_KEY", "a-long-enough-secret-key")
    service = Compiling(db, Moderation(db, STAFF, {"DHA", "KTM"}))
    await service.auto(OFFICER, 2023)
    river = next(r for r in await service.overview(OFFICER, 2023)  # type: ignore[union-attr]
                 if len(r.members) == 4)
    await service.name(OFFICER, river.id, title)
    config = replace(load_config(ROOT / "config.example.toml").with_database(target),
                     staff=STAFF)
    return river, config, load_catalog(config)


async def test_the_report_and_the_workbook_show_each_recommendation_once(
        db: Database, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, target: Target) -> None:
    river, config, catalog = await _named_river(
        db, target, monkeypatch, "Làm rào chắn và biển báo ở các bến sông")
    async with db.transaction() as tx:  # the boy of the river's four would rather not say
        await tx.execute("UPDATE proposals SET gender = 'unsaid' WHERE chat_id = 7002")
    report = tmp_path / "dha.docx"
    await export(db, config, catalog, ExportQuery(districts=("DHA",)), "docx", report)
    text = "\n".join(p.text for p in docx.Document(str(report)).paragraphs)
    line = next(p for p in text.splitlines() if "Làm rào chắn và biển báo" in p)
    # Two children asked, each twice (the fixture's children take turns).
    assert line.startswith("a) Làm rào chắn và biển báo ở các bến sông (2 trẻ em, 4 ý kiến;")
    assert "Ý kiến của các em: “" in line and "Mã: DHA-0001, DHA-0002, DHA-0003, DHA-0004." in line
    # Sexes in an officer's words, not the child's button ("em không muốn nói").
    assert "; nữ: 1, không nêu giới tính: 1)" in line and "muốn nói" not in line
    assert text.count(RIVER[0]) == 1  # quoted once, not listed again on its own
    assert "c) " + HELMET in text  # a proposal on its own keeps its điểm
    workbook = tmp_path / "dha.xlsx"
    await export(db, config, catalog, ExportQuery(districts=("DHA",)), "xlsx", workbook)
    sheet = openpyxl.load_workbook(workbook)["Kiến nghị chung"]
    header, *rows = sheet.iter_rows(values_only=True)
    row = dict(zip(header, rows[0], strict=True))
    assert (row["Kiến nghị chung"], row["Số trẻ em"], row["Số ý kiến"], row["Mã các kiến nghị"]) \
        == ("Làm rào chắn và biển báo ở các bến sông", 2, 4,
            "DHA-0001, DHA-0002, DHA-0003, DHA-0004")
    assert "“" in row["Ý kiến tiêu biểu của trẻ em"]
    assert row["Giới tính"] == "Nữ: 1, Không nêu giới tính: 1"
    # Printed two pages wide, each page starts with what says which recommendation a row is
    # (its quotes and refs print on the second; it repeated the STT column alone).
    assert header[:3] == ("STT", "Kiến nghị chung số", "Kiến nghị chung")
    assert row["Kiến nghị chung số"] == river.id
    assert (sheet.page_setup.fitToWidth, sheet.print_title_cols) == (2, "$A:$C")
    # As tall as its three quotes (LibreOffice kept one line: the others hid), its header as
    # its two-line names ("Kiến nghị chung số").
    assert sheet.row_dimensions[2].height >= 45 and sheet.row_dimensions[1].height == 30
    assert sheet["B2"].alignment.vertical == "top"
    csv_out = tmp_path / "dha.csv"
    await export(db, config, catalog, ExportQuery(districts=("DHA",)), "csv", csv_out)
    lines = list(csv.DictReader(io.StringIO(csv_out.read_text(encoding="utf-8-sig"))))
    assert {line["Kiến nghị chung số"] for line in lines if line["Mã kiến nghị"] <= "DHA-0004"} \
        == {str(river.id)}


async def test_a_recommendation_counts_the_children_who_asked(
        target: Target, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Issue 10 asks how many children and groups asked: three children and a group of 25 are
    28 children (in 4 proposals, 1 of a group), not 4; a child's second proposal is no second
    child; a group whose size is not known makes the count a floor, said so."""
    monkeypatch.setenv("CHILDFORUM_PSEUDONYM_KEY", "a-long-enough-secret-key")
    config = replace(load_config(ROOT / "config.example.toml").with_database(target),
                     staff=STAFF)
    catalog = load_catalog(config)
    database = await open_database(target)
    asked = [(7001, "female", None, RIVER[0]), (7002, "unsaid", None, RIVER[1]),
             (7003, "unsaid", None, RIVER[2]), (7100, None, 25, RIVER[3])]
    async with database.transaction() as tx:
        for chat_id, gender, size, text in asked:
            await children.save(tx, ChildRow(chat_id, "DHA", "10-12", gender, "vi", "{}"))
            await proposals.insert(tx, proposals.NewProposal(
                chat_id=chat_id, forum_year=2023, district="DHA", topic="injuries",
                age_band=None if size else "10-12", gender=gender, seen="", proposal=text,
                actors="commune", message="", lang="vi", needs_translation=False,
                source_update_id=chat_id, group_size=size,
                group_age_range="10-12,13-15" if size else None,
                commune="Xã Hà Mòn" if size else None))
        await tx.execute("UPDATE proposals SET status = 'approved'")
        river = await recommendations.create(tx, 2023, "DHA", "injuries", "Rào chắn bến sông",
                                             None)
        ids = [row[0] for row in await tx.fetchall("SELECT id FROM proposals ORDER BY id")]
        await recommendations.assign(tx, ids, river)

    async def files() -> tuple[str, dict[str, object], list[dict[str, str]]]:
        """The report's line for the recommendation, its row of the workbook by header, the
        CSV's rows."""
        query = ExportQuery(districts=("DHA",))
        await export(database, config, catalog, query, "docx", tmp_path / "dha.docx")
        await export(database, config, catalog, query, "xlsx", tmp_path / "dha.xlsx")
        await export(database, config, catalog, query, "csv", tmp_path / "dha.csv")
        text = "\n".join(p.text for p in docx.Document(str(tmp_path / "dha.docx")).paragraphs)
        line = next(p for p in text.splitlines() if p.startswith("a) Rào chắn bến sông"))
        book = openpyxl.load_workbook(tmp_path / "dha.xlsx")
        header, row = book["Kiến nghị chung"].iter_rows(max_row=2, values_only=True)
        book.close()
        lines = csv.DictReader(io.StringIO((tmp_path / "dha.csv").read_text(encoding="utf-8-sig")))
        return line, dict(zip(header, row, strict=True)), list(lines)

    try:
        line, row, _ = await files()
        assert line.startswith("a) Rào chắn bến sông (28 trẻ em, 4 ý kiến, trong đó 1 của nhóm"
                               " trẻ em; Xã Hà Mòn; 10-12 tuổi: 3 em và 1 nhóm, 13-15 tuổi:"
                               " 1 nhóm; nữ: 1, không nêu giới tính: 2).")
        assert (row["Số trẻ em"], row["Số ý kiến"], row["Số nhóm"]) == (28, 4, 1)
        assert row["Độ tuổi"] == "10-12 tuổi: 3 em và 1 nhóm, 13-15 tuổi: 1 nhóm"
        assert row["Giới tính"] == "Nữ: 1, Không nêu giới tính: 2"
        async with database.transaction() as tx:  # the first child asks again
            await proposals.insert(tx, proposals.NewProposal(
                chat_id=7001, forum_year=2023, district="DHA", topic="injuries",
                age_band="10-12", gender="female", seen="", proposal="Làm rào ở bến sông ạ",
                actors="commune", message="", lang="vi", needs_translation=False,
                source_update_id=7999))
            await tx.execute("UPDATE proposals SET status = 'approved', recommendation_id = ?"
                             " WHERE source_update_id = 7999", (river,))
        line, row, _ = await files()
        assert "(28 trẻ em, 5 ý kiến, trong đó 1 của nhóm trẻ em;" in line
        assert "; nữ: 1," in line  # the same girl (the sexes in the profile's order)
        assert (row["Số trẻ em"], row["Số ý kiến"], row["Số nhóm"]) == (28, 5, 1)
        async with database.transaction() as tx:  # a group whose size was never recorded
            await tx.execute("UPDATE proposals SET group_size = NULL WHERE chat_id = 7100")
        line, row, lines = await files()
        assert "(ít nhất 4 trẻ em, 5 ý kiến, trong đó 1 của nhóm trẻ em (1 nhóm chưa rõ số"\
               " em);" in line
        assert (row["Số trẻ em"], row["Số ý kiến"], row["Số nhóm"]) == ("ít nhất 4", 5, 1)
        group = next(r for r in lines if r["Mã kiến nghị"] == "DHA-0004")
        assert (group["Trẻ em/Nhóm"], group["Số em trong nhóm"]) == ("Nhóm", "")
    finally:
        await database.close()


async def test_the_workbook_recommendations_follow_the_selection_and_show_words_as_typed(
        db: Database, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, target: Target) -> None:
    _, config, catalog = await _named_river(
        db, target, monkeypatch, "+ Làm rào chắn, biển báo ở các bến sông")
    async with db.transaction() as tx:  # words that would read as formulas; two sent long ago
        await tx.execute("UPDATE proposals SET proposal = '=1+1 ' || proposal, commune = '-Xã A'"
                         " WHERE ref = 'DHA-0003'")
        await tx.execute("UPDATE proposals SET created_at = '2020-01-01T00:00:00+00:00'"
                         " WHERE ref IN ('DHA-0001', 'DHA-0002')")

    async def sheet(query: ExportQuery) -> list[dict[str, openpyxl.cell.Cell]]:
        out = tmp_path / "out.xlsx"
        await export(db, config, catalog, query, "xlsx", out)
        book = openpyxl.load_workbook(out)
        header, *rows = book["Kiến nghị chung"].iter_rows()
        book.close()
        if header[0].value != "STT":  # none: the sheet says so
            assert [c.value for c in (header[0], *rows[0])] == [
                "Kiến nghị chung", NO_RECOMMENDATION]
            return []
        return [{str(h.value): cell for h, cell in zip(header, row, strict=True)} for row in rows]

    rows = await sheet(ExportQuery(districts=("DHA",), date_from=date(2021, 1, 1)))
    title, communes, quotes, refs = (rows[0][header] for header in (
        "Kiến nghị chung", "Xã, phường (nhóm)", "Ý kiến tiêu biểu của trẻ em", "Mã các kiến nghị"))
    assert (refs.value, rows[0]["Số ý kiến"].value) == ("DHA-0003, DHA-0004", 2)  # the period's
    assert (title.value, title.quotePrefix) == ("+ Làm rào chắn, biển báo ở các bến sông", True)
    assert (communes.value, communes.quotePrefix) == ("-Xã A", True)
    assert quotes.value.startswith("“=1+1 Xã nên làm") and "'" not in quotes.value
    assert await sheet(ExportQuery(districts=("DHA",), statuses=("rejected",))) == []
    assert await sheet(ExportQuery(date_from=date(2027, 1, 1))) == []
    assert await sheet(ExportQuery(forum_year=2024)) == []


async def seed_approved(path: Path, texts: tuple[str, ...]) -> None:
    """Approved 2023 proposals of DHA about injuries, one per text, in a new database."""
    database = await open_database(path)
    async with database.transaction() as tx:
        for number, text in enumerate(texts):
            await proposals.insert(tx, proposals.NewProposal(
                chat_id=None, forum_year=2023, district="DHA", topic="injuries",
                age_band=None, gender=None, seen="", proposal=text, actors="commune",
                message="", lang="vi", needs_translation=False, source_update_id=number))
        await tx.execute("UPDATE proposals SET status = 'approved'")
    await database.close()


def test_compile_on_the_command_line(tmp_path: Path) -> None:
    import asyncio

    path = tmp_path / "forum.sqlite3"
    asyncio.run(seed_approved(path, (*RIVER, HELMET)))

    def childforum(*args: str) -> Ran:
        return command_line("compile", *args, "--config", str(ROOT / "config.example.toml"),
                            "--database", str(path))

    auto = childforum("auto", "--district", "dha")
    assert auto.returncode == 0, auto.stderr
    assert "1 recommendations made of 4 proposals; 1 proposals stay on their own" in auto.stdout
    listed = childforum("list")
    assert "[DHA · TNTT, đuối nước, giao thông] 4 proposals:" in listed.stdout
    assert "DHA-0001, DHA-0002, DHA-0003, DHA-0004" in listed.stdout
    number = listed.stdout.split("#", 1)[1].split(" ", 1)[0]
    named = childforum("name", number, "Rào chắn ở bến sông")
    assert named.returncode == 0 and "Rào chắn ở bến sông" in named.stdout
    moved = childforum("move", "DHA-0005", "--to", number)
    assert "5 proposals" in moved.stdout
    wrong = childforum("merge", number, "999")
    assert wrong.returncode == 2 and wrong.stderr.strip() == (
        "childforum compile: 999 was not found.")  # in words, not the service's codes
    pending = childforum("split", "DHA-0001,DHA-9999")
    assert pending.returncode == 2 and "DHA-9999 was not found" in pending.stderr
    unknown = childforum("auto", "--district", "XYZ")  # not "0 made": an area that is not
    assert unknown.returncode == 2 and "unknown area 'XYZ'" in unknown.stderr


def test_compile_list_of_a_commune_config_finds_the_2023_districts_recommendations(
        tmp_path: Path) -> None:
    """A 2026 config held by commune over a database with the 2023 forum's proposals:
    `--district all` is all (as --help says), a former district is known and listed among
    the codes, and `list` without --year finds the years that have recommendations."""
    import asyncio

    path = tmp_path / "forum.sqlite3"
    asyncio.run(seed_approved(path, RIVER))
    config = tmp_path / "config.toml"
    config.write_text((ROOT / "config.communes.example.toml").read_text(encoding="utf-8")
                      .replace('file = "docs/', f'file = "{ROOT}/docs/'), encoding="utf-8")

    def childforum(*args: str) -> Ran:
        return command_line("compile", *args, "--config", str(config), "--database", str(path))

    assert "default: all" in childforum("list", "--help").stdout
    made = childforum("auto", "--district", "DHA", "--year", "2023")
    assert "1 recommendations made of 4 proposals" in made.stdout, made.stderr
    for district in ("all", "ALL", "DHA", "dha"):
        listed = childforum("list", "--district", district)
        assert listed.returncode == 0, listed.stderr
        assert listed.stdout.startswith("forum year 2023:\n#"), listed.stdout
        assert "DHA-0001, DHA-0002, DHA-0003, DHA-0004\n" in listed.stdout
    nothing = childforum("list", "--district", "DHA", "--year", "2026")
    assert nothing.returncode == 0 and nothing.stdout.endswith("\n")
    assert nothing.stdout.startswith("no recommendations of the forum year 2026; forum years"
                                     " that have some: 2023 (childforum compile list --year"
                                     " 2023"), nothing.stdout
    empty = childforum("list", "--district", "MORAI")
    assert "no recommendations yet, in any forum year" in empty.stdout
    assert "config's forum year, 2026" in empty.stdout and empty.stdout.endswith("\n")
    unknown = childforum("list", "--district", "XYZ")
    assert unknown.returncode == 2 and "unknown area 'XYZ'" in unknown.stderr
    assert "DHA" in unknown.stderr and "MORAI" in unknown.stderr, unknown.stderr


def test_a_long_list_in_chat_comes_in_messages_telegram_takes() -> None:
    """Sixty recommendations of long words: every message under Telegram's 4,096 characters,
    every recommendation in one of them (one message with all of it was refused: no reply)."""
    from bot.compiling.desk import CompileDesk
    from storage.recommendations import Member, Recommendation

    config = load_config(ROOT / "config.example.toml")
    desk = CompileDesk(None, load_catalog(config), config)  # type: ignore[arg-type]
    found = [Recommendation(number, 2023, "DHA", "injuries", "Rào chắn bến sông " * 12, tuple(
        Member(number * 10 + n, f"DHA-{number * 10 + n:04d}", "DHA", "injuries", "", "", None,
               None, None, None, None, number) for n in range(8)))
             for number in range(1, 61)]
    said = desk._list(found, "vi")
    assert len(said) > 1 and all(len(text) < 4096 for text in said)
    assert all(f"<b>#{number}</b>" in "".join(said) for number in range(1, 61))
