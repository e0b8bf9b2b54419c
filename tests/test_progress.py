"""/progress numbers and chart, computed from stored sessions without Telegram."""

from __future__ import annotations

import io
from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import matplotlib.image
import pytest
from sqlalchemy.ext.asyncio import AsyncEngine

from bot.chart import weekly_chart
from bot.clock import ManualClock
from bot.models import PracticeStatus
from bot.progress import CHART_WEEKS, ProgressService, Week, streaks
from bot.store import Store
from tests.factories import make_class
from tests.records import add_session, add_user

TINY = make_class()
PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"


def service(engine: AsyncEngine, clock: ManualClock, default_zone: str = "UTC") -> ProgressService:
    store = Store(engine)
    return ProgressService(store, {TINY.id: TINY}, clock, default_zone)


def local(zone: str, text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=ZoneInfo(zone))


def test_streaks_count_runs_and_keep_the_current_one_alive_until_the_day_ends() -> None:
    d = date(2026, 1, 10)
    days = [d - timedelta(days=n) for n in (1, 2, 3, 6, 7)]
    assert streaks(days, today=d) == (3, 3)  # today not yet practised: still 3
    assert streaks([*days, d], today=d) == (4, 4)
    assert streaks(days, today=d + timedelta(days=1)) == (0, 3)
    assert streaks([], today=d) == (0, 0)


async def test_a_new_user_has_no_progress(db_engine: AsyncEngine, clock: ManualClock) -> None:
    assert await service(db_engine, clock).report(4242) is None
    await add_user(db_engine, 4242)  # known from /start, but never practised
    assert await service(db_engine, clock).report(4242) is None


async def test_totals_recent_sessions_easier_poses_and_back_averages(
    db_engine: AsyncEngine, clock: ManualClock
) -> None:
    clock.now = datetime(2026, 1, 12, 18, 0, tzinfo=UTC)
    base = datetime(2026, 1, 5, 8, 0, tzinfo=UTC)
    for n in range(6):
        await add_session(
            db_engine,
            7,
            base + timedelta(days=n),
            status=PracticeStatus.STOPPED if n == 4 else PracticeStatus.FINISHED,
            minutes=10,
            back_before=6 if n % 2 else 4,
            back_after=3 if n % 2 else None,
            easier_steps=("pose-2",) if n < 3 else ("pose-1", "pose-2"),
        )
    await add_session(db_engine, 8, base, minutes=99)  # someone else's

    report = await service(db_engine, clock).report(7)

    assert report is not None
    assert report.finished == 5
    assert report.total_minutes == 60
    # Practised 5..10 Jan; today is the 12th, so the run has ended.
    assert (report.current_streak, report.longest_streak) == (0, 6)
    assert [r.day for r in report.recent] == [date(2026, 1, d) for d in (10, 9, 8, 7, 6)]
    assert report.recent[1].status == PracticeStatus.STOPPED
    assert report.recent[0].class_title == "Tiny Class"
    assert report.recent[0].minutes == 10
    assert report.easier_most == [("Pose 2, right side", 6), ("Pose 1", 3)]
    assert report.back_before == pytest.approx(5.0)
    assert report.back_after == pytest.approx(3.0)


async def test_streak_follows_local_days_across_a_utc_date(
    db_engine: AsyncEngine, clock: ManualClock
) -> None:
    # New York, January (UTC-5): 23:30 on the 5th and 00:30 on the 6th are two local
    # days, but both fall on 6 January in UTC.
    zone = "America/New_York"
    first, second = local(zone, "2026-01-05T23:30"), local(zone, "2026-01-06T00:30")
    assert first.astimezone(UTC).date() == second.astimezone(UTC).date()
    await add_user(db_engine, 10, timezone=zone)
    await add_session(db_engine, 10, first)
    await add_session(db_engine, 10, second)
    clock.now = local(zone, "2026-01-06T19:00").astimezone(UTC)

    report = await service(db_engine, clock).report(10)
    assert report is not None
    assert (report.current_streak, report.longest_streak) == (2, 2)
    assert [r.day for r in report.recent] == [date(2026, 1, 6), date(2026, 1, 5)]

    # The same history read in UTC is a single day: the zone is what made it two.
    await add_user(db_engine, 11)
    await add_session(db_engine, 11, first)
    await add_session(db_engine, 11, second)
    in_utc = await service(db_engine, clock).report(11)
    assert in_utc is not None
    assert (in_utc.current_streak, in_utc.longest_streak) == (1, 1)


async def test_consecutive_utc_dates_are_no_streak_when_the_local_days_are_apart(
    db_engine: AsyncEngine, clock: ManualClock
) -> None:
    # Tokyo (UTC+9): 23:30 on the 5th and 00:30 on the 7th are UTC 5 and 6 January.
    zone = "Asia/Tokyo"
    first, second = local(zone, "2026-01-05T23:30"), local(zone, "2026-01-07T00:30")
    assert (second.astimezone(UTC).date() - first.astimezone(UTC).date()).days == 1
    await add_session(db_engine, 12, first)
    await add_session(db_engine, 12, second)
    clock.now = local(zone, "2026-01-07T09:00").astimezone(UTC)

    # No zone of their own: the deployment's DEFAULT_TIMEZONE applies.
    report = await service(db_engine, clock, default_zone=zone).report(12)
    assert report is not None
    assert (report.current_streak, report.longest_streak) == (1, 1)


async def test_weeks_are_the_last_eight_local_weeks_from_monday(
    db_engine: AsyncEngine, clock: ManualClock
) -> None:
    zone = "Europe/Berlin"
    clock.now = local(zone, "2026-03-04T12:00").astimezone(UTC)  # a Wednesday
    await add_user(db_engine, 13, timezone=zone)
    # Sunday 23:30 in Berlin is still the week of Monday 23 February.
    await add_session(db_engine, 13, local(zone, "2026-03-01T23:30"), minutes=20, back_before=6)
    await add_session(db_engine, 13, local(zone, "2026-03-02T07:00"), minutes=15, back_after=2)
    await add_session(db_engine, 13, local(zone, "2025-12-01T07:00"), minutes=30)  # too old

    report = await service(db_engine, clock).report(13)
    assert report is not None
    weeks = report.weeks
    assert len(weeks) == CHART_WEEKS
    assert weeks[-1].start == date(2026, 3, 2)
    assert weeks[0].start == date(2026, 1, 12)
    assert all(w.start.weekday() == 0 for w in weeks)
    assert (weeks[-2].minutes, weeks[-2].back_before, weeks[-2].back_after) == (20, 6, None)
    assert (weeks[-1].minutes, weeks[-1].back_before, weeks[-1].back_after) == (15, None, 2)
    assert sum(w.minutes for w in weeks) == 35


def _read_png(data: bytes):  # type: ignore[no-untyped-def]
    assert data.startswith(PNG_SIGNATURE)
    return matplotlib.image.imread(io.BytesIO(data), format="png")


def test_chart_is_a_png_that_reads_back() -> None:
    start = date(2026, 1, 5)
    weeks = [
        Week(start + timedelta(weeks=n), 10.0 * n, 5.0 if n % 2 else None, 3.0 if n > 4 else None)
        for n in range(CHART_WEEKS)
    ]
    image = _read_png(weekly_chart(weeks))
    height, width = image.shape[:2]
    assert (width, height) == (800, 450)


def test_chart_of_weeks_without_any_practice_still_draws() -> None:
    weeks = [Week(date(2026, 1, 5) + timedelta(weeks=n), 0.0, None, None) for n in range(8)]
    assert _read_png(weekly_chart(weeks)).shape[0] == 450
