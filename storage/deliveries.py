"""The record of scheduled exports and reminders (table deliveries, migration 003)."""

from __future__ import annotations

from dataclasses import dataclass

from storage.db import Tx, utc_now


@dataclass(frozen=True)
class DeliveryRow:
    stream: str
    due_at: str
    user_id: int
    district: str
    format: str
    outcome: str
    rows: int
    as_of: str
    attempts: int


async def record(db: Tx, row: DeliveryRow) -> int:
    """Add a delivery; the same run, recipient, district and format again replaces it."""
    found = await db.fetchval(
        "INSERT INTO deliveries (stream, due_at, user_id, district, format, outcome, rows,"
        " as_of, attempts, recorded_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"
        " ON CONFLICT (stream, due_at, user_id, district, format) DO UPDATE SET"
        " outcome = excluded.outcome, rows = excluded.rows, as_of = excluded.as_of,"
        " attempts = excluded.attempts, recorded_at = excluded.recorded_at RETURNING id",
        (row.stream, row.due_at, row.user_id, row.district, row.format, row.outcome, row.rows,
         row.as_of, row.attempts, utc_now()),
    )
    return int(found)


async def last_runs(db: Tx) -> dict[str, str]:
    """The latest recorded due time of each stream."""
    rows = await db.fetchall("SELECT stream, max(due_at) FROM deliveries GROUP BY stream")
    return {row[0]: row[1] for row in rows}


async def last_sent(db: Tx, user_id: int, district: str, fmt: str) -> str | None:
    """When the rows of the last file sent to `user_id` for this district and format were read."""
    value = await db.fetchval(
        "SELECT max(as_of) FROM deliveries WHERE user_id = ? AND district = ? AND format = ?"
        " AND outcome = 'sent'", (user_id, district, fmt),
    )
    return str(value) if value is not None else None


async def last_change(db: Tx, district: str, forum_year: int) -> str | None:
    """The latest creation or change of an approved proposal of the district and forum year."""
    value = await db.fetchval(
        "SELECT max(updated_at) FROM proposals WHERE district = ? AND status = 'approved'"
        " AND forum_year = ?", (district, forum_year),
    )
    return str(value) if value is not None else None

