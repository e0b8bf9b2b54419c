"""The typed context every handler receives: services by name instead of dict look-ups."""

from __future__ import annotations

from typing import Any

from telegram.ext import Application, CallbackContext, ExtBot

from bot.clock import Clock
from bot.practice import PracticeEngine


class YogaContext(CallbackContext[ExtBot[None], dict[Any, Any], dict[Any, Any], dict[str, Any]]):
    @property
    def practice(self) -> PracticeEngine:
        return self.bot_data["practice"]

    @property
    def clock(self) -> Clock:
        return self.bot_data["clock"]


YogaApp = Application[
    ExtBot[None], YogaContext, dict[Any, Any], dict[Any, Any], dict[str, Any], Any
]
