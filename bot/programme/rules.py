"""The rules of a programme over weeks, as plain objects: no database, no clock, no I/O.

A programme's state is never stored; it is replayed from the facts that are (`replay`):
when the plan began, every practice since with its back scores, the next-day answers, and
any pause. So the stage history the report shows and the stage the next practice runs at
come from one fold, and a test can drive twelve weeks of facts through it in a moment.

The rules are the pain-monitoring model physiotherapists use for exercise with pain
(Thomeé 1997, Scand J Med Sci Sports 7:140; Silbernagel et al. 2007, Am J Sports Med
35:897): pain up to about 3/10 is fine, 4-5/10 is acceptable if it has settled by the next
morning, above 5/10, or worse the next day, means ease off. NICE NG59 (1.2.1-1.2.2)
recommends group exercise programmes, yoga among them, for low back pain; the courses that
helped (ESCAPE-pain: twice a week for six weeks; Yoga for Healthy Lower Backs, Tilbrook
et al. 2011, Ann Intern Med 155:569: twelve weekly classes with home practice) progress
step by step. Read as:

- **up** a stage after `good_in_a_row` (2) practices in a row at the stage, each at most
  `good_at_most` (3)/10 afterwards and with no flare the next day (the next-day answer
  Better or Same; failing an answer, a back at most `acceptable_at_most` (5)/10 at the
  start of the next practice, on a later day);
- **stay** after a practice at 4-5/10 (it ends the run of good ones);
- **back** a stage after a practice above 5/10, a rise of `notable_rise` (3) or more on the
  class, a practice stopped for pain, or a next-day answer of Worse (once per practice);
- **pause** on a red-flag sign or a "see a clinician" answer (NHS red flags; NICE NG59
  1.1.1): no stage moves up while paused; a resume starts one stage lower.

A practice easier than its stage (the user chose gentler, which is always allowed) cannot
move the plan up, but its pain still counts: a flare steps back whatever the practice was.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field, replace
from datetime import date, datetime, timedelta
from enum import StrEnum

from sequences.schema import EASIER, LENGTHS, PACES, PainRules, Stage


class Goal(StrEnum):
    """How often the plan asks to practise."""

    TWICE = "twice"
    THRICE = "thrice"
    # A short practice every day: the stages' length is capped at the short class.
    DAILY = "daily"


PER_WEEK = {Goal.TWICE: 2, Goal.THRICE: 3, Goal.DAILY: 7}
# The plan's days when the user names none; the reminder's day_of_week expression.
DEFAULT_DAYS = {Goal.TWICE: "mon,thu", Goal.THRICE: "mon,wed,fri", Goal.DAILY: "*"}


class NextDay(StrEnum):
    """The next-day check's answer: the back today compared with usual."""

    BETTER = "better"
    SAME = "same"
    WORSE = "worse"


class PauseWhy(StrEnum):
    # An emergency sign on the red-flag screen.
    URGENT = "urgent"
    # A sign that needs a clinician.
    CLINICIAN = "clinician"


class Why(StrEnum):
    """Why the plan changed: each change in its history names one."""

    STARTED = "started"
    GOOD_RUN = "good_run"
    HIGH_AFTER = "high_after"
    ROSE = "rose"
    STOPPED_FOR_PAIN = "stopped_for_pain"
    WORSE_NEXT_DAY = "worse_next_day"
    PAUSED = "paused"
    RESUMED = "resumed"


# -- facts: what happened, as the store keeps it ------------------------------------------


@dataclass(frozen=True)
class CheckedIn:
    """A practice began: its back score before (None if the check-in was skipped)."""

    practice_id: int
    at: datetime
    day: date  # the user's own day
    back_before: int | None


@dataclass(frozen=True)
class PracticeEnded:
    practice_id: int
    at: datetime
    day: date
    back_before: int | None
    back_after: int | None
    # The stage the practice ran at; None when it ran easier than the plan allowed, or
    # outside a plan.
    at_stage: int | None
    finished: bool
    stopped_for_pain: bool = False


@dataclass(frozen=True)
class NextDayAnswered:
    practice_id: int
    at: datetime
    answer: NextDay


