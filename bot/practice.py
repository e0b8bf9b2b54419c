"""The practice service: which cue comes next, when, and what is recorded.

Plain Python over the store; it never talks to Telegram. Every user action names the step
it was made on, and the service refuses it unless that step is still the current one.
After every change it arms or cancels the practice's timer itself, through the `Timers`
port, and returns one `PracticeOutcome` saying what the chat should now show.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Protocol

from bot.clock import Clock
from bot.models import OPEN_STATUSES, EventKind, Practice, PracticeStatus
from bot.store import Store, StoreUnavailable, UnitOfWork
from sequences import Step, YogaClass

# A timer may fire a hair before its deadline; anything this close counts as due.
DUE_TOLERANCE = timedelta(milliseconds=5)
# A conditional update misses only when the row changed since it was read; a few fresh
# reads settle any race between a timer, a button and a cue being confirmed.
MAX_ATTEMPTS = 5
# A cue that Telegram did not take is sent again after these pauses (seconds); after the
# last one the practice pauses until the user is back, so no pose is ever skipped unseen.
CUE_RETRY_DELAYS = (1.0, 2.0, 4.0, 8.0)
# When the database did not record a delivered cue, look at the practice again this soon.
STORE_RETRY = timedelta(seconds=2)
# A cue send that has neither succeeded nor failed this long after its hold ended is taken
# as lost (the rate limiter may hold a send through a few 429s, so this is generous).
SEND_GRACE = timedelta(seconds=60)

log = logging.getLogger(__name__)


class StaleAction(Exception):
    """The button belongs to a pose that is over, or to someone else's practice."""


class Timers(Protocol):
    """Wake-ups for deadlines. A timer is disposable: the deadline itself is a column, and
    a timer that fires for a step that is over does nothing."""

    def arm(self, practice_id: int, step: int, chat_id: int, at: datetime) -> None:
        """Fire `advance_if_due(practice_id, step)` at `at`, replacing any earlier timer."""

    def cancel(self, practice_id: int) -> None: ...


@dataclass(frozen=True)
class Cue:
    """What is shown for a step now."""

    practice_id: int
    step: int
    total: int
    pose: Step
    hold_seconds: float
    easier_shown: bool = False
    paused: bool = False


@dataclass(frozen=True)
class Summary:
    class_title: str
    status: PracticeStatus
    minutes: int
    poses_done: int
    total_poses: int
    easier_used: int
    # Only a finished class asks how the back feels afterwards; a stopped one may hurt.
    ask_after: bool = False


@dataclass(frozen=True)
class MessageRef:
    chat_id: int
    message_id: int


@dataclass(frozen=True)
class PracticeOutcome:
    """What a change means for the chat: messages whose buttons go, the pressed cue drawn
    again, a new cue to send (and then confirm), and the summary once the practice ends."""

    practice_id: int
    chat_id: int
    retire: tuple[MessageRef, ...] = ()
    redraw: Cue | None = None
    show: Cue | None = None
    summary: Summary | None = None


@dataclass(frozen=True)
class _Change:
    """A change made inside a unit of work, and what the timer must do once it is stored."""

    outcome: PracticeOutcome
    # (step, deadline) for the timer to arm, or cancel it: the practice no longer runs.
    arm: tuple[int, datetime] | None = None
    cancel: bool = False


_Attempt = Callable[[UnitOfWork, Practice, YogaClass | None], Awaitable[_Change | None]]


class NoTimers:
    """For processes that never run a practice (the command line's reports)."""

    def arm(self, practice_id: int, step: int, chat_id: int, at: datetime) -> None:
        raise RuntimeError("this process runs no practice timers")

    def cancel(self, practice_id: int) -> None:
        raise RuntimeError("this process runs no practice timers")


