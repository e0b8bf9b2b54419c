"""The red-flag screen (bot.safety): its question, the follow-up about the emergency
signs, the answers, the reminder on a rest day, and /safety.

The bot is not a clinician: it names the signs, says who should look at them, and never
says what they mean. Each message is read on a mat, in a few seconds.
"""

from __future__ import annotations

from datetime import date

from telegram import InlineKeyboardButton, InlineKeyboardMarkup

from bot.emergency import UNKNOWN, EmergencyNumber, whom_to_call
from bot.models import ScreenAnswer
from bot.safety import EMERGENCY_SIGNS, OTHER_SIGNS, ScreenState, ScreenStatus
from handlers.buttons import SafetyButton, SafetyChoice
from handlers.render import Reply, plain

QUESTION = "Before we start: do any of these apply to you?"
# The same question outside the way into a class (/safety).
ASKED_AGAIN = "Do any of these apply to you?"
ALREADY_CHECKED = (
    "If a clinician has already checked this and said gentle exercise is fine, "
    "choose None of these."
)
NOT_ADVICE = "I'm not a clinician, and this is not medical advice."
# The screen asked again on a later day, after a sign was reported.
SIGN_REPORTED = (
    "On {day} you told me about a sign that needs a doctor. Only if a doctor or "
    "physiotherapist has checked you since, and said exercise is OK, choose None of these."
)
FOLLOW_UP = "Is it one of these?"

NONE_OF_THESE = "None of these"
I_HAVE_ONE = "I have one of these"
YES_EMERGENCY = "Yes, one of these"
NO_SOMETHING_ELSE = "No, something else"
ANSWER_AGAIN = "Answer again"

URGENT = (
    "Please get urgent medical care now: {call}.\n\n"
    "These signs need a doctor now, so there is no class today. Take care."
)
SEE_CLINICIAN = (
    "Thank you for telling me. Please see a doctor or physiotherapist before you start "
    "these classes.\n\n"
    "For today, rest, or lie in a comfortable position and breathe slowly. Once a "
    "clinician has seen you, send /safety to answer again."
)
# The answered screen keeps a line of what was confirmed.
CLEARED = "You told me you have none of these signs today. Thank you."
READY_WHEN_YOU_ARE = "Send /start_practice when you're ready."
REST_TODAY = (
    "Today is for rest. Please see a doctor or physiotherapist about what you told me "
    "before you practise. Tapped it by mistake? Answer again below."
)

# The stored answer as /safety and /mydata name it.
ANSWER_WORDS = {
    ScreenAnswer.CLEAR: NONE_OF_THESE,
    ScreenAnswer.SEE_CLINICIAN: "a sign to see a clinician about",
    ScreenAnswer.URGENT: "an emergency sign",
}


def _bullets(signs: tuple[str, ...]) -> list[str]:
    return [f"• {sign}" for sign in signs]


def _keyboard(start: bool, *labelled: tuple[str, SafetyChoice]) -> InlineKeyboardMarkup:
    return InlineKeyboardMarkup(
        [
            [InlineKeyboardButton(label, callback_data=SafetyButton(choice, start).pack())]
            for label, choice in labelled
        ]
    )


def screen(start: bool, sign_reported_on: date | None = None) -> Reply:
    """The screen; with `start`, answering None of these goes on to the class. Asked
    again after a sign reported on an earlier day, it says so first."""
    signs = _bullets(EMERGENCY_SIGNS + OTHER_SIGNS)
    question = QUESTION if start else ASKED_AGAIN
    earlier = []
    if sign_reported_on is not None:
        day = f"{sign_reported_on.day} {sign_reported_on:%b}"
        earlier = [SIGN_REPORTED.format(day=day), ""]
    text = "\n".join([*earlier, question, *signs, "", ALREADY_CHECKED, NOT_ADVICE])
    keyboard = _keyboard(start, (NONE_OF_THESE, SafetyChoice.NONE), (I_HAVE_ONE, SafetyChoice.SOME))
    return plain(text, keyboard)


def follow_up(start: bool) -> Reply:
    """After I have one of these: only the emergency signs, to tell urgent from the rest."""
    text = "\n".join([FOLLOW_UP, *_bullets(EMERGENCY_SIGNS)])
    keyboard = _keyboard(
        start, (YES_EMERGENCY, SafetyChoice.URGENT), (NO_SOMETHING_ELSE, SafetyChoice.OTHER)
    )
    return plain(text, keyboard)


def urgent(emergency: EmergencyNumber = UNKNOWN) -> Reply:
    return plain(URGENT.format(call=whom_to_call(emergency)))


def see_clinician() -> Reply:
    return plain(SEE_CLINICIAN)


def cleared(start: bool) -> Reply:
    """None of these; on the way into a class the class follows, so nothing more is said."""
    return plain(CLEARED if start else f"{CLEARED} {READY_WHEN_YOU_ARE}")


def rest_today(status: ScreenStatus, emergency: EmergencyNumber = UNKNOWN) -> Reply:
    """A new practice asked for on the day a sign was reported (a *_TODAY status)."""
    if status == ScreenStatus.URGENT_TODAY:
        return urgent(emergency)
    # In case the sign was tapped by mistake: the screen again, on the way into the class.
    return plain(REST_TODAY, _keyboard(True, (ANSWER_AGAIN, SafetyChoice.AGAIN)))


def last_answer(state: ScreenState) -> str | None:
    """The stored answer and the user's day it was given; None before the first answer."""
    if state.answer is None or state.answered_on is None:
        return None
    day = state.answered_on
    return f"Last answer: {ANSWER_WORDS[state.answer]}, on {day.day} {day:%b}."


def safety_screen(state: ScreenState) -> Reply:
    """/safety: the screen, under the answer already stored, if any."""
    reply = screen(start=False)
    told = last_answer(state)
    return reply if told is None else plain(f"{told}\n\n{reply.text}", reply.markup)
