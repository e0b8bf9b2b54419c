"""No props at home? /start and the intro of a practice say what to use instead, for the
props the class asks for (its class file's props_needed and props_optional)."""

from __future__ import annotations

from typing import get_args

from handlers.render import common, practice
from playground.emulator import BotApiEmulator
from sequences import Prop, YogaClass
from tests.harness.bot import bot_running, has_message
from tests.harness.factories import make_class

STAND_INS = (
    "No props? Use a belt or scarf for the strap, thick books or a firm cushion for the "
    "blocks, a folded towel for the blanket."
)


def class_with(needed: list[str], optional: list[str], blocks: int = 0) -> YogaClass:
    data = make_class().model_dump()
    data.update(props_needed=needed, props_optional=optional, block_count=blocks)
    return YogaClass.model_validate(data)


async def test_start_and_the_intro_say_what_to_use_without_props(
    emulator: BotApiEmulator, database_url: str
) -> None:
    """The seed class: a strap and two blocks, a blanket optional."""
    user = emulator.user(1101, first_name="Ana")
    async with bot_running(emulator, database_url):
        await user.send("/start")
        welcome = await emulator.wait_for(has_message(user, "Hello Ana"))
        await user.send("/start_practice")
        screen = await emulator.wait_for(has_message(user, "None of these"))
        await user.tap(screen.message_id, text="None of these")
        intro = await emulator.wait_for(has_message(user, "Props:"))
    assert "You'll need: strap, 2 blocks; optional: blanket.\n" + STAND_INS in welcome.plain
    assert "Props: strap, 2 blocks; optional: blanket.\n" + STAND_INS in intro.plain


def test_the_stand_ins_follow_the_props_of_the_class() -> None:
    one_block = class_with(["block"], ["blanket"], blocks=1)
    assert common.no_props_line(one_block) == (
        "No props? Use thick books or a firm cushion for the block, a folded towel for the blanket."
    )
    blanket_only = class_with([], ["blanket"])
    assert common.props_line(blanket_only) == "blanket (optional)"
    assert common.no_props_line(blanket_only) == "No props? Use a folded towel for the blanket."
    # Every prop a class file may name has a stand-in.
    assert set(common.STAND_INS) == set(get_args(Prop))


def test_a_class_without_props_says_none_are_needed() -> None:
    bare = class_with([], [])
    assert common.no_props_line(bare) is None
    assert "You'll need no props." in common.welcome(bare, "Ana").text
    assert "No props?" not in common.welcome(bare, "Ana").text
    intro = practice.intro(bare).text.splitlines()
    assert intro[1] == "Props: none needed."
    assert not any("No props?" in line for line in intro)
