"""Back check-ins: a 0-10 score before the first cue and after the closing message.

The before score is stored when the practice starts (PracticeService.start); this module
records the after score and decides whether the change deserves a note to rest.
"""

from __future__ import annotations

from dataclasses import dataclass

from bot.store import Store

SCORES = range(11)
# A rise this large is more than ordinary stiffness after moving; say so, once, plainly.
RISE_WORTH_A_NOTE = 3


def valid_score(value: int) -> bool:
    return value in SCORES


def rose_notably(before: int | None, after: int | None) -> bool:
    return before is not None and after is not None and after - before >= RISE_WORTH_A_NOTE


@dataclass(frozen=True)
class AfterCheckin:
    practice_id: int
    before: int | None
    after: int

    @property
    def needs_rest_note(self) -> bool:
        return rose_notably(self.before, self.after)


class CheckinService:
    def __init__(self, store: Store) -> None:
        self._store = store

    async def record_after(self, user_id: int, practice_id: int, score: int) -> AfterCheckin | None:
        """None when refused: a score out of range, someone else's or an unfinished
        practice, or a second answer to the same question."""
        if not valid_score(score):
            return None
        async with self._store.write() as uow:
            practice = await uow.practices.record_back_after(user_id, practice_id, score)
        if practice is None:
            return None
        return AfterCheckin(practice_id, practice.back_before, score)
