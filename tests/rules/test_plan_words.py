"""The plan's words (handlers/render/plan.py) say what the rules did, and no more."""

from __future__ import annotations

from datetime import UTC, datetime

from bot.programme.rules import Change, NextDay, Why
from bot.programme.service import NextDayHeard
from handlers.render import plan as render

AT = datetime(2027, 2, 3, 9, 0, tzinfo=UTC)


def test_a_worse_morning_says_the_plan_eased_off_only_when_it_did() -> None:
    eased = NextDayHeard(NextDay.WORSE, Change(AT, 2, 1, Why.WORSE_NEXT_DAY), "Short", 1)
    text = render.next_day_heard(eased).text
    assert "Next time the plan eases off: Short." in text
    assert "/safety" in text
    stayed = NextDayHeard(NextDay.WORSE, Change(AT, 0, 0, Why.WORSE_NEXT_DAY), "Gentlest", 0)
    text = render.next_day_heard(stayed).text
    assert "eases off" not in text and "already at the gentlest stage" in text
    # Worse about a practice that had stepped the plan back already: no second move.
    again = NextDayHeard(NextDay.WORSE, None, "Short", 1)
    assert "already at the gentlest stage" in render.next_day_heard(again).text


def test_a_move_up_is_told_and_a_quiet_answer_is_only_noted() -> None:
    up = NextDayHeard(NextDay.SAME, Change(AT, 0, 1, Why.GOOD_RUN), "Short class", 1)
    assert "Well done. Next time you move on: Short class." in render.next_day_heard(up).text
    same = NextDayHeard(NextDay.BETTER, None, "Short class", 1)
    assert render.next_day_heard(same).text.endswith("Noted, thank you.")


def test_a_resume_says_gentler_only_when_the_stage_went_down() -> None:
    down = Change(AT, 2, 1, Why.RESUMED)
    assert render.why_words(down, 2) == "back from a pause, one stage gentler"
    assert render.why_words(Change(AT, 0, 0, Why.RESUMED), 2) == "back from a pause"


def test_practices_past_the_goal_are_counted_as_done_not_as_a_fraction() -> None:
    assert render.done_of(1, 3) == "1 of 3"
    assert render.done_of(3, 3) == "3 of 3"
    assert render.done_of(4, 2) == "4 done (goal 2)"
