"""Application wiring: settings in, a ready PTB Application out. No business rules here."""

from __future__ import annotations

import contextlib
import logging
from collections.abc import AsyncIterator

from telegram import BotCommand, Update
from telegram.error import TelegramError
from telegram.ext import (
    AIORateLimiter,
    Application,
    ApplicationBuilder,
    BaseHandler,
    CallbackQueryHandler,
    CommandHandler,
    ContextTypes,
    MessageHandler,
    filters,
)

from bot.clock import Clock, utc_now
from bot.database import create_engine, migrate
from bot.services import build_services
from bot.settings import Settings
from handlers import (
    admin,
    checkin,
    commands,
    feedback,
    mydata,
    practice,
    progress,
    reminders,
    render,
    render_account,
    render_feedback,
)
from handlers.context import YogaApp, YogaContext
from handlers.delivery import resume_open_sessions
from handlers.errors import on_error
from sequences import YogaClass, load_catalog

log = logging.getLogger(__name__)


def handler_list() -> list[BaseHandler]:  # type: ignore[type-arg]
    """Every update the bot answers, in the order PTB tries them."""
    return [
        CommandHandler("start", commands.start),
        CommandHandler("help", commands.help_command),
        CommandHandler("start_practice", practice.start_practice),
        CallbackQueryHandler(practice.start_button, pattern=f"^{render.START_BUTTON_DATA}$"),
        CallbackQueryHandler(practice.practice_button, pattern=r"^p:"),
        CallbackQueryHandler(checkin.checkin_button, pattern=r"^c:"),
        CommandHandler("progress", progress.show_progress),
        CommandHandler("feedback", feedback.feedback_command),
        CallbackQueryHandler(feedback.cancel_button, pattern=f"^{render_feedback.CANCEL_DATA}$"),
        CommandHandler("mydata", mydata.send_my_data),
        CommandHandler("forget_me", mydata.ask_forget),
        CallbackQueryHandler(
            mydata.forget_button,
            pattern=f"^({render_account.FORGET_YES}|{render_account.FORGET_NO})$",
        ),
        CommandHandler("stats", admin.stats),
        CommandHandler("remind", reminders.remind),
        CommandHandler("timezone", reminders.timezone),
        CallbackQueryHandler(reminders.reminder_button, pattern=r"^r:"),
        MessageHandler(filters.LOCATION, reminders.shared_location),
        # Before the catch-alls: text awaited by /feedback; it passes anything else on.
        MessageHandler(filters.TEXT & ~filters.COMMAND, feedback.text_message),
        MessageHandler(filters.COMMAND, commands.unknown_command),
        MessageHandler(filters.TEXT, commands.plain_text),
    ]


def build_application(
    settings: Settings,
    *,
    clock: Clock = utc_now,
    catalog: dict[str, YogaClass] | None = None,
) -> YogaApp:
    if settings.bot_token is None:
        raise ValueError("BOT_TOKEN is required to build the bot")
    api = settings.telegram_api_url
    application: YogaApp = (
        ApplicationBuilder()
        .token(settings.bot_token.get_secret_value())
        .base_url(f"{api}/bot")
        .base_file_url(f"{api}/file/bot")
        .context_types(ContextTypes(context=YogaContext))
        .rate_limiter(AIORateLimiter())
        .post_init(_post_init)
        .post_shutdown(_post_shutdown)
        .build()
    )
    application.bot_data.update(
        settings=settings, clock=clock, catalog=catalog if catalog is not None else load_catalog()
    )
    application.add_handlers(handler_list())
    application.add_error_handler(on_error)
    return application


async def _post_init(application: Application) -> None:  # type: ignore[type-arg]
    data = application.bot_data
    settings: Settings = data["settings"]
    engine = create_engine(settings.database_url)
    await migrate(engine)
    data["engine"] = engine
    data.update(build_services(settings, engine, data["catalog"], data["clock"]))
    try:
        await application.bot.set_my_commands([BotCommand(*c) for c in render.COMMANDS])
    except TelegramError as exc:
        log.warning("could not register the command menu: %s", exc)
    await resume_open_sessions(YogaContext(application))  # type: ignore[arg-type]
    # The schedule lives in the database; one repeating tick sends whatever falls due.
    assert application.job_queue is not None
    reminders.start_ticking(application.job_queue)


async def _post_shutdown(application: Application) -> None:  # type: ignore[type-arg]
    engine = application.bot_data.pop("engine", None)
    if engine is not None:
        await engine.dispose()


@contextlib.asynccontextmanager
async def running(application: YogaApp, *, poll_timeout: int = 10) -> AsyncIterator[YogaApp]:
    """Run the bot inside an event loop someone else owns (tests, the playground),
    with the same start-up and shutdown steps `run_polling` performs."""
    await application.initialize()
    try:
        if application.post_init is not None:
            await application.post_init(application)
        assert application.updater is not None
        await application.updater.start_polling(
            poll_interval=0, timeout=poll_timeout, allowed_updates=Update.ALL_TYPES
        )
        await application.start()
        try:
            yield application
        finally:
            if application.updater.running:
                await application.updater.stop()
            await application.stop()
    finally:
        await application.shutdown()
        if application.post_shutdown is not None:
            await application.post_shutdown(application)
