"""Two workers behind a load balancer on PostgreSQL: a worker killed in the middle of a
pose, or both restarted one after the other, interrupt nobody's class; classes moving on
together in both upload each pose picture once.

Every class must finish with every cue, in order; a cue may come twice only for a worker
killed while that cue was on its way (the crash window the README documents); and every
reminder due meanwhile is sent exactly once, whichever worker's tick claims it.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from bench import timers as bench_timers
from bot.database import create_engine, create_sessionmaker, migrate
from bot.models import Reminder, User
from playground.emulator import BotApiEmulator, SimulatedUser
from tests.harness.workers import (
    STEP_TIMEOUT,
    TOKEN,
    Deployment,
    class_problems,
    cue_numbers,
    deployment,
    finished,
    start_class,
)

pytestmark = pytest.mark.backends("postgresql")

PRACTISING = 4
REMINDED = 12
# Time for a class of 18 s to finish after a worker is lost, with room for a slow machine.
FINISH_TIMEOUT = 90.0


@pytest.fixture
async def workers_emulator() -> AsyncIterator[BotApiEmulator]:
    async with BotApiEmulator(token=TOKEN) as emulator:
        yield emulator


async def remind_now(database_url: str, first_user: int, count: int) -> list[int]:
    """Users whose daily reminder falls due right now (the tick sends what is due)."""
    engine = create_engine(database_url)
    now = datetime.now(UTC).replace(microsecond=0)
    try:
        await migrate(engine)
        async with create_sessionmaker(engine).begin() as db:
            ids = range(first_user, first_user + count)
            db.add_all(User(id=n, chat_id=n, first_name="R", created_at=now) for n in ids)
            await db.flush()
            for user_id in ids:
                db.add(
                    Reminder(
                        user_id=user_id,
                        chat_id=user_id,
                        hour=now.hour,
                        minute=now.minute,
                        days="*",
                        enabled=True,
                        next_due_at=now - timedelta(seconds=2),
                    )
                )
    finally:
        await engine.dispose()
    return list(range(first_user, first_user + count))


async def practise(deploy: Deployment, first_user: int) -> list[SimulatedUser]:
    users = [deploy.emulator.user(first_user + n) for n in range(PRACTISING)]
    for user in users:
        await start_class(deploy, user)
    return users


def mid_pose(users: list[SimulatedUser], step: int) -> bool:
    return all(max(cue_numbers(user), default=0) >= step for user in users)


def reminder_counts(emulator: BotApiEmulator, reminded: list[int]) -> dict[int, int]:
    counts = dict.fromkeys(reminded, 0)
    for call in emulator.calls_of("sendMessage"):
        chat = int(call.params.get("chat_id", 0))
        if chat in counts:
            counts[chat] += 1
    return counts


async def all_done(deploy: Deployment, users: list[SimulatedUser], reminded: list[int]) -> None:
    """Until every class has ended and every reminder has been sent at least once."""
    await deploy.wait(
        lambda: all(finished(user) for user in users), FINISH_TIMEOUT, "every class to end"
    )
    await deploy.wait(
        lambda: all(n >= 1 for n in reminder_counts(deploy.emulator, reminded).values()),
        STEP_TIMEOUT,
        "every reminder",
    )


async def test_a_worker_killed_mid_pose_interrupts_no_class(
    workers_emulator: BotApiEmulator, database_url: str, tmp_path: Path
) -> None:
    emulator = workers_emulator
    reminded = await remind_now(database_url, 880_000, REMINDED)
    async with deployment(emulator, database_url, tmp_path) as deploy:
        users = await practise(deploy, 770_000)
        await deploy.wait(lambda: mid_pose(users, 4), STEP_TIMEOUT, "every class at cue 4")
        victim, survivor = deploy.workers
        await victim.kill()
        await all_done(deploy, users, reminded)
        assert survivor.process is not None and survivor.process.returncode is None
        assert await survivor.stop() == 0
    problems = [p for user in users for p in class_problems(user, allowed_repeats=1)]
    assert problems == [], "\n".join([*problems, deploy.log_tail()])
    assert reminder_counts(emulator, reminded) == dict.fromkeys(reminded, 1)
    assert len(emulator.calls_of("setWebhook")) == 1  # at deploy, never by a worker
    # Both workers served updates before the kill: the balancer really spread them.
    assert len(deploy.balancer.served_by) == 2


async def test_a_rolling_restart_of_both_workers_interrupts_no_class(
    workers_emulator: BotApiEmulator, database_url: str, tmp_path: Path
) -> None:
    emulator = workers_emulator
    async with deployment(emulator, database_url, tmp_path) as deploy:
        users = await practise(deploy, 660_000)
        await deploy.wait(lambda: mid_pose(users, 3), STEP_TIMEOUT, "every class at cue 3")
        reminded = await remind_now(database_url, 990_000, REMINDED)
        for worker in deploy.workers:
            # One at a time, as a deploy does: stop (SIGTERM), start the new one, wait until
            # it listens, then the next.
            assert await worker.stop() == 0
            await worker.start()
            await worker.listening()
            await asyncio.sleep(0)
        await all_done(deploy, users, reminded)
        for worker in deploy.workers:
            assert await worker.stop() == 0
    # A worker stopped with SIGTERM finishes what it was sending: nothing may repeat.
    problems = [p for user in users for p in class_problems(user, allowed_repeats=0)]
    assert problems == [], "\n".join([*problems, deploy.log_tail()])
    assert reminder_counts(emulator, reminded) == dict.fromkeys(reminded, 1)
    assert len(emulator.calls_of("setWebhook")) == 1  # a restart registers nothing


async def test_classes_moving_on_together_in_two_workers_upload_each_picture_once(
    workers_emulator: BotApiEmulator, database_url: str, tmp_path: Path
) -> None:
    """Classes whose first hold ends at the same moment, seeded before the workers start:
    both workers arm every deadline, each class's cue is sent by whichever wins it, so
    both workers send each pose picture for the first time at the same moment, pose after
    pose (the classes move in step)."""
    emulator = workers_emulator
    classes = range(1, 21)
    for practice_id in classes:
        chat = emulator.user(bench_timers.user_of(practice_id)).open_chat()
        button = {"text": "Next", "callback_data": f"p:n:{practice_id}:0"}
        emulator.state.add_message(
            chat, from_bot=True, text="the first cue", reply_markup={"inline_keyboard": [[button]]}
        )
    # Far enough ahead for two workers to start with both cores busy (a stress run once
    # took 14 s).
    due = time.time() + 20.0
    await bench_timers.seed(database_url, dict.fromkeys(classes, due))
    async with deployment(emulator, database_url, tmp_path) as deploy:
        # Both workers are up before the holds end: both arm every one.
        assert time.time() < due - 1.0, "the workers started too slowly for this test"
        users = [emulator.user(bench_timers.user_of(p)) for p in classes]
        await deploy.wait(
            lambda: all(finished(user) for user in users), FINISH_TIMEOUT, "every class to end"
        )
    photos = emulator.calls_of("sendPhoto")
    assert len(photos) >= len(classes) * 10  # the class's cues are pictures
    pictures = len(emulator.media.per_content)
    assert emulator.media.uploaded["photo"] == pictures, emulator.media.per_content
    assert emulator.media.most_uploads_of_one_file() == 1
    assert emulator.media.by_file_id["photo"] == len(photos) - pictures
