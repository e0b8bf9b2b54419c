"""The bot in a group chat, with Ann and Ben, both of whom practise with it in private:
it answers only with an invitation to a private chat, posts nobody's data there, and a
group changes nothing about anyone's private chat, reminders or practice."""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

import pytest
from sqlalchemy.ext.asyncio import AsyncEngine

from bot.database import create_sessionmaker
from bot.models import Reminder, User
from handlers.render import common as render
from playground.emulator import BotApiEmulator, SimulatedGroup, SimulatedUser
from playground.emulator.state import EmuMessage
from tests.harness.bot import bot_running, stored_practices
from tests.harness.factories import make_class

TINY = make_class()
TINY_CATALOG = {TINY.id: TINY}
ANN, BEN, GROUP = 7101, 7102, -7100


async def reply_to(user: SimulatedUser, text: str) -> EmuMessage:
    await user.send(text)
    return await user.wait_bot_message()


async def stored(db_engine: AsyncEngine, user_id: int) -> tuple[User, Reminder | None]:
    async with create_sessionmaker(db_engine)() as db:
        user = await db.get(User, user_id)
        reminder = await db.get(Reminder, user_id)
    assert user is not None
    return user, reminder


async def settled(emulator: BotApiEmulator, member: SimulatedUser) -> None:
    """Until every update so far is handled: updates are taken in order, so once a private
    /help sent now is answered, those before it were fetched, and those of other chats
    (handled side by side) are waited for as the emulator's queue empties."""
    await emulator.wait_for(lambda: emulator.pending_updates == [])
    await reply_to(member, "/help")


async def added_by(
    emulator: BotApiEmulator, group: SimulatedGroup, member: SimulatedUser
) -> list[EmuMessage]:
    """What the bot posts in the group on being added to it by `member`."""
    await group.add_bot(by=member)
    await settled(emulator, member)
    return group.bot_messages


async def said_in_group(
    emulator: BotApiEmulator, group: SimulatedGroup, member: SimulatedUser, text: str
) -> list[EmuMessage]:
    """What the bot posts in the group after `member` writes `text` there, and before a
    private /help sent afterwards is answered (updates are handled in order per chat, so
    a /help answered means the group's message was handled too, or left alone)."""
    before = len(group.bot_messages)
    await group.send(member, text)
    await settled(emulator, member)
    return group.bot_messages[before:]


def answer_to(emulator: BotApiEmulator, query_id: str) -> Callable[[], dict[str, Any] | None]:
    def find() -> dict[str, Any] | None:
        answers = emulator.callback_answers
        return next((a for a in answers if a["callback_query_id"] == query_id), None)

    return find


@pytest.fixture
async def ann_and_ben(
    emulator: BotApiEmulator, database_url: str
) -> tuple[SimulatedUser, SimulatedUser]:
    """Ann has a note and a back score on record; Ben has a daily reminder."""
    ann = emulator.user(ANN, first_name="Ann", username="ann_k")
    ben = emulator.user(BEN, first_name="Ben")
    async with bot_running(emulator, database_url, catalog=TINY_CATALOG):
        await reply_to(ann, "/feedback my sciatica is worse on Mondays")
        await reply_to(ben, "/remind 07:30")
    return ann, ben


async def test_in_a_group_every_command_gets_one_line_inviting_to_a_private_chat(
    emulator: BotApiEmulator,
    database_url: str,
    ann_and_ben: tuple[SimulatedUser, SimulatedUser],
) -> None:
    ann, _ = ann_and_ben
    group = emulator.group(GROUP)
    async with bot_running(emulator, database_url, catalog=TINY_CATALOG):
        await added_by(emulator, group, ann)
        for command in ("/mydata@yogabot_test", "/progress", "/start_practice", "/remind 08:00"):
            [invite] = await said_in_group(emulator, group, ann, command)
            assert invite.plain == render.PRIVATE_ONLY
            assert invite.document is None and invite.photo is None
    # Nothing of Ann's reached the group: no file, no note, no score, no question.
    for message in group.bot_messages:
        assert message.plain == render.PRIVATE_ONLY
        assert [b.get("url") for b in message.buttons] == ["https://t.me/yogabot_test"]
    assert not await stored_practices(database_url)


async def test_in_a_group_commands_for_other_bots_and_chatter_get_no_answer(
    emulator: BotApiEmulator,
    database_url: str,
    ann_and_ben: tuple[SimulatedUser, SimulatedUser],
) -> None:
    ann, ben = ann_and_ben
    group = emulator.group(GROUP)
    async with bot_running(emulator, database_url, catalog=TINY_CATALOG):
        [invite] = await added_by(emulator, group, ann)
        assert invite.plain == render.PRIVATE_ONLY
        assert await said_in_group(emulator, group, ben, "/help@other_bot") == []
        assert await said_in_group(emulator, group, ben, "my back hurts today") == []
        assert await said_in_group(emulator, group, ann, "/start@other_bot") == []


async def test_a_tap_in_a_group_is_not_anyones_and_changes_nothing(
    emulator: BotApiEmulator,
    database_url: str,
    db_engine: AsyncEngine,
    ann_and_ben: tuple[SimulatedUser, SimulatedUser],
) -> None:
    ann, ben = ann_and_ben
    group = emulator.group(GROUP)
    async with bot_running(emulator, database_url, catalog=TINY_CATALOG):
        await added_by(emulator, group, ann)
        [said] = await said_in_group(emulator, group, ann, "/help")
        # Skip on a check-in, a gate choice, Snooze and a practice button, as if the bot
        # had once left them in the group.
        for data in ("c:b:s", "c:g:u:10", "r:snooze", "r:off", "p:n:1:0", "st:p:slow"):
            query_id = await group.tap_data(ben, said.message_id, data)
            answer = await emulator.wait_for(answer_to(emulator, query_id))
            assert answer["text"] == render.NOT_YOUR_BUTTON
        await reply_to(ben, "/help")
    user, reminder = await stored(db_engine, BEN)
    assert user.chat_id == BEN
    assert reminder is not None and reminder.enabled and reminder.chat_id == BEN
    assert not await stored_practices(database_url)
    assert {m.plain for m in group.bot_messages} == {render.PRIVATE_ONLY}


async def test_removing_the_bot_from_a_group_leaves_private_reminders_alone(
    emulator: BotApiEmulator,
    database_url: str,
    db_engine: AsyncEngine,
    ann_and_ben: tuple[SimulatedUser, SimulatedUser],
    caplog: pytest.LogCaptureFixture,
) -> None:
    ann, ben = ann_and_ben
    group = emulator.group(GROUP)
    async with bot_running(emulator, database_url, catalog=TINY_CATALOG):
        await added_by(emulator, group, ann)
        [said] = await said_in_group(emulator, group, ben, "/start_practice")
        # Ben taps in the group (None of these, then Skip on a check-in, as once left
        # there), then removes the bot.
        for data in ("sf:n:0", "c:b:s"):
            await group.tap_data(ben, said.message_id, data)
            await settled(emulator, ben)
        await group.remove_bot(by=ben)
        await emulator.wait_for(lambda: emulator.pending_updates == [])
        await reply_to(ben, "/help")
    _, reminder = await stored(db_engine, BEN)
    assert reminder is not None and reminder.enabled and reminder.chat_id == BEN
    assert not [r for r in caplog.records if r.levelno >= logging.ERROR]
