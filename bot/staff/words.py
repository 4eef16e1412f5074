"""How staff desks name things in a staff member's language: codes of areas, topics, languages,
scopes and the catalog's labels (not escaped: each desk escapes what it puts in HTML)."""

from __future__ import annotations

from bot.config import Config
from bot.conversation.catalog import Catalog
from bot.staff.roles import Scope

NO_DISTRICT = "case.no_district"  # a case without an area: "no area given"


class Words:
    def __init__(self, catalog: Catalog, config: Config) -> None:
        self.catalog, self.config = catalog, config

    def text(self, key: str, lang: str, **values: object) -> str:
        """A text in the words of the forum's areas ("xã, phường" where it is held by
        commune)."""
        return self.catalog.texts.get_at(key, lang, self.config.area_level, **values)

    def text_at(self, level: str, key: str, lang: str, **values: object) -> str:
        """A text in the words of another level's areas ("huyện" for the 2023 forum's)."""
        return self.catalog.texts.get_at(key, lang, level, **values)

    def label(self, prefix: str, code: str, lang: str, **values: object) -> str:
        """The text `prefix.code`, or the code as it is (for codes added after these texts;
        with an `id`, "code #id")."""
        key = f"{prefix}.{code}"
        if key in self.catalog.texts.table:
            return self.text(key, lang, **values)
        return f"{code} #{values['id']}" if "id" in values else code

    def district(self, code: str | None, lang: str, unknown: str = "staff.unknown") -> str:
        """An area's name; `unknown`'s text for none, the code for one no longer configured."""
        area = self.config.area(code) if code else None
        if area is None:
            return code or self.text(unknown, lang)
        return area.label(lang)

    def topic(self, topic: str, lang: str, short: bool = False) -> str:
        """A topic's title (or its short title); the id for a topic no longer in the flows."""
        flow = self.catalog.topic(topic)
        if flow is None:
            return topic
        return (flow.short if short else flow.title)[lang]

    def language(self, code: str, lang: str) -> str:
        key = f"lang.{code}"
        if key in self.catalog.texts.table:
            return self.text(key, lang)
        return self.text("staff.lang.other", lang)

    def scope(self, scope: Scope, lang: str) -> str:
        """The areas a scope covers, by name (not escaped)."""
        if scope.districts is None:
            return self.text("staff.scope.all", lang)
        return ", ".join(self.district(code, lang) for code in sorted(scope.districts))
