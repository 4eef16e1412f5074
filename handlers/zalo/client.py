"""A thin client of the Zalo Bot Platform's HTTP API on aiohttp (why not a library: docs/zalo.md).

Every call is `POST {base_url}{token}/{method}` with a JSON body; every answer is
`{ok, result, description, error_code}`, and errors come with HTTP 200 and `ok: false`, so the
body decides, not the status.
"""

from __future__ import annotations

import json
from typing import Any

import aiohttp

DEFAULT_BASE_URL = "https://bot-api.zaloplatforms.com/bot"
NO_UPDATES = 408  # getUpdates' "Request timeout": nothing arrived, not an error


class ZaloError(Exception):
    """Zalo said no (`code` is its error_code; 0: no answer at all, a network fault)."""

    def __init__(self, code: int, description: str) -> None:
        super().__init__(f"{code}: {description}")
        self.code, self.description = code, description


class ZaloClient:
    def __init__(self, token: str, base_url: str = DEFAULT_BASE_URL,
                 timeout: float = 20.0) -> None:
        self.url = f"{base_url}{token}/"
        self.timeout = timeout
        self._session: aiohttp.ClientSession | None = None

    async def start(self) -> None:
        if self._session is None or self._session.closed:
            self._session = aiohttp.ClientSession(
                timeout=aiohttp.ClientTimeout(total=None, sock_connect=10))

    async def close(self) -> None:
        if self._session is not None:
            await self._session.close()
            self._session = None

    async def call(self, method: str, within: float | None = None, **params: Any) -> Any:
        """One API call (answered `within` seconds); its `result`, or ZaloError."""
        await self.start()
        assert self._session is not None
        try:
            async with self._session.post(
                    self.url + method, json=params,
                    timeout=aiohttp.ClientTimeout(total=within or self.timeout)) as response:
                raw = await response.read()
        except (aiohttp.ClientError, TimeoutError) as error:
            raise ZaloError(0, f"{type(error).__name__}: {error}") from error
        try:
            answer = json.loads(raw)
        except ValueError as error:
            raise ZaloError(response.status, f"not JSON (HTTP {response.status})") from error
        if not isinstance(answer, dict) or not answer.get("ok"):
            found = answer if isinstance(answer, dict) else {}
            raise ZaloError(int(found.get("error_code") or response.status),
                            str(found.get("description") or f"HTTP {response.status}"))
        return answer.get("result")

    async def send_message(self, chat_id: str, text: str) -> Any:
        return await self.call("sendMessage", chat_id=chat_id, text=text)

    async def set_webhook(self, url: str, secret: str) -> Any:
        return await self.call("setWebhook", url=url, secret_token=secret)

    async def delete_webhook(self) -> None:
        try:
            await self.call("deleteWebhook")
        except ZaloError as error:
            if error.code != 400:  # no webhook was ever set
                raise

    async def get_update(self, wait: int = 30) -> dict[str, Any] | None:
        """One update by long polling (development only: Zalo keeps no offset), or None."""
        try:
            found = await self.call("getUpdates", within=wait + 10, timeout=str(wait))
        except ZaloError as error:
            if error.code == NO_UPDATES:
                return None
            raise
        return found if isinstance(found, dict) else None
