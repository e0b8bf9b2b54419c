"""A user's own data (CSV, forget) and the admin numbers, as services and `yogabot stats`."""

from __future__ import annotations

import asyncio
import csv
import io
from datetime import UTC, datetime
from pathlib import Path

import pytest
from sqlalchemy.ext.asyncio import AsyncEngine

from bot.clock import ManualClock
from bot.database import create_sessionmaker
from bot.feedback import FeedbackService
from bot.models import SessionStatus
from bot.stats import StatsService, as_text
from bot.store import FeedbackStore, PracticeStore, UserStore
from bot.store.users import Counts
from bot.userdata import UserDataService
from cli import main
from sequences import YogaClass
from tests.records import add_reminder, add_session, add_user, rows_about, session_ids_of


@pytest.fixture
def users(db_engine: AsyncEngine) -> UserStore:
    return UserStore(create_sessionmaker(db_engine))


@pytest.fixture
def userdata(users: UserStore, tiny_class: YogaClass) -> UserDataService:
    return UserDataService(users, {tiny_class.id: tiny_class}, "UTC")


async def note(db_engine: AsyncEngine, clock: ManualClock, user_id: int, text: str) -> None:
    sessions = create_sessionmaker(db_engine)
    service = FeedbackService(FeedbackStore(sessions), PracticeStore(sessions), {}, clock)
    await service.submit(user_id, user_id, "Ana", text)


async def test_history_csv_holds_practices_and_notes_in_the_users_zone(
    userdata: UserDataService, db_engine: AsyncEngine, clock: ManualClock
) -> None:
    assert await userdata.history_csv(5) is None
    await add_user(db_engine, 5, timezone="Europe/Berlin")
    await add_session(
        db_engine,
        5,
        datetime(2026, 1, 5, 22, 30, tzinfo=UTC),
        minutes=3,
        back_before=6,
        back_after=2,
        easier_steps=("pose-2",),
    )
    await add_session(
        db_engine, 5, datetime(2026, 1, 7, 7, 0, tzinfo=UTC), status=SessionStatus.STOPPED
    )
    await note(db_engine, clock, 5, 'Line one,\n"two" 🌿')

    data = await userdata.history_csv(5)
    assert data is not None and data.startswith(b"\xef\xbb\xbf")
    rows = list(csv.DictReader(io.StringIO(data.decode("utf-8-sig"))))
    assert [r["kind"] for r in rows] == ["practice", "practice", "feedback"]
    first = rows[0]
    assert first["at"] == "2026-01-05T23:30+01:00"
    assert (first["class"], first["status"], first["minutes"]) == ("Tiny Class", "finished", "3.0")
    assert (first["poses_done"], first["easier_used"]) == ("3", "1")
    assert (first["back_before"], first["back_after"]) == ("6", "2")
    assert rows[1]["status"] == "stopped"
    assert rows[2]["text"] == 'Line one,\n"two" 🌿'


async def test_forget_deletes_every_row_about_the_user_and_nobody_elses(
    userdata: UserDataService, db_engine: AsyncEngine, clock: ManualClock
) -> None:
    for user_id in (5, 6):
        await add_session(db_engine, user_id, clock.now, easier_steps=("pose-1",))
        await add_session(db_engine, user_id, clock.now, status=SessionStatus.ACTIVE)
        await add_reminder(db_engine, user_id)
        await note(db_engine, clock, user_id, "a note")
    ids = await session_ids_of(db_engine, 5)
    before = await rows_about(db_engine, 5, ids)
    assert all(before.values()), before  # the test sees rows in every table first

    open_sessions = await userdata.forget(5)

    assert open_sessions == [max(ids)]
    assert await rows_about(db_engine, 5, ids) == dict.fromkeys(before, 0)
    assert await rows_about(db_engine, 6) == before
    assert await userdata.forget(5) is None


async def test_counts_and_their_text(db_engine: AsyncEngine, users: UserStore) -> None:
    now = datetime(2026, 1, 5, 7, 0, tzinfo=UTC)
    await add_session(db_engine, 1, now)
    await add_session(db_engine, 1, now, status=SessionStatus.STOPPED)
    await add_session(db_engine, 2, now)
    await add_session(db_engine, 3, now, status=SessionStatus.ACTIVE)
    await add_user(db_engine, 4)
    await add_reminder(db_engine, 1)
    await add_reminder(db_engine, 2, enabled=False)

    counts = await StatsService(users).collect()

    assert counts == Counts(
        users=4, users_with_reminders=1, sessions_started=4, sessions_finished=2, feedback=0
    )
    assert as_text(counts).splitlines() == [
        "users                 4",
        "users with reminders  1",
        "sessions started      4",
        "sessions finished     2",
        "completion rate       50%",
        "feedback              0",
    ]
    assert "completion rate       -" in as_text(Counts(0, 0, 0, 0, 0))


async def test_cli_stats_prints_the_same_numbers(
    db_engine: AsyncEngine,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
    tmp_path: Path,
    database_url: str,
) -> None:
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("DATABASE_URL", database_url)
    await add_session(db_engine, 1, datetime(2026, 1, 5, 7, 0, tzinfo=UTC))
    assert await asyncio.to_thread(main, ["stats"]) == 0
    out = capsys.readouterr().out
    assert "users                 1" in out
    assert "completion rate       100%" in out
