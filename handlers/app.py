"""Application wiring: settings in, a ready PTB Application out, and the one way to run it.

Production, the tests and the playground all start the bot through `running`, with the
same handlers and the same allowed updates, by long polling or (given a `Webhook`) on
the bot's own webhook server (handlers/webhook.py).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import signal
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING
from urllib.parse import urlsplit

from pydantic import SecretStr
from sqlalchemy.ext.asyncio import AsyncEngine
from telegram import Bot, BotCommand, MenuButtonWebApp, Update, WebAppInfo
from telegram.error import BadRequest, Forbidden, InvalidToken, NetworkError, TelegramError
from telegram.ext import (
    ApplicationBuilder,
    BaseHandler,
    CallbackQueryHandler,
    ChatMemberHandler,
    CommandHandler,
    ContextTypes,
    JobQueue,
    MessageHandler,
    TypeHandler,
    filters,
)

from bot.clock import Clock, utc_now
from bot.cues import PracticeOutcome
from bot.database import create_engine, migrate_apart
from bot.database_file import EXIT_DATABASE_LOST, DatabaseWatch, LossKind
from bot.pose_pictures import FigurePictures
from bot.services import build_services
from bot.settings import Settings
from bot.spoken_cues import Renderer, StepSounds, spoken_texts
from bot.uploads import NoSounds, PictureSource, SoundSource
from bot.voice import installed_engine
from handlers import (
    account,
    checkin,
    commands,
    feedback,
    plan,
    practice,
    progress,
    reminders,
    safety,
)
from handlers import settings as user_settings
from handlers.buttons import (
    CancelFeedback,
    CheckinAfter,
    CheckinBefore,
    ForgetButton,
    NextDayButton,
    PainGateButton,
    PlanButton,
    PracticeButton,
    ReminderButton,
    ReminderTime,
    SafetyButton,
    SettingButton,
    SettingsView,
    SlowPaceButton,
    StartButton,
    ZoneButton,
)
from handlers.context import SERVICES, TIMERS, YogaApp, YogaContext
from handlers.errors import on_error
from handlers.present import present
from handlers.rate_limit import PriorityRateLimiter, Scheduler
from handlers.reminder_tick import start_ticking
from handlers.render import common
from handlers.render import player as render_player
from handlers.timers import JobQueueTimers, start_sweeping
from handlers.transport import AiohttpRequest
from handlers.update_order import ChatOrderedUpdates
from sequences import YogaClass, load_catalog, load_figures

if TYPE_CHECKING:
    import socket

    from handlers.webhook import WebhookServer
    from player.server import PlayerApi, PlayerListener

log = logging.getLogger(__name__)

TRANSPORTS = "transports"

# Every update type a handler below answers. Telegram sends only these, in production and
# in tests alike, so a handler for any other type could never fire: add its type here.
ALLOWED_UPDATES = ("message", "callback_query", "my_chat_member")
# Updates with no user behind them (an anonymous admin's post), and presses with no data,
# are dropped first.
UNUSABLE_GROUP = -5
# Then updates from groups and channels, and presses of someone else's button: the coach
# works in private chats only.
PRIVATE_ONLY_GROUP = -4
# Then any update from a user brings back a practice that stalled on an undeliverable cue.
WELCOME_BACK_GROUP = -3
# Then a /feedback prompt the user has moved on from, or left too long, is withdrawn.
FEEDBACK_EXPIRY_GROUP = -2
# Text awaited by /feedback is looked at next, and taken from the ordinary handlers.
AWAITED_TEXT_GROUP = -1
# On a 429 the rate limiter waits `retry_after`, then tries the same call again, this many
# times: a refused call was not delivered, so sending it again cannot double it.
RETRIES_AFTER_429 = 3
# A few tries at start-up ride out a network that comes up after the bot does.
BOOTSTRAP_RETRIES = 3
# bot_data key of the application's Halt.
HALT = "halt"
# bot_data key of the process speaking the cues into the voice cache, while it is followed.
VOICE_RENDERER = "voice-renderer"
# bot_data key of the player's web side (player/server.py), while it is served.
PLAYER = "player"


class Halt:
    """How the bot stops itself from inside (its database lost): `serve` waits for it, and
    returns its exit code. PTB's own `Application.stop_running` stops the event loop, which
    only suits `run_polling`; `serve` runs inside `asyncio.run`."""

    def __init__(self) -> None:
        self._requested = asyncio.Event()
        self.exit_code = 0

    def request(self, exit_code: int = 0) -> None:
        """Stop the bot; a failure's exit code stands even when a signal came first."""
        self.exit_code = self.exit_code or exit_code
        self._requested.set()

    async def wait(self) -> int:
        await self._requested.wait()
        return self.exit_code


