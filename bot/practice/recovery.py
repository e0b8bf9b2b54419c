"""What a process does for practices beyond the user's presses and the timer's wake-up
(an event like any other, `HoldOver`): the start-up after a restart, each worker's sweep
for work nobody is doing (a dead worker's deadlines, cues and closing messages still owed),
a user coming back to a stalled practice, and a chat the bot can no longer reach. Every
change still goes through `apply`; the rules are machine.py's."""

from __future__ import annotations

from datetime import timedelta
from typing import NamedTuple

from bot.cues import Cue, PracticeOutcome
from bot.practice import machine
from bot.practice.core import PracticeCore, StaleAction
from bot.practice.machine import Ended, StopReason, UserBack


class Overdue(NamedTuple):
    """A practice a sweep found: its hold is over, or its cue not confirmed delivered."""

    practice_id: int
    step: int
    chat_id: int
    cue_confirmed: bool


class Recovery(PracticeCore):
    async def bring_back(self, user_id: int) -> PracticeOutcome | None:
        """The user is here again: a stalled practice of theirs goes on, with its cue.

        Only an earlier rule stalled practices (it paused one whose cue could not be sent
        after a few tries); nothing does now. So the users who have one are looked up
        once, on the first update, and every other update costs no query at all."""
        if self._stalled_users is None:
            async with self._store.peek() as uow:
                every = await uow.practices.open_states()
            self._stalled_users = {state.user_id for state in every if state.stalled}
        if user_id not in self._stalled_users:
            return None
        async with self._store.peek() as uow:
            stalled = [s for s in await uow.practices.open_states(user_id=user_id) if s.stalled]
        self._stalled_users.discard(user_id)
        if not stalled:
            return None
        try:
            return await self.apply(stalled[0].id, UserBack())
        except StaleAction:
            return None

    async def overdue(self, *, grace: timedelta, limit: int) -> list[Overdue]:
        """Practices another worker's timer should have moved on by now (their hold ended
        more than `grace` ago), and those whose cue is not confirmed delivered: what a
        worker's sweep looks at, so that a class goes on when the worker that armed its
        timer has died."""
        async with self._store.write() as uow:
            rows = await uow.practices.overdue(self._clock() - grace, limit)
        return [Overdue(*row) for row in rows]

    async def resume_all(self, *, arm_only: bool = False) -> list[PracticeOutcome]:
        """At start-up: arm a timer for every stored deadline (an overdue one fires at once,
        so the next cue arrives once, late), and send again each cue never confirmed
        delivered (machine.after_restart). A paused practice waits for the user.

        `arm_only`, for a worker among several: only the timers. Whether an unconfirmed
        cue or a closing message is still owed is decided under the chat's lock by the
        sweep, because another worker may be sending it right now."""
        outcomes: list[PracticeOutcome] = []
        async with self._store.read() as uow:
            # Oldest deadline first: overdue timers catch up in this order.
            states = sorted(
                await uow.practices.open_states(),
                key=lambda s: (s.hold_ends_at is None, s.hold_ends_at),
            )
            for state in states:
                plan = self._plan(state)
                wake = machine.after_restart(state)
                if plan is None or wake is None:
                    continue
                if isinstance(wake, machine.Arm):
                    self._timers.arm(state.id, state.step, state.chat_id, wake.at)
                elif not arm_only:
                    cue = self._cue(state, plan)
                    outcomes.append(PracticeOutcome(state.id, state.chat_id, show=cue))
            for closed in [] if arm_only else await uow.practices.owing_summary_states():
                summary = await self._summary(uow, closed)
                if summary is not None:
                    outcomes.append(PracticeOutcome(closed.id, closed.chat_id, summary=summary))
        return outcomes

    async def summaries_owed(self) -> list[tuple[int, int]]:
        """(practice id, chat id) of each closed practice whose closing message is owed."""
        async with self._store.read() as uow:
            return [(s.id, s.chat_id) for s in await uow.practices.owing_summary_states()]

    async def owed_summary(self, practice_id: int) -> PracticeOutcome | None:
        """The closing message of a practice, if it is still owed: for a caller holding the
        chat's lock, which found nobody else sending it."""
        async with self._store.read() as uow:
            closed = await uow.practices.state(practice_id)
            summary = None if closed is None else await self._summary(uow, closed)
        if closed is None or summary is None:
            return None
        return PracticeOutcome(closed.id, closed.chat_id, summary=summary)

    async def summary_shown(self, practice_id: int) -> None:
        """The closing message reached the chat: nothing is owed any more."""
        async with self._store.write() as uow:
            await uow.practices.summary_shown(practice_id)

    async def abandon_chat(self, chat_id: int) -> None:
        """End every open practice in a chat the bot can no longer reach, quietly."""
        async with self._store.read() as uow:
            open_ids = [s.id for s in await uow.practices.open_states(chat_id=chat_id)]
        for practice_id in open_ids:
            try:
                await self.apply(practice_id, Ended(StopReason.UNREACHABLE))
            except StaleAction:
                continue  # ended meanwhile

    async def on_screen(self, practice_id: int, step: int) -> Cue | None:
        """The cue as it should look now, if the practice is open and still on `step`
        (for a redraw that waited); None once it has moved on or ended."""
        async with self._store.read() as uow:
            state = await uow.practices.state(practice_id)
        plan = None if state is None else self._plan(state)
        if state is None or plan is None or not machine.shows(state, step):
            return None
        return self._cue(state, plan)

    async def current_cue(self, practice_id: int) -> Cue:
        async with self._store.read() as uow:
            state = await uow.practices.state(practice_id)
        plan = None if state is None else self._plan(state)
        if state is None or plan is None:
            raise StaleAction
        return self._cue(state, plan)
