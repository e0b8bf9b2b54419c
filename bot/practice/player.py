"""The practice as the player (the Mini App, player/) follows it: the user's practice read
as the player shows it, the player taking a practice over from the chat, its presses, its
going away, and its heartbeats, which are written a batch at a time. Every change still
goes through `apply`; the rules are machine.py's."""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass
from datetime import timedelta

from bot.cues import Cue, PracticeOutcome
from bot.practice import machine
from bot.practice.core import PracticeCore, StaleAction
from bot.practice.machine import (
    Action,
    NoteSent,
    Play,
    PlayerAway,
    PracticeQuestion,
    PracticeState,
    PracticeStatus,
    Press,
    Surface,
)


@dataclass(frozen=True)
class PlayerCue:
    """An open practice as the player shows it: the cue, and its clock in wall-clock
    seconds (what the player counts down), with the version it was read at."""

    cue: Cue
    version: int
    status: PracticeStatus
    question: PracticeQuestion | None
    surface: Surface
    # Seconds of the current hold, with the time added, and what is left of it.
    hold: float
    left: float
    # The usual version may be taken back (an easier version shown, not a gentle practice).
    can_take_back: bool


class Playing(PracticeCore):
    async def player_cue(self, practice_id: int) -> PlayerCue | None:
        """The practice as it is stored now, for the player; None when it is closed, gone,
        or its class file is."""
        async with self._store.read() as uow:
            state = await uow.practices.state(practice_id)
        return None if state is None else self._player_cue(state)

    async def open_for_player(self, user_id: int) -> PlayerCue | None:
        """The user's open practice (the latest, should there be more), for the player."""
        async with self._store.read() as uow:
            opened = await uow.practices.open_states(user_id=user_id)
        for state in reversed(opened):
            shown = self._player_cue(state)
            if shown is not None:
                return shown
        return None

    async def owner_of(self, practice_id: int) -> int | None:
        async with self._store.read() as uow:
            state = await uow.practices.state(practice_id)
        return None if state is None else state.user_id

    async def play(self, user_id: int, practice_id: int) -> PracticeOutcome:
        """The player takes the practice over (or is back on it). StaleAction when it is
        not the user's or is closed."""
        outcome = await self.apply(practice_id, Play(user_id))
        await self.players_seen((practice_id,))
        return outcome

    async def press_in_player(
        self, user_id: int, practice_id: int, step: int, action: Action
    ) -> PracticeOutcome:
        return await self.apply(practice_id, Press(action, user_id, step, on=Surface.PLAYER))

    async def player_away(self, practice_id: int) -> PracticeOutcome | None:
        """The player was closed or hidden: the practice pauses there (once)."""
        try:
            return await self.apply(practice_id, PlayerAway())
        except StaleAction:
            return None

    async def note_sent(self, practice_id: int, message_id: int) -> PracticeOutcome | None:
        try:
            return await self.apply(practice_id, NoteSent(message_id))
        except StaleAction:
            return None

    async def players_seen(self, practice_ids: Collection[int]) -> None:
        """Their players were heard from just now (one write for them all)."""
        async with self._store.write() as uow:
            await uow.practices.players_seen(practice_ids, self._clock())

    async def silent_players(self, silent_for: timedelta, limit: int = 500) -> list[int]:
        """Practices in a player not heard from for `silent_for`."""
        async with self._store.read() as uow:
            return await uow.practices.silent_players(self._clock() - silent_for, limit)

    def _player_cue(self, state: PracticeState) -> PlayerCue | None:
        plan = self._plan(state)
        if plan is None or not state.open:
            return None
        cue = self._cue(state, plan)
        hold = plan.clock(machine.hold_seconds(state, plan)).total_seconds()
        return PlayerCue(
            cue=cue,
            version=state.version,
            status=state.status,
            question=state.question,
            surface=state.surface,
            hold=hold,
            left=min(hold, machine.seconds_left(state, self._clock())),
            can_take_back=cue.easier_shown and not state.gentle,
        )
