"""The practice service: which cue comes next, when, and what is recorded; the ways into a
practice; and the questions a practice asks when something hurts or the user stops.

Plain Python over the store; it never talks to Telegram. Every user action names the step
it was made on, and the service refuses it unless that step is still the current one.
After every change it arms or cancels the practice's timer itself, through the `Timers`
port, and returns one `PracticeOutcome` saying what the chat should now show. The
machinery every action shares is in bot.practice_core.
"""

from __future__ import annotations

import logging
from datetime import datetime, timedelta
from typing import NamedTuple

from bot import pose_memory
from bot.cues import (
    ContinueOffer,
    Cue,
    Heard,
    MessageRef,
    PracticeOutcome,
    ReadyToCheckIn,
    ScreenFirst,
    Summary,
    WayIn,
)
from bot.models import (
    OPEN_STATUSES,
    ClassLength,
    EventKind,
    Pictures,
    Practice,
    PracticeQuestion,
    PracticeStatus,
    StopReason,
    User,
)
from bot.practice_core import (
    CHOSEN_STOPS,
    CONTINUE_WITHIN,
    DUE_TOLERANCE,
    MAX_ATTEMPTS,
    MORE_TIME_SECONDS,
    PAIN_QUESTIONS,
    SEND_GRACE,
    STORE_RETRY,
    Change,
    NoTimers,
    PracticeCore,
    PracticePaused,
    StaleAction,
    Timers,
    Unrecorded,
    cue_message,
    felt_worse_after,
    retry_delay,
)
from bot.safety import Gate, PainSignal, ScreenStatus, gate, pain_in, screen_status
from bot.store import StoreUnavailable, UnitOfWork
from bot.timezones import user_zone
from bot.user_settings import paced_hold, settings_in
from sequences import YogaClass


class Overdue(NamedTuple):
    """A practice a sweep found: its hold is over, or its cue not confirmed delivered."""

    practice_id: int
    step: int
    chat_id: int
    cue_confirmed: bool


__all__ = [
    "CONTINUE_WITHIN",
    "SEND_GRACE",
    "STORE_RETRY",
    "Cue",
    "MessageRef",
    "NoTimers",
    "PracticeOutcome",
    "PracticePaused",
    "PracticeService",
    "StaleAction",
    "Summary",
    "Timers",
]

log = logging.getLogger(__name__)

# The red-flag screen's answers that rule out any class for the rest of the day.
SIGN_TODAY = frozenset({ScreenStatus.SEE_CLINICIAN_TODAY, ScreenStatus.URGENT_TODAY})


