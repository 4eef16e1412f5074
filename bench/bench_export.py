"""Exports against their floor, in one run: time ratios and peak memory.

    .venv/bin/python bench/bench_export.py --rows 100000

Creates N approved proposals in a temporary SQLite file, then times
  - the floor: the same rows read by a plain sqlite3 query; written by the csv module;
    dumped by openpyxl in write-only mode; for DOCX, python-docx writing one paragraph per row;
  - childforum's export of the same rows (bot.exports.export) as csv, xlsx and docx.
Peak RSS (ru_maxrss) is read at the end of a subprocess that only exports, one per size.
"""

from __future__ import annotations

import argparse
import asyncio
import csv
import os
import platform
import resource
import sqlite3
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import docx
from openpyxl import Workbook

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bot.areas import District  # noqa: E402
from bot.config import Config  # noqa: E402
from bot.conversation.catalog import load_catalog  # noqa: E402
from bot.exports import ExportQuery, export  # noqa: E402
from storage.db import open_database  # noqa: E402

KEY_ENV = "CHILDFORUM_PSEUDONYM_KEY"
DISTRICTS = tuple(District(code, name, name) for code, name in (
    ("DHA", "Huyện Đắk Hà"), ("NHO", "Huyện Ngọc Hồi"), ("KTM", "Thành phố Kon Tum"),
    ("STH", "Huyện Sa Thầy")))
TOPICS = ("violence", "injuries", "online", "climate", "labour")
SEEN = ("Ở gần nhà em có con suối sâu, mùa mưa nước chảy xiết mà không có biển báo.",
        "Nhiều bạn trong lớp bị bắt nạt trên mạng, bị đăng ảnh và bị chê bai.",
        "=HYPERLINK(\"http://example.org\") em thấy trên mạng", "Các bạn phải đi làm rẫy sớm.")
PROPOSALS = ("Em đề nghị xã làm rào chắn và biển báo ở suối, mở lớp dạy bơi miễn phí vào hè.",
             "Nhà trường nên dạy chúng em cách giữ an toàn trên mạng và báo cho ai khi bị bắt nạt.",
             "+ Trồng thêm cây xanh quanh trường để chống nóng và sạt lở.",
             "Cần kiểm tra các cơ sở thuê trẻ em làm việc nặng nhọc.")
MESSAGES = ("", "Người lớn hãy lắng nghe trẻ em nhiều hơn ✓", "", "-Đừng để trẻ em đi làm sớm")
COLUMNS = ("ref, forum_year, district, topic, age_band, gender, seen, proposal, actors, message,"
           " lang, status, created_at, updated_at, chat_id")
# The floor reads and writes as many columns as the export: its 17, in its order (a child's
# proposal is "Trẻ em"; group_size is NULL), raw codes instead of labels.
FLOOR_COLUMNS = ("ref, forum_year, district, topic, 'Trẻ em', group_size, age_band, gender, seen,"
                 " proposal, actors, message, lang, status, created_at, updated_at, chat_id")
PROPOSAL = 9  # its index in FLOOR_COLUMNS


def config_for(database: Path) -> Config:
    return Config(source=database.with_suffix(".toml"), districts=DISTRICTS,
                  database_path=database)


