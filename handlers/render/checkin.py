"""The back check-in: its question, its 0-10 buttons, the pain gate, and the replies to an
answer after practice (read with the pain-monitoring model, bot.safety)."""

from __future__ import annotations

from collections.abc import Callable

from telegram import InlineKeyboardButton, InlineKeyboardMarkup

from bot.checkin import SCORES
from bot.safety import AfterVerdict, Gate
from handlers.buttons import Button, CheckinAfter, CheckinBefore, GateChoice, PainGateButton
from handlers.render import Reply, html, plain

BEFORE_QUESTION = (
    "How does your back feel right now?\n0 is no discomfort, 10 the worst you can imagine."
)
AFTER_QUESTION = "And now, after practice: how does your back feel? 0 to 10."
ALREADY_ANSWERED = "This check-in is already answered."
REST_NOTE = (
    "Your back feels more tender than before you began. Rest today and keep any movement "
    "gentle. If it stays like this for more than a few days, please see a doctor or "
    "physiotherapist. Next time I'll offer the gentle practice first."
)
HIGH_AFTER_NOTE = (
    "That's more than a little sore. Rest today and keep any movement gentle. If it stays "
    "like this for more than a few days, please see a doctor or physiotherapist. Next time "
    "I'll offer the gentle practice first."
)
NOT_TODAY = (
    "That's fine. Rest is part of practice too. Move gently, keep warm, and come back "
    "whenever you like: /start_practice"
)

# Pain gate copy by band (bot.safety.gate): 6-7 a sore day, 8-10 rest is recommended.
GATE_TEXT = {
    Gate.SUGGEST_GENTLE: (
        "Last time your back felt worse afterwards. How about the gentle practice today? "
        "It is the short class, every pose in its easier version."
    ),
    Gate.SORE_DAY: (
        "That's a sore day. The gentle practice is the short class, every pose in its "
        "easier version. Or rest today: that's fine too."
    ),
    Gate.REST_DAY: (
        "That's a lot of pain. Today, rest and gentle movement are best, like a short walk "
        "or lying with your knees bent. If this pain is new or unusual for you, please see "
        "a doctor or physiotherapist."
    ),
}


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


def gentle_begun(score: int | None) -> str:
    told = f"Your back before practice: {score}/10. " if score is not None else ""
    return f"{told}Gentle practice: the short class, every pose in its easier version."


def usual_begun(score: int | None) -> str:
    return before_answered(score)


def after_answered(score: int | None, before: int | None = None) -> str:
    if score is None:
        return "Check-in skipped. Rest well."
    compared = f" (before: {before}/10)" if before is not None else ""
    return f"Your back after practice: {score}/10{compared}. Thank you for checking in."


def answered_before(score: int | None) -> Reply:
    return plain(before_answered(score))


def pain_gate(gate: Gate, score: int | None) -> Reply:
    """The choice after the check-in, for every band but a plain begin."""

    def button(label: str, choice: GateChoice) -> InlineKeyboardButton:
        return InlineKeyboardButton(label, callback_data=PainGateButton(choice, score=score).pack())

    if gate == Gate.SUGGEST_GENTLE:
        rows = [
            [button("Gentle practice", GateChoice.GENTLE)],
            [button("Usual practice", GateChoice.USUAL)],
        ]
    else:
        gentle = "Gentle practice anyway" if gate == Gate.REST_DAY else "Gentle practice"
        rows = [[button(gentle, GateChoice.GENTLE)], [button("Not today", GateChoice.NOT_TODAY)]]
    told = f"Your back: {score}/10.\n" if score is not None else ""
    return html(f"{told}{GATE_TEXT[gate]}", InlineKeyboardMarkup(rows))


def gate_answered(choice: GateChoice, score: int | None) -> Reply:
    if choice == GateChoice.GENTLE:
        return plain(gentle_begun(score))
    if choice == GateChoice.USUAL:
        return plain(usual_begun(score))
    return plain(NOT_TODAY)


def answered_after(score: int | None, before: int | None = None) -> Reply:
    return plain(after_answered(score, before))


HURT_DURING_NOTE = (
    "Thank you. Something hurt during the class, so go gently today. If it doesn't settle "
    "by tomorrow, please see a doctor or physiotherapist."
)


def after_note(
    verdict: AfterVerdict, before: int | None, after: int, *, hurt_during: bool = False
) -> Reply:
    """A word after the after-check-in: praise when it went down, a kind word when it stayed
    within what is fine, and the rest-and-clinician note when it is worse. After a class in
    which something hurt, no praise: the scores alone do not say the back took it well."""
    if hurt_during and verdict != AfterVerdict.WORSE:
        return plain(HURT_DURING_NOTE)
    if verdict == AfterVerdict.BETTER:
        return plain("Your back feels easier than before you began. Lovely work 🌿")
    if verdict == AfterVerdict.FINE:
        if after <= 3:
            return plain("Good. Your back took that well.")
        return plain("A little soreness after moving is fine, as long as it settles by tomorrow.")
    rose = before is not None and after - before >= 3
    return plain(REST_NOTE if rose else HIGH_AFTER_NOTE)