@dataclass(frozen=True)
class Paused:
    at: datetime
    why: PauseWhy


@dataclass(frozen=True)
class Resumed:
    at: datetime


Fact = CheckedIn | PracticeEnded | NextDayAnswered | Paused | Resumed


# -- the state a replay ends in -----------------------------------------------------------


@dataclass(frozen=True)
class Change:
    """One entry of the plan's history: the stage it went from and to (the same for a
    pause), why, and the practice and score that said so."""

    at: datetime
    stage_from: int
    stage_to: int
    why: Why
    practice_id: int | None = None
    # The back score behind it: after the class (HIGH_AFTER), or the rise (ROSE).
    score: int | None = None
    paused: PauseWhy | None = None


@dataclass(frozen=True)
class _Pending:
    """A good practice at the stage, waiting to hear how the next day went."""

    practice_id: int
    day: date


@dataclass(frozen=True)
class ProgrammeState:
    stage: int = 0
    paused: PauseWhy | None = None
    # Good practices at the stage, each with a quiet next day, since the last change.
    good_run: tuple[int, ...] = ()
    pending: _Pending | None = None
    # Practices that already stepped the plan back: a Worse the next day does not again.
    stepped_back_for: frozenset[int] = frozenset()
    history: tuple[Change, ...] = field(default=())

    @property
    def last_change(self) -> Change | None:
        return self.history[-1] if self.history else None


class Programme:
    """The rules of one programme: its stages and pain numbers (the class file's)."""

    def __init__(self, stages: Sequence[Stage], rules: PainRules) -> None:
        if len(stages) < 2:
            raise ValueError("a programme needs two stages at least")
        self.stages = tuple(stages)
        self.rules = rules

    @property
    def top(self) -> int:
        return len(self.stages) - 1

    def begin(self, at: datetime) -> ProgrammeState:
        return ProgrammeState(history=(Change(at, 0, 0, Why.STARTED),))

    def replay(self, began: datetime, facts: Iterable[Fact]) -> ProgrammeState:
        """The state after every fact, in time order (facts at the same moment in the order
        given)."""
        state = self.begin(began)
        for fact in sorted(facts, key=lambda f: f.at):
            state = self.apply(state, fact)
        return state

    def apply(self, state: ProgrammeState, fact: Fact) -> ProgrammeState:
        match fact:
            case CheckedIn():
                return self._checked_in(state, fact)
            case PracticeEnded():
                return self._ended(state, fact)
            case NextDayAnswered():
                return self._next_day(state, fact)
            case Paused():
                if state.paused is not None:
                    return state
                change = Change(fact.at, state.stage, state.stage, Why.PAUSED, paused=fact.why)
                return replace(
                    state,
                    paused=fact.why,
                    good_run=(),
                    pending=None,
                    history=(*state.history, change),
                )
            case Resumed():
                if state.paused is None:
                    return state
                # Back from a pause one stage lower: a clinician has been seen, or the sign
                # has passed, and the plan starts again gently.
                lower = max(0, state.stage - 1)
                change = Change(fact.at, state.stage, lower, Why.RESUMED)
                return replace(
                    state,
                    stage=lower,
                    paused=None,
                    good_run=(),
                    pending=None,
                    history=(*state.history, change),
                )

    # -- the rules -------------------------------------------------------------------------

    def _checked_in(self, state: ProgrammeState, fact: CheckedIn) -> ProgrammeState:
        """A later day's check-in tells how the day after a good practice went, when the
        next-day check did not."""
        pending = state.pending
        if pending is None or fact.day <= pending.day or fact.back_before is None:
            return state
        if fact.back_before <= self.rules.acceptable_at_most:
            return self._good_confirmed(state, pending.practice_id, fact.at)
        return replace(state, pending=None, good_run=())

    def _ended(self, state: ProgrammeState, fact: PracticeEnded) -> ProgrammeState:
        rules = self.rules
        after, before = fact.back_after, fact.back_before
        rise = after - before if after is not None and before is not None else None
        if fact.stopped_for_pain:
            return self._step_back(state, fact.at, Why.STOPPED_FOR_PAIN, fact.practice_id)
        if after is not None and after > rules.acceptable_at_most:
            return self._step_back(state, fact.at, Why.HIGH_AFTER, fact.practice_id, after)
        if rise is not None and rise >= rules.notable_rise:
            return self._step_back(state, fact.at, Why.ROSE, fact.practice_id, rise)
        if after is None or not fact.finished:
            # Nothing known of how the back took it: the run of good practices ends.
            return replace(state, good_run=(), pending=None)
        if after > rules.good_at_most:
            return replace(state, good_run=(), pending=None)  # acceptable: stay
        if fact.at_stage is None or fact.at_stage < state.stage:
            return state  # easier than the stage: neither counts nor breaks the run
        return replace(state, pending=_Pending(fact.practice_id, fact.day))

    def _next_day(self, state: ProgrammeState, fact: NextDayAnswered) -> ProgrammeState:
        if fact.answer == NextDay.WORSE:
            if fact.practice_id in state.stepped_back_for:
                return replace(state, good_run=(), pending=None)
            return self._step_back(state, fact.at, Why.WORSE_NEXT_DAY, fact.practice_id)
        if state.pending is not None and state.pending.practice_id == fact.practice_id:
            return self._good_confirmed(state, fact.practice_id, fact.at)
        return state

    def _good_confirmed(
        self, state: ProgrammeState, practice_id: int, at: datetime
    ) -> ProgrammeState:
        run = (*state.good_run, practice_id)
        state = replace(state, pending=None, good_run=run)
        if state.paused is not None or len(run) < self.rules.good_in_a_row:
            return state
        if state.stage == self.top:
            return replace(state, good_run=())
        change = Change(at, state.stage, state.stage + 1, Why.GOOD_RUN, practice_id)
        return replace(state, stage=state.stage + 1, good_run=(), history=(*state.history, change))

    def _step_back(
        self,
        state: ProgrammeState,
        at: datetime,
        why: Why,
        practice_id: int,
        score: int | None = None,
    ) -> ProgrammeState:
        lower = max(0, state.stage - 1)
        change = Change(at, state.stage, lower, why, practice_id, score)
        return replace(
            state,
            stage=lower,
            good_run=(),
            pending=None,
            stepped_back_for=state.stepped_back_for | {practice_id},
            history=(*state.history, change),
        )


