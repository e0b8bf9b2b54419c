"""Back check-ins as services: the before score at start, the after score once, the note."""

from __future__ import annotations

import pytest

from bot.checkin import CheckinService, rose_notably
from bot.clock import ManualClock
from bot.models import SessionStatus
from bot.practice import PracticeEngine, StaleAction
from bot.store import PracticeStore
from handlers import render_checkin


@pytest.mark.parametrize(
    ("before", "after", "note"),
    [(3, 6, True), (0, 10, True), (3, 5, False), (6, 2, False), (None, 9, False), (4, None, False)],
)
def test_a_rise_of_three_or_more_gets_the_note(
    before: int | None, after: int | None, note: bool
) -> None:
    assert rose_notably(before, after) is note


async def finish(engine: PracticeEngine, user_id: int, **start: object) -> int:
    started = await engine.start(user_id, user_id, "Ana", **start)  # type: ignore[arg-type]
    session_id = started.cue.session_id
    for index in range(started.cue.total):
        await engine.next(user_id, session_id, index)
    return session_id


async def test_check_in_message_starts_one_practice_and_stores_the_before_score(
    engine: PracticeEngine, store: PracticeStore
) -> None:
    earlier = await engine.start(1, 1, "Ana")
    started = await engine.start(1, 1, "Ana", back_before=4, checkin_message_id=77)
    with pytest.raises(StaleAction):
        await engine.start(1, 1, "Ana", back_before=9, checkin_message_id=77)
    session = await store.get_session(started.cue.session_id)
    assert session is not None
    assert (session.status, session.back_before) == (SessionStatus.ACTIVE, 4)
    # The refused repeat did not close the practice the first answer started.
    [replaced] = started.replaced
    assert replaced.session_id == earlier.cue.session_id
    [open_now] = await store.open_sessions_of(1)
    assert open_now.id == started.cue.session_id
    # The same message id in another chat is another question.
    await engine.start(2, 2, "Ben", checkin_message_id=77)


async def test_after_score_is_stored_once_on_the_users_own_finished_session(
    engine: PracticeEngine, store: PracticeStore, clock: ManualClock
) -> None:
    checkin = CheckinService(store)
    session_id = await finish(engine, 1, back_before=3, checkin_message_id=5)
    assert await checkin.record_after(2, session_id, 7) is None  # not Ben's
    assert await checkin.record_after(1, session_id, 11) is None  # out of range
    recorded = await checkin.record_after(1, session_id, 7)
    assert recorded is not None
    assert (recorded.before, recorded.after, recorded.needs_rest_note) == (3, 7, True)
    assert await checkin.record_after(1, session_id, 2) is None  # answered already
    session = await store.get_session(session_id)
    assert session is not None and session.back_after == 7


async def test_after_score_is_refused_while_the_practice_is_open(
    engine: PracticeEngine, store: PracticeStore
) -> None:
    started = await engine.start(1, 1, "Ana")
    assert await CheckinService(store).record_after(1, started.cue.session_id, 2) is None


@pytest.mark.parametrize(
    ("data", "expected"),
    [
        ("c:b:0", render_checkin.CheckinPress(False, None, 0)),
        ("c:b:10", render_checkin.CheckinPress(False, None, 10)),
        ("c:b:s", render_checkin.CheckinPress(False, None, None)),
        ("c:a:42:7", render_checkin.CheckinPress(True, 42, 7)),
        ("c:a:42:s", render_checkin.CheckinPress(True, 42, None)),
        ("c:b:11", None),
        ("c:a:7", None),
        ("c:b:-1", None),
        ("c:x:1", None),
        (None, None),
    ],
)
def test_check_in_buttons_parse_strictly(
    data: str | None, expected: render_checkin.CheckinPress | None
) -> None:
    assert render_checkin.parse(data) == expected


def test_check_in_button_data_fits_telegrams_64_bytes() -> None:
    keyboards = [render_checkin.before_keyboard(), render_checkin.after_keyboard(10**12 - 1)]
    data = [b.callback_data for k in keyboards for row in k.inline_keyboard for b in row]
    assert len(data) == 24
    assert all(len(str(d).encode()) <= 64 for d in data)
    assert all(render_checkin.parse(str(d)) is not None for d in data)
