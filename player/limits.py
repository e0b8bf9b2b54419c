"""A per-user rate limit for the player's API: a token bucket per user, in memory.

The page itself makes about one call every five seconds (a heartbeat, a look at the state,
a tap); BURST allows a flurry of taps, RATE a steady few a second. A user past it gets
429 with the seconds to wait. Each worker counts the calls it serves: with several
workers a user may get up to that many times the rate, which still bounds what one
initData can cost.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable

BURST = 20.0
RATE = 4.0  # calls a second, sustained
# Buckets full again (idle for BURST / RATE seconds) are forgotten once there are this many.
FORGET_OVER = 10_000


class UserRateLimit:
    def __init__(
        self,
        burst: float = BURST,
        rate: float = RATE,
        monotonic: Callable[[], float] = time.monotonic,
    ) -> None:
        self._burst, self._rate, self._now = burst, rate, monotonic
        # user -> (tokens left, when counted)
        self._buckets: dict[int, tuple[float, float]] = {}

    def wait(self, user_id: int) -> float:
        """0 if the call may go ahead (and it is counted), else the seconds to wait."""
        now = self._now()
        tokens, then = self._buckets.get(user_id, (self._burst, now))
        tokens = min(self._burst, tokens + (now - then) * self._rate)
        if tokens < 1.0:
            self._buckets[user_id] = (tokens, now)
            return (1.0 - tokens) / self._rate
        self._buckets[user_id] = (tokens - 1.0, now)
        if len(self._buckets) > FORGET_OVER:
            self._forget_full(now)
        return 0.0

    def _forget_full(self, now: float) -> None:
        full = self._burst / self._rate
        self._buckets = {
            user: (tokens, then)
            for user, (tokens, then) in self._buckets.items()
            if now - then < full
        }


def retry_after(seconds: float) -> str:
    """The Retry-After header's whole seconds, never 0."""
    return str(max(1, math.ceil(seconds)))
