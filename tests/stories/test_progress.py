"""Back check-ins and /progress as a user lives them: the real Application, the emulator."""

from __future__ import annotations

import io
import logging
from datetime import UTC, datetime, timedelta

import pytest
from PIL import Image
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncEngine

from bot import chart
from bot.clock import ManualClock
from bot.database import create_sessionmaker
from bot.models import Practice, PracticeStatus
from bot.progress import AfterPractice, BackChange, MonthOverMonth
from handlers.render import checkin as render_checkin
from handlers.render import progress as render_progress
from playground.emulator import BotApiEmulator, SimulatedUser
from playground.emulator.state import EmuMessage
from tests.harness.bot import (
    answer_checkin,
    begin_practice,
    bot_running,
    button_texts,
    cue_jobs,
    cues_titled,
    has_closing,
    has_message,
    next_through_the_class,
    screened,
    stop_practice,
)
from tests.harness.factories import make_class
from tests.harness.records import add_session, add_user

TINY = make_class()
TINY_CATALOG = {TINY.id: TINY}


async def sessions_in(db_engine: AsyncEngine) -> list[Practice]:
    async with create_sessionmaker(db_engine)() as db:
        return list(await db.scalars(select(Practice).order_by(Practice.id)))


def after_question(user: SimulatedUser) -> EmuMessage | None:
    return next((m for m in user.bot_messages if m.plain == render_checkin.AFTER_QUESTION), None)


async def test_check_in_before_and_after_is_stored_and_a_rise_gets_a_note(
    emulator: BotApiEmulator, database_url: str, db_engine: AsyncEngine
) -> None:
    user = emulator.user(2001)
    async with bot_running(emulator, database_url, catalog=TINY_CATALOG):
        await screened(emulator, user)
        await user.send("/start_practice")
        question = await emulator.wait_for(has_message(user, "How does your back feel right now?"))
        assert button_texts(question) == [*(str(n) for n in range(11)), "Skip"]
        assert cues_titled(user, "1/3") == []  # nothing starts before the answer
        await user.tap(question.message_id, text="3")
        await emulator.wait_for(lambda: cues_titled(user, "1/3"))
        assert question.plain.startswith(render_checkin.before_answered(3))
        assert button_texts(question) == []

        await next_through_the_class(emulator, user)
        closing = await emulator.wait_for(has_closing(user))
        asked = await emulator.wait_for(lambda: after_question(user))
        assert asked.message_id > closing.message_id
        second_answer = next(b["callback_data"] for b in asked.buttons if b["text"] == "2")
        await user.tap(asked.message_id, text="7")
        await emulator.wait_for(has_message(user, render_checkin.REST_NOTE))
        assert asked.plain == render_checkin.after_answered(7, 3)
        assert button_texts(asked) == []
        # A second answer to the same question (a stale tap) changes nothing.
        answered = len(emulator.callback_answers)
        await user.tap_data(asked.message_id, second_answer)
        await emulator.wait_for(lambda: len(emulator.callback_answers) == answered + 1)
    [session] = await sessions_in(db_engine)
    assert (session.status, session.back_before, session.back_after) == (
        PracticeStatus.FINISHED,
        3,
        7,
    )
    assert emulator.callback_answers[-1].get("text") == render_checkin.ALREADY_ANSWERED
    assert len([m for m in user.bot_messages if m.plain == render_checkin.REST_NOTE]) == 1


async def test_skip_starts_the_class_and_a_small_change_gets_no_note(
    emulator: BotApiEmulator, database_url: str, db_engine: AsyncEngine
) -> None:
    user = emulator.user(2002)
    async with bot_running(emulator, database_url, catalog=TINY_CATALOG):
        question = await begin_practice(emulator, user, "Skip")
        await next_through_the_class(emulator, user)
        asked = await emulator.wait_for(lambda: after_question(user))
        await user.tap(asked.message_id, text="2")
        await emulator.wait_for(lambda: asked.plain == render_checkin.after_answered(2))
        assert (question.plain or "").startswith(render_checkin.before_answered(None))
    [session] = await sessions_in(db_engine)
    assert (session.back_before, session.back_after) == (None, 2)
    assert not any(m.plain == render_checkin.REST_NOTE for m in user.bot_messages)


