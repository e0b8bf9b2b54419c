"""PTB's AIORateLimiter, plus the bot-wide count of sends when workers share a database.

AIORateLimiter paces one process: 30 calls a second in all, one a second per chat, and
429s waited out. Several workers would each allow 30; so on PostgreSQL every call that
counts towards Telegram's limit (one that carries a chat_id, as AIORateLimiter counts
them) also takes a slot of the bot-wide second (bot/store/send_budget.py) at the moment it
is really sent: after the worker's own pacing, and again for each retry after a 429.
"""

from __future__ import annotations

from collections.abc import Callable, Coroutine
from typing import Any

from telegram.ext import AIORateLimiter, BaseRateLimiter

from handlers.context import SERVICES

# What a Bot API call returns: True, an object, or a list of them (PTB's JSONDict).
Sent = bool | dict[str, Any] | list[dict[str, Any]]


class SharedRateLimiter(BaseRateLimiter[int]):
    def __init__(self, *, max_retries: int) -> None:
        self._local = AIORateLimiter(max_retries=max_retries)
        # The application's bot_data once it is built: it holds the services.
        self.bot_data: dict[Any, Any] = {}

    async def initialize(self) -> None:
        await self._local.initialize()

    async def shutdown(self) -> None:
        await self._local.shutdown()

    async def process_request(
        self,
        callback: Callable[..., Coroutine[Any, Any, Sent]],
        args: Any,
        kwargs: dict[str, Any],
        endpoint: str,
        data: dict[str, Any],
        rate_limit_args: int | None,
    ) -> Sent:
        services = self.bot_data.get(SERVICES)
        budget = services.send_budget if services is not None else None
        if budget is None or data.get("chat_id") is None:
            return await self._local.process_request(
                callback, args, kwargs, endpoint, data, rate_limit_args
            )

        async def counted(*call_args: Any, **call_kwargs: Any) -> Sent:
            await budget.take()
            return await callback(*call_args, **call_kwargs)

        return await self._local.process_request(
            counted, args, kwargs, endpoint, data, rate_limit_args
        )
