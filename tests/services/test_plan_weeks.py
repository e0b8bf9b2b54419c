"""Twelve weeks of a plan, lived on a manual clock in London across the spring change of
clocks: practices started through the way in, finished, scored after; the next-day checks
and weekly summaries the plan owes, claimed as the tick claims them; good weeks, a flare,
a worse next morning, a missed fortnight, a red-flag sign and a resume. Every stage change
is checked against the rules (bot/programme/rules.py)."""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest

from bot.checkin import CheckinService
from bot.clock import ManualClock
from bot.cues import PracticeOutcome
from bot.models import ClassLength, Goal, ScreenAnswer
from bot.practice.machine import Action
from bot.practice.service import PracticeService
from bot.programme.rules import Change, NextDay, PauseWhy, Why
from bot.programme.service import (
    NextDayCheck,
    PlanMessage,
    PlanView,
    ProgrammeService,
    QuietWeek,
    ReportFacts,
    WeeklySummary,
)
from bot.reminders import ReminderService
from bot.safety import Gate, SafetyService
from bot.store import Store
from handlers.render.report import clinician_report
from sequences import YogaClass, load_catalog
from tests.harness.factories import make_class
from tests.harness.fakes import FakeTimers
from tests.harness.presses import press

LONDON = ZoneInfo("Europe/London")
# A Monday; British Summer Time begins on Sunday 28 March 2027.
FIRST_DAY = date(2027, 2, 1)
USER = 41


def planned_class() -> YogaClass:
    shipped = next(iter(load_catalog().values()))
    return make_class().model_copy(update={"programme": shipped.programme})


@dataclass
class Life:
    """One user's weeks, lived through the services as the handlers call them."""

    clock: ManualClock
    practice: PracticeService
    programme: ProgrammeService
    checkin: CheckinService
    safety: SafetyService
    owed: list[PlanMessage] = field(default_factory=list)

    async def at(self, day: date, clock_time: time) -> None:
        """On to that moment, ticking on the way each Sunday at 18:00 London time, when the
        weekly summaries fall due (the tick runs every 20 s)."""
        moment = datetime.combine(day, clock_time, tzinfo=LONDON).astimezone(UTC)
        assert moment >= self.clock.now, "time only moves forward"
        local = self.clock.now.astimezone(LONDON).date()
        while local <= day:
            if local.weekday() == SUN:
                sunday = datetime.combine(local, time(18, 0), tzinfo=LONDON).astimezone(UTC)
                if self.clock.now < sunday <= moment:
                    self.clock.now = sunday
                    await self.tick()
            local += timedelta(days=1)
        self.clock.now = moment

    async def tick(self) -> list[PlanMessage]:
        claimed = await self.programme.claim_due(50)
        self.owed += claimed.messages
        return claimed.messages

    async def practise(self, day: date, before: int, after: int | None) -> int:
        await self.at(day, time(18, 0))
        await self.tick()
        started = await self.practice.checked_in(USER, USER, "Ana", before, checkin_message_id=None)
        if isinstance(started, Gate):
            # The last practice left the back worse: the gentle one is offered, and the
            # usual one chosen (a gentle practice would not count for the stage).
            assert started == Gate.SUGGEST_GENTLE
            started = await self.practice.gate_chosen(
                USER, USER, "Ana", before, gentle=False, checkin_message_id=None
            )
        assert isinstance(started, PracticeOutcome), started
        practice_id, show = started.practice_id, started.show
        assert show is not None
        for step in range(show.total):
            self.clock.advance(60)
            await press(self.practice, Action.NEXT, USER, practice_id, step)
        if after is not None:
            assert await self.checkin.record_after(USER, practice_id, after) is not None
        return practice_id

    async def next_morning(self, day: date, practice_id: int, answer: NextDay | None) -> None:
        """09:00 the day after: the check is owed, and answered (or left)."""
        await self.at(day + timedelta(days=1), time(8, 59))
        assert not [m for m in await self.tick() if isinstance(m, NextDayCheck)]
        await self.at(day + timedelta(days=1), time(9, 0))
        checks = [m for m in await self.tick() if isinstance(m, NextDayCheck)]
        assert checks == [NextDayCheck(USER, USER, practice_id)]
        if answer is not None:
            self.clock.advance(600)
            assert await self.programme.answer_next_day(USER, practice_id, answer) is not None

    async def view(self) -> PlanView:
        view = await self.programme.view(USER)
        assert isinstance(view, PlanView)
        return view


