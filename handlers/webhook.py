"""The webhook server: Telegram's POSTs in, each update handled before it is answered.

The bot's own small aiohttp server feeds the Application, as PTB's customwebhookbot
example does, rather than PTB's built-in one, for two things several workers need:

* an update is answered 200 only once it has been handled, so an update whose worker
  dies on it is not lost: Telegram (through the balancer) delivers it again, to another
  worker. PTB's server answers as soon as the update is queued.
* a worker need not register the webhook itself: with WEBHOOK_REGISTER=false it only
  listens, and `yogabot webhook set` registers it once, at deploy. PTB's server always
  calls setWebhook at start.

Each update still goes through the Application's update processor, so it runs inside its
chat's lock (handlers/update_order.py) and error handler, exactly as a polled one.
"""

from __future__ import annotations

import hmac
import logging
from typing import Any

from aiohttp import web
from telegram import Update

from handlers.context import YogaApp

log = logging.getLogger(__name__)

SECRET_HEADER = "X-Telegram-Bot-Api-Secret-Token"
# Telegram's updates are a few kilobytes; anything far bigger is not from Telegram.
MAX_BODY_BYTES = 1024 * 1024
# On stop, requests in hand get this long to finish their update.
STOP_GRACE_SECONDS = 10.0


class WebhookServer:
    """Listens on `listen:port` at `path` (and `path/`), checking Telegram's secret."""

    def __init__(
        self, application: YogaApp, *, path: str, secret: str, listen: str, port: int
    ) -> None:
        self._application = application
        self._path = path or "/"
        self._secret = secret.encode()
        self._listen, self._port = listen, port
        self._runner: web.AppRunner | None = None

    async def start(self) -> None:
        """Listen; an OSError (the port is taken) is raised as it is."""
        app = web.Application(client_max_size=MAX_BODY_BYTES)
        app.router.add_post(self._path, self._receive)
        if self._path != "/":
            app.router.add_post(self._path + "/", self._receive)
        # No access log: the update ids and paths it would write are noise at INFO.
        self._runner = web.AppRunner(
            app, access_log=None, handle_signals=False, shutdown_timeout=STOP_GRACE_SECONDS
        )
        await self._runner.setup()
        try:
            await web.TCPSite(self._runner, self._listen, self._port).start()
        except OSError:
            await self._runner.cleanup()
            self._runner = None
            raise

    async def stop(self) -> None:
        """Stop listening, and let the requests in hand finish their updates."""
        if self._runner is not None:
            runner, self._runner = self._runner, None
            await runner.cleanup()

    @property
    def running(self) -> bool:
        return self._runner is not None

    async def _receive(self, request: web.Request) -> web.Response:
        given = request.headers.get(SECRET_HEADER, "").encode()
        # Compared in constant time, so the secret cannot be guessed by timing.
        if not hmac.compare_digest(given, self._secret):
            return web.Response(status=403)
        try:
            data: Any = await request.json()
            update = Update.de_json(data, self._application.bot)
        except (ValueError, TypeError, KeyError, AttributeError):
            log.warning("webhook: a request whose body is not an update was refused")
            return web.Response(status=400)
        application = self._application
        # As the Application's own update fetcher does, through the update processor.
        await application.update_processor.process_update(
            update, application.process_update(update)
        )
        return web.Response(status=200)
