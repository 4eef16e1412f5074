"""Safeguarding staff in chat, for any channel with buttons: `/cases` and each case's card.

    /cases (/safeguarding)   open cases of the caller's districts, oldest first, with their age
    a case's card            what was said, why it was flagged, where it stands; buttons for the
                             next step: take it, refer it (111, the commune, the police: with a
                             note), write to the child, close it (cleared, or handled: with a
                             note)

Callback data "c|<case>|<version>|<action>": the version moves at every step, so an old card's
press is told who acted first. Kept in memory: the note or message a staff member is typing
(lost on a restart: they press the button again).
"""

from __future__ import annotations

import html
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime

from bot.config import Config
from bot.conversation.catalog import Catalog
from bot.messages import Button, Keyboard
from bot.safeguarding.cases import REFERRALS, Cases, Moved, Outcome, case_button
from bot.staff.chat import Caller, cut, fit, when
from bot.staff.moderation import Conflict, Refused
from bot.staff.prompts import Asked
from bot.staff.words import NO_DISTRICT, Words
from bot.textnorm import small_int
from storage import cases as store
from storage.cases import CaseRow

TEXT_SHOWN = 700
SAID_SHOWN = 6  # the last messages staff and the child wrote each other, on the card
LISTED = 10
# A note refused for these is asked for again (the same step: type it again).
_TYPE_AGAIN = ("note_required", "words")


@dataclass(frozen=True)
class Typing:
    kind: str  # refer, close, message
    case: int
    version: int
    value: str = ""  # refer: to whom; close: the outcome


