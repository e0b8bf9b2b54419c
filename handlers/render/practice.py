"""A practice on screen: the intro, each cue with its buttons and the questions it asks,
"continue or start over?", and the closing message."""

from __future__ import annotations

from html import escape

from telegram import InlineKeyboardButton, InlineKeyboardMarkup

from bot.cues import ContinueOffer, Cue, Starting, Summary
from bot.models import ClassLength, EasierReason, Pace, PracticeQuestion, PracticeStatus, StopReason
from bot.practice.machine import MORE_TIME_SECONDS, Action
from handlers.buttons import PracticeAction, PracticeButton, SlowPaceButton
from handlers.render import Reply, html, plain, player
from handlers.render.common import no_props_line, props_line
from sequences import Step, YogaClass

STALE_BUTTON = "This pose is already over."
PASSED_BUTTON = "It has passed: next pose"
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
        "<b>Numbness or tingling is a sign to stop.</b> Come out of the pose gently and "
        "rest. If it doesn't pass, please see a doctor or physiotherapist."
    ),
    PracticeQuestion.STOP: "<b>End the practice here?</b>",
    PracticeQuestion.RESTART: "Paused. Continue or start over: see below.",
}


# What a question's message says once it is answered and the pose is over.
ANSWERED = {
    Action.SKIP: "<i>Skipped. On to the next pose.</i>",
    Action.PASSED: "<i>It passed. On to the next pose.</i>",
    Action.END: "<i>Practice ended.</i>",
    Action.END_FOR_PAIN: "<i>Ended for today.</i>",
}

# What each button did, said as it is answered (a toast, gone in a moment).
DONE = {
    Action.NEXT: "Next pose",
    Action.EASIER: "Easier version",
    Action.USUAL: "Usual version",
    Action.MORE_TIME: f"{MORE_TIME_SECONDS:.0f} s added",
    Action.PAUSE: "Paused",
    Action.RESUME: "Resumed",
    Action.KEEP_GOING: "Resumed",
    Action.TRY_EASIER: "Easier version, from the top",
    Action.SKIP: "Skipped",
    Action.PASSED: "Next pose",
}


def duration(seconds: float) -> str:
    seconds = round(seconds)
    minutes, rest = divmod(seconds, 60)
    if not minutes:
        return f"{rest} s"
    return f"{minutes} min {rest} s" if rest else f"{minutes} min"


LENGTH_WORDS = {ClassLength.FULL: "Full class", ClassLength.SHORT: "Short class"}
PACE_WORDS = {Pace.SLOW: "slow pace", Pace.NORMAL: "normal pace", Pace.QUICK: "quick pace"}


def intro(yoga_class: YogaClass, player_url: str | None = None) -> Reply:
    """Before the check-in: the class and its props. What will run (its length, pace and
    minutes) is said once the check-in has decided it (`starting`). With the player, a
    button to follow the class there instead."""
    lines = [
        f"<b>{escape(yoga_class.title)}</b> · with {escape(yoga_class.teacher)}",
        *props_lines(yoga_class),
    ]
    return html("\n".join(lines), player.open_keyboard(player_url))


def begun(answered: Reply, start: Starting) -> Reply:
    """The check-in's answer, on its own message, with what the practice it began will be:
    said once it is decided, in the message the user just tapped."""
    if start.gentle:
        what = f"About {start.minutes} min, at a {PACE_WORDS[start.pace]}."
    else:
        stage = start.plan_stage
        if stage is None:
            where = "/settings"
        elif stage.paused:
            where = "plan paused: its first stage only, /plan"
        else:
            where = f"plan stage {stage.stage + 1} of {stage.stages}, /plan"
        what = (
            f"{LENGTH_WORDS[start.length]} · {PACE_WORDS[start.pace]} · "
            f"about {start.minutes} min ({where})"
        )
    text = f"{answered.text}\n{what}\n\nSet up your mat. The first pose follows."
    return Reply(text, answered.parse_mode)


def props_lines(yoga_class: YogaClass) -> list[str]:
    """The intro's props, and what to use without them."""
    instead = no_props_line(yoga_class)
    if instead is None:
        return ["Props: none needed."]
    return [f"Props: {escape(props_line(yoga_class))}.", escape(instead)]


