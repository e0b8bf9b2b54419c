"""Daily practice reminders: when each user's reminder is due, and what the tick may send.

Plain Python over the store; it never talks to Telegram. Due times come from APScheduler's
CronTrigger in the user's own zone, so 07:30 stays 07:30 local across daylight-saving
changes, and are stored in UTC. The tick claims due rows (writing the day it reminds and the
next due time) before anything is sent, a few at a time just ahead of their sends
(bot/reminder_dispatch.py): a crash loses the reminders claimed and not yet sent, but
nothing can ever send the same day's reminder twice.
"""

from __future__ import annotations

import functools
import logging
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, replace
from datetime import UTC, date, datetime, timedelta
from enum import StrEnum

from apscheduler.triggers.cron import CronTrigger

from bot.clock import Clock
from bot.models import Reminder
from bot.places import Place
from bot.safety import felt_worse
from bot.store import Claim, DueRow, Store, UnitOfWork
from bot.timezones import (
    ZoneChoices,
    ZoneFinder,
    canonical_zone,
    find_zone,
    is_fixed,
    user_zone_name,
    zone,
)

log = logging.getLogger(__name__)

# A reminder this late (the bot was down) is no longer a nudge to practise now.
LATE_LIMIT = timedelta(hours=2)
SNOOZE = timedelta(minutes=30)
# A practice that left the back worse is mentioned in the reminders of the next two days.
HARD_DAY_REMEMBERED = timedelta(days=2)
# A send that failed on the network is tried again about one tick later, this often at most.
RETRY_DELAY = timedelta(seconds=20)
MAX_ATTEMPTS = 3

EVERY_DAY = "*"
DAY_NAMES = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
_FULL_DAY_NAMES = ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")
_DAY_GROUPS = {
    "daily": range(7),
    "everyday": range(7),
    "weekdays": range(5),
    "weekday": range(5),
    "weekends": range(5, 7),
    "weekend": range(5, 7),
}
# The ways people write a time of day: "07:30", "7.30", "19h30", "19h", "0730", "730",
# and with am/pm: "7:30pm", "7pm", "7.30 p.m.".
_TIME = re.compile(r"^(\d{1,2})(?:[:.h](\d{2})|h)$")
_DIGITS_ONLY = re.compile(r"^(\d{1,2})(\d{2})$")
_TWELVE_HOUR = re.compile(r"^(\d{1,2})(?:[:.h]?(\d{2}))?(a|p)\.?m\.?$")
_AM_PM = {"am", "pm", "a.m.", "p.m.", "a.m", "p.m"}
_ONE_MICROSECOND = timedelta(microseconds=1)


class InputProblem(StrEnum):
    OFF_TAKES_NOTHING = "off_takes_nothing"
    NEEDS_MINUTES = "needs_minutes"
    NOT_A_TIME = "not_a_time"
    NOT_A_TIME_OF_DAY = "not_a_time_of_day"
    UNKNOWN_DAY = "unknown_day"
    NO_DAYS = "no_days"
    UNKNOWN_ZONE = "unknown_zone"


class ReminderInputError(ValueError):
    """The user's input cannot be used: which problem, and the part of it at fault."""

    def __init__(self, problem: InputProblem, given: str = "") -> None:
        super().__init__(f"{problem}: {given!r}")
        self.problem = problem
        self.given = given


@dataclass(frozen=True)
class Schedule:
    hour: int
    minute: int
    # An APScheduler day_of_week expression: "*" or days in week order, e.g. "mon,wed,fri".
    days: str = EVERY_DAY


@dataclass(frozen=True)
class TurnOff:
    pass


@dataclass(frozen=True)
class ReminderStatus:
    """What the user's reminders look like now, in their own zone."""

    schedule: Schedule | None  # None: reminders are off
    zone: str
    zone_is_default: bool
    now: datetime  # local
    next_at: datetime | None  # local; a pending snooze counts as the next reminder
    # A time was chosen before the user's zone was known: it starts once the zone is set.
    waiting_for_zone: bool = False
    # A plan runs: the schedule's days are the plan's (/plan).
    follows_plan: bool = False

    @property
    def zone_is_fixed(self) -> bool:
        """An offset such as UTC+02:00: its clock never changes for summer time."""
        return is_fixed(self.zone)


