"""What a user types about the plan: /plan's words, and a next-day answer typed
rather than tapped."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from bot.models import (
    Goal,
)
from bot.programme.rules import (
    PER_WEEK,
    NextDay,
)
from bot.reminders import ReminderInputError, parse_days, weekdays_of


class PlanInputError(ValueError):
    """/plan's words cannot be used: the part at fault, or how many days the goal needs."""

    def __init__(
        self, given: str, days_needed: int | None = None, *, summary_day: bool = False
    ) -> None:
        super().__init__(given)
        self.given = given
        self.days_needed = days_needed
        # The summary's day was asked for, and not one day was named.
        self.summary_day = summary_day


@dataclass(frozen=True)
class StopPlan:
    pass


@dataclass(frozen=True)
class SetSummaryDay:
    # 0 Monday to 6 Sunday.
    day: int


@dataclass(frozen=True)
class SetGoal:
    goal: Goal
    days: str | None = None


_GOAL_WORDS = {
    "2": Goal.TWICE,
    "twice": Goal.TWICE,
    "3": Goal.THRICE,
    "thrice": Goal.THRICE,
    "daily": Goal.DAILY,
    "7": Goal.DAILY,
    "everyday": Goal.DAILY,
}


def parse_plan(args: Sequence[str]) -> SetGoal | SetSummaryDay | StopPlan | None:
    """/plan's arguments: None (show the plan), StopPlan, the weekly summary's day
    ("/plan summary fri"), or a goal with its days ("/plan 3 mon,wed,fri");
    PlanInputError for anything else."""
    if not args:
        return None
    first, rest = args[0].lower(), list(args[1:])
    if first == "summary":
        try:
            named = weekdays_of(parse_days(rest)) if rest else frozenset()
        except ReminderInputError as exc:
            raise PlanInputError(exc.given) from exc
        if len(named) != 1:
            raise PlanInputError(" ".join(rest) or first, summary_day=True)
        return SetSummaryDay(next(iter(named)))
    if first in ("off", "stop"):
        if rest:
            raise PlanInputError(" ".join(rest))
        return StopPlan()
    goal = _GOAL_WORDS.get(first)
    if goal is None:
        raise PlanInputError(args[0])
    if not rest:
        return SetGoal(goal)
    if goal == Goal.DAILY:
        raise PlanInputError(" ".join(rest))
    try:
        days = parse_days(rest)
    except ReminderInputError as exc:
        raise PlanInputError(exc.given) from exc
    if len(weekdays_of(days)) != PER_WEEK[goal]:
        raise PlanInputError(" ".join(rest), days_needed=PER_WEEK[goal])
    return SetGoal(goal, days)


_TYPED_ANSWERS = {"better": NextDay.BETTER, "same": NextDay.SAME, "worse": NextDay.WORSE}


def next_day_in(text: str) -> NextDay | None:
    """The next-day answer typed as one word ("Better", "same.", "WORSE!"), or None."""
    return _TYPED_ANSWERS.get(text.strip().strip(".!").strip().lower())
