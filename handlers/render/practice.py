"""A practice on screen: the intro, each cue with its buttons, and the closing message."""

from __future__ import annotations

from html import escape

from telegram import InlineKeyboardButton, InlineKeyboardMarkup

from bot.models import PracticeStatus
from bot.practice import Cue, Summary
from handlers.buttons import PracticeAction, PracticeButton
from handlers.render import Reply, html
from handlers.render.common import props_line
from sequences import YogaClass

STALE_BUTTON = "This pose is already over."


def duration(seconds: float) -> str:
    seconds = round(seconds)
    minutes, rest = divmod(seconds, 60)
    if not minutes:
        return f"{rest} s"
    return f"{minutes} min {rest} s" if rest else f"{minutes} min"


def intro(yoga_class: YogaClass) -> Reply:
    return html(
        f"<b>{escape(yoga_class.title)}</b> · {yoga_class.total_minutes} min · "
        f"with {escape(yoga_class.teacher)}\n"
        f"Props: {escape(props_line(yoga_class))}.\n\n"
        "Set up your mat. The first pose follows."
    )


def cue(cue: Cue) -> Reply:
    pose = cue.pose
    lines = [f"<b>{cue.step + 1}/{cue.total} · {escape(pose.title)}</b>"]
    if pose.sanskrit:
        lines.append(f"<i>{escape(pose.sanskrit)}</i>")
    lines.append("")
    lines.extend(escape(line) for line in pose.cues)
    lines.append("")
    lines.append(f"Hold {duration(cue.hold_seconds)}")
    if cue.easier_shown:
        lines += ["", f"<b>Easier:</b> {escape(pose.easier)}"]
    if cue.paused:
        lines += ["", "Paused. Tap Resume when you are ready."]
    return html("\n".join(lines), cue_keyboard(cue))


def cue_keyboard(cue: Cue) -> InlineKeyboardMarkup:
    def button(label: str, action: PracticeAction) -> InlineKeyboardButton:
        data = PracticeButton(action, practice=cue.practice_id, step=cue.step).pack()
        return InlineKeyboardButton(label, callback_data=data)

    first_row = [button("Next", PracticeAction.NEXT)]
    if not cue.easier_shown:
        first_row.insert(0, button("Easier option", PracticeAction.EASIER))
    toggle = (
        button("Resume", PracticeAction.RESUME)
        if cue.paused
        else button("Pause", PracticeAction.PAUSE)
    )
    return InlineKeyboardMarkup([first_row, [toggle, button("Stop", PracticeAction.STOP)]])


def closing(summary: Summary) -> Reply:
    if summary.status == PracticeStatus.STOPPED:
        return html(
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
    return html(
        f"Well done. You finished <b>{escape(summary.class_title)}</b> 🌿\n\n"
        f"Minutes practised: {summary.minutes}\n"
        f"Poses done: {summary.poses_done} of {summary.total_poses}\n"
        f"{easier}\n\n"
        "Rest for a moment before you get up. Notice how your back feels now."
    )
