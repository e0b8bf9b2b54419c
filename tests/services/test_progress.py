"""/progress numbers and chart, computed from stored sessions without Telegram."""

from __future__ import annotations

import io
from datetime import UTC, date, datetime, timedelta
from typing import cast
from zoneinfo import ZoneInfo

import pytest
from PIL import Image, ImageColor
from sqlalchemy import update
from sqlalchemy.ext.asyncio import AsyncEngine

from bot import chart
from bot.chart import draw, weekly_chart
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
    # Over the same practices: the three with both check-ins (before 6, after 3), not
    # every before (6 and 4) against the afters there are.
    assert report.back_before == pytest.approx(6.0)
    assert report.back_after == pytest.approx(3.0)
    assert report.scored == 3


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
    await add_session(
        db_engine, 13, local(zone, "2026-03-01T23:30"), minutes=20, back_before=6, back_after=4
    )
    await add_session(db_engine, 13, local(zone, "2026-03-02T07:00"), minutes=15, back_after=2)
    await add_session(db_engine, 13, local(zone, "2025-12-01T07:00"), minutes=30)  # too old

    report = await service(db_engine, clock).report(13)
    assert report is not None
    weeks = report.weeks
    assert len(weeks) == CHART_WEEKS
    assert weeks[-1].start == date(2026, 3, 2)
    assert weeks[0].start == date(2026, 1, 12)
    assert all(w.start.weekday() == 0 for w in weeks)
    assert (weeks[-2].minutes, weeks[-2].back_before, weeks[-2].back_after) == (20, 6, 4)
    # An "after" without its "before" has nothing to compare with: no score that week.
    assert (weeks[-1].minutes, weeks[-1].back_before, weeks[-1].back_after) == (15, None, None)
    assert sum(w.minutes for w in weeks) == 35


async def mark_gentle(engine: AsyncEngine, practice_id: int) -> None:
    async with create_sessionmaker(engine).begin() as db:
        await db.execute(update(Practice).where(Practice.id == practice_id).values(gentle=True))


async def test_weeks_count_their_gentle_minutes(db_engine: AsyncEngine, clock: ManualClock) -> None:
    clock.now = datetime(2026, 3, 4, 12, 0, tzinfo=UTC)  # a Wednesday; this week is 2 March
    for day, gentle, minutes in (
        (datetime(2026, 2, 16, 7, 0, tzinfo=UTC), False, 30),
        (datetime(2026, 2, 23, 7, 0, tzinfo=UTC), True, 14),
        (datetime(2026, 2, 24, 7, 0, tzinfo=UTC), False, 30),
        (datetime(2026, 2, 25, 7, 0, tzinfo=UTC), True, 12),
        (datetime(2026, 3, 3, 7, 0, tzinfo=UTC), True, 14),
    ):
        practice_id = await add_session(db_engine, 14, day, minutes=minutes)
        if gentle:
            await mark_gentle(db_engine, practice_id)

    report = await service(db_engine, clock).report(14)
    assert report is not None
    assert [w.minutes for w in report.weeks] == [0, 0, 0, 0, 0, 30, 56, 14]
    assert [w.gentle_minutes for w in report.weeks] == [0, 0, 0, 0, 0, 0, 26, 14]
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
    before = [6.0, 5.5, 6.5, 5.0, None, None, 3.5, 3.0]
    after = [4.0, 3.5, 5.0, 3.0, None, None, 2.0, 2.0]
    gentle_minutes = [14, 0, 20, 0, 0, 0, 28, 0] if gentle else [0] * CHART_WEEKS
    return [
        Week(start + timedelta(weeks=n), minutes[n], before[n], after[n], gentle_minutes[n])
        for n in range(CHART_WEEKS)
    ]


RGB = tuple[int, int, int]
Box = tuple[int, int, int, int]


def _read_png(data: bytes) -> Image.Image:
    assert data.startswith(PNG_SIGNATURE)
    image = Image.open(io.BytesIO(data))
    image.load()
    return image


def rgb(colour: str) -> RGB:
    return cast(RGB, ImageColor.getrgb(colour))


def near(pixel: object, colour: str, tolerance: int = 12) -> bool:
    assert isinstance(pixel, tuple)
    return all(abs(a - b) <= tolerance for a, b in zip(pixel, rgb(colour), strict=True))


def pixels_of(image: Image.Image, box: Box, colour: str, tolerance: int = 12) -> int:
    """How many pixels in `box` are of `colour`, give or take the smoothing."""
    colours = image.crop(box).getcolors(maxcolors=1 << 20) or []
    return sum(count for count, pixel in colours if near(pixel, colour, tolerance))


