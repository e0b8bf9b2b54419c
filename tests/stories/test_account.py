"""/mydata, /forget_me and the admin-only /stats, through the real Application."""

from __future__ import annotations

import logging
import sqlite3
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncEngine

import bot.account
from bot.database import create_sessionmaker
from bot.models import Practice, PracticeStatus, Reminder
from bot.services import Services
from bot.store import StoreUnavailable
from bot.store.feedback import Copy
from handlers.context import SERVICES
from handlers.render import account as render_account
from handlers.render import common as render
from handlers.render import feedback as render_feedback
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
from tests.harness.fakes import FakeTeamChat
from tests.harness.mydata import mydata_parts
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
    parts = mydata_parts(data)
    stopped, open_one = parts["practice_sessions"]
    assert (stopped["status"], stopped["back_before"]) == ("stopped", "5")
    assert open_one["status"] == "active"
    # The easier option chosen on the first pose, among what happened at each pose.
    chosen = [(e["session_id"], e["pose"]) for e in parts["step_events"] if e["kind"] == "easier"]
    assert chosen == [(stopped["id"], "Pose 1")]
    [note] = parts["feedback"]
    assert (note["text"], note["pose"]) == ('Strap cue, "perfect" 🌿', "Pose 1")
    [you] = parts["users"]
    assert (you["screen_answer"], you["class_length"]) == ("clear", "full")


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
    [row] = mydata_parts(data)["feedback"]
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


# -- the copies of the user's notes in the team's chat -----------------------------------

TEAM_CHAT = 9200


async def forwarded_notes(
    emulator: BotApiEmulator, user: SimulatedUser, *notes: str
) -> tuple[SimulatedUser, list[EmuMessage]]:
    """The team's chat (known to the emulator once it has written to the bot), and the
    copies of the user's `notes` it received, in order."""
    team = emulator.user(TEAM_CHAT, first_name="Team")
    await reply_to(team, "/help")
    for note in notes:
        await reply_to(user, f"/feedback {note}")
    copies = await emulator.wait_for(
        lambda: found if len(found := team.bot_messages[1:]) == len(notes) else None
    )
    return team, copies


async def forget(emulator: BotApiEmulator, user: SimulatedUser) -> EmuMessage:
    """/forget_me, confirmed; the question, once it says what was done."""
    question = await reply_to(user, "/forget_me")
    await user.tap(question.message_id, text="Yes, delete everything")
    await emulator.wait_for(lambda: (question.plain or "").startswith(render_account.FORGOTTEN))
    return question


def deletes(emulator: BotApiEmulator) -> list[tuple[int, int, bool]]:
    """(chat, message, done) of every deleteMessage the bot asked for."""
    return [
        (c.params["chat_id"], c.params["message_id"], c.ok)
        for c in emulator.calls_of("deleteMessage")
    ]


async def test_forget_me_deletes_the_copies_of_the_notes_in_the_team_chat(
    emulator: BotApiEmulator, database_url: str, db_engine: AsyncEngine
) -> None:
    user, other = emulator.user(4301), emulator.user(4302)
    async with bot_running(
        emulator, database_url, catalog=TINY_CATALOG, feedback_chat_id=TEAM_CHAT
    ):
        team, copies = await forwarded_notes(emulator, user, "first note", "second note")
        await reply_to(other, "/feedback someone else's note")
        await emulator.wait_for(lambda: len(team.bot_messages) == 4)
        question = await forget(emulator, user)
    # Newest first: the older a copy, the likelier Telegram refuses to delete it.
    assert deletes(emulator) == [
        (TEAM_CHAT, copies[1].message_id, True),
        (TEAM_CHAT, copies[0].message_id, True),
    ]
    assert question.plain == render_account.FORGOTTEN
    left = [m.plain or "" for m in team.bot_messages]
    assert len(left) == 2 and left[1].endswith("someone else's note")
    assert (await rows_about(db_engine, user.id))["feedback"] == 0
    assert (await rows_about(db_engine, other.id))["feedback"] == 1


# What Telegram answers a deleteMessage it will not carry out, and whether the copy stays.
REFUSALS: dict[str, tuple[dict[str, Any], bool]] = {
    "older than 48 hours": (
        {"error_code": 400, "description": "Bad Request: message can't be deleted for everyone"},
        True,
    ),
    "deleted by someone": (
        {"error_code": 400, "description": "Bad Request: message to delete not found"},
        False,
    ),
    "bot removed from the chat": (
        {"error_code": 403, "description": "Forbidden: bot was kicked from the group chat"},
        True,
    ),
    "Telegram fails": ({"error_code": 502, "description": "Bad Gateway"}, True),
    "connection lost": ({"drop": "before"}, True),
    "flood limit, waited out": ({"retry_after": 1}, False),
}