async def test_a_stopped_practice_is_not_asked_again(
    emulator: BotApiEmulator, database_url: str
) -> None:
    user = emulator.user(2003)
    async with bot_running(emulator, database_url, catalog=TINY_CATALOG):
        await begin_practice(emulator, user, "4")
        [cue] = await emulator.wait_for(lambda: cues_titled(user, "1/3"))
        await stop_practice(emulator, user, cue)
        await emulator.wait_for(has_message(user, "Practice stopped"))
        await user.send("/help")
        await emulator.wait_for(has_message(user, "/progress"))
    assert after_question(user) is None


async def test_double_tap_on_the_check_in_starts_one_practice(
    emulator: BotApiEmulator, database_url: str, db_engine: AsyncEngine
) -> None:
    user = emulator.user(2004)
    async with bot_running(emulator, database_url, catalog=TINY_CATALOG) as app:
        await screened(emulator, user)
        await user.send("/start_practice")
        question = await emulator.wait_for(has_message(user, "How does your back feel right now?"))
        answered = len(emulator.callback_answers)
        await user.tap(question.message_id, text="5")
        # A sore score as the second tap: it must not turn the answered question into the
        # pain gate's choice either.
        await user.tap(question.message_id, text="6")
        await emulator.wait_for(lambda: len(emulator.callback_answers) == answered + 2)
        await emulator.wait_for(lambda: cues_titled(user, "1/3"))
        assert len(cues_titled(user, "1/3")) == 1
        assert len(cue_jobs(app)) == 1
    [session] = await sessions_in(db_engine)
    assert (session.status, session.back_before) == (PracticeStatus.ACTIVE, 5)
    answers = [a.get("text") for a in emulator.callback_answers]
    assert answers.count(render_checkin.ALREADY_ANSWERED) == 1
    assert question.plain.startswith(render_checkin.before_answered(5))


async def test_a_new_user_gets_a_friendly_start_instead_of_an_empty_table(
    emulator: BotApiEmulator, database_url: str
) -> None:
    user = emulator.user(2005)
    async with bot_running(emulator, database_url, catalog=TINY_CATALOG):
        await user.send("/progress")
        reply = await emulator.wait_for(has_message(user, "No practice yet"))
        assert reply.plain == render_progress.NO_PRACTICE_YET
        assert button_texts(reply) == ["Start practice"]
        await user.tap(reply.message_id, text="Start practice")
        await answer_checkin(emulator, user)
        await emulator.wait_for(lambda: cues_titled(user, "1/3"))
    assert not any(m.photo for m in user.bot_messages)


async def test_progress_shows_the_numbers_then_a_png_chart(
    emulator: BotApiEmulator, database_url: str, db_engine: AsyncEngine
) -> None:
    user = emulator.user(2006)
    clock = ManualClock(datetime(2026, 1, 8, 18, 0, tzinfo=UTC))
    await add_user(db_engine, 2006, timezone="Europe/Lisbon")
    start = datetime(2026, 1, 5, 7, 0, tzinfo=UTC)
    for day in range(4):
        await add_session(
            db_engine,
            2006,
            start + timedelta(days=day),
            status=PracticeStatus.STOPPED if day == 1 else PracticeStatus.FINISHED,
            minutes=12,
            back_before=5,
            back_after=3,
            easier_steps=("pose-2",),
        )
    async with bot_running(emulator, database_url, clock=clock, catalog=TINY_CATALOG) as app:
        await user.send("/progress")
        text = await emulator.wait_for(has_message(user, "Your practice so far"))
        photo_message = await emulator.wait_for(lambda: next(iter(photos(user)), None))
        assert photo_message.photo is not None
        file = await app.bot.get_file(photo_message.photo[-1]["file_id"])
        downloaded = await file.download_as_bytearray()
    lines = (text.plain or "").splitlines()
    assert "Practices finished: 3" in lines
    assert "Minutes practised: 48" in lines
    assert "Current streak: 4 days · longest: 4 days" in lines
    assert "• Thu 8 Jan · Tiny Class · 12 min · finished" in lines
    assert "• Tue 6 Jan · Tiny Class · 12 min · stopped" in lines
    assert "• Pose 2, right side: 4 times" in lines
    assert (
        "Back, on average (0–10): 5.0 before · 3.0 after (4 practices with both check-ins)" in lines
    )
    assert photo_message.message_id > text.message_id
    assert photo_message.caption == render_progress.CHART_CAPTION
    data = bytes(downloaded)
    assert data.startswith(b"\x89PNG\r\n\x1a\n")
    assert Image.open(io.BytesIO(data)).size == (chart.WIDTH, chart.HEIGHT)


def photos(user: SimulatedUser) -> list[EmuMessage]:
    return [m for m in user.bot_messages if m.photo]


