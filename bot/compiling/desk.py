"""/compile in chat: an officer's typed command, turned into a compiling action and its reply.

The same verbs as `childforum compile` (see docs/compiling.md), for officers who work in chat.
"""

from __future__ import annotations

import html
from collections.abc import Callable

from bot.compiling.service import TITLE_MAX, Changed, Compiled, Compiling, Planned
from bot.config import Config
from bot.conversation.catalog import Catalog
from bot.staff.chat import pages
from bot.staff.moderation import Refused
from bot.textnorm import small_int
from storage.recommendations import Recommendation

MAX_LISTED = 200  # recommendations listed in chat, in as many messages as they need


class CompileDesk:
    def __init__(self, service: Compiling, catalog: Catalog, config: Config) -> None:
        self.service, self.catalog, self.config = service, catalog, config

    async def may_compile(self, user_id: int) -> bool:
        return not (await self.service.scope_in(self.service.db.reader, user_id)).empty

    async def prepare(self, user_id: int, text: str) -> Planned | Refused | None:
        """Before the command's transaction: "/compile auto"'s grouping (seconds for thousands
        of proposals), worked out without the write lock; None for any other verb."""
        words = text.split()[1:]
        if not words or words[0].lower() != "auto":
            return None
        district = words[1].upper() if len(words) > 1 else None
        return await self.service.plan(user_id, self.config.forum_year, district)

    async def handle(self, user_id: int, lang: str, text: str,
                     prepared: Planned | Refused | None = None) -> list[str]:
        """The replies to one /compile command (already known to come from an officer);
        `prepared`: what `prepare` worked out for it."""
        words = text.split()[1:]
        verb = words[0].lower() if words else "list"
        year = self.config.forum_year
        if verb == "auto":
            district = words[1].upper() if len(words) > 1 else None
            return [self._say(await self.service.auto(user_id, year, district, prepared), lang)]
        if verb == "list" or not words:
            return self._list(await self.service.overview(user_id, year), lang)
        numbers = [small_int(word) for word in words[1:]]
        if verb == "name" and len(words) >= 3 and (group := numbers[0]) is not None:
            title = text.split(None, 3)[3] if len(text.split(None, 3)) > 3 else ""
            return [self._say(await self.service.name(user_id, group, title), lang)]
        if (verb == "merge" and len(words) == 3 and (into := numbers[0]) is not None
                and (other := numbers[1]) is not None):
            return [self._say(await self.service.merge(user_id, into, other), lang)]
        if verb == "move" and len(words) == 3 and (numbers[1] is not None
                                                   or words[2].lower() == "out"):
            result = await self.service.move(user_id, words[1], numbers[1])
            if isinstance(result, Changed) and result.recommendation is None:
                return [self._text("compile.out", lang, ref=html.escape(words[1].upper()))]
            return [self._say(result, lang)]
        if verb == "split" and len(words) >= 2:  # "A,B", "A, B" or "A B"
            refs = " ".join(words[1:]).replace(",", " ").split()
            return [self._say(await self.service.split(user_id, refs), lang)]
        return [self._text("compile.help", lang)]

    def _say(self, result: Compiled | Changed | Refused, lang: str) -> str:
        if isinstance(result, Refused):
            return refusal(self.catalog, result, lang, html.escape)
        if isinstance(result, Compiled):
            return self._text("compile.auto", lang, grouped=result.grouped,
                              created=result.created, alone=result.alone)
        assert result.recommendation is not None
        return self._item(result.recommendation, lang)

    def _list(self, found: list[Recommendation] | Refused, lang: str) -> list[str]:
        if isinstance(found, Refused):
            return [self._say(found, lang)]
        if not found:
            return [self._text("compile.none", lang)]
        ordered = sorted(found, key=lambda r: (r.district, r.topic, -len(r.members)))
        # In as many messages as they need (one message holds about 4,000 characters)
        listed = [self._item(item, lang) for item in ordered[:MAX_LISTED]]
        if len(ordered) > MAX_LISTED:
            listed.append(self._text("compile.more", lang, more=len(ordered) - MAX_LISTED))
        return pages(listed, "\n\n")

    def _item(self, item: Recommendation, lang: str) -> str:
        topic = self.catalog.topic(item.topic)
        district = self.config.area(item.district)
        return self._text(
            "compile.item", lang, number=item.id,
            district=html.escape(district.label(lang) if district else item.district),
            topic=html.escape(topic.short[lang] if topic else item.topic),
            count=len(item.members), title=html.escape(item.title),
            refs=", ".join(m.ref for m in item.members))

    def _text(self, key: str, lang: str, **values: object) -> str:
        return self.catalog.texts.get(key, lang, **values)


def refusal(catalog: Catalog, result: Refused, lang: str,
            escape: Callable[[str], str]) -> str:
    """Why compiling refused, in words (what it names passed through `escape`: HTML in chat,
    as it is on the command line)."""
    key = (f"compile.invalid.{result.detail}" if result.reason == "invalid"
           else f"compile.refused.{result.reason}")
    if key not in catalog.texts.table:
        key = "compile.refused.forbidden"
    return catalog.texts.get(key, lang, what=escape(result.detail or "?"), limit=TITLE_MAX)
