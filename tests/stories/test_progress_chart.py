"""/progress through the real Application: the chart hatches only a week's gentle minutes,
shows both markers of close scores, and the text's back averages are over the practices
with both check-ins."""

from __future__ import annotations

import io
from datetime import UTC, datetime, timedelta
from typing import cast

from PIL import Image, ImageColor
from sqlalchemy import update
from sqlalchemy.ext.asyncio import AsyncEngine

from bot import chart
from bot.clock import ManualClock
from bot.database import create_sessionmaker
from bot.models import Practice
from playground.emulator import BotApiEmulator
from tests.harness.bot import bot_running, has_message
from tests.harness.factories import make_class
from tests.harness.records import add_session

TINY = make_class()
RGB = tuple[int, int, int]


def near(pixel: object, colour: str, tolerance: int = 12) -> bool:
    assert isinstance(pixel, tuple)
    rgb = cast(RGB, ImageColor.getrgb(colour))
    return all(abs(a - b) <= tolerance for a, b in zip(pixel, rgb, strict=True))


async def test_progress_hatches_the_gentle_minutes_and_averages_over_the_same_practices(
    emulator: BotApiEmulator, database_url: str, db_engine: AsyncEngine
) -> None:
    user = emulator.user(2301)
    clock = ManualClock(datetime(2026, 3, 5, 18, 0, tzinfo=UTC))  # Thursday
    monday = datetime(2026, 3, 2, 7, 0, tzinfo=UTC)
    # This week: 30 usual minutes and a 14-minute gentle practice; scores only where the
    # user answered both check-ins, but for one "before" answered alone.
    await add_session(db_engine, 2301, monday, minutes=30, back_before=5, back_after=5)
    gentle = await add_session(
        db_engine, 2301, monday + timedelta(days=1), minutes=14, back_before=5, back_after=5
    )
    await add_session(db_engine, 2301, monday + timedelta(days=2), minutes=20, back_before=9)
    async with create_sessionmaker(db_engine).begin() as db:
        await db.execute(update(Practice).where(Practice.id == gentle).values(gentle=True))
    async with bot_running(emulator, database_url, clock=clock, catalog={TINY.id: TINY}) as app:
        await user.send("/progress")
        text = await emulator.wait_for(has_message(user, "Your practice so far"))
        photo = await emulator.wait_for(
            lambda: next((m for m in user.bot_messages if m.photo), None)
        )
        assert photo.photo is not None
        file = await app.bot.get_file(photo.photo[-1]["file_id"])
        image = Image.open(io.BytesIO(bytes(await file.download_as_bytearray()))).convert("RGB")

    # The lone 9 before practice is not set against afters of other practices.
    assert (
        "Back, on average (0–10): 5.0 before · 5.0 after (2 practices with both check-ins)"
        in text.plain.splitlines()
    )
    # This week's bar, up from the floor: 50 usual minutes solid, then 14 hatched.
    x = round(chart.week_x(7, 8))
    y = chart.MINUTES_FLOOR - 3
    while near(image.getpixel((x, y)), chart.BAR):
        y -= 1
    solid = chart.MINUTES_FLOOR - y
    top = y
    while not near(image.getpixel((x, top)), chart.BACKGROUND, tolerance=3):
        top -= 1
    hatched = y - top
    assert abs(solid / (solid + hatched) - 50 / 64) < 0.02
    pale = [
        near(image.getpixel((x + dx, top + hatched // 2)), chart.GENTLE_BAR)
        for dx in range(-20, 21)
    ]
    assert sum(pale) > 20  # the hatched part's pale fill, between its stripes
    # Before and after were both 5: the two markers stand side by side, each in sight.
    score_y = round(chart.score_y(5))
    for colour, side in ((chart.BEFORE, chart.BEFORE_SIDE), (chart.AFTER, chart.AFTER_SIDE)):
        assert near(image.getpixel((round(chart.score_x(7, 8, side)), score_y)), colour)
