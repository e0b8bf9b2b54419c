"""The plan over weeks as a user lives it: the real Application over HTTP to the emulator,
a manual clock, the reminder tick run on demand."""

from __future__ import annotations

import io
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from typing import cast
from zoneinfo import ZoneInfo

import pytest
from PIL import Image
from sqlalchemy.ext.asyncio import AsyncEngine

from bot.checkin import CheckinService
from bot.clock import ManualClock
from bot.database import create_engine
from bot.models import Goal
from bot.programme.service import ProgrammeService
from bot.reminders import ReminderService
from bot.store import Store
from handlers.context import YogaApp
from handlers.reminder_tick import TICK_NAME
from handlers.render import plan as render
from playground.emulator import BotApiEmulator, SimulatedUser
from sequences import load_catalog
from tests.harness.bot import Worded, bot_running, button_texts, has_message, screened
from tests.harness.factories import make_class
from tests.harness.poppler import pdf_text, require_poppler
from tests.harness.records import add_session

SHIPPED = next(iter(load_catalog().values()))
PLANNED = make_class().model_copy(update={"programme": SHIPPED.programme})
CATALOG = {PLANNED.id: PLANNED}
LONDON = ZoneInfo("Europe/London")
MONDAY = date(2027, 2, 1)


def london(day: date, at: time) -> datetime:
    return datetime.combine(day, at, tzinfo=LONDON).astimezone(UTC)


async def tick(app: YogaApp) -> None:
    assert app.job_queue is not None
    [job] = app.job_queue.get_jobs_by_name(TICK_NAME)
    await job.run(app)


@dataclass(frozen=True)
class Seeded:
    user: SimulatedUser
    clock: ManualClock
    practice_id: int


async def planned_user(
    emulator: BotApiEmulator, database_url: str, db_engine: AsyncEngine, user_id: int
) -> Seeded:
    """A user whose chat exists, with a plan begun on Monday and a practice that evening
    scored 3 then 2; the clock stands just after it."""
    user = emulator.user(user_id)
    user.open_chat()
    clock = ManualClock()
    practice_id = await seed_plan_and_practice(database_url, db_engine, clock, user_id)
    return Seeded(user, clock, practice_id)


async def seed_plan_and_practice(
    database_url: str, db_engine: AsyncEngine, clock: ManualClock, user_id: int
) -> int:
    """A plan begun on Monday, and a practice that evening scored 3 then 2."""
    engine = create_engine(database_url)
    try:
        store = Store(engine)
        clock.now = london(MONDAY, time(7, 0))
        await ReminderService(store, clock).set_timezone(user_id, user_id, "Ana", "Europe/London")
        programme = ProgrammeService(store, CATALOG, clock, "UTC")
        await programme.start(user_id, user_id, "Ana", Goal.THRICE)
        practice_id = await add_session(
            db_engine, user_id, london(MONDAY, time(18, 0)), back_before=3, minutes=14
        )
        clock.now = london(MONDAY, time(18, 30))
        assert await CheckinService(store, programme).record_after(user_id, practice_id, 2)
        return practice_id
    finally:
        await engine.dispose()


