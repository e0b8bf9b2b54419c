"""The pose memory's rules alone: what earlier practices make a practice show easier from
the start, for each easier-options setting."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from bot.models import EasierMode, EasierReason, EventKind
from bot.pose_memory import PastEvent, PastPractice, decide, pack, unpack

POSE = "low-lunge-right"
SHOWN, EASIER, USUAL, HURT = EventKind.SHOWN, EventKind.EASIER, EventKind.USUAL, EventKind.HURT


def practice(
    practice_id: int, *kinds: EventKind, from_start: EasierReason | None = None
) -> PastPractice:
    """A practice that reached POSE, with these events on it (after SHOWN)."""
    events = [PastEvent(practice_id, POSE, kind) for kind in (SHOWN, *kinds)]
    start = {POSE: from_start} if from_start is not None else {}
    return PastPractice(practice_id, start, events)


def skipped_pose(practice_id: int) -> PastPractice:
    """A practice that never reached POSE (stopped before it)."""
    return PastPractice(practice_id, {}, [PastEvent(practice_id, "childs-pose", SHOWN)])


def remembered(
    *past: PastPractice, mode: EasierMode = EasierMode.REMEMBERED
) -> EasierReason | None:
    return decide(past, [POSE], mode).get(POSE)


def test_nothing_is_remembered_from_no_history() -> None:
    assert remembered() is None


def test_a_pose_that_hurt_last_time_comes_gentler_in_every_mode() -> None:
    for mode in EasierMode:
        assert remembered(practice(1, HURT), mode=mode) == EasierReason.HURT_LAST_TIME


def test_only_the_last_practice_that_reached_the_pose_decides_about_pain() -> None:
    assert remembered(practice(1, HURT), practice(2), mode=EasierMode.AS_ASKED) is None
    # A later practice that stopped before the pose does not count.
    assert remembered(practice(1, HURT), skipped_pose(2)) == EasierReason.HURT_LAST_TIME


def test_easier_in_two_of_the_last_three_practices_is_remembered() -> None:
    assert remembered(practice(1, EASIER), practice(2), practice(3, EASIER)) == (
        EasierReason.REMEMBERED
    )
    assert remembered(practice(1, EASIER), practice(2), practice(3)) is None
    # Older than the last three practices that reached it: forgotten.
    assert (
        remembered(practice(1, EASIER), practice(2, EASIER), practice(3), practice(4), practice(5))
        is None
    )
    # Practices that never reached the pose are not among the three.
    assert remembered(practice(1, EASIER), practice(2, EASIER), skipped_pose(3)) == (
        EasierReason.REMEMBERED
    )


def test_an_easier_version_kept_from_the_start_counts_and_usual_version_lets_it_fade() -> None:
    kept = practice(3, from_start=EasierReason.REMEMBERED)
    assert remembered(practice(1, EASIER), practice(2, EASIER), kept) == EasierReason.REMEMBERED
    taken_back = [practice(n, USUAL, from_start=EasierReason.REMEMBERED) for n in (4, 5)]
    assert remembered(practice(1, EASIER), practice(2, EASIER), kept, *taken_back) is None
    # The last toggle wins: Usual version, then Easier option again, ends easier.
    assert remembered(practice(1, USUAL, EASIER), practice(2, EASIER)) == EasierReason.REMEMBERED


@pytest.mark.parametrize(
    "not_chosen", [EasierReason.GENTLE, EasierReason.HURT_LAST_TIME, EasierReason.ALWAYS]
)
def test_an_easier_version_the_user_did_not_choose_is_not_remembered_as_their_choice(
    not_chosen: EasierReason,
) -> None:
    """ "You often choose this one" is said only when they did."""
    given = [practice(n, from_start=not_chosen) for n in (1, 2, 3)]
    assert remembered(*given) is None
    # Chosen once besides: still not two of the last three.
    assert remembered(practice(1, EASIER), *given[1:]) is None
    assert remembered(practice(1, EASIER), practice(2, EASIER), given[2]) == (
        EasierReason.REMEMBERED
    )


def test_as_asked_remembers_only_pain_and_always_shows_every_pose_easier() -> None:
    often = (practice(1, EASIER), practice(2, EASIER))
    assert remembered(*often, mode=EasierMode.AS_ASKED) is None
    assert remembered(mode=EasierMode.ALWAYS) == EasierReason.ALWAYS
    assert decide([], ["a", "b"], EasierMode.ALWAYS) == {
        "a": EasierReason.ALWAYS,
        "b": EasierReason.ALWAYS,
    }


SLUGS = st.from_regex(r"[a-z0-9][a-z0-9-]{0,20}", fullmatch=True)


@given(st.dictionaries(SLUGS, st.sampled_from(EasierReason), max_size=8))
def test_the_stored_form_reads_back(decided: dict[str, EasierReason]) -> None:
    assert unpack(pack(decided)) == decided


def test_the_first_stored_form_reads_as_pain_remembered() -> None:
    assert unpack("pose-1,pose-3") == {
        "pose-1": EasierReason.HURT_LAST_TIME,
        "pose-3": EasierReason.HURT_LAST_TIME,
    }
