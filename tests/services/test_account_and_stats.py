"""A user's own record (history, forget, an unreachable chat) and the admin numbers, as
services and `yogabot stats`."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime
from pathlib import Path

import pytest
from sqlalchemy.ext.asyncio import AsyncEngine

import bot.account
from bot.account import AccountService, CopyRemoval, Forgotten
from bot.clock import ManualClock
from bot.feedback import FeedbackItem, FeedbackService
from bot.models import PracticeStatus
from bot.practice.service import PracticeService
from bot.reminders import ReminderService, Schedule
from bot.stats import StatsService
from bot.store import Counts, Store
from bot.store.feedback import Copy
from cli import main
from handlers.render.account import record_csv, stats_table
from sequences import YogaClass
from tests.harness.fakes import FakeTeamChat, FakeTimers
from tests.harness.mydata import mydata_parts
from tests.harness.records import add_reminder, add_session, add_user, rows_about, session_ids_of


@pytest.fixture
def account(
    store: Store,
    practice: PracticeService,
    clock: ManualClock,
    tiny_class: YogaClass,
    timers: FakeTimers,
) -> AccountService:
    reminders = ReminderService(store, clock)
    catalog = {tiny_class.id: tiny_class}
    return AccountService(
        store, catalog, "UTC", practice=practice, reminders=reminders, timers=timers
    )


async def note(
    db_engine: AsyncEngine,
    clock: ManualClock,
    user_id: int,
    text: str,
    copy: Copy | None = None,
) -> None:
    """A note, and (`copy`) where its copy went in the team's chat."""
    feedback = FeedbackService(Store(db_engine), {}, clock)
    item = await feedback.submit(user_id, user_id, "Ana", text)
    assert isinstance(item, FeedbackItem)
    if copy is not None:
        assert await feedback.copy_sent(item.id, copy)


async def test_the_record_holds_practices_poses_and_notes_in_the_users_zone(
    account: AccountService, db_engine: AsyncEngine, clock: ManualClock
) -> None:
    assert await account.record(5) is None
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
        db_engine, 5, datetime(2026, 1, 7, 7, 0, tzinfo=UTC), status=PracticeStatus.STOPPED
    )
    await note(db_engine, clock, 5, 'Line one,\n"two" 🌿')

    record = await account.record(5)
    assert record is not None
    parts = mydata_parts(record_csv(record))
    assert list(parts) == [
        "users",
        "reminders",
        "plans",
        "practice_sessions",
        "step_events",
        "programme_events",
        "feedback",
    ]
    [you] = parts["users"]
    assert (you["id"], you["timezone"]) == ("5", "Europe/Berlin")
    assert parts["reminders"] == []
    first, second = parts["practice_sessions"]
    assert first["started_at"] == "2026-01-05T23:30:00+01:00"
    assert (first["class"], first["status"], first["practised_seconds"]) == (
        "Tiny Class",
        "finished",
        "180.0",
    )
    assert (first["back_before"], first["back_after"], first["gentle"]) == ("6", "2", "no")
    # Ended on its third pose, as the practice ran the class.
    assert first["pose"] == "Pose 3"
    assert second["status"] == "stopped"
    events = [(e["session_id"], e["pose"], e["kind"]) for e in parts["step_events"]]
    assert events[:4] == [
        (first["id"], "Pose 1", "shown"),
        (first["id"], "Pose 2, right side", "shown"),
        (first["id"], "Pose 3", "shown"),
        (first["id"], "Pose 2, right side", "easier"),
    ]
    [written] = parts["feedback"]
    assert written["text"] == 'Line one,\n"two" 🌿'
    assert written["session_id"] == second["id"]


