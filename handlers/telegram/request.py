"""python-telegram-bot's HTTP client on aiohttp instead of httpx (issue 14).

PTB's own `HTTPXRequest` costs about 1 ms of CPU per Bot API call, more with many calls in
flight (encode/httpx#3215); this one costs a fraction of that (bench/bench_http.py). It keeps
HTTPXRequest's contract: the same timeouts and defaults, the same body encoding (form fields,
multipart when files are sent) and the same errors (`TimedOut`, `NetworkError`).

Timeouts, as aiohttp can express them:

- pool: how long a call waits for one of the `connection_pool_size` connections. The pool is a
  semaphore of that size taken before aiohttp sees the call, so that waiting for a free
  connection can be told apart from connecting (both are aiohttp's `connect` timeout) and
  raised as PTB's "Pool timeout" `TimedOut`.
- connect: aiohttp's `connect` (DNS, TCP and TLS of a new connection; the pool wait is not in it).
- read: aiohttp's `sock_read`, the longest pause while reading the answer; it starts once the
  request is written, as httpx's read timeout does.
- write: aiohttp has no timeout on writes. A stalled upload is bounded by an overall deadline
  of connect + write + read (none when one of them is None). That deadline is looser than
  httpx's (which bounds each write) and stricter for a long upload on a slow link, whose whole
  upload must fit in `media_write_timeout` + the others (20 + 5 + 5 s by default).
"""

from __future__ import annotations

import asyncio
import urllib.request
from typing import TYPE_CHECKING
from urllib.parse import urlencode

import aiohttp
from telegram._utils.defaultvalue import DefaultValue
from telegram.error import NetworkError, TimedOut
from telegram.request import BaseRequest, RequestData

if TYPE_CHECKING:
    from telegram._utils.types import ODVInput, UploadFileDict

POOL_TIMEOUT_MESSAGE = (  # HTTPXRequest's wording
    "Pool timeout: All connections in the connection pool are occupied. "
    "Request was *not* sent to Telegram. Consider adjusting the connection "
    "pool size or the pool timeout."
)
_FORM = {"Content-Type": "application/x-www-form-urlencoded"}


