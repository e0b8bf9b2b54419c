"""The /progress chart's data and drawing rules: a week's gentle minutes are its gentle
practices' minutes, stacked on its usual ones; before and after practice are averaged over
the same practices; markers of close scores both show; a few seconds of practice draw."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from typing import cast

import pytest
from PIL import Image, ImageColor

from bot import chart
from bot.models import Practice, PracticeStatus
from bot.progress import Week, both_scores, mean_scores, week_of

MONDAY = date(2026, 3, 2)
RGB = tuple[int, int, int]


def practice(
    minutes: float,
    *,
    gentle: bool = False,
    before: int | None = None,
    after: int | None = None,
) -> Practice:
    return Practice(
        user_id=1,
        chat_id=1,
        class_id="tiny-class",
        status=PracticeStatus.FINISHED,
        started_at=datetime(2026, 3, 3, 7, 0, tzinfo=UTC),
        practised_seconds=minutes * 60,
        gentle=gentle,
        back_before=before,
        back_after=after,
    )


def test_a_weeks_gentle_minutes_are_those_of_its_gentle_practices() -> None:
    week = week_of(MONDAY, [practice(30), practice(14, gentle=True), practice(12.5, gentle=True)])
    assert (week.minutes, week.gentle_minutes) == (56.5, 26.5)
    assert week_of(MONDAY, [practice(30)]).gentle_minutes == 0
    assert week_of(MONDAY, []) == Week(MONDAY, 0, None, None, 0)


def test_before_and_after_are_averaged_over_the_practices_with_both() -> None:
    practices = [
        practice(30, before=8),  # no after: left out of both averages
        practice(30, before=4, after=2),
        practice(30, before=6, after=5),
        practice(30, after=0),  # no before: left out too
    ]
    assert both_scores(practices) == [(4, 2), (6, 5)]
    assert mean_scores(practices) == (5.0, 3.5)
    week = week_of(MONDAY, practices)
    assert (week.back_before, week.back_after) == (5.0, 3.5)
    # Scores that never meet in one practice give no week score at all, not two halves.
    apart = week_of(MONDAY, [practice(30, before=8), practice(30, after=0)])
    assert (apart.back_before, apart.back_after) == (None, None)
    assert mean_scores([]) is None


def rgb(colour: str) -> RGB:
    return cast(RGB, ImageColor.getrgb(colour))


def near(pixel: object, colour: str, tolerance: int = 12) -> bool:
    assert isinstance(pixel, tuple)
    return all(abs(a - b) <= tolerance for a, b in zip(pixel, rgb(colour), strict=True))


def pixels_of(image: Image.Image, box: tuple[int, int, int, int], colour: str) -> int:
    colours = image.crop(box).getcolors(maxcolors=1 << 20) or []
    return sum(count for count, pixel in colours if near(pixel, colour))


def weeks_with(last: Week) -> list[Week]:
    """Seven weeks without practice, then `last` (this week)."""
    empty = [Week(MONDAY - timedelta(weeks=n), 0, None, None) for n in range(7, 0, -1)]
    return [*empty, last]


@pytest.mark.parametrize(("minutes", "gentle"), [(60, 20), (45, 14), (30, 30), (50, 0)])
def test_the_bar_is_solid_for_usual_minutes_and_hatched_only_for_gentle_ones(
    minutes: float, gentle: float
) -> None:
    weeks = weeks_with(Week(MONDAY, minutes, None, None, gentle))
    image = chart.draw(weeks).image
    x = round(chart.week_x(7, 8))
    top = chart.minutes_top(weeks)
    per_minute = chart.MINUTES_FLOOR - chart.minutes_y(1, top)
    # Up from the floor: solid bar first, then the hatched part, then the background.
    y = chart.MINUTES_FLOOR - 3
    while near(image.getpixel((x, y)), chart.BAR):
        y -= 1
    solid = chart.MINUTES_FLOOR - y
    hatched_top = y
    while not near(image.getpixel((x, hatched_top)), chart.BACKGROUND, tolerance=3):
        hatched_top -= 1
    hatched = y - hatched_top
    assert solid == pytest.approx((minutes - gentle) * per_minute, abs=4)
    assert hatched == pytest.approx(gentle * per_minute, abs=4)
    if gentle:
        # The hatched part is the pale fill with the stripes, across the bar's width.
        band = (x - 20, hatched_top + 4, x + 20, y - 2)
        assert pixels_of(image, band, chart.GENTLE_BAR) > 0.4 * 40 * (band[3] - band[1])


@pytest.mark.parametrize(("before", "after"), [(5.0, 5.0), (5.0, 5.2), (3.0, 2.8), (7.0, 3.0)])
def test_before_and_after_markers_both_show_however_close_the_scores(
    before: float, after: float
) -> None:
    weeks = weeks_with(Week(MONDAY, 30, before, after))
    image = chart.draw(weeks).image
    marker = chart.MARKER * chart.MARKER
    for score, colour, side in (
        (before, chart.BEFORE, chart.BEFORE_SIDE),
        (after, chart.AFTER, chart.AFTER_SIDE),
    ):
        x, y = round(chart.score_x(7, 8, side)), round(chart.score_y(score))
        half = chart.MARKER // 2
        box = (x - half, y - half, x + half, y + half)
        # Most of each marker shows in its own colour: the other neither covers it nor
        # runs into it.
        assert pixels_of(image, box, colour) > 0.6 * marker, (score, colour)
    # Side by side, before on the left: the two markers' middles a marker apart at least.
    assert chart.score_x(7, 8, chart.AFTER_SIDE) - chart.score_x(7, 8, chart.BEFORE_SIDE) >= (
        chart.MARKER + chart.RING
    )


@pytest.mark.parametrize("seconds", [0.1, 0.3, 1, 20])
@pytest.mark.parametrize("gentle", [False, True])
def test_a_week_of_a_few_seconds_draws_without_a_bar_too_thin_to_see(
    seconds: float, gentle: bool
) -> None:
    """A practice tapped through in a moment is a week with a sliver of minutes: the chart
    is still drawn (a bar under a pixel tall once failed it with "y1 must be greater than
    or equal to y0")."""
    weeks = weeks_with(Week(MONDAY, seconds / 60, None, None, seconds / 60 if gentle else 0))
    image = chart.draw(weeks).image
    assert image.size == (chart.WIDTH, chart.HEIGHT)
    assert chart.weekly_chart(weeks).startswith(b"\x89PNG")
