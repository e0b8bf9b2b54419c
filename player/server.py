"""The player's web side: its page, the pictures and spoken cues it shows, and its JSON API.

Mounted on the webhook server's aiohttp app (handlers/webhook.py) at WEBAPP_URL's path, or,
with long polling, served by its own listener (`PlayerListener`). Every API call carries
Telegram's initData (player/auth.py), which alone says who is asking; a call about a
practice checks that it is theirs (403 otherwise) and goes through the practice service
(one event each, decided by the state machine), under the chat's lock like any update;
what the chat should show of it goes through the `chat` port. The API's shapes are the
README's ("The player"); player/views.py builds them.
"""

from __future__ import annotations

import json
import logging
import re
import socket
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from aiohttp import web

from bot.cues import PracticeOutcome, ReadyToCheckIn, ScreenFirst
from bot.models import ScreenAnswer, Surface
from bot.practice.machine import Action
from bot.practice.service import StaleAction
from bot.practice.way_in import SIGN_TODAY
from bot.safety import Gate, ScreenStatus
from bot.services import Services
from bot.settings import Settings
from bot.store import StoreUnavailable
from player import views
from player.auth import InitDataCheck, Launch, Unauthorized
from player.heartbeats import Heartbeats
from player.limits import UserRateLimit, retry_after

STATIC_DIR = Path(__file__).parent / "static"
TELEGRAM_SCRIPT = "https://telegram.org/js/telegram-web-app.js"
# An API call's body is a few hundred bytes: initData and a field or two.
MAX_BODY_BYTES = 16 * 1024
MEDIA_KEY = re.compile(r"[A-Za-z0-9_-]{1,128}")
# What the player may do to a practice: the buttons it shows (Continue and Continue here
# belong to the chat).
PLAYER_ACTIONS = frozenset(Action) - {Action.CONTINUE, Action.HERE}
SCREEN_ANSWERS = {
    "none": ScreenAnswer.CLEAR,
    "emergency": ScreenAnswer.URGENT,
    "other": ScreenAnswer.SEE_CLINICIAN,
}

log = logging.getLogger(__name__)

Call = Callable[[Launch, dict[str, Any]], Awaitable[web.Response]]


class BadRequest(Exception):
    """The body is not what the API takes; the message says what, to the page."""


def base_path(webapp_url: str) -> str:
    """Where the player is mounted: WEBAPP_URL's path without its last slash ('' at the root)."""
    return urlsplit(webapp_url).path.rstrip("/")


