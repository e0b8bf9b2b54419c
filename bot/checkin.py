"""Back check-ins: a 0-10 score before the first cue and after the closing message.

The before score leads through the pain gate (bot.safety.gate) and is stored when the
practice starts (PracticeService.start); this module records the after score and reads
it with the pain-monitoring model (bot.safety.after_verdict).
"""

from __future__ import annotations

from dataclasses import dataclass

from bot.models import EventKind
from bot.programme.service import ProgrammeService
from bot.safety import AfterVerdict, after_verdict
from bot.store import Store

SCORES = range(11)


def valid_score(value: int) -> bool:
    return value in SCORES


@dataclass(frozen=True)
class AfterCheckin:
    practice_id: int
    before: int | None
    after: int
    # The user said a pose hurt during the class (It hurts, or pain words typed).
    hurt_during: bool = False

    @property
    def verdict(self) -> AfterVerdict:
        return after_verdict(self.before, self.after)


class CheckinService:
    def __init__(self, store: Store, programme: ProgrammeService | None = None) -> None:
        self._store = store
        # Told of every after-practice score: a plan asks about the next morning.
        self._programme = programme

    async def record_after(self, user_id: int, practice_id: int, score: int) -> AfterCheckin | None:
        """None when refused: a score out of range, someone else's or an unfinished
        practice, or a second answer to the same question."""
        if not valid_score(score):
            return None
        async with self._store.write() as uow:
            practice = await uow.practices.record_back_after(user_id, practice_id, score)
            hurt = practice is not None and bool(
                (await uow.practices.event_counts(practice_id)).get(EventKind.HURT)
            )
            if practice is not None and self._programme is not None:
                await self._programme.after_recorded(uow, practice)
        if practice is None:
            return None
        return AfterCheckin(practice_id, practice.back_before, score, hurt_during=hurt)