@dataclass(frozen=True)
class ZoneSet:
    """A zone set from what the user typed: the city it was found by, if any, and the
    smaller places of that name elsewhere."""

    status: ReminderStatus
    place: Place | None = None
    others: tuple[Place, ...] = ()


@dataclass(frozen=True)
class DueReminder:
    """A claimed reminder the caller should now send, once."""

    user_id: int
    chat_id: int
    day: date
    attempt: int
    # The last practice, lately, left the user's back worse: the reminder says so kindly.
    after_a_hard_day: bool = False
    # The plan's practice yesterday was missed: today, a free day, takes it (once).
    make_up: bool = False


@dataclass(frozen=True)
class ClaimResult:
    reminders: list[DueReminder]
    more: bool  # the batch was full: more rows may be due


# -- parsing what the user typed ---------------------------------------------------------


def parse_remind(args: Sequence[str]) -> Schedule | TurnOff | None:
    """The arguments of /remind: None (show the setting), TurnOff, or a Schedule."""
    if not args:
        return None
    first, rest = args[0], list(args[1:])
    if rest and rest[0].lower() in _AM_PM:  # "7:30 pm"
        first, rest = first + rest[0], rest[1:]
    if first.lower() == "off":
        if rest:
            raise ReminderInputError(InputProblem.OFF_TAKES_NOTHING, " ".join(rest))
        return TurnOff()
    hour, minute = parse_time(first)
    return Schedule(hour, minute, parse_days(rest) if rest else EVERY_DAY)


def parse_time(text: str) -> tuple[int, int]:
    shown = text[:20]
    typed = text.strip().lower()
    if twelve := _TWELVE_HOUR.match(typed):
        hour, minute = int(twelve[1]), int(twelve[2] or 0)
        if not 1 <= hour <= 12 or minute > 59:
            raise ReminderInputError(InputProblem.NOT_A_TIME_OF_DAY, shown)
        # 12am is midnight, 12pm noon.
        return hour % 12 + (12 if twelve[3] == "p" else 0), minute
    match = _TIME.match(typed) or _DIGITS_ONLY.match(typed)
    if match is None:
        if typed.isdigit() and len(typed) <= 2:
            raise ReminderInputError(InputProblem.NEEDS_MINUTES, shown)
        raise ReminderInputError(InputProblem.NOT_A_TIME, shown)
    hour, minute = int(match[1]), int(match[2] or 0)
    if hour > 23 or minute > 59:
        raise ReminderInputError(InputProblem.NOT_A_TIME_OF_DAY, shown)
    return hour, minute


def parse_days(words: Sequence[str]) -> str:
    """ "mon,wed,fri", "Mon Wed Fri", "weekdays", "sat-sun" … → canonical day_of_week."""
    chosen: set[int] = set()
    for token in re.split(r"[,\s]+", " ".join(words).lower()):
        if token:
            chosen.update(_days_of(token))
    if not chosen:  # only separators, e.g. "/remind 07:30 ,,,"
        raise ReminderInputError(InputProblem.NO_DAYS, " ".join(words)[:20])
    if len(chosen) == 7:
        return EVERY_DAY
    return ",".join(DAY_NAMES[i] for i in sorted(chosen))


def _days_of(token: str) -> Iterable[int]:
    if token in _DAY_GROUPS:
        return _DAY_GROUPS[token]
    first, dash, last = token.partition("-")
    if dash:
        start, end = _day_index(first, token), _day_index(last, token)
        return [(start + n) % 7 for n in range((end - start) % 7 + 1)]
    return [_day_index(token, token)]


