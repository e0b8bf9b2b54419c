"""The Bot API's HTTP transport: PTB's `BaseRequest` on aiohttp's client.

PTB's default transport is httpx (with httpcore, anyio and h11, all pure Python); a tap
that sends a cue makes two Bot API calls, and that stack was the largest part of a tap's
CPU. aiohttp, already the webhook's server, parses HTTP in C. The contract is PTB's own
(`do_request` returns the status and the body; a timeout raises `TimedOut`, any other
transport failure `NetworkError`), so every rule above it (the rate limiter, 429s, what
counts as surely undelivered) is unchanged.

Nothing here logs: aiohttp's client logs no request lines, so the token in a Bot API URL
never reaches a log, and the failures PTB raises name the error's type, not the URL.
"""

from __future__ import annotations

import asyncio
from typing import Any

import aiohttp
from telegram._utils.defaultvalue import DefaultValue
from telegram._utils.types import ODVInput
from telegram.error import NetworkError, TimedOut
from telegram.request import BaseRequest, RequestData

# As PTB's HTTPXRequest: seconds, and the connections kept open to the Bot API.
CONNECT_TIMEOUT = 5.0
READ_TIMEOUT = 5.0
WRITE_TIMEOUT = 5.0
MEDIA_WRITE_TIMEOUT = 20.0
POOL_TIMEOUT = 1.0


class NotConnected(NetworkError):
    """No connection to the Bot API could be made: the request surely never left."""


class AiohttpRequest(BaseRequest):
    def __init__(self, connection_pool_size: int = 256) -> None:
        self._pool_size = connection_pool_size
        self._session: aiohttp.ClientSession | None = None

    @property
    def read_timeout(self) -> float | None:
        return READ_TIMEOUT

    async def initialize(self) -> None:
        if self._session is None or self._session.closed:
            connector = aiohttp.TCPConnector(limit=self._pool_size, ttl_dns_cache=300)
            self._session = aiohttp.ClientSession(
                connector=connector, headers={"User-Agent": self.USER_AGENT}
            )

    async def shutdown(self) -> None:
        if self._session is not None and not self._session.closed:
            await self._session.close()

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
        if self._session is None or self._session.closed:
            raise RuntimeError("the Bot API transport is not initialized")
        files = request_data.multipart_data if request_data else None
        read = _seconds(read_timeout, READ_TIMEOUT)
        write = _seconds(write_timeout, MEDIA_WRITE_TIMEOUT if files else WRITE_TIMEOUT)
        timeout = aiohttp.ClientTimeout(
            # aiohttp has no write timeout of its own: the whole request gets both.
            total=None if read is None or write is None else read + write,
            connect=_seconds(pool_timeout, POOL_TIMEOUT),
            sock_connect=_seconds(connect_timeout, CONNECT_TIMEOUT),
            sock_read=read,
        )
        body: Any = None
        if files:
            form = aiohttp.FormData()
            for name, value in (request_data.json_parameters if request_data else {}).items():
                form.add_field(name, value)
            for name, (filename, content, mime) in files.items():
                form.add_field(name, content, filename=filename, content_type=mime)
            body = form
        elif request_data is not None:
            body = aiohttp.FormData(request_data.json_parameters)
        try:
            async with self._session.request(method, url, data=body, timeout=timeout) as res:
                return res.status, await res.read()
        except TimeoutError as err:
            raise TimedOut from err
        except aiohttp.ClientConnectorError as err:
            raise NotConnected(f"aiohttp.{type(err).__name__}") from None
        except (aiohttp.ClientError, OSError, asyncio.IncompleteReadError) as err:
            # By its type only: some of aiohttp's errors carry the URL, and so the token.
            raise NetworkError(f"aiohttp.{type(err).__name__}") from None


def _seconds(given: ODVInput[float], default: float) -> float | None:
    if isinstance(given, DefaultValue):
        return default
    return given
