"""`yogabot` command line: run the bot, apply migrations, check class files, and read
feedback and numbers out of the database."""

from __future__ import annotations

import argparse
import asyncio
import sqlite3
import sys
from collections.abc import Awaitable, Callable
from datetime import date, datetime
from pathlib import Path
from typing import TYPE_CHECKING, TypeVar

from bot.settings import Settings, SettingsError, load_settings

if TYPE_CHECKING:
    from bot.services import Services
    from bot.voice_cache import Outcome
    from sequences import Figure, Step, YogaClass

T = TypeVar("T")
EXIT_USAGE = 2

NO_TOKEN = (
    "no BOT_TOKEN set, so starting the local playground instead "
    "(to serve Telegram: BOT_TOKEN=123456789:ABC... make run, or BOT_TOKEN=... in .env)"
)


def main(argv: list[str] | None = None) -> int:
    parser = _parser()
    args = parser.parse_args(argv)
    if args.command == "poses":
        return _render_poses(args.dir, args.sheet)
    if args.command == "sequences" and args.no_voice:
        return _check_sequences(args.dir, None)
    try:
        settings = load_settings()
    except SettingsError as exc:
        print(f"yogabot: {exc}", file=sys.stderr)
        return EXIT_USAGE
    if args.command == "sequences":
        return _check_sequences(args.dir, settings)
    if args.command == "voice":
        return _render_voice(settings, args.dir)
    if args.command == "migrate":
        return _migrate(settings)
    if args.command == "backup":
        return _backup(settings, args.path)
    if args.command == "webhook":
        return _set_webhook(settings)
    if args.command == "feedback":
        return _export_feedback(settings, args.since, args.format)
    if args.command == "stats":
        return _stats(settings)
    # The two that run for long: a block freed goes back to the system (bot/malloc.py).
    from bot.malloc import fix_mmap_threshold

    fix_mmap_threshold()
    if args.command == "playground":
        return _playground(settings)
    return _run(settings)


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="yogabot", description="A gentle yoga coach on Telegram")
    commands = parser.add_subparsers(dest="command", required=True)
    commands.add_parser(
        "run",
        help="serve the bot: long polling, or a webhook if WEBHOOK_URL is set "
        "(the playground if BOT_TOKEN is unset)",
    )
    commands.add_parser(
        "playground",
        help="try the bot locally in the browser: no token, nothing leaves the machine",
    )
    commands.add_parser("migrate", help="bring the database schema up to date")
    webhook = commands.add_parser(
        "webhook", help="register WEBHOOK_URL with Telegram once, for workers that do not"
    )
    webhook.add_argument("action", choices=["set"], help="setWebhook with the secret")
    backup = commands.add_parser(
        "backup", help="copy the SQLite database into a new file while the bot runs"
    )
    backup.add_argument("path", type=Path, help="the new file, e.g. backups/yogabot-2026-12-02.db")
    sequences = commands.add_parser("sequences", help="work with class files")
    sequences.add_argument(
        "action",
        choices=["check"],
        help="validate every class file, and speak every step (VOICE_ENGINE, into"
        " VOICE_CACHE_DIR) to check its sound and that it ends in time",
    )
    sequences.add_argument("--dir", type=Path, default=None, help="folder of class files")
    sequences.add_argument(
        "--no-voice", action="store_true", help="the class files only: nothing spoken"
    )
    feedback = commands.add_parser("feedback", help="users' feedback, with its context")
    feedback.add_argument("action", choices=["export"], help="write all feedback to stdout")
    feedback.add_argument(
        "--since", metavar="YYYY-MM-DD", help="only feedback from this date on (UTC)"
    )
    feedback.add_argument("--format", choices=["csv", "json"], default="csv")
    commands.add_parser("stats", help="users, reminders, practices and feedback, counted")
    voice = commands.add_parser("voice", help="the spoken cues")
    voice.add_argument("action", choices=["render"], help="speak every cue of every class")
    voice.add_argument("dir", type=Path, help="folder to write the audio files into")
    poses = commands.add_parser("poses", help="the pose pictures")
    poses.add_argument("action", choices=["render"], help="draw every picture, both sides")
    poses.add_argument("dir", type=Path, help="folder to write the PNGs into")
    poses.add_argument(
        "--sheet", type=Path, default=None, help="also write a contact sheet of every pose here"
    )
    return parser


