"""/feedback: the prompt, the thanks, the refusals, and the copy for the team's chat."""

from __future__ import annotations

from telegram import InlineKeyboardButton, InlineKeyboardMarkup

from bot.feedback import MAX_CHARS, PER_HOUR, FeedbackItem, Refusal, Refused

CANCEL_DATA = "fb:cancel"

ASK = (
    "What would you like to tell the people who run me? Send it as your next message: "
    "a cue that helped, one that confused you, anything."
)
THANKS = "Thank you. Your note is saved and passed on to the people who run me. 🙏"
CANCELLED = "All right, no note sent."
NOTHING_TO_CANCEL = "There is nothing to cancel."


def cancel_keyboard() -> InlineKeyboardMarkup:
    return InlineKeyboardMarkup([[InlineKeyboardButton("Cancel", callback_data=CANCEL_DATA)]])


def refused(refusal: Refused, *, waiting: bool = False) -> str:
    match refusal.reason:
        case Refusal.EMPTY:
            return (
                "That note looks empty, so I saved nothing. Write it after the command, "
                "e.g. /feedback The strap cue helped."
            )
        case Refusal.TOO_LONG:
            again = "Send a shorter version, or tap Cancel." if waiting else "Please shorten it."
            return (
                f"That note is {refusal.length:,} characters; I can take up to "
                f"{MAX_CHARS:,}, so I saved nothing. {again}"
            )
        case Refusal.TOO_MANY:
            return (
                f"You have sent {PER_HOUR} notes in the last hour, which is my limit. "
                "Thank you for all of them; please send the next one a little later."
            )


def forwarded(item: FeedbackItem) -> str:
    """Plain text, sent without parse_mode: a user's `<b>` or `*` must arrive as typed."""
    if item.session_id is None:
        where = "No practice yet"
    else:
        when = "During practice" if item.during_practice else "Last practice"
        pose = item.pose or "unknown pose"
        number = "" if item.step_index is None else f"pose {item.step_index + 1}: "
        where = f"{when}: {item.class_id}, {number}{pose} (session {item.session_id})"
    return (
        f"Feedback #{item.id} from user {item.user_id}\n"
        f"{where}\n"
        f"{item.created_at:%Y-%m-%d %H:%M} UTC\n\n"
        f"{item.text}"
    )
