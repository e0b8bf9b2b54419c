"""The practice timers on the job queue: when each one is set to fire."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any, cast

import pytest
from telegram.ext import JobQueue

from bot.clock import ManualClock
from bot.practice.machine import CATCH_UP_PER_SECOND
from handlers.context import YogaContext
from handlers.timers import CueTimer, JobQueueTimers

NOW = datetime(2026, 1, 5, 7, 30, tzinfo=UTC)


class RecordingJobs:
    """Stands in for PTB's JobQueue: notes each run_once, runs nothing."""

    def __init__(self) -> None:
        self.armed: list[tuple[CueTimer, float]] = []

    def run_once(self, callback: Any, when: float, data: CueTimer, **_: Any) -> object:
        self.armed.append((data, when))
        return object()


@pytest.fixture
def jobs() -> RecordingJobs:
    return RecordingJobs()


@pytest.fixture
def timers(jobs: RecordingJobs) -> JobQueueTimers:
    return JobQueueTimers(cast(JobQueue[YogaContext], jobs), ManualClock(NOW))


def test_a_timer_on_time_fires_at_its_deadline_as_live(
    jobs: RecordingJobs, timers: JobQueueTimers
) -> None:
    timers.arm(1, 3, chat_id=10, at=NOW + timedelta(seconds=12))
    timers.arm(2, 3, chat_id=20, at=NOW - timedelta(seconds=1))  # just late: a busy loop
    assert [(t.practice_id, t.catching_up, when) for t, when in jobs.armed] == [
        (1, False, 12.0),
        (2, False, 0.0),
    ]


def test_timers_armed_long_after_their_deadline_catch_up_one_after_another(
    jobs: RecordingJobs, timers: JobQueueTimers
) -> None:
    for practice_id in range(1, 5):
        timers.arm(practice_id, 3, chat_id=practice_id, at=NOW - timedelta(minutes=5))
    timers.arm(9, 3, chat_id=9, at=NOW + timedelta(seconds=5))  # on time: not held back
    gap = 1 / CATCH_UP_PER_SECOND
    catching_up: list[tuple[int, object]] = [
        (t.practice_id, when) for t, when in jobs.armed if t.catching_up
    ]
    assert catching_up == [(n, pytest.approx((n - 1) * gap, abs=1e-5)) for n in range(1, 5)]
    assert [(t.practice_id, when) for t, when in jobs.armed if not t.catching_up] == [(9, 5.0)]
