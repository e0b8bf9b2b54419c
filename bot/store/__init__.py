"""The repository layer: every query the services need, and nothing about Telegram."""

from bot.store.feedback import FeedbackStore
from bot.store.practice import PracticeStore
from bot.store.reminders import ReminderStore
from bot.store.users import UserStore

__all__ = ["FeedbackStore", "PracticeStore", "ReminderStore", "UserStore"]
