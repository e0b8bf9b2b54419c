"""The repository layer: every query the services need, and nothing about Telegram."""

from bot.store.practice import PracticeStore

__all__ = ["PracticeStore"]
