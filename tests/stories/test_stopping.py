"""Stopping the bot while it is busy: no error from its own shutdown, and the updates it
fetched are confirmed to Telegram so a restart does not handle them again."""

from __future__ import annotations

import asyncio
import logging
import time

import pytest

from playground.emulator import BotApiEmulator
from tests.harness.bot import bot_running

USERS = 30


def stall_the_loop(slices: int, slice_s: float) -> None:
    """From the loop's next step on, hold its thread `slices` times for `slice_s` each, as a
    machine whose cores are all taken does: between two stalls every ready task takes one
    step, and a timer that fell due during a stall fires beside it."""
    loop = asyncio.get_running_loop()
    left = slices

    def stall() -> None:
        nonlocal left
        until = time.perf_counter() + slice_s
        while time.perf_counter() < until:
            pass
        left -= 1
        if left:
            loop.call_soon(stall)

    loop.call_soon(stall)


async def test_a_busy_bot_stops_without_an_error_and_confirms_what_it_fetched(
    emulator: BotApiEmulator, database_url: str, caplog: pytest.LogCaptureFixture
) -> None:
    users = [emulator.user(9000 + n) for n in range(USERS)]
    stopping = 0.0
    async with bot_running(emulator, database_url):
        await emulator.wait_for(lambda: emulator.calls_of("getUpdates"))
        for user in users:
            await user.send("/help")
        # Stopped with the updates fetched and their answers still on their way, on a
        # loop that stalls as on a machine with every core taken.
        await emulator.wait_for(lambda: not emulator.pending_updates, timeout=30)
        stopping = time.monotonic()
        stall_the_loop(slices=4, slice_s=0.3)
    assert not [r for r in caplog.records if r.levelno >= logging.ERROR]
    # The last getUpdates, with no long poll, tells Telegram everything fetched was handled.
    (last,) = [
        call
        for call in emulator.calls_of("getUpdates")
        if call.time >= stopping and int(call.params.get("timeout", 0)) == 0
    ]
    assert last.ok
    highest = max(u["update_id"] for u in emulator.update_log)
    assert int(last.params["offset"]) == highest + 1
    # Every update fetched was handled before the bot stopped: each user had an answer.
    for user in users:
        assert user.bot_messages, f"user {user.id} got no answer"
