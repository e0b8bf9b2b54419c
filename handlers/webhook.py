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

What reaches a handler is checked first, and what is not an update is refused without a
traceback: a wrong or missing secret (compared as the bytes sent) gets 403; a body that is
not an update (handlers/update_shape.py) 400; a request that is not HTTP gets aiohttp's
400 and one WARNING line. A client too slow to send its request is dropped (READ_TIMEOUT).
An update already handled, by this worker or another, is answered 200 and not handled
again (bot/handled_updates.py).
"""

from __future__ import annotations

import asyncio
import hmac
import logging
from collections.abc import Iterable
from typing import Any

from aiohttp import web
from aiohttp.http_exceptions import HttpProcessingError
from aiohttp.web_protocol import RequestPayloadError
from telegram import Update

from bot.handled_updates import UpdateClaim
from bot.store import StoreUnavailable
from handlers.context import SERVICES, YogaApp
from handlers.update_shape import NotAnUpdate, checked_update
from player.server import PlayerApi

log = logging.getLogger(__name__)

SECRET_HEADER = "X-Telegram-Bot-Api-Secret-Token"
_SECRET_HEADER_NAME = SECRET_HEADER.lower().encode()
# Telegram's updates are a few kilobytes; anything far bigger is not from Telegram.
MAX_BODY_BYTES = 1024 * 1024
# On stop, requests in hand get this long to finish their update.
STOP_GRACE_SECONDS = 10.0
# Seconds a client has to send a request's head (from connecting, or from the previous
# answer on a kept-alive connection), then again its body; and, when it is answered
# before its body is all in, to stop sending before the connection is closed. Telegram
# sends an update of a few kilobytes at once: only a broken or hostile client is slower.
READ_TIMEOUT = 5.0


class _ServerLog(logging.LoggerAdapter[logging.Logger]):
    """aiohttp's server log, except that a request that is not valid HTTP (a client's
    fault, routine on a public port) is one WARNING line naming the kind of error, instead
    of an ERROR with a traceback. Anything else, such as a bug of ours answered 500, keeps
    aiohttp's ERROR and traceback."""

    def exception(self, msg: object, *args: object, exc_info: Any = True, **kwargs: Any) -> None:
        if isinstance(exc_info, HttpProcessingError):
            # The error's words may quote the request, headers and secret included.
            self.warning(
                "webhook: a request that is not valid HTTP was refused (%s)",
                type(exc_info).__name__,
            )
            return
        super().exception(msg, *args, exc_info=exc_info, **kwargs)


class WebhookServer:
    """Listens on `listen:port` at `path` (and `path/`), checking Telegram's secret."""

    def __init__(
        self,
        application: YogaApp,
        *,
        path: str,
        secret: str,
        listen: str,
        port: int,
        player: PlayerApi | None = None,
    ) -> None:
        self._application = application
        self._player = player
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
        if self._player is not None:
            # The player's page and API beside the webhook, at WEBAPP_URL's path.
            self._player.mount(app)
        # No access log: the update ids and paths it would write are noise at INFO.
        self._runner = web.AppRunner(
            app,
            access_log=None,
            handle_signals=False,
            shutdown_timeout=STOP_GRACE_SECONDS,
            logger=_ServerLog(logging.getLogger("aiohttp.server")),
            # aiohttp has no timeout for a request's head; its keep-alive timer serves as
            # one: armed when a connection opens and after each answer, it closes the
            # connection if no complete head has arrived by then (aiohttp >= 3.14.5).
            keepalive_timeout=READ_TIMEOUT,
            # After an answer given before the body was all in (a 408, a 403), the rest of
            # the body is read and dropped for this long, then the connection is closed.
            lingering_time=READ_TIMEOUT,
        )
        await self._runner.setup()
        try:
            await web.TCPSite(self._runner, self._listen, self._port).start()
        except OSError:
            await self._runner.cleanup()
            self._runner = None
            raise
        if self._player is not None:
            self._player.start()

    async def stop(self) -> None:
        """Stop listening, and let the requests in hand finish their updates."""
        if self._runner is not None:
            runner, self._runner = self._runner, None
            await runner.cleanup()

    @property
    def running(self) -> bool:
        return self._runner is not None

    async def _receive(self, request: web.Request) -> web.Response:
        if not self._secret_matches(request.raw_headers):
            return web.Response(status=403)
        try:
            async with asyncio.timeout(READ_TIMEOUT):
                # Raises 413 past MAX_BODY_BYTES.
                body = await request.read()
        except TimeoutError:
            log.warning("webhook: a request whose body took over %s s was dropped", READ_TIMEOUT)
            return _closing(408)
        except (HttpProcessingError, RequestPayloadError) as exc:
            # A body that breaks its own framing (chunks, compression). Only the error's
            # kind is logged: its words may quote the body.
            log.warning(
                "webhook: a request whose body is not valid HTTP was refused (%s)",
                type(exc).__name__,
            )
            return _closing(400)
        try:
            update = Update.de_json(checked_update(body), self._application.bot)
        except NotAnUpdate as exc:
            log.warning("webhook: a request whose body is not an update was refused: %s", exc)
            return web.Response(status=400)
        except Exception as exc:
            # PTB's own parsing of a field the shape leaves unchecked: not an update either.
            log.warning(
                "webhook: a request whose body is not an update was refused (%s)",
                type(exc).__name__,
            )
            return web.Response(status=400)
        return await self._handle_once(update)

    async def _handle_once(self, update: Update) -> web.Response:
        """Handle the update unless some worker has; answer only once it is handled."""
        application = self._application
        handled_updates = application.bot_data[SERVICES].handled_updates
        try:
            claim = await handled_updates.claim(update.update_id)
        except StoreUnavailable as exc:
            # Telegram delivers it again later; handling it now could not store anything.
            # The outage itself is logged once, as an incident (bot/incidents.py).
            log.info(
                "webhook: update %d put off, the database does not answer (%s)",
                update.update_id,
                exc,
            )
            return web.Response(status=503)
        if claim is UpdateClaim.HANDLED:
            return web.Response(status=200)
        if claim is UpdateClaim.IN_HAND:
            # Another worker took it moments ago and may still be handling it; if it died,
            # a delivery after CLAIM_TIMEOUT is handled here or elsewhere.
            return web.Response(status=503)
        try:
            # As the Application's own update fetcher does, through the update processor.
            await application.update_processor.process_update(
                update, application.process_update(update)
            )
        except BaseException:
            # Cancelled by a stop past its grace, say: the next delivery is handled at once.
            await handled_updates.release(update.update_id)
            raise
        await handled_updates.finish(update.update_id)
        return web.Response(status=200)

    def _secret_matches(self, headers: Iterable[tuple[bytes, bytes]]) -> bool:
        # The header's bytes as sent: one that is not UTF-8 is just another wrong secret.
        given = [value for name, value in headers if name.lower() == _SECRET_HEADER_NAME]
        # Compared in constant time, so the secret cannot be guessed by timing.
        return len(given) == 1 and hmac.compare_digest(given[0], self._secret)


def _closing(status: int) -> web.Response:
    """An answer after which the connection is closed: what is left of the request on it
    cannot be trusted to end where the next one starts."""
    response = web.Response(status=status)
    response.force_close()
    return response
