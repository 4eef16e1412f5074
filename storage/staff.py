"""Staff roles granted by command, facilitators' invite codes and the facilitators themselves.

Scopes are stored as text: '*' for the whole province or a comma list of district codes.
"""

from __future__ import annotations

from dataclasses import dataclass

from storage.db import Tx, utc_now


@dataclass(frozen=True)
class GrantRow:
    user_id: int
    role: str
    districts: str


@dataclass(frozen=True)
class InviteRow:
    id: int
    code: str
    district: str
    expires_at: str
    max_uses: int
    uses: int


async def active_grants(db: Tx) -> list[GrantRow]:
    """Grants in force (not revoked); a few rows, read on every staff action."""
    rows = await db.fetchall(
        "SELECT user_id, role, districts FROM staff_grants WHERE revoked_at IS NULL ORDER BY id")
    return [GrantRow(*row) for row in rows]


async def add_grant(db: Tx, user_id: int, role: str, districts: str, granted_by: int) -> int:
    return int(await db.fetchval(
        "INSERT INTO staff_grants (user_id, role, districts, granted_by, granted_at)"
        " VALUES (?, ?, ?, ?, ?) RETURNING id",
        (user_id, role, districts, granted_by, utc_now()),
    ))


async def revoke_grants(db: Tx, user_id: int, role: str, revoked_by: int) -> list[str]:
    """End every active grant of `role` to `user_id`; returns the scopes that were revoked."""
    rows = await db.fetchall(
        "UPDATE staff_grants SET revoked_by = ?, revoked_at = ?"
        " WHERE user_id = ? AND role = ? AND revoked_at IS NULL RETURNING districts",
        (revoked_by, utc_now(), user_id, role),
    )
    return [row[0] for row in rows]


async def add_invite(db: Tx, code: str, district: str, created_by: int, expires_at: str,
                     max_uses: int) -> int:
    return int(await db.fetchval(
        "INSERT INTO invites (code, district, created_by, created_at, expires_at, max_uses)"
        " VALUES (?, ?, ?, ?, ?, ?) RETURNING id",
        (code, district, created_by, utc_now(), expires_at, max_uses),
    ))


async def invite(db: Tx, code: str) -> InviteRow | None:
    row = await db.fetchone(
        "SELECT id, code, district, expires_at, max_uses, uses FROM invites WHERE code = ?",
        (code,),
    )
    return InviteRow(*row) if row else None


async def use_invite(db: Tx, invite_id: int) -> None:
    await db.execute("UPDATE invites SET uses = uses + 1 WHERE id = ?", (invite_id,))


async def add_facilitator(db: Tx, chat_id: int, district: str, invite_code: str) -> bool:
    """Record a facilitator of a district; False when they already were one there."""
    changed = await db.execute(
        "INSERT INTO facilitators (chat_id, district, invite_code, joined_at) VALUES (?, ?, ?, ?)"
        " ON CONFLICT (chat_id, district) DO NOTHING",
        (chat_id, district, invite_code, utc_now()),
    )
    return changed == 1


async def facilitator_districts(db: Tx, chat_id: int) -> list[str]:
    """The districts a chat is a facilitator of (empty: not a facilitator)."""
    rows = await db.fetchall(
        "SELECT district FROM facilitators WHERE chat_id = ? ORDER BY joined_at", (chat_id,))
    return [row[0] for row in rows]
