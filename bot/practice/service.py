"""The practice service: every change to a practice is `apply(practice_id, event)`
(core.py), decided by the rules in machine.py; the way into a class is way_in.py's, and
what a process does after a restart or for a lost worker is recovery.py's.

Plain Python over the store; it never talks to Telegram. It arms and cancels each
practice's timer itself, through the `Timers` port, and returns `PracticeOutcome`s: what
the chat should now show.
"""

from __future__ import annotations

from bot.cues import Cue, Heard, MessageRef, PracticeOutcome, Summary
from bot.practice.core import NoTimers, PracticePaused, StaleAction, Timers
from bot.practice.machine import PainTyped
from bot.practice.player import PlayerCue, Playing
from bot.practice.recovery import Overdue, Recovery
from bot.practice.way_in import WaysIn
from bot.safety import PainSignal, pain_in

__all__ = [
    "Cue",
    "MessageRef",
    "NoTimers",
    "Overdue",
    "PlayerCue",
    "PracticeOutcome",
    "PracticePaused",
    "PracticeService",
    "StaleAction",
    "Summary",
    "Timers",
]


class PracticeService(WaysIn, Recovery, Playing):
    async def heard(self, user_id: int, text: str) -> PracticeOutcome | Heard:
        """Typed words: pain words during a practice ask the It hurts question about the
        pose now on screen; anything else only needs a reply."""
        async with self._store.read() as uow:
            opened = await uow.practices.open_states(user_id=user_id)
        signal = pain_in(text)
        if signal is None:
            return Heard.DURING_PRACTICE if opened else Heard.CHAT
        opened = [state for state in opened if self._plan(state) is not None]
        if not opened:
            return Heard.PAIN_OUTSIDE_PRACTICE
        event = PainTyped(user_id, nerve=signal == PainSignal.NERVE)
        try:
            return await self.apply(opened[-1].id, event)
        except StaleAction:
            return Heard.PAIN_OUTSIDE_PRACTICE  # it ended meanwhile
