"""The staff side as a service: queue, decisions, roles, invites, safeguarding, audit, stats.

No Telegram here. Every public method opens one transaction, works out the caller's roles at that
moment (config.toml ∪ active /grant rows, see bot.staff.roles), checks role and district, acts, and
writes the audit row in the same transaction. Results are values, never exceptions:

    Done         the action happened (with a ChildNotice to send for approve/reject)
    Conflict     someone acted first: who (by_user_id), what (action), when (at)
    Refused      reason "not_staff" (answer as an unknown command: no hint that staff
                 commands exist), "forbidden", "not_found", "wrong_status", "invalid",
                 "note_required", "words", "config_role", "not_granted", "unknown_code", "expired",
                 "used_up"; `detail` says more for "invalid"

Queue buttons carry "q<version>|<action>|<proposal id>" (see `button_data`, `parse_button`):
the version moves on every action, so an old or repeated press gets a Conflict and does nothing.
A flagged proposal gets status 'safeguarding' (never exported: export_rows.EXPORTABLE_STATUSES);
the staff desk opens its safeguarding case (bot.safeguarding.cases) in the same transaction. A
proposal held by a case (tier 2 of the detector) cannot be approved until the case clears it.
"""

from __future__ import annotations

import secrets
from collections import Counter
from collections.abc import Awaitable, Callable, Collection, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Literal, get_args

from bot.staff.roles import (
    ROLES,
    WHOLE_PROVINCE,
    Action,
    Scope,
    StaffMember,
    can,
    is_staff,
    parse_scope,
    scope_for,
    unknown_codes,
)
from bot.textnorm import fold, small_int
from storage import audit as audit_log
from storage import moderation as store
from storage import staff as staff_store
from storage.answers import AnswerCount
from storage.answers import counts as answer_counts
from storage.audit import AuditRow as AuditRow  # re-exported: handlers read these rows
from storage.db import Database, Tx
from storage.moderation import EDITABLE_FIELDS as EDITABLE_FIELDS
from storage.moderation import TRANSLATIONS, ProposalRow

Reason = Literal["off_topic", "duplicate", "personal_data", "inappropriate", "other"]
REASONS: tuple[Reason, ...] = get_args(Reason)
QueueAction = Literal["approve", "reject", "edit", "flag", "skip", "translate"]
# Statuses each action may start from (a flag can still be raised after a decision).
_FROM: dict[str, frozenset[str]] = {
    "approve": frozenset({"pending"}),
    "reject": frozenset({"pending"}),
    "skip": frozenset({"pending"}),
    "edit": frozenset({"pending", "approved"}),
    "flag": frozenset({"pending", "approved", "rejected"}),
    "translate": frozenset({"pending"}),
}
MAX_TEXT = 1200
MAX_INVITE_HOURS = 24 * 30
MAX_INVITE_USES = 500
INVITE_ALPHABET = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789"  # no 0/O, 1/I
INVITE_LENGTH = 8


@dataclass(frozen=True)
class Refused:
    reason: str
    detail: str = ""


@dataclass(frozen=True)
class Conflict:
    """Someone else acted first (or the same user pressed twice)."""

    by_user_id: int | None
    action: str
    at: str | None


@dataclass(frozen=True)
class ChildNotice:
    """What to tell the sender of a proposal (the child, or a group's facilitator)."""

    chat_id: int
    lang: str
    ref: str
    status: str
    reason: Reason | None = None
    note: str | None = None
    adult: bool = False  # a group's facilitator: told as an adult


@dataclass(frozen=True)
class Done:
    proposal_id: int
    ref: str
    action: QueueAction
    version: int  # the proposal's version now: the one new buttons must carry
    notice: ChildNotice | None = None
    item: ProposalRow | None = None  # the proposal as it was (flag: to open its case)


@dataclass(frozen=True)
class QueueItem(ProposalRow):
    """The proposal a moderator sees next."""

    remaining: int = 0  # pending proposals in the caller's districts, this one included


