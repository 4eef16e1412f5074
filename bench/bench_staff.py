"""/queue and /stats with 100,000 proposals: server time against a floor, in one run.

    .venv/bin/python bench/bench_staff.py --rows 100000

Fills a temporary SQLite file with N proposals (10 districts, 5 topics, mixed statuses, a
seventh of them group proposals), then times, through the moderation service as the bot calls it:
  - /queue: `Moderation.next_pending` for a one-district moderator and a province-wide admin;
  - /stats: `Moderation.stats` for the same two;
against the floor: the same database answering the cheapest indexed query
(`SELECT id FROM proposals WHERE status = 'pending' ORDER BY id LIMIT 1`) through aiosqlite.
Reports the median and p95 of `--repeat` calls and the ratio of medians to the floor.
"""

from __future__ import annotations

import argparse
import asyncio
import platform
import sqlite3
import statistics
import sys
import tempfile
import time
from collections.abc import Awaitable, Callable
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bot.config import load_config  # noqa: E402
from bot.staff.moderation import Moderation, QueueItem, Stats  # noqa: E402
from bot.staff.roles import PROVINCE, Scope, StaffMember  # noqa: E402
from storage.db import open_database  # noqa: E402

MODERATOR, ADMIN = 1, 2
STATUSES = ("pending", "approved", "approved", "rejected", "pending")
TOPICS = ("violence", "injuries", "online", "climate", "labour")
AGES = ("6-9", "10-12", "13-15")
GENDERS = ("female", "male", "other", "unsaid")


def seed(path: Path, rows: int, districts: list[str]) -> None:
    stamp = "2023-05-10T03:00:00+00:00"
    with sqlite3.connect(path) as db:
        db.executemany(
            "INSERT INTO proposals (ref, forum_year, district, topic, age_band, gender, seen,"
            " proposal, actors, message, lang, status, is_group, group_size, created_at,"
            " updated_at) VALUES (?, 2023, ?, ?, ?, ?, 'Suối sâu không có rào chắn',"
            " 'Làm rào chắn và dạy bơi', 'commune', '', 'vi', ?, ?, ?, ?, ?)",
            ((f"R{i:07d}", districts[i % len(districts)], TOPICS[i % 5], AGES[i % len(AGES)],
              GENDERS[i % 4], STATUSES[i // 10 % 5], int(i % 7 == 0), 25 if i % 7 == 0 else None,
              stamp, stamp) for i in range(rows)))
        db.execute("ANALYZE")


async def timed(call: Callable[[], Awaitable[object]], repeat: int) -> list[float]:
    await call()  # warm the page cache and the statement cache
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        await call()
        times.append((time.perf_counter() - start) * 1000)
    return times


async def measure(path: Path, rows: int, repeat: int) -> list[tuple[str, list[float]]]:
    config = load_config(ROOT / "config.example.toml").with_database(path)
    codes = [d.code for d in config.districts]
    db = await open_database(path)
    await db.close()
    seed(path, rows, codes)
    db = await open_database(path)
    staff = (StaffMember(MODERATOR, "moderator", Scope(frozenset({codes[2]}))),
             StaffMember(ADMIN, "admin", PROVINCE))
    moderation = Moderation(db, staff, set(codes))
    floor_sql = "SELECT id FROM proposals WHERE status = 'pending' ORDER BY id LIMIT 1"

    async def floor() -> object:
        return await db.reader.fetchall(floor_sql)

    async def queue(user: int) -> object:
        item = await moderation.next_pending(user)
        assert isinstance(item, QueueItem)
        return item

    async def stats(user: int) -> object:
        result = await moderation.stats(user, config.forum_year)  # /stats: the forum year's
        assert isinstance(result, Stats) and result.total > 0
        return result

    results = [("floor: one indexed query", await timed(floor, repeat))]
    for label, user in (("district moderator", MODERATOR), ("province admin", ADMIN)):
        results.append((f"/queue, {label}", await timed(lambda u=user: queue(u), repeat)))
        results.append((f"/stats, {label}", await timed(lambda u=user: stats(u), repeat)))
    await db.close()
    return results


def report(results: list[tuple[str, list[float]]], rows: int) -> str:
    floor = statistics.median(results[0][1])
    lines = [f"{rows:,} proposals, python {platform.python_version()}, "
             f"SQLite {sqlite3.sqlite_version}", "",
             "| call | median ms | p95 ms | median / floor |", "| --- | ---: | ---: | ---: |"]
    for label, times in results:
        median = statistics.median(times)
        p95 = sorted(times)[int(len(times) * 0.95) - 1]
        lines.append(f"| {label} | {median:.2f} | {p95:.2f} | {median / floor:.1f} |")
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--rows", type=int, default=100_000)
    parser.add_argument("--repeat", type=int, default=50)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder:
        results = asyncio.run(measure(Path(folder) / "bench.sqlite3", args.rows, args.repeat))
    print(report(results, args.rows))


if __name__ == "__main__":
    main()
