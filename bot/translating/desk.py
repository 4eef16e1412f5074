"""/translate: a translator turns a proposal written in another language (Bahnar, Jarai...) into
Vietnamese, field by field, before it goes on to moderation.

A proposal the language tagger could not place in the bot's languages waits out of the
moderation queue (storage.moderation) until a translator of its area has typed the Vietnamese of
each of the child's fields. `/translate` takes the oldest waiting one (or the one in hand) and
shows the child's words; each plain text after it is the next field's translation. Rights are
checked at every step (the `translate` duty of role `translator`, and admins, in the
proposal's area). The translation is kept beside the original, never in its place.
"""

from __future__ import annotations

import html
from collections.abc import Sequence
from dataclasses import replace

from bot.config import Config
from bot.conversation.catalog import Catalog
from bot.localized import BASE_LANG
from bot.safeguarding.cases import Cases
from bot.safeguarding.detector import assess
from bot.staff.chat import news
from bot.staff.moderation import Moderation, worded
from bot.staff.roles import Scope, StaffMember, scope_for
from bot.textnorm import clean
from bot.transport.outbox import Message
from storage import audit as audit_log
from storage import cases as case_store
from storage import translations as store
from storage.cases import NewCase
from storage.db import Database, Tx
from storage.translations import Original

MAX_CHARS = 3000


