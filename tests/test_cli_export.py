"""`childforum export` on the command line, for admins and scripts."""

from __future__ import annotations

import csv
from pathlib import Path

from storage import children, proposals
from storage.children import ChildRow
from storage.db import open_database
from tests.command_line import Ran, childforum
from tests.test_storage import new_proposal

ROOT = Path(__file__).resolve().parents[1]


async def seeded(path: Path) -> None:
    db = await open_database(path)
    async with db.transaction() as conn:
        await children.save(conn, ChildRow(555001, "DHA", "10-12", "female", "vi", "{}"))
        for update_id, district in ((1, "DHA"), (2, "DHA"), (3, "KTM")):
            await proposals.insert(conn, new_proposal(555001, update_id, district))
        await conn.execute("UPDATE proposals SET status = 'approved' WHERE ref != 'DHA-0002'")
    await db.close()


def run(*args: str, key: str | None = "a-long-enough-secret-key") -> Ran:
    return childforum("export", "--config", str(ROOT / "config.example.toml"), *args,
                      env={"CHILDFORUM_PSEUDONYM_KEY": key or None})


async def test_export_a_district_to_csv(tmp_path: Path) -> None:
    database, out = tmp_path / "forum.sqlite3", tmp_path / "dha.csv"
    await seeded(database)
    done = run("--database", str(database), "--district", "dha", "--format", "csv",
               "--from", "01/01/2020", "--out", str(out))
    assert done.returncode == 0, done.stderr
    assert "1 proposals written" in done.stdout
    with out.open(encoding="utf-8-sig", newline="") as file:
        rows = list(csv.reader(file))
    assert len(rows) == 2 and rows[1][0] == "DHA-0001"
    assert "555001" not in out.read_text(encoding="utf-8-sig")


async def test_export_refuses_without_a_pseudonym_key_or_with_a_bad_district(
        tmp_path: Path) -> None:
    database = tmp_path / "forum.sqlite3"
    await seeded(database)
    no_key = run("--database", str(database), "--format", "csv", "--out",
                 str(tmp_path / "x.csv"), key=None)
    assert no_key.returncode == 2 and "CHILDFORUM_PSEUDONYM_KEY" in no_key.stderr
    bad = run("--database", str(database), "--district", "XYZ", "--format", "xlsx", "--out",
              str(tmp_path / "x.xlsx"))
    assert bad.returncode == 2 and "XYZ" in bad.stderr
    bad_date = run("--database", str(database), "--format", "csv", "--from", "yesterday",
                   "--out", str(tmp_path / "x.csv"))
    assert bad_date.returncode == 2 and "not a date" in bad_date.stderr
    backwards = run("--database", str(database), "--format", "csv", "--from", "30/06/2023",
                    "--to", "01/01/2023", "--out", str(tmp_path / "x.csv"))
    assert backwards.returncode == 2 and "--from is after --to" in backwards.stderr
    assert not (tmp_path / "x.csv").exists()
