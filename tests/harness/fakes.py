"""Stand-ins for the ports a service talks through, for tests of the services alone."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from datetime import datetime

from bot.account import CopyRemoval
from bot.store.feedback import Copy


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


class FakeTeamChat:
    """The team's chat as /forget_me meets it: records each copy it is asked to delete and
    answers what the test set for that chat (deleted, by default), or never answers."""

    def __init__(self) -> None:
        self.asked: list[Copy] = []
        self.answers: dict[int, CopyRemoval] = {}
        self.hang = False

    async def remove(self, copy: Copy) -> CopyRemoval:
        self.asked.append(copy)
        if self.hang:
            await asyncio.Event().wait()
        return self.answers.get(copy.chat_id, CopyRemoval.GONE)
