"""What a practice remembers about each pose from the user's earlier practices.

One rule set, decided when a practice starts and kept with it, so a restart or a later
change to the history never changes what the class shows mid-way.

- A pose that hurt (It hurts, or pain words typed during it) the last time the user met
  it is shown in its easier version from the start, with a line saying why. Only the last
  time counts: a pose that went well since is back to its usual version.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from bot.models import EventKind

# Earlier practices of the same class looked at; the last one that reached a pose decides.
LOOK_BACK = 10


@dataclass(frozen=True)
class PastEvent:
    practice_id: int
    step_id: str
    kind: EventKind


def easier_from_start(events: Iterable[PastEvent]) -> set[str]:
    """Step ids to show in their easier version because they hurt the last time.

    `events` come from earlier practices, newest practice first (ids decide the order)."""
    by_practice: dict[int, dict[str, set[EventKind]]] = {}
    for event in events:
        by_practice.setdefault(event.practice_id, {}).setdefault(event.step_id, set()).add(
            event.kind
        )
    decided: dict[str, bool] = {}
    for practice_id in sorted(by_practice, reverse=True):
        for step_id, kinds in by_practice[practice_id].items():
            # The newest practice that reached the pose (showed it) decides.
            if step_id not in decided and EventKind.SHOWN in kinds:
                decided[step_id] = EventKind.HURT in kinds
    return {step_id for step_id, hurt in decided.items() if hurt}


def pack(step_ids: Iterable[str]) -> str:
    """The stored form: step ids are slugs, so a comma cannot occur in one."""
    return ",".join(sorted(step_ids))


def unpack(stored: str) -> frozenset[str]:
    return frozenset(filter(None, stored.split(",")))
