"""An outage is one incident: one WARNING as it begins, one INFO with its length once over."""

from __future__ import annotations

import logging
import random

import pytest

from bot.clock import ManualClock
from bot.incidents import SETTLE, Incident
from bot.practice.machine import RETRY_FIRST, RETRY_JITTER, RETRY_MAX, retry_delay


def lines(caplog: pytest.LogCaptureFixture) -> list[tuple[int, str]]:
    return [(r.levelno, r.getMessage()) for r in caplog.records if r.name == "bot.incidents"]


def test_failures_and_successes_a_retry_apart_are_one_incident(
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.DEBUG)
    clock = ManualClock()
    db = Incident("the database", clock)
    db.answered()  # nothing to end
    db.failed("database is locked")
    # A database that still reads but cannot write: successes between failures a minute
    # apart never end it.
    for _ in range(5):
        clock.advance(RETRY_MAX)
        db.answered()
        db.failed("database is locked")
    clock.advance(1)
    db.answered()
    clock.advance(SETTLE.total_seconds() - 2)
    db.answered()
    assert db.open
    clock.advance(1)
    db.answered()
    assert not db.open
    assert [line for line in lines(caplog) if line[0] >= logging.INFO] == [
        (
            logging.WARNING,
            "the database does not answer (database is locked); retrying quietly until it does",
        ),
        (logging.INFO, "the database answers again; it did not for 301 s"),
    ]


def test_trouble_after_an_incident_is_over_is_a_new_one(caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.INFO)
    clock = ManualClock()
    telegram = Incident("Telegram", clock)
    telegram.failed("NetworkError: Bad Gateway")
    clock.advance(5)
    telegram.answered()  # recovered after 5 s, but nothing else happened for a long while
    clock.advance(SETTLE.total_seconds() * 10)
    telegram.failed("NetworkError: Bad Gateway")
    assert [message for _, message in lines(caplog)] == [
        "Telegram does not answer (NetworkError: Bad Gateway); retrying quietly until it does",
        "Telegram answers again; it did not for 5 s",
        "Telegram does not answer (NetworkError: Bad Gateway); retrying quietly until it does",
    ]


def test_retries_double_from_a_second_to_a_minute_with_jitter() -> None:
    for failures, pause in enumerate([1, 2, 4, 8, 16, 32, 60, 60], start=1):
        assert retry_delay(failures, 0.0) == pytest.approx(pause * (1 - RETRY_JITTER))
        assert retry_delay(failures, 0.5) == pytest.approx(pause)
        assert retry_delay(failures, 0.999999) == pytest.approx(pause * (1 + RETRY_JITTER))
    assert retry_delay(10_000, 0.999999) <= RETRY_MAX * (1 + RETRY_JITTER)
    lucks = random.Random(7)
    assert len({retry_delay(1, lucks.random()) for _ in range(20)}) > 1  # spread, not in step
    assert RETRY_FIRST == 1
