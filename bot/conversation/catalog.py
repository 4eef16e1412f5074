"""What the conversation is made of: UI texts, topic flows and profile choices, from data files."""

from __future__ import annotations

import re
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass, replace
from importlib import resources
from pathlib import Path
from typing import Any

from bot.config import Config, ConfigError

LANGS = ("vi", "en")
PROFILE_FIELDS = ("lang", "district", "age_band", "gender")  # language first: then all is readable
FACILITATOR_FIELDS = ("district", "lang")
ANSWER_FIELDS = ("seen", "proposal", "actors", "message")
GROUP_FIELDS = ("group_size", "group_ages", "school", "commune")
GROUP_FLOW_FILE = "_group.toml"  # the steps a facilitator answers about the group, before a topic
MAX_GROUP_SIZE = 500
GENDERS = ("female", "male", "other", "unsaid")
_ID = re.compile(r"^[a-z][a-z0-9_]{0,19}$")


@dataclass(frozen=True)
class Texts:
    """Every text a person reads, in Vietnamese and English."""

    table: Mapping[str, Mapping[str, str]]

    def get(self, key: str, lang: str, **values: object) -> str:
        text = self.table[key].get(lang) or self.table[key]["vi"]
        return text.format(**values) if values else text

    def both(self, key: str, **values: object) -> str:
        """Vietnamese first, then English: for the moments before a child picked a language."""
        return f"{self.get(key, 'vi', **values)}\n\n{self.get(key, 'en', **values)}"


@dataclass(frozen=True)
class Choice:
    id: str
    label: Mapping[str, str]


@dataclass(frozen=True)
class Step:
    id: str
    kind: str  # "text", "number" or "multi"
    prompt: Mapping[str, str]
    choices: tuple[Choice, ...] = ()
    optional: bool = False


@dataclass(frozen=True)
class Flow:
    id: str
    order: int
    title: Mapping[str, str]
    steps: tuple[Step, ...]
    # Ask at the review, once, whether what the child told is happening to them or to a child
    # they know (topics where a proposal may be a disclosure: violence, online, labour).
    ask_happening: bool = False
    short_title: Mapping[str, str] | None = None  # where room is short; else the title

    @property
    def short(self) -> Mapping[str, str]:
        return self.short_title or self.title

    def step(self, step_id: str) -> Step | None:
        return next((s for s in self.steps if s.id == step_id), None)


@dataclass(frozen=True)
class Catalog:
    texts: Texts
    topics: tuple[Flow, ...]
    group: Flow
    profile: Mapping[str, tuple[Choice, ...]]
    max_chars: int
    area_level: str = "district"  # what the "district" profile question asks for

    def topic(self, topic_id: str | None) -> Flow | None:
        return next((t for t in self.topics if t.id == topic_id), None)

    def flow(self, topic_id: str | None, facilitator: bool) -> Flow | None:
        """A topic's flow; a facilitator first answers the group's steps."""
        topic = self.topic(topic_id)
        if topic is None or not facilitator:
            return topic
        return replace(topic, steps=self.group.steps + topic.steps)


def _load_toml(path: Path | Any) -> dict[str, Any]:
    try:
        return tomllib.loads(path.read_text(encoding="utf-8"))
    except tomllib.TOMLDecodeError as error:
        raise ConfigError(f"{path}: not valid TOML: {error}") from error


def _bilingual(path: object, key: str, value: object) -> Mapping[str, str]:
    if not isinstance(value, dict) or not all(isinstance(value.get(lang), str) for lang in LANGS):
        raise ConfigError(f"{path}: [{key}] needs both 'vi' and 'en' texts")
    return {lang: value[lang] for lang in LANGS}


def _flatten(table: dict[str, Any], prefix: str = "") -> dict[str, dict[str, Any]]:
    """[a.b] tables become "a.b" keys; a table may hold its own texts and deeper tables."""
    has_texts = any(isinstance(table.get(lang), str) for lang in LANGS)
    found = {prefix.rstrip("."): table} if has_texts else {}
    for key, value in table.items():
        if isinstance(value, dict):
            found.update(_flatten(value, f"{prefix}{key}."))
    return found


def load_texts() -> Texts:
    """Every file in bot/texts/ (ui.toml for children, staff.toml for staff...), merged."""
    table: dict[str, Mapping[str, str]] = {}
    folder = resources.files("bot") / "texts"
    for path in sorted(folder.iterdir(), key=lambda f: f.name):
        if not path.name.endswith(".toml"):
            continue
        for key, value in _flatten(_load_toml(path)).items():
            if key in table:
                raise ConfigError(f"{path}: [{key}] is defined twice in bot/texts/")
            table[key] = _bilingual(path, key, value)
    return Texts(table)


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


def _load_flow(path: Path | Any, texts: Texts, fields: tuple[str, ...],
               age_bands: tuple[Choice, ...]) -> Flow:
    raw = _load_toml(path)
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
        steps.append(Step(step_id, kind, _bilingual(path, f"{key}.prompt", item.get("prompt")),
                          choices, bool(item.get("optional", False))))
    if not steps:
        raise ConfigError(f"{path}: [steps] a flow needs at least one step")
    short = raw.get("short_title")
    return Flow(flow_id, int(raw.get("order", 0)), _bilingual(path, "title", raw.get("title")),
                tuple(steps), bool(raw.get("ask_if_happening", False)),
                _bilingual(path, "short_title", short) if short is not None else None)


def _flow_folder(flows_dir: Path | None) -> Any:
    return flows_dir if flows_dir else resources.files("bot.conversation") / "flows"


def load_catalog(config: Config) -> Catalog:
    """Texts, the topic flows (from config's flows_dir or the shipped ones) and profile choices."""
    texts = load_texts()
    profile = {
        "district": tuple(Choice(d.code, {"vi": d.name, "en": d.name_en})
                          for d in config.districts),
        "age_band": tuple(
            Choice(band, {lang: texts.get("age_band.label", lang, band=band) for lang in LANGS})
            for band in config.age_bands),
        "gender": tuple(Choice(g, texts.table[f"gender.{g}"]) for g in GENDERS),
        "lang": tuple(Choice(lang, texts.table[f"lang.{lang}"]) for lang in LANGS),
    }
    folder = _flow_folder(config.flows_dir)
    files = sorted((f for f in folder.iterdir() if f.name.endswith(".toml")), key=lambda f: f.name)
    topics = sorted((_load_flow(f, texts, ANSWER_FIELDS, profile["age_band"])
                     for f in files if f.name != GROUP_FLOW_FILE),
                    key=lambda flow: (flow.order, flow.id))
    if not topics:
        raise ConfigError(f"{config.source}: [forum.flows_dir] holds no flow file")
    group_file = folder / GROUP_FLOW_FILE
    if not group_file.is_file():
        raise ConfigError(f"{config.source}: [forum.flows_dir] has no {GROUP_FLOW_FILE}")
    group = _load_flow(group_file, texts, GROUP_FIELDS, profile["age_band"])
    return Catalog(texts, tuple(topics), group, profile, config.answer_max_chars,
                   config.area_level)
