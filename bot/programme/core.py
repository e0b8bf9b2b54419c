"""What the plan's parts share: the facts the rules replay, the user's days and due
times, the shapes the plan is shown in, and the service's base (`ProgrammeCore`).

Days are the user's own (their zone, or the deployment's): the next-day check comes at
NEXT_DAY_AT on the day after a practice, the weekly summary at SUMMARY_AT on the plan's
summary day, both found with zoneinfo, so summer time moves neither."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta, tzinfo

from apscheduler.triggers.cron import CronTrigger

from bot.clock import Clock
from bot.models import (
    Goal,
    Plan,
    Practice,
    PracticeStatus,
    ProgrammeEvent,
    ProgrammeEventKind,
    ScreenAnswer,
    StopReason,
)
from bot.programme.rules import (
    Change,
    CheckedIn,
    Fact,
    NextDay,
    NextDayAnswered,
    Paused,
    PauseWhy,
    PracticeEnded,
    Programme,
    ProgrammeState,
    Resumed,
    Runs,
    Why,
)
from bot.reminders import DAY_NAMES
from bot.safety import ScreenStatus, screen_status
from bot.store import Store, UnitOfWork
from bot.timezones import user_zone, user_zone_name, zone
from bot.user_settings import UserSettings
from sequences import YogaClass

# The next-day check: the morning after a practice, in the user's zone; dropped if it
# could not go out by NEXT_DAY_LATE after that (the bot was down), as the morning is gone.
NEXT_DAY_AT = time(9, 0)


NEXT_DAY_LATE = timedelta(hours=6)


# The weekly summary: early evening of the plan's summary day; a later one is not sent.
SUMMARY_AT = time(18, 0)


SUMMARY_LATE = timedelta(hours=6)


DEFAULT_SUMMARY_DAY = 6  # Sunday


ONE_MICROSECOND = timedelta(microseconds=1)


class NoProgramme(Exception):
    """The class has no programme in its file: no plan can be made with it."""


@dataclass(frozen=True)
class NextPractice:
    """What the next practice runs as, and how it compares with the stage."""

    runs: Runs
    # The user's own settings are easier than the stage: their choice, always allowed.
    easier_by_choice: bool


@dataclass(frozen=True)
class PlanView:
    goal: Goal
    days: str
    week: int
    weeks: int
    done_this_week: int
    planned_this_week: int
    stage: int
    stages: tuple[str, ...]
    next: NextPractice
    # What last changed the plan (a stage move, a pause), and the good practices since.
    last_change: Change | None
    good_run: int
    good_needed: int
    # A good practice waits for the next-day check (or the next check-in) to count.
    waiting: bool
    # The class's "good" (at most this after a class, out of 10).
    good_at_most: int
    paused: PauseWhy | None
    # A sign reported today: the plan cannot resume before tomorrow.
    sign_today: bool
    # The user's reminder time, or None; reminders turned off (/remind off).
    reminder_at: time | None
    reminders_off: bool
    summary_day: int
    today: date
    # The user's own day the plan paused, while it is paused.
    paused_on: date | None = None

    @property
    def stage_title(self) -> str:
        return self.stages[self.stage]

    @property
    def complete(self) -> bool:
        return self.week > self.weeks


@dataclass(frozen=True)
class NoPlan:
    # The class can have a plan (its file has a programme).
    available: bool
    # A plan was stopped: starting again begins a new one.
    stopped_before: bool = False


@dataclass(frozen=True)
class NextDayHeard:
    answer: NextDay
    # The stage change the answer made, if any.
    change: Change | None
    stage_title: str
    # The stage now (0 the gentlest).
    stage: int = 0


def local_day(moment: datetime, local: tzinfo) -> date:
    return moment.astimezone(local).date()


def at_local(day: date, clock_time: time, local: tzinfo) -> datetime:
    """A wall-clock time on a day in the user's zone, as UTC (zoneinfo resolves a time that
    summer time skips or repeats, fold 0)."""
    return datetime.combine(day, clock_time, tzinfo=local).astimezone(UTC)


def next_summary_at(summary_day: int, zone_name: str, after: datetime) -> datetime:
    trigger = CronTrigger(
        day_of_week=DAY_NAMES[summary_day],
        hour=SUMMARY_AT.hour,
        minute=SUMMARY_AT.minute,
        timezone=zone(zone_name),
    )
    fire: datetime | None = trigger.get_next_fire_time(None, after.astimezone(UTC))
    assert fire is not None  # a cron trigger without an end always has a next time
    return fire.astimezone(UTC)


def facts_of(
    practices: Sequence[Practice], events: Sequence[ProgrammeEvent], local: tzinfo
) -> list[Fact]:
    """The rules' facts from what the store keeps."""
    facts: list[Fact] = []
    for practice in practices:
        day = local_day(practice.started_at, local)
        facts.append(CheckedIn(practice.id, practice.started_at, day, practice.back_before))
        ended = practice.finished_at
        if ended is None or practice.status not in (
            PracticeStatus.FINISHED,
            PracticeStatus.STOPPED,
        ):
            continue
        if practice.stop_reason in (StopReason.REPLACED, StopReason.UNREACHABLE):
            continue  # not the user's doing: it says nothing of their back
        facts.append(
            PracticeEnded(
                practice.id,
                ended,
                local_day(ended, local),
                practice.back_before,
                practice.back_after,
                practice.plan_stage,
                finished=practice.status == PracticeStatus.FINISHED,
                stopped_for_pain=practice.stop_reason == StopReason.FOR_PAIN,
            )
        )
    for event in events:
        if event.kind == ProgrammeEventKind.NEXT_DAY and event.practice_id and event.value:
            facts.append(NextDayAnswered(event.practice_id, event.at, NextDay(event.value)))
        elif event.kind == ProgrammeEventKind.PAUSED:
            facts.append(Paused(event.at, PauseWhy(event.value or PauseWhy.CLINICIAN)))
        elif event.kind == ProgrammeEventKind.RESUMED:
            facts.append(Resumed(event.at))
    return facts