class PlayerApi:
    def __init__(
        self,
        settings: Settings,
        services: Callable[[], Services],
        chat: Callable[[PracticeOutcome], Awaitable[None]],
    ) -> None:
        assert settings.bot_token is not None and settings.webapp_url is not None
        self._settings = settings
        self._services = services
        self._chat = chat
        self._check = InitDataCheck(settings.bot_token.get_secret_value())
        self.rate_limit = UserRateLimit()
        self.heartbeats = Heartbeats(lambda: self._services().practice, self._present)
        # Whose each practice is, as read: a heartbeat needs no read to check it.
        self._owners: dict[int, int] = {}
        self._index = _page(settings.webapp_telegram_script)
        self._static = {path.name: path for path in STATIC_DIR.iterdir() if path.is_file()}
        self._policy = _content_policy(settings.webapp_frame_ancestors)
        self._calls: dict[str, Call] = {
            "state": self._state,
            "begin": self._begin,
            "act": self._act,
            "play": self._play,
            "beat": self._beat,
            "away": self._away,
        }

    def make_app(self) -> web.Application:
        app = web.Application(client_max_size=MAX_BODY_BYTES, middlewares=[self._headers])
        app.router.add_get("/", self._page)
        app.router.add_get("/static/{name}", self._file)
        app.router.add_get("/media/{key}", self._media)
        app.router.add_post("/api/{name}", self._api)
        return app

    def mount(self, root: web.Application) -> None:
        """The player under WEBAPP_URL's path on `root` (the webhook server's app)."""
        prefix = base_path(self._settings.webapp_url or "/")
        if not prefix:
            raise ValueError("WEBAPP_URL needs a path of its own beside the webhook, e.g. /app/")
        # Before the player's own routes, which would answer the bare path 404.
        root.router.add_get(prefix, _to_slash)
        root.add_subapp(prefix, self.make_app())

    def start(self) -> None:
        self.heartbeats.start()

    async def stop(self) -> None:
        await self.heartbeats.stop()

    # -- the page and its files --------------------------------------------------------------

    @web.middleware
    async def _headers(
        self, request: web.Request, handler: Callable[[web.Request], Awaitable[web.StreamResponse]]
    ) -> web.StreamResponse:
        response = await handler(request)
        response.headers["Content-Security-Policy"] = self._policy
        response.headers["X-Content-Type-Options"] = "nosniff"
        response.headers["Referrer-Policy"] = "no-referrer"
        return response

    async def _page(self, request: web.Request) -> web.Response:
        return web.Response(
            text=self._index,
            content_type="text/html",
            headers={"Cache-Control": "no-cache"},
        )

    async def _file(self, request: web.Request) -> web.StreamResponse:
        path = self._static.get(request.match_info["name"])
        if path is None:
            raise web.HTTPNotFound()
        return web.FileResponse(path, headers={"Cache-Control": "no-cache"})

    async def _media(self, request: web.Request) -> web.StreamResponse:
        """A picture or spoken cue by its key: class content, the same for everyone, so
        served without initData (an <img> or <audio> cannot send it); named by what made
        it, so cached for good."""
        key = request.match_info["key"]
        path = self._services().practice.media(key) if MEDIA_KEY.fullmatch(key) else None
        if path is None or not path.is_file():
            raise web.HTTPNotFound()
        return web.FileResponse(
            path, headers={"Cache-Control": "public, max-age=31536000, immutable"}
        )

    # -- the API -------------------------------------------------------------------------------

    async def _api(self, request: web.Request) -> web.Response:
        call = self._calls.get(request.match_info["name"])
        if call is None:
            raise web.HTTPNotFound()
        try:
            body = await request.json(loads=json.loads)
        except (ValueError, UnicodeDecodeError):
            return _error(400, "bad_request", "the body is not JSON")
        if not isinstance(body, dict):
            return _error(400, "bad_request", "the body is not a JSON object")
        try:
            launch = self._check.launch(body.get("init_data"), self._services().clock())
        except Unauthorized as exc:
            log.info("player: a call was refused: %s", exc)
            return _error(401, "unauthorized")
        wait = self.rate_limit.wait(launch.user_id)
        if wait > 0:
            response = _error(429, "slow_down")
            response.headers["Retry-After"] = retry_after(wait)
            return response
        try:
            return await call(launch, body)
        except BadRequest as exc:
            return _error(400, "bad_request", str(exc))
        except StoreUnavailable:
            return _error(503, "unavailable")

    async def _state(self, launch: Launch, body: dict[str, Any]) -> web.Response:
        return _json(await self._view(launch.user_id))

    async def _begin(self, launch: Launch, body: dict[str, Any]) -> web.Response:
        """The way into a class, one answer per call: start, the red-flag screen, the back
        check-in and the pain gate, by the same rules as the chat's."""
        answer = body.get("answer")
        if not isinstance(answer, dict):
            raise BadRequest('"answer" must be an object, e.g. {"start": true}')
        services = self._services()
        user = launch.user_id
        opened = await services.practice.open_for_player(user)
        if opened is not None:
            return _json(await self._view(user))
        if answer.get("start") is True:
            way = await services.practice.way_in(user, offer_continue=False)
            if isinstance(way, ReadyToCheckIn):
                return _json(views.checkin())
            if isinstance(way, ScreenFirst):
                return _json(self._screen_first(way))
            return _json(await self._view(user))
        if "screen" in answer:
            choice = SCREEN_ANSWERS.get(answer["screen"])
            if choice is None:
                raise BadRequest('"screen" must be "none", "emergency" or "other"')
            # A private chat's id is its user's: the player is opened from that chat.
            state = await services.safety.answer(user, user, launch.first_name, choice)
            if choice == ScreenAnswer.CLEAR:
                return _json(views.checkin())
            if choice == ScreenAnswer.URGENT:
                return _json(views.no_class("urgent", state.emergency))
            return _json(views.no_class("see_clinician"))
        if "score" not in answer:
            raise BadRequest('"answer" takes "start", "screen" or "score"')
        score = answer["score"]
        if score is not None and (
            not isinstance(score, int) or isinstance(score, bool) or not 0 <= score <= 10
        ):
            raise BadRequest('"score" must be a whole number from 0 to 10, or null')
        if answer.get("not_today") is True:
            return _json(views.no_class("not_today"))
        gentle = answer.get("gentle")
        if gentle is not None and not isinstance(gentle, bool):
            raise BadRequest('"gentle" must be true or false')
        async with services.chat_locks.hold(user):
            try:
                if gentle is None:
                    decision = await services.practice.checked_in(
                        user,
                        user,
                        launch.first_name,
                        score,
                        checkin_message_id=None,
                        surface=Surface.PLAYER,
                    )
                else:
                    decision = await services.practice.gate_chosen(
                        user,
                        user,
                        launch.first_name,
                        score,
                        gentle=gentle,
                        checkin_message_id=None,
                        surface=Surface.PLAYER,
                    )
            except StaleAction:
                return _json(await self._view(user))
            if isinstance(decision, Gate):
                return _json(views.gate(decision, score))
            if isinstance(decision, ScreenFirst):
                return _json(self._screen_first(decision))
            await self._present(decision)
        return _json(await self._view(user))

    async def _act(self, launch: Launch, body: dict[str, Any]) -> web.Response:
        practice_id = _whole(body, "practice")
        step = _whole(body, "step")
        action = next((a for a in PLAYER_ACTIONS if a.value == body.get("action")), None)
        if action is None:
            raise BadRequest(f'"action" must be one of: {", ".join(sorted(PLAYER_ACTIONS))}')
        practice = self._services().practice

        async def press() -> PracticeOutcome:
            # A press is a sign of life too.
            self.heartbeats.beat(practice_id)
            return await practice.press_in_player(launch.user_id, practice_id, step, action)

        return await self._change(launch, practice_id, press)

    async def _play(self, launch: Launch, body: dict[str, Any]) -> web.Response:
        practice_id = _whole(body, "practice")
        practice = self._services().practice
        return await self._change(
            launch, practice_id, lambda: practice.play(launch.user_id, practice_id)
        )

    async def _beat(self, launch: Launch, body: dict[str, Any]) -> web.Response:
        practice_id = _whole(body, "practice")
        refused = await self._not_theirs(launch, practice_id)
        if refused is not None:
            return refused
        self.heartbeats.beat(practice_id)
        return web.Response(status=204)

    async def _away(self, launch: Launch, body: dict[str, Any]) -> web.Response:
        practice_id = _whole(body, "practice")
        practice = self._services().practice
        return await self._change(launch, practice_id, lambda: practice.player_away(practice_id))

    # -- what they share -------------------------------------------------------------------

    async def _change(
        self,
        launch: Launch,
        practice_id: int,
        change: Callable[[], Awaitable[PracticeOutcome | None]],
    ) -> web.Response:
        """One change to the user's own practice, under their chat's lock like any update,
        shown in the chat; answered with what the player shows now (409 if the rules
        refused it: a step that is over, a practice now in the chat)."""
        refused = await self._not_theirs(launch, practice_id)
        if refused is not None:
            return refused
        async with self._services().chat_locks.hold(launch.user_id):
            try:
                outcome = await change()
            except StaleAction:
                return await self._stale(launch.user_id)
            if outcome is not None:
                await self._present(outcome)
        return _json(await self._view(launch.user_id))

    async def _view(self, user_id: int) -> views.View:
        """What the player shows the user now."""
        practice = self._services().practice
        shown = await practice.open_for_player(user_id)
        if shown is not None:
            self._owners[shown.cue.practice_id] = user_id
            if shown.surface == Surface.PLAYER:
                return views.practice(shown)
            return views.in_chat(shown)
        ended = await practice.ended_in_player(user_id)
        if ended is not None:
            return views.summary(ended)
        way = await practice.way_in(user_id, offer_continue=False)
        if isinstance(way, ScreenFirst) and way.status in SIGN_TODAY:
            return self._screen_first(way)
        # The class first, with Start; the red-flag screen, when due, follows the tap.
        yoga_class, minutes, poses = await practice.class_ahead(user_id)
        return views.start(yoga_class, minutes, poses)

    @staticmethod
    def _screen_first(way: ScreenFirst) -> views.View:
        if way.status == ScreenStatus.URGENT_TODAY:
            return views.no_class("urgent", way.emergency)
        if way.status in SIGN_TODAY:
            return views.no_class("see_clinician")
        return views.safety()

    async def _not_theirs(self, launch: Launch, practice_id: int) -> web.Response | None:
        """403 for another user's practice; 409 (with what to show) for none at all."""
        owner = self._owners.get(practice_id)
        if owner is None:
            owner = await self._services().practice.owner_of(practice_id)
            if owner is None:
                return await self._stale(launch.user_id)
            self._owners[practice_id] = owner
        if owner != launch.user_id:
            log.info("player: user %s was refused another user's practice", launch.user_id)
            return _error(403, "forbidden")
        return None

    async def _stale(self, user_id: int) -> web.Response:
        return _json({"error": "stale", "view": await self._view(user_id)}, status=409)

    async def _present(self, outcome: PracticeOutcome) -> None:
        await self._chat(outcome)


