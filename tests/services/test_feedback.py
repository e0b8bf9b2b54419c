"""Feedback as a service and through `yogabot feedback export`: limits, context, round-trip."""

from __future__ import annotations

import asyncio
import csv
import io
import json
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncEngine

from bot.clock import ManualClock
from bot.database import create_sessionmaker
from bot.feedback import (
    MAX_CHARS,
    PER_HOUR,
    WAIT_FOR,
    FeedbackItem,
    FeedbackService,
    Prompt,
    Refusal,
    Refused,
    check_text,
)
from bot.models import Feedback
from bot.practice.machine import Action
from bot.practice.service import PracticeService
from bot.store import Store
from cli import main
from sequences import YogaClass, load_catalog
from tests.harness.fakes import FakeTimers
from tests.harness.presses import press

UNUSUAL = 'She said "breathe, then fold",\nthen: sigh 🌿 — “quotes”, tabs\tand commas,,'


def service(
    db_engine: AsyncEngine, clock: ManualClock, catalog: dict[str, YogaClass]
) -> FeedbackService:
    # As the bot builds it: on SQLite this process is the database's only writer.
    only_writer = db_engine.dialect.name == "sqlite"
    return FeedbackService(Store(db_engine), catalog, clock, only_writer=only_writer)


@pytest.fixture
def feedback(db_engine: AsyncEngine, clock: ManualClock, tiny_class: YogaClass) -> FeedbackService:
    return service(db_engine, clock, {tiny_class.id: tiny_class})


async def stored_count(db_engine: AsyncEngine) -> int:
    async with create_sessionmaker(db_engine)() as db:
        return await db.scalar(select(func.count()).select_from(Feedback)) or 0


@pytest.mark.parametrize(
    ("text", "reason"),
    [
        ("", Refusal.EMPTY),
        ("   \n\t ", Refusal.EMPTY),
        ("\u200b\u200b", Refusal.EMPTY),
        ("x" * (MAX_CHARS + 1), Refusal.TOO_LONG),
        ("x" * MAX_CHARS, None),
        (" 🌿 ", None),
    ],
)
def test_text_checks(text: str, reason: Refusal | None) -> None:
    refused = check_text(text)
    assert (refused.reason if refused else None) == reason


async def test_refused_text_stores_nothing(
    feedback: FeedbackService, db_engine: AsyncEngine
) -> None:
    assert await feedback.submit(1, 1, "Ana", "  ") == Refused(Refusal.EMPTY)
    too_long = await feedback.submit(1, 1, "Ana", "y" * 2345)
    assert too_long == Refused(Refusal.TOO_LONG, 2345)
    assert await stored_count(db_engine) == 0


async def test_note_is_filed_under_the_pose_the_user_is_on_or_their_last_one(
    feedback: FeedbackService, practice: PracticeService, clock: ManualClock
) -> None:
    before_any = await feedback.submit(1, 1, "Ana", "Hello")
    assert isinstance(before_any, FeedbackItem)
    assert (before_any.practice_id, before_any.pose) == (None, None)

    started = await practice.start(1, 1, "Ana")
    practice_id = started.practice_id
    await press(practice, Action.NEXT, 1, practice_id, 0)
    during = await feedback.submit(1, 1, "Ana", "  Loved the strap cue  ")
    assert isinstance(during, FeedbackItem)
    assert during.text == "Loved the strap cue"
    assert (during.practice_id, during.class_id, during.step_index) == (
        practice_id,
        "tiny-class",
        1,
    )
    assert (during.step_id, during.pose, during.during_practice) == (
        "pose-2",
        "Pose 2, right side",
        True,
    )
    assert during.created_at == clock.now

    await press(practice, Action.STOP, 1, practice_id, 1)
    await press(practice, Action.END, 1, practice_id, 1)
    after = await feedback.submit(1, 1, "Ana", "Thanks")
    assert isinstance(after, FeedbackItem)
    assert (after.practice_id, after.step_id, after.during_practice) == (
        practice_id,
        "pose-2",
        False,
    )


async def test_ten_notes_an_hour_counted_from_the_database(
    db_engine: AsyncEngine, clock: ManualClock, tiny_class: YogaClass
) -> None:
    catalog = {tiny_class.id: tiny_class}
    first = service(db_engine, clock, catalog)
    for n in range(PER_HOUR):
        assert isinstance(await first.submit(1, 1, "Ana", f"note {n}"), FeedbackItem)
        clock.advance(60)
    assert await first.submit(2, 2, "Ben", "mine") != Refused(Refusal.TOO_MANY)
    # A restart (a new service over the same database) does not reset the count.
    restarted = service(db_engine, clock, catalog)
    assert await restarted.submit(1, 1, "Ana", "eleventh") == Refused(Refusal.TOO_MANY)
    assert await restarted.begin_waiting(1, 1, "Ana") == Refused(Refusal.TOO_MANY)
    assert await stored_count(db_engine) == PER_HOUR + 1
    # An hour after the first note, one slot is free again.
    clock.advance(3600 - 60 * PER_HOUR + 1)
    assert isinstance(await restarted.submit(1, 1, "Ana", "later"), FeedbackItem)
    assert await restarted.submit(1, 1, "Ana", "and again") == Refused(Refusal.TOO_MANY)


