"""A practice on screen: the intro, each cue with its buttons and the questions it asks,
"continue or start over?", and the closing message."""

from __future__ import annotations

from html import escape

from telegram import InlineKeyboardButton, InlineKeyboardMarkup

from bot.cues import ContinueOffer, Cue, Summary
from bot.models import ClassLength, EasierReason, Pace, PracticeQuestion, PracticeStatus, StopReason
from bot.user_settings import UserSettings
from handlers.buttons import PracticeAction, PracticeButton, SlowPaceButton
from handlers.render import Reply, html, plain
from handlers.render.common import no_props_line, props_line
from sequences import Step, YogaClass

STALE_BUTTON = "This pose is already over."
PAUSED_BUTTON = "This practice is paused. Answer the question below it."
DURING_PRACTICE = (
    "I'm guiding your practice: use the buttons under the pose. If something hurts, "
    "tap It hurts, or tell me."
)
PAIN_OUTSIDE_PRACTICE = (
    "I'm sorry your back hurts. Rest and move gently today. If the pain is severe, new or "
    "getting worse, please see a doctor or physiotherapist. /safety lists the signs that "
    "need one first."
)
FELT_WORSE_LAST_TIME = (
    "Last time your back felt worse afterwards, so I'll offer the gentle practice first."
)

# Why the easier version is on screen, when the user did not just ask for it.
EASIER_BECAUSE = {
    EasierReason.HURT_LAST_TIME: "Last time this one bothered you, so here is the gentler version.",
    EasierReason.HURT_NOW: "Gentler now. Move only as far as feels fine.",
    EasierReason.REMEMBERED: "You often choose this one. Usual version is a tap away.",
}

# The question a cue asks while its clock is stopped; nerve signs come first, plainly.
QUESTION_TEXT = {
    PracticeQuestion.HURT: "<b>Let's ease off.</b> How would you like to go on?",
    PracticeQuestion.NUMB: (
        "<b>Numbness or tingling is a sign to stop.</b> Come out of the pose gently. If it "
        "doesn't pass, please see a doctor or physiotherapist."
    ),
    PracticeQuestion.STOP: "<b>End the practice here?</b>",
}


def duration(seconds: float) -> str:
    seconds = round(seconds)
    minutes, rest = divmod(seconds, 60)
    if not minutes:
        return f"{rest} s"
    return f"{minutes} min {rest} s" if rest else f"{minutes} min"


LENGTH_WORDS = {ClassLength.FULL: "Full class", ClassLength.SHORT: "Short class"}
PACE_WORDS = {Pace.SLOW: "slow pace", Pace.NORMAL: "normal pace", Pace.QUICK: "quick pace"}


def intro(
    yoga_class: YogaClass,
    *,
    felt_worse_last_time: bool = False,
    settings: UserSettings | None = None,
    minutes: int | None = None,
) -> Reply:
    settings = settings or UserSettings()
    minutes = yoga_class.total_minutes if minutes is None else minutes
    in_force = (
        f"{LENGTH_WORDS[settings.class_length]} · {PACE_WORDS[settings.pace]} · about {minutes} min"
    )
    lines = [
        f"<b>{escape(yoga_class.title)}</b> · with {escape(yoga_class.teacher)}",
        f"{in_force} (/settings)",
        *props_lines(yoga_class),
        "",
        "Set up your mat. The first pose follows.",
    ]
    if felt_worse_last_time:
        lines += ["", FELT_WORSE_LAST_TIME]
    return html("\n".join(lines))


def props_lines(yoga_class: YogaClass) -> list[str]:
    """The intro's props, and what to use without them."""
    instead = no_props_line(yoga_class)
    if instead is None:
        return ["Props: none needed."]
    return [f"Props: {escape(props_line(yoga_class))}.", escape(instead)]


def cue(cue: Cue) -> Reply:
    pose = cue.pose
    lines = [f"<b>{cue.step + 1}/{cue.total} · {escape(pose.title)}</b>"]
    if pose.sanskrit:
        lines.append(f"<i>{escape(pose.sanskrit)}</i>")
    lines.append("")
    lines.extend(escape(line) for line in pose.cues)
    lines.append("")
    hold = f"Hold {duration(cue.hold_seconds)}"
    # The last pose rests for its hold; the closing message then invites staying on.
    lines.append(f"{hold}. Then the class ends." if cue.last else hold)
    if cue.easier is not None:
        lines += ["", f"<b>Easier:</b> {escape(pose.easier)}"]
        because = EASIER_BECAUSE.get(cue.easier)
        if because:
            lines.append(f"<i>{because}</i>")
    if cue.following is not None:
        lines += ["", next_line(pose, cue.following)]
    if cue.over:
        return html("\n".join(lines))
    if cue.question is not None:
        lines += ["", QUESTION_TEXT[cue.question]]
    elif cue.paused:
        lines += ["", "Paused. Tap Resume when you are ready."]
    return html("\n".join(lines), cue_keyboard(cue))


def next_line(pose: Step, following: Step) -> str:
    """What comes next, with the props to reach for when they change."""
    line = f"Next: {escape(following.title)}"
    if following.props and set(following.props) != set(pose.props):
        line += f" · {escape(', '.join(following.props))}"
    return line


