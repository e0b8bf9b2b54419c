"""/feedback: the prompt and its expiry, the thanks, the refusals, and the copy for the
team's chat."""

from __future__ import annotations

from datetime import timedelta

from telegram import InlineKeyboardButton, InlineKeyboardMarkup

from bot.feedback import MAX_CHARS, PER_HOUR, WAIT_FOR, FeedbackItem, Refusal, Refused
from handlers.buttons import CancelFeedback
from handlers.render import Reply, plain

ASK = (
    "What would you like to tell the people who run me? Send it as your next message "
    f"(within {WAIT_FOR // timedelta(minutes=1)} minutes): a cue that helped, one that "
    "confused you, anything."
)
EXPIRED = (
    "This request for feedback has expired. "
    "Send /feedback when you'd like to write to the people who run me."
)
THANKS = "Thank you. Your note is saved for the people who run me. 🙏"
CANCELLED = "All right, no note sent."
NOTHING_TO_CANCEL = "There is nothing to cancel."


def cancel_keyboard() -> InlineKeyboardMarkup:
    return InlineKeyboardMarkup(
        [[InlineKeyboardButton("Cancel", callback_data=CancelFeedback().pack())]]
    )


def ask() -> Reply:
    return plain(ASK, cancel_keyboard())


def thanks() -> Reply:
    return plain(THANKS)


def cancelled() -> Reply:
    return plain(CANCELLED)


def expired() -> Reply:
    """In place of the prompt, without its Cancel button: the next message is no note."""
    return plain(EXPIRED)


def refused(refusal: Refused, *, waiting: bool = False) -> Reply:
    """Why a note was not saved. While a note is awaited, a too-long one may simply be sent
    again, shorter, so the Cancel button stays with the answer."""
    retry = waiting and refusal.reason == Refusal.TOO_LONG
    return plain(_refusal_text(refusal, retry=retry), cancel_keyboard() if retry else None)


def _refusal_text(refusal: Refused, *, retry: bool) -> str:
    match refusal.reason:
        case Refusal.EMPTY:
            return (
                "That note looks empty, so I saved nothing. Write it after the command, "
                "e.g. /feedback The strap cue helped."
            )
        case Refusal.TOO_LONG:
            again = "Send a shorter version, or tap Cancel." if retry else "Please shorten it."
            return (
                f"That note is {refusal.length:,} characters; I can take up to "
                f"{MAX_CHARS:,}, so I saved nothing. {again}"
            )
        case Refusal.TOO_MANY:
            return (
                f"You have sent {PER_HOUR} notes in the last hour, which is my limit. "
                "Thank you for all of them; please send the next one a little later."
            )


def forwarded(item: FeedbackItem) -> Reply:
    """Plain text, sent without parse_mode: a user's `<b>` or `*` must arrive as typed."""
    if item.practice_id is None:
        where = "No practice yet"
    else:
        when = "During practice" if item.during_practice else "Last practice"
        pose = item.pose or "unknown pose"
        number = "" if item.step_index is None else f"pose {item.step_index + 1}: "
        where = f"{when}: {item.class_id}, {number}{pose} (session {item.practice_id})"
    return plain(
        f"Feedback #{item.id} from user {item.user_id}\n"
        f"{where}\n"
        f"{item.created_at:%Y-%m-%d %H:%M} UTC\n\n"
        f"{item.text}"
    )