async def test_plan_offers_goals_then_shows_the_stage_the_next_practice_and_why(
    emulator: BotApiEmulator, database_url: str
) -> None:
    user = emulator.user(2701)
    clock = ManualClock(london(MONDAY, time(7, 0)))
    async with bot_running(emulator, database_url, clock=clock, catalog=CATALOG):
        assert {"plan", "report"} <= {c["command"] for c in emulator.commands}
        await user.send("/plan")
        offer = await emulator.wait_for(has_message(user, "A plan for 12 weeks"))
        assert button_texts(offer) == ["2 a week", "3 a week", "Short, daily"]
        await user.tap(offer.message_id, text="3 a week")
        await emulator.wait_for(lambda: "Your plan" in (offer.plain or "") or None)
        assert offer.plain.splitlines() == [
            "Your plan · week 1 of 12",
            "This week: 0 of 3 (Mon, Wed, Fri)",
            "Stage 1 of 4: Short class, every easier option",
            "",
            "Next: Short class, every easier option, slow pace.",
            "Why: the plan starts gently.",
            "Good practices: 0 of 2 to move on (3/10 or less after, no worse the next day).",
            "",
            "A reminder on plan days? Send /remind 07:30",
            "Weekly summary on Sundays. To change: /plan summary fri",
        ]
        assert button_texts(offer) == ["Start practice", "How often", "Stop plan"]
        # The practice the plan allows: said as it begins.
        await screened(emulator, user)
        await user.tap(offer.message_id, text="Start practice")
        question = await emulator.wait_for(has_message(user, "How does your back feel"))
        await user.tap(question.message_id, text="2")
        begun = await emulator.wait_for(has_message(user, "plan stage 1 of 4"))
        assert "Short class · slow pace" in begun.plain
        # How often: a new goal, the stage stays.
        await user.send("/plan")
        shown = await emulator.wait_for(has_message(user, "This week: 0 of 3"))
        await user.tap(shown.message_id, text="How often")
        await emulator.wait_for(lambda: "How often from now" in (shown.plain or "") or None)
        await user.tap(shown.message_id, text="Short, daily")
        await emulator.wait_for(lambda: "This week: 0 of 7 (every day)" in shown.plain or None)
        # Stopping asks first; Keep it leaves the plan as it was.
        await user.tap(shown.message_id, text="Stop plan")
        await emulator.wait_for(lambda: shown.plain == render.STOP_QUESTION or None)
        await user.tap(shown.message_id, text="Keep it")
        await emulator.wait_for(lambda: "Your plan" in shown.plain or None)
        await user.tap(shown.message_id, text="Stop plan")
        await emulator.wait_for(lambda: shown.plain == render.STOP_QUESTION or None)
        await user.tap(shown.message_id, text="Stop plan")
        await emulator.wait_for(lambda: shown.plain == render.STOPPED or None)


async def test_plan_words_set_the_days_and_a_mistake_gets_one_line_with_an_example(
    emulator: BotApiEmulator, database_url: str
) -> None:
    user = emulator.user(2702)
    async with bot_running(emulator, database_url, catalog=CATALOG):
        await user.send("/plan 3 mon,wed")
        error = await emulator.wait_for(has_message(user, "need 3 days"))
        assert error.plain == "3 practices a week need 3 days, e.g. /plan 3 mon,wed,fri"
        await user.send("/plan often")
        error = await emulator.wait_for(has_message(user, "didn't understand"))
        assert error.plain.count("\n") == 0 and "/plan 3 mon,wed,fri" in error.plain
        await user.send("/plan 2 tue sat")
        await emulator.wait_for(has_message(user, "This week: 0 of 2 (Tue, Sat)"))
        await user.send("/plan summary fri")
        moved = await emulator.wait_for(has_message(user, "Weekly summary on Fridays"))
        assert moved.plain.startswith("Done: the weekly summary comes on Fridays now.\n")
        await user.send("/plan summary")
        await emulator.wait_for(has_message(user, "Name one day for the weekly summary"))
        await user.send("/plan off")
        await emulator.wait_for(has_message(user, render.STOPPED))
        await user.send("/plan off")
        await emulator.wait_for(has_message(user, render.NO_PLAN_TO_STOP))


async def test_the_next_day_check_comes_at_nine_and_a_worse_answer_eases_the_plan(
    emulator: BotApiEmulator, database_url: str, db_engine: AsyncEngine
) -> None:
    seeded = await planned_user(emulator, database_url, db_engine, 2703)
    user, clock = seeded.user, seeded.clock
    practice_id = seeded.practice_id
    async with bot_running(emulator, database_url, clock=clock, catalog=CATALOG) as app:
        clock.now = london(MONDAY + timedelta(days=1), time(8, 59))
        await tick(app)
        assert not user.bot_messages
        clock.now = london(MONDAY + timedelta(days=1), time(9, 0))
        await tick(app)
        question = await emulator.wait_for(has_message(user, render.NEXT_DAY_QUESTION))
        assert button_texts(question) == ["Better", "Same", "Worse"]
        await tick(app)  # claimed once: never asked twice
        assert len([m for m in user.bot_messages if m.plain == render.NEXT_DAY_QUESTION]) == 1
        await user.tap(question.message_id, text="Worse")
        await emulator.wait_for(lambda: "Sorry it's worse" in question.plain or None)
        assert question.plain.splitlines()[0] == f"{render.NEXT_DAY_QUESTION} Worse."
        # At the first stage already: nothing gentler to go to, and it says so.
        assert "You're already at the gentlest stage" in question.plain
        assert button_texts(question) == []
        # An old copy of the buttons, tapped again: answered, nothing changes.
        tap = await user.tap_data(question.message_id, f"nd:{practice_id}:better")
        answer = await emulator.wait_for(
            lambda: next(
                (a for a in emulator.callback_answers if a["callback_query_id"] == tap), None
            )
        )
        assert answer.get("text") == render.STALE_NEXT_DAY
        await user.send("/plan")
        view = await emulator.wait_for(has_message(user, "Your plan"))
        assert "Why: your back was worse the day after." in view.plain