@dataclass(frozen=True)
class QueuePress:
    action: str
    proposal_id: int
    version: int


@dataclass(frozen=True)
class Granted:
    user_id: int
    role: str
    scope: Scope


@dataclass(frozen=True)
class Revoked:
    user_id: int
    role: str
    count: int


@dataclass(frozen=True)
class Invite:
    code: str
    district: str
    expires_at: str
    max_uses: int


@dataclass(frozen=True)
class Joined:
    district: str
    already: bool  # was a facilitator of this district before; no use was counted


@dataclass(frozen=True)
class Stats:
    """Counts for the caller's scope. Age band and gender count children's proposals only."""

    scope: Scope
    by_district_topic_status: Mapping[tuple[str, str, str], int]
    by_age_band: Mapping[str | None, int]
    by_gender: Mapping[str | None, int]
    children: int
    groups: int
    # How the approved proposals' answers stand, by district and topic (the answer loop).
    answers: tuple[AnswerCount, ...] = ()
    # (language, proposals, translated, waiting for a translator).
    languages: tuple[tuple[str, int, int, int], ...] = ()
    # Pending proposals /queue shows (not those waiting for a translator or held by a case).
    queued: int = 0
    # Proposals moderators sent back to the translators (they left /queue once).
    sent_back: int = 0
    # The forum year counted (None: every year), and every year's proposals in the scope:
    # ((2026, 7), (2023, 6)), newest first.
    year: int | None = None
    years: tuple[tuple[int, int], ...] = ()

    @property
    def total(self) -> int:
        return self.children + self.groups


Result = Done | Conflict | Refused
_Change = Callable[[Tx, ProposalRow], Awaitable[Result]]


def button_data(action: str, proposal_id: int, version: int) -> str:
    """Callback data of a queue button ("q<version>|<action>|<id>", well under 64 bytes)."""
    return f"q{version}|{action}|{proposal_id}"


def parse_button(data: str) -> QueuePress | None:
    """A queue button's data, or None when it is not one (forged data fails here or later)."""
    parts = data.split("|")
    if len(parts) != 3 or not parts[0].startswith("q"):
        return None
    version, action, proposal_id = small_int(parts[0][1:]), parts[1], small_int(parts[2])
    if version is None or proposal_id is None or len(data) > 64:
        return None
    return QueuePress(action, proposal_id, version)


def _stamp(moment: datetime) -> str:
    return moment.astimezone(UTC).isoformat(timespec="seconds")


def _clean(text: str | None) -> str:
    return (text or "").strip()