class PracticeService(PracticeCore):
    # -- the way in ------------------------------------------------------------------------

    async def way_in(self, user_id: int, *, offer_continue: bool = True) -> WayIn:
        """What /start_practice (or a Start button) leads to. An open practice is paused at
        once and offered to continue, and so is one the user stopped within the last two
        hours; then the red-flag screen, if it is due or reported a sign today; else the
        intro and check-in."""
        async with self._store.read() as uow:
            user = await uow.users.get(user_id)
        status = self._screen_status(user)
        # A sign reported today comes before any offer to continue: no class today.
        if status in SIGN_TODAY:
            return ScreenFirst(status)
        if offer_continue:
            offer = await self._continue_offer(user_id)
            if offer is not None:
                return offer
        if status != ScreenStatus.CLEAR:
            return ScreenFirst(status)
        async with self._store.read() as uow:
            latest = await uow.practices.latest_of(user_id)
            settings = await settings_in(uow, user_id)
        yoga_class = self.default_class
        steps = yoga_class.steps_for(settings.class_length)
        holds = sum(paced_hold(step.hold_seconds, settings.pace_factor) for step in steps)
        return ReadyToCheckIn(
            yoga_class,
            felt_worse_last_time=felt_worse_after(latest),
            settings=settings,
            minutes=round(holds / 60),
        )

    async def checked_in(
        self,
        user_id: int,
        chat_id: int,
        first_name: str,
        score: int | None,
        *,
        checkin_message_id: int,
    ) -> PracticeOutcome | Gate | ScreenFirst:
        """The answer to the back check-in: the class begins, or the pain gate asks first
        (a sore day, a day for rest, or a practice that left the back worse last time).
        The red-flag screen is checked here, not trusted to the buttons: a check-in
        pressed (or forged) by someone the screen has not cleared today gets the screen."""
        decision = await self._gate_for(user_id, score, chat_id, checkin_message_id)
        if not isinstance(decision, Gate) or decision != Gate.BEGIN:
            return decision
        return await self.start(
            user_id,
            chat_id,
            first_name,
            back_before=score,
            checkin_message_id=checkin_message_id,
        )

    async def gate_chosen(
        self,
        user_id: int,
        chat_id: int,
        first_name: str,
        score: int | None,
        *,
        gentle: bool,
        checkin_message_id: int,
    ) -> PracticeOutcome | Gate | ScreenFirst:
        """A choice on the pain gate: the gentle practice, or the usual one. The choice is
        checked against the gate this score leads to, as the buttons were drawn: the usual
        class is offered only when the back is within what is fine (pain-monitoring model,
        up to 5/10), so a usual start asked for at 6-10 gets the gate again, with its real
        choices. The gentle practice is always allowed: it is the cautious way."""
        decision = await self._gate_for(user_id, score, chat_id, checkin_message_id)
        if not isinstance(decision, Gate):
            return decision
        if not gentle and decision not in (Gate.BEGIN, Gate.SUGGEST_GENTLE):
            return decision
        return await self.start(
            user_id,
            chat_id,
            first_name,
            back_before=score,
            checkin_message_id=checkin_message_id,
            gentle=gentle,
        )

    async def _gate_for(
        self, user_id: int, score: int | None, chat_id: int, checkin_message_id: int
    ) -> Gate | ScreenFirst:
        """Where a check-in's answer leads, the red-flag screen first (NICE NG59 1.1.1:
        serious causes are thought of before exercise). StaleAction for a question that
        already started a class (a second tap)."""
        async with self._store.read() as uow:
            if await uow.practices.started_by(chat_id, checkin_message_id):
                raise StaleAction
            user = await uow.users.get(user_id)
            worse = felt_worse_after(await uow.practices.latest_of(user_id))
        status = self._screen_status(user)
        if status != ScreenStatus.CLEAR:
            return ScreenFirst(status)
        return gate(score, felt_worse_last_time=worse)

    def _screen_status(self, user: User | None) -> ScreenStatus:
        zone = user_zone(user.timezone if user else None, self._default_zone)
        return screen_status(
            user.screen_answer if user else None,
            user.screened_at if user else None,
            self._clock(),
            zone,
        )

    async def _continue_offer(self, user_id: int) -> ContinueOffer | None:
        async with self._store.read() as uow:
            opened = [
                p for p in await uow.practices.open_of(user_id) if p.class_id in self._catalog
            ]
            stopped = None if opened else await uow.practices.latest_stopped(user_id)
        if opened:
            practice = opened[-1]

            def still_open(row: Practice) -> bool:
                return row.status in OPEN_STATUSES

            async def attempt(
                uow: UnitOfWork, row: Practice, yoga_class: YogaClass | None
            ) -> Change | None:
                if not await uow.practices.ask(row, PracticeQuestion.RESTART, self._left(row)):
                    return None
                return Change(PracticeOutcome(row.id, row.chat_id), cancel=True)

            paused = await self._change(practice.id, None, still_open, attempt)
            if paused is None:
                return None
            async with self._store.read() as uow:
                now_paused = await uow.practices.get(practice.id)
            assert now_paused is not None
            return self._offer(now_paused, stopped=False)
        if stopped is None or not self._continuable(stopped):
            return None
        return self._offer(stopped, stopped=True)

    def _continuable(self, practice: Practice) -> bool:
        return (
            practice.status == PracticeStatus.STOPPED
            and practice.stop_reason in CHOSEN_STOPS
            and practice.finished_at is not None
            and self._clock() - practice.finished_at < CONTINUE_WITHIN
            and practice.class_id in self._catalog
        )

    def _offer(self, practice: Practice, *, stopped: bool) -> ContinueOffer:
        steps = self._steps(practice, self._catalog[practice.class_id])
        minutes_ago = 0
        if stopped and practice.finished_at is not None:
            minutes_ago = int((self._clock() - practice.finished_at).total_seconds() // 60)
        return ContinueOffer(
            practice_id=practice.id,
            step=practice.current_step,
            total=len(steps),
            pose_title=steps[practice.current_step].title,
            stopped=stopped,
            minutes_ago=minutes_ago,
        )

    async def carry_on(self, user_id: int, practice_id: int, step: int) -> PracticeOutcome:
        """Continue: the practice paused by a new /start_practice goes on with its pose's
        remaining hold, or the one stopped a while ago goes on with the pose it stopped on.
        The cue is sent afresh, under the question; the old cue's buttons go. Not on a day
        a sign was reported (StaleAction: an old Continue button changes nothing)."""
        async with self._store.read() as uow:
            if self._screen_status(await uow.users.get(user_id)) in SIGN_TODAY:
                raise StaleAction

        def theirs(practice: Practice) -> bool:
            return practice.user_id == user_id and (
                practice.question == PracticeQuestion.RESTART or self._continuable(practice)
            )

        async def attempt(
            uow: UnitOfWork, practice: Practice, yoga_class: YogaClass | None
        ) -> Change | None:
            assert yoga_class is not None
            now = self._clock()
            if practice.status == PracticeStatus.STOPPED:
                pose = self._steps(practice, yoga_class)[step]
                deadline = now + timedelta(seconds=self._timer_seconds(self._hold(practice, pose)))
                if not await uow.practices.reopen(practice, deadline):
                    return None
            else:
                deadline = now + timedelta(seconds=practice.remaining_seconds or 0.0)
                if not await uow.practices.resume(practice.id, step, deadline):
                    return None
            old_cue = cue_message(practice)
            cue = await self._shown_now(uow, practice.id, yoga_class)
            outcome = PracticeOutcome(practice.id, practice.chat_id, retire=old_cue, show=cue)
            return Change(outcome, arm=(step, deadline))

        outcome = await self._change(practice_id, step, theirs, attempt)
        if outcome is None:
            raise StaleAction
        return outcome

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
        gentle: bool = False,
    ) -> PracticeOutcome:
        """Begin a class and close the user's other open practices, in one unit of work;
        a check-in message starts at most one (StaleAction on a repeat)."""
        yoga_class = self._catalog[class_id] if class_id else self.default_class
        now = self._clock()
        async with self._store.write() as uow:
            await uow.users.save(user_id, chat_id, first_name, now)
            settings = await settings_in(uow, user_id)
            # A gentle practice is the short class, every pose in its easier version.
            length = ClassLength.SHORT if gentle else settings.class_length
            steps = yoga_class.steps_for(length.value)
            remembered = pose_memory.decide(
                await uow.practices.past_practices(user_id, yoga_class.id),
                (step.id for step in steps),
                settings.easier_mode,
            )
            hold = paced_hold(steps[0].hold_seconds, settings.pace_factor)
            deadline = now + timedelta(seconds=self._timer_seconds(hold))
            practice = await uow.practices.create(
                user_id=user_id,
                chat_id=chat_id,
                class_id=yoga_class.id,
                now=now,
                hold_ends_at=deadline,
                back_before=back_before,
                checkin_message_id=checkin_message_id,
                gentle=gentle,
                easier_from_start=pose_memory.pack(remembered),
                class_length=length,
                pace_factor=settings.pace_factor,
                pictures=settings.pictures == Pictures.ON,
            )
            if practice is None:
                raise StaleAction
            # Locked as they are read, so no timer moves them on before they are closed.
            opened = await uow.practices.open_of(user_id, lock=True)
            replaced = [other for other in opened if other.id != practice.id]
            for other in replaced:
                await self._close(
                    uow, other, PracticeStatus.STOPPED, skipped=False, reason=StopReason.REPLACED
                )
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

    async def delivered(
        self, cue: Cue, chat_id: int, message_id: int, *, at: datetime | None = None
    ) -> PracticeOutcome:
        """The cue reached the chat (at `at`, by default now): only now is it shown. Its hold
        runs to the deadline set when the practice moved on, or from `at` if the cue came
        late. If the practice moved on while the cue was being sent, nothing could know this
        message yet: retire it.

        A database that does not answer changes nothing the user sees: the cue is kept in
        this process's memory, recorded by the practice's timer once the database answers,
        and never sent again meanwhile (advance_if_due)."""
        at = self._clock() if at is None else at
        try:
            return await self._record(Unrecorded(cue, chat_id, message_id, at))
        except StoreUnavailable:
            self._unrecorded[(cue.practice_id, cue.step)] = Unrecorded(cue, chat_id, message_id, at)
            self._timers.arm(cue.practice_id, cue.step, chat_id, self._clock() + STORE_RETRY)
            return PracticeOutcome(cue.practice_id, chat_id)

    async def _record(self, sent: Unrecorded) -> PracticeOutcome:
        cue, chat_id = sent.cue, sent.chat_id
        deadline = sent.at + timedelta(seconds=self._timer_seconds(cue.hold_seconds))
        async with self._store.write() as uow:
            confirmed = await uow.practices.confirm_cue(
                cue.practice_id,
                cue.step,
                cue.pose.id,
                sent.message_id,
                now=sent.at,
                hold_ends_at=deadline,
            )
            practice = await uow.practices.get(cue.practice_id)
        if not confirmed:
            return PracticeOutcome(
                cue.practice_id, chat_id, retire=(MessageRef(chat_id, sent.message_id),)
            )
        assert practice is not None
        if practice.status == PracticeStatus.ACTIVE and practice.hold_ends_at is not None:
            self._timers.arm(cue.practice_id, cue.step, chat_id, practice.hold_ends_at)
        return PracticeOutcome(cue.practice_id, chat_id)

    async def _record_remembered(self, practice_id: int) -> PracticeOutcome | None:
        """Record what this process remembers of the practice's delivered cues; None when
        it remembers none. StoreUnavailable while the database still does not answer."""
        keys = sorted(key for key in self._unrecorded if key[0] == practice_id)
        if not keys:
            return None
        retire: list[MessageRef] = []
        chat_id = self._unrecorded[keys[0]].chat_id
        for key in keys:
            outcome = await self._record(self._unrecorded[key])
            del self._unrecorded[key]
            retire.extend(outcome.retire)
        return PracticeOutcome(practice_id, chat_id, retire=tuple(retire))

    def remembers(self, practice_id: int, step: int) -> bool:
        """This process got Telegram's answer for the step's cue and has not recorded it."""
        return (practice_id, step) in self._unrecorded

    async def undelivered(self, cue: Cue, chat_id: int) -> float | None:
        """Telegram did not take the cue (or did not say it did): it is sent again after a
        pause that doubles with each failure (retry_delay), stored so that whichever
        worker's timer or sweep looks next keeps to it. The seconds until then, or None
        when the practice has moved on or the cue was delivered meanwhile."""
        async with self._store.write() as uow:
            practice = await uow.practices.cue_failed(cue.practice_id, cue.step)
            if practice is None:
                return None
            delay = retry_delay(practice.cue_attempts)
            at = self._clock() + timedelta(seconds=delay)
            await uow.practices.retry_cue_at(cue.practice_id, cue.step, at)
        self._timers.arm(cue.practice_id, cue.step, chat_id, at)
        return delay

    async def bring_back(self, user_id: int) -> PracticeOutcome | None:
        """The user is here again: a practice paused because its cue could not be sent goes
        on, with that cue (its hold begins once it is delivered)."""

        def still_stalled(practice: Practice) -> bool:
            # Only an earlier rule paused a practice whose cue could not be sent (it gave up
            # after a few tries); such practices still go on when their user is back.
            return (
                practice.status == PracticeStatus.PAUSED
                and practice.cue_message_id is None
                and practice.question is None
                and practice.cue_attempts > 0
            )

        async with self._store.peek() as uow:  # on every update: one query
            stalled = [p for p in await uow.practices.open_of(user_id) if still_stalled(p)]
        if not stalled:
            return None

        async def attempt(
            uow: UnitOfWork, practice: Practice, yoga_class: YogaClass | None
        ) -> Change | None:
            assert yoga_class is not None
            deadline = self._clock() + timedelta(seconds=practice.remaining_seconds or 0.0)
            if not await uow.practices.resume(practice.id, practice.current_step, deadline):
                return None
            cue = await self._shown_now(uow, practice.id, yoga_class)
            return Change(PracticeOutcome(practice.id, practice.chat_id, show=cue))

        practice = stalled[0]
        return await self._change(practice.id, practice.current_step, still_stalled, attempt)

    async def next(self, user_id: int, practice_id: int, step: int) -> PracticeOutcome:
        return await self._act(user_id, practice_id, step, self._next_attempt(skipped=True))

    async def reveal_easier(self, user_id: int, practice_id: int, step: int) -> PracticeOutcome:
        async def attempt(
            uow: UnitOfWork, practice: Practice, yoga_class: YogaClass | None
        ) -> Change | None:
            return await self._toggle(uow, practice, yoga_class, EventKind.EASIER)

        return await self._act(user_id, practice_id, step, attempt)

    async def usual_version(self, user_id: int, practice_id: int, step: int) -> PracticeOutcome:
        """Usual version: the easier version the practice showed from the start taken back
        (and remembered so: the pose memory can fade)."""

        async def attempt(
            uow: UnitOfWork, practice: Practice, yoga_class: YogaClass | None
        ) -> Change | None:
            return await self._toggle(uow, practice, yoga_class, EventKind.USUAL)

        return await self._act(user_id, practice_id, step, attempt)

    async def more_time(self, user_id: int, practice_id: int, step: int) -> PracticeOutcome:
        """+15 s on the current hold, running or paused, as often as the user likes."""

        async def attempt(
            uow: UnitOfWork, practice: Practice, yoga_class: YogaClass | None
        ) -> Change | None:
            assert yoga_class is not None
            pose = self._steps(practice, yoga_class)[step]
            if not await uow.practices.add_time(
                practice, MORE_TIME_SECONDS, self._timer_seconds(MORE_TIME_SECONDS)
            ):
                return None
            await uow.practices.record(
                practice.id, step, pose.id, EventKind.MORE_TIME, self._clock()
            )
            cue = await self._shown_now(uow, practice.id, yoga_class)
            outcome = PracticeOutcome(practice.id, practice.chat_id, redraw=cue)
            moved = await uow.practices.get(practice.id)
            if moved is None or moved.hold_ends_at is None:
                return Change(outcome)  # paused: the clock starts again on Resume
            return Change(outcome, arm=(step, moved.hold_ends_at))

        return await self._act(user_id, practice_id, step, attempt)

    async def pause(self, user_id: int, practice_id: int, step: int) -> PracticeOutcome:
        async def attempt(
            uow: UnitOfWork, practice: Practice, yoga_class: YogaClass | None
        ) -> Change | None:
            assert yoga_class is not None
            if practice.status != PracticeStatus.ACTIVE or practice.hold_ends_at is None:
                raise StaleAction
            remaining = self._left(practice)
            if not await uow.practices.pause(practice.id, step, remaining):
                return None
            cue = await self._shown_now(uow, practice.id, yoga_class)
            return Change(PracticeOutcome(practice.id, practice.chat_id, redraw=cue), cancel=True)

        return await self._act(user_id, practice_id, step, attempt)

    async def resume(self, user_id: int, practice_id: int, step: int) -> PracticeOutcome:
        async def attempt(
            uow: UnitOfWork, practice: Practice, yoga_class: YogaClass | None
        ) -> Change | None:
            if practice.status != PracticeStatus.PAUSED:
                raise StaleAction
            return await self._go_on(uow, practice, yoga_class)

        return await self._act(user_id, practice_id, step, attempt)

    # -- Stop, and its question --------------------------------------------------------------

    async def stop(self, user_id: int, practice_id: int, step: int) -> PracticeOutcome:
        """Stop asks once (End practice / Keep going), with the clock stopped meanwhile."""
        return await self._act(user_id, practice_id, step, self._ask(PracticeQuestion.STOP))

    async def end(self, user_id: int, practice_id: int, step: int) -> PracticeOutcome:
        attempt = self._stop_attempt(StopReason.BY_USER)
        return await self._answer(user_id, practice_id, step, (PracticeQuestion.STOP,), attempt)

    async def keep_going(self, user_id: int, practice_id: int, step: int) -> PracticeOutcome:
        return await self._answer(user_id, practice_id, step, (PracticeQuestion.STOP,), self._go_on)

    # -- It hurts, and its question ----------------------------------------------------------

    async def hurts(self, user_id: int, practice_id: int, step: int) -> PracticeOutcome:
        """It hurts: the pose's clock stops, the pain is recorded for the pose, and the cue
        asks how to go on."""
        return await self._act(
            user_id, practice_id, step, self._ask(PracticeQuestion.HURT), during_question=True
        )

    async def pain_heard(self, user_id: int, signal: PainSignal) -> PracticeOutcome | None:
        """Pain words typed during a practice: the It hurts question for the current pose,
        sent afresh beside the user's words (the old cue's buttons go). None when the user
        has no open practice."""
        async with self._store.read() as uow:
            opened = [
                p for p in await uow.practices.open_of(user_id) if p.class_id in self._catalog
            ]
        if not opened:
            return None
        question = PracticeQuestion.NUMB if signal == PainSignal.NERVE else PracticeQuestion.HURT
        practice = opened[-1]
        ask = self._ask(question)

        async def attempt(
            uow: UnitOfWork, row: Practice, yoga_class: YogaClass | None
        ) -> Change | None:
            old_cue = cue_message(row)
            change = await ask(uow, row, yoga_class)
            if change is None or change.outcome.redraw is None:
                return change
            outcome = PracticeOutcome(
                row.id, row.chat_id, retire=old_cue, show=change.outcome.redraw
            )
            return Change(outcome, cancel=True)

        return await self._act(
            user_id, practice.id, practice.current_step, attempt, during_question=True
        )

    async def heard(self, user_id: int, text: str) -> PracticeOutcome | Heard:
        """Typed words: pain words during a practice ask the It hurts question; anything
        else only needs a reply."""
        signal = pain_in(text)
        if signal is not None:
            # A practice that moves on meanwhile is asked about the pose now on screen.
            for _ in range(MAX_ATTEMPTS):
                try:
                    outcome = await self.pain_heard(user_id, signal)
                except StaleAction:
                    continue
                return Heard.PAIN_OUTSIDE_PRACTICE if outcome is None else outcome
        async with self._store.read() as uow:
            opened = await uow.practices.open_of(user_id)
        return Heard.DURING_PRACTICE if opened else Heard.CHAT

    async def try_easier(self, user_id: int, practice_id: int, step: int) -> PracticeOutcome:
        """After It hurts: the easier version, and the hold starts again from the top."""

        async def attempt(
            uow: UnitOfWork, practice: Practice, yoga_class: YogaClass | None
        ) -> Change | None:
            assert yoga_class is not None
            pose = self._steps(practice, yoga_class)[step]
            await uow.practices.record(practice.id, step, pose.id, EventKind.EASIER, self._clock())
            hold = self._hold(practice, pose, extra=practice.extra_seconds)
            deadline = self._clock() + timedelta(seconds=self._timer_seconds(hold))
            if not await uow.practices.resume(practice.id, step, deadline):
                return None
            cue = await self._shown_now(uow, practice.id, yoga_class)
            outcome = PracticeOutcome(practice.id, practice.chat_id, redraw=cue)
            return Change(outcome, arm=(step, deadline))

        return await self._answer(user_id, practice_id, step, PAIN_QUESTIONS, attempt)

    async def skip_pose(self, user_id: int, practice_id: int, step: int) -> PracticeOutcome:
        return await self._answer(
            user_id, practice_id, step, PAIN_QUESTIONS, self._next_attempt(skipped=True)
        )

    async def end_for_pain(self, user_id: int, practice_id: int, step: int) -> PracticeOutcome:
        attempt = self._stop_attempt(StopReason.FOR_PAIN)
        return await self._answer(user_id, practice_id, step, PAIN_QUESTIONS, attempt)

    # -- what the timer and the process do -------------------------------------------------

    async def overdue(self, *, grace: timedelta, limit: int) -> list[Overdue]:
        """Practices another worker's timer should have moved on by now (their hold ended
        more than `grace` ago), and those whose cue is not confirmed delivered: what a
        worker's sweep looks at, so that a class goes on when the worker that armed its
        timer has died."""
        async with self._store.write() as uow:
            rows = await uow.practices.overdue(self._clock() - grace, limit)
        return [Overdue(*row) for row in rows]

    async def advance_if_due(
        self, practice_id: int, step: int, *, sender_gone: bool = False
    ) -> PracticeOutcome | None:
        """The timer's entry: move on if the hold is over. Before then it arms the timer
        again for the stored deadline; for a step that is over it does nothing (None).

        `sender_gone`: the caller holds the chat's lock and found it free, so nobody is
        sending this step's cue (see bot/store/chat_locks.py); a cue not confirmed delivered
        is then sent again at once rather than after SEND_GRACE."""
        recorded = await self._record_remembered(practice_id)
        if recorded is not None:
            return recorded

        def due(practice: Practice) -> bool:
            return practice.status == PracticeStatus.ACTIVE and practice.hold_ends_at is not None

        async def attempt(
            uow: UnitOfWork, practice: Practice, yoga_class: YogaClass | None
        ) -> Change | None:
            assert practice.hold_ends_at is not None and yoga_class is not None
            now = self._clock()
            if practice.cue_message_id is None:
                # The cue is not known to have arrived. After a failed send it goes again at
                # its stored time, whoever looks (a timer or any worker's sweep); otherwise
                # its send may still be under way, and only a send silent for far longer
                # than any send takes counts as failed.
                retry_at = practice.cue_retry_at
                if retry_at is not None and retry_at - now > DUE_TOLERANCE:
                    return Change(
                        PracticeOutcome(practice.id, practice.chat_id), arm=(step, retry_at)
                    )
                given_up_at = practice.hold_ends_at + SEND_GRACE
                if practice.cue_attempts == 0 and now < given_up_at and not sender_gone:
                    outcome = PracticeOutcome(practice.id, practice.chat_id)
                    return Change(outcome, arm=(step, given_up_at))
                cue = await self._shown(uow, practice, yoga_class)
                return Change(PracticeOutcome(practice.id, practice.chat_id, show=cue))
            if practice.hold_ends_at - now > DUE_TOLERANCE:
                outcome = PracticeOutcome(practice.id, practice.chat_id)
                return Change(outcome, arm=(step, practice.hold_ends_at))
            return await self._next_attempt(skipped=False)(uow, practice, yoga_class)

        return await self._change(practice_id, step, due, attempt)

    async def resume_all(self, *, arm_only: bool = False) -> list[PracticeOutcome]:
        """At start-up: arm a timer for every stored deadline (an overdue one fires at once,
        so the next cue arrives once, late), and send again each cue never confirmed
        delivered. A paused practice (by the user, by a question, or because its cue could
        not be sent) waits for the user.

        `arm_only`, for a worker among several: only the timers. Whether an unconfirmed
        cue or a closing message is still owed is decided under the chat's lock by the
        sweep, because another worker may be sending it right now."""
        outcomes: list[PracticeOutcome] = []
        async with self._store.read() as uow:
            # Oldest deadline first: overdue timers catch up in this order.
            practices = sorted(
                await uow.practices.all_open(),
                key=lambda p: (p.hold_ends_at is None, p.hold_ends_at),
            )
            for practice in practices:
                yoga_class = self._catalog.get(practice.class_id)
                if yoga_class is None or practice.status != PracticeStatus.ACTIVE:
                    continue
                if practice.cue_message_id is None:
                    if arm_only:
                        continue
                    cue = await self._shown(uow, practice, yoga_class)
                    outcomes.append(PracticeOutcome(practice.id, practice.chat_id, show=cue))
                elif practice.hold_ends_at is not None:
                    self._timers.arm(
                        practice.id, practice.current_step, practice.chat_id, practice.hold_ends_at
                    )
            for closed in [] if arm_only else await uow.practices.owing_summary():
                yoga_class = self._catalog.get(closed.class_id)
                if yoga_class is None:
                    continue
                summary = await self._summary(uow, closed, yoga_class, closed.status)
                outcomes.append(PracticeOutcome(closed.id, closed.chat_id, summary=summary))
        return outcomes

    async def summaries_owed(self) -> list[tuple[int, int]]:
        """(practice id, chat id) of each closed practice whose closing message is owed."""
        async with self._store.read() as uow:
            return [(p.id, p.chat_id) for p in await uow.practices.owing_summary()]

    async def owed_summary(self, practice_id: int) -> PracticeOutcome | None:
        """The closing message of a practice, if it is still owed: for a caller holding the
        chat's lock, which found nobody else sending it."""
        async with self._store.read() as uow:
            closed = await uow.practices.get(practice_id)
            if closed is None or not closed.summary_pending:
                return None
            yoga_class = self._catalog.get(closed.class_id)
            if yoga_class is None:
                return None
            summary = await self._summary(uow, closed, yoga_class, closed.status)
        return PracticeOutcome(closed.id, closed.chat_id, summary=summary)

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
        ) -> Change | None:
            return await self._close(
                uow, practice, PracticeStatus.STOPPED, skipped=False, reason=StopReason.UNREACHABLE
            )

        async with self._store.read() as uow:
            open_ids = [p.id for p in await uow.practices.open_in_chat(chat_id)]
        for practice_id in open_ids:
            await self._change(practice_id, None, still_open, attempt, any_class=True)

    async def on_screen(self, practice_id: int, step: int) -> Cue | None:
        """The cue as it should look now, if the practice is open and still on `step`
        (for a redraw that waited); None once it has moved on or ended."""
        async with self._store.read() as uow:
            practice = await uow.practices.get(practice_id)
            if (
                practice is None
                or practice.status not in OPEN_STATUSES
                or practice.current_step != step
                or practice.class_id not in self._catalog
            ):
                return None
            return await self._shown(uow, practice, self._catalog[practice.class_id])

    async def current_cue(self, practice_id: int) -> Cue:
        async with self._store.read() as uow:
            practice = await uow.practices.get(practice_id)
            if practice is None or practice.class_id not in self._catalog:
                raise StaleAction
            return await self._shown(uow, practice, self._catalog[practice.class_id])
