"""What is spoken for a step: written for the ear, not read off the caption.

The pose's name and its side, then the cues in the teacher's order, then the hold; each
sentence its own, so the voice takes a breath between them (bot/voice.py). A step's
`spoken:` replaces the derived words where they read badly aloud.

The easier version is a cue of its own, spoken in place of the usual words whenever the
cue shows it (chosen, or shown from the start): the pose's name and side, the easier way,
and the hold, which starts afresh with it. Both are said as the hold begins, so both must
end QUIET_AT_THE_END before it does.
"""

from __future__ import annotations

from sequences.schema import Step, YogaClass

# About one slow breath in, one out.
SECONDS_PER_BREATH = 8
# How the easier version is offered, after the pose's name.
EASIER_WAY = "An easier way."


def step_script(step: Step) -> str:
    """Everything said as the step begins."""
    if step.spoken is not None:
        return step.spoken
    return " ".join([_name(step), *(_sentence(cue) for cue in step.cues), hold_sentence(step)])


def easier_script(step: Step) -> str:
    """Everything said as the step begins in its easier version, instead of its usual
    words: the easier way on its own, as the teacher offers it, and the hold."""
    return " ".join([_name(step), EASIER_WAY, _sentence(step.easier), hold_sentence(step)])


def intro_script(yoga_class: YogaClass) -> str:
    """What is said before the first pose: the class, and the one rule of a gentle class."""
    return (
        f"{_sentence(yoga_class.title)} With {yoga_class.teacher}. Have your mat ready."
        " Move slowly, and stop if anything hurts."
    )


def closing_script() -> str:
    """What is said as the class ends, while the last pose rests."""
    return (
        "That is the end of the class. Rest here for as long as you like. Thank you for practising."
    )


def hold_sentence(step: Step) -> str:
    """How long to stay, as a teacher says it: in breaths, roughly."""
    breaths = max(2, round(step.hold_seconds / SECONDS_PER_BREATH))
    if breaths <= 4:
        return "Stay for a few breaths."
    if breaths <= 7:
        return "Stay for about five breaths."
    return "Stay here, and keep breathing slowly."


def _name(step: Step) -> str:
    return f"{step.pose}, {step.side}." if step.side else f"{step.pose}."


def _sentence(text: str) -> str:
    text = text.strip()
    return text if text.endswith((".", "!", "?")) else f"{text}."


# A step's words end at least this long before its hold does: time to settle in the pose.
QUIET_AT_THE_END = 10