class TranslateDesk:
    def __init__(self, db: Database, moderation: Moderation, catalog: Catalog,
                 config: Config, cases: Cases | None = None) -> None:
        self.db, self.moderation, self.catalog, self.config = db, moderation, catalog, config
        self.cases = cases  # a translation that discloses harm opens a case
        self.pending: set[int] = set()  # translators whose next plain text is a translation
        self.langs: dict[int, str] = {}  # the language each translator last used
        self.digest_totals: dict[int, int] = {}

    async def digest(self, members: Sequence[StaffMember]) -> list[Message]:
        """Tell each translator, once, about proposals that came to wait for a translator of
        their areas since their last digest (all that wait, after a restart)."""
        notices = []
        for user_id in sorted({m.user_id for m in members if m.role == "translator"}):
            scope = scope_for(members, user_id, "translate")
            if scope.empty:
                continue
            arrived, waiting = await store.needing(self.db.reader, scope.districts)
            new = news(self.digest_totals, user_id, arrived, waiting)
            if new > 0:
                notices.append(Message(user_id, self._text(
                    "translate.digest", self.langs.get(user_id, BASE_LANG), count=new),
                    kind="notice"))
        return notices

    async def _scope(self, tx: Tx, user_id: int) -> Scope:
        return scope_for(await self.moderation.members(tx), user_id, "translate")

    async def may_translate(self, user_id: int) -> bool:
        async with self.db.transaction() as tx:
            return not (await self._scope(tx, user_id)).empty

    def dump(self, user_id: int) -> object | None:
        """Whether the translator owes the next field of the proposal in hand (which one is in
        the database already: storage.translations)."""
        return True if user_id in self.pending else None

    def load(self, user_id: int, data: object | None) -> None:
        if data:
            self.pending.add(user_id)
        else:
            self.pending.discard(user_id)

    def owes_text(self, user_id: int) -> bool:
        return user_id in self.pending

    async def start(self, user_id: int, lang: str) -> list[str]:
        """The proposal in hand, or the oldest waiting one in the translator's areas."""
        self.langs[user_id] = lang
        async with self.db.transaction() as tx:
            scope = await self._scope(tx, user_id)
            await self._release_stranded(tx, scope.districts)
            item = await store.in_hand(tx, user_id)
            if item is not None and not scope.covers(item.district):
                await store.release(tx, item.id)  # their area changed: not theirs to finish
                item = None
            item = item or await store.take_next(tx, user_id, scope.districts)
            if item is None:
                self.pending.discard(user_id)
                return [self._text("translate.none", lang)]
        self.pending.add(user_id)
        return [self._card(item, lang), self._ask(item, lang)]

    async def _release_stranded(self, tx: Tx, districts: frozenset[str] | None) -> None:
        """Proposals taken by someone who may translate them no more (revoked, moved to another
        area) wait for the area's translators again: nobody else would ever be offered them."""
        members = await self.moderation.members(tx)
        for proposal_id, district, holder in await store.holders(tx, districts):
            if not scope_for(members, holder, "translate").covers(district):
                await store.release(tx, proposal_id)

    async def typed(self, user_id: int, lang: str, text: str) -> list[str]:
        """A translator's text: the translation of the next field of the proposal in hand."""
        words = clean(text).strip()
        if not words:
            return [self._text("translate.empty", lang)]
        if len(words) > MAX_CHARS:
            return [self._text("translate.too_long", lang, limit=MAX_CHARS)]
        async with self.db.transaction() as tx:
            scope = await self._scope(tx, user_id)
            item = await store.in_hand(tx, user_id)
            if item is None or not scope.covers(item.district):
                self.pending.discard(user_id)
                return [self._text("translate.none" if item is None else "translate.forbidden",
                                   lang)]
            field = item.next_field
            assert field is not None
            if worded(item.words[field]) and not worded(words):  # "1": a menu's number (Zalo)
                return [self._text("translate.words", lang,
                                   field=self._text(f"translate.field.{field}", lang))]
            await store.save(tx, item.id, field, words)
            item = replace(item, translated={**item.translated, field: words})
            if item.next_field is not None:
                return [self._ask(item, lang)]
            await store.finish(tx, item.id)
            await audit_log.append(tx, user_id, "translate", "proposal", item.id, item.district,
                                   {"ref": item.ref, "lang": item.lang,
                                    "fields": sorted(item.words)})
            held = (await self.cases.translated(tx, item.id)
                    if item.held is not None and self.cases is not None else [])
            case = None if held else await self._safeguard(tx, item)
            left = await store.waiting(tx, scope.districts)
        self.pending.discard(user_id)
        if held:  # its safeguarding staff read it now; it still waits for them
            return [self._text("translate.done_held", lang, ref=item.ref, id=held[0],
                               left=left)]
        done = [self._text("translate.done", lang, ref=item.ref, left=left)]
        return done if case is None else [self._text("translate.flagged", lang, id=case), *done]

    async def _safeguard(self, tx: Tx, item: Original) -> int | None:
        """The detector reads the translation (it cannot read Bahnar or Jarai): a disclosure
        opens a case with both texts for safeguarding staff, and the proposal waits for it, as a
        child's own Vietnamese would. The case, or None."""
        translation = "\n\n".join(item.translated[f] for f in item.words if f in item.translated)
        found = assess(translation)
        if self.cases is None or not found.found:
            return None
        chat = await tx.fetchval("SELECT chat_id FROM proposals WHERE id = ?", (item.id,))
        both = "\n\n".join((*item.words.values(), "—", translation))
        case = await self.cases.open(tx, NewCase(
            int(chat) if chat is not None else None, item.district, "translation", found.tier,
            found.kind, both, ", ".join(found.weighed) or found.rule, proposal_id=item.id))
        await case_store.settle(tx, item.id)
        return case

    def _card(self, item: Original, lang: str) -> str:
        topic = self.catalog.topic(item.topic)
        district = self.config.area(item.district)
        lines = [self._text("translate.card", lang, ref=item.ref,
                            topic=html.escape(topic.short[lang] if topic else item.topic),
                            district=html.escape(district.label(lang) if district
                                                 else item.district))]
        if item.held is not None:  # what the child told may be about harm to them
            lines.append(self._text("translate.held", lang, id=item.held))
        for field, words in item.words.items():
            lines.append(f"<b>{self._text(f'translate.field.{field}', lang)}</b>: "
                         f"{html.escape(words)}")
        return "\n".join(lines)

    def _ask(self, item: Original, lang: str) -> str:
        field = item.next_field
        assert field is not None
        return self._text("translate.ask", lang,
                          field=self._text(f"translate.field.{field}", lang),
                          words=html.escape(item.words[field]))

    def _text(self, key: str, lang: str, **values: object) -> str:
        return self.catalog.texts.get(key, lang, **values)
