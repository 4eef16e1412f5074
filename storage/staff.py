"""Staff roles granted by command, facilitators' invite codes and the facilitators themselves.

Scopes are stored as text: '*' for the whole province or a comma list of district codes.
"""

from __future__ import annotations

from dataclasses import dataclass

import aiosqlite

from storage.db import utc_now


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


async def active_grants(db: aiosqlite.Connection) -> list[GrantRow]:
    """Grants in force (not revoked); a few rows, read on every staff action."""
    async with db.execute(
        "SELECT user_id, role, districts FROM staff_grants WHERE revoked_at IS NULL ORDER BY id"
    ) as cursor:
        return [GrantRow(*row) async for row in cursor]


async def add_grant(db: aiosqlite.Connection, user_id: int, role: str, districts: str,
                    granted_by: int) -> int:
    cursor = await db.execute(
        "INSERT INTO staff_grants (user_id, role, districts, granted_by, granted_at)"
        " VALUES (?, ?, ?, ?, ?)",
        (user_id, role, districts, granted_by, utc_now()),
    )
    assert cursor.lastrowid is not None
    return cursor.lastrowid


async def revoke_grants(db: aiosqlite.Connection, user_id: int, role: str,
                        revoked_by: int) -> list[str]:
    """End every active grant of `role` to `user_id`; returns the scopes that were revoked."""
    async with db.execute(
        "UPDATE staff_grants SET revoked_by = ?, revoked_at = ?"
        " WHERE user_id = ? AND role = ? AND revoked_at IS NULL RETURNING districts",
        (revoked_by, utc_now(), user_id, role),
    ) as cursor:
        return [row[0] async for row in cursor]


async def add_invite(db: aiosqlite.Connection, code: str, district: str, created_by: int,
                     expires_at: str, max_uses: int) -> int:
    cursor = await db.execute(
        "INSERT INTO invites (code, district, created_by, created_at, expires_at, max_uses)"
        " VALUES (?, ?, ?, ?, ?, ?)",
        (code, district, created_by, utc_now(), expires_at, max_uses),
    )
    assert cursor.lastrowid is not None
    return cursor.lastrowid


async def invite(db: aiosqlite.Connection, code: str) -> InviteRow | None:
    async with db.execute(
        "SELECT id, code, district, expires_at, max_uses, uses FROM invites WHERE code = ?",
        (code,),
    ) as cursor:
        row = await cursor.fetchone()
    return InviteRow(*row) if row else None


async def use_invite(db: aiosqlite.Connection, invite_id: int) -> None:
    await db.execute("UPDATE invites SET uses = uses + 1 WHERE id = ?", (invite_id,))


async def add_facilitator(db: aiosqlite.Connection, chat_id: int, district: str,
                          invite_code: str) -> bool:
    """Record a facilitator of a district; False when they already were one there."""
    cursor = await db.execute(
        "INSERT INTO facilitators (chat_id, district, invite_code, joined_at) VALUES (?, ?, ?, ?)"
        " ON CONFLICT (chat_id, district) DO NOTHING",
        (chat_id, district, invite_code, utc_now()),
    )
    return cursor.rowcount == 1


async def facilitator_districts(db: aiosqlite.Connection, chat_id: int) -> list[str]:
    """The districts a chat is a facilitator of (empty: not a facilitator)."""
    async with db.execute(
        "SELECT district FROM facilitators WHERE chat_id = ? ORDER BY joined_at", (chat_id,)
    ) as cursor:
        return [row[0] async for row in cursor]