class Moderation:
    """Staff actions on one database; `districts` are the codes of the forum year's areas (an
    invite is for one of them), `areas` the other codes a role's scope may name too: the
    records' areas (Config.area_codes: the 2023 districts, whose proposals are answered still)."""

    def __init__(self, db: Database, staff_from_config: tuple[StaffMember, ...],
                 districts: Collection[str],
                 clock: Callable[[], datetime] = lambda: datetime.now(UTC),
                 areas: Collection[str] = ()) -> None:
        self.db, self.config_staff = db, staff_from_config
        self.districts, self.clock = frozenset(districts), clock
        self.scope_codes = self.districts | frozenset(areas)

    async def members(self, db: Tx) -> tuple[StaffMember, ...]:
        """Roles in force now: config.toml plus active grants."""
        granted = tuple(
            StaffMember(row.user_id, row.role, Scope.from_text(row.districts))
            for row in await staff_store.active_grants(db) if row.role in ROLES)
        return self.config_staff + granted

    async def is_staff(self, user_id: int) -> bool:
        """Any role in force now (config.toml or an active grant)."""
        async with self.db.transaction() as db:
            return is_staff(await self.members(db), user_id)

    async def _scope(self, db: Tx, user_id: int,
                     action: Action) -> Scope | Refused:
        members = await self.members(db)
        scope = scope_for(members, user_id, action)
        if scope.empty:
            return Refused("forbidden" if is_staff(members, user_id) else "not_staff")
        return scope

    # --- the queue -------------------------------------------------------------------------

    async def next_pending(self, user_id: int,
                           skip: Collection[int] = frozenset()) -> QueueItem | Refused | None:
        """The oldest pending proposal of the caller's districts, minus the ids in `skip`."""
        async with self.db.transaction() as db:
            scope = await self._scope(db, user_id, "moderate")
            if isinstance(scope, Refused):
                return scope
            row = await store.oldest_pending(db, scope.districts, skip)
            if row is None:
                return None
            remaining = await store.pending_count(db, scope.districts)
        return QueueItem(**vars(row), remaining=remaining)

    async def approve(self, user_id: int, proposal_id: int, version: int) -> Result:
        async def change(db: Tx, item: ProposalRow) -> Result:
            return await self._decide(db, user_id, item, version, "approve", "approved")

        return await self._act(user_id, proposal_id, version, "approve", change)

    async def reject(self, user_id: int, proposal_id: int, version: int, reason: str,
                     note: str | None = None) -> Result:
        """Reject with one of REASONS; "other" needs a note (sent to the child as the reason)."""
        note = _clean(note) or None

        async def change(db: Tx, item: ProposalRow) -> Result:
            if reason not in REASONS:
                return Refused("invalid", f"reason must be one of {', '.join(REASONS)}")
            if reason == "other" and note is None:
                return Refused("note_required")
            if note is not None and (not worded(note) or _acknowledgement(note)):
                return Refused("words")  # "6": a menu's number typed where words were asked;
                # "ok": the prompt acknowledged, sent to a child as the reason (a tester's)
            if note is not None and len(note) > MAX_TEXT:
                return Refused("invalid", f"note longer than {MAX_TEXT} characters")
            return await self._decide(db, user_id, item, version, "reject", "rejected",
                                      reason, note)

        return await self._act(user_id, proposal_id, version, "reject", change)

    async def edit(self, user_id: int, proposal_id: int, version: int, field: str,
                   new_text: str) -> Result:
        """Replace one text field; the original is kept only in moderation_edits (audit view)."""
        text = _clean(new_text)

        async def change(db: Tx, item: ProposalRow) -> Result:
            if field not in EDITABLE_FIELDS:
                return Refused("invalid", f"field must be one of {', '.join(EDITABLE_FIELDS)}")
            before = getattr(item, field) or ""
            if field in TRANSLATIONS and not before:  # nothing translated to put right
                return Refused("invalid", f"field must be one of {', '.join(EDITABLE_FIELDS)}")
            if not text or len(text) > MAX_TEXT or text == before:
                return Refused("invalid", f"the new text must be 1-{MAX_TEXT} characters, changed")
            if not worded(text):
                return Refused("words")
            new_version = await store.rewrite(db, item.id, version, field, text)
            if new_version is None:
                return await self._conflict(db, item.id)
            edit_id = await audit_log.add_edit(db, item.id, field, before, text, user_id)
            await audit_log.append(db, user_id, "edit", "proposal", item.id, item.district,
                                   {"ref": item.ref, "field": field, "edit_id": edit_id})
            return Done(item.id, item.ref, "edit", new_version)

        return await self._act(user_id, proposal_id, version, "edit", change)

    async def flag_safeguarding(self, user_id: int, proposal_id: int, version: int) -> Result:
        """Take a proposal out of moderation and exports, for safeguarding staff (the caller
        opens the case, in the same transaction: Done.item is the proposal)."""
        async def change(db: Tx, item: ProposalRow) -> Result:
            new_version = await store.decide(db, item.id, version, "safeguarding", user_id)
            if new_version is None:
                return await self._conflict(db, item.id)
            await audit_log.append(db, user_id, "flag", "proposal", item.id, item.district,
                                   {"ref": item.ref})
            return Done(item.id, item.ref, "flag", new_version, item=item)

        return await self._act(user_id, proposal_id, version, "flag", change)

    async def needs_translator(self, user_id: int, proposal_id: int, version: int) -> Result:
        """A proposal the language tagger took for Vietnamese or English but is not: it leaves
        the queue for a translator of its area (storage.translations), then comes back."""
        async def change(db: Tx, item: ProposalRow) -> Result:
            if item.needs_translation:  # translated already, or a card older than its sending
                return Refused("translated" if item.proposal_vi or item.seen_vi
                               else "translating")
            new_version = await store.to_translator(db, item.id, version)
            if new_version is None:
                return await self._conflict(db, item.id)
            await audit_log.append(db, user_id, "to_translator", "proposal", item.id,
                                   item.district, {"ref": item.ref})
            return Done(item.id, item.ref, "translate", new_version)

        return await self._act(user_id, proposal_id, version, "translate", change)

    async def skip(self, user_id: int, proposal_id: int, version: int) -> Result:
        """Checks only (nothing changes, nothing is audited); the caller adds the id to its skip
        set and asks `next_pending` again."""
        async def change(db: Tx, item: ProposalRow) -> Result:
            return Done(item.id, item.ref, "skip", item.version)

        return await self._act(user_id, proposal_id, version, "skip", change)

    async def _act(self, user_id: int, proposal_id: int, version: int, action: QueueAction,
                   change: _Change) -> Result:
        """Role, item, district, version and status checks, then `change`, in one transaction."""
        async with self.db.transaction() as db:
            members = await self.members(db)
            if not is_staff(members, user_id):
                return Refused("not_staff")
            item = await store.get(db, proposal_id)
            if item is None:
                return Refused("not_found")
            if not can(members, user_id, "moderate", item.district):
                return Refused("forbidden")
            if item.version != version:
                return await self._conflict(db, item.id)
            if item.status not in _FROM[action]:
                return Refused("wrong_status")
            if item.held_by_case is not None and action in ("approve", "reject"):
                return Refused("held", str(item.held_by_case))
            return await change(db, item)

    async def _decide(self, db: Tx, user_id: int, item: ProposalRow,
                      version: int, action: Literal["approve", "reject"], status: str,
                      reason: Reason | None = None, note: str | None = None) -> Result:
        new_version = await store.decide(db, item.id, version, status, user_id, reason, note)
        if new_version is None:
            return await self._conflict(db, item.id)
        if reason == "personal_data":  # the words that hold it are kept nowhere
            await store.erase_words(db, item.id)
            self.db.erased()
        detail = {"ref": item.ref} | ({"reason": reason} if reason else {})
        await audit_log.append(db, user_id, action, "proposal", item.id, item.district, detail)
        notice = None
        if item.notify_chat_id is not None:
            notice = ChildNotice(item.notify_chat_id, item.notify_lang, item.ref, status,
                                 reason, note, item.is_group)
        return Done(item.id, item.ref, action, new_version, notice)

    @staticmethod
    async def _conflict(db: Tx, proposal_id: int) -> Conflict:
        last = await audit_log.last_for_item(db, "proposal", proposal_id)
        if last is None:
            return Conflict(None, "changed", None)
        return Conflict(last.actor_user_id, last.action, last.at)

    # --- roles -----------------------------------------------------------------------------

    async def grant(self, admin_id: int, user_id: int, role: str,
                    districts: Sequence[str] | Literal["all"]) -> Granted | Refused:
        """Give `role` over `districts` ("all" or codes of any configured area, past ones too),
        within the admin's own scope. Refused "unknown_role" (detail: the role) or
        "unknown_area" (detail: the codes not known, joined by commas)."""
        async with self.db.transaction() as db:
            own = await self._scope(db, admin_id, "grant")
            if isinstance(own, Refused):
                return own
            if role not in ROLES:
                return Refused("unknown_role", role)
            unknown = ([] if districts == WHOLE_PROVINCE
                       else unknown_codes(districts, self.scope_codes))
            if unknown:  # each front end words it in its user's language
                return Refused("unknown_area", ",".join(unknown))
            scope = parse_scope(districts if districts == WHOLE_PROVINCE else list(districts),
                                self.scope_codes)
            if isinstance(scope, str):
                return Refused("invalid", scope)
            if not scope.within(own):
                return Refused("forbidden")
            await staff_store.add_grant(db, user_id, role, scope.to_text(), admin_id)
            await audit_log.append(db, admin_id, "grant", "staff", user_id, _one(scope),
                                   {"role": role, "districts": scope.to_text()})
        return Granted(user_id, role, scope)

    async def revoke(self, admin_id: int, user_id: int, role: str) -> Revoked | Refused:
        """End the /grant grants of `role` to `user_id`; config.toml roles cannot be revoked."""
        async with self.db.transaction() as db:
            own = await self._scope(db, admin_id, "grant")
            if isinstance(own, Refused):
                return own
            grants = [g for g in await staff_store.active_grants(db)
                      if g.user_id == user_id and g.role == role]
            if not grants:  # a config.toml role is named only to those it is within reach of
                in_config = any(m.user_id == user_id and m.role == role
                                and m.scope.within(own) for m in self.config_staff)
                return Refused("config_role" if in_config else "not_granted")
            scopes = [Scope.from_text(g.districts) for g in grants]
            if not all(scope.within(own) for scope in scopes):
                return Refused("forbidden")
            await staff_store.revoke_grants(db, user_id, role, admin_id)
            await audit_log.append(db, admin_id, "revoke", "staff", user_id,
                                   _one(_union(scopes)), {"role": role})
        return Revoked(user_id, role, len(grants))

    # --- facilitators ----------------------------------------------------------------------

    async def create_invite(self, moderator_id: int, district: str, valid_hours: int,
                            max_uses: int) -> Invite | Refused:
        """A code for facilitators of `district`, valid `valid_hours` for `max_uses` joins."""
        async with self.db.transaction() as db:
            own = await self._scope(db, moderator_id, "invite")
            if isinstance(own, Refused):
                return own
            if district not in self.districts:
                return Refused("invalid", f"unknown district {district!r}")
            if not own.covers(district):
                return Refused("forbidden")
            if not (1 <= valid_hours <= MAX_INVITE_HOURS and 1 <= max_uses <= MAX_INVITE_USES):
                return Refused("invalid", f"hours 1-{MAX_INVITE_HOURS}, uses 1-{MAX_INVITE_USES}")
            code = await _fresh_code(db)
            expires_at = _stamp(self.clock() + timedelta(hours=valid_hours))
            invite_id = await staff_store.add_invite(db, code, district, moderator_id,
                                                     expires_at, max_uses)
            await audit_log.append(db, moderator_id, "invite", "invite", invite_id, district,
                                   {"expires_at": expires_at, "max_uses": max_uses})
        return Invite(code, district, expires_at, max_uses)

    async def redeem_invite(self, chat_id: int, code: str) -> Joined | Refused:
        """`/start CODE` or the typed code: the chat becomes a facilitator of its district."""
        normalised = "".join(code.split()).replace("-", "").upper()
        # A word that only looks like a code (a child's typed answer) is told apart by a read,
        # in the update's own transaction if there is one: only a real invite's use, a write
        # every chat shares, makes a child's update take its turn with every writer.
        if await staff_store.invite(self.db.current() or self.db.reader, normalised) is None:
            return Refused("unknown_code")
        async with self.db.transaction() as db:
            invite = await staff_store.invite(db, normalised)
            if invite is None:
                return Refused("unknown_code")
            if invite.district in await staff_store.facilitator_districts(db, chat_id):
                return Joined(invite.district, already=True)  # back to a district they hold
            if invite.expires_at <= _stamp(self.clock()):
                return Refused("expired")
            if invite.uses >= invite.max_uses:
                return Refused("used_up")
            await staff_store.use_invite(db, invite.id)
            await staff_store.add_facilitator(db, chat_id, invite.district, invite.code)
            await audit_log.append(db, chat_id, "join", "invite", invite.id, invite.district)
        return Joined(invite.district, already=False)

    async def facilitator_districts(self, chat_id: int) -> list[str]:
        """The districts a chat may record group proposals for (empty: not a facilitator)."""
        async with self.db.transaction() as db:
            return await staff_store.facilitator_districts(db, chat_id)

    # --- audit, stats ---------------------------------------------------------------------

    async def audit(self, user_id: int, limit: int = 20) -> list[AuditRow] | Refused:
        """The latest audit entries in the caller's scope, newest first."""
        async with self.db.transaction() as db:
            scope = await self._scope(db, user_id, "audit")
            if isinstance(scope, Refused):
                return scope
            return await audit_log.latest(db, scope.districts, limit)

    async def stats(self, user_id: int, year: int | None = None) -> Stats | Refused:
        """Counts by district × topic × status, age band, gender, children vs groups: of one
        forum year's proposals (a forum's areas are that year's), or of every year's (None:
        what the queue holds, for the digest)."""
        async with self.db.transaction() as db:
            scope = await self._scope(db, user_id, "stats")
            if isinstance(scope, Refused):
                return scope
            rows = await store.counts(db, scope.districts)
            answered = tuple(await answer_counts(db, scope.districts, year))
            languages = tuple(await store.languages(db, scope.districts, year))
            queued = await store.queued(db, scope.districts)
            sent_back = await store.sent_to_translators(db, scope.districts)
        cells: Counter[tuple[str, str, str]] = Counter()
        bands: Counter[str | None] = Counter()
        genders: Counter[str | None] = Counter()
        kinds: Counter[bool] = Counter()
        years: Counter[int] = Counter()
        for row in rows:
            years[row.forum_year] += row.count
            if year is not None and row.forum_year != year:
                continue
            cells[row.district, row.topic, row.status] += row.count
            kinds[row.is_group] += row.count
            if not row.is_group:
                bands[row.age_band] += row.count
                genders[row.gender] += row.count
        return Stats(scope, dict(cells), dict(bands), dict(genders), kinds[False], kinds[True],
                     answered, languages, queued, sent_back, year,
                     tuple(sorted(years.items(), reverse=True)))


