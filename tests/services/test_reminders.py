"""The reminder rules alone: a manual clock, a real database, no Telegram."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given
from hypothesis import strategies as st
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncEngine

from bot.clock import ManualClock
from bot.database import create_sessionmaker
from bot.models import Practice, PracticeStatus, Reminder
from bot.reminders import (
    MAX_ATTEMPTS,
    RETRY_DELAY,
    DueReminder,
    InputProblem,
    ReminderInputError,
    ReminderService,
    Schedule,
    TurnOff,
    ZoneSet,
    next_due,
    parse_remind,
)
from bot.store import Store
from bot.timezones import ZoneChoices, ZoneFinder, canonical_zone
from handlers.render.reminders import input_error
from tests.harness.records import add_session

BERLIN = ZoneInfo("Europe/Berlin")
NEW_YORK = ZoneInfo("America/New_York")
ANA = 501


@pytest.fixture
def reminders(db_engine: AsyncEngine, clock: ManualClock) -> ReminderService:
    return ReminderService(Store(db_engine), clock, "UTC")


def utc(year: int, month: int, day: int, hour: int = 0, minute: int = 0) -> datetime:
    return datetime(year, month, day, hour, minute, tzinfo=UTC)


async def set_up(
    reminders: ReminderService,
    clock: ManualClock,
    at: datetime,
    schedule: Schedule,
    zone: str | None = None,
    user_id: int = ANA,
) -> None:
    clock.now = at
    if zone is not None:
        await reminders.set_timezone(user_id, user_id, "Ana", zone)
    await reminders.set_schedule(user_id, user_id, "Ana", schedule)


async def claim_at(
    reminders: ReminderService, clock: ManualClock, at: datetime
) -> list[DueReminder]:
    clock.now = at
    return (await reminders.claim_due(100)).reminders


async def follow(
    reminders: ReminderService, clock: ManualClock, count: int, user_id: int = ANA
) -> list[datetime]:
    """Jump to each next due time and claim it; the UTC instants the reminders went out."""
    sent: list[datetime] = []
    for _ in range(count):
        status = await reminders.status(user_id)
        assert status.next_at is not None
        [reminder] = await claim_at(reminders, clock, status.next_at.astimezone(UTC))
        assert reminder.user_id == user_id
        sent.append(clock.now)
    return sent


async def stored(db_engine: AsyncEngine, user_id: int = ANA) -> Reminder:
    async with create_sessionmaker(db_engine)() as db:
        reminder = await db.get(Reminder, user_id)
        assert reminder is not None
        return reminder


async def finish_practice(db_engine: AsyncEngine, user_id: int, at: datetime) -> None:
    async with create_sessionmaker(db_engine).begin() as db:
        db.add(
            Practice(
                user_id=user_id,
                chat_id=user_id,
                class_id="tiny-class",
                status=PracticeStatus.FINISHED,
                started_at=at - timedelta(minutes=30),
                finished_at=at,
            )
        )


# -- parsing -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("args", "expected"),
    [
        ([], None),
        (["off"], TurnOff()),
        (["OFF"], TurnOff()),
        (["07:30"], Schedule(7, 30)),
        (["7:05"], Schedule(7, 5)),
        (["00:00"], Schedule(0, 0)),
        (["18:15", "mon,wed,fri"], Schedule(18, 15, "mon,wed,fri")),
        (["18:15", "Fri,", "Mon,", "Wed"], Schedule(18, 15, "mon,wed,fri")),
        (["18:15", "friday", "monday"], Schedule(18, 15, "mon,fri")),
        (["06:45", "weekdays"], Schedule(6, 45, "mon,tue,wed,thu,fri")),
        (["09:00", "weekends"], Schedule(9, 0, "sat,sun")),
        (["09:00", "daily"], Schedule(9, 0, "*")),
        (["09:00", "weekdays,weekends"], Schedule(9, 0, "*")),
        (["09:00", "fri-mon"], Schedule(9, 0, "mon,fri,sat,sun")),
        # As people type them: 12-hour, dots, no separator, French style.
        (["7:30pm"], Schedule(19, 30)),
        (["7:30", "PM"], Schedule(19, 30)),
        (["7.30", "p.m.", "weekdays"], Schedule(19, 30, "mon,tue,wed,thu,fri")),
        (["7pm"], Schedule(19, 0)),
        (["7am"], Schedule(7, 0)),
        (["12am"], Schedule(0, 0)),
        (["12:15pm"], Schedule(12, 15)),
        (["7.30"], Schedule(7, 30)),
        (["0730"], Schedule(7, 30)),
        (["730"], Schedule(7, 30)),
        (["19h30"], Schedule(19, 30)),
        (["19h"], Schedule(19, 0)),
    ],
)
def test_remind_arguments(args: list[str], expected: object) -> None:
    assert parse_remind(args) == expected


@pytest.mark.parametrize(
    ("args", "example"),
    [
        (["25:99"], "/remind 07:30"),
        (["24:00"], "/remind 07:30"),
        (["7"], "/remind 07:30"),
        (["seven"], "/remind 07:30"),
        (["13pm"], "/remind 7:30pm"),
        (["0pm"], "/remind 7:30pm"),
        (["2400"], "/remind 07:30"),
        (["12345"], "/remind 07:30"),
        (["7:30", "xm"], "/remind 18:15 mon,wed,fri"),
        (["07:30", "funday"], "/remind 18:15 mon,wed,fri"),
        (["07:30", "mon,", "xyz"], "/remind 18:15 mon,wed,fri"),
        (["07:30", "mo"], "/remind 18:15 mon,wed,fri"),
        (["off", "now"], "/remind off"),
        (["07:30", ",,,,"], "/remind 18:15 mon,wed,fri"),
        (["07:30", ","], "/remind 18:15 mon,wed,fri"),
    ],
)
def test_bad_remind_arguments_explain_in_one_line_with_an_example(
    args: list[str], example: str
) -> None:
    with pytest.raises(ReminderInputError) as caught:
        parse_remind(args)
    message = input_error(caught.value).text
    assert "\n" not in message
    assert example in message


@pytest.mark.parametrize(
    ("args", "problem", "said"),
    [
        (["25:99"], InputProblem.NOT_A_TIME_OF_DAY, "25:99 is not a time of day"),
        (["7"], InputProblem.NEEDS_MINUTES, "“7” needs minutes"),
        (["07:30", "funday"], InputProblem.UNKNOWN_DAY, "the day “funday”"),
    ],
)
def test_error_messages_name_what_was_wrong(
    args: list[str], problem: InputProblem, said: str
) -> None:
    with pytest.raises(ReminderInputError) as caught:
        parse_remind(args)
    assert caught.value.problem == problem
    assert said in input_error(caught.value).text


@given(st.lists(st.text(max_size=30), max_size=5))
def test_any_remind_arguments_give_a_schedule_or_one_line_with_an_example(
    args: list[str],
) -> None:
    try:
        request = parse_remind(args)
    except ReminderInputError as refused:
        message = input_error(refused).text
        assert "\n" not in message and "/remind" in message
        return
    if isinstance(request, Schedule):
        # Whatever was accepted must be a schedule the cron trigger can compute.
        assert next_due(request, "Europe/Berlin", utc(2026, 1, 5, 6)) > utc(2026, 1, 5, 6)


def test_zone_names_are_matched_without_regard_to_case_and_never_as_paths() -> None:
    assert canonical_zone("europe/berlin") == "Europe/Berlin"
    assert canonical_zone(" America/New_York ") == "America/New_York"
    assert canonical_zone("UTC") == "UTC"
    assert canonical_zone("Mars/Base") is None
    assert canonical_zone("../../etc/passwd") is None
    assert canonical_zone("") is None


async def test_unknown_zone_is_refused_and_changes_nothing(
    reminders: ReminderService, clock: ManualClock
) -> None:
    await set_up(reminders, clock, utc(2026, 1, 5, 6), Schedule(7, 30), zone="Europe/Berlin")
    before = await reminders.status(ANA)
    with pytest.raises(ReminderInputError) as caught:
        await reminders.set_timezone(ANA, ANA, "Ana", "Mars/Base")
    assert caught.value.problem == InputProblem.UNKNOWN_ZONE
    message = input_error(caught.value).text
    assert "/timezone Berlin" in message
    assert "\n" not in message
    assert await reminders.status(ANA) == before


async def test_location_finds_the_zone_offline() -> None:
    finder = ZoneFinder()
    assert await finder.zone_at(52.52, 13.405) == "Europe/Berlin"
    assert await finder.zone_at(40.71, -74.01) == "America/New_York"
    assert await finder.zone_at(123.0, 0.0) is None


# -- due times -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("zone", "expected"),
    [
        ("UTC", utc(2026, 1, 5, 7, 30)),
        ("Europe/Berlin", utc(2026, 1, 5, 6, 30)),
        ("America/New_York", utc(2026, 1, 5, 12, 30)),
        ("Asia/Kolkata", utc(2026, 1, 6, 2, 0)),
        ("Australia/Sydney", utc(2026, 1, 5, 20, 30)),
    ],
)
def test_next_due_is_the_local_time_in_each_zone(zone: str, expected: datetime) -> None:
    assert next_due(Schedule(7, 30), zone, utc(2026, 1, 5, 6, 0)) == expected


async def test_first_confirmation_uses_the_default_zone_and_says_so(
    reminders: ReminderService, clock: ManualClock
) -> None:
    await set_up(reminders, clock, utc(2026, 1, 5, 7, 0), Schedule(7, 30))
    status = await reminders.status(ANA)
    assert status.zone == "UTC" and status.zone_is_default
    assert status.next_at == utc(2026, 1, 5, 7, 30)


async def test_berlin_stays_at_0730_local_when_clocks_go_forward_in_march(
    reminders: ReminderService, clock: ManualClock
) -> None:
    await set_up(reminders, clock, utc(2026, 3, 27, 12), Schedule(7, 30), zone="Europe/Berlin")
    sent = await follow(reminders, clock, 3)
    assert sent == [utc(2026, 3, 28, 6, 30), utc(2026, 3, 29, 5, 30), utc(2026, 3, 30, 5, 30)]
    assert {t.astimezone(BERLIN).strftime("%H:%M") for t in sent} == {"07:30"}


async def test_berlin_stays_at_0730_local_when_clocks_go_back_in_october(
    reminders: ReminderService, clock: ManualClock
) -> None:
    await set_up(reminders, clock, utc(2026, 10, 23, 12), Schedule(7, 30), zone="Europe/Berlin")
    sent = await follow(reminders, clock, 3)
    assert sent == [utc(2026, 10, 24, 5, 30), utc(2026, 10, 25, 6, 30), utc(2026, 10, 26, 6, 30)]
    assert {t.astimezone(BERLIN).strftime("%H:%M") for t in sent} == {"07:30"}


async def test_new_york_stays_at_0730_local_in_march_and_november(
    reminders: ReminderService, clock: ManualClock
) -> None:
    await set_up(reminders, clock, utc(2026, 3, 6, 18), Schedule(7, 30), zone="America/New_York")
    spring = await follow(reminders, clock, 2)
    assert spring == [utc(2026, 3, 7, 12, 30), utc(2026, 3, 8, 11, 30)]
    clock.now = utc(2026, 10, 30, 18)
    await reminders.set_schedule(ANA, ANA, "Ana", Schedule(7, 30))
    autumn = await follow(reminders, clock, 2)
    assert autumn == [utc(2026, 10, 31, 11, 30), utc(2026, 11, 1, 12, 30)]
    assert {t.astimezone(NEW_YORK).strftime("%H:%M") for t in spring + autumn} == {"07:30"}


async def test_a_time_that_happens_twice_in_october_reminds_once(
    reminders: ReminderService, clock: ManualClock
) -> None:
    # 02:30 occurs twice in Berlin on 25 October 2026 (CEST, then CET).
    await set_up(reminders, clock, utc(2026, 10, 24, 12), Schedule(2, 30), zone="Europe/Berlin")
    sent = await follow(reminders, clock, 2)
    assert sent == [utc(2026, 10, 25, 0, 30), utc(2026, 10, 26, 1, 30)]
    # Nothing at the second 02:30 of the 25th.
    assert await claim_at(reminders, clock, utc(2026, 10, 25, 1, 31)) == []


async def test_a_time_skipped_in_march_reminds_once_an_hour_later(
    reminders: ReminderService, clock: ManualClock
) -> None:
    # 02:30 does not exist in Berlin on 29 March 2026; the reminder comes at 03:30 CEST.
    await set_up(reminders, clock, utc(2026, 3, 28, 12), Schedule(2, 30), zone="Europe/Berlin")
    [sent] = await follow(reminders, clock, 1)
    assert sent == utc(2026, 3, 29, 1, 30)
    assert sent.astimezone(BERLIN).strftime("%H:%M") == "03:30"
    status = await reminders.status(ANA)
    assert status.next_at == datetime(2026, 3, 30, 2, 30, tzinfo=BERLIN)


async def test_chosen_days_only(reminders: ReminderService, clock: ManualClock) -> None:
    # 5 January 2026 is a Monday.
    await set_up(reminders, clock, utc(2026, 1, 5, 8), Schedule(18, 15, "mon,wed,fri"))
    sent = await follow(reminders, clock, 4)
    assert [t.strftime("%a %d %H:%M") for t in sent] == [
        "Mon 05 18:15",
        "Wed 07 18:15",
        "Fri 09 18:15",
        "Mon 12 18:15",
    ]


async def test_weekends_in_a_zone_west_of_utc_follow_the_local_calendar(
    reminders: ReminderService, clock: ManualClock
) -> None:
    # 21:00 on a New York Saturday is already Sunday in UTC.
    await set_up(
        reminders, clock, utc(2026, 1, 5, 8), Schedule(21, 0, "sat"), zone="America/New_York"
    )
    [sent] = await follow(reminders, clock, 1)
    assert sent == utc(2026, 1, 11, 2, 0)
    assert sent.astimezone(NEW_YORK).strftime("%a %H:%M") == "Sat 21:00"


# -- snooze, skip, practised ---------------------------------------------------------------


async def test_snooze_reminds_again_in_30_minutes_then_tomorrow(
    reminders: ReminderService, clock: ManualClock
) -> None:
    await set_up(reminders, clock, utc(2026, 1, 5, 7), Schedule(7, 30))
    assert len(await claim_at(reminders, clock, utc(2026, 1, 5, 7, 30))) == 1
    clock.now = utc(2026, 1, 5, 7, 32)
    status = await reminders.snooze(ANA)
    assert status is not None and status.next_at == utc(2026, 1, 5, 8, 2)
    assert await claim_at(reminders, clock, utc(2026, 1, 5, 8, 1)) == []
    [again] = await claim_at(reminders, clock, utc(2026, 1, 5, 8, 2))
    assert again.day == date(2026, 1, 5)
    assert (await reminders.status(ANA)).next_at == utc(2026, 1, 6, 7, 30)
    assert await claim_at(reminders, clock, utc(2026, 1, 5, 23, 59)) == []


async def test_skip_today_cancels_a_snooze_and_moves_to_tomorrow(
    reminders: ReminderService, clock: ManualClock
) -> None:
    await set_up(reminders, clock, utc(2026, 1, 5, 7), Schedule(7, 30))
    await claim_at(reminders, clock, utc(2026, 1, 5, 7, 30))
    await reminders.snooze(ANA)
    status = await reminders.skip_today(ANA)
    assert status is not None and status.next_at == utc(2026, 1, 6, 7, 30)
    assert await claim_at(reminders, clock, utc(2026, 1, 5, 8, 5)) == []
    assert len(await claim_at(reminders, clock, utc(2026, 1, 6, 7, 30))) == 1


async def test_skip_today_before_the_reminder_means_none_today(
    reminders: ReminderService, clock: ManualClock
) -> None:
    await set_up(reminders, clock, utc(2026, 1, 5, 6), Schedule(7, 30))
    status = await reminders.skip_today(ANA)
    assert status is not None and status.next_at == utc(2026, 1, 6, 7, 30)
    assert await claim_at(reminders, clock, utc(2026, 1, 5, 7, 30)) == []


async def test_snooze_and_skip_do_nothing_when_reminders_are_off(
    reminders: ReminderService, clock: ManualClock
) -> None:
    assert await reminders.snooze(ANA) is None
    await set_up(reminders, clock, utc(2026, 1, 5, 6), Schedule(7, 30))
    await reminders.turn_off(ANA)
    assert await reminders.snooze(ANA) is None
    assert await reminders.skip_today(ANA) is None
    assert await claim_at(reminders, clock, utc(2026, 1, 5, 7, 30)) == []


async def test_no_reminder_on_a_day_already_practised_in_the_users_zone(
    reminders: ReminderService, clock: ManualClock, db_engine: AsyncEngine
) -> None:
    # 20:00 Berlin; Ana finished a practice at 00:30 Berlin time (23:30 UTC the day before).
    await set_up(reminders, clock, utc(2026, 1, 4, 12), Schedule(20, 0), zone="Europe/Berlin")
    await finish_practice(db_engine, ANA, utc(2026, 1, 4, 23, 30))
    assert await claim_at(reminders, clock, utc(2026, 1, 5, 19, 0)) == []
    assert (await reminders.status(ANA)).next_at == datetime(2026, 1, 6, 20, 0, tzinfo=BERLIN)
    # A practice on the day before does not silence the next day.
    assert len(await claim_at(reminders, clock, utc(2026, 1, 6, 19, 0))) == 1


async def test_a_snoozed_reminder_is_dropped_once_the_user_practised(
    reminders: ReminderService, clock: ManualClock, db_engine: AsyncEngine
) -> None:
    await set_up(reminders, clock, utc(2026, 1, 5, 7), Schedule(7, 30))
    await claim_at(reminders, clock, utc(2026, 1, 5, 7, 30))
    await reminders.snooze(ANA)
    await finish_practice(db_engine, ANA, utc(2026, 1, 5, 7, 55))
    assert await claim_at(reminders, clock, utc(2026, 1, 5, 8, 0)) == []


@pytest.mark.parametrize(
    ("before", "after", "hard"), [(2, 5, True), (2, 7, True), (2, 4, False), (None, None, False)]
)
async def test_the_reminder_after_a_practice_that_left_the_back_worse_says_so(
    reminders: ReminderService,
    clock: ManualClock,
    db_engine: AsyncEngine,
    before: int | None,
    after: int | None,
    hard: bool,
) -> None:
    await set_up(reminders, clock, utc(2026, 1, 5, 7), Schedule(7, 30))
    await add_session(db_engine, ANA, utc(2026, 1, 4, 18), back_before=before, back_after=after)
    [reminder] = await claim_at(reminders, clock, utc(2026, 1, 5, 7, 30))
    assert reminder.after_a_hard_day is hard
    # Two days on, the hard day is no longer mentioned.
    [later] = await claim_at(reminders, clock, utc(2026, 1, 7, 7, 30))
    assert later.after_a_hard_day is False


# -- restarts, crashes, failures -------------------------------------------------------------


async def test_missed_by_less_than_two_hours_is_sent_once(
    reminders: ReminderService, clock: ManualClock
) -> None:
    await set_up(reminders, clock, utc(2026, 1, 5, 6), Schedule(7, 30))
    [late] = await claim_at(reminders, clock, utc(2026, 1, 5, 9, 29))
    assert late.day == date(2026, 1, 5)
    assert await claim_at(reminders, clock, utc(2026, 1, 5, 9, 30)) == []
    assert (await reminders.status(ANA)).next_at == utc(2026, 1, 6, 7, 30)


async def test_missed_by_two_hours_or_more_is_skipped(
    reminders: ReminderService, clock: ManualClock
) -> None:
    await set_up(reminders, clock, utc(2026, 1, 5, 6), Schedule(7, 30))
    assert await claim_at(reminders, clock, utc(2026, 1, 5, 9, 30)) == []
    assert (await reminders.status(ANA)).next_at == utc(2026, 1, 6, 7, 30)


async def test_after_days_away_only_a_reminder_of_the_last_two_hours_is_sent(
    reminders: ReminderService, clock: ManualClock
) -> None:
    await set_up(reminders, clock, utc(2026, 1, 5, 6), Schedule(7, 30))
    # Down from before Monday's reminder until Thursday 08:00: only Thursday's is sent.
    [sent] = await claim_at(reminders, clock, utc(2026, 1, 8, 8, 0))
    assert sent.day == date(2026, 1, 8)
    assert await claim_at(reminders, clock, utc(2026, 1, 8, 9, 0)) == []


async def test_a_claimed_reminder_is_never_claimed_again(
    reminders: ReminderService, clock: ManualClock, db_engine: AsyncEngine
) -> None:
    """The claim is the intent: if the process dies after it, that day's reminder is gone
    rather than sent twice."""
    await set_up(reminders, clock, utc(2026, 1, 5, 6), Schedule(7, 30))
    assert len(await claim_at(reminders, clock, utc(2026, 1, 5, 7, 30))) == 1
    row = await stored(db_engine)
    assert row.claimed_for == "2026-01-05"
    assert row.next_due_at == utc(2026, 1, 6, 7, 30)
    assert await claim_at(reminders, clock, utc(2026, 1, 5, 7, 31)) == []


async def test_setting_a_later_time_the_same_day_waits_for_tomorrow(
    reminders: ReminderService, clock: ManualClock
) -> None:
    await set_up(reminders, clock, utc(2026, 1, 5, 6), Schedule(7, 30))
    await claim_at(reminders, clock, utc(2026, 1, 5, 7, 30))
    clock.now = utc(2026, 1, 5, 8)
    status = await reminders.set_schedule(ANA, ANA, "Ana", Schedule(18, 0))
    assert status.next_at == utc(2026, 1, 6, 18, 0)
    assert await claim_at(reminders, clock, utc(2026, 1, 5, 18, 0)) == []


async def test_a_network_failure_is_retried_a_few_times_then_dropped(
    reminders: ReminderService, clock: ManualClock, db_engine: AsyncEngine
) -> None:
    await set_up(reminders, clock, utc(2026, 1, 5, 6), Schedule(7, 30))
    [first] = await claim_at(reminders, clock, utc(2026, 1, 5, 7, 30))
    attempts = [first]
    while await reminders.delivery_failed(attempts[-1]):
        assert await claim_at(reminders, clock, clock.now + RETRY_DELAY / 2) == []
        [retry] = await claim_at(reminders, clock, clock.now + RETRY_DELAY)
        assert retry.day == first.day
        attempts.append(retry)
    assert [a.attempt for a in attempts] == list(range(1, MAX_ATTEMPTS + 1))
    row = await stored(db_engine)
    assert row.repeat_of is None and row.next_due_at == utc(2026, 1, 6, 7, 30)
    assert await claim_at(reminders, clock, utc(2026, 1, 5, 8, 0)) == []


async def test_due_rows_are_claimed_oldest_first_in_batches(
    reminders: ReminderService, clock: ManualClock, db_engine: AsyncEngine
) -> None:
    for user_id, minute in ((1, 20), (2, 5), (3, 15), (4, 10), (5, 55)):
        await set_up(reminders, clock, utc(2026, 1, 5, 6), Schedule(7, minute), user_id=user_id)
    clock.now = utc(2026, 1, 5, 7, 30)
    first = await reminders.claim_due(2)
    assert [r.user_id for r in first.reminders] == [2, 4] and first.more
    rest = await reminders.claim_due(10)
    assert [r.user_id for r in rest.reminders] == [3, 1] and not rest.more


async def test_a_new_zone_moves_the_pending_reminder(
    reminders: ReminderService, clock: ManualClock
) -> None:
    await set_up(reminders, clock, utc(2026, 1, 5, 5), Schedule(7, 30))
    assert (await reminders.status(ANA)).next_at == utc(2026, 1, 5, 7, 30)
    status = await reminders.set_timezone(ANA, ANA, "Ana", "europe/berlin")
    assert status.zone == "Europe/Berlin" and not status.zone_is_default
    assert status.next_at == datetime(2026, 1, 5, 7, 30, tzinfo=BERLIN)


async def test_the_schedule_is_stored_next_to_its_utc_due_time(
    reminders: ReminderService, clock: ManualClock, db_engine: AsyncEngine
) -> None:
    await set_up(
        reminders, clock, utc(2026, 1, 5, 5), Schedule(18, 15, "mon,wed,fri"), zone="Asia/Tokyo"
    )
    row = await stored(db_engine)
    assert (row.hour, row.minute, row.days, row.enabled) == (18, 15, "mon,wed,fri", True)
    assert row.next_due_at == utc(2026, 1, 5, 9, 15)
    async with create_sessionmaker(db_engine)() as db:
        assert await db.scalar(select(Reminder.user_id)) == ANA


async def test_the_deployment_default_zone_applies_until_the_user_sets_one(
    db_engine: AsyncEngine, clock: ManualClock
) -> None:
    service = ReminderService(Store(db_engine), clock, "Europe/Berlin")
    await set_up(service, clock, utc(2026, 1, 5, 5), Schedule(7, 30))
    status = await service.status(ANA)
    assert status.zone == "Europe/Berlin" and status.zone_is_default
    assert status.next_at == datetime(2026, 1, 5, 7, 30, tzinfo=BERLIN)


# -- a time tapped before the zone is known --------------------------------------------------


async def test_a_tapped_time_waits_for_the_zone_and_starts_once_it_is_set(
    reminders: ReminderService, clock: ManualClock
) -> None:
    clock.now = utc(2026, 1, 5, 5)
    waiting = await reminders.set_time(ANA, ANA, "Ana", 18, 0)
    assert waiting.waiting_for_zone and waiting.next_at is None
    assert waiting.schedule == Schedule(18, 0)
    # Nothing falls due in the default zone meanwhile, not even days later.
    assert await claim_at(reminders, clock, utc(2026, 1, 5, 18)) == []
    assert await claim_at(reminders, clock, utc(2026, 1, 7, 18)) == []
    clock.now = utc(2026, 1, 8, 5)
    started = await reminders.set_timezone(ANA, ANA, "Ana", "Europe/Berlin")
    assert not started.waiting_for_zone
    assert started.next_at == datetime(2026, 1, 8, 18, 0, tzinfo=BERLIN)
    [reminder] = await claim_at(reminders, clock, utc(2026, 1, 8, 17))
    assert reminder.day == date(2026, 1, 8)


async def test_a_tapped_time_with_a_zone_of_ones_own_is_set_at_once(
    reminders: ReminderService, clock: ManualClock
) -> None:
    clock.now = utc(2026, 1, 5, 5)
    await reminders.set_timezone(ANA, ANA, "Ana", "America/New_York")
    status = await reminders.set_time(ANA, ANA, "Ana", 18, 0)
    assert not status.waiting_for_zone
    assert status.next_at == datetime(2026, 1, 5, 18, 0, tzinfo=NEW_YORK)


async def test_a_typed_time_before_the_zone_uses_the_default_and_says_so(
    reminders: ReminderService, clock: ManualClock
) -> None:
    await set_up(reminders, clock, utc(2026, 1, 5, 5), Schedule(7, 30))
    status = await reminders.status(ANA)
    assert not status.waiting_for_zone and status.zone_is_default
    assert status.next_at == utc(2026, 1, 5, 7, 30)


async def test_a_typed_city_or_offset_sets_the_zone_and_a_name_of_several_sets_none(
    reminders: ReminderService, clock: ManualClock
) -> None:
    await set_up(reminders, clock, utc(2026, 1, 5, 5), Schedule(7, 30))
    found = await reminders.set_timezone_as_typed(ANA, ANA, "Ana", "sao paulo")
    assert isinstance(found, ZoneSet) and found.status.zone == "America/Sao_Paulo"
    assert found.place is not None and found.place.name == "São Paulo"
    fixed = await reminders.set_timezone_as_typed(ANA, ANA, "Ana", "UTC+2")
    assert isinstance(fixed, ZoneSet)
    assert fixed.status.zone == "UTC+02:00" and fixed.status.zone_is_fixed
    assert fixed.status.next_at is not None
    assert fixed.status.next_at.astimezone(UTC) == utc(2026, 1, 5, 5, 30)
    before = await reminders.status(ANA)
    choices = await reminders.set_timezone_as_typed(ANA, ANA, "Ana", "Portland")
    assert isinstance(choices, ZoneChoices)
    assert await reminders.status(ANA) == before
    with pytest.raises(ReminderInputError):
        await reminders.set_timezone_as_typed(ANA, ANA, "Ana", "Narnia")
    assert await reminders.status(ANA) == before
