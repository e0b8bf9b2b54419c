"""The clinician report's words: the facts the plan gathered (bot/programme/service.py),
put as the page says them (bot/programme/report.py), for bot/report_pdf.py to draw."""

from __future__ import annotations

from bot.models import StopReason
from bot.programme.report import (
    ClinicianReport,
    PoseCount,
    ReportPractice,
    ReportStageChange,
)
from bot.programme.rules import Change, PauseWhy, Why
from bot.programme.service import ReportFacts
from handlers.render.plan import ANSWER_WORDS, GOAL_WORDS

LENGTHS = {"short": "Short class", "full": "Full class"}
STOPPED_WHY = {StopReason.FOR_PAIN: "stopped for pain", StopReason.BY_USER: "stopped"}


def _stage(facts: ReportFacts, index: int) -> str:
    return f"Stage {index + 1}: {facts.stages[index]}" if index < len(facts.stages) else ""


def _why(change: Change, good_needed: int) -> str:
    """A stage change's reason, as a clinician reads the history (the chat's own words
    speak to the user about "last time"); a step back at the first stage says it stayed."""
    match change.why:
        case Why.STARTED:
            return "started"
        case Why.GOOD_RUN:
            return f"{good_needed} good practices in a row, no flare the next day"
        case Why.PAUSED:
            sign = "an emergency sign" if change.paused == PauseWhy.URGENT else "a sign"
            return f"paused: {sign} to see a clinician about"
        case Why.RESUMED:
            stayed = change.stage_to == change.stage_from
            return "resumed" if stayed else "resumed, one stage gentler"
    reason = STEP_BACK_WHY[change.why].format(score=change.score)
    return reason if change.stage_to < change.stage_from else f"{reason}; stays at the first"


# Why the plan stepped back, for the history.
STEP_BACK_WHY = {
    Why.HIGH_AFTER: "back {score}/10 after the class",
    Why.ROSE: "back rose {score} points in the class",
    Why.STOPPED_FOR_PAIN: "class stopped for pain",
    Why.WORSE_NEXT_DAY: "back worse the next day",
}


def clinician_report(facts: ReportFacts) -> ClinicianReport:
    changes = tuple(
        ReportStageChange(
            day,
            _stage(facts, change.stage_to),
            _why(change, facts.good_needed),
        )
        for day, change in facts.history
    )
    practices = tuple(
        ReportPractice(
            day=p.day,
            minutes=p.minutes,
            practice="Gentle (short, all easier)" if p.gentle else LENGTHS[p.length],
            stage=_stage(facts, p.plan_stage) if p.plan_stage is not None else None,
            back_before=p.back_before,
            back_after=p.back_after,
            next_day=ANSWER_WORDS[p.next_day] if p.next_day is not None else None,
            finished=p.finished,
            stopped_why=STOPPED_WHY.get(p.stop_reason) if p.stop_reason else None,
            hurt=p.hurt,
            easier=("all poses",) if p.all_easier else p.easier,
        )
        for p in facts.practices
    )
    paused = None
    if facts.paused is not None:
        since = f" since {facts.paused_on:%-d %b %Y}" if facts.paused_on else ""
        paused = f"Paused{since}: a red-flag sign was reported"
    goal = None
    if facts.goal is not None:
        words = GOAL_WORDS[facts.goal]
        goal = f"{words[0].upper()}{words[1:]} for {facts.weeks} weeks"
    stage = None
    if facts.stage is not None and facts.stages:
        stage = f"Stage {facts.stage + 1} of {len(facts.stages)}: {facts.stages[facts.stage]}"
    return ClinicianReport(
        name=facts.name,
        made_on=facts.made_on,
        zone=facts.zone_name,
        class_title=facts.class_title,
        goal=goal,
        started_on=facts.started_on,
        week=facts.week,
        weeks=facts.weeks,
        stage=stage,
        paused=paused,
        stage_changes=changes,
        practices=practices,
        planned=facts.planned,
        done=facts.done,
        hurt_poses=tuple(PoseCount(pose, n) for pose, n in facts.hurt_counts),
        easier_poses=tuple(PoseCount(pose, n) for pose, n in facts.easier_counts),
    )
