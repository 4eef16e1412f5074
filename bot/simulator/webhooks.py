"""Webhook delivery, as Telegram does it: each queued update POSTed to the bot's webhook URL with
the secret token header, oldest first, and kept (retried) until the bot answers 200."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from typing import Any

import aiohttp

from bot.simulator.state import UpdateQueue

log = logging.getLogger("childforum.simulator")
RETRY_SECONDS = 0.2
SECRET_HEADER = "X-Telegram-Bot-Api-Secret-Token"


class WebhookPusher:
    """Pushes `queue` to one URL while it is set; `busy` counts a POST in flight."""

    def __init__(self, queue: UpdateQueue, busy: Callable[[int], None]) -> None:
        self.queue, self.busy = queue, busy
        self.url, self.secret = "", ""
        self.delivered = 0
        self.refused = 0  # attempts the receiver did not answer 200 (down, or an error)
        self._task: asyncio.Task[None] | None = None

    def point(self, url: str, secret: str) -> None:
        """setWebhook (url "": deleteWebhook)."""
        self.url, self.secret = url, secret
        if url and (self._task is None or self._task.done()):
            self._task = asyncio.create_task(self._run(), name="simulator.webhook")
        self.queue.wakeup.set()

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            await asyncio.gather(self._task, return_exceptions=True)
            self._task = None

    async def _run(self) -> None:
        timeout = aiohttp.ClientTimeout(total=30)
        async with aiohttp.ClientSession(timeout=timeout) as session:
            while self.url:
                if not self.queue.items:
                    self.queue.wakeup.clear()
                    await self.queue.wakeup.wait()
                    continue
                queued = self.queue.items[0]
                if await self._post(session, queued.update):
                    if self.queue.items and self.queue.items[0] is queued:
                        self.queue.items.popleft()
                    self.delivered += 1
                else:
                    self.refused += 1
                    await asyncio.sleep(RETRY_SECONDS)

    async def _post(self, session: aiohttp.ClientSession, update: dict[str, Any]) -> bool:
        headers = {SECRET_HEADER: self.secret} if self.secret else {}
        self.busy(1)
        try:
            async with session.post(self.url, json=update, headers=headers) as response:
                return response.status == 200
        except (aiohttp.ClientError, TimeoutError, OSError):
            return False
        finally:
            self.busy(-1)
