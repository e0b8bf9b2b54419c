"""/mydata, /forget_me and the admin-only /stats, through the real Application."""

from __future__ import annotations

import csv
import io
import logging
from pathlib import Path

import pytest
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncEngine

from bot.database import create_sessionmaker
from bot.models import Practice, PracticeStatus, Reminder
from handlers.render import account as render_account
from handlers.render import common as render
from playground.emulator import BotApiEmulator, SimulatedUser
from playground.emulator.state import EmuMessage
from tests.harness.bot import (
    answer_checkin,
    begin_practice,
    bot_running,
    button_texts,
    cue_jobs,
    cues_titled,
    stop_practice,
)
from tests.harness.factories import make_class
from tests.harness.records import add_reminder, rows_about, session_ids_of

TINY = make_class()
TINY_CATALOG = {TINY.id: TINY}
ADMIN = 4100


async def reply_to(user: SimulatedUser, text: str) -> EmuMessage:
    await user.send(text)
    return await user.wait_bot_message()


async def practise_and_note(emulator: BotApiEmulator, user: SimulatedUser) -> None:
    """One stopped practice with the easier option, one note, and a practice left open."""
    await begin_practice(emulator, user, "5")
    [cue] = await emulator.wait_for(lambda: cues_titled(user, "1/3"))
    await user.tap(cue.message_id, text="Easier option")
    await emulator.wait_for(lambda: "Easier:" in (cue.plain or ""))
    await stop_practice(emulator, user, cue)
    await emulator.wait_for(lambda: any("stopped" in (m.plain or "") for m in user.bot_messages))
    await reply_to(user, '/feedback Strap cue, "perfect" 🌿')
    # Stopped a moment ago, so it is offered to continue: start over instead.
    offer = await reply_to(user, "/start_practice")
    await user.tap(offer.message_id, text="Start over")
    await answer_checkin(emulator, user)
    await emulator.wait_for(lambda: len(cues_titled(user, "1/3")) == 2)


async def test_mydata_sends_the_history_as_a_csv_document(
    emulator: BotApiEmulator, database_url: str
) -> None:
    user = emulator.user(4001)
    async with bot_running(emulator, database_url, catalog=TINY_CATALOG) as app:
        nothing = await reply_to(user, "/mydata")
        assert nothing.plain == render_account.NOTHING_STORED
        await practise_and_note(emulator, user)
        document = await reply_to(user, "/mydata")
        assert document.document is not None
        file = await app.bot.get_file(document.document["file_id"])
        data = bytes(await file.download_as_bytearray())
    assert document.document["file_name"] == render_account.MYDATA_FILENAME
    assert document.caption == render_account.MYDATA_CAPTION
    rows = list(csv.DictReader(io.StringIO(data.decode("utf-8-sig"))))
    assert [(r["kind"], r["status"]) for r in rows] == [
        ("practice", "stopped"),
        ("practice", "in progress"),
        ("feedback", ""),
        ("safety screen", ""),
    ]
    assert (rows[0]["easier_used"], rows[0]["back_before"]) == ("1", "5")
    assert rows[2]["text"] == 'Strap cue, "perfect" 🌿'
    assert rows[2]["pose"] == "Pose 1"


async def test_forget_me_asks_first_then_leaves_no_row_behind(
    emulator: BotApiEmulator, database_url: str, db_engine: AsyncEngine
) -> None:
    user, other = emulator.user(4002), emulator.user(4003)
    async with bot_running(emulator, database_url, catalog=TINY_CATALOG) as app:
        await practise_and_note(emulator, user)
        await practise_and_note(emulator, other)
        await add_reminder(db_engine, user.id)
        question = await reply_to(user, "/forget_me")
        assert button_texts(question) == ["Yes, delete everything", "No, keep it"]
        await user.tap(question.message_id, text="No, keep it")
        await emulator.wait_for(lambda: question.plain == render_account.KEPT)
        ids = await session_ids_of(db_engine, user.id)
        kept = await rows_about(db_engine, user.id, ids)
        assert all(kept.values()), kept

        question = await reply_to(user, "/forget_me")
        await user.tap(question.message_id, text="Yes, delete everything")
        await emulator.wait_for(lambda: question.plain == render_account.FORGOTTEN)
        # The open practice's timer went with it; the other user's is untouched.
        cue_timers = cue_jobs(app)
        assert cue_timers == [f"cue:{max(await session_ids_of(db_engine, other.id))}"]
        again = await reply_to(user, "/mydata")
        assert again.plain == render_account.NOTHING_STORED
    assert await rows_about(db_engine, user.id, ids) == dict.fromkeys(kept, 0)
    others = await rows_about(db_engine, other.id)
    assert others == {**kept, "reminders": 0}