def seed(database: Path, rows: int) -> None:
    """N approved proposals from N/3 children, spread over districts and topics."""
    asyncio.run(_create(database))
    stamp = "2023-05-10T03:00:00+00:00"
    with sqlite3.connect(database) as db:
        children = range(1, rows // 3 + 2)
        db.executemany("INSERT INTO children (chat_id, consented_at, state, updated_at)"
                       " VALUES (?, ?, '{}', ?)", ((c, stamp, stamp) for c in children))
        db.executemany(
            f"INSERT INTO proposals ({COLUMNS}) VALUES (?, 2023, ?, ?, '10-12', 'female', ?, ?,"
            " 'family,school', ?, 'vi', 'approved', ?, ?, ?)",
            ((f"R{i:07d}", DISTRICTS[i % len(DISTRICTS)].code, TOPICS[i % len(TOPICS)],
              SEEN[i % len(SEEN)], PROPOSALS[i % len(PROPOSALS)], MESSAGES[i % len(MESSAGES)],
              stamp, stamp, i // 3 + 1) for i in range(rows)))


async def _create(database: Path) -> None:
    db = await open_database(database)
    await db.close()


def plain_rows(database: Path) -> Iterator[tuple[object, ...]]:
    with sqlite3.connect(database) as db:
        yield from db.execute(f"SELECT {FLOOR_COLUMNS} FROM proposals ORDER BY district, topic, id")


def floor_read(database: Path, _out: Path) -> None:
    for _ in plain_rows(database):
        pass


def floor_csv(database: Path, out: Path) -> None:
    with out.open("w", encoding="utf-8-sig", newline="") as stream:
        csv.writer(stream).writerows(plain_rows(database))


def floor_xlsx(database: Path, out: Path) -> None:
    book = Workbook(write_only=True)
    sheet = book.create_sheet("rows")
    for row in plain_rows(database):
        sheet.append(row)
    book.save(out)


def floor_docx(database: Path, out: Path) -> None:
    document = docx.Document()
    for row in plain_rows(database):
        document.add_paragraph(str(row[PROPOSAL]))
    document.save(str(out))


def childforum(fmt: str) -> Callable[[Path, Path], float]:
    """The export alone, timed: the bot has its database open and its catalog loaded."""
    def run(database: Path, out: Path) -> float:
        return asyncio.run(_export(database, fmt, out))
    return run


async def _export(database: Path, fmt: str, out: Path) -> float:
    config = config_for(database)
    catalog = load_catalog(config)
    db = await open_database(database)
    try:
        start = time.perf_counter()
        await export(db, config, catalog, ExportQuery(), fmt, out)  # type: ignore[arg-type]
        return time.perf_counter() - start
    finally:
        await db.close()


def floor(work: Callable[[Path, Path], None]) -> Callable[[Path, Path], float]:
    def run(database: Path, out: Path) -> float:
        start = time.perf_counter()
        work(database, out)
        return time.perf_counter() - start
    return run


def best(work: Callable[[Path, Path], float], database: Path, out: Path, repeat: int) -> float:
    """The fastest of `repeat` runs (the least disturbed by the rest of the machine)."""
    return min(work(database, out) for _ in range(repeat))


def best_pair(base: Callable[[Path, Path], float], ours: Callable[[Path, Path], float],
              database: Path, workdir: Path, fmt: str, repeat: int) -> tuple[float, float]:
    """The fastest of `repeat` runs of the floor and of the export, alternated so that both
    see the same load from the rest of the machine."""
    runs = [(base(database, workdir / f"floor.{fmt}"), ours(database, workdir / f"export.{fmt}"))
            for _ in range(repeat)]
    return min(floor_s for floor_s, _ in runs), min(ours_s for _, ours_s in runs)


def peak_rss_mb(database: Path, fmt: str) -> tuple[float, float]:
    """Export in a fresh interpreter: its RSS before the export and its peak, in MB."""
    output = subprocess.run(
        [sys.executable, __file__, "--rss-of", str(database), "--format", fmt],
        check=True, capture_output=True, text=True).stdout
    before, peak = output.split()
    return float(before), float(peak)


def vm_kb(field: str) -> float:
    """A size from /proc/self/status, in kB (VmRSS now, VmHWM: peak of this program image)."""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith(f"{field}:"):
            return float(line.split()[1])
    raise KeyError(field)


def rss_child(database: Path, fmt: str) -> None:
    """Print RSS before the export and the peak after it, in MB.

    The peak is ru_maxrss, unless Linux carried the parent's larger peak over fork and exec;
    then it is VmHWM, the peak of this program image alone.
    """
    before = vm_kb("VmRSS")
    childforum(fmt)(database, database.with_suffix(f".{fmt}"))
    peak = min(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss, vm_kb("VmHWM"))
    print(before / 1024, peak / 1024)


def time_table(database: Path, workdir: Path, args: argparse.Namespace) -> list[str]:
    lines = ["| format | floor | floor s | childforum s | ratio |",
             "| --- | --- | --- | --- | --- |"]
    read = best(floor(floor_read), database, workdir / "read", args.repeat)
    lines.append(f"| (read) | sqlite3 plain query, {args.rows:,} rows | {read:.2f} | | |")
    small = workdir / "small.sqlite3"
    seed(small, args.docx_rows)
    for fmt, work, name, data, rows in (
            ("csv", floor_csv, "csv module", database, args.rows),
            ("xlsx", floor_xlsx, "openpyxl write-only", database, args.rows),
            ("docx", floor_docx, "python-docx, a paragraph per row", small, args.docx_rows)):
        base, ours = best_pair(floor(work), childforum(fmt), data, workdir, fmt, args.repeat)
        lines.append(f"| {fmt} | {name}, {rows:,} rows | {base:.2f} | {ours:.2f} |"
                     f" {ours / base:.2f}x |")
    return lines


def memory_table(workdir: Path, sizes: list[int]) -> list[str]:
    formats = ("csv", "xlsx", "docx")
    lines = ["| rows | " + " | ".join(f"{fmt}: RSS before → peak MB" for fmt in formats) + " |",
             "| --- |" + " --- |" * len(formats)]
    for size in sizes:
        database = workdir / f"rss{size}.sqlite3"
        seed(database, size)
        cells = [peak_rss_mb(database, fmt) for fmt in formats]
        lines.append(f"| {size:,} | "
                     + " | ".join(f"{before:.0f} → {peak:.0f}" for before, peak in cells) + " |")
    return lines


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--rows", type=int, default=100_000)
    parser.add_argument("--docx-rows", type=int, default=2_000)
    parser.add_argument("--rss-sizes", default="10000,100000")
    parser.add_argument("--repeat", type=int, default=2, help="runs per timing; the best counts")
    parser.add_argument("--rss-of", type=Path, help=argparse.SUPPRESS)
    parser.add_argument("--format", default="csv", help=argparse.SUPPRESS)
    args = parser.parse_args()
    os.environ.setdefault(KEY_ENV, "bench-pseudonym-key-0123456789")
    if args.rss_of:
        rss_child(args.rss_of, args.format)
        return
    with tempfile.TemporaryDirectory() as tmp:
        workdir = Path(tmp)
        database = workdir / "bench.sqlite3"
        seed(database, args.rows)
        lines = time_table(database, workdir, args)
        sizes = [int(size) for size in args.rss_sizes.split(",") if size]
        if sizes:  # --rss-sizes "" leaves the memory table out
            lines += ["", *memory_table(workdir, sizes)]
    print(f"Python {platform.python_version()}, {os.cpu_count()} cores, {platform.machine()}")
    print("\n".join(lines))


if __name__ == "__main__":
    main()
