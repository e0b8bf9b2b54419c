"""A red-flag sign pauses the user's plan (NHS red flags; NICE NG59 1.1.1: serious causes
are thought of before exercise goes on). Apart from the service, so the safety service can
write the pause in its own unit of work."""

from __future__ import annotations

from datetime import datetime

from bot.models import ProgrammeEventKind, ScreenAnswer
from bot.programme.rules import PauseWhy
from bot.store import UnitOfWork


async def pause_for_sign(uow: UnitOfWork, user_id: int, answer: ScreenAnswer, at: datetime) -> None:
    """An active plan pauses on a sign; a clear answer changes nothing (a resume is the
    user's own choice, in /plan)."""
    if answer == ScreenAnswer.CLEAR or await uow.plans.active(user_id) is None:
        return
    why = PauseWhy.URGENT if answer == ScreenAnswer.URGENT else PauseWhy.CLINICIAN
    await uow.plans.add_event(user_id, ProgrammeEventKind.PAUSED, at, value=why.value)
