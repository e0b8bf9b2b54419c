"""The repository layer: every query the services need, and nothing about Telegram.

One module per aggregate; each repository works on the caller's database session, and a
`Store` hands out units of work that hold one session each.
"""

from bot.store.feedback import FeedbackRepository
from bot.store.practice import PracticeRepository
from bot.store.reminders import Claim, DueRow, ReminderRepository
from bot.store.unit_of_work import Store, StoreUnavailable, UnitOfWork
from bot.store.users import Counts, UserRepository

__all__ = [
    "Claim",
    "Counts",
    "DueRow",
    "FeedbackRepository",
    "PracticeRepository",
    "ReminderRepository",
    "Store",
    "StoreUnavailable",
    "UnitOfWork",
    "UserRepository",
]
