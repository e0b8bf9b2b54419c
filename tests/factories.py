"""Small objects for tests: a three-pose class with one-minute holds."""

from __future__ import annotations

from sequences import Step, YogaClass


def make_class(class_id: str = "tiny-class", holds: tuple[int, ...] = (60, 60, 60)) -> YogaClass:
    steps = [
        Step(
            id=f"pose-{n}",
            pose=f"Pose {n}",
            side="right side" if n == 2 else None,
            cues=[f"Inhale, lengthen into pose {n}.", "Exhale, soften the shoulders."],
            hold_seconds=hold,
            easier=f"Easier pose {n}: keep the knees down.",
            props=[],
        )
        for n, hold in enumerate(holds, start=1)
    ]
    return YogaClass(
        id=class_id,
        title="Tiny Class",
        teacher="Test Teacher",
        level="gentle",
        total_minutes=round(sum(holds) / 60),
        props_needed=[],
        safety_note="Stop if anything hurts.",
        steps=steps,
    )
