"""Back check-ins as services: the before score at start, the after score once, the note."""

from __future__ import annotations

from typing import Any

import pytest

from bot.checkin import AfterCheckin, CheckinService
from bot.clock import ManualClock
from bot.models import PracticeStatus
from bot.practice.machine import Action
from bot.practice.service import PracticeService, StaleAction
from bot.safety import AfterVerdict
from bot.store import Store
from tests.harness.presses import press


@pytest.mark.parametrize(
    ("before", "after", "verdict"),
    [
        (3, 6, AfterVerdict.WORSE),  # a rise of three
        (0, 10, AfterVerdict.WORSE),
        (1, 3, AfterVerdict.FINE),  # a rise of two, within 0-5
        (3, 5, AfterVerdict.FINE),
        (5, 5, AfterVerdict.FINE),
        (6, 6, AfterVerdict.WORSE),  # above five, though no rise
        (6, 2, AfterVerdict.BETTER),
        (None, 5, AfterVerdict.FINE),
        (None, 9, AfterVerdict.WORSE),
    ],
)
def test_the_after_score_is_read_with_the_pain_monitoring_model(
    before: int | None, after: int, verdict: AfterVerdict
) -> None:
    assert AfterCheckin(1, before, after).verdict == verdict


async def finish(practice: PracticeService, user_id: int, **start: Any) -> int:
    started = await practice.start(user_id, user_id, "Ana", **start)
    assert started.show is not None
    for step in range(started.show.total):
        await press(practice, Action.NEXT, user_id, started.practice_id, step)
    return started.practice_id


async def test_check_in_message_starts_one_practice_and_stores_the_before_score(
    practice: PracticeService, store: Store
) -> None:
    earlier = await practice.start(1, 1, "Ana")
    started = await practice.start(1, 1, "Ana", back_before=4, checkin_message_id=77)
    with pytest.raises(StaleAction):
        await practice.start(1, 1, "Ana", back_before=9, checkin_message_id=77)
    async with store.read() as uow:
        stored = await uow.practices.get(started.practice_id)
        assert stored is not None
        assert (stored.status, stored.back_before) == (PracticeStatus.ACTIVE, 4)
        # The refused repeat did not close the practice the first answer started.
        [open_now] = await uow.practices.open_of(1)
        replaced = await uow.practices.get(earlier.practice_id)
    assert open_now.id == started.practice_id
    assert replaced is not None and replaced.status == PracticeStatus.STOPPED
    # The same message id in another chat is another question.
    await practice.start(2, 2, "Ben", checkin_message_id=77)


async def test_after_score_is_stored_once_on_the_users_own_finished_practice(
    practice: PracticeService, store: Store, clock: ManualClock
) -> None:
    checkin = CheckinService(store)
    practice_id = await finish(practice, 1, back_before=3, checkin_message_id=5)
    assert await checkin.record_after(2, practice_id, 7) is None  # not Ben's
    assert await checkin.record_after(1, practice_id, 11) is None  # out of range
    recorded = await checkin.record_after(1, practice_id, 7)
    assert recorded is not None
    assert (recorded.before, recorded.after, recorded.verdict) == (3, 7, AfterVerdict.WORSE)
    assert await checkin.record_after(1, practice_id, 2) is None  # answered already
    async with store.read() as uow:
        stored = await uow.practices.get(practice_id)
    assert stored is not None and stored.back_after == 7


async def test_after_score_is_refused_while_the_practice_is_open(
    practice: PracticeService, store: Store
) -> None:
    started = await practice.start(1, 1, "Ana")
    assert await CheckinService(store).record_after(1, started.practice_id, 2) is None
