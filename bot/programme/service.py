"""The plan over weeks: start it, read where it stands, hear the next-day answer, and owe
its messages (the next-day check, the weekly summary). The rules are `rules.py`'s; this
module gathers the facts for them from the store and keeps the plan's due times.

Days are the user's own (their zone, or the deployment's): the next-day check comes at
NEXT_DAY_AT on the day after a practice, the weekly summary at SUMMARY_AT on the plan's
summary day, both found with zoneinfo, so summer time moves neither.
"""

from __future__ import annotations

import logging
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
from bot.practice.machine import EventKind
from bot.programme.rules import (
    DEFAULT_DAYS,
    PER_WEEK,
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
    capped,
    stage_runs,
    week_days,
    week_of,
)
from bot.reminders import DAY_NAMES, ReminderInputError, parse_days, weekdays_of
from bot.safety import ScreenStatus, screen_status
from bot.store import Store, UnitOfWork
from bot.store.plans import DuePlan
from bot.timezones import user_zone, user_zone_name, zone
from bot.user_settings import UserSettings, settings_in
from sequences import YogaClass

log = logging.getLogger(__name__)

# The next-day check: the morning after a practice, in the user's zone; dropped if it
# could not go out by NEXT_DAY_LATE after that (the bot was down), as the morning is gone.
NEXT_DAY_AT = time(9, 0)
NEXT_DAY_LATE = timedelta(hours=6)
# The weekly summary: early evening of the plan's summary day; a later one is not sent.
SUMMARY_AT = time(18, 0)
SUMMARY_LATE = timedelta(hours=6)
DEFAULT_SUMMARY_DAY = 6  # Sunday
_ONE_MICROSECOND = timedelta(microseconds=1)


class PlanInputError(ValueError):
    """/plan's words cannot be used: the part at fault, or how many days the goal needs."""

    def __init__(
        self, given: str, days_needed: int | None = None, *, summary_day: bool = False
    ) -> None:
        super().__init__(given)
        self.given = given
        self.days_needed = days_needed
        # The summary's day was asked for, and not one day was named.
        self.summary_day = summary_day


@dataclass(frozen=True)
class StopPlan:
    pass


@dataclass(frozen=True)
class SetSummaryDay:
    # 0 Monday to 6 Sunday.
    day: int


@dataclass(frozen=True)
class SetGoal:
    goal: Goal
    days: str | None = None


_GOAL_WORDS = {
    "2": Goal.TWICE,
    "twice": Goal.TWICE,
    "3": Goal.THRICE,
    "thrice": Goal.THRICE,
    "daily": Goal.DAILY,
    "7": Goal.DAILY,
    "everyday": Goal.DAILY,
}


def parse_plan(args: Sequence[str]) -> SetGoal | SetSummaryDay | StopPlan | None:
    """/plan's arguments: None (show the plan), StopPlan, the weekly summary's day
    ("/plan summary fri"), or a goal with its days ("/plan 3 mon,wed,fri");
    PlanInputError for anything else."""
    if not args:
        return None
    first, rest = args[0].lower(), list(args[1:])
    if first == "summary":
        try:
            named = weekdays_of(parse_days(rest)) if rest else frozenset()
        except ReminderInputError as exc:
            raise PlanInputError(exc.given) from exc
        if len(named) != 1:
            raise PlanInputError(" ".join(rest) or first, summary_day=True)
        return SetSummaryDay(next(iter(named)))
    if first in ("off", "stop"):
        if rest:
            raise PlanInputError(" ".join(rest))
        return StopPlan()
    goal = _GOAL_WORDS.get(first)
    if goal is None:
        raise PlanInputError(args[0])
    if not rest:
        return SetGoal(goal)
    if goal == Goal.DAILY:
        raise PlanInputError(" ".join(rest))
    try:
        days = parse_days(rest)
    except ReminderInputError as exc:
        raise PlanInputError(exc.given) from exc
    if len(weekdays_of(days)) != PER_WEEK[goal]:
        raise PlanInputError(" ".join(rest), days_needed=PER_WEEK[goal])
    return SetGoal(goal, days)


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
class NextDayCheck:
    """Owed: the morning after a practice, how the back is."""

    user_id: int
    chat_id: int
    practice_id: int


@dataclass(frozen=True)
class NextDayHeard:
    answer: NextDay
    # The stage change the answer made, if any.
    change: Change | None
    stage_title: str


