"""Every message and keyboard about the plan over weeks: /plan, the next-day check, the
weekly summary, the quiet week's note and /report's caption. Each is read in a glance:
the stage, the next practice and why, in a few short lines."""

from __future__ import annotations

from datetime import date, time

from telegram import InlineKeyboardButton, InlineKeyboardMarkup

from bot.programme.rules import Change, Goal, NextDay, PauseWhy, Runs, Why
from bot.programme.service import (
    NextDayHeard,
    NoPlan,
    PlanInputError,
    PlanView,
    WeeklySummary,
)
from bot.reminders import weekdays_of
from handlers.buttons import NextDayButton, PlanAction, PlanButton, StartButton
from handlers.render import Reply, html, plain

PLAN_EXAMPLE = "/plan 3 mon,wed,fri"
SUMMARY_EXAMPLE = "/plan summary fri"
GOAL_WORDS = {
    Goal.TWICE: "2 practices a week",
    Goal.THRICE: "3 practices a week",
    Goal.DAILY: "a short practice every day",
}
GOAL_BUTTONS = (
    (PlanAction.TWICE, "2 a week"),
    (PlanAction.THRICE, "3 a week"),
    (PlanAction.DAILY, "Short, daily"),
)
GOAL_OF_ACTION = {
    PlanAction.TWICE: Goal.TWICE,
    PlanAction.THRICE: Goal.THRICE,
    PlanAction.DAILY: Goal.DAILY,
}
LENGTH_WORDS = {"short": "Short class", "full": "Full class"}
EASIER_WORDS = {"always": "every easier option", "remembered": "easier where it hurt"}
PACE_WORDS = {"slow": "slow pace", "quick": "quick pace"}
DAY_WORDS = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")
FULL_DAY_WORDS = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")
ANSWER_WORDS = {NextDay.BETTER: "Better", NextDay.SAME: "Same", NextDay.WORSE: "Worse"}

STOPPED = "Plan stopped. Your practices stay in /progress. Send /plan to start a new one."
NO_PLAN_TO_STOP = "You have no plan running. Send /plan to start one."
RESUME_TOMORROW = "You reported a sign today. The plan can resume tomorrow at the earliest."
RESUME_WHEN = (
    "Resume it only once a doctor or physiotherapist has checked you and said exercise is OK."
)
RESUME_QUESTION = (
    "Has a doctor or physiotherapist checked you since, and said exercise is OK?\n"
    "The plan then starts again one stage gentler."
)
STOP_QUESTION = "Stop your plan? Your practices stay in /progress; /plan starts a new one."
NEXT_DAY_QUESTION = "How's your back today, compared with usual?"
STALE_NEXT_DAY = "Already noted, thank you."
QUIET_WEEK = (
    "No practice this week, and that's all right. When you're ready, a short class is a "
    "gentle way back in."
)
REPORT_CAPTION = "Your practice report, for your physiotherapist or doctor."
REPORT_PICTURE_CAPTION = "The same report as a picture."
NOTHING_TO_REPORT = "Nothing to report yet. After your first practice, /report shows it."
NO_PROGRAMME = "This class has no plan to follow yet."


def runs_words(runs: Runs) -> str:
    """ "Short class, every easier option, slow pace"."""
    parts = [LENGTH_WORDS[runs.length]]
    if runs.easier in EASIER_WORDS:
        parts.append(EASIER_WORDS[runs.easier])
    if runs.pace in PACE_WORDS:
        parts.append(PACE_WORDS[runs.pace])
    return ", ".join(parts)


def why_words(change: Change | None, good_needed: int) -> str | None:
    """Why the plan stands where it does, as the end of a sentence."""
    if change is None:
        return None
    match change.why:
        case Why.STARTED:
            return "the plan starts gently"
        case Why.GOOD_RUN:
            return f"{_count_words(good_needed)} good practices in a row"
        case Why.HIGH_AFTER:
            return f"your back was {change.score}/10 after last time"
        case Why.ROSE:
            return f"your back rose {change.score} points in the last class"
        case Why.STOPPED_FOR_PAIN:
            return "you stopped the last class for pain"
        case Why.WORSE_NEXT_DAY:
            return "your back was worse the day after"
        case Why.RESUMED:
            if change.stage_to < change.stage_from:
                return "back from a pause, one stage gentler"
            return "back from a pause"
        case Why.PAUSED:
            return "the plan is paused"


def days_words(days: str) -> str:
    chosen = sorted(weekdays_of(days))
    if len(chosen) == 7:
        return "every day"
    return ", ".join(DAY_WORDS[d] for d in chosen)


