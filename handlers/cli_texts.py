"""`childforum texts`: what each language has of the texts children and staff read.

    childforum texts check                 # per language: translated, missing, unknown, broken
    childforum texts check --strict        # and fail when a text is missing too
    childforum texts template bdq --name "Bahnar" --out languages/bdq.toml

A language file holds what a translator wrote; a text left empty is not translated yet (the bot
shows the Vietnamese). See bot/conversation/locales.py for the file's layout.
"""

from __future__ import annotations

import argparse
import json
import re
import sys
from collections.abc import Callable, Mapping
from dataclasses import replace
from pathlib import Path
from typing import Any

from bot.config import Config, ConfigError
from bot.conversation.catalog import Catalog, load_catalog
from bot.conversation.locales import (
    LanguageReport,
    load_language_files,
    problems_of,
    report,
)
from bot.localized import BASE_LANG, Localized

SHOWN = 15  # missing keys listed per language without --all


def add_parser(commands: Any, common: Callable[[argparse.ArgumentParser], None]) -> None:
    parser = commands.add_parser("texts", help="check the languages' texts, or start a new one")
    verbs = parser.add_subparsers(dest="verb", required=True)
    check = verbs.add_parser("check", help="per language: what is translated, missing, broken")
    check.add_argument("--strict", action="store_true",
                       help="exit 1 when any text is missing (not only when one is broken)")
    check.add_argument("--all", action="store_true", help="list every missing key")
    template = verbs.add_parser("template", help="write a language file for translators")
    template.add_argument("code", help="the language's code: bdq (Bahnar), jra (Jarai)…")
    template.add_argument("--name", default="", help="the language's own name, for the menu")
    template.add_argument("--out", type=Path, required=True, help="the file to write")
    for verb in (check, template):
        common(verb)


def known_texts(catalog: Catalog) -> dict[str, Localized]:
    """Every text a translator can write: "key" for bot/texts, "flows.<id>.<name>" for flows."""
    found = {key: texts for key, texts in catalog.texts.table.items()
             if not key.startswith("lang.")}
    for flow in (*catalog.topics, catalog.group):
        found |= {f"flows.{flow.id}.{name}": texts for name, texts in flow.texts.items()}
    return found


def run(config: Config, args: argparse.Namespace) -> int:
    try:
        shipped = load_catalog(replace(config, languages_dir=None))
        if args.verb == "template":
            return _template(shipped, args)
        added = load_language_files(config.languages_dir)
    except ConfigError as error:
        print(f"childforum: {error}", file=sys.stderr)
        return 2
    known = known_texts(shipped)
    failed = False
    print(f"{len(known)} texts; Vietnamese ({BASE_LANG}) is the base, and shown wherever a"
          " language lacks a text.")
    for lang in shipped.texts.langs[1:]:
        failed |= _print(report(lang, shipped.texts.get(f"lang.{lang}", lang), known), [],
                         args) and args.strict
    for language in added:
        written = {key: text for key, text in language.texts.items() if text.strip()}
        written |= {f"flows.{flow}.{name}": text for flow, texts in language.flows.items()
                    for name, text in texts.items() if text.strip()}
        with_it = {key: Localized({**texts, **({language.code: written[key]}
                                                if key in written else {})})
                   for key, texts in known.items()}
        found = report(language.code, language.name, with_it, written)
        broken = [f"[{key}] {problem}" for key, text in written.items() if key in known
                  for problem in problems_of(text, known[key][BASE_LANG])]
        missing = _print(found, broken, args)
        failed |= bool(broken or found.unknown) or (missing and args.strict)
    return 1 if failed else 0


def _print(found: LanguageReport, broken: list[str], args: argparse.Namespace) -> bool:
    """One language's lines; True when texts are missing."""
    print(f"\n{found.code} ({found.name}): {found.translated} of {found.total} translated")
    if found.missing:
        shown = found.missing if args.all else found.missing[:SHOWN]
        more = len(found.missing) - len(shown)
        print(f"  missing ({len(found.missing)}, shown in Vietnamese): {', '.join(shown)}"
              + (f" … and {more} more (--all lists them)" if more else ""))
    if found.unknown:
        print(f"  unknown keys, ignored by the bot: {', '.join(found.unknown)}")
    for problem in broken:
        print(f"  broken (the bot will not start): {problem}")
    return bool(found.missing)


_LANGUAGE_CODE = re.compile(r"[a-z]{2,3}")
SHIPPED = (BASE_LANG, "en")  # the languages bot/texts/ is written in


def _comment(label: str, text: str) -> list[str]:
    lines = text.splitlines() or [""]
    return [f"# {label}: {lines[0]}", *(f"#     {line}" for line in lines[1:])]


def _entries(texts: Mapping[str, Localized], key_of: Callable[[str], str]) -> list[str]:
    out = []
    for key, text in texts.items():
        out += [*_comment("vi", text[BASE_LANG]),
                *(_comment("en", text["en"]) if "en" in text else []),
                f'{key_of(key)} = ""', ""]
    return out


def _template(catalog: Catalog, args: argparse.Namespace) -> int:
    problem = None
    if not _LANGUAGE_CODE.fullmatch(args.code):
        problem = (f"{args.code!r} is not a language code: two or three small letters"
                   " (ISO 639), for example bdq (Bahnar), jra (Jarai)")
    elif args.code in SHIPPED:
        problem = (f"{args.code} is written into the bot already (bot/texts/): a file for it"
                   " would change nothing")
    elif args.out.exists():
        problem = f"{args.out} exists; choose another --out"
    elif not args.out.parent.is_dir():
        problem = f"the folder {args.out.parent} does not exist"
    if problem is not None:
        print(f"childforum: {problem}", file=sys.stderr)
        return 2
    known = known_texts(catalog)
    lines = [f"# Texts in {args.name or args.code}, for childforum. Fill in the empty \"\" after"
             " each key; a text left empty is shown in Vietnamese.",
             "# Keep {placeholders} as they are, and HTML tags (<b>…</b>) balanced.",
             "# `childforum texts check` lists what is missing or broken.",
             f"name = {json.dumps(args.name or args.code, ensure_ascii=False)}", "", "[texts]"]
    lines += _entries({k: v for k, v in known.items() if not k.startswith("flows.")}, json.dumps)
    for flow in (*catalog.topics, catalog.group):
        lines += [f"[flows.{flow.id}]"]
        lines += _entries(flow.texts, lambda name: name)
    args.out.write_text("\n".join(lines), encoding="utf-8")
    print(f"{args.out}: {len(known)} texts to translate")
    return 0