def _one(scope: Scope) -> str | None:
    """The audit row's district: the only district of a scope, else None (province-wide)."""
    if scope.districts is not None and len(scope.districts) == 1:
        return next(iter(scope.districts))
    return None


def _union(scopes: Sequence[Scope]) -> Scope:
    result = scopes[0]
    for scope in scopes[1:]:
        result = result.union(scope)
    return result


async def _fresh_code(db: Tx) -> str:
    while True:
        code = "".join(secrets.choice(INVITE_ALPHABET) for _ in range(INVITE_LENGTH))
        if await staff_store.invite(db, code) is None:
            return code


# Words that acknowledge a prompt rather than give a reason ("ok", "vâng", "dạ"), folded.
_ACKNOWLEDGEMENTS = frozenset({"ok", "oke", "okay", "okie", "u", "uh", "um", "vang", "da",
                               "da vang", "vang a", "ok a", "duoc", "roi", "ok roi", "yes", "y",
                               "co", "thanks", "cam on"})


def _acknowledgement(text: str) -> bool:
    return " ".join(fold(text).replace(".", " ").replace("!", " ").split()) in _ACKNOWLEDGEMENTS


def worded(text: str) -> bool:
    """Words a child can read: at least one letter (not a number or signs alone)."""
    return any(char.isalpha() for char in text)