@dataclass(frozen=True)
class WeeklySummary:
    user_id: int
    chat_id: int
    first_day: date
    last_day: date
    practices: int
    planned: int
    minutes: int
    # Averages over the week's practices with both scores.
    back_before: float | None
    back_after: float | None
    changes: tuple[Change, ...]
    stage_title: str
    next_stage_title: str | None
    good_run: int
    good_needed: int
    paused: PauseWhy | None
    week: int
    weeks: int


@dataclass(frozen=True)
class QuietWeek:
    """A week with no practice: one kind note (the next quiet week gets none)."""

    user_id: int
    chat_id: int


PlanMessage = NextDayCheck | WeeklySummary | QuietWeek


@dataclass(frozen=True)
class PlanClaim:
    messages: list[PlanMessage]
    # A batch came back full: more may be due.
    more: bool


def _local_day(moment: datetime, local: tzinfo) -> date:
    return moment.astimezone(local).date()


def _at(day: date, clock_time: time, local: tzinfo) -> datetime:
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
        day = _local_day(practice.started_at, local)
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
                _local_day(ended, local),
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


_TYPED_ANSWERS = {"better": NextDay.BETTER, "same": NextDay.SAME, "worse": NextDay.WORSE}


def next_day_in(text: str) -> NextDay | None:
    """The next-day answer typed as one word ("Better", "same.", "WORSE!"), or None."""
    return _TYPED_ANSWERS.get(text.strip().strip(".!").strip().lower())


def chosen_runs(settings: UserSettings) -> Runs:
    """How the user's own /settings would run a practice."""
    return Runs(settings.class_length.value, settings.easier_mode.value, settings.pace.value)


@dataclass(frozen=True)
class StageAllowed:
    """What a plan allows the practice about to start."""

    stage: int
    runs: Runs
    stages: int