async def test_waiting_for_a_note_is_stored_ends_with_the_note_and_expires(
    db_engine: AsyncEngine, clock: ManualClock, tiny_class: YogaClass
) -> None:
    catalog = {tiny_class.id: tiny_class}
    feedback = service(db_engine, clock, catalog)
    assert not await feedback.is_waiting(1)
    assert await feedback.begin_waiting(1, 1, "Ana") is None
    assert await service(db_engine, clock, catalog).is_waiting(1)  # survives a restart
    await feedback.submit(1, 1, "Ana", "here it is")
    assert not await feedback.is_waiting(1)

    await feedback.begin_waiting(1, 1, "Ana")
    assert await feedback.cancel_waiting(1)
    assert not await feedback.cancel_waiting(1)

    await feedback.begin_waiting(1, 1, "Ana")
    clock.advance(WAIT_FOR.total_seconds() + 1)
    assert not await feedback.is_waiting(1)


async def test_a_wait_expires_after_ten_minutes_and_not_before(
    feedback: FeedbackService, clock: ManualClock
) -> None:
    assert await feedback.begin_waiting(1, 501, "Ana") is None
    await feedback.prompt_sent(1, 77)
    clock.advance(WAIT_FOR.total_seconds())
    assert await feedback.is_waiting(1)
    assert await feedback.withdraw_prompt(1, moved_on=False) is None
    assert await feedback.is_waiting(1)

    clock.advance(1)
    assert not await feedback.is_waiting(1)
    assert await feedback.withdraw_prompt(1, moved_on=False) == Prompt(501, 77)
    assert await feedback.withdraw_prompt(1, moved_on=False) is None
    assert await feedback.withdraw_prompt(1, moved_on=True) is None


async def test_moving_on_withdraws_the_prompt_once_even_across_a_restart(
    db_engine: AsyncEngine, clock: ManualClock, tiny_class: YogaClass
) -> None:
    catalog = {tiny_class.id: tiny_class}
    feedback = service(db_engine, clock, catalog)
    assert await feedback.withdraw_prompt(1, moved_on=True) is None  # nothing awaited

    await feedback.begin_waiting(1, 501, "Ana")
    await feedback.prompt_sent(1, 42)
    restarted = service(db_engine, clock, catalog)
    assert await restarted.withdraw_prompt(1, moved_on=True) == Prompt(501, 42)
    assert await restarted.withdraw_prompt(1, moved_on=True) is None
    assert await feedback.withdraw_prompt(1, moved_on=True) is None
    assert not await restarted.is_waiting(1)


async def test_a_user_known_not_to_wait_is_looked_up_again_once_a_wait_begins(
    db_engine: AsyncEngine, clock: ManualClock, tiny_class: YogaClass
) -> None:
    catalog = {tiny_class.id: tiny_class}
    feedback = service(db_engine, clock, catalog)
    assert await feedback.withdraw_prompt(1, moved_on=True) is None  # known: no wait
    await feedback.begin_waiting(1, 501, "Ana")
    await feedback.prompt_sent(1, 42)
    assert await feedback.withdraw_prompt(1, moved_on=True) == Prompt(501, 42)
    # Several workers share a PostgreSQL database: one begins a wait, another sees it.
    if db_engine.dialect.name == "postgresql":
        other = service(db_engine, clock, catalog)
        assert await other.withdraw_prompt(1, moved_on=True) is None
        await feedback.begin_waiting(1, 501, "Ana")
        await feedback.prompt_sent(1, 43)
        assert await other.withdraw_prompt(1, moved_on=True) == Prompt(501, 43)


async def test_only_the_latest_prompt_of_a_wait_still_on_is_withdrawn(
    feedback: FeedbackService,
) -> None:
    await feedback.begin_waiting(1, 501, "Ana")
    await feedback.prompt_sent(1, 42)
    await feedback.submit(1, 501, "Ana", "the note")
    assert await feedback.withdraw_prompt(1, moved_on=True) is None  # answered already

    await feedback.begin_waiting(1, 501, "Ana")
    await feedback.prompt_sent(1, 43)
    assert await feedback.cancel_waiting(1)
    await feedback.prompt_sent(1, 44)  # arrives after the cancel: no wait to attach it to
    assert await feedback.withdraw_prompt(1, moved_on=True) is None

    await feedback.begin_waiting(1, 501, "Ana")
    await feedback.prompt_sent(1, 45)
    await feedback.begin_waiting(1, 501, "Ana")  # /feedback again
    await feedback.prompt_sent(1, 46)
    assert await feedback.withdraw_prompt(1, moved_on=True) == Prompt(501, 46)


async def test_a_wait_whose_prompt_was_never_sent_ends_with_nothing_to_edit(
    feedback: FeedbackService,
) -> None:
    await feedback.begin_waiting(1, 501, "Ana")
    assert await feedback.withdraw_prompt(1, moved_on=True) is None
    assert not await feedback.is_waiting(1)