def _render_poses(directory: Path, sheet: Path | None) -> int:
    """Every figure, as drawn for each side, into `directory`: for review side by side."""
    from bot.pictures import contact_sheet, render
    from sequences import load_catalog, load_figures

    figures = load_figures()
    directory.mkdir(parents=True, exist_ok=True)
    for figure_id, figure in figures.items():
        for mirrored, name in ((False, figure_id), (True, f"{figure_id}-mirrored")):
            (directory / f"{name}.png").write_bytes(render(figure, mirrored=mirrored))
    print(f"{2 * len(figures)} pictures of {len(figures)} poses in {directory}")
    if sheet is not None:
        # One line per pose a class shows, its usual picture beside its easier one.
        rows: dict[tuple[str, str | None], tuple[str, Figure, Figure | None]] = {}
        for yoga_class in load_catalog().values():
            for step in yoga_class.steps:
                if step.figure is None or (step.figure, step.easier_figure) in rows:
                    continue
                easier = figures[step.easier_figure] if step.easier_figure else None
                rows[step.figure, step.easier_figure] = (
                    figures[step.figure].name,
                    figures[step.figure],
                    easier,
                )
        sheet.write_bytes(contact_sheet(list(rows.values())))
        print(f"contact sheet: {sheet}")
    return 0


def _render_voice(settings: Settings, directory: Path) -> int:
    """Every class's spoken words, as MP3, into `directory` for listening
    (through the voice cache); 1 when a file fails its checks or a step's words outlast
    its hold (less the quiet it keeps at the end)."""
    import shutil

    from sequences import load_catalog

    faults: list[str] = []

    def each(class_id: str, outcome: Outcome) -> None:
        name = _step_name(class_id, outcome)
        shutil.copyfile(outcome.spoken.mp3, directory / f"{class_id}.{name}.mp3")
        print(f"{class_id}.{name}: {outcome.spoken.seconds:.1f} s")
        faults.extend(_fault_lines(class_id, outcome))

    directory.mkdir(parents=True, exist_ok=True)
    spoken_by = _speak_classes(settings, list(load_catalog().values()), each)
    if spoken_by is None:
        return 1
    for line in faults:
        print(line, file=sys.stderr)
    print(f"spoken by {spoken_by} into {directory}")
    return 1 if faults else 0


def _speak_classes(
    settings: Settings, classes: list[YogaClass], each: Callable[[str, Outcome], None]
) -> str | None:
    """Every text of `classes` spoken with VOICE_ENGINE into VOICE_CACHE_DIR (what is
    there already keeps the verdict of its checks), each handed to `each` with its class;
    the engine's name, or None (said on stderr) when VOICE_ENGINE names none that is
    installed."""
    from bot.spoken_cues import spoken_texts
    from bot.voice import Voice, available_engine
    from bot.voice_cache import prepare, speaking_alone

    engine = available_engine(settings.voice_engine)
    if engine is None:
        print(
            f"yogabot: no speech engine for VOICE_ENGINE={settings.voice_engine}"
            " (piper or espeak-ng)",
            file=sys.stderr,
        )
        return None
    cache_dir = settings.voice_cache_dir
    voice = Voice(engine, cache_dir)
    with speaking_alone(
        cache_dir, lambda: print("another process is speaking into the cache; waiting for it")
    ):
        for yoga_class in classes:
            for outcome in prepare(voice, spoken_texts([yoga_class]), cache_dir):
                each(yoga_class.id, outcome)
    return voice.engine


def _fault_lines(class_id: str, outcome: Outcome) -> list[str]:
    """The outcome's faults, a line each naming the class and step: for words too long,
    both durations."""
    from sequences.spoken import QUIET_AT_THE_END

    text = outcome.text
    lines = []
    for fault in outcome.faults:
        if fault.kind == "length" and text.limit is not None:
            detail = (
                f"spoken for {outcome.spoken.seconds:.1f} s, longer than its hold allows"
                f" ({text.limit:g} s: the hold less {QUIET_AT_THE_END} s of quiet)"
            )
        else:
            detail = fault.detail
        lines.append(f"{class_id}: step {_step_name(class_id, outcome)}: {detail}")
    return lines


