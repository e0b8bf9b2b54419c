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
from playground.emulator import BotApiEmulator, SimulatedUser
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


class Group:
    """The group, and a message the bot once left there with a button (as older versions
    did): tapped with data no scheme knows, it is answered whatever the bot does with
    groups, which tells when the group's updates before the tap were handled."""

    def __init__(self, emulator: BotApiEmulator) -> None:
        self.emulator = emulator
        self.chat = emulator.group(GROUP)
        button = {"text": "Skip", "callback_data": "c:b:s"}
        self.old_message = emulator.state.add_message(
            self.chat.chat, from_bot=True, text="How does your back feel?",
            reply_markup={"inline_keyboard": [[button]]},
        )  # fmt: skip

    @property
    def said(self) -> list[EmuMessage]:
        """What the bot has posted in the group (its old message aside)."""
        return [m for m in self.chat.bot_messages if m is not self.old_message]

    async def tap(self, member: SimulatedUser, data: str) -> dict[str, Any]:
        """`member` presses the old message's button with `data`; the bot's answer."""
        query_id = await self.chat.tap_data(member, self.old_message.message_id, data)
        return await self.emulator.wait_for(answer_to(self.emulator, query_id))

    async def settled(self, member: SimulatedUser) -> None:
        """Until every update so far in the group is handled: a group's updates are
        handled one at a time, in order, and the last is a tap the bot answers."""
        await self.tap(member, "x:settled")

    async def added_by(self, member: SimulatedUser) -> list[EmuMessage]:
        """What the bot posts in the group on being added by `member`."""
        before = len(self.said)
        await self.chat.add_bot(by=member)
        await self.settled(member)
        return self.said[before:]

    async def send(self, member: SimulatedUser, text: str) -> list[EmuMessage]:
        """What the bot posts in the group after `member` writes `text` there."""
        before = len(self.said)
        await self.chat.send(member, text)
        await self.settled(member)
        return self.said[before:]


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
    group = Group(emulator)
    async with bot_running(emulator, database_url, catalog=TINY_CATALOG):
        await group.added_by(ann)
        for command in (
            "/mydata@yogabot_test",
            "/progress",
            "/start_practice",
            "/remind 08:00",
            "/plan 3",
            "/report",
        ):
            [invite] = await group.send(ann, command)
            assert invite.plain == render.PRIVATE_ONLY
            assert invite.document is None and invite.photo is None
    # Nothing of Ann's reached the group: no file, no note, no score, no question.
    for message in group.said:
        assert message.plain == render.PRIVATE_ONLY
        assert [b.get("url") for b in message.buttons] == ["https://t.me/yogabot_test"]
    assert not await stored_practices(database_url)


async def test_in_a_group_commands_for_other_bots_and_chatter_get_no_answer(
    emulator: BotApiEmulator,
    database_url: str,
    ann_and_ben: tuple[SimulatedUser, SimulatedUser],
) -> None:
    ann, ben = ann_and_ben
    group = Group(emulator)
    async with bot_running(emulator, database_url, catalog=TINY_CATALOG):
        [invite] = await group.added_by(ann)
        assert invite.plain == render.PRIVATE_ONLY
        assert await group.send(ben, "/help@other_bot") == []
        assert await group.send(ben, "my back hurts today") == []
        assert await group.send(ann, "/start@other_bot") == []


async def test_a_tap_in_a_group_is_not_anyones_and_changes_nothing(
    emulator: BotApiEmulator,
    database_url: str,
    db_engine: AsyncEngine,
    ann_and_ben: tuple[SimulatedUser, SimulatedUser],
) -> None:
    ann, ben = ann_and_ben
    group = Group(emulator)
    async with bot_running(emulator, database_url, catalog=TINY_CATALOG):
        await group.added_by(ann)
        # Skip on Ann's check-in, a gate choice, None of these, Snooze, Off, a practice
        # button, a setting, a quick time and a place offered by /timezone, pressed by Ben.
        for data in (
            *("c:b:s", "c:g:u:10", "sf:n:1", "r:snooze", "r:off", "p:n:1:0", "st:p:slow"),
            *("r:set:1800", "tz:Europe/London"),
        ):
            answer = await group.tap(ben, data)
            assert answer["text"] == render.NOT_YOUR_BUTTON
        await group.settled(ben)
    user, reminder = await stored(db_engine, BEN)
    assert user.chat_id == BEN and user.timezone is None
    assert reminder is not None and reminder.enabled and reminder.chat_id == BEN
    assert (reminder.hour, reminder.minute) == (7, 30)
    assert not await stored_practices(database_url)
    assert {m.plain for m in group.said} == {render.PRIVATE_ONLY}


async def test_removing_the_bot_from_a_group_leaves_private_reminders_alone(
    emulator: BotApiEmulator,
    database_url: str,
    db_engine: AsyncEngine,
    ann_and_ben: tuple[SimulatedUser, SimulatedUser],
    caplog: pytest.LogCaptureFixture,
) -> None:
    ann, ben = ann_and_ben
    group = Group(emulator)
    async with bot_running(emulator, database_url, catalog=TINY_CATALOG):
        await group.added_by(ann)
        # Ben taps in the group (None of these, then Skip on the check-in), then removes
        # the bot; Ann adds it back, which is handled after the removal.
        for data in ("sf:n:0", "c:b:s"):
            await group.tap(ben, data)
        await group.chat.remove_bot(by=ben)
        await group.added_by(ann)
    _, reminder = await stored(db_engine, BEN)
    assert reminder is not None and reminder.enabled and reminder.chat_id == BEN
    assert not [r for r in caplog.records if r.levelno >= logging.ERROR]


async def test_an_invitation_telegram_refuses_still_keeps_the_command_out_of_the_group(
    emulator: BotApiEmulator,
    database_url: str,
    db_engine: AsyncEngine,
    ann_and_ben: tuple[SimulatedUser, SimulatedUser],
) -> None:
    ann, _ = ann_and_ben
    group = Group(emulator)
    async with bot_running(emulator, database_url, catalog=TINY_CATALOG):
        await group.added_by(ann)
        # A hiccup on the one line, or a group where members may not send text.
        emulator.fail_next("sendMessage", error_code=502, chat_id=GROUP)
        await group.send(ann, "/mydata")
        emulator.fail_next(
            "sendMessage",
            error_code=400,
            description="Bad Request: not enough rights",
            chat_id=GROUP,
        )
        await group.send(ann, "/remind 08:00")
    assert emulator.calls_of("sendDocument") == []
    user, _ = await stored(db_engine, ANN)
    assert user.chat_id == ANN
