"""Grouping proposals (bot/compiling/grouping.py) against its floor, in one run: time and memory.

    .venv/bin/python bench/bench_grouping.py                  # 2,000, 10,000, 20,000: ~3 minutes
    .venv/bin/python bench/bench_grouping.py --sizes 2000     # a quick look

For each size N: N proposals of one district and topic (the worst case: `compile auto` groups
one district and topic at a time, and near-duplicates share most of their terms), recombined
from the development grouping set's texts of that topic (`tests/recombined.py`: halves of two
texts of the same request, one in three without marks; seeded; never the held-out set). Each
measurement runs in a fresh interpreter (its peak RSS is its own; a size that does not finish
within --timeout is reported as such):
  - floor: every text folded (bot.textnorm.fold: tone marks, case) and split into words, what
    any grouping by words has to do to read the texts; grouping does it and far more (chat
    words, the concepts, tf-idf, comparing the texts that share terms, merging);
  - grouping: `group(texts)` alone, the best of --repeat runs, and that run's steps: the texts'
    terms and tf-idf vectors, each text's strongest links (`nearest`), and the merging (the
    rest); peak RSS of the interpreter over the first run (RSS before → peak);
  - end to end: `childforum compile auto --district DHA` (config.example.toml) on a temporary
    SQLite file holding the N approved proposals: wall time and peak RSS of that process
    (os.wait4), beside the same command on a file with none (start-up, imports, migrations
    checked). The run fails unless its recommendations and the proposals it put in them are
    those the in-process grouping found, and the database holds them.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import platform
import re
import sqlite3
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bot.compiling import grouping  # noqa: E402
from bot.textnorm import fold  # noqa: E402
from storage.db import open_database  # noqa: E402
from tests.recombined import SEED, recombined  # noqa: E402

CONFIG = ROOT / "config.example.toml"
YEAR, DISTRICT = 2023, "DHA"  # config.example.toml's forum year; one of its districts
_SPLIT = re.compile(r"\W+")
_SAID = re.compile(r"(\d+) recommendations made of (\d+) proposals; (\d+) proposals stay")


def rss_mb() -> tuple[float, float]:
    """(RSS now, peak RSS of this program image), in MB (/proc/self/status)."""
    found = {}
    for line in Path("/proc/self/status").read_text().splitlines():
        key, _, value = line.partition(":")
        if key in ("VmRSS", "VmHWM"):
            found[key] = float(value.split()[0]) / 1024
    return found["VmRSS"], found["VmHWM"]


def timed(work: Callable[[], object]) -> tuple[float, Any]:
    start = time.perf_counter()
    result = work()
    return time.perf_counter() - start, result


def steps_timed() -> dict[str, float]:
    """Time `group`'s two first steps from inside it: `grouping.vectors` and `grouping.nearest`
    wrapped (group looks them up at each call); what they record is the last call's seconds."""
    spent: dict[str, float] = {}
    for name, key in (("vectors", "vectors"), ("nearest", "links")):
        work = getattr(grouping, name)

        def wrapped(*args: Any, _work: Any = work, _key: str = key) -> Any:
            seconds, result = timed(lambda: _work(*args))
            spent[_key] = seconds
            return result

        setattr(grouping, name, wrapped)
    return spent


def measure(count: int, topic: str, repeat: int) -> dict[str, Any]:
    """In a fresh interpreter: grouping's peak RSS (first run), its best run's time and steps
    (the merging is the rest), the floor's best time, and the groups (for the end-to-end
    check)."""
    made = recombined(count, topic)
    spent = steps_timed()
    before, _ = rss_mb()
    runs = []
    for _ in range(max(1, repeat)):
        seconds, groups = timed(lambda: grouping.group(made))
        runs.append({"group": seconds, **spent})
        if len(runs) == 1:
            _, peak = rss_mb()
    best = min(runs, key=lambda run: run["group"])
    floor = min(timed(lambda: [_SPLIT.split(fold(text)) for text in made])[0]
                for _ in range(repeat))
    return {"floor": floor, **best, "rss_before": before, "rss_peak": peak,
            "groups": sorted(len(g) for g in groups if len(g) > 1),
            "alone": sum(len(g) == 1 for g in groups)}


def seed_database(path: Path, made: list[str], topic: str) -> None:
    """The proposals, approved, written directly (not measured); the schema by the migrations."""
    async def create() -> None:
        db = await open_database(path)
        await db.close()

    asyncio.run(create())
    now = "2023-05-10T03:00:00+00:00"
    with sqlite3.connect(path) as db:
        db.executemany(
            "INSERT INTO proposals (ref, forum_year, district, topic, proposal, lang, status,"
            " created_at, updated_at) VALUES (?, ?, ?, ?, ?, 'vi', 'approved', ?, ?)",
            ((f"{DISTRICT}-{k + 1:05d}", YEAR, DISTRICT, topic, text, now, now)
             for k, text in enumerate(made)))