async def test_when_the_chart_fails_the_text_still_comes(
    emulator: BotApiEmulator,
    database_url: str,
    db_engine: AsyncEngine,
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
) -> None:
    def broken(weeks: object) -> bytes:
        raise RuntimeError("no fonts today")

    monkeypatch.setattr(chart, "weekly_chart", broken)
    ana, ben = emulator.user(2007), emulator.user(2008)
    await add_session(db_engine, 2007, datetime(2026, 1, 5, 7, 0, tzinfo=UTC))
    await add_session(db_engine, 2008, datetime(2026, 1, 5, 7, 0, tzinfo=UTC))
    async with bot_running(emulator, database_url, catalog=TINY_CATALOG):
        with caplog.at_level(logging.WARNING):
            await ana.send("/progress")
            await emulator.wait_for(has_message(ana, "Your practice so far"))
            # Updates are handled one by one: once /help is answered, /progress is done.
            await ana.send("/help")
            await emulator.wait_for(has_message(ana, "/progress"))
            assert "could not draw the progress chart" in caplog.text
            monkeypatch.undo()
            emulator.fail_next("sendPhoto", error_code=500, description="Internal Server Error")
            await ben.send("/progress")
            await ben.send("/help")
            await emulator.wait_for(has_message(ben, "/progress"))
    assert "could not send the progress chart" in caplog.text
    assert has_message(ben, "Your practice so far")() is not None
    assert photos(ana) == [] and photos(ben) == []
    assert not any(m.plain and "went wrong" in m.plain for m in ana.bot_messages)


async def test_progress_names_the_back_easing_in_words(
    emulator: BotApiEmulator, database_url: str, db_engine: AsyncEngine
) -> None:
    user = emulator.user(2020)
    # Wednesday 4 March: the last eight weeks start on Monday 12 January.
    clock = ManualClock(datetime(2026, 3, 4, 18, 0, tzinfo=UTC))
    first_monday = datetime(2026, 1, 12, 7, 0, tzinfo=UTC)
    # Two practices a week, the back easing week by week and 2 points after each practice.
    for week, before in enumerate((6, 6, 5, 5, 4, 4, 3, 3)):
        for day in (0, 2):
            await add_session(
                db_engine,
                2020,
                first_monday + timedelta(weeks=week, days=day),
                minutes=15,
                back_before=before,
                back_after=before - 2,
            )
    async with bot_running(emulator, database_url, clock=clock, catalog=TINY_CATALOG):
        await user.send("/progress")
        text = await emulator.wait_for(has_message(user, "Your practice so far"))
        await emulator.wait_for(lambda: next(iter(photos(user)), None))
    lines = (text.plain or "").splitlines()
    assert (
        "Back, on average (0–10): 4.5 before · 2.5 after (16 practices with both check-ins)"
        in lines
    )
    assert "Your back felt 2 points easier after practice, on average. Well done!" in lines
    assert (
        "Your back before practice is easier than a month ago: 5.5 → 3.5. Lovely progress." in lines
    )


@pytest.mark.parametrize(
    ("after_practice", "sentence"),
    [
        (
            AfterPractice(BackChange.EASIER, 5.0, 3.5, 6),
            "Your back felt 1.5 points easier after practice, on average. Well done!",
        ),
        (
            AfterPractice(BackChange.EASIER, 5.0, 4.0, 3),
            "Your back felt 1 point easier after practice, on average. Well done!",
        ),
        (
            AfterPractice(BackChange.ABOUT_THE_SAME, 4.0, 4.25, 4),
            "Your back felt about the same after practice, on average.",
        ),
        (
            AfterPractice(BackChange.MORE_TENDER, 3.0, 4.5, 4),
            "Your back felt a little more tender after practice, on average — "
            "the gentle practice may suit you.",
        ),
    ],
)
def test_the_change_after_practice_in_words(after_practice: AfterPractice, sentence: str) -> None:
    assert render_progress.after_practice_line(after_practice) == sentence


def test_the_change_since_a_month_ago_in_words() -> None:
    assert (
        render_progress.month_over_month_line(MonthOverMonth(BackChange.ABOUT_THE_SAME, 4.2, 4.0))
        == "Your back before practice is about the same as a month ago: 4.2 → 4.0."
    )
    tender = render_progress.month_over_month_line(MonthOverMonth(BackChange.MORE_TENDER, 3.0, 4.5))
    assert tender.startswith("Your back before practice is a little more tender than a month")
    assert "3.0 → 4.5" in tender