def _count_words(n: int) -> str:
    return {1: "one", 2: "two", 3: "three", 4: "four"}.get(n, str(n))


def _on(day: date) -> str:
    return f"{DAY_WORDS[day.weekday()]} {day.day} {day:%b}"


# -- /plan -----------------------------------------------------------------------------------


def no_plan(no: NoPlan) -> Reply:
    if not no.available:
        return plain(NO_PROGRAMME)
    text = (
        "<b>A plan for 12 weeks</b>\n"
        "Practise a few times a week. The plan starts gently, and moves on when your back "
        "says yes.\n\nHow often?"
    )
    return html(text, goals_keyboard())


def goals_keyboard() -> InlineKeyboardMarkup:
    row = [
        InlineKeyboardButton(label, callback_data=PlanButton(action).pack())
        for action, label in GOAL_BUTTONS
    ]
    return InlineKeyboardMarkup([row[:2], row[2:]])


def choose_goal(view: PlanView) -> Reply:
    return html(
        f"Now: {GOAL_WORDS[view.goal]}. Your stage stays as it is.\n\nHow often from now?",
        goals_keyboard(),
    )


def plan(view: PlanView, note: str | None = None) -> Reply:
    """/plan: the week, the stage, the next practice and why, what moves it on; `note`, a
    line first (what the user just changed)."""
    if view.paused is not None:
        return _paused(view)
    week = (
        f"week {view.week} of {view.weeks}"
        if not view.complete
        else f"{view.weeks} weeks done, keep going"
    )
    lines = [f"{note}\n"] if note else []
    lines += [
        f"<b>Your plan · {week}</b>",
        f"This week: {done_of(view.done_this_week, view.planned_this_week)} "
        f"({days_words(view.days)})",
        f"Stage {view.stage + 1} of {len(view.stages)}: {view.stage_title}",
        "",
        f"<b>Next:</b> {runs_words(view.next.runs)}.",
    ]
    why = why_words(view.last_change, view.good_needed)
    if why is not None:
        lines.append(f"Why: {why}.")
    # Settings harder than the stage need no word here: "Next" says what runs, and so
    # does each practice as it begins ("plan stage 1 of 4").
    if view.next.easier_by_choice:
        lines.append("Your /settings make it gentler. That's always fine.")
    lines.append(_moves_on(view))
    lines += ["", _reminder_line(view)]
    keyboard = InlineKeyboardMarkup(
        [
            [InlineKeyboardButton("Start practice", callback_data=StartButton().pack())],
            [
                _plan_button("How often", PlanAction.GOALS),
                _plan_button("Stop plan", PlanAction.STOP),
            ],
        ]
    )
    return html("\n".join(lines), keyboard)


def done_of(done: int, planned: int) -> str:
    """ "1 of 3", or past the goal "4 done (goal 2)"."""
    return f"{done} of {planned}" if done <= planned else f"{done} done (goal {planned})"


def _moves_on(view: PlanView) -> str:
    """What moves the plan on, with the count so far: the rule said once, in numbers."""
    if view.stage == len(view.stages) - 1:
        return "This is the last stage: keep it steady."
    rule = f"{view.good_at_most}/10 or less after, no worse the next day"
    line = f"Good practices: {view.good_run} of {view.good_needed} to move on ({rule})."
    if view.waiting:
        line += " Your last one counts once the next day's check is in."
    return line


def summary_moved(day: int) -> str:
    return f"Done: the weekly summary comes on {FULL_DAY_WORDS[day]}s now."


def _reminder_line(view: PlanView) -> str:
    summary = f"Weekly summary on {FULL_DAY_WORDS[view.summary_day]}s. To change: {SUMMARY_EXAMPLE}"
    if view.reminders_off:
        return f"Reminders are off (/remind to turn them on).\n{summary}"
    if view.reminder_at is None:
        return f"A reminder on plan days? Send /remind 07:30\n{summary}"
    return f"Reminder at {_clock(view.reminder_at)} on plan days.\n{summary}"


def _clock(at: time) -> str:
    return f"{at.hour:02d}:{at.minute:02d}"


def _paused(view: PlanView) -> Reply:
    since = f" since {_on(view.paused_on)}" if view.paused_on is not None else ""
    # Resuming needs a clinician's word: a sign is not for the user to clear themselves.
    if view.paused == PauseWhy.URGENT:
        reason = "you reported an emergency sign"
    else:
        reason = "you reported a sign to see a clinician about"
    lines = [
        f"<b>Your plan · paused{since}</b>",
        f"It paused because {reason}.",
        RESUME_WHEN,
        f"Plan: {GOAL_WORDS[view.goal]} ({days_words(view.days)}).",
    ]
    if view.sign_today:
        lines.append(RESUME_TOMORROW)
        return html("\n".join(lines))
    keyboard = InlineKeyboardMarkup(
        [
            [_plan_button("Resume plan", PlanAction.RESUME)],
            [_plan_button("Stop plan", PlanAction.STOP)],
        ]
    )
    return html("\n".join(lines), keyboard)


