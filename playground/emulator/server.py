"""The HTTP face of the emulator: routes, transport parsing and Bot API error shapes."""

from __future__ import annotations

import asyncio
import functools
import json
import logging
import re
from collections.abc import Awaitable, Callable
from typing import Any, Protocol

from aiohttp import hdrs, web

from playground.emulator.errors import ApiError, bad_request, forbidden, not_found, unauthorized
from playground.emulator.faults import DroppedConnection
from playground.emulator.params import read_params
from playground.emulator.state import EmulatorState

log = logging.getLogger(__name__)

# Bots may upload documents up to 50 MB; leave room for the multipart framing.
CLIENT_MAX_SIZE = 60 * 1024 * 1024
_dumps = functools.partial(json.dumps, ensure_ascii=False)
# The names a client on this machine uses for a server listening on loopback.
LOCAL_HOSTS = frozenset({"127.0.0.1", "localhost", "::1"})
# `name`, `name:port`, `[v6]` or `[v6]:port`; anything else has no trustworthy name.
_HOST_HEADER = re.compile(r"(?:\[(?P<v6>[0-9A-Fa-f:.]+)\]|(?P<name>[^\[\]:@\s]+))(?::\d*)?")
RouteHandler = Callable[[web.Request], Awaitable[web.StreamResponse]]


def json_response(status: int, body: dict[str, Any]) -> web.Response:
    return web.json_response(body, status=status, dumps=_dumps)


def error_response(error: ApiError) -> web.Response:
    return json_response(error.http_status, error.payload())


def host_name(header: str) -> str | None:
    """The lower-cased host name of a Host header without its port; None if malformed."""
    match = _HOST_HEADER.fullmatch(header)
    if match is None:
        return None
    return (match["v6"] or match["name"]).lower()


class ApiBackend(Protocol):
    """What the HTTP layer needs from the emulator it serves."""

    @property
    def token(self) -> str: ...

    @property
    def allowed_hosts(self) -> frozenset[str] | None: ...

    @property
    def state(self) -> EmulatorState: ...

    async def call(
        self, method: str, params: dict[str, Any] | None = None, *, token: str | None = None
    ) -> tuple[int, dict[str, Any]]: ...

    async def on_startup(self, app: web.Application) -> None: ...

    async def on_shutdown(self, app: web.Application) -> None: ...

    async def on_cleanup(self, app: web.Application) -> None: ...


class Routes:
    """aiohttp handlers bound to one emulator."""

    def __init__(self, emulator: ApiBackend) -> None:
        self.emulator = emulator

    async def api(self, request: web.Request) -> web.Response:
        token = request.match_info["token"]
        method = request.match_info["method"]
        try:
            values = await read_params(request)
        except ApiError as exc:
            return error_response(exc)
        except web.HTTPException as exc:
            # e.g. 413 from aiohttp's body size limit; keep the Bot API shape anyway.
            return error_response(ApiError(exc.status, exc.reason))
        except Exception as exc:
            log.warning("unreadable Bot API request to %s: %r", method, exc)
            return error_response(bad_request(f"can't parse request: {exc}"))
        try:
            status, body = await self.emulator.call(method, values, token=token)
        except DroppedConnection as dropped:
            if dropped.silence:
                await asyncio.sleep(dropped.silence)
            if request.transport is not None:
                request.transport.close()
            # Nothing reaches the client: the connection is already gone.
            raise web.HTTPException() from None
        return json_response(status, body)

    async def download(self, request: web.Request) -> web.StreamResponse:
        if request.match_info["token"] != self.emulator.token:
            return error_response(unauthorized())
        stored = self.emulator.state.files_by_path.get(request.match_info["path"])
        if stored is None:
            return error_response(not_found())
        return web.Response(
            body=stored.data, content_type=stored.mime_type or "application/octet-stream"
        )

    async def fallback(self, request: web.Request) -> web.Response:
        return error_response(not_found())

    def checking_host(self, handler: RouteHandler) -> RouteHandler:
        """`handler`, answering 403 to requests addressed to a host name not allowed.

        A web page that re-points its own domain at 127.0.0.1 (DNS rebinding) would
        otherwise reach a loopback emulator from the browser; its requests carry that
        domain in the Host header, which the page cannot change.
        """

        @functools.wraps(handler)
        async def checked(request: web.Request) -> web.StreamResponse:
            allowed = self.emulator.allowed_hosts
            name = host_name(request.headers.get(hdrs.HOST, ""))
            if allowed is not None and name not in allowed:
                names = ", ".join(sorted(allowed))
                return error_response(forbidden(f"this server answers only for {names}"))
            return await handler(request)

        return checked


def add_routes(app: web.Application, emulator: ApiBackend) -> None:
    """Mount the Bot API (and its lifecycle hooks) into an existing aiohttp app."""
    routes = Routes(emulator)
    app.router.add_route("*", "/bot{token}/{method}", routes.checking_host(routes.api))
    app.router.add_route("*", "/file/bot{token}/{path:.+}", routes.checking_host(routes.download))
    app.on_startup.append(emulator.on_startup)
    app.on_shutdown.append(emulator.on_shutdown)
    app.on_cleanup.append(emulator.on_cleanup)


def make_app(emulator: ApiBackend) -> web.Application:
    """A standalone app: the Bot API plus JSON 404s for every other path."""
    app = web.Application(client_max_size=CLIENT_MAX_SIZE)
    add_routes(app, emulator)
    routes = Routes(emulator)
    app.router.add_route("*", "/{tail:.*}", routes.checking_host(routes.fallback))
    return app