# -- what a practice runs as ------------------------------------------------------------


@dataclass(frozen=True)
class Runs:
    """How a practice runs: the /settings values it takes (bot.models' names)."""

    length: str
    easier: str
    pace: str

    def easier_or_same(self, other: Runs) -> bool:
        return (
            LENGTHS.index(self.length) <= LENGTHS.index(other.length)
            and EASIER.index(self.easier) <= EASIER.index(other.easier)
            and PACES.index(self.pace) <= PACES.index(other.pace)
        )


def stage_runs(stage: Stage, goal: Goal) -> Runs:
    """What a stage allows; a daily plan keeps to the short class."""
    length = "short" if goal == Goal.DAILY else stage.length
    return Runs(length, stage.easier, stage.pace)


def capped(chosen: Runs, allowed: Runs) -> Runs:
    """The user's own settings, never harder than the plan allows: in each way, the easier
    of the two. Easier is always allowed."""

    def easier_of(order: tuple[str, ...], a: str, b: str) -> str:
        return a if order.index(a) <= order.index(b) else b

    return Runs(
        easier_of(LENGTHS, chosen.length, allowed.length),
        easier_of(EASIER, chosen.easier, allowed.easier),
        easier_of(PACES, chosen.pace, allowed.pace),
    )


# -- weeks ------------------------------------------------------------------------------


def week_of(started_on: date, today: date) -> int:
    """Week 1 is the plan's first seven days."""
    return max(0, (today - started_on).days) // 7 + 1


def week_days(started_on: date, week: int) -> tuple[date, date]:
    """The first and last day of a plan week."""
    first = started_on + timedelta(days=7 * (week - 1))
    return first, first + timedelta(days=6)
