"""What a plan owes the user, claimed at most once by the reminder tick: the next-day
check the morning after a practice, and the weekly summary (or, for a quiet week, one
kind note)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta, tzinfo

from bot.models import (
    Plan,
    PracticeStatus,
    StopReason,
)
from bot.programme.core import (
    NEXT_DAY_LATE,
    ONE_MICROSECOND,
    SUMMARY_LATE,
    ProgrammeCore,
    local_day,
    mean_of,
    next_summary_at,
)
from bot.programme.rules import (
    PER_WEEK,
    Change,
    PauseWhy,
    Why,
    week_of,
)
from bot.store import UnitOfWork
from bot.store.plans import DuePlan
from bot.timezones import user_zone_name, zone


@dataclass(frozen=True)
class NextDayCheck:
    """Owed: the morning after a practice, how the back is."""

    user_id: int
    chat_id: int
    practice_id: int


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


class Owing(ProgrammeCore):
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
                next_due = next_summary_at(plan.summary_day, zone_name, now + ONE_MICROSECOND)
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
        today = local_day(now, local)
        started_on = date.fromisoformat(plan.started_on)
        since = max(plan.started_at, now - timedelta(days=7))
        if now - since < timedelta(days=2):
            return None
        first_day = local_day(since, local)
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
            back_before=mean_of([p.back_before for p in scored]),
            back_after=mean_of([p.back_after for p in scored]),
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
            week=week_of(started_on, local_day(since + (now - since) / 2, local)),
            weeks=self._weeks(plan.class_id),
        )
