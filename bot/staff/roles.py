"""Who may do what, where: pure permission rules for the staff side (no I/O).

Roles and what they allow::

    admin         every action below, in its scope
    moderator     moderate (queue, approve, reject, edit, flag), invite, stats, audit
    officer       export, stats, answer (record and publish the authorities' answers)
                                                             (compiling officer, cán bộ tổng hợp)
    safeguarding  safeguarding (the flagged-messages list)   (child protection staff)

Safeguarding is a role of its own, not a flag on moderators: the people with that duty are often
child protection officers who do not moderate. A moderator who has the duty holds both roles.

A user's effective roles are the `[[staff]]` tables of config.toml plus the active grants made with
/grant. /revoke ends a grant; a role from config.toml can only be removed by editing the file.
Every check runs at the moment an action runs, on the roles in force then.
"""

from __future__ import annotations

import difflib
from collections.abc import Callable, Collection, Iterable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Literal, get_args

if TYPE_CHECKING:
    from bot.config import ConfigError

Role = Literal["admin", "moderator", "officer", "safeguarding", "translator"]
Action = Literal["moderate", "safeguarding", "export", "stats", "audit", "grant", "invite",
                 "answer", "compile", "translate"]

ROLES: tuple[Role, ...] = get_args(Role)
ACTIONS: tuple[Action, ...] = get_args(Action)
ALLOWED: dict[Role, frozenset[Action]] = {
    "admin": frozenset(ACTIONS),
    "moderator": frozenset({"moderate", "invite", "stats", "audit"}),
    "officer": frozenset({"export", "stats", "answer", "compile"}),
    "safeguarding": frozenset({"safeguarding"}),
    # Translates proposals written in another language (Bahnar, Jarai...) into Vietnamese.
    "translator": frozenset({"translate"}),
}
WHOLE_PROVINCE = "all"
_STAFF_KEYS = frozenset({"user_id", "role", "districts"})
LISTED_CODES = 15  # a problem lists the known codes when there are no more


@dataclass(frozen=True)
class Scope:
    """The whole province (`districts is None`) or a set of district codes."""

    districts: frozenset[str] | None = None

    @classmethod
    def of(cls, codes: Iterable[str]) -> Scope:
        return cls(frozenset(codes))

    @property
    def whole(self) -> bool:
        return self.districts is None

    @property
    def empty(self) -> bool:
        return self.districts is not None and not self.districts

    def covers(self, district: str) -> bool:
        return self.districts is None or district in self.districts

    def within(self, other: Scope) -> bool:
        """True when every district of this scope is in `other`."""
        if other.districts is None:
            return True
        return self.districts is not None and self.districts <= other.districts

    def union(self, other: Scope) -> Scope:
        if self.districts is None or other.districts is None:
            return PROVINCE
        return Scope(self.districts | other.districts)

    def to_text(self) -> str:
        """Stored form: '*' or a sorted comma list."""
        return "*" if self.districts is None else ",".join(sorted(self.districts))

    @classmethod
    def from_text(cls, text: str) -> Scope:
        if text == "*":
            return PROVINCE
        return cls.of(code for code in text.split(",") if code)


PROVINCE = Scope(None)
NOWHERE = Scope(frozenset())


@dataclass(frozen=True)
class StaffMember:
    """One role held by one Telegram user over a scope (a user may appear several times)."""

    user_id: int
    role: Role
    scope: Scope


def scope_for(members: Iterable[StaffMember], user_id: int, action: Action) -> Scope:
    """Where `user_id` may do `action`: the union of the scopes of the roles that allow it."""
    scope = NOWHERE
    for member in members:
        if member.user_id == user_id and action in ALLOWED[member.role]:
            scope = scope.union(member.scope)
    return scope


def can(members: Iterable[StaffMember], user_id: int, action: Action,
        district: str | None) -> bool:
    """May `user_id` do `action` in `district`? With None: in at least one district."""
    scope = scope_for(members, user_id, action)
    return not scope.empty if district is None else scope.covers(district)


def is_staff(members: Iterable[StaffMember], user_id: int) -> bool:
    """Any role at all (a non-staff user gets the unknown-command answer)."""
    return any(member.user_id == user_id for member in members)


def parse_scope(value: object, known: Collection[str]) -> Scope | str:
    """`"all"` or a non-empty list of known codes; a problem is returned as a message.

    `known`: every area a scope may name, those of the forum year and the records' (the 2023
    districts in a commune config: their proposals are still answered and published)."""
    if value == WHOLE_PROVINCE:
        return PROVINCE
    if not isinstance(value, list) or not value or not all(isinstance(v, str) for v in value):
        return f'must be "{WHOLE_PROVINCE}" or a non-empty list of area codes, got {value!r}'
    unknown = unknown_codes(value, known)
    if unknown:
        hints = [hint if len(unknown) == 1 else f"{hint} for {code}"
                 for code in unknown if (hint := close_code(code, known))]
        said = f" (did you mean {', '.join(hints)}?)" if hints else ""
        listed = (f"known: {', '.join(sorted(known))}" if len(known) <= LISTED_CODES
                  else f"the codes are those of the config's {len(known)} areas, past ones too")
        return f"unknown area code(s) {', '.join(unknown)}{said}; {listed}"
    return Scope.of(value)


def unknown_codes(codes: Iterable[str], known: Collection[str]) -> list[str]:
    """The codes of `codes` that name no known area, sorted, once each."""
    return sorted(set(codes) - set(known))


def close_code(code: str, known: Collection[str]) -> str | None:
    """The known code nearest to a mistyped one ("DHX" → "DHA"), if one is near enough."""
    found = difflib.get_close_matches(code.upper(), sorted(known), n=1, cutoff=0.6)
    return found[0] if found else None


def parse_staff(raw: object, source: str, known: Collection[str]) -> tuple[StaffMember, ...]:
    """The `[[staff]]` tables of config.toml; raises ConfigError naming the file and key."""
    # Imported here: bot.config imports this module to type Config.staff.
    from bot.config import ConfigError

    def fail(key: str, problem: str) -> ConfigError:
        return ConfigError(f"{source}: [{key}] {problem}")

    if not isinstance(raw, list):
        raise fail("staff", "must be a list of [[staff]] tables")
    members: list[StaffMember] = []
    for index, item in enumerate(raw):
        members.append(_member(item, f"staff[{index}]", known, fail))
    seen: dict[tuple[int, str], int] = {}
    for index, member in enumerate(members):
        first = seen.setdefault((member.user_id, member.role), index)
        if first != index:
            raise fail(f"staff[{index}]", f"repeats user_id and role of staff[{first}]")
    return tuple(members)


def _member(item: object, prefix: str, known: Collection[str],
            fail: Callable[[str, str], ConfigError]) -> StaffMember:
    if not isinstance(item, dict):
        raise fail(prefix, "must be a table")
    extra = sorted(set(item) - _STAFF_KEYS)
    if extra:
        expected = ", ".join(sorted(_STAFF_KEYS))
        raise fail(f"{prefix}.{extra[0]}", f"unknown key; expected {expected}")
    user_id = item.get("user_id")
    if not isinstance(user_id, int) or isinstance(user_id, bool) or user_id <= 0:
        raise fail(f"{prefix}.user_id", f"must be a positive Telegram user id, got {user_id!r}")
    role = item.get("role")
    if role not in ROLES:
        raise fail(f"{prefix}.role", f"must be one of {', '.join(ROLES)}, got {role!r}")
    scope = parse_scope(item.get("districts"), known)
    if isinstance(scope, str):
        raise fail(f"{prefix}.districts", scope)
    return StaffMember(user_id, role, scope)
