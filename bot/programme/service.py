"""The plan over weeks: start it, read where it stands, hear the next-day answer, owe its
messages (the next-day check, the weekly summary) and gather the clinician report. The
rules are `rules.py`'s; the service gathers the facts for them from the store and keeps
the plan's due times. One class put together from its parts, as the practice service is:
`asking.py` (what the user asks and tells), `owed.py` (what the tick sends),
`reporting.py` (the report's facts), over `core.py`; `words.py` reads what is typed."""

from __future__ import annotations

from bot.programme.asking import Asking
from bot.programme.core import (
    NextDayHeard,
    NextPractice,
    NoPlan,
    NoProgramme,
    PlanView,
    StageAllowed,
    chosen_runs,
    facts_of,
    next_summary_at,
)
from bot.programme.owed import (
    NextDayCheck,
    Owing,
    PlanClaim,
    PlanMessage,
    QuietWeek,
    WeeklySummary,
)
from bot.programme.reporting import PracticeFacts, ReportFacts, Reporting
from bot.programme.words import (
    PlanInputError,
    SetGoal,
    SetSummaryDay,
    StopPlan,
    next_day_in,
    parse_plan,
)


class ProgrammeService(Asking, Owing, Reporting):
    """Every part of the plan's service, over one store, catalog and clock."""


__all__ = [
    "NextDayCheck",
    "NextDayHeard",
    "NextPractice",
    "NoPlan",
    "NoProgramme",
    "PlanClaim",
    "PlanInputError",
    "PlanMessage",
    "PlanView",
    "PracticeFacts",
    "ProgrammeService",
    "QuietWeek",
    "ReportFacts",
    "SetGoal",
    "SetSummaryDay",
    "StageAllowed",
    "StopPlan",
    "WeeklySummary",
    "chosen_runs",
    "facts_of",
    "next_day_in",
    "next_summary_at",
    "parse_plan",
]