async def test_the_weekly_summary_comes_on_sunday_evening(
    emulator: BotApiEmulator, database_url: str, db_engine: AsyncEngine
) -> None:
    seeded = await planned_user(emulator, database_url, db_engine, 2704)
    user, clock = seeded.user, seeded.clock
    sunday = MONDAY + timedelta(days=6)
    async with bot_running(emulator, database_url, clock=clock, catalog=CATALOG) as app:
        clock.now = london(sunday, time(17, 59))
        await tick(app)
        assert not [m for m in user.bot_messages if "Your week" in (m.plain or "")]
        clock.now = london(sunday, time(18, 0))
        await tick(app)
        summary = await emulator.wait_for(has_message(user, "Your week"))
    assert summary.plain.splitlines() == [
        "Your week · week 1 of 12",
        "Practices: 1 of 3 · 14 min",
        "Back: 3.0 before, 2.0 after, on average",
        "Stage: Short class, every easier option.",
        "Next week: two more good practices to move on to Short class, easier where it hurt.",
    ]


async def test_a_next_day_check_that_failed_to_send_is_not_sent_again(
    emulator: BotApiEmulator,
    database_url: str,
    db_engine: AsyncEngine,
    caplog: pytest.LogCaptureFixture,
) -> None:
    """At most once: a question for one morning, never repeated (a failed send may still
    have arrived)."""
    seeded = await planned_user(emulator, database_url, db_engine, 2705)
    user, clock = seeded.user, seeded.clock
    async with bot_running(emulator, database_url, clock=clock, catalog=CATALOG) as app:
        clock.now = london(MONDAY + timedelta(days=1), time(9, 0))
        emulator.fail_next("sendMessage", error_code=502, chat_id=user.id)
        await tick(app)
        for minutes in (1, 20, 60):
            clock.advance(minutes * 60)
            await tick(app)
    assert not [m for m in user.bot_messages if m.plain == render.NEXT_DAY_QUESTION]
    [failed] = [r for r in caplog.records if "NextDayCheck to chat 2705" in r.getMessage()]
    assert "not retrying" in failed.getMessage()


async def test_report_sends_a_one_page_pdf_then_the_same_page_as_a_picture(
    emulator: BotApiEmulator, database_url: str, db_engine: AsyncEngine
) -> None:
    require_poppler()
    seeded = await planned_user(emulator, database_url, db_engine, 2706)
    user, clock = seeded.user, seeded.clock
    await add_session(
        db_engine,
        user.id,
        london(MONDAY + timedelta(days=2), time(18, 0)),
        back_before=2,
        back_after=1,
        minutes=14,
        easier_steps=("pose-2",),
    )
    clock.now = london(MONDAY + timedelta(days=3), time(12, 0))
    async with bot_running(emulator, database_url, clock=clock, catalog=CATALOG) as app:
        await user.send("/report")
        document = await emulator.wait_for(
            lambda: next((m for m in user.bot_messages if m.document), None)
        )
        photo = await emulator.wait_for(
            lambda: next((m for m in user.bot_messages if m.photo), None)
        )
        assert document.document is not None and photo.photo is not None
        assert document.document["file_name"] == "yogabot-report-2027-02-04.pdf"
        assert document.caption == render.REPORT_CAPTION
        pdf = await (await app.bot.get_file(document.document["file_id"])).download_as_bytearray()
        png = await (await app.bot.get_file(photo.photo[-1]["file_id"])).download_as_bytearray()
    text = pdf_text(bytes(pdf))
    assert "Ana" in text and "3 practices a week for 12 weeks" in text
    assert "Week 1 of 12" in text and "Stage 1 of 4: Short class, every easier option" in text
    assert "Pose 2, right side" in text  # the easier version chosen, by its title
    assert "2 of 2 planned practices done" in text
    assert Image.open(io.BytesIO(bytes(png))).size == (905, 1280)