def compile_auto(database: Path, timeout: float) -> tuple[float, float, str]:
    """`childforum compile auto` in its own process: (wall s, peak RSS MB, its output)."""
    command = [sys.executable, "-m", "handlers.cli", "compile", "auto", "--district", DISTRICT,
               "--config", str(CONFIG), "--database", str(database)]
    start = time.perf_counter()
    with tempfile.TemporaryFile("w+") as out:
        process = subprocess.Popen(command, cwd=ROOT, stdout=out, stderr=subprocess.STDOUT,
                                   text=True)
        deadline = start + timeout
        while True:
            pid, status, usage = os.wait4(process.pid, os.WNOHANG)
            if pid:
                break
            if time.perf_counter() > deadline:
                process.kill()
                process.wait()
                raise TimeoutError
            time.sleep(0.01)
        wall = time.perf_counter() - start
        process.returncode = os.waitstatus_to_exitcode(status)
        out.seek(0)
        said = out.read()
    if process.returncode != 0:
        raise SystemExit(f"compile auto failed ({process.returncode}):\n{said}")
    return wall, usage.ru_maxrss / 1024, said


def check(database: Path, said: str, groups: list[int], alone: int) -> None:
    """What compile auto did is what grouping found, and the database holds it."""
    found = _SAID.search(said)
    if found is None:
        raise SystemExit(f"compile auto said something else:\n{said}")
    created, grouped, stayed = map(int, found.groups())
    with sqlite3.connect(database) as db:
        sizes = sorted(n for (n,) in db.execute(
            "SELECT COUNT(*) FROM proposals WHERE recommendation_id IS NOT NULL"
            " GROUP BY recommendation_id"))
    if (created, grouped, stayed) != (len(groups), sum(groups), alone) or sizes != groups:
        raise SystemExit(f"compile auto: {created} groups of {grouped}, {stayed} alone, stored"
                         f" {len(sizes)} of {sum(sizes)}; grouping alone: {len(groups)} of"
                         f" {sum(groups)}, {alone} alone")


def child(count: int, topic: str, repeat: int, timeout: float) -> dict[str, Any] | None:
    """`measure` in a fresh interpreter (None: not done within `timeout`)."""
    try:
        output = subprocess.run(
            [sys.executable, __file__, "--measure", str(count), "--topic", topic,
             "--repeat", str(repeat)], check=True, capture_output=True, text=True,
            timeout=timeout).stdout
    except subprocess.TimeoutExpired:
        return None
    result: dict[str, Any] = json.loads(output)
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--sizes", default="2000,10000,20000")
    parser.add_argument("--topic", default="injuries",
                        help="the dev set's topic to recombine, or all: the five topics' texts")
    parser.add_argument("--repeat", type=int, default=2, help="runs per timing; the best counts")
    parser.add_argument("--timeout", type=float, default=600, help="seconds per measurement")
    parser.add_argument("--measure", type=int, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.measure:
        print(json.dumps(measure(args.measure, args.topic, args.repeat)))
        return
    rows = ["| proposals | floor: fold + split s | grouping s | ratio | vectors / links /"
            " merging s | grouping RSS MB | compile auto s | its fixed cost s | compile auto"
            " peak RSS MB | recommendations / proposals in them / alone |",
            "| ---: | ---: | ---: | ---: | --- | --- | ---: | ---: | ---: | --- |"]
    with tempfile.TemporaryDirectory() as tmp:
        empty = Path(tmp) / "empty.sqlite3"
        seed_database(empty, [], args.topic)
        fixed = min(compile_auto(empty, args.timeout)[0] for _ in range(args.repeat))
        for count in (int(size) for size in args.sizes.split(",") if size):
            found = child(count, args.topic, args.repeat, args.timeout)
            if found is None:
                rows.append(f"| {count:,} | | not done in {args.timeout:.0f} s | | | | | | | |")
                continue
            database = Path(tmp) / f"forum{count}.sqlite3"
            seed_database(database, recombined(count, args.topic), args.topic)
            try:
                wall, peak, said = compile_auto(database, args.timeout)
            except TimeoutError:
                wall, peak, said = float("nan"), float("nan"), ""
            else:
                check(database, said, found["groups"], found["alone"])
            merging = found["group"] - found["vectors"] - found["links"]
            rows.append(
                f"| {count:,} | {found['floor']:.2f} | {found['group']:.2f} |"
                f" {found['group'] / found['floor']:.1f}x | {found['vectors']:.2f} /"
                f" {found['links']:.2f} / {merging:.2f} | {found['rss_before']:.0f} →"
                f" {found['rss_peak']:.0f} | {wall:.2f} | {fixed:.2f} | {peak:.0f} |"
                f" {len(found['groups'])} / {sum(found['groups']):,} / {found['alone']:,} |")
    print(f"Python {platform.python_version()}, {os.cpu_count()} cores, {platform.machine()},"
          f" load average {os.getloadavg()[0]:.1f}; topic {args.topic}, seed {SEED}")
    print("\n".join(rows))


if __name__ == "__main__":
    main()
