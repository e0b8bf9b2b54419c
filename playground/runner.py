"""One process, three parts: the Bot API emulator, the real bot pointed at it, the chat page.

Everything listens on 127.0.0.1 and the bot's only Bot API server is the emulator, so
nothing leaves the machine.
"""

from __future__ import annotations

import asyncio
import contextlib
import errno
import logging
import secrets
import signal
import socket
import sys
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass
from typing import TextIO

from pydantic import SecretStr
from sqlalchemy.engine import make_url

from bot.clock import Clock, MovableClock, utc_now
from bot.logs import RedactSecrets
from bot.pose_pictures import FigurePictures
from bot.services import Services
from bot.settings import Settings
from bot.store import StoreUnavailable
from bot.uploads import Picture, PictureSource, SoundSource
from handlers.app import build_application, running
from handlers.context import SERVICES, YogaApp
from playground.emulator import BotApiEmulator, SimulatedUser
from playground.emulator.server import LOCAL_HOSTS
from playground.server import PlaygroundServer
from playground.skip_ahead import SkipAhead
from sequences import YogaClass, load_figures

HOST = "127.0.0.1"
PLAYGROUND_DATABASE_URL = "sqlite+aiosqlite:///playground.db"
USER_ID = 1
USER_FIRST_NAME = "Friend"
# The emulator's call log is for tests; a playground left running keeps only the recent past.
MAX_RECORDED_CALLS = 1000
log = logging.getLogger(__name__)


class PlaygroundError(Exception):
    """The playground cannot start; the message is one line for the terminal."""


@dataclass(frozen=True)
class Playground:
    url: str
    emulator: BotApiEmulator
    user: SimulatedUser
    application: YogaApp
    settings: Settings


def new_token() -> str:
    """A token for one run, shaped like Telegram's: `<bot id>:<35 url-safe characters>`.

    Whoever knows the token can act as the bot on the emulator (read the chat, send to it);
    a fixed token would be known to every local process and web page, a fresh one only to
    this process.
    """
    bot_id = 10**9 + secrets.randbelow(9 * 10**9)
    return f"{bot_id}:{secrets.token_urlsafe(26)}"


@contextlib.contextmanager
def redacted(secret: str) -> Iterator[None]:
    """Keep `secret` out of every log line while the block runs.

    The command line configures logging (and its redaction) before the playground makes
    its token, so the token joins the redaction here, on the same handlers.
    """
    redactor = RedactSecrets([secret])
    handlers = list(logging.getLogger().handlers)
    for handler in handlers:
        handler.addFilter(redactor)
    try:
        yield
    finally:
        for handler in handlers:
            handler.removeFilter(redactor)


def playground_settings(
    settings: Settings, api_url: str, token: str, player_url: str | None = None
) -> Settings:
    """The bot's settings inside the playground: local token and API, own database; and
    the player at `player_url`, over http on 127.0.0.1, shown in the chat page's frame,
    without Telegram's script (nothing here reaches the internet)."""
    update: dict[str, object] = {
        "bot_token": SecretStr(token),
        "telegram_api_url": api_url,
    }
    if player_url is not None:
        update |= {
            "webapp_url": player_url,
            "webapp_telegram_script": False,
            "webapp_frame_ancestors": f"'self' http://{HOST}:*",
        }
    # An explicit DATABASE_URL wins; otherwise keep playground users out of the real database.
    if "database_url" not in settings.model_fields_set:
        update["database_url"] = PLAYGROUND_DATABASE_URL
    return settings.model_copy(update=update)


@contextlib.asynccontextmanager
async def playground(
    settings: Settings,
    *,
    port: int | None = None,
    clock: Clock = utc_now,
    catalog: dict[str, YogaClass] | None = None,
    pictures: PictureSource | None = None,
    sounds: SoundSource | None = None,
    poll_timeout: int = 10,
) -> AsyncIterator[Playground]:
    """Run emulator, page and bot until the block ends; stop them in reverse order.
    `pictures`: the pose pictures (the figures' by default); `sounds`: the spoken cues
    (VOICE_ENGINE's by default)."""
    token = new_token()
    # The chat page's host names only: DNS rebinding cannot reach the bot's API either.
    emulator = BotApiEmulator(
        token,
        bot_username="yogabot_playground",
        max_recorded_calls=MAX_RECORDED_CALLS,
        allowed_hosts=LOCAL_HOSTS,
    )
    user = emulator.user(USER_ID, first_name=USER_FIRST_NAME)
    # The chat exists from the start, so a practice stored before a restart can resume.
    user.open_chat()
    server = PlaygroundServer(emulator, user)
    async with contextlib.AsyncExitStack() as stack:
        stack.enter_context(redacted(token))
        await emulator.start(HOST, 0)
        stack.push_async_callback(emulator.stop)
        page_port = settings.playground_port if port is None else port
        try:
            url = await server.start(HOST, page_port)
        except OSError as exc:
            if exc.errno == errno.EADDRINUSE:
                raise PlaygroundError(
                    f"port {page_port} is already in use; set PLAYGROUND_PORT to a free port"
                ) from None
            raise
        stack.push_async_callback(server.stop)
        # The player's own listener, on a port the system picks, held from here on.
        player_socket = stack.enter_context(_listening_socket())
        player_url = f"http://{HOST}:{player_socket.getsockname()[1]}/app/"
        bot_settings = playground_settings(settings, emulator.api_url, token, player_url)
        # The bot's clock can be moved forward from the page, to see a morning or a Sunday.
        movable = MovableClock(clock)
        application = build_application(
            bot_settings, clock=movable, catalog=catalog, pictures=pictures, sounds=sounds
        )
        server.skip_ahead = SkipAhead(application, movable, USER_ID)
        if pictures is None:
            # The bot's own source draws the same files; by now they are in the cache.
            pictures = FigurePictures(load_figures(), bot_settings.picture_cache_dir)
        recall_pictures_at_start(application, emulator, pictures)
        await stack.enter_async_context(
            running(application, poll_timeout=poll_timeout, player_socket=player_socket)
        )
        yield Playground(url, emulator, user, application, bot_settings)


