"""The numbers behind /progress: totals, streaks, recent practices, weekly minutes.

Days and weeks are the user's own: a practice at 23:30 in Lisbon belongs to that evening,
whatever the date in UTC. Weeks start on Monday.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import date, timedelta
from statistics import fmean

from bot.clock import Clock
from bot.models import Practice, PracticeStatus
from bot.store import Store
from bot.timezones import user_zone
from sequences import YogaClass

RECENT = 5
EASIER_POSES = 3
CHART_WEEKS = 8
# A day counts towards a streak when a practice was finished or stopped on it: the closing
# message tells a user who stopped early that it counts, and the streak agrees.
PRACTISED = (PracticeStatus.FINISHED, PracticeStatus.STOPPED)


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
            weeks=self._weeks(practices, local_day, today),
        )

    def _weeks(
        self,
        practices: Sequence[Practice],
        local_day: Callable[[Practice], date],
        today: date,
    ) -> list[Week]:
        this_monday = today - timedelta(days=today.weekday())
        starts = [this_monday - timedelta(weeks=n) for n in range(CHART_WEEKS - 1, -1, -1)]
        by_week: dict[date, list[Practice]] = {start: [] for start in starts}
        for practice in practices:
            day = local_day(practice)
            monday = day - timedelta(days=day.weekday())
            if monday in by_week:
                by_week[monday].append(practice)
        return [
            Week(
                start=start,
                minutes=sum(s.practised_seconds for s in week) / 60,
                back_before=_mean(s.back_before for s in week),
                back_after=_mean(s.back_after for s in week),
            )
            for start, week in by_week.items()
        ]

    def _easier_most(self, easier: list[tuple[str, str, int]]) -> list[tuple[str, int]]:
        counts: Counter[str] = Counter()
        for class_id, step_id, times in easier:
            counts[pose_title(self._catalog, class_id, step_id)] += times
        return sorted(counts.items(), key=lambda item: (-item[1], item[0]))[:EASIER_POSES]
