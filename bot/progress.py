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
from bot.store import Store
from bot.timezones import user_zone
from sequences import YogaClass

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
    start: date
    minutes: float
    back_before: float | None
    back_after: float | None
    gentle: int = 0  # gentle practices begun that week


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
    back_before: float | None
    back_after: float | None
    weeks: list[Week]
    after_practice: AfterPractice | None
    month_over_month: MonthOverMonth | None


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


def _mean(values: Iterable[int | None]) -> float | None:
    present = [v for v in values if v is not None]
    return fmean(present) if present else None


def after_practice(practices: Iterable[Practice]) -> AfterPractice | None:
    paired = [
        (p.back_before, p.back_after)
        for p in practices
        if p.back_before is not None and p.back_after is not None
    ]
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
        return Progress(
            finished=sum(p.status == PracticeStatus.FINISHED for p in practices),
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
            back_before=_mean(p.back_before for p in practices),
            back_after=_mean(p.back_after for p in practices),
            weeks=[_week(start, week) for start, week in by_week.items()],
            after_practice=after_practice(practices),
            month_over_month=month_over_month(month_before, last_month),
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


def _week(start: date, practices: Sequence[Practice]) -> Week:
    return Week(
        start=start,
        minutes=sum(p.practised_seconds for p in practices) / 60,
        back_before=_mean(p.back_before for p in practices),
        back_after=_mean(p.back_after for p in practices),
        gentle=sum(p.gentle for p in practices),
    )
