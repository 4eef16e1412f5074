"""The audit log: append-only (triggers refuse UPDATE and DELETE), written in the action's
transaction.

Rows never hold a child's words or chat id. An edit's before/after text sits in moderation_edits
(erased with the proposal) and the audit row points at it with `detail.edit_id`.
"""

from __future__ import annotations

import json
from collections.abc import Collection, Mapping
from dataclasses import dataclass
from typing import Any

import aiosqlite

from storage.db import utc_now

_COLUMNS = "a.id, a.at, a.actor_user_id, a.action, a.item_type, a.item_id, a.district, a.detail"


@dataclass(frozen=True)
class AuditRow:
    id: int
    at: str
    actor_user_id: int
    action: str
    item_type: str
    item_id: int | None
    district: str | None
    detail: Mapping[str, Any]
    # An edit's texts while the proposal exists; None for other actions or after erasure.
    before: str | None = None
    after: str | None = None


async def append(db: aiosqlite.Connection, actor_user_id: int, action: str, item_type: str,
                 item_id: int | None, district: str | None,
                 detail: Mapping[str, Any] | None = None) -> int:
    """Add one entry; call inside the transaction of the action it records."""
    cursor = await db.execute(
        "INSERT INTO audit_log (at, actor_user_id, action, item_type, item_id, district, detail)"
        " VALUES (?, ?, ?, ?, ?, ?, ?)",
        (utc_now(), actor_user_id, action, item_type, item_id, district,
         json.dumps(detail or {}, ensure_ascii=False, sort_keys=True)),
    )
    assert cursor.lastrowid is not None
    return cursor.lastrowid


async def add_edit(db: aiosqlite.Connection, proposal_id: int, field: str, before: str,
                   after: str, edited_by: int) -> int:
    """Keep an edit's before/after text (for the audit view) until the proposal is erased."""
    cursor = await db.execute(
        "INSERT INTO moderation_edits (proposal_id, field, before_text, after_text, edited_by,"
        " edited_at) VALUES (?, ?, ?, ?, ?, ?)",
        (proposal_id, field, before, after, edited_by, utc_now()),
    )
    assert cursor.lastrowid is not None
    return cursor.lastrowid


async def last_for_item(db: aiosqlite.Connection, item_type: str,
                        item_id: int) -> AuditRow | None:
    """The latest entry about one item (who acted last on a proposal)."""
    async with db.execute(
        f"SELECT {_COLUMNS} FROM audit_log a WHERE a.item_type = ? AND a.item_id = ?"
        " ORDER BY a.id DESC LIMIT 1",
        (item_type, item_id),
    ) as cursor:
        row = await cursor.fetchone()
    return _row(row) if row else None


async def latest(db: aiosqlite.Connection, districts: Collection[str] | None,
                 limit: int = 20) -> list[AuditRow]:
    """Newest entries first; `districts` None: everything, else only those districts' entries.

    One indexed LIMIT query per district, merged: fast however long the log grows.
    """
    params: list[Any] = []
    source = "audit_log"
    if districts is not None:
        if not districts:
            return []
        codes = sorted(districts)
        source = "(" + " UNION ALL ".join(
            "SELECT * FROM (SELECT * FROM audit_log WHERE district = ? ORDER BY id DESC LIMIT ?)"
            for _ in codes) + ")"
        params = [value for code in codes for value in (code, limit)]
    async with db.execute(
        f"SELECT {_COLUMNS}, e.before_text, e.after_text FROM {source} a"
        " LEFT JOIN moderation_edits e ON e.id = json_extract(a.detail, '$.edit_id')"
        " ORDER BY a.id DESC LIMIT ?",
        (*params, limit),
    ) as cursor:
        return [_row(row) async for row in cursor]


def _row(row: aiosqlite.Row) -> AuditRow:
    before, after = (row[8], row[9]) if len(row) > 8 else (None, None)
    return AuditRow(row[0], row[1], row[2], row[3], row[4], row[5], row[6], json.loads(row[7]),
                    before, after)