class AiohttpRequest(BaseRequest):
    """A `telegram.request.BaseRequest` on one `aiohttp.ClientSession`.

    The parameters are HTTPXRequest's, with its defaults. The session is opened by `initialize`
    (inside the running event loop) and closed by `shutdown`; `initialize` after `shutdown`
    opens a new one. Proxies: `proxy`, or the environment's HTTP(S)_PROXY / NO_PROXY, which
    HTTPXRequest honours too (read only when one is set: aiohttp then looks them up per call).
    """

    def __init__(
        self,
        connection_pool_size: int = 256,
        read_timeout: float | None = 5.0,
        write_timeout: float | None = 5.0,
        connect_timeout: float | None = 5.0,
        pool_timeout: float | None = 1.0,
        media_write_timeout: float | None = 20.0,
        proxy: str | None = None,
    ) -> None:
        if connection_pool_size < 1:
            raise ValueError("connection_pool_size must be at least 1")
        self._pool_size = connection_pool_size
        self._read_timeout = read_timeout
        self._write_timeout = write_timeout
        self._connect_timeout = connect_timeout
        self._pool_timeout = pool_timeout
        self._media_write_timeout = media_write_timeout
        self._proxy = proxy
        self._session: aiohttp.ClientSession | None = None
        self._pool: asyncio.Semaphore | None = None
        self._timeouts: dict[tuple[float | None, float | None, float | None],
                             aiohttp.ClientTimeout] = {}

    @property
    def read_timeout(self) -> float | None:
        """The read timeout used when a call passes none (PTB adds getUpdates' long poll)."""
        return self._read_timeout

    @property
    def connection_pool_size(self) -> int:
        return self._pool_size

    async def initialize(self) -> None:
        if self._session is not None and not self._session.closed:
            return
        self._pool = asyncio.Semaphore(self._pool_size)
        self._session = aiohttp.ClientSession(
            connector=aiohttp.TCPConnector(limit=self._pool_size),
            headers={"User-Agent": self.USER_AGENT},
            cookie_jar=aiohttp.DummyCookieJar(),  # the Bot API sets none; skip the bookkeeping
            timeout=aiohttp.ClientTimeout(),  # every call passes its own
            proxy=self._proxy,
            trust_env=self._proxy is None and bool(urllib.request.getproxies()),
        )

    async def shutdown(self) -> None:
        session, self._session = self._session, None
        if session is not None and not session.closed:
            await session.close()

    async def do_request(
        self,
        url: str,
        method: str,
        request_data: RequestData | None = None,
        read_timeout: ODVInput[float] = BaseRequest.DEFAULT_NONE,
        write_timeout: ODVInput[float] = BaseRequest.DEFAULT_NONE,
        connect_timeout: ODVInput[float] = BaseRequest.DEFAULT_NONE,
        pool_timeout: ODVInput[float] = BaseRequest.DEFAULT_NONE,
    ) -> tuple[int, bytes]:
        session, pool = self._session, self._pool
        if session is None or pool is None or session.closed:
            raise RuntimeError("This AiohttpRequest is not initialized!")
        files = request_data.multipart_data if request_data and request_data.contains_files \
            else None
        if isinstance(write_timeout, DefaultValue):
            write_timeout = self._media_write_timeout if files else self._write_timeout
        timeout = self._timeout(
            self._connect_timeout if isinstance(connect_timeout, DefaultValue)
            else connect_timeout,
            self._read_timeout if isinstance(read_timeout, DefaultValue) else read_timeout,
            write_timeout,
        )
        if pool.locked():  # wait for a connection, but no longer than the pool timeout
            try:
                async with asyncio.timeout(
                        self._pool_timeout if isinstance(pool_timeout, DefaultValue)
                        else pool_timeout):
                    await pool.acquire()
            except TimeoutError as err:
                raise TimedOut(POOL_TIMEOUT_MESSAGE) from err
        else:
            await pool.acquire()  # free: returns at once
        try:
            data: bytes | aiohttp.FormData | None = None
            headers = None
            if files:
                data = _multipart(request_data, files)
            elif request_data is not None:
                fields = request_data.json_parameters
                if fields:  # form fields, as HTTPXRequest sends them
                    data = urlencode(fields).encode()
                    headers = _FORM
            async with session.request(method, url, data=data, headers=headers,
                                       timeout=timeout) as response:
                return response.status, await response.read()
        except TimeoutError as err:  # aiohttp's timeouts are TimeoutErrors (and ClientErrors)
            raise TimedOut from err
        except aiohttp.ClientError as err:
            # Like HTTPXRequest: the class name, as the message may be empty.
            raise NetworkError(f"aiohttp.{err.__class__.__name__}: {err}") from err
        finally:
            pool.release()

    def _timeout(self, connect: float | None, read: float | None,
                 write: float | None) -> aiohttp.ClientTimeout:
        key = (connect, read, write)
        timeout = self._timeouts.get(key)
        if timeout is None:
            if len(self._timeouts) > 64:  # getUpdates' read timeout varies with its long poll
                self._timeouts.clear()
            total = None if connect is None or read is None or write is None \
                else connect + write + read
            timeout = self._timeouts[key] = aiohttp.ClientTimeout(
                total=total, connect=connect, sock_read=read)
        return timeout


def _multipart(request_data: RequestData | None, files: UploadFileDict) -> aiohttp.FormData:
    """The fields and files as multipart/form-data, as HTTPXRequest sends them: file names in
    UTF-8 as browsers send them (aiohttp's default would percent-encode them)."""
    form = aiohttp.FormData(quote_fields=False)
    if request_data is not None:
        for name, value in request_data.json_parameters.items():
            form.add_field(name, value)
    for name, (filename, content, mimetype) in files.items():
        form.add_field(name, content, filename=filename, content_type=mimetype)
    return form
