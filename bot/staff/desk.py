"""The staff side of the chat, for any channel: the moderation queue, the audit view, roles,
invites and the moderators' digest; /stats is bot.staff.stats, the names of areas, topics and
labels bot.staff.words.

No channel here: a channel's handler turns a staff member's command, press or typed text into a
call of StaffDesk inside the update's unit of work (bot.transport.outbox.Work), so that what the
staff member did, what they and the child are told, and "update handled" commit together. An
update is *taken* only when it is a staff matter of a staff member; everything else falls through
untouched (a non-staff user who sends /queue gets exactly the unknown-command answer).

Callback data are the service's "q<version>|<action>|<id>" (bot.staff.moderation.button_data):
queue actions (approve, reject, edit, flag, skip), sub-keyboards (back, reason:<reason>,
field:<field>) and the safeguarding list's "handled" (id: the flag, version 0: flags have none).
Role, district and version are checked again by the service at every press.

Typed input a moderator owes (the reason for "other", an edit's corrected text) is kept with
the update's commit (bot.staff.prompts), so a restart or another worker loses none. Kept in memory
only, and harmless to lose on a restart:
- the items each moderator skipped, and the last card shown (to quote the text being edited);
- the digest's last-seen totals: after a restart one extra digest may be sent.
"""

from __future__ import annotations

import html
import logging
import secrets
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from typing import Literal

from bot.config import Config
from bot.conversation.catalog import Catalog
from bot.localized import BASE_LANG
from bot.messages import Button, Keyboard
from bot.safeguarding.cases import Cases
from bot.staff.chat import MAX_TEXT, Caller, cut, fit, news, when
from bot.staff.moderation import (
    EDITABLE_FIELDS,
    REASONS,
    AuditRow,
    ChildNotice,
    Conflict,
    Done,
    Moderation,
    QueueItem,
    QueuePress,
    Refused,
    Result,
    Stats,
    button_data,
    parse_button,
)
from bot.staff.prompts import Asked
from bot.staff.roles import ROLES, WHOLE_PROVINCE, StaffMember, close_code
from bot.staff.stats import StatsDesk
from bot.staff.words import Words
from bot.textnorm import small_int
from bot.transport.channels import MAX_CHAT_ID
from bot.transport.outbox import Message, Outbox
from storage import moderation as moderation_store
from storage.cases import NewCase
from storage.db import Tx
from storage.moderation import ProposalRow

log = logging.getLogger("childforum.staff")
COMMANDS = ("queue", "audit", "stats", "grant", "revoke", "invite")
DIGEST_ROLES = frozenset({"moderator", "admin"})
DIGEST_KEY = "digest:"  # a digest's dedupe key: "digest:<user>:<count>:<token>"
CARD_FIELDS = ("seen", "proposal", "actors", "message")
# Characters of each part of a queue card. Every part is cut, so that even with every field at
# its longest (answers and edits of up to 1200 characters, long names in the config) the whole
# card stays inside one message (CARD_BUDGET < MAX_TEXT).
FIELD_LIMIT = 800  # seen, proposal, message: one answer (the default answer_max_chars)
# A translated field shares FIELD_LIMIT with its translation (six long texts did not fit: the
# card was refused, and /queue showed nothing): the Vietnamese moderators read up to this, the
# child's words the rest (at least FIELD_LIMIT - TRANSLATION_LIMIT).
TRANSLATION_LIMIT = 600
ACTORS_LIMIT = 200  # the labels of who should act
PLACE_LIMIT = 150  # each of school and commune
NAME_LIMIT = 60  # ref, topic, district, language, age band or range, group size
CARD_BUDGET = (3 * FIELD_LIMIT + ACTORS_LIMIT + 2 * PLACE_LIMIT + 8 * NAME_LIMIT
               + 400)  # + the fixed words, labels, separators and numbers of the texts
FLAG_TEXT_LIMIT = 300
AUDIT_TEXT_LIMIT = 80
FLAGS_SHOWN = 8
AUDIT_SHOWN = 25
INVITE_HOURS, INVITE_USES = 72, 30
assert CARD_BUDGET < MAX_TEXT