def ask_resume() -> Reply:
    keyboard = InlineKeyboardMarkup(
        [
            [_plan_button("Yes, resume the plan", PlanAction.RESUME_SURE)],
            [_plan_button("Not yet", PlanAction.BACK)],
        ]
    )
    return plain(RESUME_QUESTION, keyboard)


def ask_stop() -> Reply:
    keyboard = InlineKeyboardMarkup(
        [
            [
                _plan_button("Stop plan", PlanAction.STOP_SURE),
                _plan_button("Keep it", PlanAction.BACK),
            ]
        ]
    )
    return plain(STOP_QUESTION, keyboard)


def _plan_button(label: str, action: PlanAction) -> InlineKeyboardButton:
    return InlineKeyboardButton(label, callback_data=PlanButton(action).pack())


def plan_input_error(error: PlanInputError) -> Reply:
    if error.summary_day:
        return plain(f"Name one day for the weekly summary, e.g. {SUMMARY_EXAMPLE}")
    if error.days_needed is not None:
        return plain(
            f"{error.days_needed} practices a week need {error.days_needed} days, "
            f"e.g. {PLAN_EXAMPLE}"
        )
    return plain(
        f"I didn't understand “{error.given[:20]}”. Try {PLAN_EXAMPLE}, /plan daily or /plan off."
    )


# -- the next-day check ------------------------------------------------------------------------


def next_day_question(practice_id: int) -> Reply:
    row = [
        InlineKeyboardButton(
            ANSWER_WORDS[answer], callback_data=NextDayButton(practice_id, answer).pack()
        )
        for answer in NextDay
    ]
    return plain(NEXT_DAY_QUESTION, InlineKeyboardMarkup([row]))


def next_day_heard(heard: NextDayHeard) -> Reply:
    lines = [f"{NEXT_DAY_QUESTION} {ANSWER_WORDS[heard.answer]}."]
    change = heard.change
    if heard.answer == NextDay.WORSE:
        eased = change is not None and change.stage_to < change.stage_from
        lines += [
            "Sorry it's worse. Take it easy today: gentle walking helps more than lying still.",
            f"Next time the plan eases off: {heard.stage_title}."
            if eased
            else "You're already at the gentlest stage: go gently next time.",
            "If it keeps getting worse, or you feel numbness or weakness, see a clinician. /safety",
        ]
    elif change is not None and change.why == Why.GOOD_RUN:
        lines.append(f"Well done. Next time you move on: {heard.stage_title}.")
    else:
        lines.append("Noted, thank you.")
    return plain("\n".join(lines))


# -- the weekly summary ----------------------------------------------------------------------


def weekly_summary(summary: WeeklySummary) -> Reply:
    week = f"week {summary.week} of {summary.weeks}" if summary.week <= summary.weeks else "week"
    lines = [
        f"<b>Your week · {week}</b>",
        f"Practices: {done_of(summary.practices, summary.planned)} · {summary.minutes} min",
    ]
    if summary.back_before is not None and summary.back_after is not None:
        lines.append(
            f"Back: {summary.back_before:.1f} before, {summary.back_after:.1f} after, on average"
        )
    ups = [c for c in summary.changes if c.stage_to > c.stage_from]
    downs = [c for c in summary.changes if c.stage_to < c.stage_from]
    if ups and not downs:
        lines.append(f"You moved on: {summary.stage_title}.")
    elif downs:
        lines.append(f"The plan eased off: {summary.stage_title}.")
    else:
        lines.append(f"Stage: {summary.stage_title}.")
    if summary.paused is not None:
        lines.append("The plan is paused: /plan to resume when you're ready.")
    elif summary.next_stage_title is not None:
        left = summary.good_needed - summary.good_run
        lines.append(
            f"Next week: {_count_words(left)} more good practice{'s' if left != 1 else ''} "
            f"to move on to {summary.next_stage_title}."
        )
    else:
        lines.append("Next week: the same. Keep it steady.")
    return html("\n".join(lines))


def quiet_week() -> Reply:
    keyboard = InlineKeyboardMarkup(
        [[InlineKeyboardButton("Start practice", callback_data=StartButton().pack())]]
    )
    return plain(QUIET_WEEK, keyboard)
