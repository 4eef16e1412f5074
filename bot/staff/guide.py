"""What a staff member can type, by the roles they hold now: their /help (pure: no I/O)."""

from __future__ import annotations

from collections.abc import Iterable

from bot.conversation.catalog import Texts
from bot.staff.roles import ALLOWED, Action, StaffMember

# Each action's commands, in the order the help lists them.
COMMANDS: tuple[tuple[Action, tuple[str, ...]], ...] = (
    ("moderate", ("queue",)),
    ("safeguarding", ("cases",)),
    ("answer", ("answer", "publish", "answers")),
    ("compile", ("compile",)),
    ("export", ("export",)),
    ("stats", ("stats",)),
    ("translate", ("translate",)),
    ("invite", ("invite",)),
    ("grant", ("grant", "revoke")),
    ("audit", ("audit",)),
)


def staff_help(texts: Texts, members: Iterable[StaffMember], user_id: int,
               lang: str) -> str | None:
    """The commands `user_id`'s roles allow, one a line; None when they hold no role."""
    roles = sorted({member.role for member in members if member.user_id == user_id})
    if not roles:
        return None
    allowed = set().union(*(ALLOWED[role] for role in roles))
    lines = [texts.get("staff.help.head", lang, roles=", ".join(
        texts.get(f"staff.role.{role}", lang) for role in roles))]
    lines += [texts.get(f"staff.help.{command}", lang)
              for action, commands in COMMANDS if action in allowed for command in commands]
    lines.append(texts.get("staff.help.child", lang))
    return "\n".join(lines)
