"""What the conversation is made of: UI texts, topic flows and profile choices, from data files."""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, replace
from functools import cached_property
from importlib import resources
from pathlib import Path
from typing import Any

from bot.config import Config, ConfigError
from bot.conversation.locales import (
    LanguageFile,
    load_language_files,
    merge,
    problems_of,
    read_toml,
)
from bot.localized import BASE_LANG, Localized

PROFILE_FIELDS = ("lang", "district", "age_band", "gender")  # language first: then all is readable
FACILITATOR_FIELDS = ("district", "lang")
ANSWER_FIELDS = ("seen", "proposal", "actors", "message")
GROUP_FIELDS = ("group_size", "group_ages", "school", "commune")
# Levels of government a forum held at a level no longer has above it (actors not offered).
GONE_LEVELS = {"commune": frozenset({"district"})}
GROUP_FLOW_FILE = "_group.toml"  # the steps a facilitator answers about the group, before a topic
MAX_GROUP_SIZE = 500
GENDERS = ("female", "male", "other", "unsaid")
_ID = re.compile(r"^[a-z][a-z0-9_]{0,19}$")


@dataclass(frozen=True)
class Texts:
    """Every text a person reads, by key and language; `langs` are the UI languages, the base
    (Vietnamese) first."""

    table: Mapping[str, Localized]
    langs: tuple[str, ...] = (BASE_LANG,)

    def get(self, key: str, lang: str, **values: object) -> str:
        text = self.table[key][lang]
        return text.format(**values) if values else text

    def get_at(self, key: str, lang: str, level: str, **values: object) -> str:
        """`get`, in the words of an area level's areas where the text has them (`variant`):
        "xã, phường" where forums are held by commune."""
        return self.get(self.variant(key, level), lang, **values)

    def variant(self, key: str, level: str) -> str:
        """The key of `key`'s text in the words of an area level: "export.all.commune" where
        forums are held by commune and ward, when there is one; else `key` (the district's
        words). Every text that names the areas is chosen so."""
        found = f"{key}.{level}"
        return found if found in self.table else key

    def own(self, key: str, lang: str) -> bool:
        """Has `lang` its own text for `key` (not the Vietnamese in its place)?"""
        return lang in self.table[key]

    def readers(self, key: str) -> tuple[str, ...]:
        """The languages that have `key` in their own words."""
        return tuple(lang for lang in self.langs if self.own(key, lang))

    def both(self, key: str, **values: object) -> str:
        """In every UI language that has the text, Vietnamese first: for the moments before a
        person picked a language."""
        return "\n\n".join(self.get(key, lang, **values) for lang in self.readers(key))

    def label(self, key: str) -> str:
        """A button before a language is picked: "Em đồng ý / I agree"."""
        return " / ".join(self.get(key, lang) for lang in self.readers(key))


@dataclass(frozen=True)
class Choice:
    id: str
    label: Localized


@dataclass(frozen=True)
class Step:
    id: str
    kind: str  # "text", "number" or "multi"
    prompt: Localized
    choices: tuple[Choice, ...] = ()
    optional: bool = False


@dataclass(frozen=True)
class Flow:
    id: str
    order: int
    title: Localized
    steps: tuple[Step, ...]
    # Ask at the review, once, whether what the child told is happening to them or to a child
    # they know (topics where a proposal may be a disclosure: violence, online, labour).
    ask_happening: bool = False
    short_title: Localized | None = None  # where room is short; else the title

    @property
    def short(self) -> Localized:
        return self.short_title or self.title

    def step(self, step_id: str) -> Step | None:
        return next((s for s in self.steps if s.id == step_id), None)

    @property
    def texts(self) -> dict[str, Localized]:
        """What a translator writes for this flow: its titles and each step's question."""
        found = {"title": self.title, **({"short_title": self.short_title}
                                          if self.short_title is not None else {})}
        return found | {step.id: step.prompt for step in self.steps}


