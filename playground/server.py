"""The playground's web face: the chat page, a small JSON API and a live event stream.

The page only ever talks to this server, which acts for one simulated user of the emulator:
it writes and taps through the emulator exactly as a Telegram client would, and relays
every change of that user's chat as a server-sent event.
"""

from __future__ import annotations

import asyncio
import json
import re
from pathlib import Path
from typing import Any, TypeGuard
from urllib.parse import quote

from aiohttp import hdrs, web
from aiohttp.typedefs import Handler

from playground.emulator import BotApiEmulator, SimulatedUser
from playground.emulator.server import LOCAL_HOSTS, host_name
from playground.skip_ahead import SkipAhead, SkipTo
from playground.view import menu_button_view, message_view, reply_keyboard_view, state_view

STATIC_DIR = Path(__file__).with_name("static")
MAX_TEXT = 4096
# Proxies and browsers drop an idle stream after a minute or so; a comment line keeps it open.
HEARTBEAT_SECONDS = 15.0
_CLOSE: dict[str, Any] = {"type": "_close"}
# Defence in depth for the page: even a rendering mistake cannot run foreign script. Frames
# only from this machine: the bot's Mini App, which the playground serves on 127.0.0.1.
_CSP = (
    "default-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'self'; "
    "connect-src 'self'; frame-src 'self' http://127.0.0.1:* http://localhost:*; "
    "base-uri 'none'; form-action 'self'; frame-ancestors 'none'"
)
COLOR_SCHEMES = ("light", "dark")
_AUDIO_TYPE = re.compile(r"audio/[a-z0-9.+-]+")
_IMAGE_MAGIC = (
    (b"\x89PNG\r\n\x1a\n", "image/png"),
    (b"\xff\xd8", "image/jpeg"),
    (b"GIF8", "image/gif"),
)


def _is_number(value: object) -> TypeGuard[int | float]:
    # JSON true/false arrive as bool, which Python counts as an int.
    return isinstance(value, int | float) and not isinstance(value, bool)


def fail(status: int, error: str) -> web.Response:
    return web.json_response({"ok": False, "error": error}, status=status)


@web.middleware
async def _json_errors(request: web.Request, handler: Handler) -> web.StreamResponse:
    """Unknown API paths and wrong methods answer in JSON too, never an HTML page."""
    try:
        return await handler(request)
    except web.HTTPException as exc:
        if exc.status < 400 or not request.path.startswith("/api/"):
            raise
        return fail(exc.status, exc.reason)


@web.middleware
async def _local_host_only(request: web.Request, handler: Handler) -> web.StreamResponse:
    """Refuse requests addressed to any other host name: a web page that re-points its own
    domain at 127.0.0.1 (DNS rebinding) would otherwise count as same-origin here."""
    # Read from the header itself: request.url fails on a malformed one.
    if host_name(request.headers.get(hdrs.HOST, "")) not in LOCAL_HOSTS:
        return fail(403, "this page answers on 127.0.0.1 or localhost only")
    return await handler(request)


async def _json_body(request: web.Request) -> dict[str, Any] | web.Response:
    # Requiring JSON makes a cross-site form post impossible without a CORS preflight.
    if request.content_type != "application/json":
        return fail(415, "send JSON with Content-Type: application/json")
    try:
        body = await request.json()
    except (json.JSONDecodeError, UnicodeDecodeError):
        return fail(400, "the body is not valid JSON")
    if not isinstance(body, dict):
        return fail(400, "the body must be a JSON object")
    return body


def _image_type(data: bytes) -> str:
    if data[:4] == b"RIFF" and data[8:12] == b"WEBP":
        return "image/webp"
    return next((kind for magic, kind in _IMAGE_MAGIC if data.startswith(magic)), "image/png")


def _attachment(name: str) -> str:
    fallback = "".join(
        c if c.isascii() and c.isprintable() and c not in '"\\' else "_" for c in name
    )
    return f"attachment; filename=\"{fallback}\"; filename*=UTF-8''{quote(name)}"