class ProgrammeService:
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

    # -- the rules for a class ----------------------------------------------------------------

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

    async def allowed_for_start(
        self, uow: UnitOfWork, user_id: int, class_id: str, back_before: int | None
    ) -> StageAllowed | None:
        """What the plan allows a practice of this class starting now, inside the unit of
        work that starts it; None without a plan for it. A paused plan allows its first
        stage only."""
        plan = await uow.plans.active(user_id)
        if plan is None or plan.class_id != class_id:
            return None
        programme = self.programme_of(class_id)
        if programme is None:
            return None
        now = self._clock()
        local = await self._zone_in(uow, user_id)
        starting = CheckedIn(0, now, _local_day(now, local), back_before)
        state = await self.state_in(uow, plan, local, starting=starting)
        assert state is not None
        stage = 0 if state.paused is not None else state.stage
        return StageAllowed(
            stage, stage_runs(programme.stages[stage], plan.goal), len(programme.stages)
        )

    # -- what the user asks for -------------------------------------------------------------

    async def view(self, user_id: int) -> PlanView | NoPlan:
        async with self._store.read() as uow:
            plan = await uow.plans.get(user_id)
            if plan is None or plan.stopped_at is not None:
                return NoPlan(
                    self.programme_of(self._default_class_id) is not None,
                    stopped_before=plan is not None,
                )
            return await self._view(uow, plan)

    async def start(
        self,
        user_id: int,
        chat_id: int,
        first_name: str,
        goal: Goal,
        days: str | None = None,
    ) -> PlanView:
        """A plan with this goal; on an active plan, a new goal (the stage is kept)."""
        class_id = self._default_class_id
        if self.programme_of(class_id) is None:
            raise NoProgramme(class_id)
        chosen_days = days or DEFAULT_DAYS[goal]
        now = self._clock()
        async with self._store.write() as uow:
            await uow.users.save(user_id, chat_id, first_name, now)
            zone_name = await self._zone_name_in(uow, user_id)
            active = await uow.plans.active(user_id)
            if active is not None:
                await uow.plans.change_goal(user_id, goal, chosen_days)
            else:
                await uow.plans.start(
                    user_id,
                    chat_id,
                    class_id=class_id,
                    goal=goal,
                    days=chosen_days,
                    now=now,
                    started_on=_local_day(now, zone(zone_name)).isoformat(),
                    summary_due_at=next_summary_at(DEFAULT_SUMMARY_DAY, zone_name, now),
                )
            plan = await uow.plans.get(user_id)
            assert plan is not None
            return await self._view(uow, plan)

    async def stop(self, user_id: int) -> bool:
        async with self._store.write() as uow:
            return await uow.plans.stop(user_id, self._clock())

    async def resume(self, user_id: int) -> PlanView | NoPlan | None:
        """Resume a paused plan, one stage lower; None when a sign was reported today (the
        plan waits for tomorrow's screen)."""
        now = self._clock()
        async with self._store.write() as uow:
            plan = await uow.plans.active(user_id)
            if plan is None:
                return NoPlan(self.programme_of(self._default_class_id) is not None)
            user = await uow.users.get(user_id)
            local = await self._zone_in(uow, user_id)
            if user is not None and _sign_today(user.screen_answer, user.screened_at, now, local):
                return None
            state = await self.state_in(uow, plan, local)
            if state is not None and state.paused is not None:
                await uow.plans.add_event(user_id, ProgrammeEventKind.RESUMED, now)
            return await self._view(uow, plan)

    async def set_summary_day(self, user_id: int, day: int) -> PlanView | NoPlan:
        now = self._clock()
        async with self._store.write() as uow:
            plan = await uow.plans.active(user_id)
            if plan is None:
                return NoPlan(self.programme_of(self._default_class_id) is not None)
            plan.summary_day = day
            zone_name = await self._zone_name_in(uow, user_id)
            plan.summary_due_at = next_summary_at(day, zone_name, now)
            return await self._view(uow, plan)

    # -- what other services tell the plan ---------------------------------------------------

    async def after_recorded(self, uow: UnitOfWork, practice: Practice) -> None:
        """An after-practice score was stored: ask the next morning how the back is."""
        plan = await uow.plans.active(practice.user_id)
        if plan is None or practice.finished_at is None:
            return
        local = await self._zone_in(uow, practice.user_id)
        day = _local_day(practice.finished_at, local)
        await uow.plans.ask_next_day(
            practice.user_id, practice.id, _at(day + timedelta(days=1), NEXT_DAY_AT, local)
        )

    async def answer_next_day(
        self, user_id: int, practice_id: int, answer: NextDay
    ) -> NextDayHeard | None:
        """The next-day answer, once per practice; None when refused (not the user's
        practice, no plan, or answered already)."""
        now = self._clock()
        async with self._store.write() as uow:
            plan = await uow.plans.active(user_id)
            practice = await uow.practices.get(practice_id)
            if plan is None or practice is None or practice.user_id != user_id:
                return None
            local = await self._zone_in(uow, user_id)
            before = await self.state_in(uow, plan, local)
            added = await uow.plans.add_event(
                user_id,
                ProgrammeEventKind.NEXT_DAY,
                now,
                practice_id=practice_id,
                value=answer.value,
            )
            if not added or before is None:
                return None
            after = await self.state_in(uow, plan, local)
            assert after is not None
        change = after.last_change if len(after.history) > len(before.history) else None
        programme = self.programme_of(plan.class_id)
        assert programme is not None
        return NextDayHeard(answer, change, programme.stages[after.stage].title)

    async def answer_typed(self, user_id: int, answer: NextDay) -> NextDayHeard | None:
        """The next-day answer typed rather than tapped: it answers the last check asked,
        while that is still about yesterday or today; None when no such check waits."""
        async with self._store.read() as uow:
            plan = await uow.plans.active(user_id)
            if plan is None or plan.next_day_practice_id is None or plan.next_day_due_at:
                return None  # no check asked, or the one asked for is not due yet
            practice = await uow.practices.get(plan.next_day_practice_id)
            local = await self._zone_in(uow, user_id)
        if practice is None or practice.finished_at is None:
            return None
        days_ago = (_local_day(self._clock(), local) - _local_day(practice.finished_at, local)).days
        if days_ago > 2:
            return None  # long past: a word now says nothing of that morning
        return await self.answer_next_day(user_id, practice.id, answer)

    # -- what the plan owes ----------------------------------------------------------------

    async def claim_due(self, limit: int) -> PlanClaim:
        """Next-day checks and weekly summaries due now, each claimed before it is returned:
        sent at most once. Some claimed ones are dropped, not sent: a check when reminders
        are off, when a later practice has begun, or when too late; a quiet week's note
        after the first."""
        now = self._clock()
        messages: list[PlanMessage] = []
        async with self._store.write() as uow:
            checks = await uow.plans.due_next_days(now, limit)
            summaries = await uow.plans.due_summaries(now, limit)
            for due in checks:
                if not await uow.plans.claim_next_day(due.user_id, due.due_at):
                    continue
                if due.practice_id is not None and await self._check_wanted(uow, due, now):
                    messages.append(NextDayCheck(due.user_id, due.chat_id, due.practice_id))
            for due in summaries:
                plan = await uow.plans.active(due.user_id)
                if plan is None:
                    continue
                zone_name, _ = user_zone_name(due.timezone, self._default_zone)
                summary = await self._week_ending(uow, plan, zone(zone_name), now)
                quiet = summary is not None and summary.practices == 0
                quiet_weeks = plan.quiet_weeks + 1 if quiet else 0
                # The next one after this one (a cron trigger's next time may be now).
                next_due = next_summary_at(plan.summary_day, zone_name, now + _ONE_MICROSECOND)
                if not await uow.plans.claim_summary(
                    due.user_id, due.due_at, next_due, quiet_weeks
                ):
                    continue
                if summary is None or now - due.due_at > SUMMARY_LATE:
                    continue
                if not quiet:
                    messages.append(summary)
                elif quiet_weeks == 1:
                    messages.append(QuietWeek(due.user_id, due.chat_id))
        return PlanClaim(messages, more=limit in (len(checks), len(summaries)))

    async def _check_wanted(self, uow: UnitOfWork, due: DuePlan, now: datetime) -> bool:
        assert due.practice_id is not None
        if now - due.due_at > NEXT_DAY_LATE:
            return False
        reminder = await uow.reminders.get(due.user_id)
        if reminder is not None and not reminder.enabled:
            return False  # reminders silenced: the plan does not write unasked either
        latest = await uow.practices.latest_of(due.user_id)
        if latest is not None and latest.id != due.practice_id:
            return False  # a later practice began: its check-in told how the back is
        answered = await uow.plans.next_day_answers([due.practice_id])
        return due.practice_id not in answered

    async def weekly_summary(self, user_id: int) -> WeeklySummary | None:
        """The week ending today, as the summary would tell it (for /plan and tests)."""
        async with self._store.read() as uow:
            plan = await uow.plans.active(user_id)
            if plan is None:
                return None
            return await self._week_ending(
                uow, plan, await self._zone_in(uow, user_id), self._clock()
            )

    async def _week_ending(
        self, uow: UnitOfWork, plan: Plan, local: tzinfo, now: datetime
    ) -> WeeklySummary | None:
        """The week up to now: since the last summary was due (a week before this one), or
        since the plan began if that is later; None when that is under two days: too soon
        for a summary."""
        programme = self.programme_of(plan.class_id)
        if programme is None:
            return None
        today = _local_day(now, local)
        started_on = date.fromisoformat(plan.started_on)
        since = max(plan.started_at, now - timedelta(days=7))
        if now - since < timedelta(days=2):
            return None
        first_day = _local_day(since, local)
        state = await self.state_in(uow, plan, local)
        assert state is not None
        practices = [
            p
            for p in await uow.plans.practices_since(plan.user_id, plan.started_at)
            if p.status in (PracticeStatus.FINISHED, PracticeStatus.STOPPED)
            and p.stop_reason not in (StopReason.REPLACED, StopReason.UNREACHABLE)
            and since <= p.started_at <= now
        ]
        scored = [p for p in practices if p.back_before is not None and p.back_after is not None]
        changes = tuple(c for c in state.history if c.at >= since and c.why != Why.STARTED)
        planned = round(PER_WEEK[plan.goal] * (now - since) / timedelta(days=7))
        top = programme.top
        return WeeklySummary(
            user_id=plan.user_id,
            chat_id=plan.chat_id,
            first_day=first_day,
            last_day=today,
            practices=len(practices),
            planned=planned,
            minutes=round(sum(p.practised_seconds for p in practices) / 60),
            back_before=_mean([p.back_before for p in scored]),
            back_after=_mean([p.back_after for p in scored]),
            changes=changes,
            stage_title=programme.stages[state.stage].title,
            next_stage_title=(
                programme.stages[state.stage + 1].title if state.stage < top else None
            ),
            good_run=len(state.good_run),
            good_needed=programme.rules.good_in_a_row,
            paused=state.paused,
            # The plan week the most of this one falls in (a summary's week need not
            # start on the plan's first weekday).
            week=week_of(started_on, _local_day(since + (now - since) / 2, local)),
            weeks=self._weeks(plan.class_id),
        )

    # -- the clinician report ----------------------------------------------------------------

    async def report_facts(self, user_id: int) -> ReportFacts | None:
        """Everything the clinician report shows: the plan, its history, and every practice
        the user made (those before the plan too); None when nothing is stored."""
        now = self._clock()
        async with self._store.read() as uow:
            user = await uow.users.get(user_id)
            if user is None:
                return None
            zone_name = await self._zone_name_in(uow, user_id)
            local = zone(zone_name)
            today = _local_day(now, local)
            plan = await uow.plans.active(user_id)
            practices = [
                p
                for p in await uow.plans.practices_since(user_id, datetime.min.replace(tzinfo=UTC))
                if p.status in (PracticeStatus.FINISHED, PracticeStatus.STOPPED)
                and p.stop_reason not in (StopReason.REPLACED, StopReason.UNREACHABLE)
            ]
            ids = [p.id for p in practices]
            answers = await uow.plans.next_day_answers(ids)
            marks = await uow.plans.steps_marked(ids, (EventKind.HURT, EventKind.EASIER))
            state = await self.state_in(uow, plan, local) if plan is not None else None
        class_id = plan.class_id if plan is not None else self._default_class_id
        yoga_class = self._catalog.get(class_id)
        programme = self.programme_of(class_id)
        titles = {s.id: s.title for s in yoga_class.steps} if yoga_class else {}
        hurt_counts: dict[str, int] = {}
        easier_counts: dict[str, int] = {}
        rows: list[PracticeFacts] = []
        for p in practices:
            hurt = tuple(titles.get(s, s) for s, k in marks.get(p.id, []) if k == EventKind.HURT)
            easier = tuple(
                titles.get(s, s) for s, k in marks.get(p.id, []) if k == EventKind.EASIER
            )
            for pose in hurt:
                hurt_counts[pose] = hurt_counts.get(pose, 0) + 1
            for pose in easier:
                easier_counts[pose] = easier_counts.get(pose, 0) + 1
            rows.append(
                PracticeFacts(
                    day=_local_day(p.started_at, local),
                    minutes=round(p.practised_seconds / 60),
                    length=p.class_length.value,
                    gentle=p.gentle,
                    plan_stage=p.plan_stage,
                    back_before=p.back_before,
                    back_after=p.back_after,
                    next_day=NextDay(answers[p.id]) if p.id in answers else None,
                    finished=p.status == PracticeStatus.FINISHED,
                    stop_reason=p.stop_reason,
                    hurt=hurt,
                    easier=easier,
                )
            )
        started_on = date.fromisoformat(plan.started_on) if plan is not None else None
        planned = done = 0
        if plan is not None and started_on is not None:
            days = (today - started_on).days + 1
            planned = max(1, round(PER_WEEK[plan.goal] * days / 7))
            done = sum(1 for r in rows if r.finished and r.day >= started_on)
        return ReportFacts(
            name=user.first_name,
            made_on=today,
            zone_name=zone_name,
            class_title=yoga_class.title if yoga_class else class_id,
            goal=plan.goal if plan is not None else None,
            started_on=started_on,
            week=week_of(started_on, today) if started_on is not None else None,
            weeks=self._weeks(class_id),
            stage=state.stage if state is not None else None,
            stages=tuple(s.title for s in programme.stages) if programme else (),
            paused=state.paused if state is not None else None,
            paused_on=_paused_on(state, local) if state is not None else None,
            history=tuple((_local_day(c.at, local), c) for c in state.history)
            if state is not None
            else (),
            practices=tuple(rows),
            planned=planned,
            done=done,
            hurt_counts=tuple(sorted(hurt_counts.items(), key=lambda kv: (-kv[1], kv[0]))),
            easier_counts=tuple(sorted(easier_counts.items(), key=lambda kv: (-kv[1], kv[0]))),
            good_needed=programme.rules.good_in_a_row if programme else 2,
        )

    # -- internals ---------------------------------------------------------------------------

    def _weeks(self, class_id: str) -> int:
        yoga_class = self._catalog.get(class_id)
        return yoga_class.programme.weeks if yoga_class and yoga_class.programme else 12

    async def _view(self, uow: UnitOfWork, plan: Plan) -> PlanView:
        programme = self.programme_of(plan.class_id)
        assert programme is not None
        now = self._clock()
        local = await self._zone_in(uow, plan.user_id)
        state = await self.state_in(uow, plan, local)
        assert state is not None
        today = _local_day(now, local)
        started_on = date.fromisoformat(plan.started_on)
        week = week_of(started_on, today)
        first, last = week_days(started_on, week)
        practices = await uow.plans.practices_since(plan.user_id, plan.started_at)
        done = sum(
            1
            for p in practices
            if p.status == PracticeStatus.FINISHED
            and first <= _local_day(p.started_at, local) <= last
        )
        stage = 0 if state.paused is not None else state.stage
        allowed = stage_runs(programme.stages[stage], plan.goal)
        settings = await settings_in(uow, plan.user_id)
        chosen = chosen_runs(settings)
        runs = capped(chosen, allowed)
        user = await uow.users.get(plan.user_id)
        reminder = await uow.reminders.get(plan.user_id)
        return PlanView(
            goal=plan.goal,
            days=plan.days,
            week=week,
            weeks=self._weeks(plan.class_id),
            done_this_week=done,
            planned_this_week=PER_WEEK[plan.goal],
            stage=state.stage,
            stages=tuple(s.title for s in programme.stages),
            next=NextPractice(
                runs,
                easier_by_choice=runs != allowed,
            ),
            last_change=_last_telling(state.history),
            good_run=len(state.good_run),
            good_needed=programme.rules.good_in_a_row,
            paused=state.paused,
            sign_today=user is not None
            and _sign_today(user.screen_answer, user.screened_at, now, local),
            reminder_at=(
                time(reminder.hour, reminder.minute)
                if reminder is not None and reminder.enabled
                else None
            ),
            reminders_off=reminder is not None and not reminder.enabled,
            summary_day=plan.summary_day,
            today=today,
            paused_on=_paused_on(state, local),
        )

    async def _zone_name_in(self, uow: UnitOfWork, user_id: int) -> str:
        return user_zone_name(await uow.users.timezone_of(user_id), self._default_zone)[0]

    async def _zone_in(self, uow: UnitOfWork, user_id: int) -> tzinfo:
        return user_zone(await uow.users.timezone_of(user_id), self._default_zone)