class PlayerListener:
    """The player's own web server, for a bot on long polling (a webhook bot serves it on
    its webhook server)."""

    def __init__(self, api: PlayerApi, settings: Settings, sock: socket.socket | None = None):
        self._api, self._settings, self._sock = api, settings, sock
        self._runner: web.AppRunner | None = None

    async def start(self) -> None:
        root = web.Application()
        self._api.mount(root)
        self._runner = web.AppRunner(root, access_log=None, handle_signals=False)
        await self._runner.setup()
        site: web.BaseSite
        if self._sock is not None:
            site = web.SockSite(self._runner, self._sock)
        else:
            site = web.TCPSite(
                self._runner, self._settings.webapp_listen, self._settings.webapp_port
            )
        try:
            await site.start()
        except OSError:
            await self._runner.cleanup()
            self._runner = None
            raise
        self._api.start()

    async def stop(self) -> None:
        await self._api.stop()
        if self._runner is not None:
            runner, self._runner = self._runner, None
            await runner.cleanup()


async def _to_slash(request: web.Request) -> web.Response:
    raise web.HTTPPermanentRedirect(request.path + "/")


def _page(telegram_script: bool) -> str:
    """The page, with Telegram's script when it is wanted (the playground has no internet;
    the page works without it)."""
    page = (STATIC_DIR / "index.html").read_text(encoding="utf-8")
    if telegram_script:
        page = page.replace("</head>", f'  <script src="{TELEGRAM_SCRIPT}"></script>\n</head>', 1)
    return page


def _content_policy(frame_ancestors: str) -> str:
    """Nothing but the page's own files, Telegram's script, and the frames Telegram's web
    clients show it in; no inline script or style."""
    return "; ".join(
        [
            "default-src 'none'",
            "script-src 'self' https://telegram.org",
            "style-src 'self'",
            "img-src 'self' data:",
            "media-src 'self'",
            "connect-src 'self'",
            "manifest-src 'self'",
            "base-uri 'none'",
            "form-action 'none'",
            f"frame-ancestors {frame_ancestors}",
        ]
    )


def _whole(body: dict[str, Any], name: str) -> int:
    value = body.get(name)
    if not isinstance(value, int) or isinstance(value, bool) or value < 0:
        raise BadRequest(f'"{name}" must be a whole number')
    return value


def _json(data: dict[str, Any], status: int = 200) -> web.Response:
    return web.json_response(data, status=status, headers={"Cache-Control": "no-store"})


def _error(status: int, error: str, detail: str | None = None) -> web.Response:
    body: dict[str, Any] = {"error": error}
    if detail is not None:
        body["detail"] = detail
    return _json(body, status=status)
