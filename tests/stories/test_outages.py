"""Classes through Telegram's and the database's outages, through the real Application.

Time is a ManualClock moved by hand; the deadline sweep is paused and run by hand once per
simulated second, as it runs once per real second in production. Timers the bot arms may
still fire by themselves, but they decide by the same clock, so nothing is sent before
the clock says so.
"""

from __future__ import annotations

import asyncio
import itertools
import logging
import sqlite3
from collections.abc import Awaitable, Callable
from datetime import datetime
from pathlib import Path
from typing import Any, TypeVar

import pytest
from sqlalchemy.exc import OperationalError
from telegram.ext import Job

from bot import database
from bot.clock import ManualClock
from bot.incidents import SETTLE
from bot.models import EventKind, PracticeStatus
from bot.practice.machine import RETRY_JITTER, RETRY_MAX, PracticeState, Transition
from bot.store.practice import PracticeRepository
from handlers.context import SERVICES, YogaApp, YogaContext
from handlers.render import common
from handlers.timers import SWEEP_GRACE, SWEEP_NAME, Redraw, Sweeping
from playground.emulator import BotApiEmulator, SimulatedUser
from tests.harness.bot import (
    Worded,
    begin_practice,
    bot_running,
    button_texts,
    cue_recorded,
    cues_titled,
    stored_events,
    stored_practices,
)
from tests.harness.factories import make_class
from tests.harness.faults import locked
from tests.stories.test_pictures import TinyPictures, uploads

T = TypeVar("T")
TINY = make_class()
CATALOG = {TINY.id: TINY}
CUE_BUTTONS = ["Easier option", "Next", "It hurts", "+15 s", "Pause"]


async def until(found: Callable[[], T | None], timeout: float = 5.0) -> T:  # noqa: ASYNC109
    """Until the bot's own state (not the emulator's, which wait_for watches) shows it."""
    async with asyncio.timeout(timeout):
        while True:
            value = found()
            if value:
                return value
            await asyncio.sleep(0.01)


def paused_sweep(app: YogaApp) -> Job[YogaContext]:
    """The deadline sweep, taken off the scheduler: the test runs it, once a simulated second."""
    assert app.job_queue is not None
    [sweep] = app.job_queue.get_jobs_by_name(SWEEP_NAME)
    sweep.enabled = False
    return sweep


async def seconds_pass(
    app: YogaApp,
    clock: ManualClock,
    sweep: Job[YogaContext],
    seconds: int,
    each: Callable[[], Awaitable[None]] | None = None,
) -> None:
    for _ in range(seconds):
        clock.advance(1)
        await sweep.run(app)
        if each is not None:
            await each()


async def classes_running(
    emulator: BotApiEmulator, database_url: str, users: list[SimulatedUser]
) -> None:
    for user in users:
        await begin_practice(emulator, user)

        def first_cue(user: SimulatedUser = user) -> list[Worded]:
            return cues_titled(user, "1/3")

        await emulator.wait_for(first_cue)
    for practice_id in range(1, len(users) + 1):
        await cue_recorded(database_url, practice_id)


OUTAGES: dict[str, dict[str, Any]] = {
    "502": {"error_code": 502, "description": "Bad Gateway"},
    "dropped connections": {"drop": "before"},
}


