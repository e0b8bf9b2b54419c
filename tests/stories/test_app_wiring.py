"""The Application's wiring: every handler can fire in production, in a known order."""

from __future__ import annotations

import pytest
from sqlalchemy.ext.asyncio import AsyncEngine
from telegram.ext import (
    CallbackQueryHandler,
    ChatMemberHandler,
    CommandHandler,
    MessageHandler,
    TypeHandler,
)

from bot.database import HEAD_REVISION
from bot.settings import load_settings
from handlers import commands, feedback
from handlers.app import (
    ALLOWED_UPDATES,
    AWAITED_TEXT_GROUP,
    FEEDBACK_EXPIRY_GROUP,
    PRIVATE_ONLY_GROUP,
    UNUSABLE_GROUP,
    WELCOME_BACK_GROUP,
    build_application,
    handler_list,
)
from handlers.buttons import SCHEMES
from tests.harness.bot import TOKEN
from tests.harness.factories import make_class

UPDATE_TYPE = {
    CommandHandler: "message",
    MessageHandler: "message",
    CallbackQueryHandler: "callback_query",
    ChatMemberHandler: "my_chat_member",
}


def test_telegram_is_asked_for_every_update_type_a_handler_answers() -> None:
    tiny = make_class()
    application = build_application(load_settings(bot_token=TOKEN), catalog={tiny.id: tiny})
    handlers = [
        h
        for group in application.handlers.values()
        for h in group
        if not isinstance(h, TypeHandler)  # the guard that drops updates with no sender
    ]
    # A handler of a type not listed here would pass no test and never fire in production.
    assert {type(h) for h in handlers} <= set(UPDATE_TYPE)
    assert {UPDATE_TYPE[type(h)] for h in handlers} == set(ALLOWED_UPDATES)


def test_text_awaited_by_feedback_is_looked_at_before_the_ordinary_handlers() -> None:
    tiny = make_class()
    application = build_application(load_settings(bot_token=TOKEN), catalog={tiny.id: tiny})
    groups = sorted(application.handlers)
    assert groups == [
        UNUSABLE_GROUP,
        PRIVATE_ONLY_GROUP,
        WELCOME_BACK_GROUP,
        FEEDBACK_EXPIRY_GROUP,
        AWAITED_TEXT_GROUP,
        0,
    ]
    # Groups and others' buttons are turned away before anything else looks at them.
    [private_only] = application.handlers[PRIVATE_ONLY_GROUP]
    assert getattr(private_only, "callback", None) is commands.keep_private
    # A prompt the user has moved on from is withdrawn before its text could be taken.
    [expiry] = application.handlers[FEEDBACK_EXPIRY_GROUP]
    assert getattr(expiry, "callback", None) is feedback.withdraw_prompt
    [awaited] = application.handlers[AWAITED_TEXT_GROUP]
    assert getattr(awaited, "callback", None) is feedback.awaited_note


def test_every_scheme_routes_to_a_handler_and_anything_else_to_the_catch_all() -> None:
    handlers = [h for h in handler_list() if type(h).__name__ == "CallbackQueryHandler"]
    patterns = [getattr(h, "pattern", None) for h in handlers]
    assert patterns[:-1] == [scheme.pattern for scheme in SCHEMES]
    assert patterns[-1] is None  # the last one answers any button at all


def test_neither_the_bot_nor_its_progress_chart_loads_matplotlib() -> None:
    """matplotlib is some 40 MB of memory that stayed resident after the first chart; the
    chart is drawn with Pillow, which the pose pictures are drawn with too."""
    import subprocess
    import sys

    probe = (
        "import sys, handlers.app, cli.main, bot.services\n"
        "from datetime import date\n"
        "from bot.chart import weekly_chart\n"
        "from bot.progress import Week\n"
        "weekly_chart([Week(date(2026, 1, 5), 30.0, 5.0, 3.0, 1)])\n"
        "print(sorted({m.split('.')[0] for m in sys.modules} & {'matplotlib', 'PIL'}))"
    )
    loaded = subprocess.run(
        [sys.executable, "-c", probe], capture_output=True, text=True, check=True, timeout=60
    ).stdout.strip()
    assert loaded == "['PIL']"


@pytest.mark.backends("sqlite")
async def test_a_bot_whose_schema_is_up_to_date_loads_no_alembic(
    db_engine: AsyncEngine, database_url: str
) -> None:
    """Alembic (11 MB) is only for migrating. (aiohttp is the Bot API transport, so every
    bot loads it: handlers/transport.py.)"""
    import asyncio
    import sys

    probe = (
        "import asyncio, sys, handlers.app, cli.main, bot.services\n"
        "from bot.database import create_engine, migrate\n"
        f"asyncio.run(migrate(create_engine({database_url!r})))\n"
        "print(sorted({m.split('.')[0] for m in sys.modules} & {'alembic', 'mako'}))"
    )
    process = await asyncio.create_subprocess_exec(
        sys.executable, "-c", probe, stdout=asyncio.subprocess.PIPE
    )
    out, _ = await asyncio.wait_for(process.communicate(), timeout=60)
    assert process.returncode == 0
    assert out.decode().strip() == "[]"


# Never loaded by a bot on SQLite, once started and serving: Alembic, with Mako and
# Pygments, 11 MB that would stay resident after one migration; PostgreSQL's dialect, 2 MB;
# Pillow, 3 MB, until a picture or a chart is drawn.
NOT_IN_AN_IDLE_BOT = ("alembic", "mako", "pygments", "sqlalchemy.dialects.postgresql", "PIL")


@pytest.mark.backends("sqlite")
async def test_a_bot_on_sqlite_migrates_and_serves_without_alembic_postgresql_or_pillow(
    empty_database_url: str,
) -> None:
    """The migration of an empty database runs in a child process; no picture is drawn
    here (the class has none), and no chart."""
    import asyncio
    import sys

    probe = (
        "import asyncio, sys\n"
        "from bot.database import create_engine, schema_revision\n"
        "from bot.uploads import NoPictures\n"
        "from playground.emulator import BotApiEmulator\n"
        "from tests.harness.bot import TOKEN, bot_running\n"
        "from tests.harness.factories import make_class\n"
        "async def main():\n"
        "    tiny = make_class()\n"
        "    async with BotApiEmulator(token=TOKEN) as emulator:\n"
        f"        async with bot_running(emulator, {empty_database_url!r},\n"
        "                catalog={tiny.id: tiny}, pictures=NoPictures()):\n"
        "            user = emulator.user(42)\n"
        "            await user.send('/start')\n"
        "            await emulator.wait_for(lambda: user.bot_messages or None, timeout=30)\n"
        f"    print(await schema_revision(create_engine({empty_database_url!r})))\n"
        "asyncio.run(main())\n"
        f"print([n for n in {NOT_IN_AN_IDLE_BOT!r}\n"
        "       if any(m == n or m.startswith(n + '.') for m in sys.modules)])"
    )
    process = await asyncio.create_subprocess_exec(
        sys.executable, "-c", probe, stdout=asyncio.subprocess.PIPE
    )
    out, _ = await asyncio.wait_for(process.communicate(), timeout=60)
    assert process.returncode == 0
    assert out.decode().split() == [HEAD_REVISION, "[]"]