def _day_index(word: str, token: str) -> int:
    if len(word) >= 3:
        for index, name in enumerate(_FULL_DAY_NAMES):
            if name.startswith(word):
                return index
    raise ReminderInputError(InputProblem.UNKNOWN_DAY, token[:20])


# -- due times ---------------------------------------------------------------------------


@functools.lru_cache(maxsize=4096)
def _trigger(hour: int, minute: int, days: str, zone_name: str) -> CronTrigger:
    return CronTrigger(hour=hour, minute=minute, day_of_week=days, timezone=zone(zone_name))


def next_due(schedule: Schedule, zone_name: str, after: datetime) -> datetime:
    """The first reminder time at or after `after`, in UTC."""
    return _next_fire(_trigger(schedule.hour, schedule.minute, schedule.days, zone_name), after)


def _next_fire(trigger: CronTrigger, after: datetime) -> datetime:
    fire: datetime | None = trigger.get_next_fire_time(None, after.astimezone(UTC))
    if fire is None:  # a cron trigger without an end date always has a next time
        raise RuntimeError("reminder schedule has no next time")
    # Normalised to UTC: APScheduler may hand back a non-existent local time (spring
    # forward) whose wall clock reads wrong until converted.
    return fire.astimezone(UTC)


def _next_unclaimed(
    trigger: CronTrigger, after: datetime, claimed: str | None, zone_name: str
) -> datetime:
    """The next reminder time whose local date has not had its reminder yet.

    Arithmetic stays in UTC: in the repeated hour of autumn, local times are ambiguous and
    a local "plus one microsecond" would land on the same reminder again."""
    fire = _next_fire(trigger, after)
    # One reminder a day at most, so two steps always leave the claimed date behind (the
    # second covers a time that occurs twice when clocks go back).
    for _ in range(2):
        if claimed is None or _local_day(fire, zone_name).isoformat() != claimed:
            break
        fire = _next_fire(trigger, fire + _ONE_MICROSECOND)
    return fire


def _local_day(moment: datetime, zone_name: str) -> date:
    return moment.astimezone(zone(zone_name)).date()


# -- the plan's days ----------------------------------------------------------------------


def plan_day(plan_days: str, day: date, practised_on: set[date]) -> tuple[bool, bool]:
    """(a plan day, a make-up day) for a local day. A plan day that passed without a
    practice moves to the next day when that one is free (not a plan day), once: a day
    after a free day is never a make-up day, so missed days never stack up."""
    weekdays = weekdays_of(plan_days)
    if day.weekday() in weekdays:
        return True, False
    yesterday = day - timedelta(days=1)
    return False, yesterday.weekday() in weekdays and yesterday not in practised_on


def weekdays_of(days: str) -> frozenset[int]:
    """The weekdays (0 Monday) of a day_of_week expression."""
    if days == EVERY_DAY:
        return frozenset(range(7))
    return frozenset(DAY_NAMES.index(name) for name in days.split(","))


# -- the service -------------------------------------------------------------------------


@dataclass(frozen=True)
class _Decision:
    claim: Claim
    send: DueReminder | None


def _up_to_sends(decisions: Iterable[_Decision], sends: int) -> list[_Decision]:
    """The decisions in order, up to and including the `sends`-th that sends."""
    kept: list[_Decision] = []
    for decision in decisions:
        kept.append(decision)
        if decision.send is not None:
            sends -= 1
            if sends == 0:
                break
    return kept