async def test_report_with_nothing_stored_says_so_in_one_line(
    emulator: BotApiEmulator, database_url: str
) -> None:
    user = emulator.user(2707)
    async with bot_running(emulator, database_url, catalog=CATALOG):
        await user.send("/report")
        reply = await emulator.wait_for(has_message(user, "Nothing to report yet"))
    assert reply.plain == render.NOTHING_TO_REPORT
    assert not [m for m in user.bot_messages if m.document]


async def test_a_next_day_answer_typed_instead_of_tapped_is_heard_once(
    emulator: BotApiEmulator, database_url: str, db_engine: AsyncEngine
) -> None:
    seeded = await planned_user(emulator, database_url, db_engine, 2708)
    user, clock = seeded.user, seeded.clock
    async with bot_running(emulator, database_url, clock=clock, catalog=CATALOG) as app:
        # Before the question is asked, "better" is only chat.
        await user.send("better")
        await emulator.wait_for(has_message(user, "I follow commands"))
        clock.now = london(MONDAY + timedelta(days=1), time(9, 0))
        await tick(app)
        question = await emulator.wait_for(has_message(user, render.NEXT_DAY_QUESTION))
        await user.send("Worse.")
        heard = await emulator.wait_for(has_message(user, "Sorry it's worse"))
        assert heard.message_id != question.message_id
        # Typed again, or tapped after: already noted, nothing changes.
        await user.send("better")
        await emulator.wait_for(
            lambda: (
                len([m for m in user.bot_messages if "I follow commands" in (m.plain or "")]) == 2
                or None
            )
        )
        tap = await user.tap(question.message_id, text="Better")
        answer = await emulator.wait_for(
            lambda: next(
                (a for a in emulator.callback_answers if a["callback_query_id"] == tap), None
            )
        )
        assert answer.get("text") == render.STALE_NEXT_DAY


async def test_a_sign_pauses_the_plan_and_only_a_clinicians_word_resumes_it(
    emulator: BotApiEmulator, database_url: str, db_engine: AsyncEngine
) -> None:
    seeded = await planned_user(emulator, database_url, db_engine, 2709)
    user, clock = seeded.user, seeded.clock
    tuesday = MONDAY + timedelta(days=1)
    clock.now = london(tuesday, time(8, 0))
    async with bot_running(emulator, database_url, clock=clock, catalog=CATALOG):
        await user.send("/safety")
        screen = await emulator.wait_for(has_message(user, "Do any of these apply"))
        await user.tap(screen.message_id, text="I have one of these")
        await emulator.wait_for(lambda: "No, something else" in button_texts(screen) or None)
        await user.tap(screen.message_id, text="No, something else")
        await emulator.wait_for(has_message(user, "Please see a doctor or physiotherapist"))
        await user.send("/plan")
        paused = await emulator.wait_for(has_message(user, "Your plan · paused since Tue 2 Feb"))
        assert render.RESUME_WHEN in paused.plain and render.RESUME_TOMORROW in paused.plain
        assert button_texts(paused) == []  # not on the day of the sign
        # The next day the red-flag screen, asked again on the way into a class, says a
        # sign was told; cleared, the class runs as the plan's first stage, and says so.
        clock.now = london(tuesday + timedelta(days=1), time(8, 0))
        await user.send("/start_practice")
        again = await emulator.wait_for(has_message(user, "On 2 Feb you told me about a sign"))
        assert "Before we start: do any of these apply to you?" in again.plain
        await user.tap(again.message_id, text="None of these")
        question = await emulator.wait_for(has_message(user, "How does your back feel"))
        await user.tap(question.message_id, text="2")
        await emulator.wait_for(has_message(user, "plan paused: its first stage only"))
        # Resume asks for a clinician's word first.
        await user.send("/plan")
        resumable = await emulator.wait_for(
            lambda: next(
                (m for m in reversed(user.bot_messages) if "Resume plan" in button_texts(m)),
                None,
            )
        )
        paused = cast("Worded", resumable)
        await user.tap(paused.message_id, text="Resume plan")
        await emulator.wait_for(lambda: paused.plain == render.RESUME_QUESTION or None)
        await user.tap(paused.message_id, text="Not yet")
        await emulator.wait_for(lambda: "paused" in paused.plain or None)
        await user.tap(paused.message_id, text="Resume plan")
        await emulator.wait_for(lambda: paused.plain == render.RESUME_QUESTION or None)
        await user.tap(paused.message_id, text="Yes, resume the plan")
        await emulator.wait_for(lambda: "Your plan · week 1 of 12" in paused.plain or None)
        assert "Why: back from a pause." in paused.plain
