"""Skip ahead in the playground: the bot's clock moves to the next morning or Sunday
evening, the tick runs, and what the plan owes arrives; never while a class is open."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime
from typing import Any

import aiohttp
import pytest

from bot.clock import ManualClock
from handlers.render import plan as render_plan
from playground import Playground
from playground.skip_ahead import CLASS_OPEN
from sequences import load_catalog
from tests.harness.factories import make_class
from tests.harness.playground import EventStream, button_data, running_playground

SHIPPED = next(iter(load_catalog().values()))
PLANNED = make_class().model_copy(update={"programme": SHIPPED.programme})


@pytest.fixture
async def planned_pg(database_url: str) -> AsyncIterator[Playground]:
    # A Monday evening, whatever the real time: "the next morning" is then the day after
    # the practice, as the next-day check needs (after midnight it would be the same day).
    evening = ManualClock(datetime(2027, 2, 1, 18, 0, tzinfo=UTC))
    async with running_playground(
        database_url, catalog={PLANNED.id: PLANNED}, clock=evening
    ) as running:
        yield running
    assert running.emulator.internal_errors == []


async def post(http: aiohttp.ClientSession, path: str, body: Any) -> tuple[int, dict[str, Any]]:
    async with http.post(path, json=body) as response:
        return response.status, await response.json()


def bot_says(needle: str) -> Any:
    def found(event: dict[str, Any]) -> bool:
        message = event.get("message") or {}
        return (
            event["type"] == "message"
            and bool(message.get("from_bot"))
            and needle in (message.get("html") or "")
        )

    return found


async def test_skipping_ahead_brings_the_next_day_check_and_the_weekly_note(
    planned_pg: Playground,
) -> None:
    async with (
        aiohttp.ClientSession(base_url=planned_pg.url) as http,
        http.get("/api/events") as events,
    ):
        stream = EventStream(events)
        await stream.next(lambda e: e["type"] == "state")
        assert await post(http, "/api/skip", {"to": "yesterday"}) == (
            400,
            {"ok": False, "error": "to: one of morning, sunday"},
        )
        await post(http, "/api/send", {"text": "/plan 3"})
        await stream.next(bot_says("Your plan · week 1 of 12"))
        await post(http, "/api/send", {"text": "/start_practice"})
        screen = (await stream.next(bot_says("None of these")))["message"]
        await post(
            http,
            "/api/tap",
            {"message_id": screen["id"], "data": button_data(screen, "None of these")},
        )
        question = (await stream.next(bot_says("How does your back feel")))["message"]
        await post(
            http, "/api/tap", {"message_id": question["id"], "data": button_data(question, "3")}
        )
        cue = (await stream.next(bot_says("1/3 ·")))["message"]
        # A class is open: skipping would end every hold at once.
        assert await post(http, "/api/skip", {"to": "morning"}) == (
            409,
            {"ok": False, "error": CLASS_OPEN},
        )
        for following in ("2/3 ·", "3/3 ·", None):
            await post(
                http, "/api/tap", {"message_id": cue["id"], "data": button_data(cue, "Next")}
            )
            if following is not None:
                cue = (await stream.next(bot_says(following)))["message"]
        after = (await stream.next(bot_says("after practice")))["message"]
        await post(http, "/api/tap", {"message_id": after["id"], "data": button_data(after, "2")})
        # The score is stored before its question loses its buttons.
        await stream.next(
            lambda e: (
                e["type"] == "message"
                and e["message"]["id"] == after["id"]
                and e["message"]["keyboard"] == []
            )
        )

        status, body = await post(http, "/api/skip", {"to": "morning"})
        assert (status, body["now"]) == (200, "Tue 2 Feb, 09:00 (UTC)")
        check = (await stream.next(bot_says(render_plan.NEXT_DAY_QUESTION)))["message"]
        await post(
            http, "/api/tap", {"message_id": check["id"], "data": button_data(check, "Same")}
        )
        await stream.next(bot_says("Noted, thank you."))

        # Sunday evening: the plan's first week, with its one practice.
        status, body = await post(http, "/api/skip", {"to": "sunday"})
        assert (status, body["now"]) == (200, "Sun 7 Feb, 18:00 (UTC)")
        summary = (await stream.next(bot_says("Your week")))["message"]
        assert "Practices: 1 of 3" in summary["html"]


async def test_tomorrow_morning_is_the_next_calendar_day_even_just_after_midnight(
    database_url: str,
) -> None:
    """A practice at 00:20 is that day's: its next-day check comes the day after, so
    "Tomorrow, 09:00" from 00:20 goes to the next day's 09:00, not this morning's."""
    late = ManualClock(datetime(2027, 2, 2, 0, 20, tzinfo=UTC))
    async with (
        running_playground(database_url, catalog={PLANNED.id: PLANNED}, clock=late) as pg,
        aiohttp.ClientSession(base_url=pg.url) as http,
    ):
        assert await post(http, "/api/skip", {"to": "morning"}) == (
            200,
            {"ok": True, "now": "Wed 3 Feb, 09:00 (UTC)"},
        )
        assert await post(http, "/api/skip", {"to": "sunday"}) == (
            200,
            {"ok": True, "now": "Sun 7 Feb, 18:00 (UTC)"},
        )
