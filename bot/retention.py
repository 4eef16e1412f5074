"""The retention rule of DESIGN.md, run daily: personal data does not outlive its use."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from storage import retention
from storage.db import Database


async def purge_personal_data(db: Database, retention_days: int,
                              now: datetime | None = None) -> int:
    """Forget people inactive for `retention_days`; their proposals stay, unlinked."""
    moment = (now or datetime.now(UTC)) - timedelta(days=retention_days)
    async with db.transaction() as conn:
        return await retention.purge(conn, moment.isoformat(timespec="seconds"))
