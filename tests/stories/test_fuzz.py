"""Hostile and odd input through the real Application: whatever arrives, nothing breaks.

Hypothesis draws the inputs (random unicode, junk command arguments, random callback data,
another user's real buttons); they are then played, in order, to one running bot.
"""

from __future__ import annotations

import logging
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import func, select

from bot.database import create_engine, create_sessionmaker
from bot.models import OPEN_STATUSES, Feedback, Practice, StepEvent
from handlers.render import common
from playground.emulator import BotApiEmulator
from tests.harness.bot import begin_practice, bot_running, cues_titled
from tests.harness.factories import make_class

TINY = make_class()
TINY_CATALOG = {TINY.id: TINY}
COMMANDS = [
    "start",
    "help",
    "start_practice",
    "progress",
    "remind",
    "timezone",
    "feedback",
    "mydata",
    "forget_me",
    "stats",
    "nonsense",
]
ODD_TEXT = st.one_of(
    st.text(max_size=300),
    st.text(alphabet="\u200b\u200e\u200f\u202e\u2066🌿👍🏽\u0627\u05d0 \n\t", max_size=50),
    st.just("x" * 5000),
    st.just(""),
)
ACTIONS = st.one_of(
    st.tuples(st.just("text"), ODD_TEXT),
    st.tuples(st.just("command"), st.tuples(st.sampled_from(COMMANDS), ODD_TEXT)),
    st.tuples(st.just("tap"), st.binary(max_size=64)),
    st.tuples(st.just("tap_theirs"), st.integers(min_value=0, max_value=3)),
)


def draw_actions(count: int) -> list[Any]:
    """`count` actions, as varied as hypothesis makes them."""
    drawn: list[Any] = []

    @settings(
        max_examples=count,
        database=None,
        derandomize=True,
        suppress_health_check=list(HealthCheck),
    )
    @given(ACTIONS)
    def collect(action: Any) -> None:
        drawn.append(action)

    collect()
    return drawn


async def test_odd_input_never_breaks_the_bot_or_its_data(
    emulator: BotApiEmulator, database_url: str, caplog: pytest.LogCaptureFixture
) -> None:
    ana, ben = emulator.user(7001), emulator.user(7002)
    actions = draw_actions(120)
    taps = 0
    async with bot_running(emulator, database_url, catalog=TINY_CATALOG):
        await begin_practice(emulator, ben)
        [ben_cue] = await emulator.wait_for(lambda: cues_titled(ben, "1/3"))
        await ana.send("/start")
        target = await ana.wait_bot_message()
        answered = len(emulator.callback_answers)
        for kind, value in actions:
            if kind == "text":
                await ana.send(value or ".")
            elif kind == "command":
                name, rest = value
                await ana.send(f"/{name} {rest}".strip())
            elif kind == "tap":
                await ana.tap_data(target.message_id, value.decode(errors="ignore"))
                taps += 1
            else:
                buttons = [b["callback_data"] for b in ben_cue.buttons]
                await ana.tap_data(target.message_id, buttons[value % len(buttons)])
                taps += 1
        # Updates are handled one after another: the reply to a last /help means every
        # action before it has been handled.
        await ana.send("/help")

        def help_answered() -> bool:
            last = ana.last_bot_message
            assert last is not None  # the bot has sent the cues already
            return (last.plain or "").startswith("Here is")

        await emulator.wait_for(help_answered)
        await emulator.wait_for(lambda: len(emulator.callback_answers) - answered == taps)
        # Ben's class is untouched by anything Ana sent or tapped.
        assert ben_cue.reply_markup is not None
    assert not [r for r in caplog.records if r.levelno >= logging.ERROR], [
        r.getMessage() for r in caplog.records if r.levelno >= logging.ERROR
    ]
    assert not [m for m in ana.bot_messages if m.plain == common.SORRY]
    await check_invariants(database_url, ben.id)


async def check_invariants(database_url: str, ben_id: int) -> None:
    engine = create_engine(database_url)
    try:
        async with create_sessionmaker(engine)() as db:
            practices = list(await db.scalars(select(Practice)))
            open_per_user: dict[int, int] = {}
            for p in practices:
                if p.status in OPEN_STATUSES:
                    open_per_user[p.user_id] = open_per_user.get(p.user_id, 0) + 1
            assert all(n == 1 for n in open_per_user.values()), open_per_user
            ben = next(p for p in practices if p.user_id == ben_id)
            assert ben.current_step == 0 and ben.status in OPEN_STATUSES
            events = list(await db.scalars(select(StepEvent).order_by(StepEvent.id)))
            ids = {p.id for p in practices}
            assert all(e.practice_id in ids for e in events)  # no orphan rows
            for p in practices:
                steps = [e.step_index for e in events if e.practice_id == p.id]
                assert steps == sorted(steps)  # steps in order
            orphans = await db.scalar(
                select(func.count())
                .select_from(Feedback)
                .where(Feedback.practice_id.is_not(None), Feedback.practice_id.not_in(ids))
            )
            assert orphans == 0
    finally:
        await engine.dispose()
