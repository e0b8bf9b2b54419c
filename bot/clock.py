"""Time as a dependency, so rules can be tested without waiting."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta

Clock = Callable[[], datetime]


def utc_now() -> datetime:
    return datetime.now(UTC)


class ManualClock:
    """A clock that only moves when told to; for tests and simulations."""

    def __init__(self, start: datetime | None = None) -> None:
        self.now = start or datetime(2026, 1, 5, 7, 0, tzinfo=UTC)

    def __call__(self) -> datetime:
        return self.now

    def advance(self, seconds: float) -> datetime:
        self.now += timedelta(seconds=seconds)
        return self.now


class MovableClock:
    """Real time, moved forward by hand: the playground's "skip ahead", so the next
    morning's question or Sunday's summary can be seen without waiting for them. It only
    ever moves forward, so no deadline already passed comes back."""

    def __init__(self, base: Clock = utc_now) -> None:
        self._base = base
        self._ahead = timedelta(0)

    def __call__(self) -> datetime:
        return self._base() + self._ahead

    def move_to(self, moment: datetime) -> None:
        self._ahead += max(timedelta(0), moment - self())
