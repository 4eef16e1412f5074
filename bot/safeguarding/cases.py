"""Safeguarding cases, worked by people (as case-management tools of child helplines do).

    new ──acknowledge──▶ acknowledged ──refer (111, the commune's child-protection worker,
     │                        │          the police; with a note)──▶ referred
     └────────────────────────┴──close (cleared: nothing to worry about, a held proposal goes on
                                 to moderation; handled: it stays out of the forum)──▶ closed

Opening a case queues an alert to the staff with the safeguarding duty for its district at once
(never in a digest, never held by the quiet hours); a case nobody acknowledges within
`[safeguarding] escalate_minutes` goes to the admins. Staff may write to the child from a case:
the only place staff reach a child's chat, each message logged. The child's words go a set time
after closing (`purge_days`). Every step is in the audit log; results are values, never
exceptions (bot.staff.moderation's Refused and Conflict).
"""

from __future__ import annotations

import html
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Literal

from bot.config import Config
from bot.conversation.catalog import Catalog
from bot.conversation.engine import help_button
from bot.localized import BASE_LANG
from bot.messages import Button
from bot.staff.moderation import Conflict, Moderation, Refused, worded
from bot.staff.roles import Scope, scope_for
from bot.staff.words import NO_DISTRICT, Words
from bot.transport.outbox import Message, Outbox
from storage import audit as audit_log
from storage import cases as store
from storage.cases import CaseRow, NewCase
from storage.db import Database, Tx

SYSTEM = 0  # the audit log's actor for what the bot itself does
REFERRALS = ("hotline", "commune", "police")
Outcome = Literal["cleared", "handled"]
MAX_NOTE = 1200
PREVIEW = 300


@dataclass(frozen=True)
class Moved:
    case_id: int
    state: str
    version: int


def case_button(case: int, version: int, action: str) -> str:
    return f"c|{case}|{version}|{action}"