@dataclass(frozen=True)
class Webhook:
    """Where Telegram posts updates (`url`), and where the bot's own server listens for them.

    The server answers on the path of `url` (`https://bot.example.org/telegram` is served at
    `/telegram`, a bare host at `/`), so a reverse proxy in front forwards paths unchanged.
    """

    url: str
    secret_token: SecretStr
    listen: str = "127.0.0.1"
    port: int = 8443
    # Whether this process registers the webhook with Telegram at start (setWebhook). A
    # worker among several does not: `yogabot webhook set` registers it once, at deploy.
    register: bool = True

    @classmethod
    def from_settings(cls, settings: Settings) -> Webhook | None:
        """The webhook the settings ask for, or None for long polling."""
        if settings.webhook_url is None:
            return None
        # Settings refuse a WEBHOOK_URL without a valid secret, so this cannot fail.
        assert settings.webhook_secret is not None
        return cls(
            settings.webhook_url,
            settings.webhook_secret,
            settings.webhook_listen,
            settings.webhook_port,
            settings.webhook_register,
        )

    @property
    def path(self) -> str:
        """The path the server answers on (with or without a trailing slash)."""
        return urlsplit(self.url).path.rstrip("/")


class WebhookListenError(Exception):
    """The webhook server cannot listen where it was told; the message is one line."""


def handler_list() -> list[BaseHandler[Update, YogaContext, None]]:
    """Every update the bot answers, in the order PTB tries them."""
    return [
        CommandHandler("start", commands.start),
        CommandHandler("help", commands.help_command),
        CommandHandler("start_practice", practice.start_practice),
        CommandHandler("safety", safety.safety_command),
        CommandHandler("progress", progress.show_progress),
        CommandHandler("feedback", feedback.feedback_command),
        CommandHandler("mydata", account.send_my_data),
        CommandHandler("forget_me", account.ask_forget),
        CommandHandler("stats", account.stats),
        CommandHandler("remind", reminders.remind),
        CommandHandler("timezone", reminders.timezone),
        CommandHandler("settings", user_settings.settings_command),
        CommandHandler("plan", plan.plan_command),
        CommandHandler("report", plan.report_command),
        MessageHandler(filters.LOCATION, reminders.shared_location),
        MessageHandler(filters.COMMAND, commands.unknown_command),
        MessageHandler(filters.TEXT, practice.text_message),
        CallbackQueryHandler(practice.start_button, pattern=StartButton.pattern),
        CallbackQueryHandler(practice.practice_button, pattern=PracticeButton.pattern),
        CallbackQueryHandler(practice.slow_pace_button, pattern=SlowPaceButton.pattern),
        CallbackQueryHandler(checkin.before_button, pattern=CheckinBefore.pattern),
        CallbackQueryHandler(checkin.gate_button, pattern=PainGateButton.pattern),
        CallbackQueryHandler(checkin.after_button, pattern=CheckinAfter.pattern),
        CallbackQueryHandler(reminders.reminder_button, pattern=ReminderButton.pattern),
        CallbackQueryHandler(reminders.time_button, pattern=ReminderTime.pattern),
        CallbackQueryHandler(reminders.zone_button, pattern=ZoneButton.pattern),
        CallbackQueryHandler(feedback.cancel_button, pattern=CancelFeedback.pattern),
        CallbackQueryHandler(account.forget_button, pattern=ForgetButton.pattern),
        CallbackQueryHandler(safety.screen_button, pattern=SafetyButton.pattern),
        CallbackQueryHandler(user_settings.setting_button, pattern=SettingButton.pattern),
        CallbackQueryHandler(user_settings.settings_view, pattern=SettingsView.pattern),
        CallbackQueryHandler(plan.plan_button, pattern=PlanButton.pattern),
        CallbackQueryHandler(plan.next_day_button, pattern=NextDayButton.pattern),
        ChatMemberHandler(account.membership_changed, ChatMemberHandler.MY_CHAT_MEMBER),
        # Last: a button no scheme matches is still answered, so no spinner keeps turning.
        CallbackQueryHandler(commands.stale_button),
    ]