class PlaygroundServer:
    """Serves the chat page for one simulated user of `emulator`."""

    def __init__(self, emulator: BotApiEmulator, user: SimulatedUser) -> None:
        self.emulator = emulator
        self.user = user
        self._streams: set[asyncio.Queue[dict[str, Any]]] = set()
        self._runner: web.AppRunner | None = None
        # Moves the bot's clock forward (playground/skip_ahead.py), once the bot runs.
        self.skip_ahead: SkipAhead | None = None
        self._url: str | None = None

    # -- lifecycle -----------------------------------------------------------------------

    def make_app(self) -> web.Application:
        app = web.Application(
            client_max_size=64 * 1024, middlewares=[_local_host_only, _json_errors]
        )
        app.router.add_get("/", self.index)
        app.router.add_static("/static/", STATIC_DIR)
        app.router.add_get("/api/state", self.state)
        app.router.add_get("/api/events", self.events)
        app.router.add_post("/api/send", self.send)
        app.router.add_post("/api/tap", self.tap)
        app.router.add_post("/api/location", self.location)
        app.router.add_post("/api/webapp", self.webapp)
        app.router.add_get("/api/files/{file_id}", self.file)
        app.router.add_post("/api/skip", self.skip)
        app.on_shutdown.append(self._close_streams)
        return app

    async def start(self, host: str = "127.0.0.1", port: int = 0) -> str:
        """Listen on host:port (0 picks a free port); returns the page's address."""
        # Cancelling the handler of a closed tab ends its event stream at once.
        runner = web.AppRunner(
            self.make_app(), handler_cancellation=True, shutdown_timeout=2.0, access_log=None
        )
        await runner.setup()
        try:
            await web.TCPSite(runner, host, port).start()
        except BaseException:
            await runner.cleanup()
            raise
        self._runner = runner
        self._url = f"http://{host}:{runner.addresses[0][1]}"
        return self._url

    async def stop(self) -> None:
        if self._runner is not None:
            runner, self._runner = self._runner, None
            await runner.cleanup()

    @property
    def url(self) -> str:
        if self._url is None:
            raise RuntimeError("the playground server has not been started")
        return self._url

    async def _close_streams(self, app: web.Application) -> None:
        for queue in self._streams:
            queue.put_nowait(_CLOSE)

    # -- the page ------------------------------------------------------------------------

    async def index(self, request: web.Request) -> web.StreamResponse:
        return web.FileResponse(
            STATIC_DIR / "index.html",
            headers={"Content-Security-Policy": _CSP, "Cache-Control": "no-cache"},
        )

    async def state(self, request: web.Request) -> web.Response:
        return web.json_response(state_view(self.emulator, self.user))

    async def events(self, request: web.Request) -> web.StreamResponse:
        """Server-sent events: the whole state first, then every change of the chat."""
        # Subscribing before taking the snapshot, with no await between, loses no change.
        queue = self.emulator.subscribe()
        self._streams.add(queue)
        snapshot = state_view(self.emulator, self.user)
        response = web.StreamResponse(
            headers={"Content-Type": "text/event-stream", "Cache-Control": "no-cache"}
        )
        try:
            await response.prepare(request)
            await self._write_event(response, snapshot)
            while True:
                try:
                    async with asyncio.timeout(HEARTBEAT_SECONDS):
                        event = await queue.get()
                except TimeoutError:
                    await response.write(b": keep-alive\n\n")
                    continue
                if event is _CLOSE:
                    break
                relayed = self._relay(event)
                if relayed is not None:
                    await self._write_event(response, relayed)
        except ConnectionResetError:
            pass  # the tab was closed
        finally:
            self._streams.discard(queue)
            self.emulator.unsubscribe(queue)
        return response

    @staticmethod
    async def _write_event(response: web.StreamResponse, data: dict[str, Any]) -> None:
        payload = json.dumps(data, ensure_ascii=False)
        await response.write(f"data: {payload}\n\n".encode())

    def _relay(self, event: dict[str, Any]) -> dict[str, Any] | None:
        """The page's view of an emulator event, or None if the page does not show it."""
        kind = event.get("type")
        if kind == "commands":
            return {"type": "commands", "commands": list(self.emulator.commands)}
        if kind == "menu_button" and event.get("chat_id") in (None, self.user.id):
            # The bot's default counts for this chat too, unless the chat has its own.
            return {"type": "menu_button", "menu_button": menu_button_view(self.user)}
        if event.get("chat_id") != self.user.id:
            return None
        if kind in ("message", "edit"):
            chat = self.user.chat
            message = chat.find(event["message"]["message_id"]) if chat else None
            if message is None or message.deleted:
                return None
            # The message as it is now, so a late event can never show an older version.
            return {
                "type": "message",
                "message": message_view(message),
                "reply_keyboard": reply_keyboard_view(self.user),
            }
        if kind == "delete":
            return {"type": "delete", "id": event["message_id"]}
        if kind == "callback_answer":
            answer = event["answer"]
            if not answer.get("text"):
                return None
            return {"type": "toast", "text": answer["text"], "alert": bool(answer["show_alert"])}
        if kind == "chat_action":
            return {"type": "action", "action": event["action"]}
        return None

    # -- what the user does --------------------------------------------------------------

    async def send(self, request: web.Request) -> web.Response:
        body = await _json_body(request)
        if isinstance(body, web.Response):
            return body
        text = body.get("text")
        if not isinstance(text, str) or not text.strip():
            return fail(400, "text is empty")
        if len(text) > MAX_TEXT:
            return fail(400, f"text is too long ({MAX_TEXT} characters at most)")
        sent = await self.user.send(text.strip())
        return web.json_response({"ok": True, "message_id": sent["message_id"]})

    async def skip(self, request: web.Request) -> web.Response:
        """Skip ahead to the next morning (09:00) or Sunday evening (18:00), the user's time."""
        body = await _json_body(request)
        if isinstance(body, web.Response):
            return body
        try:
            where = SkipTo(str(body.get("to")))
        except ValueError:
            return fail(400, f"to: one of {', '.join(SkipTo)}")
        if self.skip_ahead is None:
            return fail(503, "the bot is not running yet")
        skipped = await self.skip_ahead.to(where)
        if isinstance(skipped, str):
            return fail(409, skipped)
        now = skipped.now
        shown = f"{now:%a} {now.day} {now:%b}, {now:%H:%M} ({skipped.zone})"
        return web.json_response({"ok": True, "now": shown})

    async def location(self, request: web.Request) -> web.Response:
        body = await _json_body(request)
        if isinstance(body, web.Response):
            return body
        latitude, longitude = body.get("latitude"), body.get("longitude")
        if not (_is_number(latitude) and _is_number(longitude)):
            return fail(400, "latitude and longitude (numbers) are required")
        if not (-90 <= latitude <= 90 and -180 <= longitude <= 180):
            return fail(400, "latitude must be within ±90 and longitude within ±180")
        sent = await self.user.send_location(float(latitude), float(longitude))
        return web.json_response({"ok": True, "message_id": sent["message_id"]})

    async def tap(self, request: web.Request) -> web.Response:
        body = await _json_body(request)
        if isinstance(body, web.Response):
            return body
        message_id, data = body.get("message_id"), body.get("data")
        if type(message_id) is not int or not isinstance(data, str):
            return fail(400, "message_id (a number) and data (a string) are required")
        chat = self.user.chat
        message = chat.find(message_id) if chat else None
        if message is None or message.deleted or not message.from_bot:
            return fail(404, f"no bot message {message_id} in this chat")
        # A Telegram client can only press a button that is on screen.
        if not any(b.get("callback_data") == data for b in message.buttons):
            return fail(409, "that button is no longer on the message")
        query_id = await self.user.tap_data(message_id, data)
        return web.json_response({"ok": True, "query_id": query_id})

    async def webapp(self, request: web.Request) -> web.Response:
        """Open a Mini App the chat offers: its launch address, with initData the emulator
        signs for this user (the page never sees the bot's token, so it cannot sign)."""
        body = await _json_body(request)
        if isinstance(body, web.Response):
            return body
        url, scheme = body.get("url"), body.get("color_scheme", "light")
        if not isinstance(url, str) or scheme not in COLOR_SCHEMES:
            return fail(400, 'url (a string) is required; color_scheme is "light" or "dark"')
        # A Telegram client opens only a Mini App the bot put on screen.
        if url not in self.user.web_apps:
            return fail(409, "that Mini App is no longer offered in this chat")
        return web.json_response(
            {"ok": True, "url": self.user.open_web_app(url, color_scheme=scheme)}
        )

    async def file(self, request: web.Request) -> web.Response:
        stored = self.emulator.state.files.get(request.match_info["file_id"])
        if stored is None:
            return fail(404, "no such file")
        headers = {"X-Content-Type-Options": "nosniff", "Cache-Control": "private, max-age=3600"}
        if stored.kind == "photo":
            return web.Response(
                body=stored.data, content_type=_image_type(stored.data), headers=headers
            )
        if stored.kind in ("audio", "voice") and _AUDIO_TYPE.fullmatch(stored.mime_type or ""):
            # Played by the page's <audio>: a sound type, never one a browser would render.
            return web.Response(body=stored.data, content_type=stored.mime_type, headers=headers)
        # Always a download: a document is never rendered inside the page's origin.
        headers["Content-Disposition"] = _attachment(stored.file_name or "file")
        return web.Response(
            body=stored.data,
            content_type=stored.mime_type or "application/octet-stream",
            headers=headers,
        )
