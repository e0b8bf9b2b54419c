"""The plan's rules alone (bot/programme/rules.py): stages move by the pain-monitoring model,
replayed from facts, with no database and no clock."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from bot.programme.rules import (
    CheckedIn,
    Fact,
    Goal,
    NextDay,
    NextDayAnswered,
    Paused,
    PauseWhy,
    PracticeEnded,
    Programme,
    Resumed,
    Runs,
    Why,
    capped,
    stage_runs,
    week_days,
    week_of,
)
from sequences import load_catalog
from sequences.loader import check_all
from sequences.schema import PainRules, Stage

STAGES = [
    Stage(id="a", title="Short, all easier", length="short", easier="always", pace="slow"),
    Stage(id="b", title="Short", length="short", easier="remembered", pace="slow"),
    Stage(id="c", title="Full, slow", length="full", easier="remembered", pace="slow"),
    Stage(id="d", title="Full", length="full", easier="as_asked", pace="normal"),
]
RULES = PainRules()
BEGAN = datetime(2027, 3, 1, 8, 0, tzinfo=UTC)


class Diary:
    """Facts a user makes, one practice a day at 08:00 UTC from BEGAN."""

    def __init__(self) -> None:
        self.facts: list[Fact] = []
        self.next_id = 1

    def practice(
        self,
        day: int,
        before: int | None,
        after: int | None,
        *,
        stage: int | None = 0,
        finished: bool = True,
        for_pain: bool = False,
    ) -> int:
        practice_id, self.next_id = self.next_id, self.next_id + 1
        start = BEGAN + timedelta(days=day)
        local = start.date()
        self.facts.append(CheckedIn(practice_id, start, local, before))
        end = start + timedelta(minutes=20)
        self.facts.append(
            PracticeEnded(
                practice_id,
                end,
                local,
                before,
                after,
                stage,
                finished=finished,
                stopped_for_pain=for_pain,
            )
        )
        return practice_id

    def next_day(self, practice_id: int, day: int, answer: NextDay) -> None:
        at = BEGAN + timedelta(days=day, hours=1)
        self.facts.append(NextDayAnswered(practice_id, at, answer))

    def replay(self) -> tuple[int, list[Why]]:
        state = Programme(STAGES, RULES).replay(BEGAN, self.facts)
        return state.stage, [change.why for change in state.history]


def test_two_good_practices_each_with_a_quiet_next_day_move_up_a_stage() -> None:
    diary = Diary()
    first = diary.practice(0, 3, 2)
    diary.next_day(first, 1, NextDay.SAME)
    second = diary.practice(2, 2, 3, stage=0)
    assert diary.replay() == (0, [Why.STARTED])  # the second's next day is not known yet
    diary.next_day(second, 3, NextDay.BETTER)
    state = Programme(STAGES, RULES).replay(BEGAN, diary.facts)
    assert state.stage == 1
    change = state.history[-1]
    assert (change.why, change.stage_from, change.stage_to, change.practice_id) == (
        Why.GOOD_RUN,
        0,
        1,
        second,
    )
    # The move is dated by the answer that made it, not by the practice.
    assert change.at == BEGAN + timedelta(days=3, hours=1)
    assert state.good_run == ()


def test_an_acceptable_practice_4_to_5_stays_and_ends_the_run() -> None:
    diary = Diary()
    for day, after in ((0, 2), (2, 5), (4, 3)):
        practice_id = diary.practice(day, 3, after)
        diary.next_day(practice_id, day + 1, NextDay.SAME)
    assert diary.replay() == (0, [Why.STARTED])
    last = diary.practice(6, 2, 1)
    diary.next_day(last, 7, NextDay.SAME)
    assert diary.replay() == (1, [Why.STARTED, Why.GOOD_RUN])


@pytest.mark.parametrize(
    ("before", "after", "for_pain", "why", "score"),
    [
        (2, 6, False, Why.HIGH_AFTER, 6),  # above 5/10 after the class
        (0, 3, False, Why.ROSE, 3),  # a rise of three, though 3/10 is fine by itself
        (4, 4, True, Why.STOPPED_FOR_PAIN, None),  # stopped for pain
    ],
)
def test_a_flare_steps_back_one_stage_and_says_why(
    before: int, after: int, for_pain: bool, why: Why, score: int | None
) -> None:
    diary = Diary()
    for day in (0, 2):
        practice_id = diary.practice(day, 2, 2)
        diary.next_day(practice_id, day + 1, NextDay.SAME)
    flare = diary.practice(4, before, after, stage=1, finished=not for_pain, for_pain=for_pain)
    state = Programme(STAGES, RULES).replay(BEGAN, diary.facts)
    change = state.history[-1]
    assert (state.stage, change.why, change.score, change.practice_id) == (0, why, score, flare)
    assert (change.stage_from, change.stage_to) == (1, 0)


def test_a_worse_next_day_steps_back_once_even_after_a_flare() -> None:
    diary = Diary()
    for day in (0, 2, 4, 6):
        practice_id = diary.practice(day, 2, 1, stage=day // 4)
        diary.next_day(practice_id, day + 1, NextDay.SAME)
    assert diary.replay()[0] == 2
    calm = diary.practice(8, 2, 2, stage=2)
    diary.next_day(calm, 9, NextDay.WORSE)
    assert diary.replay() == (1, [Why.STARTED, Why.GOOD_RUN, Why.GOOD_RUN, Why.WORSE_NEXT_DAY])
    flare = diary.practice(10, 2, 7, stage=1)
    diary.next_day(flare, 11, NextDay.WORSE)  # the same flare: not a second step back
    assert diary.replay()[0] == 0
    assert diary.replay()[1][-1] == Why.HIGH_AFTER


def test_without_an_answer_a_later_days_check_in_tells_how_the_next_day_went() -> None:
    diary = Diary()
    diary.practice(0, 3, 2)
    diary.practice(2, 4, 2)  # before 4/10 two days on: no flare, the first counts
    diary.practice(2, 3, 2)  # the same day again: says nothing of the day after
    assert diary.replay()[0] == 0
    diary.practice(3, 5, 2)  # a later day at 5/10: the second counts, and the plan moves
    assert diary.replay() == (1, [Why.STARTED, Why.GOOD_RUN])


def test_a_high_check_in_the_next_time_drops_a_good_practice_from_the_run() -> None:
    diary = Diary()
    first = diary.practice(0, 3, 2)
    diary.next_day(first, 1, NextDay.SAME)
    diary.practice(2, 2, 2)
    diary.practice(4, 7, 3)  # 7/10 at the next check-in: the good run is over
    assert diary.replay()[0] == 0
    state = Programme(STAGES, RULES).replay(BEGAN, diary.facts)
    assert state.good_run == () and state.pending is not None  # the 3/10 now waits


def test_a_practice_easier_than_the_stage_neither_counts_nor_breaks_the_run() -> None:
    diary = Diary()
    first = diary.practice(0, 2, 2)
    diary.next_day(first, 1, NextDay.SAME)
    easier = diary.practice(2, 2, 1, stage=None)  # the user chose gentler
    diary.next_day(easier, 3, NextDay.BETTER)
    assert diary.replay()[0] == 0
    second = diary.practice(4, 2, 2)
    diary.next_day(second, 5, NextDay.SAME)
    assert diary.replay()[0] == 1
    # Its pain still counts: a flare steps back whatever the practice was.
    diary.practice(6, 2, 8, stage=None)
    assert diary.replay() == (0, [Why.STARTED, Why.GOOD_RUN, Why.HIGH_AFTER])


def test_a_skipped_after_check_in_or_a_stopped_practice_ends_the_run() -> None:
    for after, finished in ((None, True), (2, False)):
        diary = Diary()
        first = diary.practice(0, 2, 2)
        diary.next_day(first, 1, NextDay.SAME)
        diary.practice(2, 2, after, finished=finished)
        second = diary.practice(4, 2, 2)
        diary.next_day(second, 5, NextDay.SAME)
        assert diary.replay()[0] == 0


def test_a_pause_stops_any_move_up_and_a_resume_starts_one_stage_lower() -> None:
    diary = Diary()
    for day in (0, 2, 4, 6):
        practice_id = diary.practice(day, 2, 1, stage=day // 4)
        diary.next_day(practice_id, day + 1, NextDay.SAME)
    diary.facts.append(Paused(BEGAN + timedelta(days=8), PauseWhy.CLINICIAN))
    for day in (9, 11):
        practice_id = diary.practice(day, 2, 1, stage=0)
        diary.next_day(practice_id, day + 1, NextDay.BETTER)
    state = Programme(STAGES, RULES).replay(BEGAN, diary.facts)
    assert (state.stage, state.paused) == (2, PauseWhy.CLINICIAN)
    diary.facts.append(Resumed(BEGAN + timedelta(days=14)))
    state = Programme(STAGES, RULES).replay(BEGAN, diary.facts)
    assert (state.stage, state.paused, state.history[-1].why) == (1, None, Why.RESUMED)
    assert [c.why for c in state.history][-2:] == [Why.PAUSED, Why.RESUMED]


def test_the_plan_never_leaves_its_stages() -> None:
    diary = Diary()
    diary.practice(0, 2, 9)  # a flare at the first stage: recorded, still the first
    assert diary.replay() == (0, [Why.STARTED, Why.HIGH_AFTER])
    for day in range(2, 40, 2):
        practice_id = diary.practice(day, 1, 0, stage=min(3, (day - 2) // 4))
        diary.next_day(practice_id, day + 1, NextDay.BETTER)
    assert diary.replay()[0] == 3


facts_strategy = st.lists(
    st.tuples(
        st.integers(0, 3),
        st.one_of(st.none(), st.integers(0, 10)),
        st.one_of(st.none(), st.integers(0, 10)),
        st.sampled_from([None, *NextDay]),
        st.booleans(),
    ),
    max_size=30,
)


@settings(max_examples=200, deadline=None)
@given(facts_strategy)
def test_every_move_is_one_stage_and_every_move_up_follows_good_practices(
    days: list[tuple[int, int | None, int | None, NextDay | None, bool]],
) -> None:
    diary = Diary()
    day = 0
    for gap, before, after, answer, at_stage in days:
        day += gap
        practice_id = diary.practice(day, before, after, stage=0 if at_stage else None)
        if answer is not None:
            diary.next_day(practice_id, day + 1, answer)
            day += 1
    state = Programme(STAGES, RULES).replay(BEGAN, diary.facts)
    assert 0 <= state.stage <= 3
    afters = {f.practice_id: f for f in diary.facts if isinstance(f, PracticeEnded)}
    for change in state.history[1:]:
        assert abs(change.stage_to - change.stage_from) <= 1
        if change.why == Why.GOOD_RUN:
            assert change.stage_to == change.stage_from + 1
            ended = afters[change.practice_id or 0]
            assert ended.back_after is not None and ended.back_after <= RULES.good_at_most
        else:
            assert change.stage_to <= change.stage_from


def test_the_plan_caps_the_users_settings_and_easier_is_always_allowed() -> None:
    allowed = stage_runs(STAGES[1], Goal.THRICE)
    assert allowed == Runs("short", "remembered", "slow")
    assert capped(Runs("full", "as_asked", "quick"), allowed) == allowed
    mine = Runs("short", "always", "slow")
    assert capped(mine, allowed) == mine
    assert capped(Runs("full", "always", "normal"), allowed) == Runs("short", "always", "slow")
    # A daily plan keeps to the short class at every stage.
    assert stage_runs(STAGES[3], Goal.DAILY) == Runs("short", "as_asked", "normal")


def test_weeks_count_from_the_plans_first_day() -> None:
    start = date(2027, 3, 3)
    assert [week_of(start, start + timedelta(days=n)) for n in (0, 6, 7, 83, 84)] == [
        1,
        1,
        2,
        12,
        13,
    ]
    assert week_days(start, 2) == (date(2027, 3, 10), date(2027, 3, 16))


def test_the_shipped_class_brings_its_plan() -> None:
    [yoga_class] = load_catalog().values()
    assert yoga_class.programme is not None
    stages = yoga_class.programme.stages
    assert (stages[0].length, stages[0].easier, stages[0].pace) == ("short", "always", "slow")
    assert (stages[-1].length, stages[-1].pace) == ("full", "normal")
    assert yoga_class.programme.weeks == 12


@pytest.mark.parametrize(
    ("old", "new", "expected"),
    [
        (
            "where it hurt\n      length: short\n      easier: remembered",
            "where it hurt\n      length: short\n      easier: always",
            "field 'programme.stages[2]': stage 'short' must be harder than the one before",
        ),
        (
            "good_at_most: 3",
            "good_at_most: 5",
            "field 'programme.rules.good_at_most': good_at_most must be below acceptable_at_most",
        ),
        ("      pace: slow\n    - id: short\n", "      pace: fast\n    - id: short\n", "pace"),
    ],
)
def test_a_plan_that_does_not_hold_together_is_refused_with_its_place(
    tmp_path: Path, old: str, new: str, expected: str
) -> None:
    source = Path("sequences/back-strengthening-part-1.yaml").read_text(encoding="utf-8")
    broken = source.replace(old, new)
    assert broken != source
    (tmp_path / "back-strengthening-part-1.yaml").write_text(broken, encoding="utf-8")
    problems = check_all(tmp_path)
    assert any(expected in line for line in problems), problems
