"""Languages as data: texts by language, the files translators drop in, and their checks.

Vietnamese is the base: every text has it, a text another language lacks is shown in it, and
officers' files are written in it. English ships beside it in the same files (`bot/texts/*.toml`,
the flow files). Any other language is one file, `<code>.toml`, in `[forum] languages_dir`:

    name = "Bahnar"                 # the language's own name, on the language menu
    [texts]
    "welcome" = "..."               # any key of bot/texts/*.toml
    [flows.violence]                # a topic flow's id (or "group" for the group steps)
    title = "..."
    short_title = "..."
    seen = "..."                    # the question of step "seen"

`childforum texts template <code>` writes such a file with every key to fill in, and
`childforum texts check` lists, per language, what is missing, unknown or broken.
"""

from __future__ import annotations

import re
import string
import tomllib
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from html.parser import HTMLParser
from pathlib import Path
from typing import Any

from bot.config import ConfigError
from bot.localized import BASE_LANG, Localized

_CODE = re.compile(r"^[a-z]{2,3}(-[a-z0-9]{2,8})?$")  # ISO 639-1/639-3, optionally a variant
# What Telegram's HTML parse mode accepts (core.telegram.org/bots/api#html-style).
_TAGS = {"b", "strong", "i", "em", "u", "ins", "s", "strike", "del", "a", "code", "pre",
         "tg-spoiler", "span", "blockquote", "tg-emoji"}


@dataclass(frozen=True)
class LanguageFile:
    """A language added by a file: its code, own name, texts, and flow texts by flow id."""

    code: str
    name: str
    path: Path
    texts: Mapping[str, str] = field(default_factory=dict)
    flows: Mapping[str, Mapping[str, str]] = field(default_factory=dict)


def read_toml(path: Path | Any) -> dict[str, Any]:
    try:
        return tomllib.loads(path.read_text(encoding="utf-8"))
    except tomllib.TOMLDecodeError as error:
        raise ConfigError(f"{path}: not valid TOML: {error}") from error


def load_language_files(folder: Path | None) -> tuple[LanguageFile, ...]:
    """Every `<code>.toml` in `folder` (none without a folder), in the order of their codes."""
    if folder is None:
        return ()
    if not folder.is_dir():
        raise ConfigError(f"{folder}: [forum.languages_dir] is not a folder")
    found = []
    for path in sorted(folder.glob("*.toml")):
        code = path.stem
        if not _CODE.match(code) or code in (BASE_LANG, "en"):
            raise ConfigError(f"{path}: name the file by the language's code (bdq.toml, jra.toml);"
                              f" {code!r} is not one, or is shipped already")
        raw = read_toml(path)
        name, texts, flows = raw.get("name"), raw.get("texts", {}), raw.get("flows", {})
        if not isinstance(name, str) or not name.strip():
            raise ConfigError(f"{path}: [name] the language's own name is needed (the menu shows"
                              " it)")
        if not isinstance(texts, dict) or not all(isinstance(v, str) for v in texts.values()):
            raise ConfigError(f"{path}: [texts] must hold only \"key\" = \"text\" lines")
        if not isinstance(flows, dict) or not all(
                isinstance(f, dict) and all(isinstance(v, str) for v in f.values())
                for f in flows.values()):
            raise ConfigError(f"{path}: [flows.<id>] must hold only step = \"text\" lines")
        found.append(LanguageFile(code, name.strip(), path, texts, flows))
    return tuple(found)


def fields_of(text: str) -> set[str]:
    """The {placeholders} a text fills in, as written: "ref", or "" for "{}", "ref!r" or
    "ref:>9" (which the bot's plain {name} values cannot fill). ValueError for a "{" or "}"
    without its pair."""
    return {name + (f"!{conversion}" if conversion else "") + (f":{spec}" if spec else "")
            for _, name, spec, conversion in string.Formatter().parse(text) if name is not None}


class _TagCheck(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.open: list[str] = []
        self.problems: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag not in _TAGS:
            self.problems.append(f"<{tag}> is not a tag Telegram shows")
        self.open.append(tag)

    def handle_endtag(self, tag: str) -> None:
        if not self.open or self.open.pop() != tag:
            self.problems.append(f"</{tag}> closes no <{tag}>")


def problems_of(text: str, base: str) -> list[str]:
    """What would break a translated text: a placeholder the bot never fills, a lone brace,
    or bad HTML."""
    uses = ', '.join('{' + n + '}' for n in sorted(fields_of(base))) or 'none'
    try:
        found = [f"{{{name}}} is not filled in by the bot (the Vietnamese uses {uses})"
                 for name in sorted(fields_of(text) - fields_of(base))]
    except ValueError as error:  # "{ref" or a lone "}": the bot could not fill the text in
        found = [f"a {{ or }} without its pair ({error}; the Vietnamese uses {uses})"]
    try:
        check = _TagCheck()
        check.feed(text)
        check.close()
    except ValueError as error:  # a "{" the formatter cannot read is reported by fields_of
        return [*found, str(error)]
    found += check.problems + [f"<{tag}> is never closed" for tag in check.open]
    return found


def merge(base: Mapping[str, Localized], added: Iterable[tuple[str, Mapping[str, str]]],
          where: str) -> None:
    """Put each added language's texts beside the base ones (keys it does not know are left
    for `texts check` to report); a broken text stops the start with its file and key."""
    for code, texts in added:
        for key, text in texts.items():
            target = base.get(key)
            if target is None or not text.strip():  # unknown, or not translated yet
                continue
            problems = problems_of(text, target[BASE_LANG])
            if problems:
                raise ConfigError(f"{where} ({code}): [{key}] {'; '.join(problems)}")
            target[code] = text


@dataclass(frozen=True)
class LanguageReport:
    code: str
    name: str
    total: int
    missing: tuple[str, ...]
    unknown: tuple[str, ...]

    @property
    def translated(self) -> int:
        return self.total - len(self.missing)


def report(code: str, name: str, known: Mapping[str, Localized],
           written: Iterable[str] = ()) -> LanguageReport:
    """What a language has of the texts (`known`: key → texts), and keys it has that are not."""
    missing = tuple(key for key, texts in known.items() if code not in texts)
    unknown = tuple(sorted(set(written) - set(known)))
    return LanguageReport(code, name, len(known), missing, unknown)