@dataclass(frozen=True)
class Pending:
    """Typed input a staff member owes: their next plain text message is taken as it."""

    kind: Literal["reason", "edit"]
    target: int  # the proposal id
    version: int = 0
    field: str = ""
    card: int | None = None  # the card message whose buttons go when it is done


def _reviewable_total(stats: Stats) -> int:
    """How many times proposals reached moderators: all but those pending out of /queue
    (waiting for a translator, held by a case), and once more each one sent back to the
    translators (so that it never goes down). It grows when one arrives, is translated or is
    cleared."""
    pending = sum(n for (_, _, status), n in stats.by_district_topic_status.items()
                  if status == "pending")
    return stats.total - (pending - stats.queued) + stats.sent_back


class StaffDesk:
    """The staff side of the chat, for any channel: what a staff member's command, press or
    typed text does and what they are told (bot.staff.moderation does and checks the rest)."""

    def __init__(self, moderation: Moderation, catalog: Catalog, outbox: Outbox,
                 config: Config, cases: Cases) -> None:
        self.moderation, self.catalog, self.outbox, self.config, self.cases = (
            moderation, catalog, outbox, config, cases)
        self.words = Words(catalog, config)
        self.statistics = StatsDesk(moderation, self.words, self._refused)
        self.digest_seconds = config.digest_minutes * 60
        self.pending = Asked(Pending)  # the reason or edit each owes (bot.staff.prompts)
        self.skipped: dict[int, set[int]] = {}
        self.cards: dict[int, QueueItem] = {}
        self.langs: dict[int, str] = {}
        self.digest_totals: dict[int, int] = {}
        # Other desks' digests, sent with the moderators' (the translators': bot.translating).
        self.other_digests: list[Callable[[Sequence[StaffMember]],
                                          Awaitable[list[Message]]]] = []
        self.commands: dict[str, Callable[[Caller, list[str]], Awaitable[None]]] = {
            "queue": lambda caller, _: self.show_next(caller),
            "audit": lambda caller, _: self.show_audit(caller),
            "grant": self.grant,
            "revoke": self.revoke,
            "invite": self.invite,
        }
        self.presses: dict[str, Callable[[Caller, QueuePress, str, int | None],
                                         Awaitable[None]]] = {
            "approve": self._approve, "flag": self._flag, "skip": self._skip,
            "translate": self._to_translator,
            "reject": self._show_reasons, "edit": self._show_fields, "back": self._show_main,
            "reason": self._reason, "field": self._field,
        }

    # --- entry points ------------------------------------------------------------------------

    async def is_staff(self, user_id: int) -> bool:
        return await self.moderation.is_staff(user_id)

    async def _members(self) -> tuple[StaffMember, ...]:
        """Roles in force now (config.toml and active grants)."""
        async with self.moderation.db.transaction() as db:
            return await self.moderation.members(db)

    async def command(self, caller: Caller, name: str, args: list[str]) -> None:
        """A staff command (a name of COMMANDS but "stats": see `stats`)."""
        self.langs[caller.user_id] = caller.lang
        self.pending.pop(caller.user_id, None)
        await self.commands[name](caller, args)

    async def press(self, caller: Caller, data: str, card: int | None) -> None:
        """A press on a staff button; `card`: the pressed message, when it still has buttons."""
        self.langs[caller.user_id] = caller.lang
        self.pending.pop(caller.user_id, None)
        press = parse_button(data)
        action, _, value = press.action.partition(":") if press else ("", "", "")
        if press is None or action not in self.presses:
            self._say(caller, "staff.unknown_button")
        else:
            await self.presses[action](caller, press, value, card)

    def owes_text(self, user_id: int) -> bool:
        """True when this staff member's next plain text is the input they were asked for."""
        return user_id in self.pending

    async def typed(self, caller: Caller, text: str) -> None:
        """The typed input a staff member owed (a reason, an edit, a note)."""
        pending = self.pending.pop(caller.user_id, None)
        if pending is None:
            return
        await self._typed_decision(caller, pending, text)

    # --- the queue ---------------------------------------------------------------------------

    async def show_next(self, caller: Caller) -> None:
        """The oldest pending proposal of the caller's districts that they did not skip."""
        skipped = self.skipped.get(caller.user_id, set())
        item = await self.moderation.next_pending(caller.user_id, skipped)
        if isinstance(item, Refused):
            self._refused(caller, item)
        elif item is None:
            self.skipped.pop(caller.user_id, None)
            self._say(caller, "staff.queue.skipped" if skipped else "staff.queue.empty")
        else:
            self.cards[caller.user_id] = item
            caller.send(self._card(item, caller.lang),
                             self._main_keyboard(caller.lang, item.id, item.version))

    def _card(self, item: QueueItem, lang: str) -> str:
        """Every part is cut (see CARD_BUDGET): the card always fits one message."""
        get = self.catalog.texts.get

        def name(text: str) -> str:
            return html.escape(cut(text, NAME_LIMIT))

        who = (get("staff.card.group", lang, size=name(str(item.group_size or "?")),
                   ages=name(item.group_age_range or "?")) if item.is_group
               else get("staff.card.child", lang, band=name(item.age_band or "?")))
        language = name(self.words.language(item.lang, lang))
        if item.needs_translation and not item.translated:
            language += " · " + get("staff.card.translate", lang)
        head = [get("staff.card.head", lang, ref=name(item.ref),
                    topic=name(self.words.topic(item.topic, lang))),
                get("staff.card.where", lang,
                    district=name(self.words.district(item.district, lang)), who=who,
                    language=language, date=when(item.created_at))]
        place = " · ".join(cut(p, PLACE_LIMIT) for p in (item.school, item.commune) if p)
        if item.is_group and place:
            head.append(get("staff.card.place", lang, place=html.escape(place)))
        blocks = ["\n".join(head)]
        for field in CARD_FIELDS:
            value = self._actors(item.actors, lang) if field == "actors" else getattr(item, field)
            limit = ACTORS_LIMIT if field == "actors" else FIELD_LIMIT
            translated = getattr(item, f"{field}_vi", None)
            if translated:
                translated = cut(translated, TRANSLATION_LIMIT)
                limit -= len(translated)
            if value:
                blocks.append(f"<b>{get(f'staff.field.{field}', lang)}</b>: "
                              f"{html.escape(cut(value, limit))}")
            if translated:  # the original above, the translator's Vietnamese under it
                blocks.append(f"<i>{get('staff.card.translation', lang)}</i>: "
                              f"{html.escape(translated)}")
        if item.hold_reason:  # held by a case, or was: why, and which words weighed
            case, _, rest = item.hold_reason.partition("|")
            kind, _, words = rest.partition("|")
            blocks.append(get("staff.card.held" if item.held_by_case is not None
                              else "staff.card.cleared", lang,
                              case=html.escape(cut(case, NAME_LIMIT)),
                              kind=html.escape(self.words.label("case.kind", cut(kind, NAME_LIMIT),
                                                           lang)) or "—",
                              words=html.escape(cut(words.replace("|", ", "), NAME_LIMIT * 2))
                              or "—"))
        blocks.append(get("staff.card.remaining", lang, remaining=item.remaining))
        return "\n\n".join(blocks)

    def _actors(self, actors: str, lang: str) -> str:
        return ", ".join(self.words.label("actors", a, lang) for a in actors.split(",") if a)

    def _button(self, lang: str, key: str, action: str, target: int, version: int,
                **values: object) -> tuple[Button]:
        label = self.catalog.texts.get(key, lang, **values)
        return (Button(label, button_data(action, target, version)),)

    def _main_keyboard(self, lang: str, proposal_id: int, version: int) -> Keyboard:
        def button(action: str) -> tuple[Button]:
            return self._button(lang, f"staff.button.{action}", action, proposal_id, version)

        return (button("approve") + button("reject"), button("edit") + button("flag"),
                button("translate") + button("skip"))

    def _choices(self, lang: str, press: QueuePress, kind: str,
                 choices: Sequence[tuple[str, str]]) -> Keyboard:
        """One button per (text key, value) choice, then Back."""
        rows = [self._button(lang, key, f"{kind}:{value}", press.proposal_id, press.version)
                for key, value in choices]
        rows.append(self._button(lang, "staff.button.back", "back", press.proposal_id,
                                 press.version))
        return tuple(rows)

    async def _shown(self, caller: Caller, proposal_id: int) -> ProposalRow | None:
        """The proposal as its card showed it, or, for a card this process did not show (after
        a restart; with several workers), as it is now."""
        item = self.cards.get(caller.user_id)
        if item is not None and item.id == proposal_id:
            return item
        return await moderation_store.get(caller.work.tx, proposal_id)

    @staticmethod
    def _editable(item: ProposalRow | None) -> tuple[str, ...]:
        """The fields worth offering: those with text (a translation only where there is one;
        all for a proposal gone, whose press is refused)."""
        if item is None:
            return EDITABLE_FIELDS
        return tuple(f for f in EDITABLE_FIELDS if getattr(item, f))

    # --- presses -----------------------------------------------------------------------------

    async def _approve(self, caller: Caller, press: QueuePress, value: str,
                       card: int | None) -> None:
        result = await self.moderation.approve(caller.user_id, press.proposal_id, press.version)
        await self._after(caller, result, card)

    async def _flag(self, caller: Caller, press: QueuePress, value: str,
                    card: int | None) -> None:
        result = await self.moderation.flag_safeguarding(caller.user_id, press.proposal_id,
                                                         press.version)
        if isinstance(result, Done) and result.item is not None:
            item = result.item
            text = "\n\n".join(t for t in (item.seen, item.proposal, item.message) if t)
            await self.cases.open(caller.work.tx, NewCase(
                item.notify_chat_id, item.district, "moderator", 2, text=text,
                proposal_id=item.id))
        await self._after(caller, result, card)

    async def _to_translator(self, caller: Caller, press: QueuePress, value: str,
                             card: int | None) -> None:
        result = await self.moderation.needs_translator(caller.user_id, press.proposal_id,
                                                        press.version)
        await self._after(caller, result, card)

    async def _skip(self, caller: Caller, press: QueuePress, value: str,
                    card: int | None) -> None:
        result = await self.moderation.skip(caller.user_id, press.proposal_id, press.version)
        if isinstance(result, Done):
            self.skipped.setdefault(caller.user_id, set()).add(result.proposal_id)
        await self._after(caller, result, card)

    async def _still_open(self, caller: Caller, press: QueuePress, card: int | None) -> bool:
        """Check role, district and version (the service's `skip` changes nothing); if the
        item moved on, say so as for any other action."""
        check = await self.moderation.skip(caller.user_id, press.proposal_id, press.version)
        if isinstance(check, Done):
            return True
        await self._after(caller, check, card)
        return False

    async def _show_keyboard(self, caller: Caller, press: QueuePress, card: int | None,
                             keyboard: Keyboard, ask: str) -> None:
        """The card's next buttons on the card; where there is no card to change (a channel
        without buttons, such as Zalo, or a message gone) in a new message asking `ask`."""
        if not await self._still_open(caller, press, card):
            return
        if card is None:
            caller.send(self.catalog.texts.get(ask, caller.lang),
                       keyboard)
        else:
            self._set_keyboard(caller, card, keyboard)

    async def _show_reasons(self, caller: Caller, press: QueuePress, value: str,
                            card: int | None) -> None:
        reasons = [(f"staff.reason.{reason}", reason) for reason in REASONS]
        await self._show_keyboard(caller, press, card,
                                  self._choices(caller.lang, press, "reason", reasons),
                                  "staff.choose.reason")

    async def _show_fields(self, caller: Caller, press: QueuePress, value: str,
                           card: int | None) -> None:
        fields = [(f"staff.field.{f}", f)
                  for f in self._editable(await self._shown(caller, press.proposal_id))]
        await self._show_keyboard(caller, press, card,
                                  self._choices(caller.lang, press, "field", fields),
                                  "staff.choose.field")

    async def _show_main(self, caller: Caller, press: QueuePress, value: str,
                         card: int | None) -> None:
        await self._show_keyboard(caller, press, card, self._main_keyboard(
            caller.lang, press.proposal_id, press.version), "staff.choose.action")

    async def _reason(self, caller: Caller, press: QueuePress, value: str,
                      card: int | None) -> None:
        if value not in REASONS:
            self._say(caller, "staff.unknown_button")
        elif value != "other":
            await self._after(caller, await self.moderation.reject(
                caller.user_id, press.proposal_id, press.version, value), card)
        elif await self._still_open(caller, press, card):
            self.pending[caller.user_id] = Pending("reason", press.proposal_id, press.version,
                                                   card=card)
            self._say(caller, "staff.ask.reason")

    async def _field(self, caller: Caller, press: QueuePress, value: str,
                     card: int | None) -> None:
        item = await self._shown(caller, press.proposal_id)
        if value not in self._editable(item):  # forged; or a translation, on one without
            self._say(caller, "staff.unknown_button")
        elif await self._still_open(caller, press, card):
            self.pending[caller.user_id] = Pending("edit", press.proposal_id, press.version,
                                                   value, card)
            await self._ask_edit(caller, item, value)

    async def _ask_edit(self, caller: Caller, item: ProposalRow | None, field: str) -> None:
        get = self.catalog.texts.get
        text = get("staff.ask.edit", caller.lang, field=get(f"staff.field.{field}", caller.lang))
        current = getattr(item, field) if item is not None else None
        if current:
            text += f"\n{get('staff.ask.current', caller.lang)}\n\n{html.escape(current)}"
        caller.send(text)

    async def _typed_decision(self, caller: Caller, pending: Pending, text: str) -> None:
        if pending.kind == "reason":
            result = await self.moderation.reject(caller.user_id, pending.target,
                                                  pending.version, "other", text)
        else:
            result = await self.moderation.edit(caller.user_id, pending.target,
                                                pending.version, pending.field, text)
        if isinstance(result, Refused) and result.reason in ("invalid", "note_required", "words"):
            self.pending[caller.user_id] = pending  # say what is wrong, and wait for a retry
            self._refused(caller, result)
            return
        await self._after(caller, result, pending.card)

    async def _after(self, caller: Caller, result: Result, card: int | None) -> None:
        """Tell the moderator what happened (and the child, on a decision); then the next item."""
        if isinstance(result, Refused):
            self._refused(caller, result)
            return
        self._set_keyboard(caller, card, ())
        if isinstance(result, Conflict):
            caller.send(self._conflict(caller, result))
        elif result.action != "skip":
            self._say(caller, f"staff.done.{result.action}", ref=html.escape(result.ref))
            if result.notice is not None:
                self._notify(caller, result.notice)
        await self.show_next(caller)

    def _conflict(self, caller: Caller, conflict: Conflict) -> str:
        """Who did what, when, to the proposal."""
        get, lang = self.catalog.texts.get, caller.lang
        if conflict.by_user_id is None:  # nobody is on record (a forged or garbled version)
            return get("staff.outdated", lang)
        action = f"staff.action.{conflict.action}"
        if action not in self.catalog.texts.table:
            action = "staff.action.changed"
        return get("staff.conflict", lang, who=self._who(conflict.by_user_id, caller),
                   action=get(action, lang), when=when(conflict.at))

    def _who(self, user_id: int | None, caller: Caller) -> str:
        if user_id == caller.user_id:
            return self.catalog.texts.get("staff.you", caller.lang)
        return self.catalog.texts.get("staff.user", caller.lang, id=user_id or "?")

    def _notify(self, caller: Caller, notice: ChildNotice) -> None:
        """Tell the child (or the group's facilitator) about a decision, in their language."""
        texts = self.catalog.texts

        def get(key: str, **values: object) -> str:
            if notice.adult and f"{key}.facilitator" in texts.table:
                key = f"{key}.facilitator"  # a facilitator is an adult
            return texts.get(key, notice.lang, **values)

        ref = html.escape(notice.ref)
        if notice.status == "approved":
            text = get("staff.notice.approved", ref=ref)
        elif notice.status == "rejected" and notice.reason == "other":
            text = get("staff.notice.rejected_note", ref=ref, note=html.escape(notice.note or ""))
        elif notice.status == "rejected":
            text = get("staff.notice.rejected", ref=ref,
                       reason=get(f"staff.child_reason.{notice.reason}"))
        else:
            return
        caller.work.add(Message(notice.chat_id, text, kind="notice", channel=caller.channel))

    # --- audit and stats ---------------------------------------------------------------------

    async def show_audit(self, caller: Caller) -> None:
        rows = await self.moderation.audit(caller.user_id, AUDIT_SHOWN)
        if isinstance(rows, Refused):
            self._refused(caller, rows)
        elif not rows:
            self._say(caller, "staff.audit.empty")
        else:
            head = self.catalog.texts.get("staff.audit.head", caller.lang)
            text, _ = fit([head, *(self._audit_line(row, caller) for row in rows)])
            caller.send(text)

    def _audit_line(self, row: AuditRow, caller: Caller) -> str:
        """When, who, what, which item, and the details that matter (reason, role, edit)."""
        lang, detail = caller.lang, row.detail
        item = detail.get("ref") or self.words.label("staff.item", row.item_type, lang,
                                                id=row.item_id)
        parts = [when(row.at), self._who(row.actor_user_id, caller),
                 self.words.label("staff.action", row.action, lang), str(item)]
        if "reason" in detail:
            parts.append(self.words.label("staff.reason", str(detail["reason"]), lang))
        if "role" in detail:
            parts.append(" ".join(str(detail[k]) for k in ("role", "districts") if k in detail))
        if row.before is not None and row.after is not None:
            field = self.words.label("staff.field", str(detail.get("field")), lang)
            before, after = (f"«{cut(text, AUDIT_TEXT_LIMIT)}»" if text
                             else self.catalog.texts.get("staff.audit.erased", lang)
                             for text in (row.before, row.after))
            parts.append(f"{field}: {before} → {after}")
        return "• " + html.escape(" · ".join(parts), quote=False)

    async def stats(self, caller: Caller, chart: bool = True,
                    args: Sequence[str] = ()) -> None:
        """/stats [year] (bot.staff.stats): read-only, before the update's unit of work."""
        await self.statistics.show(caller, chart, args)

    # --- roles and invites -------------------------------------------------------------------

    async def grant(self, caller: Caller, args: list[str]) -> None:
        """/grant <user_id> <role> <all|CODE,CODE>"""
        user_id = small_int(args[0], MAX_CHAT_ID) if len(args) == 3 else None
        if user_id is None:
            self._say(caller, "staff.grant.usage", roles=", ".join(ROLES))
            return
        districts = (WHOLE_PROVINCE if args[2].lower() == WHOLE_PROVINCE
                     else [code.strip().upper() for code in args[2].split(",") if code.strip()])
        if not districts:
            self._say(caller, "staff.grant.usage", roles=", ".join(ROLES))
            return
        result = await self.moderation.grant(caller.user_id, user_id, args[1].lower(),
                                             districts)
        if isinstance(result, Refused) and result.reason == "unknown_role":
            self._say(caller, "staff.grant.unknown_role", role=html.escape(result.detail),
                      roles=", ".join(ROLES))
        elif isinstance(result, Refused) and result.reason == "unknown_area":
            self._unknown_area(caller, result.detail.split(","))
        elif isinstance(result, Refused):
            self._refused(caller, result)
        else:
            scope = self.words.scope(result.scope, caller.lang)
            self._say(caller, "staff.grant.done", role=html.escape(result.role),
                      user=result.user_id, scope=html.escape(scope))

    def _unknown_area(self, caller: Caller, codes: list[str]) -> None:
        """Codes that name no area: said in the caller's words, with the nearest code as a
        hint (a province's list has a hundred codes: not listed)."""
        hint = close_code(codes[0], self.moderation.scope_codes) if len(codes) == 1 else None
        self._say(caller, "staff.grant.unknown_area",
                  codes=html.escape(", ".join(codes)),
                  hint=self.catalog.texts.get("staff.grant.did_you_mean", caller.lang,
                                              code=hint) if hint else "")

    async def revoke(self, caller: Caller, args: list[str]) -> None:
        """/revoke <user_id> <role>"""
        user_id = small_int(args[0], MAX_CHAT_ID) if len(args) == 2 else None
        if user_id is None:
            self._say(caller, "staff.revoke.usage")
            return
        result = await self.moderation.revoke(caller.user_id, user_id, args[1].lower())
        if isinstance(result, Refused):
            self._refused(caller, result)
        else:
            self._say(caller, "staff.revoke.done", role=html.escape(result.role),
                            user=result.user_id)

    async def invite(self, caller: Caller, args: list[str]) -> None:
        """/invite <DISTRICT> [hours] [uses]: a facilitator invite code and its deep link."""
        numbers = [small_int(n, 10**6) for n in args[1:]]
        if not 1 <= len(args) <= 3 or None in numbers:
            self._say(caller, "staff.invite.usage")
            return
        hours = numbers[0] if len(numbers) > 0 and numbers[0] is not None else INVITE_HOURS
        uses = numbers[1] if len(numbers) > 1 and numbers[1] is not None else INVITE_USES
        result = await self.moderation.create_invite(caller.user_id, args[0].upper(), hours,
                                                     uses)
        if isinstance(result, Refused):
            self._refused(caller, result)
            return
        link = caller.deep_link.format(code=result.code)
        self._say(caller, "staff.invite.done",
                        district=html.escape(self.words.district(result.district, caller.lang)),
                        code=result.code, expires=when(result.expires_at),
                        uses=result.max_uses, link=html.escape(link))

    # --- the digest --------------------------------------------------------------------------

    async def digest(self) -> None:
        """Tell each moderator, once, about proposals that reached /queue since their last
        digest (and translators, through `other_digests`, about what waits for them)."""
        members = await self._members()
        new = {user_id: count
               for user_id in sorted({m.user_id for m in members if m.role in DIGEST_ROLES})
               if (count := await self._digest_new(user_id)) > 0}
        others = [notice for other in self.other_digests for notice in await other(members)]
        if not new and not others:
            return
        async with self.outbox.db.transaction() as tx:
            notices = [await self._digest_one(tx, user_id, count)
                       for user_id, count in new.items()]
            await self.outbox.enqueue(tx, [*notices, *others])

    async def _digest_new(self, user_id: int) -> int:
        """New = growth of the proposals that reached moderators in their scope since the last
        digest (no service call gives the newest id), at most what /queue holds; all it holds
        after a restart."""
        stats = await self.moderation.stats(user_id)
        if isinstance(stats, Refused):
            return 0
        return news(self.digest_totals, user_id, _reviewable_total(stats), stats.queued)

    async def _digest_one(self, tx: Tx, user_id: int, new: int) -> Message:
        """The digest, counting in those still waiting for the morning (quiet hours): one
        message then, however many digests the night made. Its key carries its count."""
        prefix = f"{DIGEST_KEY}{user_id}:"
        waiting = await self.outbox.take_waiting(tx, prefix)
        count = new + sum(int(key[len(prefix):].split(":")[0]) for key in waiting)
        lang = self.langs.get(user_id, BASE_LANG)
        text = self.words.text("staff.digest", lang, count=count)
        return Message(user_id, text, kind="notice",
                       dedupe=f"{prefix}{count}:{secrets.token_hex(6)}")

    # --- sending -----------------------------------------------------------------------------

    def _say(self, caller: Caller, key: str, **values: object) -> None:
        caller.send(self.words.text(key, caller.lang, **values))

    def _refused(self, caller: Caller, refused: Refused) -> None:
        """A refusal in plain words; "not_staff" here means the role went a moment ago."""
        reason = "forbidden" if refused.reason == "not_staff" else refused.reason
        key = f"staff.refused.{reason}"
        if key not in self.catalog.texts.table:
            key = "staff.refused.other"
        self._say(caller, key, detail=html.escape(refused.detail))

    @staticmethod
    def _set_keyboard(caller: Caller, card: int | None, keyboard: Keyboard) -> None:
        """Swap (or, with none, drop) the buttons of a card the staff member pressed."""
        if card is not None:
            caller.work.add(Message(caller.chat_id, keyboard=keyboard, op="keyboard",
                                    message_id=card, channel=caller.channel))
