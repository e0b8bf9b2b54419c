"""The plan as the user asks for it: start, view, change, stop and resume it, and what
they tell it (the next-day answer, tapped or typed); and what a practice starting now
is allowed."""

from __future__ import annotations

from datetime import date, time, timedelta

from bot.models import (
    Goal,
    Plan,
    Practice,
    PracticeStatus,
    ProgrammeEventKind,
)
from bot.programme.core import (
    DEFAULT_SUMMARY_DAY,
    NEXT_DAY_AT,
    NextDayHeard,
    NextPractice,
    NoPlan,
    NoProgramme,
    PlanView,
    ProgrammeCore,
    StageAllowed,
    at_local,
    chosen_runs,
    last_telling,
    local_day,
    next_summary_at,
    paused_on,
    sign_today,
)
from bot.programme.rules import (
    DEFAULT_DAYS,
    PER_WEEK,
    CheckedIn,
    NextDay,
    capped,
    stage_runs,
    week_days,
    week_of,
)
from bot.store import UnitOfWork
from bot.timezones import zone
from bot.user_settings import settings_in


class Asking(ProgrammeCore):
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
        starting = CheckedIn(0, now, local_day(now, local), back_before)
        state = await self.state_in(uow, plan, local, starting=starting)
        assert state is not None
        stage = 0 if state.paused is not None else state.stage
        return StageAllowed(
            stage,
            stage_runs(programme.stages[stage], plan.goal),
            len(programme.stages),
            paused=state.paused is not None,
        )

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
                    started_on=local_day(now, zone(zone_name)).isoformat(),
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
            if user is not None and sign_today(user.screen_answer, user.screened_at, now, local):
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

    async def after_recorded(self, uow: UnitOfWork, practice: Practice) -> None:
        """An after-practice score was stored: ask the next morning how the back is."""
        plan = await uow.plans.active(practice.user_id)
        if plan is None or practice.finished_at is None:
            return
        local = await self._zone_in(uow, practice.user_id)
        day = local_day(practice.finished_at, local)
        await uow.plans.ask_next_day(
            practice.user_id, practice.id, at_local(day + timedelta(days=1), NEXT_DAY_AT, local)
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
        return NextDayHeard(answer, change, programme.stages[after.stage].title, stage=after.stage)

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
        days_ago = (local_day(self._clock(), local) - local_day(practice.finished_at, local)).days
        if days_ago > 2:
            return None  # long past: a word now says nothing of that morning
        return await self.answer_next_day(user_id, practice.id, answer)

    async def _view(self, uow: UnitOfWork, plan: Plan) -> PlanView:
        programme = self.programme_of(plan.class_id)
        assert programme is not None
        now = self._clock()
        local = await self._zone_in(uow, plan.user_id)
        state = await self.state_in(uow, plan, local)
        assert state is not None
        today = local_day(now, local)
        started_on = date.fromisoformat(plan.started_on)
        week = week_of(started_on, today)
        first, last = week_days(started_on, week)
        practices = await uow.plans.practices_since(plan.user_id, plan.started_at)
        done = sum(
            1
            for p in practices
            if p.status == PracticeStatus.FINISHED
            and first <= local_day(p.started_at, local) <= last
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
            last_change=last_telling(state.history),
            good_run=len(state.good_run),
            good_needed=programme.rules.good_in_a_row,
            waiting=state.pending is not None,
            good_at_most=programme.rules.good_at_most,
            paused=state.paused,
            sign_today=user is not None
            and sign_today(user.screen_answer, user.screened_at, now, local),
            reminder_at=(
                time(reminder.hour, reminder.minute)
                if reminder is not None and reminder.enabled
                else None
            ),
            reminders_off=reminder is not None and not reminder.enabled,
            summary_day=plan.summary_day,
            today=today,
            paused_on=paused_on(state, local),
        )
