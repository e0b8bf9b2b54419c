"""The numbers behind /progress: totals, streaks, recent practices, weekly minutes, and
how the back changes with practice.

Days and weeks are the user's own: a practice at 23:30 in Lisbon belongs to that evening,
whatever the date in UTC. Weeks start on Monday.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import date, timedelta
from enum import StrEnum
from statistics import fmean

from bot.clock import Clock
from bot.models import Practice, PracticeStatus
from bot.practice.machine import PracticeState, rushed_through
from bot.store import Store
from bot.timezones import user_zone
from bot.user_settings import paced_hold
from sequences import Step, YogaClass

RECENT = 5
EASIER_POSES = 3
CHART_WEEKS = 8
# "A month ago" is the first half of the chart: four whole weeks against the last four.
MONTH_WEEKS = CHART_WEEKS // 2
# A day counts towards a streak when a practice was finished or stopped on it: the closing
# message tells a user who stopped early that it counts, and the streak agrees.
PRACTISED = (PracticeStatus.FINISHED, PracticeStatus.STOPPED)
# A change of back score up to this, either way, is "about the same": the scale is whole
# numbers chosen by feel, and half a point is within a day's noise.
SAME_WITHIN = 0.5
# Fewer scores than these make no claim: one good or bad day is not a trend.
MIN_PAIRED_SCORES = 3
MIN_SCORES_PER_MONTH = 2


@dataclass(frozen=True)
class RecentPractice:
    day: date
    class_title: str
    minutes: int
    status: PracticeStatus
    gentle: bool = False


@dataclass(frozen=True)
class Week:
    """One week of the chart. The back scores are averages over the same practices, those
    with both check-ins, so before and after compare like with like."""

    start: date
    minutes: float
    back_before: float | None
    back_after: float | None
    # Of `minutes`, those spent in gentle practices.
    gentle_minutes: float = 0.0


class BackChange(StrEnum):
    EASIER = "easier"
    ABOUT_THE_SAME = "about_the_same"
    MORE_TENDER = "more_tender"


def back_change(before: float, after: float) -> BackChange:
    """Lower is better on the back score: a fall is easier, a rise more tender."""
    # Rounded so that a change of exactly half a point, as a mean of thirds may give it
    # (4.33 → 3.83), is not tipped over the line by floating point.
    difference = round(after - before, 9)
    if difference < -SAME_WITHIN:
        return BackChange.EASIER
    if difference > SAME_WITHIN:
        return BackChange.MORE_TENDER
    return BackChange.ABOUT_THE_SAME


@dataclass(frozen=True)
class AfterPractice:
    """The back after practice against before it, over practices with both scores."""

    change: BackChange
    before: float
    after: float
    practices: int

    @property
    def points(self) -> float:
        """How far the score moved on average, whichever way."""
        return abs(self.after - self.before)


@dataclass(frozen=True)
class MonthOverMonth:
    """The back before practice in the last four weeks against the four weeks before."""

    change: BackChange
    earlier: float
    recent: float


@dataclass(frozen=True)
class Progress:
    finished: int
    total_minutes: int
    current_streak: int
    longest_streak: int
    recent: list[RecentPractice]
    easier_most: list[tuple[str, int]]
    # The back score before and after practice, on average over the practices with both
    # check-ins (`scored` of them); None without any.
    back_before: float | None
    back_after: float | None
    weeks: list[Week]
    after_practice: AfterPractice | None
    month_over_month: MonthOverMonth | None
    scored: int = 0


def streaks(days: Iterable[date], today: date) -> tuple[int, int]:
    """(current, longest) runs of consecutive days. The current run may end yesterday:
    a streak is not lost before the day is over."""
    practised = set(days)
    longest = 0
    for day in practised:
        if day - timedelta(days=1) not in practised:
            length = 1
            while day + timedelta(days=length) in practised:
                length += 1
            longest = max(longest, length)
    end = today if today in practised else today - timedelta(days=1)
    current = 0
    while end - timedelta(days=current) in practised:
        current += 1
    return current, longest


def class_title(catalog: dict[str, YogaClass], class_id: str) -> str:
    yoga_class = catalog.get(class_id)
    return yoga_class.title if yoga_class else class_id


def pose_title(catalog: dict[str, YogaClass], class_id: str, step_id: str) -> str:
    """The pose as the user saw it; the bare id if the class file has since changed."""
    yoga_class = catalog.get(class_id)
    step = next((s for s in yoga_class.steps if s.id == step_id), None) if yoga_class else None
    return step.title if step else step_id


def step_of(catalog: dict[str, YogaClass], state: PracticeState) -> Step | None:
    """The step a practice is on (or ended on), found in the practice's own plan."""
    return plan_step(catalog, state.class_id, state.class_length, state.step)


def plan_step(
    catalog: dict[str, YogaClass], class_id: str, class_length: str, step: int
) -> Step | None:
    """The step at a position of a practice's plan: the full class or its short selection
    (a short or gentle practice), as the practice runs it, so position 3 of a short
    practice is the short selection's third pose. None when the class file is gone or no
    longer has that step."""
    yoga_class = catalog.get(class_id)
    if yoga_class is None:
        return None
    steps = yoga_class.steps_for(class_length)
    return steps[step] if 0 <= step < len(steps) else None


