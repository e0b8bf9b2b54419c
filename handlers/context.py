"""The typed context every handler receives: the services as one typed object."""

from __future__ import annotations

from typing import Any

from telegram.ext import Application, CallbackContext, ExtBot, JobQueue

from bot.services import Services

SERVICES = "services"


class YogaContext(CallbackContext[ExtBot[None], dict[Any, Any], dict[Any, Any], dict[str, Any]]):
    @property
    def services(self) -> Services:
        services: Services = self.bot_data[SERVICES]
        return services


YogaApp = Application[
    ExtBot[None], YogaContext, dict[Any, Any], dict[Any, Any], dict[str, Any], JobQueue[YogaContext]
]
