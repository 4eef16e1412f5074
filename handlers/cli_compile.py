"""`childforum compile`: gather the proposals that ask for the same thing, then review.

    childforum compile auto --district DHA            # group what is not grouped yet
    childforum compile list --district DHA            # the recommendations, with their refs
                                                      # (every forum year's; --year for one)
    childforum compile name 12 "Làm rào chắn và biển báo ở các bến sông"
    childforum compile merge 12 15                    # 15 into 12
    childforum compile move DHA-0042 --to 12          # or --out: on its own
    childforum compile split DHA-0042,DHA-0051        # into a new recommendation
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable, Sequence
from typing import Any

from bot.compiling.desk import refusal
from bot.compiling.service import COMMAND_LINE, Changed, Compiled, Compiling
from bot.config import Config
from bot.conversation.catalog import Catalog, load_catalog
from bot.localized import BASE_LANG
from bot.staff.moderation import Moderation, Refused
from bot.staff.roles import WHOLE_PROVINCE
from handlers.cli_storage import known_areas, missing
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
        verb.add_argument("--district", default=WHOLE_PROVINCE,
                          help="an area's code, or 'all' (default: all)")
    auto.add_argument("--year", type=int, default=None,
                      help="the forum year (default: the config's)")
    listing.add_argument("--year", type=int, default=None,
                         help="the forum year (default: every year that has recommendations)")
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
         labels: Callable[[str], str], catalog: Catalog, forum_year: int,
         year: int | None = None, years: Sequence[int] = ()) -> int:
    """Print what a verb did. `year`: the forum year a listing asked for (None: every year's,
    each under its year); `years`: the forum years that have recommendations, for a listing
    of one year that found none; `forum_year`: the config's."""
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
        shown = None
        for recommendation in result:
            if year is None and recommendation.forum_year != shown:
                shown = recommendation.forum_year
                print(f"forum year {shown}:")
            _show(recommendation, labels)
        if not result:
            print(_none_listed(year, years, forum_year))
    return 0


def _none_listed(year: int | None, years: Sequence[int], forum_year: int) -> str:
    """Why a listing is empty (the year looked at), and what to type next."""
    if year is None:
        return (f"no recommendations yet, in any forum year: childforum compile auto groups"
                f" the config's forum year, {forum_year} (--year YYYY for another)")
    if years:
        return (f"no recommendations of the forum year {year}; forum years that have some:"
                f" {', '.join(str(y) for y in years)} (childforum compile list --year"
                f" {years[-1]}, or without --year for every year's); to group {year}'s:"
                f" childforum compile auto --year {year}")
    return (f"no recommendations of the forum year {year}, nor of any other, yet:"
            f" childforum compile auto --year {year}")


def _show(item: Recommendation, labels: Callable[[str], str]) -> None:
    refs = ", ".join(m.ref for m in item.members)
    print(f"#{item.id} [{item.district} · {labels(item.topic)}] {len(item.members)} proposals:"
          f" {item.title}\n    {refs}")


async def run(config: Config, args: argparse.Namespace) -> int:
    if (problem := missing(config)) is not None:
        print(f"childforum compile: {problem}", file=sys.stderr)
        return 2
    asked = getattr(args, "district", WHOLE_PROVINCE)
    district = None if asked.lower() == WHOLE_PROVINCE else asked.upper()
    if district is not None and config.area(district) is None:
        print(f"childforum compile: unknown area {asked!r}; {known_areas(config)}",
              file=sys.stderr)
        return 2
    try:
        db = await open_configured(config)
    except DatabaseUnavailable as error:
        print(f"childforum compile: cannot use the database {error}", file=sys.stderr)
        return 1
    try:
        catalog = load_catalog(config)
        titles = {t.id: t.short[BASE_LANG] for t in catalog.topics}

        def label(topic: str) -> str:
            return titles.get(topic, topic)

        service = Compiling(db, Moderation(
            db, config.staff, {d.code for d in config.districts}, areas=config.area_codes))
        year = getattr(args, "year", None)
        result: Compiled | Changed | Refused | list[Recommendation]
        if args.verb == "auto":
            result = await service.auto(COMMAND_LINE, year or config.forum_year, district)
        elif args.verb == "list":
            result = await service.overview(COMMAND_LINE, year, district)
            years: list[int] = []
            if not result and year is not None:  # which years have some, to say so
                every = await service.overview(COMMAND_LINE, None, district)
                years = sorted({r.forum_year for r in every} if isinstance(every, list)
                               else set())
            return _say(result, label, catalog, config.forum_year, year, years)
        elif args.verb == "name":
            result = await service.name(COMMAND_LINE, args.id, args.title)
        elif args.verb == "merge":
            result = await service.merge(COMMAND_LINE, args.into, args.other)
        elif args.verb == "move":
            result = await service.move(COMMAND_LINE, args.ref, None if args.out else args.to)
        else:
            refs = [ref for ref in args.refs.split(",") if ref.strip()]
            result = await service.split(COMMAND_LINE, refs)
        return _say(result, label, catalog, config.forum_year)
    finally:
        await db.close()
