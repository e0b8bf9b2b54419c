"""/progress numbers and chart, computed from stored sessions without Telegram."""

from __future__ import annotations

import io
from datetime import UTC, date, datetime, timedelta
from typing import cast
from zoneinfo import ZoneInfo

import matplotlib.figure
import matplotlib.image
import matplotlib.text
import pytest
from sqlalchemy import update
from sqlalchemy.ext.asyncio import AsyncEngine

from bot import chart
from bot.chart import build_figure, weekly_chart
from bot.clock import ManualClock
from bot.database import create_sessionmaker
from bot.models import Practice, PracticeStatus
from bot.progress import (
    CHART_WEEKS,
    BackChange,
    MonthOverMonth,
    ProgressService,
    Week,
    back_change,
    streaks,
)
from bot.store import Store
from tests.harness.factories import make_class
from tests.harness.records import add_session, add_user

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


async def mark_gentle(engine: AsyncEngine, practice_id: int) -> None:
    async with create_sessionmaker(engine).begin() as db:
        await db.execute(update(Practice).where(Practice.id == practice_id).values(gentle=True))


async def test_weeks_count_their_gentle_practices(
    db_engine: AsyncEngine, clock: ManualClock
) -> None:
    clock.now = datetime(2026, 3, 4, 12, 0, tzinfo=UTC)  # a Wednesday; this week is 2 March
    for day, gentle in (
        (datetime(2026, 2, 16, 7, 0, tzinfo=UTC), False),
        (datetime(2026, 2, 23, 7, 0, tzinfo=UTC), True),
        (datetime(2026, 2, 24, 7, 0, tzinfo=UTC), False),
        (datetime(2026, 2, 25, 7, 0, tzinfo=UTC), True),
        (datetime(2026, 3, 3, 7, 0, tzinfo=UTC), True),
    ):
        practice_id = await add_session(db_engine, 14, day)
        if gentle:
            await mark_gentle(db_engine, practice_id)

    report = await service(db_engine, clock).report(14)
    assert report is not None
    assert [w.gentle for w in report.weeks] == [0, 0, 0, 0, 0, 0, 2, 1]
    assert [r.gentle for r in report.recent] == [True, True, False, True, False]


# Wednesday 4 March 2026: the chart's weeks run from Monday 12 January to this week, the
# last four from 9 February.
TODAY = datetime(2026, 3, 4, 12, 0, tzinfo=UTC)
LAST_MONTH = datetime(2026, 2, 9, 7, 0, tzinfo=UTC)
MONTH_BEFORE = datetime(2026, 1, 12, 7, 0, tzinfo=UTC)


async def scored(
    engine: AsyncEngine,
    user_id: int,
    first: datetime,
    scores: list[tuple[int | None, int | None]],
) -> None:
    """A practice every second day from `first`, with these (before, after) scores."""
    for n, (before, after) in enumerate(scores):
        await add_session(
            engine, user_id, first + timedelta(days=2 * n), back_before=before, back_after=after
        )


@pytest.mark.parametrize(
    ("scores", "change", "points"),
    [
        ([(6, 4), (5, 3), (7, 5), (4, None)], BackChange.EASIER, 2.0),
        ([(5, 4), (5, 5), (3, 3), (4, 4)], BackChange.ABOUT_THE_SAME, 0.25),
        # Half a point either way is still about the same.
        ([(5, 4), (5, 4), (4, 4), (4, 4)], BackChange.ABOUT_THE_SAME, 0.5),
        ([(3, 4), (4, 4)], None, None),  # two pairs are too few for a claim
        ([(3, 5), (2, 3), (4, 4)], BackChange.MORE_TENDER, 1.0),
    ],
)
async def test_after_practice_says_which_way_the_back_moved_on_average(
    db_engine: AsyncEngine,
    clock: ManualClock,
    scores: list[tuple[int | None, int | None]],
    change: BackChange | None,
    points: float | None,
) -> None:
    clock.now = TODAY
    await scored(db_engine, 15, LAST_MONTH, scores)
    report = await service(db_engine, clock).report(15)
    assert report is not None
    if change is None:
        assert report.after_practice is None
        return
    assert report.after_practice is not None
    assert report.after_practice.change == change
    assert report.after_practice.points == pytest.approx(points)
    assert report.after_practice.practices == sum(a is not None for _, a in scores)


def test_half_a_point_exactly_is_about_the_same() -> None:
    assert back_change(4.0, 3.5) == BackChange.ABOUT_THE_SAME
    assert back_change(13 / 3, 23 / 6) == BackChange.ABOUT_THE_SAME  # means of thirds
    assert back_change(4.0, 3.4) == BackChange.EASIER
    assert back_change(4.0, 4.6) == BackChange.MORE_TENDER