def test_chart_is_a_phone_shaped_png_and_the_same_weeks_give_the_same_bytes() -> None:
    weeks = eight_weeks()
    data = weekly_chart(weeks)
    image = _read_png(data)
    width, height = image.size
    assert (width, height) == (chart.WIDTH, chart.HEIGHT)
    # A little taller than wide: the bubble is narrow, and the photo fits a screen at once.
    assert width < height <= 1.35 * width
    # Sharp on a dense screen, yet no side over 1280 px, where Telegram would shrink it.
    assert width >= 2 * chart.PHONE_WIDTH_PX and max(width, height) <= 1280
    assert image.mode == "RGB"
    assert weekly_chart(weeks) == data
    assert weekly_chart(list(weeks)) == data
    assert not image.info.keys() & {"Software", "Creation Time", "date:create"}
    assert b"tEXt" not in data and b"iTXt" not in data


def test_each_week_with_practice_has_a_bar_as_tall_as_its_minutes() -> None:
    weeks = eight_weeks(gentle=False)
    image = draw(weeks).image
    # Just above the floor, the bars are runs of the bar colour from left to right.
    row = chart.MINUTES_FLOOR - 4
    runs: list[tuple[int, int]] = []
    for x in range(image.width):
        if near(image.getpixel((x, row)), chart.BAR):
            if runs and runs[-1][1] == x - 1:
                runs[-1] = (runs[-1][0], x)
            else:
                runs.append((x, x))
    # Seven bars: the sixth week had no practice and has none.
    assert len(runs) == 7
    middles = [(left + right) / 2 for left, right in runs]
    slot = (middles[-1] - middles[0]) / 7
    assert [round((m - middles[0]) / slot) for m in middles] == [0, 1, 2, 3, 4, 6, 7]
    assert all(abs(right - left - 0.7 * slot) <= 3 for left, right in runs)
    # Each bar's height, read off the picture, is in proportion to its minutes.
    practised = [w for w in weeks if w.minutes > 0]
    heights = []
    for middle in middles:
        top = row
        while near(image.getpixel((int(middle), top - 1)), chart.BAR):
            top -= 1
        heights.append(chart.MINUTES_FLOOR - top)
    per_minute = heights[0] / practised[0].minutes
    for height, week in zip(heights, practised, strict=True):
        assert height == pytest.approx(week.minutes * per_minute, abs=3)
    # The tallest bar (90 minutes) leaves room for its number above it.
    tallest = max(heights)
    assert tallest > 0.7 * (chart.MINUTES_FLOOR - chart.MINUTES_TOP)
    number = next(lab for lab in draw(weeks).labels if lab.text == "90")
    assert number.box[3] <= chart.MINUTES_FLOOR - tallest
    assert pixels_of(image, number.box, chart.INK, tolerance=40) > 50


def test_the_gentle_minutes_of_a_week_are_hatched_on_top_of_its_usual_ones() -> None:
    weeks = eight_weeks(gentle=True)
    drawing = draw(weeks)
    top = chart.minutes_top(weeks)
    for n, week in enumerate(weeks):
        if week.minutes == 0:
            continue
        x = round(chart.week_x(n, len(weeks)))
        # A band of the bar well inside its usual part, and one well inside its gentle part.
        usual_top = chart.minutes_y(week.minutes - week.gentle_minutes, top)
        usual = (x - 20, round(usual_top) + 10, x + 20, round(usual_top) + 30)
        gentle = (x - 20, round(usual_top) - 30, x + 20, round(usual_top) - 10)
        if week.minutes > week.gentle_minutes:
            assert pixels_of(drawing.image, usual, chart.BAR) == 40 * 20, n
        if week.gentle_minutes:
            assert pixels_of(drawing.image, gentle, chart.GENTLE_BAR) > 400, n
            assert pixels_of(drawing.image, gentle, chart.ACCENT) > 20, n  # the stripes
            # Only the stripes' smoothed edges come near the solid bars' colour.
            assert pixels_of(drawing.image, gentle, chart.BAR) < 0.1 * 40 * 20, n
    words = {label.text for label in drawing.labels}
    assert chart.GENTLE in words
    assert chart.GENTLE not in {label.text for label in draw(eight_weeks(gentle=False)).labels}


def test_back_scores_are_points_on_the_0_to_10_scale_with_gaps_for_weeks_without() -> None:
    weeks = eight_weeks()
    drawing = draw(weeks)
    image = drawing.image
    scale = {lab.text: (lab.box[1] + lab.box[3]) / 2 for lab in drawing.labels}
    # The scale's numbers stand evenly, 10 at the top.
    assert scale["10"] < scale["5"] < scale["0"]
    assert scale["5"] == pytest.approx((scale["0"] + scale["10"]) / 2, abs=2)
    per_point = (scale["0"] - scale["10"]) / 10
    panel = (scale["10"] - 20, scale["0"] + 2)
    for n, week in enumerate(weeks):
        for score, colour, side in (
            (week.back_before, chart.BEFORE, chart.BEFORE_SIDE),
            (week.back_after, chart.AFTER, chart.AFTER_SIDE),
        ):
            x = round(chart.score_x(n, len(weeks), side))
            column = (x - 2, round(panel[0]), x + 3, round(panel[1]))
            if score is None:
                # A gap, not a zero: nothing of that line's colour in the week at all.
                assert pixels_of(image, column, colour, tolerance=30) == 0
                continue
            # The marker's middle sits at the score, read against the scale's numbers.
            y = round(scale["0"] - score * per_point)
            assert near(image.getpixel((x, y)), colour), (n, score)
    # Before practice the back was worse (higher) every week here: its line is above.
    first = round(chart.week_x(0, len(weeks)))
    heights = range(*map(round, panel))
    before_y = min(y for y in heights if near(image.getpixel((first - 5, y)), chart.BEFORE))
    after_y = min(y for y in heights if near(image.getpixel((first + 5, y)), chart.AFTER))
    assert before_y < after_y


