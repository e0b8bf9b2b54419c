"""Every service the bot uses, built once over one database engine: the composition root.

Kept apart from the Telegram wiring so the command line or a benchmark can build the same
services without an Application; the Application passes its JobQueue in as the timers.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy.ext.asyncio import AsyncEngine

from bot.account import AccountService
from bot.checkin import CheckinService
from bot.clock import Clock
from bot.feedback import FeedbackService
from bot.handled_updates import HandledUpdates
from bot.incidents import Incidents
from bot.practice.service import PracticeService, Timers
from bot.programme.service import ProgrammeService
from bot.progress import ProgressService
from bot.reminders import ReminderService
from bot.safety import SafetyService
from bot.settings import Settings
from bot.stats import StatsService
from bot.store import Store
from bot.store.chat_locks import ChatLocks, chat_locks_for
from bot.store.roles import REMINDER_SENDER, Role, role_for
from bot.store.send_budget import SendBudget
from bot.uploads import PictureSource, SoundSource, UploadService
from bot.user_settings import UserSettingsService
from sequences import YogaClass


@dataclass(frozen=True)
class Services:
    settings: Settings
    catalog: dict[str, YogaClass]
    practice: PracticeService
    # The plan over weeks (/plan), its next-day check and weekly summary.
    programme: ProgrammeService
    checkin: CheckinService
    safety: SafetyService
    user_settings: UserSettingsService
    uploads: UploadService
    reminders: ReminderService
    progress: ProgressService
    feedback: FeedbackService
    account: AccountService
    stats: StatsService
    # Webhook updates some worker took to handle, so a repeated delivery is handled once.
    handled_updates: HandledUpdates
    # Held around everything that changes a chat's practice and sends for it.
    chat_locks: ChatLocks
    # Whether this worker sends the reminders now: one worker at a time does.
    reminder_sender: Role
    # The bot-wide count of sends per second, when several workers may send (PostgreSQL).
    send_budget: SendBudget | None
    # Several workers may share this database (PostgreSQL): each then sweeps for deadlines
    # any of them armed, and takes chats' updates in the order the locks give.
    shared_database: bool
    # The database's and Telegram's outages, each logged once (bot/incidents.py).
    incidents: Incidents
    # What "now" is for every service (a test's hand-moved clock, or the scaled one).
    clock: Clock


def build_services(
    settings: Settings,
    engine: AsyncEngine,
    catalog: dict[str, YogaClass],
    clock: Clock,
    timers: Timers,
    pictures: PictureSource | None = None,
    sounds: SoundSource | None = None,
) -> Services:
    incidents = Incidents(clock)
    store = Store(engine, incidents.database)
    url = engine.url.render_as_string(hide_password=False)
    zone = settings.default_timezone
    programme = ProgrammeService(store, catalog, clock, zone)
    practice = PracticeService(
        store,
        catalog,
        clock,
        timers,
        settings.time_scale,
        zone,
        pictures=pictures,
        sounds=sounds,
        programme=programme,
    )
    reminders = ReminderService(store, clock, zone)
    return Services(
        settings=settings,
        catalog=catalog,
        practice=practice,
        programme=programme,
        checkin=CheckinService(store, programme),
        safety=SafetyService(store, clock, zone),
        user_settings=UserSettingsService(store, clock),
        uploads=UploadService(store, clock),
        reminders=reminders,
        progress=ProgressService(store, catalog, clock, zone),
        feedback=FeedbackService(
            store, catalog, clock, only_writer=engine.dialect.name == "sqlite"
        ),
        account=AccountService(
            store, catalog, zone, practice=practice, reminders=reminders, timers=timers
        ),
        stats=StatsService(store),
        handled_updates=HandledUpdates(store, clock),
        chat_locks=chat_locks_for(url),
        reminder_sender=role_for(url, REMINDER_SENDER),
        send_budget=SendBudget(engine) if engine.dialect.name == "postgresql" else None,
        shared_database=engine.dialect.name == "postgresql",
        incidents=incidents,
        clock=clock,
    )