async def test_before_practice_this_month_against_the_month_before(
    db_engine: AsyncEngine, clock: ManualClock
) -> None:
    clock.now = TODAY
    await add_session(db_engine, 16, datetime(2025, 12, 1, 7, 0, tzinfo=UTC), back_before=10)
    await scored(db_engine, 16, MONTH_BEFORE, [(5, 3), (6, None), (None, 2), (4, 3)])
    await scored(db_engine, 16, LAST_MONTH, [(4, 3), (3, 2), (4, None)])

    report = await service(db_engine, clock).report(16)
    assert report is not None
    # The practice of December is older than the chart and left out of "a month ago".
    assert report.month_over_month == MonthOverMonth(
        BackChange.EASIER, cast(float, pytest.approx(5.0)), cast(float, pytest.approx(11 / 3))
    )


@pytest.mark.parametrize(
    ("earlier", "recent", "change"),
    [
        ([3, 4], [5, 5, 6], BackChange.MORE_TENDER),
        ([4, 5], [4, 5, 4], BackChange.ABOUT_THE_SAME),
        ([4], [2, 2], None),  # one score a month ago is too few
        ([5, 6], [3], None),
        ([], [], None),
    ],
)
async def test_month_over_month_needs_two_scores_in_each_month(
    db_engine: AsyncEngine,
    clock: ManualClock,
    earlier: list[int],
    recent: list[int],
    change: BackChange | None,
) -> None:
    clock.now = TODAY
    # Each month also has a practice scored only after: it adds nothing to "before".
    await scored(db_engine, 17, MONTH_BEFORE, [(None, 3), *((b, None) for b in earlier)])
    await scored(db_engine, 17, LAST_MONTH, [(None, 3), *((b, None) for b in recent)])
    report = await service(db_engine, clock).report(17)
    assert report is not None
    if change is None:
        assert report.month_over_month is None
    else:
        assert report.month_over_month is not None
        assert report.month_over_month.change == change


def eight_weeks(*, gentle: bool = True) -> list[Week]:
    """A history like a real one: practice most weeks, sore weeks gentle, the back easing."""
    start = date(2025, 11, 3)
    minutes = [45, 60, 20, 75, 90, 0, 80, 55]
    before = [6.0, 5.5, 6.5, 5.0, 4.5, None, 3.5, 3.0]
    after = [4.0, 3.5, 5.0, 3.0, None, None, 2.0, 2.0]
    gentle_count = [1, 0, 2, 0, 0, 0, 1, 0] if gentle else [0] * CHART_WEEKS
    return [
        Week(start + timedelta(weeks=n), minutes[n], before[n], after[n], gentle_count[n])
        for n in range(CHART_WEEKS)
    ]


def _read_png(data: bytes):  # type: ignore[no-untyped-def]
    assert data.startswith(PNG_SIGNATURE)
    return matplotlib.image.imread(io.BytesIO(data), format="png")


def test_chart_is_a_phone_shaped_png_and_the_same_weeks_give_the_same_bytes() -> None:
    weeks = eight_weeks()
    data = weekly_chart(weeks)
    height, width = _read_png(data).shape[:2]
    # A little taller than wide: the bubble is narrow, and the photo fits a screen at once.
    assert width < height <= 1.35 * width
    # Sharp on a dense screen, yet no side over 1280 px, where Telegram would shrink it.
    assert width >= 2 * chart.PHONE_WIDTH_PX and max(width, height) <= 1280
    assert weekly_chart(weeks) == data
    assert weekly_chart(list(weeks)) == data
    assert b"Software" not in data  # no matplotlib version in the metadata


def visible_texts(figure: matplotlib.figure.Figure) -> list[matplotlib.text.Text]:
    figure.draw_without_rendering()  # tick labels and layout are settled at draw time
    return [
        t
        for t in figure.findobj(matplotlib.text.Text)
        if isinstance(t, matplotlib.text.Text) and t.get_visible() and t.get_text().strip()
    ]


@pytest.mark.parametrize("gentle", [True, False])
def test_every_label_is_at_least_12_px_tall_in_a_phone_chat_bubble(gentle: bool) -> None:
    figure = build_figure(eight_weeks(gentle=gentle))
    texts = visible_texts(figure)
    width_px = figure.get_figwidth() * figure.dpi
    on_phone = chart.PHONE_WIDTH_PX / width_px
    smallest = min(t.get_fontsize() for t in texts)
    assert isinstance(smallest, float)  # a size in points, never a name such as "small"
    assert smallest * figure.dpi / 72 * on_phone >= 12
    words = {t.get_text() for t in texts}
    assert "Back score (0–10, lower is better)" in words
    assert {"before practice", "after practice"} <= words
    assert ("gentle" in words) == gentle
    # Short dates, every other week, ending at this one.
    assert {"10 Nov", "24 Nov", "8 Dec", "22 Dec"} <= words
    assert "3 Nov" not in words


def test_chart_has_one_y_axis_per_panel_and_the_panels_share_the_weeks() -> None:
    figure = build_figure(eight_weeks())
    minutes_axis, back_axis = figure.axes
    assert minutes_axis.get_shared_x_axes().joined(minutes_axis, back_axis)
    assert back_axis.get_ylim() == (0, 10)


def test_chart_of_weeks_without_any_practice_still_draws() -> None:
    weeks = [Week(date(2026, 1, 5) + timedelta(weeks=n), 0.0, None, None) for n in range(8)]
    height, width = _read_png(weekly_chart(weeks)).shape[:2]
    assert width < height