class PracticeService:
    def __init__(
        self,
        store: Store,
        catalog: dict[str, YogaClass],
        clock: Clock,
        timers: Timers,
        time_scale: float = 1.0,
    ) -> None:
        if not catalog:
            raise ValueError("the catalog has no class")
        self._store = store
        self._catalog = catalog
        self._clock = clock
        self._timers = timers
        self._scale = time_scale
        # Cues Telegram took while the database could not record it: recorded when the
        # practice's timer looks again (this process's timer, so this process's memory).
        self._unrecorded: dict[int, tuple[Cue, int, int]] = {}

    @property
    def default_class(self) -> YogaClass:
        return next(iter(self._catalog.values()))

    def hold_of(self, step: Step) -> float:
        return step.hold_seconds * self._scale

    # -- what the user does ----------------------------------------------------------------

    async def start(
        self,
        user_id: int,
        chat_id: int,
        first_name: str,
        class_id: str | None = None,
        *,
        back_before: int | None = None,
        checkin_message_id: int | None = None,
    ) -> PracticeOutcome:
        """Begin a class and close the user's other open practices, in one unit of work;
        a check-in message starts at most one (StaleAction on a repeat)."""
        yoga_class = self._catalog[class_id] if class_id else self.default_class
        first = yoga_class.steps[0]
        now = self._clock()
        deadline = now + timedelta(seconds=self.hold_of(first))
        async with self._store.write() as uow:
            await uow.users.save(user_id, chat_id, first_name, now)
            practice = await uow.practices.create(
                user_id=user_id,
                chat_id=chat_id,
                class_id=yoga_class.id,
                now=now,
                hold_ends_at=deadline,
                back_before=back_before,
                checkin_message_id=checkin_message_id,
            )
            if practice is None:
                raise StaleAction
            # Locked as they are read, so no timer moves them on before they are closed.
            opened = await uow.practices.open_of(user_id, lock=True)
            replaced = [other for other in opened if other.id != practice.id]
            for other in replaced:
                await self._close(uow, other, PracticeStatus.STOPPED, skipped=False)
        for other in replaced:
            self._timers.cancel(other.id)
        self._timers.arm(practice.id, 0, chat_id, deadline)
        return PracticeOutcome(
            practice.id,
            chat_id,
            retire=tuple(
                MessageRef(other.chat_id, other.cue_message_id)
                for other in replaced
                if other.cue_message_id is not None
            ),
            show=self._cue(practice, yoga_class, 0),
        )

    async def delivered(self, cue: Cue, chat_id: int, message_id: int) -> PracticeOutcome:
        """The cue reached the chat: only now is it shown. Its hold runs to the deadline set
        when the practice moved on, or from now if the cue came late. If the practice moved
        on while the cue was being sent, nothing could know this message yet: retire it."""
        now = self._clock()
        deadline = now + timedelta(seconds=self.hold_of(cue.pose))
        try:
            async with self._store.write() as uow:
                confirmed = await uow.practices.confirm_cue(
                    cue.practice_id,
                    cue.step,
                    cue.pose.id,
                    message_id,
                    now=now,
                    hold_ends_at=deadline,
                )
                practice = await uow.practices.get(cue.practice_id)
        except StoreUnavailable:
            # Delivered but not recorded: try recording it again soon (advance_if_due).
            self._unrecorded[cue.practice_id] = (cue, chat_id, message_id)
            self._timers.arm(cue.practice_id, cue.step, chat_id, now + STORE_RETRY)
            raise
        if not confirmed:
            return PracticeOutcome(
                cue.practice_id, chat_id, retire=(MessageRef(chat_id, message_id),)
            )
        assert practice is not None
        if practice.status == PracticeStatus.ACTIVE and practice.hold_ends_at is not None:
            self._timers.arm(cue.practice_id, cue.step, chat_id, practice.hold_ends_at)
        return PracticeOutcome(cue.practice_id, chat_id)

    async def undelivered(self, cue: Cue, chat_id: int) -> None:
        """Telegram did not take the cue (or did not say it did): send it again after a
        pause, a few times; then pause the practice until the user is back."""
        async with self._store.write() as uow:
            practice = await uow.practices.cue_failed(cue.practice_id, cue.step)
            if practice is None:
                return  # moved on, or delivered after all
            failed = practice.cue_attempts
            if failed <= len(CUE_RETRY_DELAYS):
                delay = CUE_RETRY_DELAYS[failed - 1]
                at = self._clock() + timedelta(seconds=delay)
                retry = True
            else:
                retry = False
                if practice.status == PracticeStatus.ACTIVE:
                    await uow.practices.pause(practice.id, cue.step, self.hold_of(cue.pose))
        if retry:
            self._timers.arm(cue.practice_id, cue.step, chat_id, at)
            return
        self._timers.cancel(cue.practice_id)
        log.warning(
            "practice %s paused: its cue could not be sent %d times", cue.practice_id, failed
        )

    async def bring_back(self, user_id: int) -> PracticeOutcome | None:
        """The user is here again: a practice paused because its cue could not be sent goes
        on, with that cue (its hold begins once it is delivered)."""
        async with self._store.read() as uow:
            stalled = [
                p
                for p in await uow.practices.open_of(user_id)
                if p.status == PracticeStatus.PAUSED and p.cue_message_id is None
            ]
        if not stalled:
            return None

        def still_stalled(practice: Practice) -> bool:
            return practice.status == PracticeStatus.PAUSED and practice.cue_message_id is None

        async def attempt(
            uow: UnitOfWork, practice: Practice, yoga_class: YogaClass | None
        ) -> _Change | None:
            assert yoga_class is not None
            deadline = self._clock() + timedelta(seconds=practice.remaining_seconds or 0.0)
            if not await uow.practices.resume(practice.id, practice.current_step, deadline):
                return None
            cue = await self._shown(uow, practice, yoga_class, paused=False)
            return _Change(PracticeOutcome(practice.id, practice.chat_id, show=cue))

        practice = stalled[0]
        return await self._change(practice.id, practice.current_step, still_stalled, attempt)

    async def next(self, user_id: int, practice_id: int, step: int) -> PracticeOutcome:
        return await self._act(user_id, practice_id, step, self._next_attempt(skipped=True))

    async def stop(self, user_id: int, practice_id: int, step: int) -> PracticeOutcome:
        async def attempt(
            uow: UnitOfWork, practice: Practice, yoga_class: YogaClass | None
        ) -> _Change | None:
            return await self._close(
                uow, practice, PracticeStatus.STOPPED, skipped=False, announce=True
            )

        return await self._act(user_id, practice_id, step, attempt)

    async def reveal_easier(self, user_id: int, practice_id: int, step: int) -> PracticeOutcome:
        async def attempt(
            uow: UnitOfWork, practice: Practice, yoga_class: YogaClass | None
        ) -> _Change | None:
            assert yoga_class is not None
            await uow.practices.record_easier(
                practice.id, step, yoga_class.steps[step].id, self._clock()
            )
            cue = await self._shown(uow, practice, yoga_class)
            return _Change(PracticeOutcome(practice.id, practice.chat_id, redraw=cue))

        return await self._act(user_id, practice_id, step, attempt)

    async def pause(self, user_id: int, practice_id: int, step: int) -> PracticeOutcome:
        async def attempt(
            uow: UnitOfWork, practice: Practice, yoga_class: YogaClass | None
        ) -> _Change | None:
            assert yoga_class is not None
            if practice.status != PracticeStatus.ACTIVE or practice.hold_ends_at is None:
                raise StaleAction
            remaining = max(0.0, (practice.hold_ends_at - self._clock()).total_seconds())
            if not await uow.practices.pause(practice.id, step, remaining):
                return None
            cue = await self._shown(uow, practice, yoga_class, paused=True)
            return _Change(PracticeOutcome(practice.id, practice.chat_id, redraw=cue), cancel=True)

        return await self._act(user_id, practice_id, step, attempt)

    async def resume(self, user_id: int, practice_id: int, step: int) -> PracticeOutcome:
        async def attempt(
            uow: UnitOfWork, practice: Practice, yoga_class: YogaClass | None
        ) -> _Change | None:
            assert yoga_class is not None
            if practice.status != PracticeStatus.PAUSED:
                raise StaleAction
            deadline = self._clock() + timedelta(seconds=practice.remaining_seconds or 0.0)
            if not await uow.practices.resume(practice.id, step, deadline):
                return None
            cue = await self._shown(uow, practice, yoga_class, paused=False)
            outcome = PracticeOutcome(practice.id, practice.chat_id, redraw=cue)
            return _Change(outcome, arm=(step, deadline))

        return await self._act(user_id, practice_id, step, attempt)

    # -- what the timer and the process do -------------------------------------------------

    async def advance_if_due(self, practice_id: int, step: int) -> PracticeOutcome | None:
        """The timer's entry: move on if the hold is over. Before then it arms the timer
        again for the stored deadline; for a step that is over it does nothing (None)."""
        unrecorded = self._unrecorded.pop(practice_id, None)
        if unrecorded is not None:
            return await self.delivered(*unrecorded)

        def due(practice: Practice) -> bool:
            return practice.status == PracticeStatus.ACTIVE and practice.hold_ends_at is not None

        async def attempt(
            uow: UnitOfWork, practice: Practice, yoga_class: YogaClass | None
        ) -> _Change | None:
            assert practice.hold_ends_at is not None and yoga_class is not None
            now = self._clock()
            if practice.cue_message_id is None:
                # The cue is not known to have arrived. After a failed send it goes again
                # now; otherwise its send may still be under way, and only a send silent for
                # far longer than any send takes counts as failed.
                given_up_at = practice.hold_ends_at + SEND_GRACE
                if practice.cue_attempts == 0 and now < given_up_at:
                    outcome = PracticeOutcome(practice.id, practice.chat_id)
                    return _Change(outcome, arm=(step, given_up_at))
                cue = await self._shown(uow, practice, yoga_class)
                return _Change(PracticeOutcome(practice.id, practice.chat_id, show=cue))
            if practice.hold_ends_at - now > DUE_TOLERANCE:
                outcome = PracticeOutcome(practice.id, practice.chat_id)
                return _Change(outcome, arm=(step, practice.hold_ends_at))
            return await self._next_attempt(skipped=False)(uow, practice, yoga_class)

        return await self._change(practice_id, step, due, attempt)

    async def resume_all(self) -> list[PracticeOutcome]:
        """At start-up: arm a timer for every stored deadline (an overdue one fires at once,
        so the next cue arrives once, late), and send again each cue never confirmed
        delivered. A practice paused because its cue could not be sent waits for the user."""
        outcomes: list[PracticeOutcome] = []
        async with self._store.read() as uow:
            for practice in await uow.practices.all_open():
                yoga_class = self._catalog.get(practice.class_id)
                if yoga_class is None or practice.status != PracticeStatus.ACTIVE:
                    continue
                if practice.cue_message_id is None:
                    cue = await self._shown(uow, practice, yoga_class)
                    outcomes.append(PracticeOutcome(practice.id, practice.chat_id, show=cue))
                elif practice.hold_ends_at is not None:
                    self._timers.arm(
                        practice.id, practice.current_step, practice.chat_id, practice.hold_ends_at
                    )
            for closed in await uow.practices.owing_summary():
                yoga_class = self._catalog.get(closed.class_id)
                if yoga_class is None:
                    continue
                summary = await self._summary(
                    uow, closed.id, yoga_class, closed.status, closed.practised_seconds
                )
                outcomes.append(PracticeOutcome(closed.id, closed.chat_id, summary=summary))
        return outcomes

    async def summary_shown(self, practice_id: int) -> None:
        """The closing message reached the chat: nothing is owed any more."""
        async with self._store.write() as uow:
            await uow.practices.summary_shown(practice_id)

    async def abandon_chat(self, chat_id: int) -> None:
        """End every open practice in a chat the bot can no longer reach."""

        def still_open(practice: Practice) -> bool:
            return practice.status in OPEN_STATUSES

        async def attempt(
            uow: UnitOfWork, practice: Practice, yoga_class: YogaClass | None
        ) -> _Change | None:
            return await self._close(uow, practice, PracticeStatus.STOPPED, skipped=False)

        async with self._store.read() as uow:
            open_ids = [p.id for p in await uow.practices.open_in_chat(chat_id)]
        for practice_id in open_ids:
            await self._change(practice_id, None, still_open, attempt, any_class=True)

    async def current_cue(self, practice_id: int) -> Cue:
        async with self._store.read() as uow:
            practice = await uow.practices.get(practice_id)
            if practice is None or practice.class_id not in self._catalog:
                raise StaleAction
            return await self._shown(uow, practice, self._catalog[practice.class_id])

    # -- internals -------------------------------------------------------------------------

    async def _act(
        self, user_id: int, practice_id: int, step: int, attempt: _Attempt
    ) -> PracticeOutcome:
        """A user's press: only on their own open practice, on the step still current."""

        def theirs(practice: Practice) -> bool:
            return practice.user_id == user_id and practice.status in OPEN_STATUSES

        outcome = await self._change(practice_id, step, theirs, attempt)
        if outcome is None:
            raise StaleAction
        return outcome

    async def _change(
        self,
        practice_id: int,
        step: int | None,
        allowed: Callable[[Practice], bool],
        attempt: _Attempt,
        *,
        any_class: bool = False,
    ) -> PracticeOutcome | None:
        """Run `attempt` in a unit of work on the practice as it is now, if `allowed` and
        still on `step`; then tell the timer. An attempt whose conditional update missed
        (the row changed between read and write) is tried again on a fresh read."""
        for _ in range(MAX_ATTEMPTS):
            async with self._store.write() as uow:
                practice = await uow.practices.get(practice_id)
                if (
                    practice is None
                    or (step is not None and practice.current_step != step)
                    or not allowed(practice)
                    or (practice.class_id not in self._catalog and not any_class)
                ):
                    return None
                change = await attempt(uow, practice, self._catalog.get(practice.class_id))
            if change is not None:
                # Only once the change is stored: a timer never runs ahead of its row.
                if change.cancel:
                    self._timers.cancel(practice_id)
                elif change.arm is not None:
                    self._timers.arm(practice_id, change.arm[0], practice.chat_id, change.arm[1])
                return change.outcome
        return None

    def _next_attempt(self, *, skipped: bool) -> _Attempt:
        async def attempt(
            uow: UnitOfWork, practice: Practice, yoga_class: YogaClass | None
        ) -> _Change | None:
            assert yoga_class is not None
            step = practice.current_step
            if step + 1 >= len(yoga_class.steps):
                return await self._close(
                    uow, practice, PracticeStatus.FINISHED, skipped=skipped, announce=True
                )
            now = self._clock()
            following = yoga_class.steps[step + 1]
            deadline = now + timedelta(seconds=self.hold_of(following))
            moved = await uow.practices.move_to_step(
                practice,
                to_step=step + 1,
                hold_ends_at=deadline,
                practised_seconds=practice.practised_seconds + self._spent(practice, yoga_class),
                skipped_step_id=yoga_class.steps[step].id if skipped else None,
                now=now,
            )
            if not moved:
                return None
            outcome = PracticeOutcome(
                practice.id,
                practice.chat_id,
                retire=_cue_message(practice),
                show=self._cue(practice, yoga_class, step + 1),
            )
            return _Change(outcome, arm=(step + 1, deadline))

        return attempt

    async def _close(
        self,
        uow: UnitOfWork,
        practice: Practice,
        status: PracticeStatus,
        *,
        skipped: bool,
        announce: bool = False,
    ) -> _Change | None:
        """End the practice. With `announce` (the user stopped it, or it finished), its
        summary is shown and owed until delivered; a practice replaced by a new one or in a
        chat that cannot be reached ends quietly."""
        yoga_class = self._catalog.get(practice.class_id)
        # A practice whose class file is gone has nothing left to time or summarise.
        spent = self._spent(practice, yoga_class) if yoga_class else 0.0
        practised = practice.practised_seconds + spent
        closed = await uow.practices.close(
            practice,
            status=status,
            practised_seconds=practised,
            skipped_step_id=(
                yoga_class.steps[practice.current_step].id if skipped and yoga_class else None
            ),
            now=self._clock(),
            announce=announce and yoga_class is not None,
        )
        if not closed:
            return None
        summary = None
        if announce and yoga_class is not None:
            summary = await self._summary(uow, practice.id, yoga_class, status, practised)
        outcome = PracticeOutcome(
            practice.id, practice.chat_id, retire=_cue_message(practice), summary=summary
        )
        return _Change(outcome, cancel=True)

    async def _summary(
        self,
        uow: UnitOfWork,
        practice_id: int,
        yoga_class: YogaClass,
        status: PracticeStatus,
        practised_seconds: float,
    ) -> Summary:
        counts = await uow.practices.event_counts(practice_id)
        return Summary(
            class_title=yoga_class.title,
            status=status,
            minutes=round(practised_seconds / 60),
            poses_done=counts.get(EventKind.SHOWN, 0),
            total_poses=len(yoga_class.steps),
            easier_used=counts.get(EventKind.EASIER, 0),
            ask_after=status == PracticeStatus.FINISHED,
        )

    def _spent(self, practice: Practice, yoga_class: YogaClass) -> float:
        """Seconds of the class's own time spent on the current step, whatever the scale."""
        step = yoga_class.steps[practice.current_step]
        if practice.status == PracticeStatus.PAUSED:
            remaining = practice.remaining_seconds or 0.0
        elif practice.hold_ends_at is not None:
            remaining = max(0.0, (practice.hold_ends_at - self._clock()).total_seconds())
        else:
            remaining = 0.0
        return min(step.hold_seconds, max(0.0, step.hold_seconds - remaining / self._scale))

    async def _shown(
        self,
        uow: UnitOfWork,
        practice: Practice,
        yoga_class: YogaClass,
        *,
        paused: bool | None = None,
    ) -> Cue:
        """The current step's cue as stored: easier option revealed or not, paused or not."""
        step = practice.current_step
        easier = await uow.practices.easier_revealed(practice.id, step)
        is_paused = practice.status == PracticeStatus.PAUSED if paused is None else paused
        return self._cue(practice, yoga_class, step, easier_shown=easier, paused=is_paused)

    def _cue(
        self,
        practice: Practice,
        yoga_class: YogaClass,
        step: int,
        *,
        easier_shown: bool = False,
        paused: bool = False,
    ) -> Cue:
        pose = yoga_class.steps[step]
        return Cue(
            practice_id=practice.id,
            step=step,
            total=len(yoga_class.steps),
            pose=pose,
            hold_seconds=pose.hold_seconds,
            easier_shown=easier_shown,
            paused=paused,
        )


def _cue_message(practice: Practice) -> tuple[MessageRef, ...]:
    if practice.cue_message_id is None:
        return ()
    return (MessageRef(practice.chat_id, practice.cue_message_id),)
