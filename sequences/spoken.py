"""What is spoken for a step: written for the ear, not read off the caption.

The pose's name and its side, then the cues in the teacher's order, then the hold; each
sentence its own, so the voice takes a breath between them (bot/voice.py). A step's
`spoken:` replaces the derived words where they read badly aloud. The easier version is
spoken on its own, short, as the teacher would offer it.
"""

from __future__ import annotations

from sequences.schema import Step

# About one slow breath in, one out.
SECONDS_PER_BREATH = 8


def step_script(step: Step) -> str:
    """Everything said as the step begins."""
    if step.spoken is not None:
        return step.spoken
    name = f"{step.pose}, {step.side}." if step.side else f"{step.pose}."
    return " ".join([name, *(_sentence(cue) for cue in step.cues), hold_sentence(step)])


def easier_script(step: Step) -> str:
    """What is said when the easier version is chosen."""
    return f"An easier way. {_sentence(step.easier)}"


def hold_sentence(step: Step) -> str:
    """How long to stay, as a teacher says it: in breaths, roughly."""
    breaths = max(2, round(step.hold_seconds / SECONDS_PER_BREATH))
    if breaths <= 4:
        return "Stay for a few breaths."
    if breaths <= 7:
        return "Stay for about five breaths."
    return "Stay here, and keep breathing slowly."


def _sentence(text: str) -> str:
    text = text.strip()
    return text if text.endswith((".", "!", "?")) else f"{text}."


# A step's words end at least this long before its hold does: time to settle in the pose.
QUIET_AT_THE_END = 10


def class_script(steps: list[Step]) -> list[tuple[str, str, int | None]]:
    """Every text a class speaks: (name, words, the most seconds they may last), the
    step's own words limited by its hold, its easier words not (said when chosen)."""
    script: list[tuple[str, str, int | None]] = []
    for step in steps:
        script.append((step.id, step_script(step), step.hold_seconds - QUIET_AT_THE_END))
        script.append((f"{step.id}-easier", easier_script(step), None))
    return script