def cue_keyboard(cue: Cue) -> InlineKeyboardMarkup:
    """Two rows of at most three, the riskiest choice never one slip away: Stop appears only
    once paused, and asks again before it ends anything."""

    def button(label: str, action: PracticeAction) -> InlineKeyboardButton:
        data = PracticeButton(action, practice=cue.practice_id, step=cue.step).pack()
        return InlineKeyboardButton(label, callback_data=data)

    if cue.question in (PracticeQuestion.HURT, PracticeQuestion.NUMB):
        easier = "Try again, gently" if cue.easier_shown else "Try the easier version"
        choices = [
            [button(easier, PracticeAction.TRY_EASIER)],
            [button("Skip this pose", PracticeAction.SKIP)],
            [button("End for today", PracticeAction.END_FOR_PAIN)],
        ]
        if cue.question == PracticeQuestion.NUMB:
            choices.reverse()  # stopping first
        return InlineKeyboardMarkup(choices)
    if cue.question == PracticeQuestion.STOP:
        return InlineKeyboardMarkup(
            [
                [button("End practice", PracticeAction.END)],
                [button("Keep going", PracticeAction.KEEP_GOING)],
            ]
        )
    hurts, more = button("It hurts", PracticeAction.HURT), button("+15 s", PracticeAction.MORE_TIME)
    if cue.paused:
        return InlineKeyboardMarkup(
            [
                [button("Resume", PracticeAction.RESUME)],
                [hurts, more, button("Stop", PracticeAction.STOP)],
            ]
        )
    version = (
        button("Usual version", PracticeAction.USUAL)
        if cue.easier_shown
        else button("Easier option", PracticeAction.EASIER)
    )
    return InlineKeyboardMarkup(
        [
            [version, button("Next", PracticeAction.NEXT)],
            [hurts, more, button("Pause", PracticeAction.PAUSE)],
        ]
    )


def continue_offer(offer: ContinueOffer) -> Reply:
    """Continue or start over: a practice paused just now by a new /start_practice, or one
    stopped a little while ago."""

    def button(label: str, action: PracticeAction) -> InlineKeyboardButton:
        data = PracticeButton(action, practice=offer.practice_id, step=offer.step).pack()
        return InlineKeyboardButton(label, callback_data=data)

    where = f"pose {offer.step + 1} of {offer.total}, {escape(offer.pose_title)}"
    if offer.stopped:
        ago = "just now" if offer.minutes_ago < 1 else f"{offer.minutes_ago} min ago"
        text = f"You stopped at {where}, {ago}."
        carry_on = f"Continue from pose {offer.step + 1}"
    else:
        text = f"Your practice is paused at {where}."
        carry_on = "Continue"
    keyboard = InlineKeyboardMarkup(
        [
            [button(carry_on, PracticeAction.CONTINUE)],
            [button("Start over", PracticeAction.START_OVER)],
        ]
    )
    return html(text, keyboard)


def continue_answered(action: PracticeAction) -> Reply:
    if action == PracticeAction.CONTINUE:
        return plain("Continuing. Your pose follows.")
    return plain("Starting over.")


def during_practice() -> Reply:
    return plain(DURING_PRACTICE)


def pain_outside_practice() -> Reply:
    return plain(PAIN_OUTSIDE_PRACTICE)


def _minutes(minutes: int) -> str:
    return "under a minute" if minutes < 1 else f"{minutes} min"


def closing(summary: Summary) -> Reply:
    if summary.status == PracticeStatus.STOPPED:
        stopped = _stopped(summary)
        if summary.suggest_slow_pace:
            return html(f"{stopped}\n\n{SLOW_PACE_SUGGESTION}", slow_pace_keyboard())
        return html(stopped)
    if summary.gentle:
        easier = "Every pose in its gentler version: a kind choice on a sore day."
    elif summary.easier_used:
        easier = (
            f"You used the easier option {summary.easier_used} time"
            f"{'' if summary.easier_used == 1 else 's'}, which is listening well."
        )
    else:
        easier = "You did every pose as cued."
    kind = "the gentle practice of " if summary.gentle else ""
    text = (
        f"Well done. You finished {kind}<b>{escape(summary.class_title)}</b> 🌿\n\n"
        f"Minutes practised: {summary.minutes}\n"
        f"Poses done: {summary.poses_done} of {summary.total_poses}\n"
        f"{easier}\n\n"
        "Stay in your rest as long as you like, then get up slowly. "
        "Notice how your back feels now."
    )
    if not summary.suggest_slow_pace:
        return html(text)
    return html(f"{text}\n\n{SLOW_PACE_SUGGESTION}", slow_pace_keyboard())


SLOW_PACE_SUGGESTION = (
    "You gave yourself extra time on several poses, two classes in a row. The slow pace "
    "makes every hold a little longer."
)
SLOW_PACE_ON = "Slow pace is on from your next class. /settings changes it."


def slow_pace_keyboard() -> InlineKeyboardMarkup:
    data = SlowPaceButton().pack()
    return InlineKeyboardMarkup([[InlineKeyboardButton("Use the slow pace", callback_data=data)]])


def slow_pace_on() -> Reply:
    return plain(SLOW_PACE_ON)


def _stopped(summary: Summary) -> str:
    done = (
        f"You did {summary.poses_done} of {summary.total_poses} poses in "
        f"{_minutes(summary.minutes)}."
    )
    carry_on = (
        f"To carry on from pose {summary.stopped_at + 1} within 2 hours, send /start_practice."
        if summary.stopped_at is not None
        else "Come back whenever you like: /start_practice"
    )
    if summary.stop_reason == StopReason.FOR_PAIN:
        return (
            f"Practice ended for today. {done} Stopping when something hurts is the right "
            "call.\n\nRest, and keep moving gently. If the pain is sharp, or doesn't settle "
            f"within a day or two, please see a doctor or physiotherapist.\n\n{carry_on}"
        )
    return f"Practice stopped. {done} That counts.\n\n{carry_on}"
