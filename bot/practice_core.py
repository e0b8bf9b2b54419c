"""The machinery under the practice service: its exceptions, the Timers port, and the one
way every change is made (`_change`: a fresh read, a conditional update, then the timer),
with the pieces the actions share (asking a question, going on, moving to the next step,
closing, drawing a cue). The actions themselves are in bot.practice."""

from __future__ import annotations

import logging
import random
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from typing import Protocol

from bot import pose_memory
from bot.clock import Clock
from bot.cues import Cue, MessageRef, PracticeOutcome, Summary
from bot.models import (
    OPEN_STATUSES,
    EasierReason,
    EventKind,
    Pace,
    Practice,
    PracticeQuestion,
    PracticeStatus,
    StopReason,
)
from bot.safety import felt_worse
from bot.store import Store, UnitOfWork
from bot.uploads import NoPictures, PictureSource
from bot.user_settings import paced_hold, settings_in
from sequences import Step, YogaClass

# A timer may fire a hair before its deadline; anything this close counts as due.
DUE_TOLERANCE = timedelta(milliseconds=5)
# A conditional update misses only when the row changed since it was read; a few fresh
# reads settle any race between a timer, a button and a cue being confirmed.
MAX_ATTEMPTS = 5
# A send Telegram did not take (a cue, or a redraw of one) is tried again after a pause
# that starts at RETRY_FIRST and doubles with each failure up to RETRY_MAX (1, 2, 4, 8, 16,
# 32, 60, 60 … s), each one stretched or shrunk at random by up to RETRY_JITTER, so that
# classes that failed together do not all come back in the same instant. There is no last
# try: a class waits through an outage and goes on by itself once Telegram answers.
RETRY_FIRST = 1.0
RETRY_MAX = 60.0
RETRY_JITTER = 0.2
# When the database did not record a delivered cue, look at the practice again this soon.
STORE_RETRY = timedelta(seconds=2)
# A cue send that has neither succeeded nor failed this long after its hold ended is taken
# as lost (the rate limiter may hold a send through a few 429s, so this is generous).
SEND_GRACE = timedelta(seconds=60)
# A practice the user stopped (Stop, or End for today) can be carried on this long after.
CONTINUE_WITHIN = timedelta(hours=2)
# Stops the user chose; a practice replaced by a new one or in an unreachable chat ended
# without them asking, and is not offered again.
CHOSEN_STOPS = (StopReason.BY_USER, StopReason.FOR_PAIN)
# What +15 s adds to a hold, in class seconds.
MORE_TIME_SECONDS = 15.0
# Poses given more time, in each of two practices in a row, before the slow pace is offered.
SUGGEST_SLOW_AFTER_POSES = 3
# While one of these questions is open, only its own answers count.
PAIN_QUESTIONS = (PracticeQuestion.HURT, PracticeQuestion.NUMB)

log = logging.getLogger(__name__)


def retry_delay(failures: int, rng: random.Random | None = None) -> float:
    """Seconds to wait after the `failures`-th failed send in a row (1 for the first)."""
    pause: float = min(RETRY_MAX, RETRY_FIRST * 2.0 ** min(max(failures, 1) - 1, 32))
    spread: float = (rng or _jitter).uniform(1 - RETRY_JITTER, 1 + RETRY_JITTER)
    return pause * spread


# Not for secrets: only spreads retries out in time.
_jitter = random.Random()


@dataclass(frozen=True)
class Unrecorded:
    """A cue Telegram took while the database could not record it: kept in memory until it
    is recorded, and never sent again meanwhile."""

    cue: Cue
    chat_id: int
    message_id: int
    # When Telegram took it: the pose's hold runs from then, however late it is recorded.
    at: datetime


class StaleAction(Exception):
    """The button belongs to a pose that is over, or to someone else's practice."""


class PracticePaused(StaleAction):
    """The practice waits for the answer to "continue or start over?"; its cue's buttons
    do nothing until then."""


class Timers(Protocol):
    """Wake-ups for deadlines. A timer is disposable: the deadline itself is a column, and
    a timer that fires for a step that is over does nothing."""

    def arm(self, practice_id: int, step: int, chat_id: int, at: datetime) -> None:
        """Fire `advance_if_due(practice_id, step)` at `at`, replacing any earlier timer."""

    def cancel(self, practice_id: int) -> None: ...


@dataclass(frozen=True)
class Change:
    """A change made inside a unit of work, and what the timer must do once it is stored."""

    outcome: PracticeOutcome
    # (step, deadline) for the timer to arm, or cancel it: the practice no longer runs.
    arm: tuple[int, datetime] | None = None
    cancel: bool = False


Attempt = Callable[[UnitOfWork, Practice, YogaClass | None], Awaitable[Change | None]]


