"""The back check-in: its question, its 0-10 buttons, and the replies to an answer."""

from __future__ import annotations

from collections.abc import Callable

from telegram import InlineKeyboardButton, InlineKeyboardMarkup

from bot.checkin import SCORES
from handlers.buttons import Button, CheckinAfter, CheckinBefore
from handlers.render import Reply, plain

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


def _keyboard(answer: Callable[..., Button], **fields: int) -> InlineKeyboardMarkup:
    def button(label: str, score: int | None) -> InlineKeyboardButton:
        return InlineKeyboardButton(label, callback_data=answer(score=score, **fields).pack())

    scores = [button(str(n), n) for n in SCORES]
    return InlineKeyboardMarkup([scores[:6], scores[6:], [button("Skip", None)]])


def before_question() -> Reply:
    return plain(BEFORE_QUESTION, _keyboard(CheckinBefore))


def after_question(practice_id: int) -> Reply:
    return plain(AFTER_QUESTION, _keyboard(CheckinAfter, practice=practice_id))


def before_answered(score: int | None) -> str:
    if score is None:
        return "Check-in skipped. Let's begin."
    return f"Your back before practice: {score}/10. Let's begin."


def after_answered(score: int | None, before: int | None = None) -> str:
    if score is None:
        return "Check-in skipped. Rest well."
    compared = f" (before: {before}/10)" if before is not None else ""
    return f"Your back after practice: {score}/10{compared}. Thank you for checking in."


def answered_before(score: int | None) -> Reply:
    return plain(before_answered(score))


def answered_after(score: int | None, before: int | None = None) -> Reply:
    return plain(after_answered(score, before))


def rest_note() -> Reply:
    return plain(REST_NOTE)
