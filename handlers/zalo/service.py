"""Zalo in and out of the process: the webhook Zalo posts to (or, in development, a poller),
and the client the courier sends with.

The webhook checks the secret Zalo sends back (header X-Bot-Api-Secret-Token, compared in
constant time): a call without it, or with another, gets 401 and nothing is kept. An event is in
the inbox before the answer is 200; when the database cannot take it the answer is 503, so Zalo
may send it again.
"""

from __future__ import annotations

import asyncio
import hmac
import logging
from typing import Any

from aiohttp import web

from bot.config import Zalo
from handlers.zalo.channel import ZaloChannel
from handlers.zalo.client import ZaloClient, ZaloError
from storage.db import is_unavailable

log = logging.getLogger("childforum.zalo")
SECRET_HEADER = "X-Bot-Api-Secret-Token"
MAX_BODY = 256 * 1024  # an event is a few hundred bytes; a text at most 2,000 characters
POLL_SECONDS = 30


class ZaloService:
    def __init__(self, channel: ZaloChannel, client: ZaloClient, settings: Zalo) -> None:
        self.channel, self.client, self.settings = channel, client, settings
        self._runner: web.AppRunner | None = None
        self._poller: asyncio.Task[None] | None = None

    async def start(self) -> None:
        """Listen (or poll) and tell Zalo where to post; on a refusal, undo what started."""
        try:
            await self._start()
        except BaseException:
            await self.stop()
            raise

    async def _start(self) -> None:
        await self.client.start()
        await self.channel.start()
        if self.settings.mode == "webhook":
            app = web.Application(client_max_size=MAX_BODY)
            app.router.add_post(f"/{self.settings.url_path}", self.on_post)
            self._runner = web.AppRunner(app, access_log=None)
            await self._runner.setup()
            await web.TCPSite(self._runner, self.settings.listen, self.settings.port).start()
            secret = self.settings.secret()
            assert secret is not None  # Zalo.problem() refused to start without one
            await self.client.set_webhook(self.settings.public_url, secret)
        else:
            await self.client.delete_webhook()
            self._poller = asyncio.create_task(self._poll(), name="zalo-poller")
        log.info("Zalo is on (%s)", self.settings.mode)

    async def stop(self) -> None:
        if self._poller is not None:
            self._poller.cancel()
            await asyncio.gather(self._poller, return_exceptions=True)
            self._poller = None
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None
        await self.channel.stop()
        await self.client.close()

    async def on_post(self, request: web.Request) -> web.Response:
        secret = (self.settings.secret() or "").encode()
        given = request.headers.get(SECRET_HEADER, "").encode()
        if not secret or not hmac.compare_digest(given, secret):
            return web.Response(status=401, text="unauthorized")
        try:
            body: Any = await request.json()
        except ValueError:
            return web.Response(status=400, text="not JSON")
        try:
            await self.channel.receive(body)  # not an event (a follow, say): kept nowhere
        except Exception as error:
            if not is_unavailable(error):
                raise
            log.error("The database cannot take a Zalo event now: %s", error)
            return web.Response(status=503, text="try again")
        return web.Response(text="ok")

    async def _poll(self) -> None:
        """Development only: Zalo's getUpdates has no offset, so an event can be missed or
        repeated (the inbox drops repeats by message id)."""
        while True:
            try:
                update = await self.client.get_update(POLL_SECONDS)
                if update is not None:
                    await self.channel.receive(update)
            except (ZaloError, OSError) as error:
                log.warning("Zalo getUpdates failed (%s); again in 5 s", error)
                await asyncio.sleep(5)
