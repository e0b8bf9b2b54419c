"""The safety rules as pure functions: the red-flag screen's status, pain words, the pain
gate before a class and the reading of the check-in after it."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given
from hypothesis import strategies as st

from bot.models import ScreenAnswer
from bot.safety import (
    SCREEN_VALID_FOR,
    AfterVerdict,
    Gate,
    PainSignal,
    ScreenStatus,
    after_verdict,
    felt_worse,
    gate,
    pain_in,
    screen_status,
)

NOW = datetime(2026, 1, 5, 7, 0, tzinfo=UTC)
SCORES = st.none() | st.integers(min_value=0, max_value=10)
# From least to most cautious.
CAUTION = [Gate.BEGIN, Gate.SUGGEST_GENTLE, Gate.SORE_DAY, Gate.REST_DAY]


@pytest.mark.parametrize(
    ("answer", "answered_at"),
    [(None, None), (None, NOW), (ScreenAnswer.CLEAR, None)],
)
def test_a_screen_never_answered_is_due(
    answer: ScreenAnswer | None, answered_at: datetime | None
) -> None:
    assert screen_status(answer, answered_at, NOW, UTC) == ScreenStatus.DUE


@pytest.mark.parametrize(
    ("age", "status"),
    [
        (timedelta(0), ScreenStatus.CLEAR),
        (timedelta(days=89, hours=23), ScreenStatus.CLEAR),
        (SCREEN_VALID_FOR, ScreenStatus.DUE),
        (timedelta(days=91), ScreenStatus.DUE),
    ],
)
def test_none_of_these_holds_for_ninety_days(age: timedelta, status: ScreenStatus) -> None:
    assert screen_status(ScreenAnswer.CLEAR, NOW - age, NOW, UTC) == status


@pytest.mark.parametrize(
    ("answer", "today"),
    [
        (ScreenAnswer.SEE_CLINICIAN, ScreenStatus.SEE_CLINICIAN_TODAY),
        (ScreenAnswer.URGENT, ScreenStatus.URGENT_TODAY),
    ],
)
def test_a_sign_holds_for_the_rest_of_the_users_day_then_the_screen_is_due(
    answer: ScreenAnswer, today: ScreenStatus
) -> None:
    berlin = ZoneInfo("Europe/Berlin")
    morning = datetime(2026, 1, 5, 6, 0, tzinfo=UTC)  # 07:00 in Berlin
    late_evening = datetime(2026, 1, 5, 22, 30, tzinfo=UTC)  # 23:30 in Berlin
    assert screen_status(answer, morning, morning, berlin) == today
    assert screen_status(answer, morning, late_evening, berlin) == today
    assert screen_status(answer, morning, late_evening + timedelta(hours=1), berlin) == (
        ScreenStatus.DUE
    )


@pytest.mark.parametrize("answer", [ScreenAnswer.SEE_CLINICIAN, ScreenAnswer.URGENT])
def test_the_users_day_is_counted_in_their_zone_not_in_utc(answer: ScreenAnswer) -> None:
    # 23:00 on 5 Jan in Auckland (UTC+13); half an hour later it is 6 Jan there, though
    # still 5 Jan in UTC.
    auckland = ZoneInfo("Pacific/Auckland")
    answered = datetime(2026, 1, 5, 10, 0, tzinfo=UTC)
    assert screen_status(answer, answered, answered + timedelta(minutes=90), auckland) == (
        ScreenStatus.DUE
    )
    # 12:00 on 5 Jan in Los Angeles (UTC-8); at 22:00 there it is 6 Jan in UTC, and still
    # the same day for the user.
    los_angeles = ZoneInfo("America/Los_Angeles")
    answered = datetime(2026, 1, 5, 20, 0, tzinfo=UTC)
    later = datetime(2026, 1, 6, 6, 0, tzinfo=UTC)
    assert screen_status(answer, answered, later, los_angeles) != ScreenStatus.DUE


@pytest.mark.parametrize(
    ("text", "signal"),
    [
        ("ouch", PainSignal.PAIN),
        ("My back HURTS", PainSignal.PAIN),
        ("a bit sore today", PainSignal.PAIN),
        # Better to ask once too often than to miss pain.
        ("no pain at all", PainSignal.PAIN),
        ("numb", PainSignal.NERVE),
        ("tingling in my leg", PainSignal.NERVE),
        ("Pins and needles", PainSignal.NERVE),
        # A nerve sign comes first, even beside pain words.
        ("it hurts and my foot is numb", PainSignal.NERVE),
        ("thanks", None),
        ("back from Spain", None),  # words are matched from their start
        ("", None),
    ],
)
def test_pain_words(text: str, signal: PainSignal | None) -> None:
    assert pain_in(text) == signal


@pytest.mark.parametrize(
    ("score", "usual", "after_a_worse_practice"),
    [
        *((n, Gate.BEGIN, Gate.SUGGEST_GENTLE) for n in range(6)),
        (None, Gate.BEGIN, Gate.SUGGEST_GENTLE),
        (6, Gate.SORE_DAY, Gate.SORE_DAY),
        (7, Gate.SORE_DAY, Gate.SORE_DAY),
        (8, Gate.REST_DAY, Gate.REST_DAY),
        (9, Gate.REST_DAY, Gate.REST_DAY),
        (10, Gate.REST_DAY, Gate.REST_DAY),
    ],
)
def test_the_pain_gate_for_every_score(
    score: int | None, usual: Gate, after_a_worse_practice: Gate
) -> None:
    assert gate(score) == usual
    assert gate(score, felt_worse_last_time=True) == after_a_worse_practice


@given(
    st.integers(min_value=0, max_value=10),
    st.integers(min_value=0, max_value=10),
    st.booleans(),
)
def test_more_pain_never_makes_the_gate_less_cautious(a: int, b: int, worse: bool) -> None:
    low, high = sorted((a, b))
    assert CAUTION.index(gate(low, felt_worse_last_time=worse)) <= CAUTION.index(
        gate(high, felt_worse_last_time=worse)
    )


@given(SCORES)
def test_a_worse_last_practice_never_makes_the_gate_less_cautious(score: int | None) -> None:
    assert CAUTION.index(gate(score)) <= CAUTION.index(gate(score, felt_worse_last_time=True))


@pytest.mark.parametrize(
    ("before", "after", "verdict"),
    [
        (2, 1, AfterVerdict.BETTER),
        (2, 2, AfterVerdict.FINE),
        (2, 4, AfterVerdict.FINE),  # a rise of two, within 0-5
        (2, 5, AfterVerdict.WORSE),  # a rise of three
        (0, 6, AfterVerdict.WORSE),  # above five
        (7, 6, AfterVerdict.WORSE),  # lower than before, but still above five
        (None, 0, AfterVerdict.FINE),  # no before score: nothing to be better than
        (None, 5, AfterVerdict.FINE),
        (None, 6, AfterVerdict.WORSE),
    ],
)
def test_the_after_score_bands(before: int | None, after: int, verdict: AfterVerdict) -> None:
    assert after_verdict(before, after) == verdict
    assert felt_worse(before, after) == (verdict == AfterVerdict.WORSE)


@given(SCORES, st.integers(min_value=0, max_value=10))
def test_after_practice_above_five_or_three_higher_is_always_worse(
    before: int | None, after: int
) -> None:
    verdict = after_verdict(before, after)
    rise = after - before if before is not None else 0
    assert (verdict == AfterVerdict.WORSE) == (after > 5 or rise >= 3)
    if verdict == AfterVerdict.BETTER:
        assert before is not None and after < before


def test_a_skipped_after_check_in_never_counts_as_worse() -> None:
    assert not felt_worse(9, None)
    assert not felt_worse(None, None)
