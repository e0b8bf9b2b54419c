"""Trouble that lasts (the database not answering, Telegram not answering), logged as one
incident: one WARNING when it begins and one INFO with its length when it is over, however
many timers, sweeps and sends meet it meanwhile.

An incident is over once calls have gone well for SETTLE with no failure between: calls
that are retried at most a minute apart (a cue's re-sends, a timer waiting for the
database) never make one incident look like many, and a database that still reads but can
no longer write keeps its incident open while reads go well.
"""

from __future__ import annotations

import logging
from datetime import datetime, timedelta

from bot.clock import Clock

log = logging.getLogger(__name__)

# Calls going well for this long, with no failure between, end an incident. Longer than the
# longest pause between two retries (bot.practice.machine.RETRY_MAX), so the retries of one
# outage stay one incident.
SETTLE = timedelta(seconds=90)


class Incident:
    def __init__(self, what: str, clock: Clock) -> None:
        # What is in trouble, as the log lines name it: "the database", "Telegram".
        self._what = what
        self._clock = clock
        self._began: datetime | None = None
        self._last_failure: datetime | None = None
        # The first call that went well after the last failure: when it recovered.
        self._recovered: datetime | None = None

    @property
    def open(self) -> bool:
        return self._began is not None

    def failed(self, reason: str) -> None:
        """A call met the trouble; `reason` is the library's words, never user data."""
        now = self._clock()
        self._settle(now)
        self._last_failure, self._recovered = now, None
        if self._began is None:
            self._began = now
            log.warning(
                "%s does not answer (%s); retrying quietly until it does", self._what, reason
            )
        else:
            log.debug("%s still does not answer (%s)", self._what, reason)

    def answered(self) -> None:
        """A call went well: the incident ends once calls have gone well for SETTLE."""
        if self._began is None or self._last_failure is None:
            return
        now = self._clock()
        if self._recovered is None:
            self._recovered = now
        self._settle(now)

    def _settle(self, now: datetime) -> None:
        """End the incident if calls went well for SETTLE since its last failure."""
        if self._recovered is None or self._began is None or self._last_failure is None:
            return
        if now - self._last_failure < SETTLE:
            return
        lasted = (self._recovered - self._began).total_seconds()
        log.info("%s answers again; it did not for %.0f s", self._what, lasted)
        self._began = self._last_failure = self._recovered = None


class Incidents:
    """The incidents one process tracks."""

    def __init__(self, clock: Clock) -> None:
        self.database = Incident("the database", clock)
        self.telegram = Incident("Telegram", clock)