def chosen_runs(settings: UserSettings) -> Runs:
    """How the user's own /settings would run a practice."""
    return Runs(settings.class_length.value, settings.easier_mode.value, settings.pace.value)


@dataclass(frozen=True)
class StageAllowed:
    """What a plan allows the practice about to start."""

    stage: int
    runs: Runs
    stages: int
    paused: bool = False


def last_telling(history: Sequence[Change]) -> Change | None:
    """The change that explains the stage now: the last one (a stay at the first stage
    after a flare says why as much as a move does)."""
    return history[-1] if history else None


def paused_on(state: ProgrammeState, local: tzinfo) -> date | None:
    if state.paused is None:
        return None
    paused = [c for c in state.history if c.why == Why.PAUSED]
    return local_day(paused[-1].at, local) if paused else None


def sign_today(
    answer: ScreenAnswer | None, answered_at: datetime | None, now: datetime, local: tzinfo
) -> bool:
    status = screen_status(answer, answered_at, now, local)
    return status in (ScreenStatus.SEE_CLINICIAN_TODAY, ScreenStatus.URGENT_TODAY)


def mean_of(values: Sequence[int | None]) -> float | None:
    known = [v for v in values if v is not None]
    return sum(known) / len(known) if known else None


class ProgrammeCore:
    def __init__(
        self,
        store: Store,
        catalog: dict[str, YogaClass],
        clock: Clock,
        default_zone: str,
        default_class_id: str | None = None,
    ) -> None:
        self._store = store
        self._catalog = catalog
        self._clock = clock
        self._default_zone = default_zone
        self._default_class_id = default_class_id or next(iter(catalog))

    def programme_of(self, class_id: str) -> Programme | None:
        yoga_class = self._catalog.get(class_id)
        if yoga_class is None or yoga_class.programme is None:
            return None
        return Programme(yoga_class.programme.stages, yoga_class.programme.rules)

    async def state_in(
        self, uow: UnitOfWork, plan: Plan, local: tzinfo, *, starting: CheckedIn | None = None
    ) -> ProgrammeState | None:
        """The plan's state, replayed from its facts (and a practice about to start)."""
        programme = self.programme_of(plan.class_id)
        if programme is None:
            return None
        practices = await uow.plans.practices_since(plan.user_id, plan.started_at)
        events = await uow.plans.events_since(plan.user_id, plan.started_at)
        facts = facts_of(practices, events, local)
        if starting is not None:
            facts.append(starting)
        return programme.replay(plan.started_at, facts)

    def _weeks(self, class_id: str) -> int:
        yoga_class = self._catalog.get(class_id)
        return yoga_class.programme.weeks if yoga_class and yoga_class.programme else 12

    async def _zone_name_in(self, uow: UnitOfWork, user_id: int) -> str:
        return user_zone_name(await uow.users.timezone_of(user_id), self._default_zone)[0]

    async def _zone_in(self, uow: UnitOfWork, user_id: int) -> tzinfo:
        return user_zone(await uow.users.timezone_of(user_id), self._default_zone)