class ReminderService:
    def __init__(
        self,
        store: Store,
        clock: Clock,
        default_zone: str = "UTC",
        finder: ZoneFinder | None = None,
    ) -> None:
        self._store = store
        self._clock = clock
        self._default_zone = canonical_zone(default_zone) or "UTC"
        self._finder = finder or ZoneFinder()

    # -- what the user asks for ----------------------------------------------------------

    async def status(self, user_id: int) -> ReminderStatus:
        async with self._store.read() as uow:
            return await self._status(uow, user_id)

    async def set_schedule(
        self, user_id: int, chat_id: int, first_name: str, schedule: Schedule
    ) -> ReminderStatus:
        async with self._store.write() as uow:
            await self._save(uow, user_id, chat_id, first_name, schedule)
            return await self._status(uow, user_id)

    async def set_time(
        self, user_id: int, chat_id: int, first_name: str, hour: int, minute: int
    ) -> ReminderStatus:
        """A new time from a button: the days the user chose before are kept. Before the
        user has a zone of their own, the time waits for it (`waiting_for_zone`) rather
        than falling due in the deployment's zone: one tap is too quick a way to agree to
        07:00 UTC."""
        async with self._store.write() as uow:
            existing = await uow.reminders.get(user_id)
            days = existing.days if existing is not None else EVERY_DAY
            schedule = Schedule(hour, minute, days)
            _, no_own_zone = await self._zone_of(uow, user_id)
            await self._save(uow, user_id, chat_id, first_name, schedule, wait=no_own_zone)
            return await self._status(uow, user_id)

    async def turn_off(self, user_id: int) -> ReminderStatus:
        async with self._store.write() as uow:
            await uow.reminders.turn_off(user_id)
            return await self._status(uow, user_id)

    async def set_timezone(
        self, user_id: int, chat_id: int, first_name: str, name: str
    ) -> ReminderStatus:
        canonical = canonical_zone(name)
        if canonical is None:
            raise ReminderInputError(InputProblem.UNKNOWN_ZONE, name[:40])
        async with self._store.write() as uow:
            await uow.users.save(user_id, chat_id, first_name, self._clock())
            await uow.users.set_timezone(user_id, canonical)
            await self._reschedule(uow, user_id, canonical)
            return await self._status(uow, user_id)

    async def set_timezone_as_typed(
        self, user_id: int, chat_id: int, first_name: str, typed: str
    ) -> ZoneSet | ZoneChoices:
        """/timezone with a zone name, an offset or a city (bot.timezones.find_zone); the
        places to choose from when the name is of several, far apart."""
        found = find_zone(typed)
        if found is None:
            raise ReminderInputError(InputProblem.UNKNOWN_ZONE, " ".join(typed.split())[:40])
        if isinstance(found, ZoneChoices):
            return found
        status = await self.set_timezone(user_id, chat_id, first_name, found.zone)
        return ZoneSet(status, found.place, found.others)

    async def set_timezone_at(
        self, user_id: int, chat_id: int, first_name: str, latitude: float, longitude: float
    ) -> ReminderStatus | None:
        """The zone at a shared location; None when the map has no zone there."""
        found = await self._finder.zone_at(latitude, longitude)
        if found is None:
            return None
        return await self.set_timezone(user_id, chat_id, first_name, found)

    async def snooze(self, user_id: int) -> ReminderStatus | None:
        """Remind again in 30 minutes; None when reminders are off."""
        async with self._store.write() as uow:
            found = await self._enabled_today(uow, user_id)
            if found is None:
                return None
            _, _, now, today = found
            # The snooze stands in for today's reminder, so today's is claimed as well.
            await uow.reminders.move(
                user_id, next_due_at=now + SNOOZE, claimed_for=today, repeat_of=today
            )
            return await self._status(uow, user_id)

    async def skip_today(self, user_id: int) -> ReminderStatus | None:
        """No more reminders today (a pending snooze included); None when reminders are off."""
        async with self._store.write() as uow:
            found = await self._enabled_today(uow, user_id)
            if found is None:
                return None
            reminder, zone_name, now, today = found
            trigger = _trigger(reminder.hour, reminder.minute, reminder.days, zone_name)
            await uow.reminders.move(
                user_id,
                next_due_at=_next_unclaimed(trigger, now, today, zone_name),
                claimed_for=today,
                repeat_of=None,
            )
            return await self._status(uow, user_id)

    async def _save(
        self,
        uow: UnitOfWork,
        user_id: int,
        chat_id: int,
        first_name: str,
        schedule: Schedule,
        *,
        wait: bool = False,
    ) -> None:
        """Save the schedule, due at its next time; with `wait`, due at no time until the
        user's zone is set (_reschedule)."""
        now = self._clock()
        await uow.users.save(user_id, chat_id, first_name, now)
        zone_name, _ = await self._zone_of(uow, user_id)
        existing = await uow.reminders.get(user_id)
        trigger = _trigger(schedule.hour, schedule.minute, schedule.days, zone_name)
        # The day already reminded stays claimed: a new time later today waits for tomorrow.
        claimed = existing.claimed_for if existing is not None else None
        await uow.reminders.save_schedule(
            user_id,
            chat_id,
            hour=schedule.hour,
            minute=schedule.minute,
            days=schedule.days,
            next_due_at=None if wait else _next_unclaimed(trigger, now, claimed, zone_name),
        )

    async def _enabled_today(
        self, uow: UnitOfWork, user_id: int
    ) -> tuple[Reminder, str, datetime, str] | None:
        """The user's reminder, zone, now and local day (ISO), or None when reminders are off."""
        reminder = await uow.reminders.get(user_id)
        if reminder is None or not reminder.enabled:
            return None
        zone_name, _ = await self._zone_of(uow, user_id)
        now = self._clock()
        return reminder, zone_name, now, _local_day(now, zone_name).isoformat()

    # -- what the tick does --------------------------------------------------------------

    async def claim_due(self, limit: int, *, look_at: int | None = None) -> ClaimResult:
        """Claim up to `limit` due reminders to send, oldest first, looking at no more than
        `look_at` due rows (`limit` unless more).

        Every row looked at up to the `limit`-th send is moved on to its next time; rows
        that are too late, already reminded or already practised that local day are moved
        on without a send. Rows after the `limit`-th send stay due for the next claim, so
        however many rows are looked at, at most `limit` reminders wait to be sent."""
        now = self._clock()
        look_at = max(limit, look_at or limit)
        async with self._store.write() as uow:
            rows = await uow.reminders.due(now, look_at)
            if not rows:
                return ClaimResult([], more=False)
            # A practice finished on a reminder's local day, or on the plan day before it:
            # those days are at most ~3 days back.
            finished = await uow.reminders.finished_since(
                {row.user_id for row in rows}, now - LATE_LIMIT - timedelta(days=3)
            )
            decisions = _up_to_sends(
                (self._decide(row, now, finished.get(row.user_id, [])) for row in rows), limit
            )
            won = await uow.reminders.claim([d.claim for d in decisions])
            to_send = [d.send for d in decisions if d.send is not None and d.claim.user_id in won]
            latest = await uow.practices.latest_of_each([r.user_id for r in to_send])
        hard = {
            user_id
            for user_id, practice in latest.items()
            if felt_worse(practice.back_before, practice.back_after)
            and practice.finished_at is not None
            and now - practice.finished_at < HARD_DAY_REMEMBERED
        }
        to_send = [replace(r, after_a_hard_day=r.user_id in hard) for r in to_send]
        return ClaimResult(to_send, more=len(rows) == look_at or len(decisions) < len(rows))

    async def delivery_failed(self, reminder: DueReminder) -> bool:
        """A network failure: try again on a later tick, a few times; True if it will."""
        if reminder.attempt >= MAX_ATTEMPTS:
            log.warning(
                "reminder for user %s (%s) failed %d times; giving up on it",
                reminder.user_id,
                reminder.day,
                reminder.attempt,
            )
            return False
        async with self._store.write() as uow:
            return await uow.reminders.retry_later(
                reminder.user_id,
                reminder.day.isoformat(),
                self._clock() + RETRY_DELAY,
                failures=reminder.attempt,
            )

    # -- internals -----------------------------------------------------------------------

    def _decide(self, row: DueRow, now: datetime, finished: list[datetime]) -> _Decision:
        zone_name, _ = user_zone_name(row.timezone, self._default_zone)
        # With a plan, every day is looked at, and the plan says which get a reminder.
        days = EVERY_DAY if row.plan_days is not None else row.days
        trigger = _trigger(row.hour, row.minute, days, zone_name)
        if row.repeat_of is not None:
            # A snooze or a retry: it re-delivers a day already claimed.
            occurrence: datetime | None = row.next_due_at
            day: date | None = date.fromisoformat(row.repeat_of)
            fresh = True
        else:
            occurrence = row.next_due_at
            if now - occurrence >= LATE_LIMIT:
                # Down for longer: only an occurrence within the last two hours still counts.
                latest = _next_fire(trigger, now - LATE_LIMIT + _ONE_MICROSECOND)
                occurrence = latest if latest <= now else None
            day = _local_day(occurrence, zone_name) if occurrence is not None else None
            fresh = day is not None and day.isoformat() != row.claimed_for
        on_time = occurrence is not None and now - occurrence < LATE_LIMIT
        practised_on = {_local_day(f, zone_name) for f in finished}
        practised = day is not None and day in practised_on
        make_up = False
        if row.plan_days is not None and day is not None and row.repeat_of is None:
            planned, make_up = plan_day(row.plan_days, day, practised_on)
            fresh = fresh and (planned or make_up)
        send = on_time and fresh and not practised
        claimed = day.isoformat() if day is not None and (send or practised) else row.claimed_for
        claim = Claim(
            user_id=row.user_id,
            seen_due_at=row.next_due_at,
            seen_repeat_of=row.repeat_of,
            next_due_at=_next_unclaimed(trigger, now, claimed, zone_name),
            claimed_for=claimed,
            failures=row.failures if row.repeat_of is not None else 0,
        )
        if not send or day is None:
            return _Decision(claim, None)
        attempt = row.failures + 1 if row.repeat_of is not None else 1
        return _Decision(
            claim, DueReminder(row.user_id, row.chat_id, day, attempt, make_up=make_up)
        )

    async def _zone_of(self, uow: UnitOfWork, user_id: int) -> tuple[str, bool]:
        return user_zone_name(await uow.users.timezone_of(user_id), self._default_zone)

    async def _reschedule(self, uow: UnitOfWork, user_id: int, zone_name: str) -> None:
        """After a zone change the same local time is a different instant."""
        reminder = await uow.reminders.get(user_id)
        if reminder is None or not reminder.enabled or reminder.repeat_of is not None:
            return  # off, or a snooze/retry at a fixed instant that the next claim moves on
        trigger = _trigger(reminder.hour, reminder.minute, reminder.days, zone_name)
        await uow.reminders.move(
            user_id,
            next_due_at=_next_unclaimed(trigger, self._clock(), reminder.claimed_for, zone_name),
            claimed_for=reminder.claimed_for,
            repeat_of=None,
        )

    async def _status(self, uow: UnitOfWork, user_id: int) -> ReminderStatus:
        zone_name, is_default = await self._zone_of(uow, user_id)
        reminder = await uow.reminders.get(user_id)
        local = zone(zone_name)
        now = self._clock().astimezone(local)
        if reminder is None or not reminder.enabled:
            return ReminderStatus(None, zone_name, is_default, now, None)
        next_at = reminder.next_due_at.astimezone(local) if reminder.next_due_at else None
        schedule = Schedule(reminder.hour, reminder.minute, reminder.days)
        waiting = reminder.next_due_at is None and reminder.repeat_of is None
        plan = await uow.plans.active(user_id)
        if plan is not None:
            # The plan's days, not the reminder's own: the next one is on a plan day (or,
            # after a missed one, the free day after it, which cannot be known ahead).
            schedule = Schedule(reminder.hour, reminder.minute, plan.days)
            if next_at is not None and reminder.repeat_of is None:
                next_at = next_due(schedule, zone_name, next_at).astimezone(local)
        return ReminderStatus(
            schedule, zone_name, is_default, now, next_at, waiting, follows_plan=plan is not None
        )
