"""One chat's trouble stays in that chat: a 429 or a Telegram call that hangs holds up
that chat alone, never the other users' cues, taps and commands.

Faults are injected at the emulator for one chat; lateness is read from the emulator's
own record of when each call arrived, and the rate limiter's clock is the test's.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import Any

import pytest

from handlers.render import practice as render
from playground.emulator import BotApiEmulator, RecordedCall, SimulatedUser
from tests.harness.bot import (
    begin_practice,
    bot_running,
    button_texts,
    cues_titled,
    has_button_on,
    has_message,
)
from tests.harness.factories import make_class
from tests.harness.fakes import JumpingScheduler

POSES = 10
STEADY = make_class("steady-class", holds=(60,) * POSES)
# At this scale each one-minute hold lasts 1.5 s: a cue every 1.5 s.
SCALE = 0.025
HOLD = 60 * SCALE
# What Telegram told the refused chat to wait, in seconds.
RETRY_AFTER = 20
# Well above a cue's usual lateness here (a few hundredths of a second), far below the
# 20 s a bot-wide pause would add: being late by this much is being held up.
HELD_UP = 1.0


def cue_calls(emulator: BotApiEmulator, user: SimulatedUser) -> list[RecordedCall]:
    """The cues Telegram took for the user, in order of arrival."""
    return [
        c
        for c in emulator.calls_of("sendMessage")
        if c.ok and c.params.get("chat_id") == user.id and f"/{POSES} · " in _text(c)
    ]


def _text(call: RecordedCall) -> str:
    return str(call.params.get("text", ""))


def lateness_after(calls: list[RecordedCall], since: float, count: int) -> list[float] | None:
    """How late each of the first `count` cues that arrived after `since` was: its gap
    from the cue before it, less the hold. None until that many have arrived."""
    later = [n for n, c in enumerate(calls) if c.time > since and n > 0]
    if len(later) < count:
        return None
    return [calls[n].time - calls[n - 1].time - HOLD for n in later[:count]]


# PTB itself warns about RetryAfter.retry_after's future type while building the exception.
@pytest.mark.filterwarnings("ignore::telegram.warnings.PTBDeprecationWarning")
async def test_a_429_for_one_chat_holds_up_no_other_chats_cues(
    emulator: BotApiEmulator, database_url: str
) -> None:
    ana, ben, cai = (emulator.user(7001 + n, first_name=name) for n, name in enumerate("ABC"))
    scheduler = JumpingScheduler()
    async with bot_running(
        emulator,
        database_url,
        catalog={STEADY.id: STEADY},
        time_scale=SCALE,
        send_scheduler=scheduler,
    ):
        try:
            for user in (ana, ben, cai):
                await begin_practice(emulator, user)
            await emulator.wait_for(lambda: all(cue_calls(emulator, u) for u in (ana, ben, cai)))
            # Ana's next cue is refused: Telegram tells her chat to wait 20 s.
            emulator.fail_next("sendMessage", chat_id=ana.id, retry_after=RETRY_AFTER)
            refused = await emulator.wait_for(
                lambda: next((c for c in emulator.calls_of("sendMessage") if c.error_code), None)
            )
            assert refused.error_code == 429 and refused.params["chat_id"] == ana.id

            def next_two_cues_of(user: SimulatedUser) -> Callable[[], list[float] | None]:
                return lambda: lateness_after(cue_calls(emulator, user), refused.time, 2)

            # Ben's and Cai's next two cues each, as they fall due. Held up behind Ana's
            # wait they would come 20 s late (the limiter's clock runs at the loop's pace
            # until the test jumps it, so that takes 20 s to see).
            lateness = {
                user.first_name: await emulator.wait_for(
                    next_two_cues_of(user), timeout=RETRY_AFTER + 10
                )
                for user in (ben, cai)
            }
            assert all(late < HELD_UP for each in lateness.values() for late in each), lateness
            # Ana's chat still waits: her refused cue has not gone again.
            assert len(cue_calls(emulator, ana)) == 1
            # Her 20 s pass (the limiter's clock jumps on): her cue goes now, once.
            jumped_at = asyncio.get_running_loop().time()
            scheduler.jump(RETRY_AFTER)
            await emulator.wait_for(lambda: len(cue_calls(emulator, ana)) == 2)
            assert cue_calls(emulator, ana)[1].time >= jumped_at
            assert f"2/{POSES} · " in _text(cue_calls(emulator, ana)[1])
            await emulator.wait_for(lambda: len(cue_calls(emulator, ana)) == 3)
        finally:
            scheduler.jump(RETRY_AFTER)  # nothing left waiting when the bot stops
    assert len(cues_titled(ana, f"2/{POSES} · ")) == 1


async def test_a_hanging_telegram_call_holds_up_no_other_chats_updates(
    emulator: BotApiEmulator, database_url: str
) -> None:
    """Ana's Easier option hangs at Telegram: Ben's tap and Cai's /help are answered
    while it still hangs; Ana's own next tap waits for it, and then goes, in order."""
    tiny = make_class()
    ana, ben, cai = (emulator.user(7101 + n, first_name=name) for n, name in enumerate("ABC"))
    async with bot_running(emulator, database_url, catalog={tiny.id: tiny}):
        for user in (ana, ben):
            await begin_practice(emulator, user)
        [ana_cue] = await emulator.wait_for(lambda: cues_titled(ana, "1/3"))
        [ben_cue] = await emulator.wait_for(lambda: cues_titled(ben, "1/3"))
        await emulator.wait_for(has_button_on(ana_cue, "Easier option"))
        await emulator.wait_for(has_button_on(ben_cue, "Next"))

        hang = emulator.hold_next("editMessageText", chat_id=ana.id)
        await ana.tap(ana_cue.message_id, text="Easier option")
        await emulator.wait_for(hang.arrived.is_set)
        hung_at = asyncio.get_running_loop().time()
        # Ana taps again while her edit hangs: it waits for it, being her chat's.
        ana_next_tap = await ana.tap(ana_cue.message_id, text="Next")
        ben_tap = await ben.tap(ben_cue.message_id, text="Next")
        await cai.send("/help")

        answered: dict[str, Any] = {}

        def ben_and_cai_answered() -> bool:
            now = asyncio.get_running_loop().time()
            if "ben" not in answered and cues_titled(ben, "2/3"):
                answered["ben"] = now - hung_at
            if "cai" not in answered and has_message(cai, "/start_practice")():
                answered["cai"] = now - hung_at
            return len(answered) == 2

        try:
            # PTB gives up on Ana's call after its 5 s read timeout, which ends the hang.
            await emulator.wait_for(ben_and_cai_answered, timeout=15)
            assert emulator.state.callback_queries[ben_tap].answered
            assert hang.hanging, (
                f"Ben and Cai were answered only once Ana's call had ended "
                f"(after {answered['ben']:.1f} s and {answered['cai']:.1f} s)"
            )
            # Ana's own Next waits behind her hanging edit.
            assert cues_titled(ana, "2/3") == []
        finally:
            hang.release()
        await emulator.wait_for(lambda: "Easier pose 1" in (ana_cue.plain or ""))
        [ana_next] = await emulator.wait_for(lambda: cues_titled(ana, "2/3"))
    edits = [c for c in emulator.calls_of("editMessageText") if c.params["chat_id"] == ana.id]
    nexts = [c for c in emulator.calls_of("sendMessage") if c.params["chat_id"] == ana.id]
    assert edits[0].time < next(c.time for c in nexts if "2/3" in _text(c))
    assert button_texts(ana_next)[:2] == ["Easier option", "Next"]
    # Her Next was handled on the pose it was tapped on, not found stale.
    [answer] = [a for a in emulator.callback_answers if a["callback_query_id"] == ana_next_tap]
    assert answer.get("text") != render.STALE_BUTTON
