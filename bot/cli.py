"""`yogabot` command line: run the bot, apply migrations, check class files."""

from __future__ import annotations

import argparse
import asyncio
import sys
from pathlib import Path

from bot.settings import Settings, SettingsError, load_settings

EXIT_USAGE = 2

NO_TOKEN = (
    "BOT_TOKEN is not set. Create a bot with @BotFather, then run: "
    "BOT_TOKEN=123456789:ABC... make run  (or put BOT_TOKEN=... in a .env file)"
)


def main(argv: list[str] | None = None) -> int:
    parser = _parser()
    args = parser.parse_args(argv)
    if args.command == "sequences":
        return _check_sequences(args.dir)
    try:
        settings = load_settings()
    except SettingsError as exc:
        print(f"yogabot: {exc}", file=sys.stderr)
        return EXIT_USAGE
    if args.command == "migrate":
        return _migrate(settings)
    return _run(settings)


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="yogabot", description="A gentle yoga coach on Telegram")
    commands = parser.add_subparsers(dest="command", required=True)
    commands.add_parser("run", help="serve the bot with long polling (needs BOT_TOKEN)")
    commands.add_parser("migrate", help="bring the database schema up to date")
    sequences = commands.add_parser("sequences", help="work with class files")
    sequences.add_argument("action", choices=["check"], help="validate every class file")
    sequences.add_argument("--dir", type=Path, default=None, help="folder of class files")
    return parser


def _check_sequences(directory: Path | None) -> int:
    from sequences import SEQUENCES_DIR, check_all, load_catalog

    directory = directory or SEQUENCES_DIR
    errors = check_all(directory)
    for line in errors:
        print(line, file=sys.stderr)
    if errors:
        return 1
    for yoga_class in load_catalog(directory).values():
        print(
            f"ok  {yoga_class.id}: {len(yoga_class.steps)} steps, "
            f"{yoga_class.total_hold_seconds / 60:.1f} min"
        )
    return 0


def _migrate(settings: Settings) -> int:
    from bot.database import create_engine, migrate

    async def upgrade() -> None:
        engine = create_engine(settings.database_url)
        try:
            await migrate(engine)
        finally:
            await engine.dispose()

    asyncio.run(upgrade())
    print("database is up to date")
    return 0


def _run(settings: Settings) -> int:
    from bot.app import build_application
    from bot.logs import configure_logging

    if settings.bot_token is None:
        print(f"yogabot: {NO_TOKEN}", file=sys.stderr)
        return EXIT_USAGE
    configure_logging(settings.log_level, [settings.bot_token.get_secret_value()])
    application = build_application(settings)
    application.run_polling(allowed_updates=["message", "callback_query"])
    return 0


if __name__ == "__main__":
    sys.exit(main())
