"""Error injection: make the next calls of a method fail the way Telegram can fail."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from http import HTTPStatus
from typing import Literal

from playground.emulator.errors import DEFAULT_DESCRIPTIONS, ApiError
from playground.emulator.params import Params

# When a dropped connection happens: before the call is carried out (nothing delivered),
# after (delivered, but the client never hears so), or after it and a long silence (the
# client's own timeout ends the wait).
Drop = Literal["before", "after", "silent"]
# Longer than python-telegram-bot's default read timeout of 5 s.
SILENCE_SECONDS = 6.0


# A held call is let go after this long at most, so a test that forgets one never hangs.
HOLD_LIMIT_SECONDS = 60.0


class Hold:
    """A call kept unanswered until the test lets it go: Telegram gone silent for one call.

    `arrived` is set when the call comes in; `release()` lets it be carried out and
    answered; `abandoned` is True when the client gave up first (its own timeout closed the
    connection), in which case the call was never carried out."""

    def __init__(self) -> None:
        self.arrived = asyncio.Event()
        self._released = asyncio.Event()
        self.abandoned = False

    @property
    def released(self) -> bool:
        return self._released.is_set()

    @property
    def hanging(self) -> bool:
        """The call came in and is still waiting for its answer."""
        return self.arrived.is_set() and not self.released and not self.abandoned

    def release(self) -> None:
        self._released.set()

    async def wait(self) -> None:
        """Until released (or HOLD_LIMIT_SECONDS); marks the hold abandoned if the client
        goes away meanwhile (the server cancels the request's handler)."""
        try:
            async with asyncio.timeout(HOLD_LIMIT_SECONDS):
                await self._released.wait()
        except TimeoutError:
            self._released.set()
        except asyncio.CancelledError:
            self.abandoned = True
            raise


class DroppedConnection(Exception):
    """The HTTP layer closes the connection without an answer, after `silence` seconds."""

    def __init__(self, silence: float = 0.0) -> None:
        super().__init__(silence)
        self.silence = silence


@dataclass
class FaultRule:
    method: str  # lower-cased, as method names match case-insensitively
    error_code: int
    description: str
    retry_after: int | None
    chat_id: int | None
    remaining: int
    drop: Drop | None = None
    hold: Hold | None = None

    def matches(self, method: str, p: Params) -> bool:
        if self.remaining <= 0 or self.method != method.lower():
            return False
        return self.chat_id is None or p.get("chat_id") == self.chat_id

    def error(self) -> ApiError:
        if self.retry_after is not None:
            return ApiError(
                HTTPStatus.TOO_MANY_REQUESTS,
                self.description,
                parameters={"retry_after": self.retry_after},
            )
        return ApiError(self.error_code, self.description)


class Faults:
    def __init__(self) -> None:
        self.rules: list[FaultRule] = []

    def add(
        self,
        method: str,
        *,
        error_code: int = 400,
        description: str | None = None,
        retry_after: int | None = None,
        chat_id: int | None = None,
        times: int = 1,
        drop: Drop | None = None,
        hold: Hold | None = None,
    ) -> FaultRule:
        if retry_after is not None:
            error_code = HTTPStatus.TOO_MANY_REQUESTS
            description = description or f"Too Many Requests: retry after {retry_after}"
        default = DEFAULT_DESCRIPTIONS.get(error_code, f"Error {error_code}")
        rule = FaultRule(
            method=method.lower(),
            error_code=error_code,
            description=description or default,
            retry_after=retry_after,
            chat_id=chat_id,
            remaining=times,
            drop=drop,
            hold=hold,
        )
        self.rules.append(rule)
        return rule

    def take(self, method: str, p: Params) -> FaultRule | None:
        """The rule that wants this call to fail, if one still does; uses it up."""
        for rule in self.rules:
            if rule.matches(method, p):
                rule.remaining -= 1
                if rule.remaining <= 0:
                    self.rules.remove(rule)
                return rule
        return None

    def clear(self) -> None:
        self.rules.clear()
