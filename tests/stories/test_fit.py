"""A practice that fits the person, as users live it through the real Application and the
emulator: /settings changes the next class, two people get different practices from the
same class, +15 s on a cue, and the slow pace offered once."""

from __future__ import annotations

import pytest

from bot.user_settings import paced_hold
from playground.emulator import BotApiEmulator, SimulatedUser
from playground.emulator.state import EmuMessage
from sequences import load_catalog
from tests.harness.bot import (
    Worded,
    begin_practice,
    bot_running,
    button_texts,
    choose_settings,
    cue_timers,
    cues_titled,
    has_button_on,
    has_message,
    is_closing,
    stored_practices,
)

SEED = next(iter(load_catalog().values()))
SHORT = SEED.steps_for("short")


async def first_cue(emulator: BotApiEmulator, user: SimulatedUser, total: int) -> Worded:
    await begin_practice(emulator, user, "2")
    return (await emulator.wait_for(lambda: cues_titled(user, f"1/{total} · ")))[-1]


async def test_two_people_get_different_practices_from_the_same_class(
    emulator: BotApiEmulator, database_url: str
) -> None:
    ana, ben = emulator.user(8001, first_name="Ana"), emulator.user(8002, first_name="Ben")
    async with bot_running(emulator, database_url):
        await choose_settings(emulator, ben, "Short", "Slow", "Always")
        ana_cue = await first_cue(emulator, ana, len(SEED.steps))
        ben_cue = await first_cue(emulator, ben, len(SHORT))
        ana_intro = await emulator.wait_for(has_message(ana, "Full class"))
        ben_intro = await emulator.wait_for(has_message(ben, "Short class"))
    assert "Full class · normal pace · about 30 min" in ana_intro.plain
    slow_minutes = round(sum(paced_hold(s.hold_seconds, 1.25) for s in SHORT) / 60)
    assert f"Short class · slow pace · about {slow_minutes} min" in ben_intro.plain
    first = SEED.steps[0]
    # Ana: the whole class, the usual hold, the easier option a tap away.
    assert "Hold 1 min 20 s" in ana_cue.plain and "Easier:" not in ana_cue.plain
    assert f"Next: {SEED.steps[1].title}" in ana_cue.plain
    assert button_texts(ana_cue)[0] == "Easier option"
    # Ben: the short class, holds a quarter longer, every pose in its easier version.
    assert "Hold 1 min 40 s" in ben_cue.plain and f"Easier: {first.easier}" in ben_cue.plain
    assert f"Next: {SHORT[1].title}" in ben_cue.plain
    assert button_texts(ben_cue)[0] == "Usual version"
    ana_practice, ben_practice = await stored_practices(database_url)
    assert (ana_practice.class_length, ana_practice.pace_factor) == ("full", 1.0)
    assert (ben_practice.class_length, ben_practice.pace_factor) == ("short", 1.25)


async def test_more_time_on_the_cue_shows_the_new_hold(
    emulator: BotApiEmulator, database_url: str
) -> None:
    user = emulator.user(8003)
    async with bot_running(emulator, database_url) as app:
        cue = await first_cue(emulator, user, len(SEED.steps))
        [job] = cue_timers(app)
        before = job.next_t
        assert before is not None
        await user.tap(cue.message_id, text="+15 s")
        await emulator.wait_for(lambda: "Hold 1 min 35 s" in (cue.plain or ""))
        await user.tap(cue.message_id, text="+15 s")
        await emulator.wait_for(lambda: "Hold 1 min 50 s" in (cue.plain or ""))
        [job] = cue_timers(app)
        assert job.next_t is not None
        # Both presses moved the deadline on by 15 s each (as read from the real clock).
        assert (job.next_t - before).total_seconds() == pytest.approx(30, abs=0.05)


async def test_the_slow_pace_is_offered_after_two_classes_with_extra_time(
    emulator: BotApiEmulator, database_url: str
) -> None:
    user = emulator.user(8004)
    short = len(SHORT)
    async with bot_running(emulator, database_url):
        await choose_settings(emulator, user, "Short")
        for round_ in (1, 2):
            await begin_practice(emulator, user, "2")
            for number in range(1, short + 1):

                def shown(n: int = number, r: int = round_) -> list[Worded]:
                    return cues_titled(user, f"{n}/{short} · ")[r - 1 :]

                cue = (await emulator.wait_for(shown))[-1]
                if number <= 3:
                    await user.tap(cue.message_id, text="+15 s")

                    def held(c: EmuMessage = cue) -> bool:
                        return "Hold" in (c.plain or "")

                    await emulator.wait_for(held)
                await emulator.wait_for(has_button_on(cue, "Next"))
                await user.tap(cue.message_id, text="Next")

            def closed(r: int = round_) -> bool:
                return len([m for m in user.bot_messages if is_closing(m)]) == r

            await emulator.wait_for(closed)
        closing = [m for m in user.bot_messages if is_closing(m)]
        assert closing[0].plain is not None
        assert "slow pace" not in closing[0].plain
        assert button_texts(closing[1]) == ["Use the slow pace"]
        await user.tap(closing[1].message_id, text="Use the slow pace")
        await emulator.wait_for(has_message(user, "Slow pace is on"))
        assert not button_texts(closing[1])
        await user.send("/settings")
        await emulator.wait_for(
            lambda: next(
                (m for m in reversed(user.bot_messages) if "Pace: Slow" in button_texts(m)), None
            )
        )