@pytest.mark.parametrize("outage", list(OUTAGES))
async def test_every_class_waits_through_minutes_of_telegram_outage_and_goes_on_by_itself(
    emulator: BotApiEmulator, database_url: str, outage: str, caplog: pytest.LogCaptureFixture
) -> None:
    clock = ManualClock()
    users = [emulator.user(8100 + n) for n in range(6)]
    # Simulated seconds at which each chat's second cue was tried, and whether it went.
    tries: dict[int, list[tuple[float, bool]]] = {user.id: [] for user in users}
    seen = 0
    start = clock()

    async def note_tries() -> None:
        nonlocal seen
        calls = emulator.calls_of("sendMessage")
        for call in calls[seen:]:
            if "2/3 · " in str(call.params.get("text", "")):
                at = (clock() - start).total_seconds()
                tries[int(call.params["chat_id"])].append((at, call.ok and not call.dropped))
        seen = len(calls)

    async with bot_running(emulator, database_url, clock=clock, catalog=CATALOG) as app:
        await classes_running(emulator, database_url, users)
        sweep = paused_sweep(app)
        seen = len(emulator.calls_of("sendMessage"))
        emulator.fail_next("sendMessage", times=10**6, **OUTAGES[outage])
        # Every hold ends during the outage; four minutes pass with no cue getting through.
        await seconds_pass(app, clock, sweep, 4 * 60, note_tries)
        assert all(cues_titled(user, "2/3") == [] for user in users)
        practices = await stored_practices(database_url)
        assert {(p.current_step, p.status) for p in practices} == {(1, PracticeStatus.ACTIVE)}
        emulator.faults.clear()
        # Telegram answers: each class goes on at its next try, nobody writes a word.
        await seconds_pass(app, clock, sweep, round(RETRY_MAX * (1 + RETRY_JITTER)) + 2, note_tries)
        assert all(len(cues_titled(user, "2/3")) == 1 for user in users)
        # Each pose has its whole hold from its late arrival, then the class goes on.
        await seconds_pass(app, clock, sweep, 62 + 2, note_tries)
        for user in users:
            assert len(cues_titled(user, "3/3")) == 1
    for user in users:
        times = [at for at, _ in tries[user.id]]
        assert [went for _, went in tries[user.id]] == [False] * (len(times) - 1) + [True]
        # The tries back off: 1, 2, 4 … 60 s apart, give or take the jitter and the second
        # it takes a sweep to notice.
        gaps = [later - earlier for earlier, later in itertools.pairwise(times)]
        for failures, gap in enumerate(gaps, start=1):
            pause = min(RETRY_MAX, 2.0 ** (failures - 1))
            low, high = pause * (1 - RETRY_JITTER), pause * (1 + RETRY_JITTER)
            assert low - 1 <= gap <= high + 1 + SWEEP_GRACE.total_seconds(), (failures, gaps)
        # Four minutes of outage take about 9 tries, not 240.
        assert 7 <= len(times) <= 11, times
    events = await stored_events(database_url)
    for practice in await stored_practices(database_url):
        shown = [
            e.step_index
            for e in events
            if e.practice_id == practice.id and e.kind == EventKind.SHOWN
        ]
        assert shown == [0, 1, 2]
    assert not [r for r in caplog.records if r.levelno >= logging.ERROR]
    # One warning for the whole outage, not one per try.
    outage_warnings = [r for r in caplog.records if r.levelno == logging.WARNING]
    assert [r.getMessage().split(" (")[0] for r in outage_warnings] == ["Telegram does not answer"]


