"""`childforum compile`: gather the proposals that ask for the same thing, then review.

    childforum compile auto --district DHA            # group what is not grouped yet
    childforum compile list --district DHA            # the recommendations, with their refs
    childforum compile name 12 "Làm rào chắn và biển báo ở các bến sông"
    childforum compile merge 12 15                    # 15 into 12
    childforum compile move DHA-0042 --to 12          # or --out: on its own
    childforum compile split DHA-0042,DHA-0051        # into a new recommendation
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable
from typing import Any

from bot.compiling.desk import refusal
from bot.compiling.service import COMMAND_LINE, Changed, Compiled, Compiling
from bot.config import Config
from bot.conversation.catalog import Catalog, load_catalog
from bot.localized import BASE_LANG
from bot.staff.moderation import Moderation, Refused
from handlers.cli_storage import missing
from handlers.wiring import open_configured
from storage.db import DatabaseUnavailable
from storage.recommendations import Recommendation


def add_parser(commands: Any, common: Callable[[argparse.ArgumentParser], None]) -> None:
    parser = commands.add_parser(
        "compile", help="gather proposals that ask for the same thing into recommendations")
    verbs = parser.add_subparsers(dest="verb", required=True)
    auto = verbs.add_parser("auto", help="group the approved proposals not grouped yet")
    listing = verbs.add_parser("list", help="the recommendations and their proposals")
    for verb in (auto, listing):
        verb.add_argument("--district", default=None, help="a district code (default: all)")
        verb.add_argument("--year", type=int, default=None,
                          help="the forum year (default: the config's)")
    name = verbs.add_parser("name", help="word a recommendation as the report will show it")
    name.add_argument("id", type=int)
    name.add_argument("title")
    merge = verbs.add_parser("merge", help="put a recommendation's proposals into another")
    merge.add_argument("into", type=int)
    merge.add_argument("other", type=int)
    move = verbs.add_parser("move", help="move a proposal to a recommendation, or out")
    move.add_argument("ref")
    where = move.add_mutually_exclusive_group(required=True)
    where.add_argument("--to", type=int, default=None, help="the recommendation's number")
    where.add_argument("--out", action="store_true", help="on its own again")
    split = verbs.add_parser("split", help="proposals (refs joined by commas) into a new one")
    split.add_argument("refs")
    for verb in (auto, listing, name, merge, move, split):
        common(verb)


def _say(result: Compiled | Changed | Refused | list[Recommendation],
         labels: Callable[[str], str], catalog: Catalog) -> int:
    if isinstance(result, Refused):
        print(f"childforum compile: {refusal(catalog, result, 'en', str)}", file=sys.stderr)
        return 2
    if isinstance(result, Compiled):
        print(f"{result.created} recommendations made of {result.grouped} proposals;"
              f" {result.alone} proposals stay on their own")
    elif isinstance(result, Changed):
        if result.recommendation is None:
            print("done: the proposal stands on its own")
        else:
            _show(result.recommendation, labels)
    else:
        for recommendation in result:
            _show(recommendation, labels)
        if not result:
            print("no recommendations yet: childforum compile auto")
    return 0


def _show(item: Recommendation, labels: Callable[[str], str]) -> None:
    refs = ", ".join(m.ref for m in item.members)
    print(f"#{item.id} [{item.district} · {labels(item.topic)}] {len(item.members)} proposals:"
          f" {item.title}\n    {refs}")


async def run(config: Config, args: argparse.Namespace) -> int:
    if (problem := missing(config)) is not None:
        print(f"childforum compile: {problem}", file=sys.stderr)
        return 2
    asked = getattr(args, "district", None)
    if asked and config.area(asked.upper()) is None:
        print(f"childforum compile: unknown district {asked!r}; known: "
              + ", ".join(d.code for d in config.districts), file=sys.stderr)
        return 2
    try:
        db = await open_configured(config)
    except DatabaseUnavailable as error:
        print(f"childforum compile: cannot use the database {error}", file=sys.stderr)
        return 1
    try:
        catalog = load_catalog(config)
        titles = {t.id: t.short[BASE_LANG] for t in catalog.topics}
        service = Compiling(db, Moderation(
            db, config.staff, {d.code for d in config.districts}, areas=config.area_codes))
        year = getattr(args, "year", None) or config.forum_year
        district = (args.district.upper() if getattr(args, "district", None) else None)
        result: Compiled | Changed | Refused | list[Recommendation]
        if args.verb == "auto":
            result = await service.auto(COMMAND_LINE, year, district)
        elif args.verb == "list":
            result = await service.overview(COMMAND_LINE, year, district)
        elif args.verb == "name":
            result = await service.name(COMMAND_LINE, args.id, args.title)
        elif args.verb == "merge":
            result = await service.merge(COMMAND_LINE, args.into, args.other)
        elif args.verb == "move":
            result = await service.move(COMMAND_LINE, args.ref, None if args.out else args.to)
        else:
            refs = [ref for ref in args.refs.split(",") if ref.strip()]
            result = await service.split(COMMAND_LINE, refs)
        return _say(result, lambda topic: titles.get(topic, topic), catalog)
    finally:
        await db.close()
