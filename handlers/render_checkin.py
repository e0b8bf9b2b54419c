"""The back check-in: its question, its 0-10 buttons, and the replies to an answer."""

from __future__ import annotations

import re
from dataclasses import dataclass

from telegram import InlineKeyboardButton, InlineKeyboardMarkup

from bot.checkin import SCORES, valid_score

BEFORE_QUESTION = (
    "How does your back feel right now?\n0 is no discomfort, 10 the worst you can imagine."
)
AFTER_QUESTION = "And now, after practice: how does your back feel? 0 to 10."
ALREADY_ANSWERED = "This check-in is already answered."
REST_NOTE = (
    "Your back feels more tender than before you began. Rest today and keep any movement "
    "gentle. If it stays like this for more than a few days, please see a doctor or "
    "physiotherapist."
)
SKIP = "s"

_PRESS = re.compile(r"^c:(b|a(?::(\d{1,12}))?):(\d{1,2}|s)$")


@dataclass(frozen=True)
class CheckinPress:
    after: bool
    session_id: int | None
    score: int | None  # None when skipped


def parse(data: str | None) -> CheckinPress | None:
    """The press, or None when the data is malformed or the score out of range."""
    match = _PRESS.match(data or "")
    if match is None:
        return None
    which, session_id, raw = match.groups()
    after = which.startswith("a")
    if after and session_id is None:
        return None
    score = None if raw == SKIP else int(raw)
    if score is not None and not valid_score(score):
        return None
    return CheckinPress(after, int(session_id) if session_id else None, score)


def _keyboard(prefix: str) -> InlineKeyboardMarkup:
    buttons = [InlineKeyboardButton(str(n), callback_data=f"{prefix}:{n}") for n in SCORES]
    return InlineKeyboardMarkup(
        [buttons[:6], buttons[6:], [InlineKeyboardButton("Skip", callback_data=f"{prefix}:s")]]
    )


def before_keyboard() -> InlineKeyboardMarkup:
    return _keyboard("c:b")


def after_keyboard(session_id: int) -> InlineKeyboardMarkup:
    return _keyboard(f"c:a:{session_id}")


def before_answered(score: int | None) -> str:
    if score is None:
        return "Check-in skipped. Let's begin."
    return f"Your back before practice: {score}/10. Let's begin."


def after_answered(score: int | None, before: int | None = None) -> str:
    if score is None:
        return "Check-in skipped. Rest well."
    compared = f" (before: {before}/10)" if before is not None else ""
    return f"Your back after practice: {score}/10{compared}. Thank you for checking in."
