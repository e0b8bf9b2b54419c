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

from sequences.schema import Step

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


def class_script(steps: list[Step]) -> list[tuple[str, str, int]]:
    """Every text a class speaks: (name, words, the most seconds they may last), step by
    step its usual words and its easier ones, each limited by the step's hold."""
    script: list[tuple[str, str, int]] = []
    for step in steps:
        limit = step.hold_seconds - QUIET_AT_THE_END
        script.append((step.id, step_script(step), limit))
        script.append((f"{step.id}-easier", easier_script(step), limit))
    return script