@pytest.fixture
def life(store: Store) -> Life:
    yoga_class = planned_class()
    catalog = {yoga_class.id: yoga_class}
    clock = ManualClock(datetime(2027, 1, 31, 12, 0, tzinfo=UTC))
    programme = ProgrammeService(store, catalog, clock, "UTC")
    practice = PracticeService(store, catalog, clock, FakeTimers(), programme=programme)
    return Life(
        clock,
        practice,
        programme,
        CheckinService(store, programme),
        SafetyService(store, clock, "UTC"),
    )


def week(n: int, weekday: int) -> date:
    return FIRST_DAY + timedelta(days=7 * (n - 1) + weekday)


MON, WED, FRI, SUN = 0, 2, 4, 6


async def test_twelve_weeks_move_through_the_stages_by_the_pain_monitoring_rules(
    life: Life, store: Store
) -> None:
    reminders = ReminderService(store, life.clock)
    await reminders.set_timezone(USER, USER, "Ana", "Europe/London")
    await life.safety.answer(USER, USER, "Ana", ScreenAnswer.CLEAR)
    await life.at(FIRST_DAY, time(7, 0))
    view = await life.programme.start(USER, USER, "Ana", Goal.THRICE)
    assert (view.week, view.stage, view.days, view.planned_this_week) == (1, 0, "mon,wed,fri", 3)
    expected: list[tuple[date, int, int, Why]] = []

    # Weeks 1-2, good: two good practices with a quiet next morning move up a stage.
    first = await life.practise(week(1, MON), 3, 2)
    async with store.read() as uow:
        started = await uow.practices.get(first)
    assert started is not None
    # The first stage: the short class, slow pace; the practice counts for stage 0.
    assert (started.class_length, started.pace_factor, started.plan_stage) == (
        ClassLength.SHORT,
        1.25,
        0,
    )
    await life.next_morning(week(1, MON), first, NextDay.SAME)
    second = await life.practise(week(1, WED), 2, 2)
    await life.next_morning(week(1, WED), second, NextDay.BETTER)
    expected.append((week(1, 3), 0, 1, Why.GOOD_RUN))
    third = await life.practise(week(1, FRI), 2, 3)
    await life.next_morning(week(1, FRI), third, NextDay.SAME)
    fourth = await life.practise(week(2, MON), 2, 1)
    await life.next_morning(week(2, MON), fourth, NextDay.SAME)
    expected.append((week(2, 1), 1, 2, Why.GOOD_RUN))
    assert (await life.view()).stage == 2

    # Week 2: a flare (7/10 after) steps back at once; the worse morning after does not
    # step back a second time.
    flare = await life.practise(week(2, WED), 3, 7)
    expected.append((week(2, WED), 2, 1, Why.HIGH_AFTER))
    await life.next_morning(week(2, WED), flare, NextDay.WORSE)
    view = await life.view()
    assert view.stage == 1 and view.last_change is not None
    assert (view.last_change.why, view.last_change.score) == (Why.HIGH_AFTER, 7)
    # 4-5/10 after: acceptable, the plan stays, and the run of good practices starts over.
    steady = await life.practise(week(2, FRI), 3, 5)
    await life.next_morning(week(2, FRI), steady, NextDay.SAME)
    summary = next(m for m in life.owed if isinstance(m, WeeklySummary))
    assert summary.week == 1 and summary.practices == 3

    # Week 3: good again, up; then a calm class but a worse morning: back.
    for weekday in (MON, WED):
        good = await life.practise(week(3, weekday), 2, 2)
        await life.next_morning(week(3, weekday), good, NextDay.SAME)
    expected.append((week(3, 3), 1, 2, Why.GOOD_RUN))
    calm = await life.practise(week(3, FRI), 2, 3)
    await life.next_morning(week(3, FRI), calm, NextDay.WORSE)
    expected.append((week(3, 5), 2, 1, Why.WORSE_NEXT_DAY))

    # Week 4: the user leaves the next-day checks unanswered; a later day's check-in tells
    # the plan instead (the back at most 5/10 the next time: no flare).
    for day in (week(4, MON), week(4, WED), week(4, FRI)):
        practice_id = await life.practise(day, 2, 2)
        await life.next_morning(day, practice_id, None)
    # Wednesday's check-in settles Monday; Friday's settles Wednesday: up as Friday starts.
    expected.append((week(4, FRI), 1, 2, Why.GOOD_RUN))
    async with store.read() as uow:
        friday = await uow.practices.get(practice_id)
    assert friday is not None and friday.plan_stage == 2
    # Week 5: a rise of 3 on a class (1 -> 4) steps back, though 4/10 is acceptable alone.
    rose = await life.practise(week(5, MON), 1, 4)
    expected.append((week(5, MON), 2, 1, Why.ROSE))
    await life.next_morning(week(5, MON), rose, NextDay.SAME)

    # Weeks 6-8 missed: one kind note for the first quiet week, none for the others.
    await life.at(week(9, MON), time(7, 0))
    notes = [m for m in life.owed if isinstance(m, QuietWeek)]
    assert notes == [QuietWeek(USER, USER)]

    # Week 9: back, across the change of clocks (28 March): the next-day check still comes
    # at 09:00 in London, now 08:00 UTC.
    assert week(9, MON) == date(2027, 3, 29)
    back = await life.practise(week(9, MON), 2, 2)
    await life.at(week(9, 1), time(8, 59))
    assert life.clock.now == datetime(2027, 3, 30, 7, 59, tzinfo=UTC)
    await life.next_morning(week(9, MON), back, NextDay.BETTER)
    again = await life.practise(week(9, WED), 2, 2)
    await life.next_morning(week(9, WED), again, NextDay.SAME)
    expected.append((week(9, 3), 1, 2, Why.GOOD_RUN))

    # Week 10: a red-flag sign pauses the plan; the next practices (the screen clear again
    # on a later day) count for nothing upwards; a resume starts one stage gentler.
    await life.at(week(10, MON), time(8, 0))
    await life.safety.answer(USER, USER, "Ana", ScreenAnswer.SEE_CLINICIAN)
    expected.append((week(10, MON), 2, 2, Why.PAUSED))
    view = await life.view()
    assert (view.paused, view.sign_today) == (PauseWhy.CLINICIAN, True)
    assert await life.programme.resume(USER) is None  # not on the day of the sign
    await life.at(week(10, WED), time(7, 0))
    await life.safety.answer(USER, USER, "Ana", ScreenAnswer.CLEAR)
    for weekday in (WED, FRI):
        paused_practice = await life.practise(week(10, weekday), 2, 1)
        async with store.read() as uow:
            row = await uow.practices.get(paused_practice)
        assert row is not None and row.class_length == ClassLength.SHORT  # the first stage
        await life.next_morning(week(10, weekday), paused_practice, NextDay.BETTER)
    assert (await life.view()).stage == 2
    await life.at(week(11, MON), time(7, 0))
    resumed = await life.programme.resume(USER)
    assert isinstance(resumed, PlanView) and (resumed.stage, resumed.paused) == (1, None)
    expected.append((week(11, MON), 2, 1, Why.RESUMED))

    # Weeks 11-12: good to the end, two moves up.
    for day in (week(11, MON), week(11, WED), week(11, FRI), week(12, MON)):
        good = await life.practise(day, 1, 1)
        await life.next_morning(day, good, NextDay.SAME)
    expected.append((week(11, 3), 1, 2, Why.GOOD_RUN))
    expected.append((week(12, 1), 2, 3, Why.GOOD_RUN))
    view = await life.view()
    assert (view.week, view.stage, view.stage_title) == (12, 3, "Full class")
    top = await life.practise(week(12, WED), 1, 1)
    async with store.read() as uow:
        row = await uow.practices.get(top)
    assert row is not None and (row.class_length, row.pace_factor) == (ClassLength.FULL, 1.0)

    facts = await life.programme.report_facts(USER)
    assert facts is not None
    changes = [
        (day, change.stage_from, change.stage_to, change.why)
        for day, change in facts.history
        if change.why != Why.STARTED
    ]
    assert changes == expected
    # The first stage ran every pose easier; the last runs them as cued.
    assert facts.practices[0].all_easier and not facts.practices[0].easier
    assert not facts.practices[-1].all_easier
    # Every week with practice had its summary, on Sunday at 18:00 London time.
    sent = [m for m in life.owed if isinstance(m, WeeklySummary)]
    assert [s.last_day.weekday() for s in sent] == [SUN] * len(sent)
    assert [s.week for s in sent] == [1, 2, 3, 4, 5, 9, 10, 11]