def build_application(
    settings: Settings,
    *,
    clock: Clock = utc_now,
    catalog: dict[str, YogaClass] | None = None,
    pictures: PictureSource | None = None,
    sounds: SoundSource | None = None,
    send_scheduler: Scheduler | None = None,
) -> YogaApp:
    """`send_scheduler`: the rate limiter's clock and timers (the event loop's unless a
    test gives its own, to wait out a 429 without waiting in real time)."""
    if settings.bot_token is None:
        raise ValueError("BOT_TOKEN is required to build the bot")
    api = settings.telegram_api_url
    lifecycle = _Lifecycle(
        settings, clock, load_catalog() if catalog is None else catalog, pictures, sounds
    )
    # Chats side by side, each chat's updates in order, on SQLite and PostgreSQL alike.
    updates = ChatOrderedUpdates()
    limiter = PriorityRateLimiter(max_retries=RETRIES_AFTER_429, scheduler=send_scheduler)
    # The Bot API's transport (handlers/transport.py): one for every call, and one with
    # two connections for getUpdates: on stop, PTB cancels the long poll without waiting
    # for it and at once calls getUpdates once more to confirm what it fetched. With one
    # connection that last call waits for the cancelled poll to hand its connection back,
    # and on a loaded machine the one-second pool wait ran out first: an ERROR at every
    # such stop, and the updates handled again after the restart.
    transports = (AiohttpRequest(), AiohttpRequest(connection_pool_size=2))
    application: YogaApp = (
        ApplicationBuilder()
        .token(settings.bot_token.get_secret_value())
        .base_url(f"{api}/bot")
        .base_file_url(f"{api}/file/bot")
        .context_types(ContextTypes(context=YogaContext))
        .job_queue(JobQueue[YogaContext]())
        .rate_limiter(limiter)
        .request(transports[0])
        .get_updates_request(transports[1])
        .post_init(lifecycle.post_init)
        .post_shutdown(lifecycle.post_shutdown)
        .concurrent_updates(updates)
        .build()
    )
    updates.bot_data = limiter.bot_data = application.bot_data
    application.bot_data[HALT] = Halt()
    application.bot_data[TRANSPORTS] = transports
    application.add_handler(TypeHandler(Update, commands.drop_unusable), group=UNUSABLE_GROUP)
    application.add_handler(TypeHandler(Update, commands.keep_private), group=PRIVATE_ONLY_GROUP)
    application.add_handler(TypeHandler(Update, practice.welcome_back), group=WELCOME_BACK_GROUP)
    application.add_handler(
        TypeHandler(Update, feedback.withdraw_prompt), group=FEEDBACK_EXPIRY_GROUP
    )
    application.add_handler(
        MessageHandler(filters.TEXT & ~filters.COMMAND, feedback.awaited_note),
        group=AWAITED_TEXT_GROUP,
    )
    application.add_handlers(handler_list())
    application.add_error_handler(on_error)
    return application