@dataclass(frozen=True)
class Catalog:
    texts: Texts
    topics: tuple[Flow, ...]
    group: Flow
    profile: Mapping[str, tuple[Choice, ...]]
    max_chars: int
    area_level: str = "district"  # what the "district" profile question asks for

    @cached_property
    def area_codes(self) -> frozenset[str]:
        """The forum year's areas (the "district" question's choices)."""
        return frozenset(choice.id for choice in self.profile["district"])

    def topic(self, topic_id: str | None) -> Flow | None:
        return next((t for t in self.topics if t.id == topic_id), None)

    def flow(self, topic_id: str | None, facilitator: bool) -> Flow | None:
        """A topic's flow; a facilitator first answers the group's steps."""
        topic = self.topic(topic_id)
        if topic is None or not facilitator:
            return topic
        return replace(topic, steps=self.group.steps + topic.steps)


def _texts(path: object, key: str, value: object) -> Localized:
    """A text in its languages ({"vi": ..., "en": ...}; deeper tables are other texts)."""
    texts = {lang: text for lang, text in value.items() if isinstance(text, str)} if isinstance(
        value, dict) else {}
    if BASE_LANG not in texts:
        raise ConfigError(f"{path}: [{key}] needs a Vietnamese text ('{BASE_LANG}')")
    for lang, text in texts.items():
        problems = problems_of(text, texts[BASE_LANG]) if lang != BASE_LANG else []
        if problems:
            raise ConfigError(f"{path}: [{key}.{lang}] {'; '.join(problems)}")
    return Localized(texts)


def _flatten(table: dict[str, Any], prefix: str = "") -> dict[str, dict[str, Any]]:
    """[a.b] tables become "a.b" keys; a table may hold its own texts and deeper tables."""
    has_texts = any(isinstance(value, str) for value in table.values())
    found = {prefix.rstrip("."): table} if has_texts else {}
    for key, value in table.items():
        if isinstance(value, dict):
            found.update(_flatten(value, f"{prefix}{key}."))
    return found


CHILD_TEXTS = "ui.toml"  # what children read comes first (a translator starts there)


def shipped_texts() -> dict[str, Localized]:
    """Every file in bot/texts/ (ui.toml for children, staff.toml for staff...), merged."""
    table: dict[str, Localized] = {}
    folder = resources.files("bot") / "texts"
    for path in sorted(folder.iterdir(), key=lambda f: (f.name != CHILD_TEXTS, f.name)):
        if not path.name.endswith(".toml"):
            continue
        for key, value in _flatten(read_toml(path)).items():
            if key in table:
                raise ConfigError(f"{path}: [{key}] is defined twice in bot/texts/")
            table[key] = _texts(path, key, value)
    return table


def load_texts(added: tuple[LanguageFile, ...] = ()) -> Texts:
    """The shipped texts, with the languages added by files beside them."""
    table = shipped_texts()
    langs = [BASE_LANG]
    for texts in table.values():
        langs += [lang for lang in texts if lang not in langs]
    for language in added:
        table[f"lang.{language.code}"] = Localized({BASE_LANG: language.name})
        merge(table, ((language.code, language.texts),), str(language.path))
        langs.append(language.code)
    return Texts(table, tuple(langs))


def _choices(path: object, key: str, item: dict[str, Any], texts: Texts,
             age_bands: tuple[Choice, ...]) -> tuple[Choice, ...]:
    """A step's choices: ids labelled in the texts ("actors.family"), or the config's age bands."""
    if item.get("choices") == "age_bands":
        return age_bands
    choices = []
    for choice_id in item.get("choices", []):
        label_key = f"{item['id']}.{choice_id}"
        if label_key not in texts.table:
            raise ConfigError(f"{path}: [{key}.choices] has no text '{label_key}' in bot/texts/")
        choices.append(Choice(choice_id, texts.table[label_key]))
    return tuple(choices)


