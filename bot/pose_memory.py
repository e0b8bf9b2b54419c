"""What a practice remembers about each pose from the user's earlier practices.

One rule set, decided when a practice starts and kept with it, so a restart or a later
change to the history never changes what the class shows mid-way.

- **It hurt last time.** A pose that hurt (It hurts, or pain words typed during it) the
  last time the user met it is shown in its easier version from the start, with a line
  saying why, whatever the easier-options setting. Only the last time counts: a pose that
  went well since is back to its usual version.
- **Remembered easier options** (the default setting). A pose the user chose in its
  easier version in at least two of the last three practices that reached it is shown
  that way from the start, with a line saying so ("You often choose this one"). A
  practice counts as the user's choice for a pose when the version on screen at the end
  was the easier one because of them: revealed with Easier option, or shown from the
  start as remembered and kept (Usual version takes it back, so the memory can fade).
  An easier version the user did not choose — a gentle practice's, one shown because the
  pose hurt the time before, or every pose under Always — is not their choice.
- **Always**: every pose in its easier version. **As I ask**: only the first rule.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

from bot.models import EasierMode, EasierReason, EventKind
from bot.practice.machine import TOGGLES

# Earlier practices of the same class looked at.
LOOK_BACK = 10
# "At least two of the last three practices that reached it".
REMEMBER_OF_LAST = 3
REMEMBER_WHEN = 2


@dataclass(frozen=True)
class PastEvent:
    practice_id: int
    step_id: str
    kind: EventKind


@dataclass(frozen=True)
class PastPractice:
    """An earlier practice of the class: what it showed easier from the start, and its
    step events in the order they happened."""

    id: int
    easier_from_start: dict[str, EasierReason] = field(default_factory=dict)
    events: Sequence[PastEvent] = ()

    def reached(self, step_id: str) -> bool:
        return any(e.step_id == step_id and e.kind == EventKind.SHOWN for e in self.events)

    def hurt(self, step_id: str) -> bool:
        return any(e.step_id == step_id and e.kind == EventKind.HURT for e in self.events)

    def chose_easier(self, step_id: str) -> bool:
        """The easier version was on screen when the pose ended, by the user's choice."""
        toggles = [e.kind for e in self.events if e.step_id == step_id and e.kind in TOGGLES]
        if toggles:
            return toggles[-1] == EventKind.EASIER
        return self.easier_from_start.get(step_id) == EasierReason.REMEMBERED


def decide(
    past: Iterable[PastPractice], step_ids: Iterable[str], mode: EasierMode
) -> dict[str, EasierReason]:
    """The steps to show in their easier version from the start, and why."""
    newest_first = sorted(past, key=lambda p: p.id, reverse=True)
    decided: dict[str, EasierReason] = {}
    for step_id in step_ids:
        reached = [p for p in newest_first if p.reached(step_id)]
        if reached and reached[0].hurt(step_id):
            decided[step_id] = EasierReason.HURT_LAST_TIME
        elif mode == EasierMode.ALWAYS:
            decided[step_id] = EasierReason.ALWAYS
        elif mode == EasierMode.REMEMBERED:
            recent = reached[:REMEMBER_OF_LAST]
            if sum(p.chose_easier(step_id) for p in recent) >= REMEMBER_WHEN:
                decided[step_id] = EasierReason.REMEMBERED
    return decided


def pack(decided: dict[str, EasierReason]) -> str:
    """The stored form, "step-id=reason,…": step ids are slugs, so neither separator can
    occur in one."""
    return ",".join(f"{step_id}={reason.value}" for step_id, reason in sorted(decided.items()))


def unpack(stored: str) -> dict[str, EasierReason]:
    decided: dict[str, EasierReason] = {}
    for item in filter(None, stored.split(",")):
        step_id, _, reason = item.partition("=")
        # A bare id is the first stored form, written when only pain was remembered.
        decided[step_id] = EasierReason(reason) if reason else EasierReason.HURT_LAST_TIME
    return decided
