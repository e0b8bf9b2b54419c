"""The practice as the player (the Mini App, player/) follows it: the user's practice read
as the player shows it, the player taking a practice over from the chat, its presses, its
going away, and its heartbeats, which are written a batch at a time. Every change still
goes through `apply`; the rules are machine.py's."""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta
from pathlib import Path

from bot.cues import Cue, PracticeOutcome, Summary
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
from bot.store.practice import state_of
from bot.user_settings import paced_hold, settings_in
from sequences import YogaClass

# Pictures and spoken cues are looked up by key; a key not known is looked for again
# (a cue spoken since) at most this often.
MEDIA_LOOK_EVERY = timedelta(seconds=5)


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


# A class that ended in the player is shown there as its summary for this long after.
SUMMARY_SHOWN_FOR = timedelta(minutes=10)


class Playing(PracticeCore):
    _media: dict[str, Path]
    _media_looked_at: datetime = datetime.min.replace(tzinfo=UTC)

    async def player_cue(self, practice_id: int) -> PlayerCue | None:
        """The practice as it is stored now, for the player; None when it is closed, gone,
        or its class file is."""
        async with self._store.read() as uow:
            state = await uow.practices.state(practice_id)
        return None if state is None else self._player_cue(state)

    async def open_for_player(self, user_id: int) -> PlayerCue | None:
        """The user's open practice (the latest, should there be more), for the player."""
        async with self._store.peek() as uow:
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
        outcome = await self.apply(practice_id, Press(action, user_id, step, on=Surface.PLAYER))
        if outcome.note is not None:
            # Back after it was away: heard from now, before any worker's sweep could take
            # the heartbeat written before it left for silence.
            await self.players_seen((practice_id,))
        return outcome

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

    async def ended_in_player(self, user_id: int) -> Summary | None:
        """The summary of the user's last practice, when it ended in the player a little
        while ago and no other has begun since."""
        async with self._store.read() as uow:
            latest = await uow.practices.latest_of(user_id)
            if latest is None:
                return None
            state = state_of(latest)
            if (
                state.open
                or not state.in_player
                or state.finished_at is None
                or self._clock() - state.finished_at > SUMMARY_SHOWN_FOR
            ):
                return None
            return await self._summary(uow, state, owed_only=False)

    async def class_ahead(self, user_id: int) -> tuple[YogaClass, int, int]:
        """The class a start would run, with its minutes and poses at the user's settings."""
        yoga_class = self.default_class
        async with self._store.read() as uow:
            settings = await settings_in(uow, user_id)
        steps = yoga_class.steps_for(settings.class_length.value)
        seconds = sum(paced_hold(step.hold_seconds, settings.pace_factor) for step in steps)
        return yoga_class, round(seconds / 60), len(steps)

    def media(self, key: str) -> Path | None:
        """The file of a picture or spoken cue of the catalog's classes, by its key."""
        path = self._media.get(key)
        if path is None and self._clock() >= self._media_looked_at + MEDIA_LOOK_EVERY:
            # A spoken cue rendered since the last look, or a key that names nothing: the
            # catalog is looked through again, at most every MEDIA_LOOK_EVERY.
            self._media_looked_at = self._clock()
            for yoga_class in self._catalog.values():
                for step in yoga_class.steps:
                    for easier in (False, True):
                        for found in (
                            self._pictures.for_step(step, easier=easier),
                            self._sounds.for_step(step, easier=easier),
                        ):
                            if found is not None:
                                self._media[found.key] = found.path
            path = self._media.get(key)
        return path

    def _player_cue(self, state: PracticeState) -> PlayerCue | None:
        plan = self._plan(state)
        if plan is None or not state.open:
            return None
        cue = self._cue(state, plan)
        # The player always speaks (it has its own mute): the Voice setting is about sending
        # the chat's cues as audio messages.
        cue = replace(cue, sound=self._sound(state, cue.pose, spoken=True))
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
