"""Every service the bot uses, built once over one database engine.

Kept apart from the Telegram wiring so a script or a benchmark can build the same
services without an Application.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy.ext.asyncio import AsyncEngine

from bot.checkin import CheckinService
from bot.clock import Clock
from bot.database import create_sessionmaker
from bot.feedback import FeedbackService
from bot.practice import PracticeEngine
from bot.progress import ProgressService
from bot.reminders import ReminderService
from bot.settings import Settings
from bot.stats import StatsService
from bot.store import FeedbackStore, PracticeStore, ReminderStore, UserStore
from bot.userdata import UserDataService
from sequences import YogaClass


def build_services(
    settings: Settings, engine: AsyncEngine, catalog: dict[str, YogaClass], clock: Clock
) -> dict[str, Any]:
    """The services by the names handlers/context.py looks them up under."""
    sessions = create_sessionmaker(engine)
    practice_store = PracticeStore(sessions)
    users = UserStore(sessions)
    zone = settings.default_timezone
    return {
        "practice": PracticeEngine(practice_store, catalog, clock, settings.time_scale),
        "checkin": CheckinService(practice_store),
        "progress": ProgressService(users, catalog, clock, zone),
        "feedback": FeedbackService(FeedbackStore(sessions), practice_store, catalog, clock),
        "userdata": UserDataService(users, catalog, zone),
        "stats": StatsService(users),
        "reminders": ReminderService(ReminderStore(sessions), clock, zone),
    }