def test_the_reports_stage_history_says_each_reason_as_a_clinician_reads_it() -> None:
    at = datetime(2027, 2, 3, 18, 0, tzinfo=UTC)
    reasons = {
        Why.GOOD_RUN: "2 good practices in a row, no flare the next day",
        Why.HIGH_AFTER: "back 7/10 after the class",
        Why.ROSE: "back rose 3 points in the class",
        Why.STOPPED_FOR_PAIN: "class stopped for pain",
        Why.WORSE_NEXT_DAY: "back worse the next day",
        Why.PAUSED: "paused: a sign to see a clinician about",
        Why.RESUMED: "resumed, one stage gentler",
    }
    stays = {
        Why.HIGH_AFTER: "back 7/10 after the class; stays at the first",
        Why.RESUMED: "resumed",
    }
    scores = {Why.HIGH_AFTER: 7, Why.ROSE: 3}
    history = tuple((at.date(), Change(at, 1, 0, why, 5, scores.get(why))) for why in reasons)
    shipped = planned_class().programme
    assert shipped is not None
    facts = ReportFacts(
        name="Ana",
        made_on=at.date(),
        zone_name="Europe/London",
        class_title="Tiny Class",
        goal=Goal.THRICE,
        started_on=at.date(),
        week=1,
        weeks=12,
        stage=0,
        stages=tuple(s.title for s in shipped.stages),
        paused=None,
        paused_on=None,
        history=history,
        practices=(),
        planned=1,
        done=0,
        hurt_counts=(),
        easier_counts=(),
    )
    report = clinician_report(facts)
    assert [c.why for c in report.stage_changes] == list(reasons.values())
    # At the first stage already, a step back and a resume change nothing, and say so.
    stayed = tuple((at.date(), Change(at, 0, 0, why, 5, scores.get(why))) for why in stays)
    at_first = clinician_report(replace(facts, history=stayed))
    assert [c.why for c in at_first.stage_changes] == list(stays.values())
    urgent = Change(at, 1, 1, Why.PAUSED, paused=PauseWhy.URGENT)
    paused = clinician_report(replace(facts, history=((at.date(), urgent),)))
    assert paused.stage_changes[0].why == "paused: an emergency sign to see a clinician about"
    assert report.goal == "3 practices a week for 12 weeks"
    assert report.stage == "Stage 1 of 4: Short class, every easier option"