def _step_name(class_id: str, outcome: Outcome) -> str:
    """The text's name within its class: "pose-1", "pose-1-easier", "intro", "closing"."""
    return outcome.text.name.removeprefix(f"{class_id}.")


def _check_sequences(directory: Path | None, settings: Settings | None) -> int:
    """The class files in `directory` checked, then (with `settings`) every step spoken and
    its sound and length checked, unless VOICE_ENGINE=off."""
    from sequences import SEQUENCES_DIR, check_all, load_catalog

    directory = directory or SEQUENCES_DIR
    errors = check_all(directory)
    for line in errors:
        print(line, file=sys.stderr)
    if errors:
        return 1
    catalog = load_catalog(directory)
    for yoga_class in catalog.values():
        short = _length(yoga_class.short_steps) if yoga_class.short_steps else "none marked"
        print(f"ok  {yoga_class.id}: {_length(yoga_class.steps)} · short: {short}")
        # Only a warning: the class is valid, its short version merely an odd length.
        warning = yoga_class.short_length_warning()
        if warning is not None:
            print(f"{yoga_class.id}: warning: {warning}", file=sys.stderr)
    if settings is None:
        return 0
    if settings.voice_engine == "off":
        print("voice: not checked (VOICE_ENGINE=off)")
        return 0
    print(
        f"voice: speaking every step (VOICE_ENGINE={settings.voice_engine}) into"
        f" {settings.voice_cache_dir}; what is not there yet takes about a second a step"
    )
    faults: list[str] = []
    counts = {"texts": 0, "spoken now": 0}

    def each(class_id: str, outcome: Outcome) -> None:
        counts["texts"] += 1
        counts["spoken now"] += outcome.rendered
        faults.extend(_fault_lines(class_id, outcome))

    spoken_by = _speak_classes(settings, list(catalog.values()), each)
    if spoken_by is None:
        return 1
    for line in faults:
        print(line, file=sys.stderr)
    if faults:
        return 1
    print(
        f"ok  voice: {counts['texts']} texts by {spoken_by} ({counts['spoken now']} spoken now),"
        " each within its hold, at its loudness and peak, trimmed"
    )
    return 0


def _length(steps: list[Step]) -> str:
    seconds = sum(step.hold_seconds for step in steps)
    return f"{len(steps)} steps, {(seconds + 30) // 60} min"  # whole minutes, halves up


def _backup(settings: Settings, path: Path) -> int:
    from bot.database import BackupError, backup_sqlite

    try:
        pages = backup_sqlite(settings.database_url, path)
    except (BackupError, OSError) as exc:
        print(f"yogabot: backup: {exc}", file=sys.stderr)
        return 1
    print(f"backed up {pages} pages into {path}")
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


def _with_services(settings: Settings, use: Callable[[Services], Awaitable[T]]) -> T:
    """Run one read against the same services the bot builds, then close the database."""
    from bot.clock import utc_now
    from bot.database import create_engine, migrate
    from bot.practice.service import NoTimers
    from bot.services import build_services
    from sequences import load_catalog

    async def go() -> T:
        engine = create_engine(settings.database_url)
        try:
            # A fresh database gets its tables, so a report on it is empty, not an error.
            await migrate(engine)
            services = build_services(settings, engine, load_catalog(), utc_now, NoTimers())
            return await use(services)
        finally:
            await engine.dispose()

    return asyncio.run(go())


def _export_feedback(settings: Settings, since_text: str | None, form: str) -> int:
    from bot.feedback import write_csv, write_json

    since: date | None = None
    if since_text is not None:
        try:
            since = datetime.strptime(since_text, "%Y-%m-%d").date()
        except ValueError:
            print(
                f"yogabot: --since: expected a date like 2026-01-31, got {since_text!r}",
                file=sys.stderr,
            )
            return EXIT_USAGE
    items = _with_services(settings, lambda services: services.feedback.export(since))
    (write_json if form == "json" else write_csv)(items, sys.stdout)
    return 0


