"""The practice service's one way to change a practice: `apply(practice_id, event)`.

It reads the practice, asks the rules (bot/practice/machine.py) what the event does,
writes the answer with one conditional update on the version it read, then arms or
cancels the practice's timer through the `Timers` port and returns a `PracticeOutcome`:
what the chat should show. It decides nothing itself. A write that misses (the practice
changed between the read and the write: a double tap, a timer racing a button) is decided
again on a fresh read.
"""

from __future__ import annotations

import logging
import random
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from pathlib import Path
from typing import Protocol

from bot.clock import Clock
from bot.cues import Cue, MessageRef, PlayerNote, PracticeOutcome, Summary
from bot.models import Pace
from bot.practice import machine
from bot.practice.machine import (
    CANCEL,
    Arm,
    CueSent,
    Event,
    EventKind,
    HoldOver,
    Plan,
    PracticeState,
    Refusal,
    Refused,
    Transition,
)
from bot.programme.service import ProgrammeService
from bot.store import Store, StoreUnavailable, UnitOfWork
from bot.uploads import NoPictures, NoSounds, Picture, PictureSource, Sound, SoundSource
from bot.user_settings import paced_hold, settings_in
from sequences import Step, YogaClass

# A write misses only when the practice changed since it was read; a few fresh reads settle
# any race between a timer, a button and a cue being confirmed.
MAX_ATTEMPTS = 5

log = logging.getLogger(__name__)


class StaleAction(Exception):
    """The button belongs to a pose that is over, or to someone else's practice."""


class PracticePaused(StaleAction):
    """The practice waits for the answer to "continue or start over?"; its cue's buttons
    do nothing until then."""


class Timers(Protocol):
    """Wake-ups for deadlines. A timer is disposable: the deadline itself is a column, and
    a timer that fires for a step that is over does nothing."""

    def arm(self, practice_id: int, step: int, chat_id: int, at: datetime) -> None:
        """Fire `apply(practice_id, HoldOver(step))` at `at`, replacing any earlier timer."""

    def cancel(self, practice_id: int) -> None: ...


class NoTimers:
    """For processes that never run a practice (the command line's reports)."""

    def arm(self, practice_id: int, step: int, chat_id: int, at: datetime) -> None:
        raise RuntimeError("this process runs no practice timers")

    def cancel(self, practice_id: int) -> None:
        raise RuntimeError("this process runs no practice timers")


@dataclass(frozen=True)
class Unrecorded:
    """A cue Telegram took while the database could not record it: kept in memory until it
    is recorded, and never sent again meanwhile."""

    chat_id: int
    sent: CueSent


# Not for secrets: only spreads retries out in time.
_luck = random.Random()


