"""Stand-ins for the ports a service talks through, for tests of the services alone."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime


@dataclass(frozen=True)
class Armed:
    step: int
    chat_id: int
    at: datetime


class FakeTimers:
    """Records what the practice service asked of its timers; nothing ever fires."""

    def __init__(self) -> None:
        self.armed: dict[int, Armed] = {}
        self.cancelled: list[int] = []

    def arm(self, practice_id: int, step: int, chat_id: int, at: datetime) -> None:
        self.armed[practice_id] = Armed(step, chat_id, at)

    def cancel(self, practice_id: int) -> None:
        self.armed.pop(practice_id, None)
        self.cancelled.append(practice_id)
