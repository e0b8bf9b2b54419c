"""The HTTP face of the emulator: routes, transport parsing and Bot API error shapes."""

from __future__ import annotations

import functools
import json
import logging
from typing import Any, Protocol

from aiohttp import web

from playground.emulator.errors import ApiError, bad_request, not_found, unauthorized
from playground.emulator.params import read_params
from playground.emulator.state import EmulatorState

log = logging.getLogger(__name__)

# Bots may upload documents up to 50 MB; leave room for the multipart framing.
CLIENT_MAX_SIZE = 60 * 1024 * 1024
_dumps = functools.partial(json.dumps, ensure_ascii=False)


def json_response(status: int, body: dict[str, Any]) -> web.Response:
    return web.json_response(body, status=status, dumps=_dumps)


def error_response(error: ApiError) -> web.Response:
    return json_response(error.http_status, error.payload())


class ApiBackend(Protocol):
    """What the HTTP layer needs from the emulator it serves."""

    @property
    def token(self) -> str: ...

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
        status, body = await self.emulator.call(method, values, token=token)
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


def add_routes(app: web.Application, emulator: ApiBackend) -> None:
    """Mount the Bot API (and its lifecycle hooks) into an existing aiohttp app."""
    routes = Routes(emulator)
    app.router.add_route("*", "/bot{token}/{method}", routes.api)
    app.router.add_route("*", "/file/bot{token}/{path:.+}", routes.download)
    app.on_startup.append(emulator.on_startup)
    app.on_shutdown.append(emulator.on_shutdown)
    app.on_cleanup.append(emulator.on_cleanup)


def make_app(emulator: ApiBackend) -> web.Application:
    """A standalone app: the Bot API plus JSON 404s for every other path."""
    app = web.Application(client_max_size=CLIENT_MAX_SIZE)
    add_routes(app, emulator)
    app.router.add_route("*", "/{tail:.*}", Routes(emulator).fallback)
    return app