async def test_stats_answers_admins_only(emulator: BotApiEmulator, database_url: str) -> None:
    admin, user = emulator.user(ADMIN), emulator.user(4004)
    async with bot_running(
        emulator, database_url, catalog=TINY_CATALOG, admin_ids=frozenset({ADMIN})
    ):
        await begin_practice(emulator, user)
        await emulator.wait_for(lambda: cues_titled(user, "1/3"))
        refused = await reply_to(user, "/stats")
        assert refused.plain == render.UNKNOWN_COMMAND
        unknown = await reply_to(user, "/nonsense")
        assert refused.plain == unknown.plain
        numbers = await reply_to(admin, "/stats")
        menu = {c["command"] for c in emulator.commands}
    assert numbers.plain is not None
    lines = numbers.plain.splitlines()
    assert lines[0] == "users                 1"
    assert "sessions started      1" in lines
    assert "completion rate       0%" in lines
    assert {"progress", "feedback", "mydata", "forget_me"} <= menu
    assert "stats" not in menu


async def test_blocking_the_bot_stops_the_practice_and_reminders_at_once(
    emulator: BotApiEmulator, db_engine: AsyncEngine, database_url: str
) -> None:
    user = emulator.user(4101)
    async with bot_running(emulator, database_url, catalog=TINY_CATALOG) as app:
        await reply_to(user, "/remind 07:30")
        await user.send("/start_practice")
        await answer_checkin(emulator, user)
        await emulator.wait_for(lambda: cues_titled(user, "1/3"))

        def cue_timers() -> list[str]:
            return cue_jobs(app)

        await emulator.wait_for(cue_timers)  # the cue is delivered and its hold runs
        sent_before = len(user.bot_messages)
        # Telegram tells the bot with a my_chat_member update; no send has to fail first.
        await user.block()
        await emulator.wait_for(lambda: not cue_timers())
    async with create_sessionmaker(db_engine)() as db:
        [practice] = (await db.scalars(select(Practice))).all()
        reminder = await db.get(Reminder, user.id)
    assert practice.status == PracticeStatus.STOPPED
    assert reminder is not None and not reminder.enabled
    assert len(user.bot_messages) == sent_before


async def test_a_message_with_no_sender_is_ignored_quietly(
    emulator: BotApiEmulator, database_url: str, caplog: pytest.LogCaptureFixture
) -> None:
    user = emulator.user(4102)
    async with bot_running(emulator, database_url, catalog=TINY_CATALOG):
        await reply_to(user, "/help")
        chat = user.open_chat()
        # As an anonymous group admin's post arrives: a sender_chat and no "from".
        anonymous = chat.messages[0].to_api()
        anonymous.pop("from", None)
        anonymous["message_id"] = 10_000
        anonymous["text"] = "/start_practice"
        anonymous["entities"] = [{"type": "bot_command", "offset": 0, "length": 15}]
        emulator.state.enqueue_update("message", anonymous)
        await reply_to(user, "/help")
    assert not [m for m in user.bot_messages if "does your back feel" in (m.plain or "")]
    assert not [r for r in caplog.records if r.levelno >= logging.ERROR]


async def test_mydata_writes_a_formula_like_note_as_text(
    emulator: BotApiEmulator, database_url: str
) -> None:
    user = emulator.user(4005)
    async with bot_running(emulator, database_url, catalog=TINY_CATALOG) as app:
        await reply_to(user, '/feedback =HYPERLINK("http://x","click me")')
        document = await reply_to(user, "/mydata")
        assert document.document is not None
        file = await app.bot.get_file(document.document["file_id"])
        data = bytes(await file.download_as_bytearray())
    [row] = list(csv.DictReader(io.StringIO(data.decode("utf-8-sig"))))
    assert row["text"] == '\'=HYPERLINK("http://x","click me")'


# SQLite's file and WAL; PostgreSQL's data files are the operator's (see README, Privacy).
@pytest.mark.backends("sqlite")
async def test_forget_me_leaves_nothing_readable_in_the_database_files(
    emulator: BotApiEmulator, database_url: str, tmp_path: Path
) -> None:
    user = emulator.user(4006, first_name="Zephyrine")
    note = "my back-story-7f3a9c is private"
    async with bot_running(emulator, database_url, catalog=TINY_CATALOG):
        await reply_to(user, f"/feedback {note}")
        files = [tmp_path / "yogabot.db", tmp_path / "yogabot.db-wal"]
        assert any(note.encode() in f.read_bytes() for f in files if f.exists())
        question = await reply_to(user, "/forget_me")
        await user.tap(question.message_id, text="Yes, delete everything")
        await emulator.wait_for(lambda: question.plain == render_account.FORGOTTEN)
        # Read while the bot still holds the database open, WAL and all.
        leftovers = b"".join(f.read_bytes() for f in files if f.exists())
    assert note.encode() not in leftovers
    assert b"Zephyrine" not in leftovers