async def test_forget_deletes_every_row_about_the_user_and_nobody_elses(
    account: AccountService, db_engine: AsyncEngine, clock: ManualClock, timers: FakeTimers
) -> None:
    for user_id in (5, 6):
        await add_session(db_engine, user_id, clock.now, easier_steps=("pose-1",))
        await add_session(db_engine, user_id, clock.now, status=PracticeStatus.ACTIVE)
        await add_reminder(db_engine, user_id)
        await note(db_engine, clock, user_id, "a note")
    ids = await session_ids_of(db_engine, 5)
    before = await rows_about(db_engine, 5, ids)
    assert all(before.values()), before  # the test sees rows in every table first

    team = FakeTeamChat()
    assert await account.forget(5, team.remove) == Forgotten(copies_left=0)

    # The open practice's timer goes with it.
    assert timers.cancelled == [max(ids)]
    assert await rows_about(db_engine, 5, ids) == dict.fromkeys(before, 0)
    assert await rows_about(db_engine, 6) == before
    assert await account.forget(5, team.remove) is None
    assert team.asked == []  # no note of theirs was forwarded


TEAM, OLD_TEAM = -100900, -100800


async def notes_with_copies(db_engine: AsyncEngine, clock: ManualClock) -> list[Copy]:
    """Three notes of user 5 forwarded (two to the team's chat, the first to one it had
    before), one of user 6; the copies of user 5's, newest first."""
    copies = [Copy(OLD_TEAM, 11), Copy(TEAM, 21), Copy(TEAM, 22)]
    for number, copy in enumerate(copies):
        await note(db_engine, clock, 5, f"note {number}", copy)
        clock.advance(60)
    await note(db_engine, clock, 6, "someone else's", Copy(TEAM, 23))
    return copies[::-1]


async def test_forget_deletes_the_copies_first_newest_first_then_the_rows(
    account: AccountService, db_engine: AsyncEngine, clock: ManualClock
) -> None:
    await notes_with_copies(db_engine, clock)
    asked: list[tuple[Copy, int]] = []

    async def remove(copy: Copy) -> CopyRemoval:
        asked.append((copy, (await rows_about(db_engine, 5))["feedback"]))
        return CopyRemoval.GONE

    assert await account.forget(5, remove) == Forgotten(copies_left=0)
    # Every copy went while the notes, and the ids they keep, were still stored.
    assert asked == [(Copy(TEAM, 22), 3), (Copy(TEAM, 21), 3), (Copy(OLD_TEAM, 11), 3)]
    assert (await rows_about(db_engine, 5))["feedback"] == 0
    assert (await rows_about(db_engine, 6))["feedback"] == 1


async def test_copies_telegram_refuses_are_counted_and_the_rows_deleted_all_the_same(
    account: AccountService, db_engine: AsyncEngine, clock: ManualClock
) -> None:
    copies = await notes_with_copies(db_engine, clock)
    team = FakeTeamChat()
    team.answers[OLD_TEAM] = CopyRemoval.REFUSED  # e.g. older than 48 hours

    assert await account.forget(5, team.remove) == Forgotten(copies_left=1)

    assert team.asked == copies
    assert (await rows_about(db_engine, 5))["feedback"] == 0


async def test_an_unreachable_chat_is_tried_once_and_the_other_chats_still_are(
    account: AccountService, db_engine: AsyncEngine, clock: ManualClock
) -> None:
    await notes_with_copies(db_engine, clock)
    team = FakeTeamChat()
    team.answers[TEAM] = CopyRemoval.UNREACHABLE  # e.g. the bot was removed from it

    assert await account.forget(5, team.remove) == Forgotten(copies_left=2)

    assert team.asked == [Copy(TEAM, 22), Copy(OLD_TEAM, 11)]
    assert (await rows_about(db_engine, 5))["feedback"] == 0