@pytest.mark.parametrize("refusal", list(REFUSALS))
async def test_a_copy_telegram_will_not_delete_is_said_plainly_and_the_rest_deleted(
    emulator: BotApiEmulator, database_url: str, db_engine: AsyncEngine, refusal: str
) -> None:
    fault, stays = REFUSALS[refusal]
    user = emulator.user(4303)
    async with bot_running(
        emulator, database_url, catalog=TINY_CATALOG, feedback_chat_id=TEAM_CHAT
    ):
        _, [copy] = await forwarded_notes(emulator, user, "a private note")
        emulator.fail_next("deleteMessage", chat_id=TEAM_CHAT, **fault)
        question = await forget(emulator, user)
        again = await reply_to(user, "/mydata")
    if stays:
        assert question.plain == (
            f"{render_account.FORGOTTEN}\n\n{render_account.copies_left_line(1)}"
        )
    else:
        assert question.plain == render_account.FORGOTTEN
    assert deletes(emulator)[0][:2] == (TEAM_CHAT, copy.message_id)
    # Whatever Telegram said, nothing about the user is left in the database.
    assert again.plain == render_account.NOTHING_STORED
    assert (await rows_about(db_engine, user.id))["feedback"] == 0


async def test_an_unreachable_team_chat_is_asked_once_and_every_copy_reported(
    emulator: BotApiEmulator, database_url: str
) -> None:
    user = emulator.user(4304)
    async with bot_running(
        emulator, database_url, catalog=TINY_CATALOG, feedback_chat_id=TEAM_CHAT
    ):
        await forwarded_notes(emulator, user, "one", "two", "three")
        emulator.fail_next(
            "deleteMessage", chat_id=TEAM_CHAT, error_code=403, description="Forbidden: no"
        )
        question = await forget(emulator, user)
    assert len(deletes(emulator)) == 1
    assert question.plain == f"{render_account.FORGOTTEN}\n\n{render_account.copies_left_line(3)}"


# SQLite's write lock shows whether a transaction is held; PostgreSQL runs the same code.
@pytest.mark.backends("sqlite")
async def test_a_team_chat_that_does_not_answer_holds_neither_forget_nor_the_database(
    emulator: BotApiEmulator,
    database_url: str,
    db_engine: AsyncEngine,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(bot.account, "COPIES_SECONDS", 1.0)
    user = emulator.user(4305)
    async with bot_running(
        emulator, database_url, catalog=TINY_CATALOG, feedback_chat_id=TEAM_CHAT
    ):
        await forwarded_notes(emulator, user, "a note")
        # Telegram takes the call and never answers (longer than PTB's read timeout).
        emulator.fail_next("deleteMessage", chat_id=TEAM_CHAT, drop="silent")
        question = await reply_to(user, "/forget_me")
        await user.tap(question.message_id, text="Yes, delete everything")
        await emulator.wait_for(lambda: emulator.calls_of("deleteMessage"))
        # While the bot waits for Telegram, another writer gets the database at once.
        raw = sqlite3.connect(tmp_path / "yogabot.db", timeout=0)
        try:
            raw.execute("BEGIN IMMEDIATE")
            raw.rollback()
        finally:
            raw.close()
        await emulator.wait_for(lambda: (question.plain or "").startswith("Done."))
    assert question.plain == f"{render_account.FORGOTTEN}\n\n{render_account.copies_left_line(1)}"
    assert (await rows_about(db_engine, user.id))["feedback"] == 0


async def test_a_note_forgotten_while_its_copy_was_on_the_way_loses_the_copy_too(
    emulator: BotApiEmulator, database_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    user = emulator.user(4306)
    async with bot_running(
        emulator, database_url, catalog=TINY_CATALOG, feedback_chat_id=TEAM_CHAT
    ) as app:
        team = emulator.user(TEAM_CHAT, first_name="Team")
        await reply_to(team, "/help")
        services: Services = app.bot_data[SERVICES]
        record_copy = services.feedback.copy_sent

        async def forgotten_meanwhile(feedback_id: int, copy: Copy) -> bool:
            # As if /forget_me ran on another worker while the copy was being sent.
            await services.account.forget(user.id, FakeTeamChat().remove)
            return await record_copy(feedback_id, copy)

        monkeypatch.setattr(services.feedback, "copy_sent", forgotten_meanwhile)
        await reply_to(user, "/feedback said just before forgetting")
        [(chat, message, done)] = await emulator.wait_for(lambda: deletes(emulator))
    assert (chat, done) == (TEAM_CHAT, True)
    assert [m.message_id for m in team.bot_messages] == [team.bot_messages[0].message_id]
    assert message > team.bot_messages[0].message_id


async def test_a_copy_that_cannot_be_recorded_is_deleted_at_once(
    emulator: BotApiEmulator,
    database_url: str,
    db_engine: AsyncEngine,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    user = emulator.user(4307)
    async with bot_running(
        emulator, database_url, catalog=TINY_CATALOG, feedback_chat_id=TEAM_CHAT
    ) as app:
        team = emulator.user(TEAM_CHAT, first_name="Team")
        await reply_to(team, "/help")
        services: Services = app.bot_data[SERVICES]

        async def database_gone(feedback_id: int, copy: Copy) -> bool:
            raise StoreUnavailable("database is locked")

        monkeypatch.setattr(services.feedback, "copy_sent", database_gone)
        thanks = await reply_to(user, "/feedback a note whose copy goes unrecorded")
        [(chat, _, done)] = await emulator.wait_for(lambda: deletes(emulator))
    # The note is kept and thanked; only the copy /forget_me could not find is gone.
    assert thanks.plain == render_feedback.THANKS
    assert (chat, done) == (TEAM_CHAT, True)
    assert len(team.bot_messages) == 1
    assert (await rows_about(db_engine, user.id))["feedback"] == 1
