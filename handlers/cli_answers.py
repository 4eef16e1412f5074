"""`childforum answers ...`: the answers spreadsheet and publishing, from the command line.

    childforum answers template --district DHA --year 2023 --out answers.xlsx
    childforum answers import answers.xlsx --dry-run
    childforum answers import answers.xlsx
    childforum answers publish --district DHA [--topic injuries] [--refs DHA-0001,DHA-0002]

The command line acts for the admin who runs it: every district (recorded in the audit log as
user 0, "command line"). Published answers are queued in the outbox; the running bot sends them.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from bot.answers.imports import AnswerSheets, Plan
from bot.answers.service import Answers
from bot.config import Config
from bot.conversation.catalog import load_catalog
from bot.localized import BASE_LANG
from bot.staff.moderation import Moderation, Refused
from bot.transport.outbox import Outbox
from handlers.cli_storage import known_areas, missing, output_problem
from handlers.wiring import open_configured
from storage.db import DatabaseUnavailable

COMMAND_LINE = 0  # the audit log's actor for what the command line does


@dataclass(frozen=True)
class Services:
    answers: Answers
    sheets: AnswerSheets


@asynccontextmanager
async def services(config: Config) -> AsyncIterator[Services]:
    db = await open_configured(config)
    try:
        catalog = load_catalog(config)
        moderation = Moderation(db, config.staff, {d.code for d in config.districts},
                                areas=config.area_codes)
        outbox = Outbox(db, config.pacing, config.timetable.zone)
        answers = Answers(db, catalog, config, moderation, outbox)
        yield Services(answers, AnswerSheets(answers, config, catalog))
    finally:
        await db.close()


def add_parser(commands: Any,
               common: Callable[[argparse.ArgumentParser], None]) -> argparse.ArgumentParser:
    """`answers` and its verbs, on the `childforum` command's subparsers; `common` adds the
    options every command takes (--config, --database) to each verb."""
    parser: argparse.ArgumentParser = commands.add_parser(
        "answers", help="the authorities' answers: spreadsheet, import, publish")
    verbs = parser.add_subparsers(dest="verb", required=True)
    template = verbs.add_parser("template", help="write the answers workbook to fill in")
    template.add_argument("--district", default="all", help="a district code or 'all'")
    template.add_argument("--year", type=int, default=None, help="the forum year (default: all)")
    template.add_argument("--out", type=Path, required=True)
    template.add_argument("--force", action="store_true", help="replace --out if it exists")
    importing = verbs.add_parser("import", help="check a filled-in workbook, then apply it all"
                                 " or nothing")
    importing.add_argument("workbook", type=Path)
    importing.add_argument("--dry-run", action="store_true", help="check and report only")
    importing.add_argument("--lang", default=BASE_LANG,
                           help="the language of the report")
    publish = verbs.add_parser("publish", help="publish draft answers: the children are told")
    publish.add_argument("--district", default=None, help="a district code (default: all)")
    publish.add_argument("--topic", default=None, help="a topic id (default: every topic)")
    publish.add_argument("--refs", default=None, help="refs joined by commas (default: all)")
    for verb in (template, importing, publish):
        common(verb)
    return parser


def _fail(problem: str, code: int = 2) -> int:
    print(f"childforum answers: {problem}", file=sys.stderr)
    return code


async def run(config: Config, args: argparse.Namespace) -> int:
    if (problem := missing(config)) is not None:
        return _fail(problem)
    try:
        async with services(config) as found:
            if args.verb == "template":
                return await _template(config, found, args)
            if args.verb == "import":
                return await _import(found, args)
            return await _publish(config, found, args)
    except DatabaseUnavailable as error:
        return _fail(f"cannot use the database {error}", 1)


async def _template(config: Config, found: Services, args: argparse.Namespace) -> int:
    district = None if args.district.lower() == "all" else args.district.upper()
    if district is not None and config.area(district) is None:
        return _fail(f"unknown district {args.district!r}; {known_areas(config)}")
    problem = output_problem(args.out, config.database_path, args.force)
    if problem is not None:
        return _fail(problem)
    data = await found.sheets.template(COMMAND_LINE, district, args.year)
    # Written beside the target, then moved into place: a full disk leaves no empty file.
    partial = args.out.with_name(f".{args.out.name}.partial")
    try:
        partial.write_bytes(data)
        partial.replace(args.out)
    except OSError as error:
        return _fail(f"cannot write {args.out}: {error.strerror or error}", 1)
    finally:
        partial.unlink(missing_ok=True)
    print(f"Answers workbook written to {args.out} ({len(data)} bytes)")
    return 0


async def _import(found: Services, args: argparse.Namespace) -> int:
    try:
        data = args.workbook.read_bytes()
    except OSError as error:
        return _fail(f"cannot read {args.workbook}: {error.strerror or error}")
    plan = await found.sheets.run(COMMAND_LINE, data, apply=not args.dry_run)
    print(report(found.sheets, plan, args.lang, dry_run=args.dry_run))
    return 0 if not plan.problems else 1


def report(sheets: AnswerSheets, plan: Plan, lang: str, dry_run: bool) -> str:
    """A plan in plain words: counts, then every problem (nothing is applied if any)."""
    texts = sheets.catalog.texts
    if plan.problems:
        head = texts.get("sheet.cli.problems", lang, count=len(plan.problems))
        return "\n".join([head, *(f"- {sheets.describe(p, lang)}" for p in plan.problems)])
    return texts.get("sheet.cli.dry" if dry_run else "sheet.cli.applied", lang, new=plan.new,
                     changed=plan.changed, unchanged=plan.unchanged, history=plan.history,
                     unanswered=plan.unanswered, rows=plan.rows)


async def _publish(config: Config, found: Services, args: argparse.Namespace) -> int:
    district = args.district.upper() if args.district else None
    if district is not None and config.area(district) is None:
        return _fail(f"unknown district {args.district!r}")
    if args.topic is not None and found.answers.catalog.topic(args.topic) is None:
        return _fail(f"unknown topic {args.topic!r}; known: "
                     + ", ".join(flow.id for flow in found.answers.catalog.topics))
    refs = [ref.strip().upper() for ref in args.refs.split(",") if ref.strip()] \
        if args.refs is not None else None
    if refs == []:
        return _fail("--refs names no proposal: give refs joined by commas (DHA-0001,DHA-0002)")
    result = await found.answers.publish(COMMAND_LINE, district, args.topic, refs)
    if isinstance(result, Refused):
        return _fail(f"refused: {result.reason} {result.detail}")
    answers = found.answers
    print(f"{answers.counted('answers', result.published, 'en')} published;"
          f" {answers.counted('people', result.told, 'en')} will be told (the running bot sends"
          " the messages).")
    left = result.left(refs or ())
    if left:  # a typo must not read as "nothing left to publish"
        print("No draft answer to publish for " + ", ".join(left) + " (unknown, published"
              " already, or not answered yet)", file=sys.stderr)
        return 1
    return 0
