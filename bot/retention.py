"""The retention rule of DESIGN.md, run daily: personal data does not outlive its use."""

from __future__ import annotations

from collections.abc import Collection
from datetime import UTC, datetime, timedelta

from storage import answers, audit, outbox, retention
from storage import staff as staff_store
from storage.db import Database

# A workbook sent in chat waits for its ✅ Nhập (minutes): it holds children's words, so it
# goes the next daily run after a day (docs/privacy.md).
UPLOADS_KEPT = timedelta(days=1)
# The record of a message sent (to whom, when; never its words) that no report needs: a month,
# to look into a complaint that something never arrived.
SENT_KEPT = timedelta(days=30)
# The text a moderator edited out of a proposal (a name, a phone number...): a month, for the
# audit view to show what was changed, then it goes (the edit itself, and the text after it,
# stay with the proposal).
EDIT_ORIGINALS_KEPT = timedelta(days=30)


async def purge_personal_data(db: Database, retention_days: int,
                              now: datetime | None = None, staff: Collection[int] = ()) -> int:
    """Forget people inactive for `retention_days` (their proposals stay, unlinked), the
    workbooks sent in chat over UPLOADS_KEPT ago, the record of messages sent over SENT_KEPT
    ago that no report needs, and the text before moderators' edits made over
    EDIT_ORIGINALS_KEPT ago. Staff (`staff`, config.toml, and active grants) keep their
    address and what is queued for them. Returns how many people were forgotten."""
    now = now or datetime.now(UTC)
    moment = now - timedelta(days=retention_days)
    async with db.transaction() as conn:
        await answers.prune_imports(conn, (now - UPLOADS_KEPT).isoformat(timespec="seconds"))
        await outbox.prune(conn, (now - SENT_KEPT).isoformat(timespec="seconds"))
        await audit.forget_originals(conn, (now - EDIT_ORIGINALS_KEPT).isoformat(
            timespec="seconds"))
        granted = [row.user_id for row in await staff_store.active_grants(conn)]
        db.erased()
        return await retention.purge(conn, moment.isoformat(timespec="seconds"),
                                     [*staff, *granted])