@pytest.mark.backends("sqlite")
async def test_a_cue_telegram_took_while_the_database_could_not_record_it_is_sent_once(
    emulator: BotApiEmulator, database_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    clock = ManualClock()
    user = emulator.user(8201)
    saving = PracticeRepository.save

    async def disk_full(
        repository: PracticeRepository, before: PracticeState, change: Transition, now: datetime
    ) -> bool:
        # Only the write that records a cue as shown meets the full disk.
        if any(record.kind == EventKind.SHOWN for record in change.records):
            error = sqlite3.OperationalError("database or disk is full")
            raise OperationalError("UPDATE", None, error)
        return await saving(repository, before, change, now)

    async with bot_running(emulator, database_url, clock=clock, catalog=CATALOG) as app:
        await begin_practice(emulator, user)
        [first] = await emulator.wait_for(lambda: cues_titled(user, "1/3"))
        await cue_recorded(database_url, 1)
        sweep = paused_sweep(app)
        monkeypatch.setattr(PracticeRepository, "save", disk_full)
        await user.tap(first.message_id, text="Next")
        [second] = await emulator.wait_for(lambda: cues_titled(user, "2/3"))
        practices = app.bot_data[SERVICES].practice
        # Telegram took it; the bot could not record it, and keeps it in memory.
        await until(lambda: practices.remembers(1, 1))
        sent_at = clock()
        # Twelve seconds, and a minute more, in which nothing can record it: the timer and
        # every sweep find it unconfirmed, and none sends it again.
        await seconds_pass(app, clock, sweep, 72)
        assert len(cues_titled(user, "2/3")) == 1
        monkeypatch.setattr(PracticeRepository, "save", saving)
        await seconds_pass(app, clock, sweep, 3)
        # Recorded now, with its hold from when Telegram took it: long over, so the class
        # has gone on.
        await emulator.wait_for(lambda: cues_titled(user, "3/3"))
        await emulator.wait_for(lambda: button_texts(second) == [])  # retired as it went on
    assert len(cues_titled(user, "2/3")) == 1
    # The user was never told something failed: for them, nothing did.
    assert not [m for m in user.bot_messages if m.plain in (common.NOT_SAVED, common.SORRY)]
    shown = [
        (e.step_index, e.at) for e in await stored_events(database_url) if e.kind == EventKind.SHOWN
    ]
    assert shown[1] == (1, sent_at)
    assert [step for step, _ in shown] == [0, 1, 2]


async def test_an_easier_redraw_telegram_did_not_take_is_tried_again(
    emulator: BotApiEmulator, database_url: str
) -> None:
    user = emulator.user(8301)
    async with bot_running(emulator, database_url, catalog=CATALOG) as app:
        await begin_practice(emulator, user)
        [cue] = await emulator.wait_for(lambda: cues_titled(user, "1/3"))
        emulator.fail_next("editMessageText", chat_id=user.id, error_code=502, times=2)
        await user.tap(cue.message_id, text="Easier option")
        jobs = app.job_queue
        assert jobs is not None
        name = f"redraw:{user.id}:{cue.message_id}"
        for failures in (1, 2):
            [waiting] = await until(lambda: jobs.get_jobs_by_name(name) or None)
            # Its next try is due after retry_delay: run it now rather than wait for it.
            waiting.enabled = False
            assert "Easier:" not in cues_titled(user, "1/3")[0].plain
            assert isinstance(waiting.data, Redraw) and waiting.data.failures == failures
            await waiting.run(app)
            waiting.schedule_removal()  # as the scheduler does with a job it ran
        [redrawn] = cues_titled(user, "1/3")
        assert redrawn.message_id == cue.message_id and "Easier:" in redrawn.plain
        assert button_texts(redrawn) == ["Usual version", "Next", "It hurts", "+15 s", "Pause"]
    failed = [c for c in emulator.calls_of("editMessageText") if not c.ok]
    assert len(failed) == 2


async def test_a_vanished_photo_cue_is_sent_afresh_with_its_picture_and_buttons(
    emulator: BotApiEmulator, database_url: str, tmp_path: Path
) -> None:
    user = emulator.user(8302)
    pictures = TinyPictures(tmp_path)
    async with bot_running(emulator, database_url, catalog=CATALOG, pictures=pictures):
        await begin_practice(emulator, user)
        [cue] = await emulator.wait_for(lambda: cues_titled(user, "1/3"))
        assert cue.photo is not None
        emulator.fail_next(
            "editMessageCaption",
            chat_id=user.id,
            description="Bad Request: message to edit not found",
        )
        await user.tap(cue.message_id, text="Easier option")
        afresh = await emulator.wait_for(
            lambda: next((m for m in cues_titled(user, "1/3") if "Easier:" in m.plain), None)
        )
        assert afresh.message_id != cue.message_id
        # The same picture, sent by the file_id Telegram gave it: no second upload.
        assert afresh.photo is not None and afresh.text is None
        assert uploads(emulator) == 1
        assert button_texts(afresh) == ["Usual version", "Next", "It hurts", "+15 s", "Pause"]
        await cue_recorded(database_url, 1)
        # It is the practice's cue now: Next on it goes on.
        await user.tap(afresh.message_id, text="Next")
        await emulator.wait_for(lambda: cues_titled(user, "2/3"))
    [practice] = await stored_practices(database_url)
    assert practice.current_step == 1


@pytest.mark.backends("sqlite")
async def test_a_database_locked_for_twelve_seconds_is_one_warning_and_one_line_when_it_ends(
    emulator: BotApiEmulator,
    database_url: str,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
) -> None:
    # Each look at the locked database waits longer than the sweep's second: sweeps pile up
    # on the scheduler unless they are kept from it.
    monkeypatch.setattr(database, "BUSY_TIMEOUT_MS", 1200)
    caplog.set_level(logging.INFO)
    clock = ManualClock()
    user = emulator.user(8401)
    async with bot_running(emulator, database_url, clock=clock, catalog=CATALOG) as app:
        await begin_practice(emulator, user)
        await emulator.wait_for(lambda: cues_titled(user, "1/3"))
        await cue_recorded(database_url, 1)
        assert app.job_queue is not None
        [timer] = app.job_queue.get_jobs_by_name("cue:1")
        [sweep] = app.job_queue.get_jobs_by_name(SWEEP_NAME)
        runs_before = sweep_runs(caplog)
        with locked(tmp_path / "yogabot.db"):
            clock.advance(60)
            await timer.run(app)  # the hold is over, but the database does not answer
            # The scheduler's own sweeps meet the lock, second after second.
            await emulator.wait_for(lambda: sweep_runs(caplog) >= runs_before + 3, timeout=10)
            clock.advance(12)
            await sweep.run(app)
        sweep.enabled = False
        sweeping = sweep.data
        assert isinstance(sweeping, Sweeping)
        await emulator.wait_for(lambda: not sweeping.running)  # the scheduler's last one
        # The database answers: the class goes on, and once it has answered for a while,
        # the incident is over.
        await seconds_pass(app, clock, sweep, 1)
        await emulator.wait_for(lambda: cues_titled(user, "2/3"))
        await seconds_pass(app, clock, sweep, int(SETTLE.total_seconds()) + 1)
    warnings = [r for r in caplog.records if r.levelno >= logging.WARNING]
    assert [(r.name, r.getMessage().split(" (")[0]) for r in warnings] == [
        ("bot.incidents", "the database does not answer")
    ]
    over = [r.getMessage() for r in caplog.records if "answers again" in r.getMessage()]
    assert over == ["the database answers again; it did not for 12 s"] or over == [
        "the database answers again; it did not for 13 s"
    ], over


def sweep_runs(caplog: pytest.LogCaptureFixture) -> int:
    """Times the scheduler started the sweep (APScheduler says so at INFO)."""
    return sum(
        1
        for r in caplog.records
        if r.name.startswith("apscheduler")
        and f'"{SWEEP_NAME}' in r.getMessage()
        and "Running job" in r.getMessage()
    )