class _Lifecycle:
    """What the Application does once it is initialized, and after it shut down: the
    database engine it opens at start-up is the one it closes."""

    def __init__(
        self,
        settings: Settings,
        clock: Clock,
        catalog: dict[str, YogaClass],
        pictures: PictureSource | None,
        sounds: SoundSource | None = None,
    ) -> None:
        self._settings, self._clock, self._catalog = settings, clock, catalog
        self._pictures = pictures
        self._sounds = sounds
        self._renderer: Renderer | None = None
        self._engine: AsyncEngine | None = None
        self._watch: DatabaseWatch | None = None
        self._watching: asyncio.Task[None] | None = None
        self._reported = False

    async def post_init(self, application: YogaApp) -> None:
        settings = self._settings
        self._engine = engine = create_engine(settings.database_url)
        # Alembic loaded for one migration would stay resident to the end: it runs in a
        # child process instead.
        await migrate_apart(engine, settings.database_url, settings.log_level)
        # From here on, a SQLite file deleted, replaced or turned read-only stops the bot
        # (bot/database_file.py) before anything more is written into it.
        self._watch = watch = DatabaseWatch.start(engine)
        if watch is not None:
            self._watching = asyncio.create_task(
                self._stop_when_lost(application, watch), name="database-watch"
            )
        assert application.job_queue is not None
        timers = JobQueueTimers(application.job_queue, self._clock)
        application.bot_data[TIMERS] = timers
        pictures = self._pictures
        if pictures is None:
            figures = FigurePictures(load_figures(), self._settings.picture_cache_dir)
            # Every picture drawn before the first update, off the event loop: a cue only
            # looks its picture up.
            await asyncio.to_thread(figures.prepare, self._catalog.values())
            pictures = figures
        sounds = self._sounds
        if sounds is None:
            sounds = await self._start_speaking()
        application.bot_data[VOICE_RENDERER] = self._renderer
        services = build_services(
            self._settings, engine, self._catalog, self._clock, timers, pictures, sounds
        )
        application.bot_data[SERVICES] = services
        try:
            await application.bot.set_my_commands([BotCommand(*c) for c in common.COMMANDS])
        except TelegramError as exc:
            log.warning("could not register the command menu: %s", exc)
        if settings.webapp_url is not None:
            # The chat's menu button opens the player, in every private chat.
            button = MenuButtonWebApp(render_player.MENU, WebAppInfo(settings.webapp_url))
            try:
                await application.bot.set_chat_menu_button(menu_button=button)
            except TelegramError as exc:
                log.warning("could not set the menu button to the player: %s", exc)
        # Every stored deadline gets its timer now, before the first update; the cues and
        # closing messages still owed are sent by the sweep in the background, oldest
        # first and at the rate limit, each under its chat's lock (with several workers,
        # another may be sending it right now), so a restart with thousands of classes
        # open serves its first update at once.
        await services.practice.resume_all(arm_only=True)
        start_sweeping(application.job_queue)
        # The schedule lives in the database; one repeating tick sends whatever falls due.
        start_ticking(application.job_queue, paid_broadcast=self._settings.allow_paid_broadcast)

    async def _start_speaking(self) -> SoundSource:
        """The spoken cues as VOICE_ENGINE asks: none, or those in the voice cache, with a
        process speaking what it lacks (bot/spoken_cues.py) when an engine is installed.
        Never waited for: a cue not spoken yet goes without a voice."""
        settings = self._settings
        if settings.voice_engine == "off":
            return NoSounds()
        sounds = StepSounds(settings.voice_cache_dir)
        if installed_engine(settings.voice_engine) is None:
            log.warning(
                "spoken cues: no speech engine for VOICE_ENGINE=%s is installed; cues not"
                " in the voice cache go silent",
                settings.voice_engine,
            )
            return sounds
        self._renderer = await Renderer.start(
            spoken_texts(self._catalog.values()),
            settings.voice_engine,
            settings.voice_cache_dir,
            settings.log_level,
        )
        return sounds

    async def _stop_when_lost(self, application: YogaApp, watch: DatabaseWatch) -> None:
        await watch.lost()
        await self._report(watch)
        halt: Halt = application.bot_data[HALT]
        halt.request(EXIT_DATABASE_LOST)

    async def _report(self, watch: DatabaseWatch) -> None:
        """The one CRITICAL line, after saving what the process still holds of a file
        deleted or replaced."""
        if self._reported:
            return
        self._reported = True
        assert watch.loss is not None
        rescue = None
        if watch.loss.kind is not LossKind.FAILING:
            rescue = await asyncio.to_thread(watch.rescue)
        log.critical("%s", watch.explain(rescue))

    async def post_shutdown(self, application: YogaApp) -> None:
        watch, watching = self._watch, self._watching
        if watching is not None:
            if watch is None or watch.loss is None:
                watching.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await watching
        if watch is not None and watch.loss is not None:
            # Lost while starting or stopping, before the watch's task could say so.
            await self._report(watch)
        if self._renderer is not None:
            await self._renderer.stop()
            self._renderer = None
        services = application.bot_data.get(SERVICES)
        if services is not None:
            await services.chat_locks.close()
            await services.reminder_sender.close()
        if self._engine is not None:
            await self._engine.dispose()
            self._engine = None
        if watch is not None:
            await watch.close()
            self._watch = None


