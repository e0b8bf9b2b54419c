"""What is recorded about a pose names the pose the user was on, in every kind of class:
the full class, the short one, the gentle practice and a short class whose pose comes
easier from the start because the user often chose so. A short or gentle practice runs the
class's short selection, so its third pose is not the full class's third: a note, an "it
hurt", /progress, /mydata and the next practice's memory must all find the pose in the
practice's own plan."""

from __future__ import annotations

from dataclasses import dataclass

import pytest
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncEngine

from bot.database import create_sessionmaker
from bot.models import ClassLength, EasierReason, Feedback
from bot.services import Services
from bot.user_settings import Setting
from handlers.context import SERVICES
from handlers.render import feedback as render_feedback
from handlers.render import practice as render_practice
from playground.emulator import BotApiEmulator, SimulatedUser
from playground.emulator.state import EmuMessage
from sequences import YogaClass
from tests.harness.bot import (
    Worded,
    answer_checkin,
    begin_practice,
    bot_running,
    cues_titled,
    has_button_on,
    has_message,
    is_closing,
    screened,
)
from tests.harness.factories import make_class
from tests.harness.mydata import mydata_parts

# Five poses; the short selection is poses 1, 3 and 5. So the short class's second pose is
# Pose 3 (the full class's second is Pose 2, right side) and its last is Pose 5 (the full
# class's third is Pose 3).
SHORT = ("pose-1", "pose-3", "pose-5")
FIVE = YogaClass.model_validate(
    {
        **make_class("five-poses", holds=(60,) * 5).model_dump(),
        "steps": [
            {**step.model_dump(), "short": step.id in SHORT}
            for step in make_class(holds=(60,) * 5).steps
        ],
    }
)
CATALOG: dict[str, YogaClass] = {FIVE.id: FIVE}
REMEMBERED = render_practice.EASIER_BECAUSE[EasierReason.REMEMBERED]
HURT_LAST_TIME = render_practice.EASIER_BECAUSE[EasierReason.HURT_LAST_TIME]


@dataclass(frozen=True)
class Variant:
    name: str
    poses: int  # in the practice
    second: str  # the title of its second pose
    # What /progress lists under "Where you chose the easier option", in the end.
    easier_most: str | None
    # Poses in the practice after it (a gentle practice is for one day; the setting stays).
    poses_next: int


VARIANTS = [
    Variant("full", 5, "Pose 2, right side", "• Pose 5: 1 time", 5),
    Variant("short", 3, "Pose 3", "• Pose 5: 1 time", 3),
    # Every pose easier from the start: nothing was chosen.
    Variant("gentle", 3, "Pose 3", None, 5),
    # Chosen in the two practices before; shown easier from the start in this one.
    Variant("remembered easier", 3, "Pose 3", "• Pose 5: 2 times", 3),
]


def cue(user: SimulatedUser, number: int, total: int, practice: int) -> list[Worded]:
    """The cue of pose `number` in the user's `practice`-th practice of that length."""
    return cues_titled(user, f"{number}/{total} · ")[practice - 1 :]


async def note(emulator: BotApiEmulator, user: SimulatedUser, text: str) -> None:
    """/feedback `text`, and its thanks (the bot's other messages may come in between)."""
    thanked = len(has_messages(user, render_feedback.THANKS))
    await user.send(f"/feedback {text}")
    await emulator.wait_for(lambda: len(has_messages(user, render_feedback.THANKS)) > thanked)


async def next_to(
    emulator: BotApiEmulator,
    user: SimulatedUser,
    number: int,
    total: int,
    practice: int,
    *,
    on: int = 1,
) -> Worded:
    """Tap Next from pose `on` up to pose `number` of the practice; its cue."""
    for n in range(on, number):

        def this_one(n: int = n) -> list[Worded]:
            return cue(user, n, total, practice)

        [shown, *_] = await emulator.wait_for(this_one)
        await emulator.wait_for(has_button_on(shown, "Next"))
        await user.tap(shown.message_id, text="Next")
    [shown, *_] = await emulator.wait_for(lambda: cue(user, number, total, practice))
    return shown


async def short_practice_choosing_easier_at_the_end(
    emulator: BotApiEmulator, user: SimulatedUser, practice: int
) -> None:
    await begin_practice(emulator, user)
    last = await next_to(emulator, user, 3, 3, practice)
    await user.tap(last.message_id, text="Easier option")
    await emulator.wait_for(lambda: "Easier:" in (last.plain or ""))
    await user.tap(last.message_id, text="Next")
    await emulator.wait_for(
        lambda: len([m for m in user.bot_messages if is_closing(m)]) == practice
    )


def documents(user: SimulatedUser) -> list[EmuMessage]:
    return [m for m in user.bot_messages if m.document]


def closings(user: SimulatedUser) -> int:
    return len([m for m in user.bot_messages if is_closing(m)])


def has_messages(user: SimulatedUser, needle: str) -> list[EmuMessage]:
    return [m for m in user.bot_messages if needle in (m.plain or "")]


