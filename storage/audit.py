"""The audit log: append-only (triggers refuse UPDATE and DELETE), written in the action's
transaction.

Rows never hold a child's words or chat id. An edit's before/after text sits in moderation_edits
(erased with the proposal; the text before the edit, which a moderator may have edited out for
being personal, goes earlier: `forget_originals`) and the audit row points at it with
`detail.edit_id`.
"""

from __future__ import annotations

import json
from collections.abc import Collection, Mapping
from dataclasses import dataclass, replace
from typing import Any

from storage.db import Row, Tx, utc_now

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


async def append(db: Tx, actor_user_id: int, action: str, item_type: str,
                 item_id: int | None, district: str | None,
                 detail: Mapping[str, Any] | None = None) -> int:
    """Add one entry; call inside the transaction of the action it records."""
    return int(await db.fetchval(
        "INSERT INTO audit_log (at, actor_user_id, action, item_type, item_id, district, detail)"
        " VALUES (?, ?, ?, ?, ?, ?, ?) RETURNING id",
        (utc_now(), actor_user_id, action, item_type, item_id, district,
         json.dumps(detail or {}, ensure_ascii=False, sort_keys=True)),
    ))


async def add_edit(db: Tx, proposal_id: int, field: str, before: str, after: str,
                   edited_by: int) -> int:
    """Keep an edit's before/after text (for the audit view) until the proposal is erased."""
    return int(await db.fetchval(
        "INSERT INTO moderation_edits (proposal_id, field, before_text, after_text, edited_by,"
        " edited_at) VALUES (?, ?, ?, ?, ?, ?) RETURNING id",
        (proposal_id, field, before, after, edited_by, utc_now()),
    ))


async def forget_originals(db: Tx, before: str,
                           proposal_ids_of_chats: str = "", params: tuple[Any, ...] = ()) -> int:
    """Blank the text before each edit made before `before` (ISO time), or, with
    `proposal_ids_of_chats` (a SELECT of proposal ids, with `params`), of those proposals
    whenever made. Returns how many were blanked."""
    where = (f"proposal_id IN ({proposal_ids_of_chats})" if proposal_ids_of_chats
             else "edited_at < ?")
    return await db.execute(
        f"UPDATE moderation_edits SET before_text = '' WHERE before_text != '' AND {where}",
        params if proposal_ids_of_chats else (before,))


async def last_for_item(db: Tx, item_type: str, item_id: int) -> AuditRow | None:
    """The latest change of one item (who acted last on a proposal or a case; a case opened
    to read it is no change)."""
    row = await db.fetchone(
        f"SELECT {_COLUMNS} FROM audit_log a WHERE a.item_type = ? AND a.item_id = ?"
        " AND a.action <> 'case_viewed' ORDER BY a.id DESC LIMIT 1",
        (item_type, item_id),
    )
    return _row(row) if row else None


async def latest(db: Tx, districts: Collection[str] | None, limit: int = 20) -> list[AuditRow]:
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
            f"SELECT * FROM (SELECT * FROM audit_log WHERE district = ? ORDER BY id DESC LIMIT ?)"
            f" AS d{number}" for number in range(len(codes))) + ")"
        params = [value for code in codes for value in (code, limit)]
    rows = [_row(row) for row in await db.fetchall(
        f"SELECT {_COLUMNS} FROM {source} a ORDER BY a.id DESC LIMIT ?", (*params, limit))]
    edit_ids = sorted({int(r.detail["edit_id"]) for r in rows if "edit_id" in r.detail})
    if not edit_ids:
        return rows
    edits = {row[0]: (row[1], row[2]) for row in await db.fetchall(
        "SELECT id, before_text, after_text FROM moderation_edits"
        f" WHERE id IN ({', '.join('?' * len(edit_ids))})", edit_ids)}
    return [replace(r, before=edits[key][0], after=edits[key][1])
            if (key := r.detail.get("edit_id")) in edits else r for r in rows]


def _row(row: Row) -> AuditRow:
    return AuditRow(row[0], row[1], row[2], row[3], row[4], row[5], row[6], json.loads(row[7]))
