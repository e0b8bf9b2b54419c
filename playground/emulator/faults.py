"""Error injection: make the next calls of a method fail the way Telegram can fail."""

from __future__ import annotations

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