@contextlib.asynccontextmanager
async def running(
    application: YogaApp,
    *,
    poll_timeout: int = 10,
    bootstrap_retries: int = 0,
    webhook: Webhook | None = None,
    player_socket: socket.socket | None = None,
) -> AsyncIterator[YogaApp]:
    """Run the bot inside an event loop someone else owns, with the start-up and shutdown
    steps of PTB's `run_polling`, or with the bot's own webhook server (handlers/webhook.py)
    when a `webhook` is given. With WEBAPP_URL set, the player (player/) is served too: on
    the webhook server, or by its own listener (on `player_socket`, if given)."""
    await _initialize(application, bootstrap_retries)
    try:
        if application.post_init is not None:
            await application.post_init(application)
        assert application.updater is not None
        server: WebhookServer | None = None
        player = application.bot_data[PLAYER] = _player(application)
        listener: PlayerListener | None = None
        if webhook is None:
            await application.updater.start_polling(
                poll_interval=0,
                timeout=poll_timeout,
                allowed_updates=list(ALLOWED_UPDATES),
                bootstrap_retries=bootstrap_retries,
            )
        elif webhook.register:
            await register_webhook(application.bot, webhook, bootstrap_retries)
        await application.start()
        try:
            if webhook is not None:
                server = await _listen(application, webhook, player)
            elif player is not None:
                listener = await _listen_for_player(application, player, player_socket)
            yield application
        finally:
            # Timers and sweeps first: no new one fires, and the cues they were waiting to
            # send stay owed in the database, for after the restart (a stop is quick at any
            # load, and nothing is cancelled in the middle of a request).
            _stop_owed_work(application)
            # Stops polling, or closes the webhook server once the updates in hand are
            # handled. The webhook is left registered: during a deploy, deleting it could
            # remove the one a newer instance has just set; Telegram holds the updates
            # meanwhile for the next start; and a start in polling mode deletes it first.
            if listener is not None:
                await listener.stop()
            if server is not None:
                await server.stop()
                if player is not None:
                    await player.stop()
            if application.updater.running:
                await application.updater.stop()
            await application.stop()
    finally:
        await application.shutdown()
        if application.post_shutdown is not None:
            await application.post_shutdown(application)


def _stop_owed_work(application: YogaApp) -> None:
    assert application.job_queue is not None
    scheduler = application.job_queue.scheduler
    if scheduler.running:
        scheduler.pause()
    limiter = application.bot.rate_limiter
    if isinstance(limiter, PriorityRateLimiter):
        left = limiter.stop_waiting()
        if left:
            log.info("stopping: %d cues left for after the restart", left)


async def register_webhook(bot: Bot, webhook: Webhook, retries: int = 0) -> None:
    """setWebhook with the secret and the update types the bot answers, tried again on
    network trouble. Telegram then sends the secret in every request's header."""

    async def register() -> None:
        await bot.set_webhook(
            url=webhook.url,
            secret_token=webhook.secret_token.get_secret_value(),
            allowed_updates=list(ALLOWED_UPDATES),
        )

    await _retrying(register, retries, "could not register the webhook yet")


