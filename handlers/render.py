"""Every message the practice sends, rendered in one place: copy changes never touch rules."""

from __future__ import annotations

import re
from dataclasses import dataclass
from html import escape

from telegram import InlineKeyboardButton, InlineKeyboardMarkup

from bot.models import SessionStatus
from bot.practice import Cue, Summary
from sequences import YogaClass

STALE_BUTTON = "This pose is already over."
START_BUTTON_DATA = "p:start"

COMMANDS: tuple[tuple[str, str], ...] = (
    ("start_practice", "Begin today's class"),
    ("progress", "Your practice so far, with a chart"),
    ("remind", "Daily reminder, e.g. /remind 07:30 or /remind off"),
    ("timezone", "Your time zone for reminders"),
    ("feedback", "Tell the people who run me something"),
    ("mydata", "Download everything I store about you"),
    ("forget_me", "Delete everything I store about you"),
    ("help", "What I can do"),
    ("start", "Welcome and safety note"),
)

_ACTION = re.compile(r"^p:([enprs]):(\d{1,12}):(\d{1,3})$")


@dataclass(frozen=True)
class ButtonPress:
    action: str
    session_id: int
    index: int


def parse_button(data: str | None) -> ButtonPress | None:
    match = _ACTION.match(data or "")
    if match is None:
        return None
    action, session_id, index = match.groups()
    return ButtonPress(action, int(session_id), int(index))


def _data(action: str, cue: Cue) -> str:
    return f"p:{action}:{cue.session_id}:{cue.index}"


def duration(seconds: float) -> str:
    seconds = round(seconds)
    minutes, rest = divmod(seconds, 60)
    if not minutes:
        return f"{rest} s"
    return f"{minutes} min {rest} s" if rest else f"{minutes} min"


def props_line(yoga_class: YogaClass) -> str:
    needed = ", ".join(_prop_names(yoga_class.props_needed, yoga_class))
    optional = ", ".join(_prop_names(yoga_class.props_optional, yoga_class))
    return f"{needed}; optional: {optional}" if optional else needed


def _prop_names(props: list[str], yoga_class: YogaClass) -> list[str]:
    blocks = getattr(yoga_class, "block_count", 0) or 0
    return [f"{blocks} blocks" if p == "block" and blocks > 1 else p for p in props]


def welcome(yoga_class: YogaClass, first_name: str) -> str:
    greeting = f"Hello {escape(first_name)}." if first_name else "Hello."
    return (
        f"{greeting} I'm your yoga coach for a steadier lower back.\n\n"
        f"I guide you through <b>{escape(yoga_class.title)}</b> "
        f"({yoga_class.total_minutes} min), one pose at a time. Each cue comes by itself "
        "when the hold is over; tap <b>Easier option</b> for a gentler version, "
        "<b>Next</b> to move on.\n\n"
        f"You'll need: {escape(props_line(yoga_class))}.\n\n"
        f"<b>Safety:</b> {escape(yoga_class.safety_note)}"
    )


def start_keyboard() -> InlineKeyboardMarkup:
    return InlineKeyboardMarkup(
        [[InlineKeyboardButton("Start practice", callback_data=START_BUTTON_DATA)]]
    )


def intro(yoga_class: YogaClass) -> str:
    return (
        f"<b>{escape(yoga_class.title)}</b> · {yoga_class.total_minutes} min · "
        f"with {escape(yoga_class.teacher)}\n"
        f"Props: {escape(props_line(yoga_class))}.\n\n"
        "Set up your mat. The first pose follows."
    )


def cue_text(cue: Cue) -> str:
    step = cue.step
    lines = [f"<b>{cue.index + 1}/{cue.total} · {escape(step.title)}</b>"]
    if step.sanskrit:
        lines.append(f"<i>{escape(step.sanskrit)}</i>")
    lines.append("")
    lines.extend(escape(line) for line in step.cues)
    lines.append("")
    lines.append(f"Hold {duration(cue.hold_seconds)}")
    if cue.easier_shown:
        lines += ["", f"<b>Easier:</b> {escape(step.easier)}"]
    if cue.paused:
        lines += ["", "Paused. Tap Resume when you are ready."]
    return "\n".join(lines)


def cue_keyboard(cue: Cue) -> InlineKeyboardMarkup:
    first_row = [InlineKeyboardButton("Next", callback_data=_data("n", cue))]
    if not cue.easier_shown:
        first_row.insert(0, InlineKeyboardButton("Easier option", callback_data=_data("e", cue)))
    toggle = (
        InlineKeyboardButton("Resume", callback_data=_data("r", cue))
        if cue.paused
        else InlineKeyboardButton("Pause", callback_data=_data("p", cue))
    )
    return InlineKeyboardMarkup(
        [first_row, [toggle, InlineKeyboardButton("Stop", callback_data=_data("s", cue))]]
    )


def closing(summary: Summary) -> str:
    if summary.status == SessionStatus.STOPPED:
        return (
            f"Practice stopped. You did {summary.poses_done} of {summary.total_poses} poses "
            f"in {summary.minutes} min. That counts. Come back whenever you like: "
            "/start_practice"
        )
    easier = (
        f"You used the easier option {summary.easier_used} time"
        f"{'' if summary.easier_used == 1 else 's'}, which is listening well."
        if summary.easier_used
        else "You did every pose as cued."
    )
    return (
        f"Well done. You finished <b>{escape(summary.class_title)}</b> 🌿\n\n"
        f"Minutes practised: {summary.minutes}\n"
        f"Poses done: {summary.poses_done} of {summary.total_poses}\n"
        f"{easier}\n\n"
        "Rest for a moment before you get up. Notice how your back feels now."
    )


def help_text() -> str:
    lines = ["Here is what I can do:", ""]
    lines += [f"/{name} — {description}" for name, description in COMMANDS]
    lines += ["", "During a practice: Easier option, Next, Pause or Stop under each pose."]
    return "\n".join(lines)


UNKNOWN_COMMAND = "I don't know that command. Try /start_practice, or /help for the list."
PLAIN_TEXT = "I follow commands rather than chat. Send /start_practice to begin, or /help."