async def test_a_team_chat_that_never_answers_holds_forget_up_only_so_long(
    account: AccountService,
    db_engine: AsyncEngine,
    clock: ManualClock,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(bot.account, "COPIES_SECONDS", 0.05)
    await notes_with_copies(db_engine, clock)
    team = FakeTeamChat()
    team.hang = True

    async with asyncio.timeout(5):
        assert await account.forget(5, team.remove) == Forgotten(copies_left=3)

    assert team.asked == [Copy(TEAM, 22)]
    assert (await rows_about(db_engine, 5))["feedback"] == 0


class Died(BaseException):
    """The process ending half-way, as far as the code running in it can tell."""


async def test_a_forget_cut_short_after_the_copies_keeps_the_rows_for_the_next_one(
    account: AccountService, db_engine: AsyncEngine, clock: ManualClock
) -> None:
    copies = await notes_with_copies(db_engine, clock)
    deleted: list[Copy] = []

    async def remove_then_die(copy: Copy) -> CopyRemoval:
        deleted.append(copy)
        if len(deleted) == len(copies):
            raise Died
        return CopyRemoval.GONE

    with pytest.raises(Died):
        await account.forget(5, remove_then_die)
    assert (await rows_about(db_engine, 5))["feedback"] == 3

    # Asked again, Telegram says the copies deleted before are not found: gone.
    team = FakeTeamChat()
    assert await account.forget(5, team.remove) == Forgotten(copies_left=0)
    assert team.asked == copies
    assert (await rows_about(db_engine, 5))["feedback"] == 0


async def test_a_note_forwarded_while_forget_runs_has_its_copy_deleted_too(
    account: AccountService, db_engine: AsyncEngine, clock: ManualClock
) -> None:
    await notes_with_copies(db_engine, clock)
    team = FakeTeamChat()
    late = Copy(TEAM, 30)

    async def remove(copy: Copy) -> CopyRemoval:
        if not team.asked:
            clock.advance(60)
            await note(db_engine, clock, 5, "sent meanwhile", late)
        return await team.remove(copy)

    assert await account.forget(5, remove) == Forgotten(copies_left=0)
    assert team.asked[-1] == late
    assert (await rows_about(db_engine, 5))["feedback"] == 0


async def test_a_copy_sent_after_its_note_was_forgotten_is_not_recorded(
    account: AccountService, db_engine: AsyncEngine, clock: ManualClock
) -> None:
    feedback = FeedbackService(Store(db_engine), {}, clock)
    item = await feedback.submit(5, 5, "Ana", "on its way")
    assert isinstance(item, FeedbackItem)
    await account.forget(5, FakeTeamChat().remove)
    # The handler then deletes the copy it just sent.
    assert not await feedback.copy_sent(item.id, Copy(TEAM, 40))


async def test_counts_and_their_text(db_engine: AsyncEngine, store: Store) -> None:
    now = datetime(2026, 1, 5, 7, 0, tzinfo=UTC)
    await add_session(db_engine, 1, now)
    await add_session(db_engine, 1, now, status=PracticeStatus.STOPPED)
    await add_session(db_engine, 2, now)
    await add_session(db_engine, 3, now, status=PracticeStatus.ACTIVE)
    await add_user(db_engine, 4)
    await add_reminder(db_engine, 1)
    await add_reminder(db_engine, 2, enabled=False)

    counts = await StatsService(store).collect()

    assert counts == Counts(
        users=4, users_with_reminders=1, practices_started=4, practices_finished=2, feedback=0
    )
    assert stats_table(counts).splitlines() == [
        "users                 4",
        "users with reminders  1",
        "sessions started      4",
        "sessions finished     2",
        "completion rate       50%",
        "feedback              0",
    ]
    assert "completion rate       -" in stats_table(Counts(0, 0, 0, 0, 0))


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


async def test_an_unreachable_chat_ends_its_practice_and_its_reminders(
    account: AccountService,
    practice: PracticeService,
    store: Store,
    clock: ManualClock,
    timers: FakeTimers,
) -> None:
    reminders = ReminderService(store, clock)
    for user_id in (5, 6):
        await reminders.set_schedule(user_id, user_id, "Ana", Schedule(7, 30))
    started = await practice.start(5, 5, "Ana")
    await practice.start(6, 6, "Ben")

    await account.unreachable(5)

    assert (await reminders.status(5)).schedule is None
    assert (await reminders.status(6)).schedule is not None
    async with store.read() as uow:
        stopped = await uow.practices.get(started.practice_id)
        assert stopped is not None and stopped.status == PracticeStatus.STOPPED
        assert len(await uow.practices.open_of(6)) == 1
    assert started.practice_id in timers.cancelled
