"""The typed context every handler receives: services by name instead of dict look-ups."""

from __future__ import annotations

from typing import Any

from telegram.ext import Application, CallbackContext, ExtBot

from bot.checkin import CheckinService
from bot.clock import Clock
from bot.feedback import FeedbackService
from bot.practice import PracticeEngine
from bot.progress import ProgressService
from bot.reminders import ReminderService
from bot.settings import Settings
from bot.stats import StatsService
from bot.userdata import UserDataService


class YogaContext(CallbackContext[ExtBot[None], dict[Any, Any], dict[Any, Any], dict[str, Any]]):
    @property
    def practice(self) -> PracticeEngine:
        return self.bot_data["practice"]

    @property
    def clock(self) -> Clock:
        return self.bot_data["clock"]

    @property
    def reminders(self) -> ReminderService:
        return self.bot_data["reminders"]

    @property
    def settings(self) -> Settings:
        return self.bot_data["settings"]

    @property
    def checkin(self) -> CheckinService:
        return self.bot_data["checkin"]

    @property
    def progress(self) -> ProgressService:
        return self.bot_data["progress"]

    @property
    def feedback(self) -> FeedbackService:
        return self.bot_data["feedback"]

    @property
    def userdata(self) -> UserDataService:
        return self.bot_data["userdata"]

    @property
    def stats(self) -> StatsService:
        return self.bot_data["stats"]


YogaApp = Application[
    ExtBot[None], YogaContext, dict[Any, Any], dict[Any, Any], dict[str, Any], Any
]