class CaseDesk:
    def __init__(self, cases: Cases, catalog: Catalog, config: Config) -> None:
        self.cases, self.catalog, self.config = cases, catalog, config
        self.words = Words(catalog, config)
        self.typing = Asked(Typing)  # the text each officer owes (bot.staff.prompts)

    async def may_work(self, user_id: int) -> bool:
        async with self.cases.db.transaction() as tx:
            return not isinstance(await self.cases.scope(tx, user_id), Refused)

    def owes_text(self, user_id: int) -> bool:
        return user_id in self.typing

    # --- the list -----------------------------------------------------------------------------

    async def list(self, caller: Caller) -> None:
        self.typing.pop(caller.user_id, None)
        found = await self.cases.list_open(caller.user_id, LISTED)
        if isinstance(found, Refused):
            self._say(caller, "case.refused.forbidden")
            return
        rows, total = found
        if not rows:
            self._say(caller, "case.list.empty")
            return
        lines = [self._text(caller, "case.list.head", count=total)]
        lines += [self._text(caller, "case.list.item", id=case.id, age=self._age(case),
                             district=self._district(caller, case.district),
                             source=self._text(caller, f"case.source.{case.source}"),
                             state=self._text(caller, f"case.state.{case.state}"))
                  for case in rows]
        if total > len(rows):
            lines.append(self._text(caller, "case.list.more", more=total - len(rows)))
        buttons = tuple((Button(self._text(caller, "case.button.show", id=case.id),
                                case_button(case.id, case.version, "show")),) for case in rows)
        caller.send(fit(lines)[0], buttons)

    # --- a case -------------------------------------------------------------------------------

    async def press(self, caller: Caller, data: str) -> None:
        self.typing.pop(caller.user_id, None)
        parts = data.split("|")
        case_id = small_int(parts[1]) if len(parts) == 4 else None
        version = small_int(parts[2]) if len(parts) == 4 else None
        if case_id is None or version is None:
            self._say(caller, "case.unknown_button")
            return
        action, _, value = parts[3].partition(":")
        if action == "show":
            await self._show(caller, case_id, opened=True)
        elif action == "ack":
            await self._after(caller, case_id, await self.cases.acknowledge(
                caller.user_id, case_id, version), "case.done.acknowledged")
        elif action in ("refer", "close", "message") and await self._current(
                caller, case_id, version):
            if (action == "refer" and value not in REFERRALS) or (
                    action == "close" and value not in ("cleared", "handled")):
                self._say(caller, "case.unknown_button")
                return
            self.typing[caller.user_id] = Typing(action, case_id, version, value)
            self._say(caller, f"case.ask.{action}", id=case_id)
        elif action not in ("refer", "close", "message"):
            self._say(caller, "case.unknown_button")

    async def typed(self, caller: Caller, text: str) -> None:
        typing = self.typing.pop(caller.user_id, None)
        if typing is None:
            return
        if typing.kind == "message":
            sent = await self.cases.message(caller.user_id, typing.case, text)
            if isinstance(sent, Refused):
                if sent.reason in _TYPE_AGAIN:
                    self.typing[caller.user_id] = typing
                self._refused(caller, sent, typing)
            else:
                self._say(caller, "case.done.message", id=typing.case)
            return
        if typing.kind == "refer":
            result = await self.cases.refer(caller.user_id, typing.case, typing.version,
                                            typing.value, text)
            key = "case.done.referred"
        else:
            outcome: Outcome = "cleared" if typing.value == "cleared" else "handled"
            result = await self.cases.close(caller.user_id, typing.case, typing.version,
                                            outcome, text)
            key = "case.done.closed"
        if isinstance(result, Refused) and result.reason in _TYPE_AGAIN:
            self.typing[caller.user_id] = typing
        await self._after(caller, typing.case, result, key)

    async def _current(self, caller: Caller, case_id: int, version: int) -> bool:
        """Is the pressed card still the case as it is? If not, say so and show it anew."""
        case = await self.cases.get(caller.user_id, case_id)
        if isinstance(case, Refused):
            self._refused(caller, case, None)
            return False
        if case.version != version:
            self._say(caller, "case.moved")
            await self._show(caller, case_id)
            return False
        return True

    async def _after(self, caller: Caller, case_id: int, result: Moved | Conflict | Refused,
                     key: str) -> None:
        if isinstance(result, Refused):
            self._refused(caller, result, None)
            return
        if isinstance(result, Conflict) and result.by_user_id is None:
            self._say(caller, "case.outdated")  # nobody on record: a forged or garbled version
        elif isinstance(result, Conflict):
            self._say(caller, "case.conflict", who=result.by_user_id, when=when(result.at))
        else:
            self._say(caller, key, id=case_id)
        await self._show(caller, case_id)

    async def _show(self, caller: Caller, case_id: int, opened: bool = False) -> None:
        """The case's card; `opened`: asked for to read it (audited), not shown anew after a
        step (audited as that step)."""
        case = await (self.cases.view if opened else self.cases.get)(caller.user_id, case_id)
        if isinstance(case, Refused):
            self._refused(caller, case, None)
            return
        said = await store.conversation(self.cases.db.reader, case.id)
        others = await store.others_open(self.cases.db.reader, case)
        caller.send(self._card(caller, case, said, others), self._buttons(caller, case))

    def _card(self, caller: Caller, case: CaseRow,
              said: Sequence[tuple[bool, str, str]] = (), others: Sequence[int] = ()) -> str:
        lines = [self._text(caller, "case.card.head", id=case.id,
                            state=self._text(caller, f"case.state.{case.state}")),
                 self._text(caller, "case.card.where", district=self._district(
                     caller, case.district), source=self._text(
                     caller, f"case.source.{case.source}"), tier=case.tier,
                     opened=when(case.created_at), age=self._age(case))]
        if case.kind:
            lines.append(self._text(caller, "case.card.kind", kind=self._label(
                caller, "case.kind", case.kind)))
        if case.text:
            lines.append(self._text(caller, "case.card.text",
                                    text=html.escape(cut(case.text, TEXT_SHOWN))))
        if case.translation:
            lines.append(self._text(caller, "case.card.translation",
                                    text=html.escape(cut(case.translation, TEXT_SHOWN))))
        elif case.awaits_translation:
            lines.append(self._text(caller, "case.card.untranslated"))
        if case.weighed:
            lines.append(self._text(caller, "case.card.weighed",
                                    words=html.escape(cut(case.weighed, 200))))
        if case.wants_contact is not None:
            lines.append(self._text(caller, "case.card.contact_yes" if case.wants_contact
                                    else "case.card.contact_no"))
        for from_child, text, at in said[-SAID_SHOWN:]:  # staff and child, written to each other
            if text:
                lines.append(self._text(caller, "case.card.said.child" if from_child
                                        else "case.card.said.staff", when=when(at),
                                        text=html.escape(cut(text, TEXT_SHOWN))))
        if others:
            lines.append(self._text(caller, "case.card.others", cases=", ".join(
                f"#{number}" for number in others)))
        forgotten = case.state == "closed" and case.close_note is None  # purged, or erased
        if forgotten:
            lines.append(self._text(caller, "case.card.forgotten"))
        elif case.chat_id is None:
            lines.append(self._text(caller, "case.card.erased"))
        if case.proposal_id is not None:
            lines.append(self._text(caller, "case.card.proposal", id=case.proposal_id))
        if case.acknowledged_by:
            lines.append(self._text(caller, "case.card.acknowledged", who=case.acknowledged_by,
                                    when=when(case.acknowledged_at)))
        if case.referred_to:
            lines.append(self._text(
                caller, "case.card.referred" if case.referral_note else "case.card.referred_bare",
                to=self._text(caller, f"case.referral.{case.referred_to}"),
                note=html.escape(case.referral_note or ""), when=when(case.referred_at)))
        if case.closed_at:
            lines.append(self._text(
                caller, "case.card.closed" if case.close_note else "case.card.closed_bare",
                outcome=self._text(caller, f"case.outcome.{case.outcome or 'handled'}"),
                note=html.escape(case.close_note or ""), when=when(case.closed_at)))
        return fit(lines)[0]

    def _buttons(self, caller: Caller, case: CaseRow) -> Keyboard:
        def button(key: str, action: str) -> Button:
            return Button(self._text(caller, key), case_button(case.id, case.version, action))

        rows: list[tuple[Button, ...]] = []
        if case.state == "new":
            rows.append((button("case.button.ack", "ack"),))
        if case.state in ("new", "acknowledged"):
            rows.append(tuple(button(f"case.button.refer.{to}", f"refer:{to}")
                              for to in REFERRALS))
        if case.state != "closed":
            if case.chat_id is not None:
                rows.append((button("case.button.message", "message"),))
            rows.append((button("case.button.close.cleared", "close:cleared"),
                         button("case.button.close.handled", "close:handled")))
        return tuple(rows)

    # --- words --------------------------------------------------------------------------------

    def _age(self, case: CaseRow) -> str:
        opened = datetime.fromisoformat(case.created_at)
        minutes = int((datetime.now(UTC) - opened).total_seconds() // 60)
        if minutes < 60:
            return f"{minutes}′"
        if minutes < 48 * 60:
            return f"{minutes // 60}h"
        return f"{minutes // 1440}d"

    def _district(self, caller: Caller, code: str | None) -> str:
        return html.escape(self.words.district(code, caller.lang, NO_DISTRICT))

    def _label(self, caller: Caller, prefix: str, code: str) -> str:
        key = f"{prefix}.{code}"
        return (self.catalog.texts.get(key, caller.lang) if key in self.catalog.texts.table
                else html.escape(code))

    def _text(self, caller: Caller, key: str, **values: object) -> str:
        return self.catalog.texts.get(key, caller.lang, **values)

    def _say(self, caller: Caller, key: str, **values: object) -> None:
        caller.send(self._text(caller, key, **values))

    def _refused(self, caller: Caller, refused: Refused, typing: Typing | None) -> None:
        key = f"case.refused.{refused.reason}"
        if key not in self.catalog.texts.table:
            key = "case.refused.other"
        self._say(caller, key, state=self._label(caller, "case.state", refused.detail))