def _without_gone_levels(flow: Flow, area_level: str) -> Flow:
    """A forum held by commune (since 1 July 2025) has no district level of government above
    it: "who should act?" does not offer one. (A forum year held by district, as the 2023 plan
    was, keeps it; proposals that named it keep their label in the exports.)"""
    gone = GONE_LEVELS.get(area_level, frozenset())
    steps = tuple(replace(step, choices=tuple(c for c in step.choices if c.id not in gone))
                  if step.id == "actors" else step for step in flow.steps)
    return replace(flow, steps=steps)


def _load_flow(path: Path | Any, texts: Texts, fields: tuple[str, ...],
               age_bands: tuple[Choice, ...], added: tuple[LanguageFile, ...]) -> Flow:
    raw = read_toml(path)
    flow_id = raw.get("id")
    if not isinstance(flow_id, str) or not _ID.match(flow_id):
        raise ConfigError(f"{path}: [id] must be a short lower-case identifier")
    steps = []
    for index, item in enumerate(raw.get("steps", [])):
        key = f"steps[{index}]"
        step_id, kind = item.get("id"), item.get("kind", "text")
        if step_id not in fields:
            raise ConfigError(f"{path}: [{key}.id] must be one of {', '.join(fields)}")
        if kind not in ("text", "number", "multi"):
            raise ConfigError(f"{path}: [{key}.kind] must be 'text', 'number' or 'multi'")
        choices = _choices(path, key, item, texts, age_bands)
        if kind == "multi" and not choices:
            raise ConfigError(f"{path}: [{key}.choices] a 'multi' step needs choices")
        steps.append(Step(step_id, kind, _texts(path, f"{key}.prompt", item.get("prompt")),
                          choices, bool(item.get("optional", False))))
    if not steps:
        raise ConfigError(f"{path}: [steps] a flow needs at least one step")
    short = raw.get("short_title")
    flow = Flow(flow_id, int(raw.get("order", 0)), _texts(path, "title", raw.get("title")),
                tuple(steps), bool(raw.get("ask_if_happening", False)),
                _texts(path, "short_title", short) if short is not None else None)
    merge(flow.texts, ((language.code, language.flows.get(flow_id, {})) for language in added),
          f"[flows.{flow_id}] of a language file")
    return flow


def _flow_folder(flows_dir: Path | None) -> Any:
    return flows_dir if flows_dir else resources.files("bot.conversation") / "flows"


def load_catalog(config: Config) -> Catalog:
    """Texts, the topic flows (from config's flows_dir or the shipped ones) and profile choices."""
    added = load_language_files(config.languages_dir)
    texts = load_texts(added)
    profile = {
        "district": tuple(Choice(d.code, d.names) for d in config.districts),
        "age_band": tuple(
            Choice(band, Localized({lang: texts.get("age_band.label", lang, band=band)
                                    for lang in texts.readers("age_band.label")}))
            for band in config.age_bands),
        "gender": tuple(Choice(g, texts.table[f"gender.{g}"]) for g in GENDERS),
        "lang": tuple(Choice(lang, texts.table[f"lang.{lang}"]) for lang in texts.langs),
    }
    folder = _flow_folder(config.flows_dir)
    files = sorted((f for f in folder.iterdir() if f.name.endswith(".toml")), key=lambda f: f.name)
    topics = sorted((_without_gone_levels(
                        _load_flow(f, texts, ANSWER_FIELDS, profile["age_band"], added),
                        config.area_level)
                     for f in files if f.name != GROUP_FLOW_FILE),
                    key=lambda flow: (flow.order, flow.id))
    if not topics:
        raise ConfigError(f"{config.source}: [forum.flows_dir] holds no flow file")
    group_file = folder / GROUP_FLOW_FILE
    if not group_file.is_file():
        raise ConfigError(f"{config.source}: [forum.flows_dir] has no {GROUP_FLOW_FILE}")
    group = _load_flow(group_file, texts, GROUP_FIELDS, profile["age_band"], added)
    return Catalog(texts, tuple(topics), group, profile, config.answer_max_chars,
                   config.area_level)
