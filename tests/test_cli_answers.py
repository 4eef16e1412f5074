"""`childforum answers` on the command line: template, dry run, import, publish, follow-up."""

from __future__ import annotations

import io
from pathlib import Path

import openpyxl

from bot.conversation.engine import State
from bot.conversation.service import state_to_row
from storage import children, proposals
from storage.db import open_database
from tests.command_line import Ran, childforum
from tests.test_storage import new_proposal

ROOT = Path(__file__).resolve().parents[1]


async def seeded(path: Path) -> None:
    db = await open_database(path)
    async with db.transaction() as tx:
        state = State(profile={"district": "DHA", "lang": "vi"}, profile_queue=())
        await children.save(tx, state_to_row(555001, state))
        for update_id in (1, 2):
            await proposals.insert(tx, new_proposal(555001, update_id))
        await tx.execute("UPDATE proposals SET status = 'approved'")
    await db.close()


def run(*args: str) -> Ran:
    return childforum(*args, env={"CHILDFORUM_PSEUDONYM_KEY": "a-long-enough-secret-key"})


async def test_template_import_publish_and_follow_up_from_the_command_line(
        tmp_path: Path) -> None:
    database, workbook = tmp_path / "forum.sqlite3", tmp_path / "answers.xlsx"
    await seeded(database)
    where = ("--config", str(ROOT / "config.example.toml"), "--database", str(database))
    made = run("answers", "template", "--district", "DHA", "--year", "2023", "--out",
               str(workbook), *where)
    assert made.returncode == 0, made.stderr
    book = openpyxl.load_workbook(workbook)
    sheet = book["Trả lời"]
    sheet["G2"], sheet["H2"] = "Đã thực hiện", "Đã làm rào chắn"
    sheet["G3"], sheet["H3"] = "Chưa thể thực hiện", "Chưa có kinh phí"  # no reason: refused
    book.save(workbook)
    refused = run("answers", "import", str(workbook), *where)
    assert refused.returncode == 1
    assert "Hàng 3, cột «Lý do (nếu chưa thể thực hiện)»" in refused.stdout
    sheet["P3"], sheet["Q3"] = "Thiếu kinh phí", "Năm 2025"
    book.save(workbook)
    dry = run("answers", "import", str(workbook), "--dry-run", *where)
    assert dry.returncode == 0 and "Sẽ nhập: 2 trả lời mới" in dry.stdout, dry.stdout
    done = run("answers", "import", str(workbook), *where)
    assert done.returncode == 0 and "Đã nhập: 2 trả lời mới" in done.stdout
    again = run("answers", "import", str(workbook), "--lang", "en", *where)
    assert "Imported: 0 new answers, 0 changed, 2 unchanged" in again.stdout
    published = run("answers", "publish", "--district", "DHA", *where)
    assert published.returncode == 0 and "2 answers published; 2 children" in published.stdout
    assert "0 answers published" in run("answers", "publish", *where).stdout
    report = tmp_path / "followup.xlsx"
    follow = run("export", "--kind", "followup", "--district", "DHA", "--since", "2019",
                 "--format", "xlsx", "--out", str(report), *where)
    assert follow.returncode == 0 and "2 proposals written" in follow.stdout, follow.stderr
    rows = list(openpyxl.load_workbook(io.BytesIO(report.read_bytes()))["Theo dõi kiến nghị"]
                .iter_rows(values_only=True))
    assert [row[2] for row in rows[1:]] == ["DHA-0001", "DHA-0002"]
    csv = run("export", "--kind", "followup", "--format", "csv", "--out",
              str(tmp_path / "x.csv"), *where)
    assert csv.returncode == 2 and "docx or an xlsx" in csv.stderr


async def test_the_database_is_never_overwritten_and_a_typo_is_said(tmp_path: Path) -> None:
    database = tmp_path / "forum.sqlite3"
    await seeded(database)
    where = ("--config", str(ROOT / "config.example.toml"), "--database", str(database))
    for out in (database, tmp_path / "forum.sqlite3-wal"):
        refused = run("answers", "template", "--out", str(out), "--force", *where)
        assert refused.returncode == 2 and "is the database itself" in refused.stderr
    db = await open_database(database)
    try:
        assert await db.reader.fetchval("SELECT count(*) FROM proposals") == 2
    finally:
        await db.close()
    topic = run("answers", "publish", "--topic", "nope", *where)
    assert topic.returncode == 2 and "unknown topic 'nope'" in topic.stderr
    typo = run("answers", "publish", "--refs", "DHA-9999,dha-0001", *where)
    assert typo.returncode == 1 and "0 answers published" in typo.stdout
    assert "No draft answer to publish for DHA-9999, DHA-0001" in typo.stderr
    empty = run("answers", "publish", "--refs", ",", *where)
    assert empty.returncode == 2 and "names no proposal" in empty.stderr


async def test_an_export_is_of_the_configs_forum_year_unless_told(tmp_path: Path) -> None:
    database = tmp_path / "forum.sqlite3"
    await seeded(database)  # two approved proposals of 2023, the example config's year
    where = ("--config", str(ROOT / "config.example.toml"), "--database", str(database))
    for year, count in (("", 2), ("2024", 0), ("all", 2)):
        out = tmp_path / f"p{year}.csv"
        chosen = ("--year", year) if year else ()
        done = run("export", "--format", "csv", "--out", str(out), *chosen, *where)
        assert done.returncode == 0 and f"{count} proposals written" in done.stdout, done.stderr
    report = run("export", "--format", "docx", "--year", "all", "--out",
                 str(tmp_path / "r.docx"), *where)
    assert report.returncode == 2 and "one forum year" in report.stderr
