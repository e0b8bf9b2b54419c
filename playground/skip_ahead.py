"""Skip ahead: the playground's way to see what a day or a week brings (the next-day
check at 09:00, Sunday's summary at 18:00) without waiting. The bot's clock moves forward
to that moment in the user's own zone, and the reminder tick runs at once, as it would
there. Refused while a class is open: its holds would all be over at once."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, time, timedelta
from enum import StrEnum
from zoneinfo import ZoneInfo

from bot.clock import MovableClock
from bot.services import Services
from handlers.context import SERVICES, YogaApp
from handlers.reminder_tick import TICK_NAME


class SkipTo(StrEnum):
    MORNING = "morning"
    SUNDAY = "sunday"


# When each lands, in the user's zone: the next-day check's time, the summary's.
LANDS_AT = {SkipTo.MORNING: time(9, 0), SkipTo.SUNDAY: time(18, 0)}
CLASS_OPEN = "Finish or stop the class first: its poses would all be over at once."


@dataclass(frozen=True)
class Skipped:
    # The bot's time now, in the user's zone.
    now: datetime
    zone: str


class SkipAhead:
    def __init__(self, application: YogaApp, clock: MovableClock, user_id: int) -> None:
        self._application = application
        self._clock = clock
        self._user_id = user_id

    async def now(self) -> Skipped:
        zone = (await self._services.reminders.status(self._user_id)).zone
        return Skipped(self._clock().astimezone(ZoneInfo(zone)), zone)

    async def to(self, where: SkipTo) -> Skipped | str:
        """Move to tomorrow's 09:00, or the next Sunday's 18:00 (strictly later), and run the
        tick; the refusal's words when a class is open."""
        services = self._services
        if await services.practice.open_for_player(self._user_id) is not None:
            return CLASS_OPEN
        local = (await self.now()).now
        # Tomorrow's morning, even from just after midnight: the next-day check comes the
        # calendar day after a practice, so "this morning" would show nothing.
        first = local.date() + timedelta(days=1 if where == SkipTo.MORNING else 0)
        target = datetime.combine(first, LANDS_AT[where], tzinfo=local.tzinfo)
        while target <= local or (where == SkipTo.SUNDAY and target.weekday() != 6):
            target = datetime.combine(
                target.date() + timedelta(days=1), LANDS_AT[where], tzinfo=local.tzinfo
            )
        self._clock.move_to(target)
        await self.tick()
        return await self.now()

    async def tick(self) -> None:
        """The reminder tick, now (it sends what plans owe too)."""
        job_queue = self._application.job_queue
        assert job_queue is not None
        for job in job_queue.get_jobs_by_name(TICK_NAME):
            await job.run(self._application)

    @property
    def _services(self) -> Services:
        services: Services = self._application.bot_data[SERVICES]
        return services
