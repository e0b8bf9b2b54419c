"""What a plan changes about reminders, and the messages it owes, with their refusals: a
manual clock, a real database, no Telegram."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy.ext.asyncio import AsyncEngine

from bot.checkin import CheckinService
from bot.clock import ManualClock
from bot.models import Goal
from bot.programme.rules import NextDay
from bot.programme.service import (
    NextDayCheck,
    PlanInputError,
    ProgrammeService,
    SetGoal,
    SetSummaryDay,
    StopPlan,
    WeeklySummary,
    parse_plan,
)
from bot.reminders import ReminderService, Schedule, plan_day
from bot.store import Store
from handlers.render.reminders import reminder_status
from sequences import YogaClass, load_catalog
from tests.harness.factories import make_class
from tests.harness.records import add_session

LONDON = ZoneInfo("Europe/London")
ANA, BEN = 601, 602
MONDAY = date(2027, 2, 1)


def planned_class() -> YogaClass:
    shipped = next(iter(load_catalog().values()))
    return make_class().model_copy(update={"programme": shipped.programme})


@pytest.fixture
def programme(store: Store, clock: ManualClock) -> ProgrammeService:
    yoga_class = planned_class()
    return ProgrammeService(store, {yoga_class.id: yoga_class}, clock, "UTC")


@pytest.fixture
def reminders(store: Store, clock: ManualClock) -> ReminderService:
    return ReminderService(store, clock, "UTC")


def london(day: date, at: time) -> datetime:
    return datetime.combine(day, at, tzinfo=LONDON).astimezone(UTC)


async def ana_in_london(
    reminders: ReminderService,
    programme: ProgrammeService,
    clock: ManualClock,
    at: datetime,
    goal: Goal,
    *,
    remind: bool = False,
) -> None:
    """Ana, in London, with a plan begun at `at`; with `remind`, a reminder every day at
    07:30 of her own (the plan's days then decide)."""
    clock.now = at
    await reminders.set_timezone(ANA, ANA, "Ana", "Europe/London")
    if remind:
        await reminders.set_schedule(ANA, ANA, "Ana", Schedule(7, 30))
    await programme.start(ANA, ANA, "Ana", goal)


async def sent_on(
    reminders: ReminderService, clock: ManualClock, day: date
) -> list[tuple[date, bool]]:
    clock.now = london(day, time(7, 30))
    claimed = await reminders.claim_due(10)
    return [(r.day, r.make_up) for r in claimed.reminders]


@pytest.mark.parametrize(
    ("args", "expected"),
    [
        ([], None),
        (["off"], StopPlan()),
        (["2"], SetGoal(Goal.TWICE)),
        (["daily"], SetGoal(Goal.DAILY)),
        (["3", "mon,wed,fri"], SetGoal(Goal.THRICE, "mon,wed,fri")),
        (["2", "Tue", "Sat"], SetGoal(Goal.TWICE, "tue,sat")),
        (["summary", "fri"], SetSummaryDay(4)),
        (["summary", "Sunday"], SetSummaryDay(6)),
    ],
)
def test_plan_arguments(args: list[str], expected: object) -> None:
    assert parse_plan(args) == expected


@pytest.mark.parametrize(
    ("args", "given", "days_needed"),
    [
        (["4"], "4", None),
        (["3", "mon,wed"], "mon,wed", 3),
        (["2", "someday"], "someday", None),
        (["off", "now"], "now", None),
        (["daily", "mon"], "mon", None),
        (["summary"], "summary", None),
        (["summary", "sat,sun"], "sat,sun", None),
    ],
)
def test_bad_plan_arguments_say_what_was_wrong(
    args: list[str], given: str, days_needed: int | None
) -> None:
    with pytest.raises(PlanInputError) as raised:
        parse_plan(args)
    assert (raised.value.given, raised.value.days_needed) == (given, days_needed)


def test_a_missed_plan_day_moves_to_the_next_free_day_once() -> None:
    plan = "mon,thu"
    tue, wed = MONDAY + timedelta(days=1), MONDAY + timedelta(days=2)
    assert plan_day(plan, MONDAY, set()) == (True, False)
    assert plan_day(plan, tue, set()) == (False, True)  # Monday missed
    assert plan_day(plan, tue, {MONDAY}) == (False, False)  # Monday practised
    assert plan_day(plan, wed, set()) == (False, False)  # never stacks
    # Back-to-back plan days: one make-up day after the pair.
    assert plan_day("mon,tue", wed, set()) == (False, True)
    assert plan_day("*", wed, set()) == (True, False)


async def test_reminders_follow_the_plans_days_with_one_make_up_day(
    programme: ProgrammeService,
    reminders: ReminderService,
    clock: ManualClock,
    db_engine: AsyncEngine,
) -> None:
    await ana_in_london(
        reminders, programme, clock, london(MONDAY, time(6, 0)), Goal.TWICE, remind=True
    )
    week = [MONDAY + timedelta(days=n) for n in range(7)]
    assert await sent_on(reminders, clock, week[0]) == [(week[0], False)]
    # Monday missed: Tuesday, a free day, takes it; Wednesday does not.
    assert await sent_on(reminders, clock, week[1]) == [(week[1], True)]
    assert await sent_on(reminders, clock, week[2]) == []
    assert await sent_on(reminders, clock, week[3]) == [(week[3], False)]
    # Thursday practised: no make-up on Friday, and nothing at the weekend.
    await add_session(db_engine, ANA, london(week[3], time(18, 0)))
    for day in week[4:]:
        assert await sent_on(reminders, clock, day) == []
    # Without the plan, the reminder's own days again.
    assert await programme.stop(ANA)
    next_monday = MONDAY + timedelta(days=7)
    clock.now = london(next_monday, time(6, 0))
    await reminders.set_schedule(ANA, ANA, "Ana", Schedule(7, 30))
    assert await sent_on(reminders, clock, next_monday + timedelta(days=1)) == [
        (next_monday + timedelta(days=1), False)
    ]


async def test_the_next_day_check_is_asked_once_and_answered_once(
    programme: ProgrammeService,
    reminders: ReminderService,
    store: Store,
    clock: ManualClock,
    db_engine: AsyncEngine,
) -> None:
    await ana_in_london(reminders, programme, clock, london(MONDAY, time(6, 0)), Goal.THRICE)
    practice_id = await add_session(
        db_engine, ANA, london(MONDAY, time(18, 0)), back_before=3, back_after=None
    )
    clock.now = london(MONDAY, time(18, 30))
    assert await CheckinService(store, programme).record_after(ANA, practice_id, 2) is not None
    clock.now = london(MONDAY + timedelta(days=1), time(9, 0))
    # Two workers' ticks at once: one claims it.
    first, second = await programme.claim_due(10), await programme.claim_due(10)
    assert first.messages == [NextDayCheck(ANA, ANA, practice_id)]
    assert second.messages == []
    # Not Ben's to answer; Ana's answer counts once; a second tap changes nothing.
    assert await programme.answer_next_day(BEN, practice_id, NextDay.WORSE) is None
    heard = await programme.answer_next_day(ANA, practice_id, NextDay.SAME)
    assert heard is not None and heard.answer == NextDay.SAME
    assert await programme.answer_next_day(ANA, practice_id, NextDay.WORSE) is None


@pytest.mark.parametrize("why", ["reminders_off", "practised_again", "too_late"])
async def test_the_next_day_check_is_dropped_when_it_no_longer_fits(
    programme: ProgrammeService,
    reminders: ReminderService,
    store: Store,
    clock: ManualClock,
    db_engine: AsyncEngine,
    why: str,
) -> None:
    await ana_in_london(
        reminders, programme, clock, london(MONDAY, time(6, 0)), Goal.THRICE, remind=True
    )
    practice_id = await add_session(db_engine, ANA, london(MONDAY, time(18, 0)), back_before=3)
    clock.now = london(MONDAY, time(18, 30))
    assert await CheckinService(store, programme).record_after(ANA, practice_id, 2) is not None
    tuesday = MONDAY + timedelta(days=1)
    check_at = london(tuesday, time(9, 0))
    if why == "reminders_off":
        await reminders.turn_off(ANA)  # silenced: the plan does not write unasked either
    elif why == "practised_again":
        await add_session(db_engine, ANA, london(tuesday, time(7, 0)), back_before=2)
    else:
        check_at += timedelta(hours=7)  # the bot was down all morning
    clock.now = check_at
    assert (await programme.claim_due(10)).messages == []
    # Claimed all the same: it never comes later.
    clock.now += timedelta(hours=1)
    assert (await programme.claim_due(10)).messages == []


async def test_the_reminder_says_it_follows_the_plans_days_and_when_the_next_one_is(
    programme: ProgrammeService, reminders: ReminderService, clock: ManualClock
) -> None:
    await ana_in_london(
        reminders, programme, clock, london(MONDAY, time(8, 0)), Goal.TWICE, remind=True
    )  # after Monday's 07:30
    status = await reminders.status(ANA)
    assert status.follows_plan and status.schedule == Schedule(7, 30, "mon,thu")
    # Not Tuesday, the reminder's own next day: Thursday, the plan's.
    assert status.next_at == london(MONDAY + timedelta(days=3), time(7, 30)).astimezone(LONDON)
    reply = reminder_status(status)
    assert "Your reminder: on Mon and Thu at 07:30, your plan's days (Europe/London)." in (
        reply.text
    )


async def test_the_weekly_summary_comes_on_the_day_the_user_chose(
    programme: ProgrammeService,
    reminders: ReminderService,
    clock: ManualClock,
    db_engine: AsyncEngine,
) -> None:
    await ana_in_london(reminders, programme, clock, london(MONDAY, time(6, 0)), Goal.TWICE)
    await programme.set_summary_day(ANA, 4)  # Friday
    await add_session(db_engine, ANA, london(MONDAY, time(18, 0)), back_before=3, back_after=2)
    sunday = MONDAY + timedelta(days=6)
    friday = MONDAY + timedelta(days=4)
    clock.now = london(friday, time(17, 59))
    assert (await programme.claim_due(10)).messages == []
    clock.now = london(friday, time(18, 0))
    [summary] = (await programme.claim_due(10)).messages
    assert isinstance(summary, WeeklySummary)
    assert (summary.last_day, summary.practices) == (friday, 1)
    clock.now = london(sunday, time(18, 0))
    assert (await programme.claim_due(10)).messages == []


async def test_a_plan_begun_on_sunday_night_has_its_first_week_summed_up_a_week_later(
    programme: ProgrammeService,
    reminders: ReminderService,
    clock: ManualClock,
    db_engine: AsyncEngine,
) -> None:
    sunday = MONDAY - timedelta(days=1)
    await ana_in_london(reminders, programme, clock, london(sunday, time(22, 0)), Goal.THRICE)
    await add_session(db_engine, ANA, london(sunday, time(22, 5)), back_before=3, back_after=2)
    clock.now = london(sunday + timedelta(days=7), time(18, 0))
    [summary] = (await programme.claim_due(10)).messages
    # The practice that night counts, and it is the plan's first week, not its second.
    assert isinstance(summary, WeeklySummary)
    assert (summary.week, summary.practices, summary.first_day) == (1, 1, sunday)
