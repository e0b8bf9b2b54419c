"""What the clinician report holds: the plan, its stage history and every practice, as
plain facts. `bot.report_pdf` draws it; the programme service (bot/programme/service.py)
gathers it. Every text here is already in the words the page shows."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date


@dataclass(frozen=True)
class ReportPractice:
    """One practice, on the user's own day."""

    day: date
    minutes: int
    # "Full class", "Short class", "Gentle (short, all easier)".
    practice: str
    # The plan's stage it ran at ("Stage 2: Short class"), or None (before the plan, or
    # easier than the stage allowed).
    stage: str | None
    back_before: int | None
    back_after: int | None
    # The answer to the next-day check: "Better", "Same", "Worse", or None (not asked or
    # not answered).
    next_day: str | None
    # Finished, or stopped part-way (and why: "stopped for pain", "stopped").
    finished: bool
    stopped_why: str | None = None
    # Poses the user said hurt in it, and poses done in their easier version.
    hurt: tuple[str, ...] = ()
    easier: tuple[str, ...] = ()


@dataclass(frozen=True)
class ReportStageChange:
    day: date
    # "Stage 1: Short class, every easier option"
    stage: str
    # Why, in one short clause: "started", "two good practices in a row",
    # "back 7/10 after the class", "back worse the next day", "paused: see a clinician".
    why: str


@dataclass(frozen=True)
class PoseCount:
    pose: str
    times: int


@dataclass(frozen=True)
class ClinicianReport:
    name: str
    made_on: date
    # The user's IANA zone: every day in the report is a day there.
    zone: str
    class_title: str
    # "3 practices a week for 12 weeks"; None without a plan (the report still lists
    # the practices).
    goal: str | None
    started_on: date | None
    # Week N of `weeks` today, or None without a plan.
    week: int | None
    weeks: int
    stage: str | None  # "Stage 2 of 4: Short class"
    # "Paused since 3 Mar: a red-flag sign was reported" or None.
    paused: str | None
    stage_changes: tuple[ReportStageChange, ...] = ()
    # Oldest first.
    practices: tuple[ReportPractice, ...] = ()
    # Adherence: practices the plan asked for up to today, and those done (finished).
    planned: int = 0
    done: int = 0
    hurt_poses: tuple[PoseCount, ...] = field(default=())
    easier_poses: tuple[PoseCount, ...] = field(default=())