async def notes_in(db_engine: AsyncEngine) -> list[Feedback]:
    async with create_sessionmaker(db_engine)() as db:
        return list(await db.scalars(select(Feedback).order_by(Feedback.id)))


@pytest.mark.parametrize("variant", VARIANTS, ids=[v.name for v in VARIANTS])
async def test_notes_pain_and_easier_choices_are_filed_under_the_pose_of_the_practice(
    emulator: BotApiEmulator, database_url: str, db_engine: AsyncEngine, variant: Variant
) -> None:
    user = emulator.user(8101)
    total, practice = variant.poses, 1
    async with bot_running(emulator, database_url, catalog=CATALOG) as app:
        services: Services = app.bot_data[SERVICES]
        await screened(emulator, user)
        if variant.name in ("short", "remembered easier"):
            await services.user_settings.change(
                user.id, user.id, "Ana", Setting.CLASS_LENGTH, ClassLength.SHORT
            )
        if variant.name == "remembered easier":
            for earlier in (1, 2):
                await short_practice_choosing_easier_at_the_end(emulator, user, earlier)
            practice = 3
        if variant.name == "gentle":
            await user.send("/start_practice")
            question = await answer_checkin(emulator, user, "6")
            await emulator.wait_for(has_button_on(question, "Gentle practice"))
            await user.tap(question.message_id, text="Gentle practice")
        else:
            await begin_practice(emulator, user)

        second = await next_to(emulator, user, 2, total, practice)
        assert second.plain.startswith(f"2/{total} · {variant.second}\n")
        await note(emulator, user, "the second pose")
        last = await next_to(emulator, user, total, total, practice, on=2)
        assert last.plain.startswith(f"{total}/{total} · Pose 5\n")
        assert (REMEMBERED in last.plain) == (variant.name == "remembered easier")
        if variant.name in ("full", "short"):
            await user.tap(last.message_id, text="Easier option")
            await emulator.wait_for(lambda: "Easier:" in (last.plain or ""))
        await note(emulator, user, "the last pose")
        await user.tap(last.message_id, text="It hurts")
        await emulator.wait_for(has_button_on(last, "Skip this pose"))
        await user.tap(last.message_id, text="Skip this pose")
        await emulator.wait_for(
            lambda: len([m for m in user.bot_messages if is_closing(m)]) == practice
        )
        await note(emulator, user, "after the class")

        await user.send("/progress")
        report = await emulator.wait_for(has_message(user, "Your practice so far"))
        await emulator.wait_for(lambda: [m for m in user.bot_messages if m.photo])
        await user.send("/mydata")
        document = await emulator.wait_for(lambda: next(iter(documents(user)), None))
        assert document.document is not None
        file = await app.bot.get_file(document.document["file_id"])
        parts = mydata_parts(bytes(await file.download_as_bytearray()))

        # The next practice remembers that Pose 5 hurt, and no other pose.
        await begin_practice(emulator, user)
        again = variant.poses_next
        # Its place among the user's practices of that length.
        nth = practice + 1 if again == total else 1
        following = [
            (await next_to(emulator, user, n, again, nth, on=max(n - 1, 1))).plain
            for n in range(1, again + 1)
        ]

    pose_3 = "pose-2" if variant.name == "full" else "pose-3"
    notes = [(n.text, n.step_id) for n in await notes_in(db_engine)]
    assert notes == [
        ("the second pose", pose_3),
        ("the last pose", "pose-5"),
        ("after the class", "pose-5"),
    ]
    # /mydata names the same poses, and the pose the practice ended on.
    assert [(n["text"], n["pose"]) for n in parts["feedback"]] == [
        ("the second pose", variant.second),
        ("the last pose", "Pose 5"),
        ("after the class", "Pose 5"),
    ]
    this_one = parts["practice_sessions"][practice - 1]
    assert this_one["pose"] == "Pose 5"
    assert this_one["class_length"] == ("full" if variant.name == "full" else "short")
    assert this_one["gentle"] == ("yes" if variant.name == "gentle" else "no")
    mine = [e for e in parts["step_events"] if e["session_id"] == this_one["id"]]
    hurt = [(e["step_index"], e["pose"]) for e in mine if e["kind"] == "hurt"]
    assert hurt == [(str(total - 1), "Pose 5")]
    shown = [e["pose"] for e in mine if e["kind"] == "shown"]
    assert shown == [s.title for s in FIVE.steps_for("full" if total == 5 else "short")]
    # /progress counts the easier option under the pose it was chosen for.
    lines = report.plain.splitlines()
    easier = [line for line in lines if line.startswith("• Pose")]
    assert easier == ([variant.easier_most] if variant.easier_most else [])
    # Only the last pose comes gentler for having hurt.
    assert [HURT_LAST_TIME in text for text in following] == [False] * (again - 1) + [True]
    assert following[-1].startswith(f"{again}/{again} · Pose 5\n")