def cue(cue: Cue) -> Reply:
    pose = cue.pose
    lines = [f"<b>{cue.step + 1}/{cue.total} · {escape(pose.title)}</b>"]
    if cue.question == PracticeQuestion.NUMB and not cue.over:
        # A nerve sign is read first, before the pose's own words.
        lines += [QUESTION_TEXT[cue.question], ""]
    if pose.sanskrit:
        lines.append(f"<i>{escape(pose.sanskrit)}</i>")
    lines.append("")
    if cue.easier is not None:
        # The version to do comes first: a glance up from the mat reads the top lines.
        lines.append(f"<b>Easier:</b> {escape(pose.easier)}")
        because = EASIER_BECAUSE.get(cue.easier)
        if because:
            lines.append(f"<i>{because}</i>")
        lines.append("")
    if cue.bridge is not None:
        lines.append(escape(cue.bridge))
    lines.extend(escape(line) for line in pose.cues)
    lines.append("")
    hold = f"Hold {duration(cue.hold_seconds)}"
    # The last pose rests for its hold; the closing message then invites staying on.
    lines.append(f"{hold}. Then the class ends." if cue.last else hold)
    if cue.following is not None:
        lines += ["", next_line(pose, cue.following)]
    if cue.over:
        if cue.answered in ANSWERED:
            lines += ["", ANSWERED[cue.answered]]
        return html("\n".join(lines))
    if cue.question is not None and cue.question != PracticeQuestion.NUMB:
        lines += ["", QUESTION_TEXT[cue.question]]
    elif cue.paused:
        lines += ["", "Paused. Tap Resume when you are ready."]
    return html("\n".join(lines), cue_keyboard(cue))


def audio_title(cue: Cue) -> str:
    """A spoken cue's title in Telegram's player: the pose, and which version is spoken."""
    title = f"{cue.step + 1}. {cue.pose.title}"
    return f"{title} (easier)" if cue.easier is not None else title


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

    if cue.question == PracticeQuestion.NUMB:
        # The pose is over either way: stopping first, no easier version of it.
        return InlineKeyboardMarkup(
            [
                [button("End for today", PracticeAction.END_FOR_PAIN)],
                [button(PASSED_BUTTON, PracticeAction.PASSED)],
            ]
        )
    if cue.question == PracticeQuestion.HURT:
        easier = "Try again, gently" if cue.easier_shown else "Try the easier version"
        return InlineKeyboardMarkup(
            [
                [button(easier, PracticeAction.TRY_EASIER)],
                [button("Skip this pose", PracticeAction.SKIP)],
                [button("End for today", PracticeAction.END_FOR_PAIN)],
            ]
        )
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
    if cue.easier == EasierReason.GENTLE:
        # A gentle practice (a sore day) offers no way to the harder version.
        first_row = [button("Next", PracticeAction.NEXT)]
    elif cue.easier_shown:
        first_row = [
            button("Usual version", PracticeAction.USUAL),
            button("Next", PracticeAction.NEXT),
        ]
    else:
        first_row = [
            button("Easier option", PracticeAction.EASIER),
            button("Next", PracticeAction.NEXT),
        ]
    return InlineKeyboardMarkup([first_row, [hurts, more, button("Pause", PracticeAction.PAUSE)]])


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
    held = f"Poses held: {summary.poses_done} of {summary.total_poses}"
    if summary.poses_skipped:
        held += f" ({summary.poses_skipped} moved on from early)"
    kind = "the gentle practice of " if summary.gentle else ""
    if summary.rushed:
        # Tapped through well under its holds: said kindly, and as it was.
        text = (
            f"You reached the end of {kind}<b>{escape(summary.class_title)}</b> in "
            f"{_minutes(summary.minutes)}; at your pace it takes about "
            f"{summary.planned_minutes} min.\n\n{held}\n\n"
            "Some days a quick look is all there is time for. Next time, if it feels fine, "
            "stay a few breaths in each pose: the holds are where the back gets stronger."
        )
    else:
        if summary.gentle:
            easier = "Every pose in its gentler version: a kind choice on a sore day."
        elif summary.easier_used:
            easier = (
                f"You used the easier option {summary.easier_used} time"
                f"{'' if summary.easier_used == 1 else 's'}, which is listening well."
            )
        elif not summary.poses_skipped:
            easier = "You did every pose as cued."
        else:
            easier = ""
        text = (
            f"Well done. You finished {kind}<b>{escape(summary.class_title)}</b> 🌿\n\n"
            f"Minutes practised: {summary.minutes}\n"
            f"{held}\n"
            + (f"{easier}\n" if easier else "")
            + "\nStay in your rest as long as you like, then get up slowly. "
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
    if summary.poses_done:
        done = (
            f"You held {summary.poses_done} of {summary.total_poses} poses, in "
            f"{_minutes(summary.minutes)}."
        )
    else:
        done = (
            f"You stopped at pose {summary.ended_on + 1} of {summary.total_poses}, after "
            f"{_minutes(summary.minutes)}."
        )
    if summary.stop_reason == StopReason.FOR_PAIN:
        # Ended for today: rest comes first, so no offer to carry on.
        return (
            f"Practice ended for today. {done} Stopping when something hurts is the right "
            "call.\n\nRest, and keep moving gently. If the pain is sharp, or doesn't settle "
            "within a day or two, please see a doctor or physiotherapist."
        )
    carry_on = (
        f"To carry on from pose {summary.stopped_at + 1} within 2 hours, send /start_practice."
        if summary.stopped_at is not None
        else "Come back whenever you like: /start_practice"
    )
    return f"Practice stopped. {done} That counts.\n\n{carry_on}"