def _stats(settings: Settings) -> int:
    from handlers.render.account import stats_table

    print(stats_table(_with_services(settings, lambda services: services.stats.collect())))
    return 0


def _set_webhook(settings: Settings) -> int:
    """Register the webhook once, at deploy, for workers run with WEBHOOK_REGISTER=false."""
    from telegram import Bot
    from telegram.error import TelegramError

    from bot.logs import configure_logging
    from handlers.app import BOOTSTRAP_RETRIES, Webhook, register_webhook

    webhook = Webhook.from_settings(settings)
    if settings.bot_token is None or webhook is None:
        print(
            "yogabot: webhook set: needs BOT_TOKEN, WEBHOOK_URL and WEBHOOK_SECRET", file=sys.stderr
        )
        return EXIT_USAGE
    token = settings.bot_token.get_secret_value()
    configure_logging(settings.log_level, [token, webhook.secret_token.get_secret_value()])
    api = settings.telegram_api_url

    async def set_it() -> None:
        async with Bot(token, base_url=f"{api}/bot", base_file_url=f"{api}/file/bot") as bot:
            await register_webhook(bot, webhook, BOOTSTRAP_RETRIES)

    try:
        asyncio.run(set_it())
    except TelegramError as exc:
        print(f"yogabot: webhook set: Telegram refused it: {exc}", file=sys.stderr)
        return 1
    print(f"webhook set: {webhook.url}")
    return 0


def _run(settings: Settings) -> int:
    from bot.database_file import EXIT_DATABASE_LOST, DatabaseLost, cannot_start, rescued_instead
    from bot.logs import configure_logging
    from handlers.app import Webhook, WebhookListenError, build_application, serve

    if settings.bot_token is None:
        print(f"yogabot: {NO_TOKEN}", file=sys.stderr)
        return _playground(settings)
    from sqlalchemy.exc import DBAPIError
    from telegram.error import BadRequest, InvalidToken, NetworkError

    refusal = rescued_instead(settings.database_url)
    if refusal is not None:
        print(f"yogabot: {refusal}", file=sys.stderr)
        return EXIT_DATABASE_LOST

    # PTB logs every call's parameters at DEBUG, setWebhook's secret_token among them.
    secrets = [settings.bot_token.get_secret_value()]
    if settings.webhook_secret is not None:
        secrets.append(settings.webhook_secret.get_secret_value())
    configure_logging(settings.log_level, secrets)
    application = build_application(settings)
    try:
        return asyncio.run(serve(application, Webhook.from_settings(settings)))
    except DatabaseLost:
        # Lost while starting: the log's CRITICAL line has said what happened.
        return EXIT_DATABASE_LOST
    except (DBAPIError, sqlite3.Error) as exc:
        line = cannot_start(settings.database_url, exc)
        if line is None:
            raise
        print(f"yogabot: {line}", file=sys.stderr)
        return EXIT_DATABASE_LOST
    except WebhookListenError as exc:
        print(f"yogabot: {exc}", file=sys.stderr)
        return 1
    except InvalidToken:
        print(
            "yogabot: BOT_TOKEN: Telegram refused this token; copy it again from @BotFather",
            file=sys.stderr,
        )
        return EXIT_USAGE
    # BadRequest subclasses NetworkError but says the request, not the network, was wrong.
    except BadRequest as exc:
        print(f"yogabot: the Bot API refused a start-up request: {exc}", file=sys.stderr)
        return 1
    except NetworkError as exc:
        print(
            f"yogabot: cannot reach the Bot API at {settings.telegram_api_url} ({exc}); "
            "check the network or TELEGRAM_API_URL",
            file=sys.stderr,
        )
        return 1


def _playground(settings: Settings) -> int:
    from bot.logs import configure_logging
    from playground import run_playground

    # The playground never uses a real token, but one set in the environment stays unlogged.
    token = settings.bot_token.get_secret_value() if settings.bot_token else ""
    configure_logging(settings.log_level, [token])
    return run_playground(settings)


if __name__ == "__main__":
    sys.exit(main())