# -- yogabot feedback export ------------------------------------------------------------


@pytest.fixture
def cli_env(monkeypatch: pytest.MonkeyPatch, tmp_path: Path, database_url: str) -> None:
    monkeypatch.chdir(tmp_path)  # no stray .env
    monkeypatch.setenv("DATABASE_URL", database_url)


async def seed_notes(db_engine: AsyncEngine, clock: ManualClock, catalog: dict) -> None:  # type: ignore[type-arg]
    feedback = service(db_engine, clock, catalog)
    clock.now = datetime(2026, 1, 4, 23, 59, tzinfo=UTC)
    await feedback.submit(1, 1, "Ana", "old note")
    clock.now = datetime(2026, 1, 5, 0, 0, tzinfo=UTC)
    await feedback.submit(2, 2, "Ben", UNUSUAL)
    await feedback.submit(2, 2, "Ben", "<b>not bold</b>, =1+1")


async def run_cli(*args: str) -> int:
    # The CLI runs its own event loop, so from an async test it goes to a thread.
    return await asyncio.to_thread(main, list(args))


async def exported_csv(capsys: pytest.CaptureFixture[str], *args: str) -> list[dict[str, str]]:
    assert await run_cli("feedback", "export", *args) == 0
    return list(csv.DictReader(io.StringIO(capsys.readouterr().out)))


async def test_export_csv_round_trips_unusual_text(
    db_engine: AsyncEngine,
    clock: ManualClock,
    tiny_class: YogaClass,
    capsys: pytest.CaptureFixture[str],
    cli_env: None,
) -> None:
    await seed_notes(db_engine, clock, {tiny_class.id: tiny_class})
    rows = await exported_csv(capsys)
    assert [r["text"] for r in rows] == ["old note", UNUSUAL, "<b>not bold</b>, =1+1"]
    assert rows[1]["user_id"] == "2"
    assert rows[1]["created_at"] == "2026-01-05T00:00:00+00:00"
    assert rows[0]["pose"] == ""  # no practice yet: no context
    assert [r["text"] for r in await exported_csv(capsys, "--since", "2026-01-05")] == [
        UNUSUAL,
        "<b>not bold</b>, =1+1",
    ]


async def test_export_json_round_trips_unusual_text_with_context(
    db_engine: AsyncEngine,
    clock: ManualClock,
    store: Store,
    timers: FakeTimers,
    capsys: pytest.CaptureFixture[str],
    cli_env: None,
) -> None:
    # The CLI names poses from the shipped classes, so this note is made in one of them.
    catalog = load_catalog()
    seed = next(iter(catalog.values()))
    started = await PracticeService(store, catalog, clock, timers).start(3, 3, "Cy")
    await service(db_engine, clock, catalog).submit(3, 3, "Cy", UNUSUAL)
    assert await run_cli("feedback", "export", "--format", "json") == 0
    out = capsys.readouterr().out
    assert "🌿" in out  # ensure_ascii=False: readable as written
    [row] = json.loads(out)
    assert row["text"] == UNUSUAL
    assert (row["session_id"], row["class_id"]) == (started.practice_id, seed.id)
    first = seed.steps[0]
    assert (row["step_index"], row["step_id"], row["pose"]) == (0, first.id, first.title)


@pytest.mark.parametrize("since", ["yesterday", "2026-13-01", "05/01/2026"])
def test_export_with_a_bad_since_explains_in_one_line(
    since: str, capsys: pytest.CaptureFixture[str], cli_env: None
) -> None:
    assert main(["feedback", "export", "--since", since]) == 2
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1
    assert err.startswith("yogabot: --since:") and "2026-01-31" in err


def test_export_of_an_empty_database_is_just_the_header(
    capsys: pytest.CaptureFixture[str], cli_env: None
) -> None:
    assert main(["feedback", "export"]) == 0
    assert capsys.readouterr().out.strip() == (
        "id,created_at,user_id,session_id,class_id,step_index,step_id,pose,text"
    )


def test_waiting_window_is_ten_minutes() -> None:
    assert timedelta(minutes=10) == WAIT_FOR


FORMULAS = ['=HYPERLINK("http://x","click")', "+1+1", "-2+3", "@SUM(A1)"]


async def test_export_csv_neutralises_formulas_and_json_keeps_them_exact(
    db_engine: AsyncEngine,
    clock: ManualClock,
    tiny_class: YogaClass,
    capsys: pytest.CaptureFixture[str],
    cli_env: None,
) -> None:
    feedback = service(db_engine, clock, {tiny_class.id: tiny_class})
    for text in [*FORMULAS, "a - b = c"]:
        await feedback.submit(1, 1, "Ana", text)
    rows = await exported_csv(capsys)
    # A spreadsheet shows these as text: the apostrophe tells it not to calculate.
    assert [r["text"] for r in rows] == [*(f"'{t}" for t in FORMULAS), "a - b = c"]
    assert await run_cli("feedback", "export", "--format", "json") == 0
    assert [r["text"] for r in json.loads(capsys.readouterr().out)] == [*FORMULAS, "a - b = c"]