class NoTimers:
    """For processes that never run a practice (the command line's reports)."""

    def arm(self, practice_id: int, step: int, chat_id: int, at: datetime) -> None:
        raise RuntimeError("this process runs no practice timers")

    def cancel(self, practice_id: int) -> None:
        raise RuntimeError("this process runs no practice timers")


class PracticeCore:
    """The state and shared steps of PracticeService (bot.practice), which adds the actions."""

    def __init__(
        self,
        store: Store,
        catalog: dict[str, YogaClass],
        clock: Clock,
        timers: Timers,
        time_scale: float = 1.0,
        default_timezone: str = "UTC",
        pictures: PictureSource | None = None,
    ) -> None:
        if not catalog:
            raise ValueError("the catalog has no class")
        self._store = store
        self._catalog = catalog
        self._clock = clock
        self._timers = timers
        self._scale = time_scale
        self._default_zone = default_timezone
        self._pictures: PictureSource = pictures or NoPictures()
        # Cues Telegram took while the database could not record it, by (practice, step):
        # recorded when the practice's timer or a sweep of this process looks again, never
        # sent again meanwhile. Only a process that dies with one here may send it twice.
        self._unrecorded: dict[tuple[int, int], Unrecorded] = {}

    @property
    def default_class(self) -> YogaClass:
        return next(iter(self._catalog.values()))

    def _steps(self, practice: Practice, yoga_class: YogaClass) -> Sequence[Step]:
        """The steps this practice runs: the whole class, or its short selection."""
        return yoga_class.steps_for(practice.class_length.value)

    def _hold(self, practice: Practice, pose: Step, *, extra: float = 0.0) -> float:
        """The pose's hold in class seconds, as this practice runs it: at its pace, with
        any time the user added."""
        return paced_hold(pose.hold_seconds, practice.pace_factor) + extra

    def _timer_seconds(self, class_seconds: float) -> float:
        """Class seconds as the clock counts them, at the deployment's TIME_SCALE."""
        return class_seconds * self._scale

    async def _act(
        self,
        user_id: int,
        practice_id: int,
        step: int,
        attempt: Attempt,
        *,
        during_question: bool = False,
    ) -> PracticeOutcome:
        """A user's press: only on their own open practice, on the step still current, and
        (unless `during_question`) with no question waiting for its answer."""
        paused_for_restart = False

        def theirs(practice: Practice) -> bool:
            nonlocal paused_for_restart
            if practice.user_id != user_id or practice.status not in OPEN_STATUSES:
                return False
            if practice.question == PracticeQuestion.RESTART and not during_question:
                paused_for_restart = True
                return False
            return practice.question is None or during_question

        outcome = await self._change(practice_id, step, theirs, attempt)
        if outcome is None:
            raise PracticePaused if paused_for_restart else StaleAction
        return outcome

    async def _answer(
        self,
        user_id: int,
        practice_id: int,
        step: int,
        questions: tuple[PracticeQuestion, ...],
        attempt: Attempt,
    ) -> PracticeOutcome:
        """An answer to one of `questions`, while that question is the one open."""

        def asked(practice: Practice) -> bool:
            return (
                practice.user_id == user_id
                and practice.status in OPEN_STATUSES
                and practice.question in questions
            )

        outcome = await self._change(practice_id, step, asked, attempt)
        if outcome is None:
            raise StaleAction
        return outcome

    def _ask(self, question: PracticeQuestion) -> Attempt:
        """Stop the pose's clock and draw the cue again with `question`. Asking what is
        already asked changes nothing but draws it again (a double tap)."""

        async def attempt(
            uow: UnitOfWork, practice: Practice, yoga_class: YogaClass | None
        ) -> Change | None:
            assert yoga_class is not None
            step = practice.current_step
            if question in PAIN_QUESTIONS:
                await uow.practices.record_once(
                    practice.id,
                    step,
                    self._steps(practice, yoga_class)[step].id,
                    EventKind.HURT,
                    self._clock(),
                )
            if practice.question != question and not await uow.practices.ask(
                practice, question, self._left(practice)
            ):
                return None
            cue = await self._shown_now(uow, practice.id, yoga_class)
            return Change(PracticeOutcome(practice.id, practice.chat_id, redraw=cue), cancel=True)

        return attempt

    async def _toggle(
        self, uow: UnitOfWork, practice: Practice, yoga_class: YogaClass | None, kind: EventKind
    ) -> Change | None:
        """Easier option or Usual version: the version on screen switches; the last toggle
        counts (bot.practice_core.easier_reason)."""
        assert yoga_class is not None
        step = practice.current_step
        pose = self._steps(practice, yoga_class)[step]
        await uow.practices.record(practice.id, step, pose.id, kind, self._clock())
        cue = await self._shown(uow, practice, yoga_class)
        return Change(PracticeOutcome(practice.id, practice.chat_id, redraw=cue))

    async def _go_on(
        self, uow: UnitOfWork, practice: Practice, yoga_class: YogaClass | None
    ) -> Change | None:
        """The clock runs again for what is left of the hold."""
        assert yoga_class is not None
        step = practice.current_step
        deadline = self._clock() + timedelta(seconds=practice.remaining_seconds or 0.0)
        if not await uow.practices.resume(practice.id, step, deadline):
            return None
        cue = await self._shown_now(uow, practice.id, yoga_class)
        outcome = PracticeOutcome(practice.id, practice.chat_id, redraw=cue)
        return Change(outcome, arm=(step, deadline))

    def _left(self, practice: Practice) -> float:
        """Seconds left of the current hold, as the clock stands now (scaled time)."""
        if practice.status == PracticeStatus.PAUSED:
            return practice.remaining_seconds or 0.0
        if practice.hold_ends_at is None:
            return 0.0
        return max(0.0, (practice.hold_ends_at - self._clock()).total_seconds())

    async def _change(
        self,
        practice_id: int,
        step: int | None,
        allowed: Callable[[Practice], bool],
        attempt: Attempt,
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

    def _next_attempt(self, *, skipped: bool) -> Attempt:
        async def attempt(
            uow: UnitOfWork, practice: Practice, yoga_class: YogaClass | None
        ) -> Change | None:
            assert yoga_class is not None
            step = practice.current_step
            steps = self._steps(practice, yoga_class)
            if step + 1 >= len(steps):
                return await self._close(
                    uow, practice, PracticeStatus.FINISHED, skipped=skipped, announce=True
                )
            now = self._clock()
            following = steps[step + 1]
            hold = self._timer_seconds(self._hold(practice, following))
            deadline = now + timedelta(seconds=hold)
            moved = await uow.practices.move_to_step(
                practice,
                to_step=step + 1,
                hold_ends_at=deadline,
                practised_seconds=practice.practised_seconds + self._spent(practice, yoga_class),
                skipped_step_id=steps[step].id if skipped else None,
                now=now,
            )
            if not moved:
                return None
            outcome = PracticeOutcome(
                practice.id,
                practice.chat_id,
                retire=cue_message(practice),
                show=self._cue(practice, yoga_class, step + 1),
            )
            return Change(outcome, arm=(step + 1, deadline))

        return attempt

    def _stop_attempt(self, reason: StopReason) -> Attempt:
        """End the practice as stopped, for `reason`, with its closing message."""

        async def attempt(
            uow: UnitOfWork, practice: Practice, yoga_class: YogaClass | None
        ) -> Change | None:
            return await self._close(
                uow, practice, PracticeStatus.STOPPED, skipped=False, announce=True, reason=reason
            )

        return attempt

    async def _close(
        self,
        uow: UnitOfWork,
        practice: Practice,
        status: PracticeStatus,
        *,
        skipped: bool,
        announce: bool = False,
        reason: StopReason | None = None,
    ) -> Change | None:
        """End the practice. With `announce` (the user stopped it, or it finished), its
        summary is shown and owed until delivered; a practice replaced by a new one or in a
        chat that cannot be reached ends quietly."""
        yoga_class = self._catalog.get(practice.class_id)
        old_cue = cue_message(practice)
        answered = practice.question is not None
        # A practice whose class file is gone has nothing left to time or summarise.
        spent = self._spent(practice, yoga_class) if yoga_class else 0.0
        practised = practice.practised_seconds + spent
        closed = await uow.practices.close(
            practice,
            status=status,
            practised_seconds=practised,
            skipped_step_id=(
                self._steps(practice, yoga_class)[practice.current_step].id
                if skipped and yoga_class
                else None
            ),
            now=self._clock(),
            announce=announce and yoga_class is not None,
            stop_reason=reason,
        )
        if not closed:
            return None
        summary, last = None, None
        if announce and yoga_class is not None:
            ended = await uow.practices.get(practice.id)
            assert ended is not None
            summary = await self._summary(uow, ended, yoga_class, status, may_suggest=True)
            if answered:
                # Ended from a question on the cue: the cue no longer asks it.
                last = replace(await self._shown(uow, ended, yoga_class), over=True)
        outcome = PracticeOutcome(
            practice.id, practice.chat_id, retire=old_cue, redraw=last, summary=summary
        )
        return Change(outcome, cancel=True)

    async def _summary(
        self,
        uow: UnitOfWork,
        practice: Practice,
        yoga_class: YogaClass,
        status: PracticeStatus,
        *,
        may_suggest: bool = False,
    ) -> Summary:
        """The closing message's facts. With `may_suggest` (a writing unit of work, as the
        practice ends), the slow pace may be suggested, once per user."""
        counts = await uow.practices.event_counts(practice.id)
        stopped = status == PracticeStatus.STOPPED
        suggest = may_suggest and await self._suggest_slow_pace(uow, practice, counts)
        return Summary(
            class_title=yoga_class.title,
            status=status,
            minutes=round(practice.practised_seconds / 60),
            poses_done=counts.get(EventKind.SHOWN, 0),
            total_poses=len(self._steps(practice, yoga_class)),
            easier_used=counts.get(EventKind.EASIER, 0),
            ask_after=status == PracticeStatus.FINISHED,
            gentle=practice.gentle,
            stop_reason=practice.stop_reason if stopped else None,
            stopped_at=practice.current_step if stopped else None,
            suggest_slow_pace=suggest,
        )

    async def _suggest_slow_pace(
        self, uow: UnitOfWork, practice: Practice, counts: dict[EventKind, int]
    ) -> bool:
        """Time added to at least three poses in each of two practices in a row, by someone
        not on the slow pace: suggest it, once ever."""
        if counts.get(EventKind.MORE_TIME, 0) < SUGGEST_SLOW_AFTER_POSES:
            return False
        if (await settings_in(uow, practice.user_id)).pace == Pace.SLOW:
            return False
        previous = await uow.practices.previous_of(practice.user_id, practice.id)
        if previous is None:
            return False
        before = await uow.practices.event_counts(previous.id)
        if before.get(EventKind.MORE_TIME, 0) < SUGGEST_SLOW_AFTER_POSES:
            return False
        return await uow.users.mark_slow_pace_suggested(practice.user_id)

    def _spent(self, practice: Practice, yoga_class: YogaClass) -> float:
        """Seconds of the class's own time spent on the current step, whatever the scale."""
        pose = self._steps(practice, yoga_class)[practice.current_step]
        hold = self._hold(practice, pose, extra=practice.extra_seconds)
        remaining = self._left(practice)
        return min(hold, max(0.0, hold - remaining / self._scale))

    async def _shown(self, uow: UnitOfWork, practice: Practice, yoga_class: YogaClass) -> Cue:
        """The current step's cue as stored: easier version or not, paused or not, and the
        question it asks."""
        step = practice.current_step
        return self._cue(
            practice,
            yoga_class,
            step,
            events=await uow.practices.events_at(practice.id, step),
            paused=practice.status == PracticeStatus.PAUSED,
            question=practice.question,
        )

    async def _shown_now(self, uow: UnitOfWork, practice_id: int, yoga_class: YogaClass) -> Cue:
        """The cue once this unit of work changed the practice, read from the row again.
        The caller's copy of the row is refreshed too: take from it what was there before
        the change (the old cue's message, say) first."""
        practice = await uow.practices.get(practice_id)
        assert practice is not None
        return await self._shown(uow, practice, yoga_class)

    def _cue(
        self,
        practice: Practice,
        yoga_class: YogaClass,
        step: int,
        *,
        events: Sequence[EventKind] = (),
        paused: bool = False,
        question: PracticeQuestion | None = None,
    ) -> Cue:
        steps = self._steps(practice, yoga_class)
        pose = steps[step]
        # Added time belongs to the current step; a step just moved to has none yet.
        extra = practice.extra_seconds if step == practice.current_step else 0.0
        return Cue(
            practice_id=practice.id,
            step=step,
            total=len(steps),
            pose=pose,
            hold_seconds=self._hold(practice, pose, extra=extra),
            easier=easier_reason(practice, pose, events),
            paused=paused,
            question=question,
            following=steps[step + 1] if step + 1 < len(steps) else None,
            picture=self._pictures.for_step(pose) if practice.pictures else None,
        )


def easier_reason(
    practice: Practice, pose: Step, events: Sequence[EventKind]
) -> EasierReason | None:
    """Why the pose is on screen in its easier version, if it is: the user's last toggle
    (Easier option / Usual version) wins over what the practice decided at its start."""
    toggles = [kind for kind in events if kind in pose_memory.TOGGLES]
    if toggles and toggles[-1] == EventKind.USUAL:
        return None
    if toggles:
        return EasierReason.HURT_NOW if EventKind.HURT in events else EasierReason.ASKED
    if practice.gentle:
        return EasierReason.GENTLE
    return pose_memory.unpack(practice.easier_from_start).get(pose.id)


def felt_worse_after(practice: Practice | None) -> bool:
    return practice is not None and felt_worse(practice.back_before, practice.back_after)


def cue_message(practice: Practice) -> tuple[MessageRef, ...]:
    if practice.cue_message_id is None:
        return ()
    return (MessageRef(practice.chat_id, practice.cue_message_id),)
