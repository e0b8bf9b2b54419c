"""The typed context every handler receives: the services as one typed object."""

from __future__ import annotations

from typing import Any

from telegram.ext import Application, CallbackContext, ExtBot, JobQueue

from bot.services import Services

SERVICES = "services"
# The practice timers (handlers/timers.py), which also hold the redraws waiting for a retry.
TIMERS = "timers"


# The bot's type argument is what its rate limiter takes per call: a send's priority
# (handlers/rate_limit.py).
class YogaContext(CallbackContext[ExtBot[int], dict[Any, Any], dict[Any, Any], dict[Any, Any]]):
    @property
    def services(self) -> Services:
        services: Services = self.bot_data[SERVICES]
        return services


YogaApp = Application[
    ExtBot[int], YogaContext, dict[Any, Any], dict[Any, Any], dict[Any, Any], JobQueue[YogaContext]
]
