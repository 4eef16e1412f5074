"""Durable receipt of updates: written before they are acted on, replayed after a restart."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from bot.transport.channels import TELEGRAM
from storage import inbox
from storage.db import Database


class Inbox:
    def __init__(self, db: Database) -> None:
        self.db = db

    async def receive(self, update_id: int, payload: dict[str, Any],
                      chat_id: int | None = None, channel: str = TELEGRAM) -> bool:
        """Write an update durably; False when this update id is already known."""
        async with self.db.single() as db:
            return await inbox.store(db, update_id, payload, chat_id, channel)

    async def finish(self, update_id: int) -> None:
        """Mark an update handled that changed nothing else."""
        async with self.db.single() as db:
            await inbox.mark_done(db, update_id)

    async def is_done(self, update_id: int) -> bool:
        return await inbox.is_done(self.db.reader, update_id)

    async def earlier(self, chat_id: int, update_id: int) -> list[dict[str, Any]]:
        """The chat's updates before `update_id` still waiting (another worker received them)."""
        return await inbox.earlier_pending(self.db.reader, chat_id, update_id)

    async def stalled(self, older_than: float, channel: str = TELEGRAM) -> list[dict[str, Any]]:
        """Updates received more than `older_than` seconds ago and still not handled: a worker
        that received them died (see handlers.telegram.jobqueue.rescue_stalled)."""
        before = (datetime.now(UTC) - timedelta(seconds=older_than)).isoformat(
            timespec="seconds")
        return await inbox.pending(self.db.reader, before, channel)

    async def unfinished(self, channel: str = TELEGRAM) -> list[dict[str, Any]]:
        """A channel's updates received before a crash and not handled yet, oldest first."""
        return await inbox.pending(self.db.reader, channel=channel)

    async def prune(self, keep_days: int = 7) -> None:
        before = (datetime.now(UTC) - timedelta(days=keep_days)).isoformat(timespec="seconds")
        async with self.db.transaction() as db:
            await inbox.prune(db, before)