def _player(application: YogaApp) -> PlayerApi | None:
    """The player's web side, when WEBAPP_URL is set; what it changes is shown in the chat
    as any change is (handlers/present.py)."""
    services = application.bot_data[SERVICES]
    if services.settings.webapp_url is None:
        return None
    # aiohttp (10 MB resident) is loaded only by a bot that serves a webhook or the player.
    from player.server import PlayerApi

    async def show_in_chat(outcome: PracticeOutcome) -> None:
        try:
            await present(application.bot, services, outcome)
        except Forbidden:
            await services.account.unreachable(outcome.chat_id)
        except TelegramError as exc:
            # The class goes on in the player; the chat's cue or note is drawn again with
            # the practice's next change, and a closing message owed is sent by the sweep.
            log.debug("practice %s: the chat was not updated (%s)", outcome.practice_id, exc)

    return PlayerApi(services.settings, lambda: services, show_in_chat)


async def _listen_for_player(
    application: YogaApp, player: PlayerApi, sock: socket.socket | None
) -> PlayerListener:
    from player.server import PlayerListener

    settings = application.bot_data[SERVICES].settings
    listener = PlayerListener(player, settings, sock)
    try:
        await listener.start()
    except OSError as exc:
        raise WebhookListenError(
            f"cannot listen for the player on {settings.webapp_listen}:{settings.webapp_port} "
            f"({exc.strerror or exc}); set WEBAPP_LISTEN or WEBAPP_PORT"
        ) from None
    return listener


async def _listen(
    application: YogaApp, webhook: Webhook, player: PlayerApi | None = None
) -> WebhookServer:
    # aiohttp (10 MB resident) is loaded only by a bot that takes updates on a webhook.
    from handlers.webhook import WebhookServer

    server = WebhookServer(
        application,
        path=webhook.path,
        secret=webhook.secret_token.get_secret_value(),
        listen=webhook.listen,
        port=webhook.port,
        player=player,
    )
    try:
        await server.start()
    except OSError as exc:
        raise WebhookListenError(
            f"cannot listen for the webhook on {webhook.listen}:{webhook.port} "
            f"({exc.strerror or exc}); set WEBHOOK_LISTEN or WEBHOOK_PORT"
        ) from None
    return server


async def _initialize(application: YogaApp, retries: int) -> None:
    """`initialize` (which asks Telegram who the bot is), tried again on network trouble.
    Given up, it closes the connections it opened (PTB leaves them to a shutdown that a
    bot never initialized does not run)."""
    try:
        await _retrying(application.initialize, retries, "Bot API not reachable yet")
    except BaseException:
        for request in application.bot_data[TRANSPORTS]:
            await request.shutdown()
        raise


async def _retrying(call: Callable[[], Awaitable[None]], retries: int, trouble: str) -> None:
    """`call`, tried again a second later on network trouble, `retries` times. A refused
    token or request is an answer, not trouble: it is raised at once."""
    for attempt in range(retries + 1):
        try:
            await call()
            return
        except (InvalidToken, BadRequest):
            raise
        except NetworkError as exc:
            if attempt == retries:
                raise
            log.warning("%s (%s); trying again", trouble, exc)
            await asyncio.sleep(1)


async def serve(application: YogaApp, webhook: Webhook | None = None) -> int:
    """Run the bot until SIGINT or SIGTERM (exit code 0), or until it stops itself because
    its database is lost (EXIT_DATABASE_LOST): what `yogabot run` does."""
    halt: Halt = application.bot_data[HALT]
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, halt.request)
    try:
        async with running(application, bootstrap_retries=BOOTSTRAP_RETRIES, webhook=webhook):
            await halt.wait()
    finally:
        for sig in (signal.SIGINT, signal.SIGTERM):
            loop.remove_signal_handler(sig)
    # Read after the stop: a loss noticed while stopping fails the run too.
    return halt.exit_code