class PracticeCore:
    """What the ways into a practice (way_in.py) and recovery (recovery.py) share."""

    def __init__(
        self,
        store: Store,
        catalog: dict[str, YogaClass],
        clock: Clock,
        timers: Timers,
        time_scale: float = 1.0,
        default_timezone: str = "UTC",
        pictures: PictureSource | None = None,
        sounds: SoundSource | None = None,
        programme: ProgrammeService | None = None,
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
        self._sounds: SoundSource = sounds or NoSounds()
        # The user's plan over weeks caps what a practice runs as (way_in.py).
        self._programme = programme or ProgrammeService(store, catalog, clock, default_timezone)
        self._plans: dict[tuple[str, str, float], Plan] = {}
        # Cues Telegram took while the database could not record it, by (practice, step):
        # recorded when the practice's timer looks again, never sent again meanwhile. Only
        # a process that dies with one here may send it twice.
        self._unrecorded: dict[tuple[int, int], Unrecorded] = {}
        # The users with a stalled practice (recovery.py, bring_back), once looked up.
        self._stalled_users: set[int] | None = None
        # Each open practice as this process last wrote or read it. A change is decided on
        # it without a read; written on a version another process (or a direct write) has
        # moved past, it misses, and is decided again on a fresh read.
        self._known: dict[int, PracticeState] = {}
        # The player's pictures and spoken cues by key (bot/practice/player.py).
        self._media: dict[str, Path] = {}

    @property
    def default_class(self) -> YogaClass:
        return next(iter(self._catalog.values()))

    async def apply(self, practice_id: int, event: Event) -> PracticeOutcome:
        """What `event` does to the practice, stored, with its timer armed or cancelled.
        StaleAction (PracticePaused) when the rules refuse it.

        A cue Telegram took (`CueSent`) while the database does not answer changes
        nothing the user sees: it is kept in this process's memory, recorded by the
        practice's timer once the database answers, and never sent again meanwhile."""
        try:
            earlier = await self._record_remembered(practice_id)
            if earlier is not None and isinstance(event, HoldOver):
                # The timer's look was for this: the recorded cue's hold runs from when
                # Telegram took it, and its timer is armed for that.
                return earlier
            outcome = await self._apply(practice_id, event)
        except StoreUnavailable:
            if not isinstance(event, CueSent):
                raise
            self._unrecorded[(practice_id, event.step)] = Unrecorded(event.chat_id, event)
            again = self._clock() + timedelta(seconds=machine.store_backoff(1))
            self._timers.arm(practice_id, event.step, event.chat_id, again)
            return PracticeOutcome(practice_id, event.chat_id)
        if not earlier:
            return outcome
        # Messages of cues recorded only now, for steps that are over, lose their buttons.
        return PracticeOutcome(
            outcome.practice_id,
            outcome.chat_id,
            retire=earlier.retire + outcome.retire,
            redraw=outcome.redraw,
            show=outcome.show,
            summary=outcome.summary,
        )

    async def _apply(self, practice_id: int, event: Event) -> PracticeOutcome:
        for _ in range(MAX_ATTEMPTS):
            async with self._store.write() as uow:
                known = self._known.pop(practice_id, None)
                before = known or await uow.practices.state(practice_id)
                if before is None:
                    raise StaleAction
                plan = self._plan(before)
                now = self._clock()
                change = machine.decide(before, event, now, plan)
                if known is not None and not _writes(change, before):
                    # Only a write checks the version: a refusal, or a change that writes
                    # nothing, is decided again on the practice as it is stored.
                    before = await uow.practices.state(practice_id)
                    if before is None:
                        raise StaleAction
                    plan = self._plan(before)
                    change = machine.decide(before, event, now, plan)
                if isinstance(change, Refusal):
                    if change.reason == Refused.WAITS_FOR_CONTINUE:
                        raise PracticePaused
                    raise StaleAction
                if not await uow.practices.save(before, change, now):
                    continue
                if change.state.open:
                    self._known[practice_id] = (
                        replace(change.state, version=before.version + 1)
                        if _writes(change, before)
                        else before
                    )
                summary = None
                if change.closing:
                    summary = await self._summary(uow, change.state, may_suggest=True)
            # Only once the change is stored: a timer never runs ahead of its row.
            self._tell_timer(change)
            return self._outcome(change, before, plan, summary)
        raise StaleAction

    async def _record_remembered(self, practice_id: int) -> PracticeOutcome | None:
        """Record what this process remembers of the practice's delivered cues; the
        messages among them whose step is over, or None when it remembers none.
        StoreUnavailable (and still remembered) while the database does not answer."""
        keys = sorted(key for key in self._unrecorded if key[0] == practice_id)
        if not keys:
            return None
        retire: list[MessageRef] = []
        chat_id = self._unrecorded[keys[0]].chat_id
        for key in keys:
            remembered = self._unrecorded[key]
            try:
                recorded = await self._apply(practice_id, remembered.sent)
            except StaleAction:
                recorded = PracticeOutcome(practice_id, remembered.chat_id)
            del self._unrecorded[key]
            retire.extend(recorded.retire)
        return PracticeOutcome(practice_id, chat_id, retire=tuple(retire))

    def remembers(self, practice_id: int, step: int) -> bool:
        """This process got Telegram's answer for the step's cue and has not recorded it."""
        return (practice_id, step) in self._unrecorded

    def now(self) -> datetime:
        return self._clock()

    @staticmethod
    def luck() -> float:
        """A random number for a retry's jitter (machine.CueFailed)."""
        return _luck.random()

    def _tell_timer(self, change: Transition) -> None:
        state = change.state
        if change.timer is CANCEL:
            self._timers.cancel(state.id)
        elif isinstance(change.timer, Arm):
            self._timers.arm(state.id, state.step, state.chat_id, change.timer.at)

    def _outcome(
        self,
        change: Transition,
        before: PracticeState,
        plan: Plan | None,
        summary: Summary | None,
    ) -> PracticeOutcome:
        state = change.state
        if plan is None:
            cue = None
        elif change.over:
            cue = self._cue(state, plan, over=True, answered=change.answered)
        else:
            cue = self._cue(state, plan)
        settle: list[tuple[MessageRef, Cue]] = []
        if plan is not None and change.settle and before.cue_message_id is not None:
            ended = self._cue(before, plan, over=True, answered=change.answered)
            settle.append((MessageRef(state.chat_id, before.cue_message_id), ended))
        if cue is not None and change.refresh and state.cue_message_id is not None:
            settle.append((MessageRef(state.chat_id, state.cue_message_id), cue))
        redraw = None
        if cue is not None and change.redraw:
            redraw = replace(cue, swap_media=self._swaps(before, state, cue))
        # The chat's message about the practice in the player, as it stood before the
        # change (leaving the player forgets it) or as the change records it.
        note_id = before.note_message_id or state.note_message_id
        note_at = None if note_id is None else MessageRef(state.chat_id, note_id)
        note = None
        if change.note is not None and plan is not None:
            pose = plan.steps[min(state.step, len(plan.steps) - 1)]
            note = PlayerNote(
                change.note, state.id, state.step, len(plan.steps), pose.title, note_at
            )
        return PracticeOutcome(
            state.id,
            state.chat_id,
            retire=tuple(MessageRef(state.chat_id, message) for message in change.retire),
            redraw=redraw,
            show=cue if change.show else None,
            summary=summary if change.closing else None,
            settle=tuple(settle),
            note=note,
            summary_at=note_at if change.closing and before.in_player else None,
        )

    def _swaps(self, before: PracticeState, state: PracticeState, cue: Cue) -> bool:
        """Whether the pressed cue, as drawn before the change, showed another picture or
        spoke other words than `cue` does: the change took the easier version on or off
        screen (of a pose with an easier figure, or easier words, of its own)."""
        if before.step != state.step:
            return False
        return (cue.picture, cue.sound) != (
            self._picture(before, cue.pose),
            self._sound(before, cue.pose),
        )

    # -- the facts a practice is drawn from --------------------------------------------------

    def _plan(self, state: PracticeState) -> Plan | None:
        """The class as the practice runs it; None when its class file is gone."""
        key = (state.class_id, state.class_length, state.pace_factor)
        plan = self._plans.get(key)
        if plan is None:
            yoga_class = self._catalog.get(state.class_id)
            if yoga_class is None:
                return None
            steps = tuple(yoga_class.steps_for(state.class_length))
            holds = tuple(paced_hold(step.hold_seconds, state.pace_factor) for step in steps)
            plan = self._plans[key] = Plan(steps, holds, self._scale)
        return plan

    def _cue(
        self,
        state: PracticeState,
        plan: Plan,
        *,
        over: bool = False,
        answered: machine.Action | None = None,
    ) -> Cue:
        """The current step's cue as the state shows it."""
        step = state.step
        pose = plan.steps[step]
        return Cue(
            practice_id=state.id,
            step=step,
            total=len(plan.steps),
            pose=pose,
            hold_seconds=machine.hold_seconds(state, plan),
            easier=machine.easier_reason(state, pose),
            paused=state.paused,
            question=state.question,
            over=over,
            answered=answered,
            bridge=self._bridge(state, plan),
            following=plan.steps[step + 1] if step + 1 < len(plan.steps) else None,
            picture=self._picture(state, pose),
            sound=self._sound(state, pose),
        )

    def _picture(self, state: PracticeState, pose: Step) -> Picture | None:
        """The pose's picture for the version the state shows, when the practice shows
        pictures."""
        if not state.pictures:
            return None
        easier = machine.easier_reason(state, pose) is not None
        return self._pictures.for_step(pose, easier=easier)

    def _sound(self, state: PracticeState, pose: Step, *, spoken: bool = False) -> Sound | None:
        """The pose's spoken cue for the version the state shows, when the practice is
        spoken (or `spoken` anyway) and the words are rendered by now."""
        if not (state.voice or spoken):
            return None
        easier = machine.easier_reason(state, pose) is not None
        return self._sounds.for_step(pose, easier=easier)

    def _bridge(self, state: PracticeState, plan: Plan) -> str | None:
        """The step's short_start, where the steps this practice runs put it after another
        pose than the whole class does."""
        pose = plan.steps[state.step]
        if pose.short_start is None or state.step == 0:
            return None
        whole = [step.id for step in self._catalog[state.class_id].steps]
        before = plan.steps[state.step - 1]
        if whole.index(pose.id) - whole.index(before.id) == 1:
            return None
        return pose.short_start

    async def _summary(
        self,
        uow: UnitOfWork,
        state: PracticeState,
        *,
        may_suggest: bool = False,
        owed_only: bool = True,
    ) -> Summary | None:
        """The closing message's facts, for a closed practice whose closing message is
        owed (any closed practice, unless `owed_only`). With `may_suggest` (a writing unit
        of work, as the practice ends), the slow pace may be suggested, once per user."""
        plan = self._plan(state)
        if (owed_only and not state.summary_pending) or state.open or plan is None:
            return None
        counts = await uow.practices.event_counts(state.id)
        suggest = may_suggest and await self._suggest_slow_pace(uow, state, counts)
        skipped = counts.get(EventKind.SKIPPED, 0)
        # A practice stopped part-way did not hold its last pose to the end.
        interrupted = 1 if state.stopped else 0
        return Summary(
            class_title=self._catalog[state.class_id].title,
            status=state.status,
            minutes=round(state.practised_seconds / 60),
            poses_done=max(0, counts.get(EventKind.SHOWN, 0) - skipped - interrupted),
            poses_skipped=skipped,
            ended_on=state.step,
            rushed=machine.rushed(state, plan),
            planned_minutes=round(sum(plan.holds) / 60),
            total_poses=len(plan.steps),
            easier_used=counts.get(EventKind.EASIER, 0),
            ask_after=state.finished,
            gentle=state.gentle,
            stop_reason=state.stop_reason if state.stopped else None,
            stopped_at=machine.carry_on_from(state),
            suggest_slow_pace=suggest,
        )

    async def _suggest_slow_pace(
        self, uow: UnitOfWork, state: PracticeState, counts: dict[EventKind, int]
    ) -> bool:
        now = counts.get(EventKind.MORE_TIME, 0)
        if not machine.suggest_slow_pace(now, now, on_slow_pace=False):
            return False  # too few this time: no need to look further
        slow = (await settings_in(uow, state.user_id)).pace == Pace.SLOW
        previous = await uow.practices.previous_of(state.user_id, state.id)
        if previous is None:
            return False
        before = (await uow.practices.event_counts(previous.id)).get(EventKind.MORE_TIME, 0)
        if not machine.suggest_slow_pace(now, before, on_slow_pace=slow):
            return False
        return await uow.users.mark_slow_pace_suggested(state.user_id)


def _writes(change: Transition | Refusal, before: PracticeState) -> bool:
    return isinstance(change, Transition) and (change.state != before or bool(change.records))