def _last_telling(history: Sequence[Change]) -> Change | None:
    """The change that explains the stage now: the last one (a stay at the first stage
    after a flare says why as much as a move does)."""
    return history[-1] if history else None


def _paused_on(state: ProgrammeState, local: tzinfo) -> date | None:
    if state.paused is None:
        return None
    paused = [c for c in state.history if c.why == Why.PAUSED]
    return _local_day(paused[-1].at, local) if paused else None


def _sign_today(
    answer: ScreenAnswer | None, answered_at: datetime | None, now: datetime, local: tzinfo
) -> bool:
    status = screen_status(answer, answered_at, now, local)
    return status in (ScreenStatus.SEE_CLINICIAN_TODAY, ScreenStatus.URGENT_TODAY)


def _mean(values: Sequence[int | None]) -> float | None:
    known = [v for v in values if v is not None]
    return sum(known) / len(known) if known else None


# -- the clinician report's facts ---------------------------------------------------------------


@dataclass(frozen=True)
class PracticeFacts:
    day: date
    minutes: int
    length: str
    gentle: bool
    plan_stage: int | None
    back_before: int | None
    back_after: int | None
    next_day: NextDay | None
    finished: bool
    stop_reason: StopReason | None
    # Pose titles, each once.
    hurt: tuple[str, ...]
    easier: tuple[str, ...]


@dataclass(frozen=True)
class ReportFacts:
    name: str
    made_on: date
    zone_name: str
    class_title: str
    goal: Goal | None
    started_on: date | None
    week: int | None
    weeks: int
    stage: int | None
    stages: tuple[str, ...]
    paused: PauseWhy | None
    paused_on: date | None
    # Each change with the user's own day it happened, oldest first.
    history: tuple[tuple[date, Change], ...]
    practices: tuple[PracticeFacts, ...]
    planned: int
    done: int
    hurt_counts: tuple[tuple[str, int], ...]
    easier_counts: tuple[tuple[str, int], ...]
    # Good practices in a row that move the plan up (the class's rules).
    good_needed: int = 2