@contextlib.contextmanager
def _listening_socket() -> Iterator[socket.socket]:
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    try:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind((HOST, 0))
        sock.listen(128)
        yield sock
    finally:
        sock.close()


def recall_pictures_at_start(
    application: YogaApp, emulator: BotApiEmulator, pictures: PictureSource
) -> None:
    """Give the new emulator the pictures the bot uploaded to the one before it.

    Telegram keeps a file_id for good, and the bot keeps the ids it was given (in the
    database, which outlives a restart); the emulator's uploads live in its memory. Without
    this, after every restart each picture's first send by its stored id would be refused
    and logged, and the picture uploaded again. Done once the database is ready and before
    the Application starts (its timers and sweep send the cues still owed).
    """
    started = application.post_init

    async def post_init(app: YogaApp) -> None:
        if started is not None:
            await started(app)
        kept = await _recall_pictures(app.bot_data[SERVICES], emulator, pictures)
        if kept:
            log.debug("the emulator knows %d pictures from before by their file_ids", kept)

    application.post_init = post_init


async def _recall_pictures(
    services: Services, emulator: BotApiEmulator, pictures: PictureSource
) -> int:
    seen: set[str] = set()
    kept = 0
    for yoga_class in services.catalog.values():
        for step in yoga_class.steps:
            for easier in (False, True):
                picture = pictures.for_step(step, easier=easier)
                if picture is None or picture.key in seen:
                    continue
                seen.add(picture.key)
                if await _recall_picture(services, emulator, picture):
                    kept += 1
    return kept


async def _recall_picture(services: Services, emulator: BotApiEmulator, picture: Picture) -> bool:
    try:
        file_id = await services.uploads.file_id(picture)
        if file_id is None:
            return False
        emulator.keep_photo(file_id, picture.path.read_bytes())
    except (StoreUnavailable, OSError, ValueError) as exc:
        # Only a convenience: the bot uploads such a picture again when it is refused.
        log.debug("picture %s not recalled: %s", picture.key, exc)
        return False
    return True


def _shown_database(url: str) -> str:
    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite":
        return parsed.database or ":memory:"
    return parsed.render_as_string(hide_password=True)


def banner(pg: Playground) -> str:
    scale = pg.settings.time_scale
    return "\n".join(
        [
            "",
            f"  yogabot playground is running: open {pg.url}",
            "",
            "  The real bot, a local Telegram Bot API emulator and a chat page, all on",
            f"  127.0.0.1. Nothing leaves this machine (the emulator is at {pg.emulator.api_url}).",
            f"  Database: {_shown_database(pg.settings.database_url)} · TIME_SCALE={scale:g}"
            + ("" if scale != 1 else " (TIME_SCALE=0.05 makes every hold 20× shorter)"),
            "  The player (the class as a Telegram Mini App): the chat's Player button.",
            "  Ctrl-C stops everything.",
            "",
        ]
    )


async def serve(settings: Settings, *, out: TextIO = sys.stdout) -> None:
    """Run the playground until SIGINT or SIGTERM."""
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    # Installed first: a Ctrl-C during start-up then stops everything once it is up,
    # instead of interrupting migrations halfway.
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    try:
        async with playground(settings) as pg:
            print(banner(pg), file=out, flush=True)
            await stop.wait()
            print("  stopping the playground…", file=out, flush=True)
    finally:
        for sig in (signal.SIGINT, signal.SIGTERM):
            loop.remove_signal_handler(sig)


def run_playground(settings: Settings) -> int:
    """The `yogabot playground` command; returns the exit code."""
    # One line per request would drown the banner; warnings still show.
    logging.getLogger("aiohttp.access").setLevel(logging.WARNING)
    try:
        asyncio.run(serve(settings))
    except PlaygroundError as exc:
        print(f"yogabot: {exc}", file=sys.stderr)
        return 2
    return 0
