"""The retention rule of DESIGN.md, run daily: personal data does not outlive its use."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from storage import answers, retention
from storage.db import Database

# A workbook sent in chat waits for its ✅ Nhập (minutes): it holds children's words, so it
# goes the next daily run after a day (docs/privacy.md).
UPLOADS_KEPT = timedelta(days=1)


async def purge_personal_data(db: Database, retention_days: int,
                              now: datetime | None = None) -> int:
    """Forget people inactive for `retention_days` (their proposals stay, unlinked) and the
    workbooks sent in chat over UPLOADS_KEPT ago. Returns how many people were forgotten."""
    now = now or datetime.now(UTC)
    moment = now - timedelta(days=retention_days)
    async with db.transaction() as conn:
        await answers.prune_imports(conn, (now - UPLOADS_KEPT).isoformat(timespec="seconds"))
        return await retention.purge(conn, moment.isoformat(timespec="seconds"))