def both_scores(practices: Iterable[Practice]) -> list[tuple[int, int]]:
    """(before, after) of each practice with both check-ins: an average of "after" over
    other practices than "before" would compare different days."""
    return [
        (p.back_before, p.back_after)
        for p in practices
        if p.back_before is not None and p.back_after is not None
    ]


def mean_scores(practices: Iterable[Practice]) -> tuple[float, float] | None:
    """The back before and after practice on average, over practices with both scores."""
    paired = both_scores(practices)
    if not paired:
        return None
    return fmean(b for b, _ in paired), fmean(a for _, a in paired)


def after_practice(practices: Iterable[Practice]) -> AfterPractice | None:
    paired = both_scores(practices)
    if len(paired) < MIN_PAIRED_SCORES:
        return None
    before = fmean(b for b, _ in paired)
    after = fmean(a for _, a in paired)
    return AfterPractice(back_change(before, after), before, after, len(paired))


def month_over_month(
    earlier: Iterable[Practice], recent: Iterable[Practice]
) -> MonthOverMonth | None:
    earlier_scores = [p.back_before for p in earlier if p.back_before is not None]
    recent_scores = [p.back_before for p in recent if p.back_before is not None]
    if min(len(earlier_scores), len(recent_scores)) < MIN_SCORES_PER_MONTH:
        return None
    before, now = fmean(earlier_scores), fmean(recent_scores)
    return MonthOverMonth(back_change(before, now), before, now)


class ProgressService:
    def __init__(
        self,
        store: Store,
        catalog: dict[str, YogaClass],
        clock: Clock,
        default_timezone: str,
    ) -> None:
        self._store = store
        self._catalog = catalog
        self._clock = clock
        self._default_zone = default_timezone

    def _rushed(self, practice: Practice) -> bool:
        yoga_class = self._catalog.get(practice.class_id)
        if yoga_class is None:
            return False
        steps = yoga_class.steps_for(practice.class_length)
        holds = sum(paced_hold(step.hold_seconds, practice.pace_factor) for step in steps)
        return rushed_through(practice.practised_seconds, holds)

    async def report(self, user_id: int) -> Progress | None:
        """None for someone who has never started a practice."""
        async with self._store.read() as uow:
            practices = await uow.users.practices_of(user_id)
            if not practices:
                return None
            user = await uow.users.get(user_id)
            easier = await uow.users.easier_counts(user_id)
        zone = user_zone(user.timezone if user else None, self._default_zone)
        today = self._clock().astimezone(zone).date()

        def local_day(practice: Practice) -> date:
            return practice.started_at.astimezone(zone).date()

        days = (local_day(p) for p in practices if p.status in PRACTISED)
        current, longest = streaks(days, today)
        by_week = self._by_week(practices, local_day, today)
        in_weeks = list(by_week.values())
        last_month = [p for week in in_weeks[-MONTH_WEEKS:] for p in week]
        month_before = [p for week in in_weeks[-2 * MONTH_WEEKS : -MONTH_WEEKS] for p in week]
        before, after = mean_scores(practices) or (None, None)
        return Progress(
            # A class tapped through in well under its holds counts its minutes, but is
            # not a class finished (bot/practice/machine.py, rushed_through).
            finished=sum(
                p.status == PracticeStatus.FINISHED and not self._rushed(p) for p in practices
            ),
            total_minutes=round(sum(p.practised_seconds for p in practices) / 60),
            current_streak=current,
            longest_streak=longest,
            recent=[
                RecentPractice(
                    local_day(p),
                    class_title(self._catalog, p.class_id),
                    round(p.practised_seconds / 60),
                    p.status,
                    p.gentle,
                )
                for p in reversed(practices[-RECENT:])
            ],
            easier_most=self._easier_most(easier),
            back_before=before,
            back_after=after,
            weeks=[week_of(start, week) for start, week in by_week.items()],
            after_practice=after_practice(practices),
            month_over_month=month_over_month(month_before, last_month),
            scored=len(both_scores(practices)),
        )

    def _by_week(
        self,
        practices: Sequence[Practice],
        local_day: Callable[[Practice], date],
        today: date,
    ) -> dict[date, list[Practice]]:
        """The practices of each of the last CHART_WEEKS weeks, oldest first."""
        this_monday = today - timedelta(days=today.weekday())
        starts = [this_monday - timedelta(weeks=n) for n in range(CHART_WEEKS - 1, -1, -1)]
        by_week: dict[date, list[Practice]] = {start: [] for start in starts}
        for practice in practices:
            day = local_day(practice)
            monday = day - timedelta(days=day.weekday())
            if monday in by_week:
                by_week[monday].append(practice)
        return by_week

    def _easier_most(self, easier: list[tuple[str, str, int]]) -> list[tuple[str, int]]:
        counts: Counter[str] = Counter()
        for class_id, step_id, times in easier:
            counts[pose_title(self._catalog, class_id, step_id)] += times
        return sorted(counts.items(), key=lambda item: (-item[1], item[0]))[:EASIER_POSES]


def week_of(start: date, practices: Sequence[Practice]) -> Week:
    """The chart's week: its minutes, the gentle ones among them, and the back before and
    after practice over the practices with both scores."""
    before, after = mean_scores(practices) or (None, None)
    return Week(
        start=start,
        minutes=sum(p.practised_seconds for p in practices) / 60,
        back_before=before,
        back_after=after,
        gentle_minutes=sum(p.practised_seconds for p in practices if p.gentle) / 60,
    )