class Cases:
    def __init__(self, db: Database, moderation: Moderation, outbox: Outbox, catalog: Catalog,
                 config: Config,
                 clock: Callable[[], datetime] = lambda: datetime.now(UTC)) -> None:
        self.db, self.moderation, self.outbox = db, moderation, outbox
        self.catalog, self.config, self.clock = catalog, config, clock
        self.words = Words(catalog, config)

    # --- opening ------------------------------------------------------------------------------

    async def open(self, tx: Tx, case: NewCase) -> int:
        """Open a case in the caller's transaction and alert the staff at once."""
        case_id = await store.add(tx, case)
        await audit_log.append(tx, SYSTEM, "case_open", "case", case_id, case.district,
                               {"source": case.source, "tier": case.tier, "kind": case.kind})
        await self.outbox.enqueue(tx, [self._alert(user, case_id, case, "case.alert")
                                       for user in await self._watchers(tx, case.district)])
        return case_id

    async def _watchers(self, tx: Tx, district: str | None) -> list[int]:
        """Those holding the safeguarding duty there (admins may act on any case, but are told
        only when nobody holds the duty, or nobody took the case in time: see escalate)."""
        members = await self.moderation.members(tx)
        watchers = sorted({m.user_id for m in members if m.role == "safeguarding"
                           and (district is None or m.scope.covers(district))})
        if not watchers:  # nobody holds the duty there: the admins must know
            watchers = sorted({m.user_id for m in members if m.role == "admin"})
        return watchers

    async def translated(self, tx: Tx, proposal_id: int) -> list[int]:
        """A translator finished a proposal that open cases hold: their staff are told the
        child's words can be read now (on the case card). The cases."""
        found = await store.open_about(tx, proposal_id)
        for case in found:
            await self.outbox.enqueue(tx, [self._alert(user, case.id, case, "case.translated")
                                           for user in await self._watchers(tx, case.district)])
        return [case.id for case in found]

    def _alert(self, user_id: int, case_id: int, case: NewCase | CaseRow, key: str) -> Message:
        texts = self.catalog.texts

        def line(lang: str) -> str:
            return texts.get(key, lang, id=case_id, district=html.escape(
                self.words.district(case.district, lang, NO_DISTRICT)), source=texts.get(
                f"case.source.{case.source}", lang), tier=case.tier)

        text = "\n\n".join(line(lang) for lang in texts.readers(key))
        button = Button(texts.get("case.button.show", BASE_LANG, id=case_id),
                        case_button(case_id, 0, "show"))
        return Message(user_id, text, ((button,),), kind="alert")

    # --- working a case -----------------------------------------------------------------------

    async def scope(self, tx: Tx, user_id: int) -> Scope | Refused:
        members = await self.moderation.members(tx)
        scope = scope_for(members, user_id, "safeguarding")
        if scope.empty:
            return Refused("forbidden" if any(m.user_id == user_id for m in members)
                           else "not_staff")
        return scope

    async def list_open(self, user_id: int, limit: int = 10) -> tuple[list[CaseRow], int] | Refused:
        """Open cases of the caller's districts (and of no district), untaken and urgent first
        (storage.cases.open_cases), and how many there are in all."""
        async with self.db.transaction() as tx:
            scope = await self.scope(tx, user_id)
            if isinstance(scope, Refused):
                return scope
            return (await store.open_cases(tx, scope.districts, limit),
                    await store.count_open(tx, scope.districts))

    async def get(self, user_id: int, case_id: int) -> CaseRow | Refused:
        async with self.db.transaction() as tx:
            return await self._case(tx, user_id, case_id)

    async def view(self, user_id: int, case_id: int) -> CaseRow | Refused:
        """A case opened to read (its card, with the child's words): who read it and when is in
        the audit log, as every step taken on it is."""
        async with self.db.transaction() as tx:
            case = await self._case(tx, user_id, case_id)
            if not isinstance(case, Refused):
                await audit_log.append(tx, user_id, "case_viewed", "case", case.id,
                                       case.district)
            return case

    async def _case(self, tx: Tx, user_id: int, case_id: int) -> CaseRow | Refused:
        scope = await self.scope(tx, user_id)
        if isinstance(scope, Refused):
            return scope
        case = await store.get(tx, case_id)
        if case is None:
            return Refused("not_found")
        if case.district is not None and not scope.covers(case.district):
            return Refused("forbidden")
        return case

    async def acknowledge(self, user_id: int, case_id: int,
                          version: int) -> Moved | Conflict | Refused:
        return await self._move(user_id, case_id, version, "acknowledged", ("new",))

    async def refer(self, user_id: int, case_id: int, version: int, to: str,
                    note: str) -> Moved | Conflict | Refused:
        if to not in REFERRALS:
            return Refused("invalid", to)
        text = _note(note)
        if isinstance(text, Refused):
            return text
        return await self._move(user_id, case_id, version, "referred", ("new", "acknowledged"),
                                referred_to=to, referral_note=text)

    async def close(self, user_id: int, case_id: int, version: int, outcome: Outcome,
                    note: str) -> Moved | Conflict | Refused:
        text = _note(note)
        if isinstance(text, Refused):
            return text
        return await self._move(user_id, case_id, version, "closed",
                                ("new", "acknowledged", "referred"), outcome=outcome,
                                close_note=text)

    async def _move(self, user_id: int, case_id: int, version: int, state: str,
                    allowed: tuple[str, ...], **values: str) -> Moved | Conflict | Refused:
        async with self.db.transaction() as tx:
            case = await self._case(tx, user_id, case_id)
            if isinstance(case, Refused):
                return case
            if case.version != version:
                last = await audit_log.last_for_item(tx, "case", case_id)
                if last is None or last.actor_user_id == SYSTEM:  # no person acted on it
                    return Conflict(None, "changed", None)
                return Conflict(last.actor_user_id, last.action, last.at)
            if case.state not in allowed:
                return Refused("wrong_status", case.state)
            if not await store.move(tx, case_id, version, state, user_id, **values):
                return Conflict(None, "changed", None)
            detail: dict[str, object] = {"state": state}
            if "referred_to" in values:
                detail["to"] = values["referred_to"]
            if "outcome" in values:
                detail["outcome"] = values["outcome"]
                if case.proposal_id is not None:  # cleared, it goes on to moderation;
                    # handled, it stays out of the forum (never exported)
                    await store.settle(tx, case.proposal_id)
            await audit_log.append(tx, user_id, f"case_{state}", "case", case_id,
                                   case.district, detail)
        return Moved(case_id, state, version + 1)

    async def message(self, user_id: int, case_id: int, text: str) -> int | Refused:
        """Staff write to the child of a case: queued to the child, logged with the case."""
        body = _note(text)
        if isinstance(body, Refused):
            return body
        async with self.db.transaction() as tx:
            case = await self._case(tx, user_id, case_id)
            if isinstance(case, Refused):
                return case
            if case.chat_id is None:
                return Refused("erased")
            if case.state == "closed":  # a colleague closed it while this was being typed
                return Refused("wrong_status", "closed")
            message_id = await store.add_message(tx, case_id, user_id, body)
            lang = await tx.fetchval("SELECT lang FROM children WHERE chat_id = ?",
                                     (case.chat_id,)) or BASE_LANG
            head = self.catalog.texts.get("case.to_child", str(lang))
            reply = Button(self.catalog.texts.get("case.button.reply", str(lang)),
                           reply_button(case_id))
            await self.outbox.enqueue(tx, [Message(
                case.chat_id, f"{head}\n\n{html.escape(body)}",
                ((reply,), (help_button(self.catalog.texts, str(lang)),)), kind="alert")])
            await audit_log.append(tx, user_id, "case_message", "case", case_id, case.district,
                                   {"message": message_id})
        return message_id

    # --- the child's side ------------------------------------------------------------------

    async def child_replied(self, tx: Tx, case: CaseRow, text: str) -> None:
        """The child's answer to the staff who wrote from their case: kept with the case, and
        the one who wrote last (or the case's watchers) alerted at once, with the case number
        only (the words stay in the case)."""
        await store.add_message(tx, case.id, SYSTEM, text, from_child=True)
        await audit_log.append(tx, SYSTEM, "case_reply", "case", case.id, case.district, {})
        writer = await tx.fetchval("SELECT by_user_id FROM case_messages WHERE case_id = ?"
                                   " AND from_child = 0 ORDER BY id DESC", (case.id,))
        members = await self.moderation.members(tx)
        # The one who wrote, and every safeguarding officer of the area: one of them may be
        # off shift, and a child's answer must not wait for them.
        wrote = {int(writer)} if writer is not None and any(
            m.user_id == writer for m in members) else set()
        told = wrote | set(await self._watchers(tx, case.district))
        await self.outbox.enqueue(tx, [self._alert(user, case.id, case, "case.child_replied")
                                       for user in sorted(told)])

    async def child_erased(self, tx: Tx, still_open: Sequence[CaseRow]) -> None:
        """A child with open cases erased everything (/delete): the cases keep the child's
        words until worked (storage.cases.erase_chat), no way to write to the child is left,
        and their safeguarding officers are told at once."""
        for case in still_open:
            await audit_log.append(tx, SYSTEM, "case_child_erased", "case", case.id,
                                   case.district, {})
            await self.outbox.enqueue(tx, [self._alert(user, case.id, case, "case.child_erased")
                                           for user in await self._watchers(tx, case.district)])

    # --- jobs ---------------------------------------------------------------------------------

    async def escalate(self, minutes: float) -> int:
        """Cases nobody acknowledged within `minutes`: to the admins, once each."""
        before = (self.clock() - timedelta(minutes=minutes)).isoformat(timespec="seconds")
        async with self.db.transaction() as tx:
            late = await store.unacknowledged_before(tx, before)
            members = await self.moderation.members(tx)
            admins = sorted({m.user_id for m in members if m.role == "admin"})
            for case in late:
                await store.mark_escalated(tx, case.id)
                await audit_log.append(tx, SYSTEM, "case_escalated", "case", case.id,
                                       case.district, {"minutes": minutes})
                await self.outbox.enqueue(tx, [self._alert(admin, case.id, case,
                                                           "case.escalated")
                                               for admin in admins])
        return len(late)

    async def purge(self, days: float) -> int:
        """The children's words of cases closed more than `days` ago go."""
        before = (self.clock() - timedelta(days=days)).isoformat(timespec="seconds")
        async with self.db.transaction() as tx:
            purged = await store.purge(tx, before)
            if purged:
                self.db.erased()
            return purged


def _note(text: str) -> str | Refused:
    """A note or a message as staff typed it, or why it is refused (re-asked): empty or too
    long, or no words at all ("2": a menu's number typed where a note was asked)."""
    body = text.strip()
    if not body or len(body) > MAX_NOTE:
        return Refused("note_required")
    return body if worded(body) else Refused("words")


REPLY_PREFIX = "cr"  # ↩️ under a staff message to a child: "cr|<case id>"


def reply_button(case_id: int) -> str:
    return f"{REPLY_PREFIX}|{case_id}"


def parse_reply(data: str) -> int | None:
    """The case a child's ↩️ press is about (None: not such a press)."""
    prefix, _, number = data.partition("|")
    return int(number) if prefix == REPLY_PREFIX and number.isdigit() and len(number) < 16 \
        else None
