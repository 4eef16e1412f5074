"""Jobs that run once however many workers share the database.

Digests, scheduled exports, reminders, escalations and retention must not run once per worker.
Every worker plans them; when one is due, it runs only in the worker that holds the database's
jobs lock (`Database.holds_jobs`: always on SQLite; on PostgreSQL one process at a time, and
another takes over within a tick when that one dies). Jobs about the process itself (forgetting
its flood counters) and jobs that gate themselves (the export schedule: every worker plans the
next run, the holder makes it) run everywhere: their names start with one of `every_process`.
"""

from __future__ import annotations

import logging
import time
from typing import Any

from telegram import Update
from telegram.ext import Application, Job, JobQueue

from bot.transport.inbox import Inbox
from handlers.telegram.durable import DurableQueue
from storage.db import Database

log = logging.getLogger("childforum.jobs")
STALLED_SECONDS = 20.0  # an update still unhandled this long after its receipt was abandoned


class SharedJobQueue(JobQueue):  # type: ignore[type-arg]
    def __init__(self, db: Database, every_process: tuple[str, ...] = ()) -> None:
        super().__init__()
        self.db, self.every_process = db, every_process

    @staticmethod
    async def job_callback(job_queue: JobQueue[Any], job: Job[Any]) -> None:
        if isinstance(job_queue, SharedJobQueue) and not (
                job.name or "").startswith(job_queue.every_process):
            try:
                holder = await job_queue.db.holds_jobs()
            except Exception:  # the database is down: the job's next turn will tell
                log.exception("Could not tell whether this worker runs the jobs")
                return
            if not holder:
                log.debug("Job %s runs in another worker", job.name)
                return
        await job.run(job_queue.application)


def rescue_stalled(application: Application[Any, Any, Any, Any, Any, Any], inbox: Inbox,
                   queue: DurableQueue) -> None:
    """With several workers: updates a dead worker received (on disk, answered 200 to Telegram)
    and never handled are handled by the worker running the jobs, after STALLED_SECONDS.
    Handling one twice is harmless: the second finds it done and changes nothing."""
    assert application.job_queue is not None
    rescued: dict[int, float] = {}

    async def rescue(context: object) -> None:
        now = time.monotonic()
        for update_id, at in list(rescued.items()):
            if now - at > 10 * STALLED_SECONDS:
                del rescued[update_id]
        for payload in await inbox.stalled(STALLED_SECONDS):
            update_id = int(payload["update_id"])
            if update_id in rescued:
                continue
            rescued[update_id] = now
            log.warning("Update %d was received by a worker that did not handle it: handling"
                        " it here", update_id)
            await queue.again(Update.de_json(payload, application.bot))

    application.job_queue.run_repeating(rescue, interval=STALLED_SECONDS / 4,
                                        first=STALLED_SECONDS / 4, name="inbox.rescue")