@pytest.mark.parametrize("gentle", [True, False])
def test_every_label_is_drawn_at_least_12_px_tall_in_a_phone_chat_bubble(gentle: bool) -> None:
    weeks = eight_weeks(gentle=gentle)
    drawing = draw(weeks)
    on_phone = chart.PHONE_WIDTH_PX / drawing.image.width
    assert min(label.size for label in drawing.labels) * on_phone >= 12
    # The figures' ink itself: a "10" is at least 3/4 of the font size tall.
    ten = next(lab for lab in drawing.labels if lab.text == "10")
    assert (ten.box[3] - ten.box[1]) * on_phone >= 0.75 * 12
    for label in drawing.labels:
        left, top, right, bottom = label.box
        assert 0 <= left < right <= drawing.image.width
        assert 0 <= top < bottom <= drawing.image.height
        assert pixels_of(drawing.image, label.box, chart.INK, tolerance=40) > 20, label.text
    # No two labels touch.
    for n, a in enumerate(drawing.labels):
        for b in drawing.labels[n + 1 :]:
            apart = a.box[2] <= b.box[0] or b.box[2] <= a.box[0]
            assert apart or a.box[3] <= b.box[1] or b.box[3] <= a.box[1], (a.text, b.text)
    words = [label.text for label in drawing.labels]
    assert {chart.MINUTES_TITLE, chart.BACK_TITLE, "before practice", "after practice"} <= set(
        words
    )
    assert ("gentle" in words) == gentle
    # Short dates, every other week, ending at this one.
    assert [w for w in words if w[0].isdigit() and " " in w] == [
        "10 Nov",
        "24 Nov",
        "8 Dec",
        "22 Dec",
    ]
    # The minutes on each bar, none for the week without practice.
    assert [w for w in words if w.isdigit() and w not in {"0", "5", "10"}] == [
        "45",
        "60",
        "20",
        "75",
        "90",
        "80",
        "55",
    ]
    assert chart.NO_MINUTES not in words and chart.NO_SCORES not in words


def test_chart_of_weeks_without_any_practice_says_so_in_both_panels() -> None:
    weeks = [Week(date(2026, 1, 5) + timedelta(weeks=n), 0.0, None, None) for n in range(8)]
    image = _read_png(weekly_chart(weeks))
    assert image.size == (chart.WIDTH, chart.HEIGHT)
    drawing = draw(weeks)
    panels = (0, 0, chart.WIDTH, chart.WEEK_LABELS_TOP)
    for colour in (chart.BAR, chart.GENTLE_BAR, chart.BEFORE, chart.AFTER):
        assert pixels_of(drawing.image, panels, colour, tolerance=8) == 0
    words = [label.text for label in drawing.labels]
    assert chart.NO_MINUTES in words and chart.NO_SCORES in words
    # The weeks and the score scale are still there, to show what would be drawn.
    assert {"12 Jan", "26 Jan", "9 Feb", "23 Feb", "0", "5", "10"} <= set(words)
    # Minutes without back scores: only the back panel says it has none.
    words = [
        lab.text for lab in draw([*weeks[:-1], Week(weeks[-1].start, 20.0, None, None)]).labels
    ]
    assert chart.NO_MINUTES not in words and chart.NO_SCORES in words


async def test_a_class_tapped_through_counts_its_minutes_but_is_no_class_finished(
    db_engine: AsyncEngine, clock: ManualClock
) -> None:
    clock.now = datetime(2026, 1, 12, 18, 0, tzinfo=UTC)
    # The tiny class's holds take 3 minutes: one held through, one tapped through in 20 s.
    await add_session(db_engine, 8, datetime(2026, 1, 11, 8, 0, tzinfo=UTC), minutes=3)
    await add_session(db_engine, 8, datetime(2026, 1, 12, 8, 0, tzinfo=UTC), minutes=1 / 3)
    progress = await service(db_engine, clock).report(8)
    assert progress is not None
    assert progress.finished == 1
    assert progress.total_minutes == round(3 + 1 / 3)
    assert progress.current_streak == 2  # it was still a day on the mat
