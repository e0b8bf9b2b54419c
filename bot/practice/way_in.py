"""The way into a practice: the continue offer, the red-flag screen, the back check-in and
its pain gate, and the start of a class (which closes the user's other open practices)."""

from __future__ import annotations

from dataclasses import replace
from datetime import timedelta

from bot import pose_memory
from bot.cues import (
    ContinueOffer,
    MessageRef,
    PlanStage,
    PlayerNote,
    PracticeOutcome,
    ReadyToCheckIn,
    ScreenFirst,
    Starting,
    WayIn,
)
from bot.emergency import emergency_number
from bot.models import (
    ClassLength,
    EasierMode,
    Pace,
    Pictures,
    Practice,
    ScreenAnswer,
    User,
    Voice,
)
from bot.practice import machine
from bot.practice.core import PracticeCore, StaleAction
from bot.practice.machine import (
    Action,
    AskToContinue,
    Ended,
    EventKind,
    Note,
    PracticeState,
    Press,
    Record,
    Refusal,
    StopReason,
    Surface,
    Transition,
)
from bot.programme.rules import capped
from bot.programme.service import chosen_runs
from bot.safety import Gate, ScreenStatus, felt_worse, gate, screen_status
from bot.store import UnitOfWork
from bot.store.practice import state_of
from bot.timezones import user_zone
from bot.user_settings import UserSettings, paced_hold, settings_in

# The red-flag screen's answers that rule out any class for the rest of the day.
SIGN_TODAY = frozenset({ScreenStatus.SEE_CLINICIAN_TODAY, ScreenStatus.URGENT_TODAY})


def felt_worse_after(practice: Practice | None) -> bool:
    return practice is not None and felt_worse(practice.back_before, practice.back_after)


class WaysIn(PracticeCore):
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
            return self._screen_first(status, user)
        if offer_continue:
            offer = await self._continue_offer(user_id)
            if offer is not None:
                return offer
        if status != ScreenStatus.CLEAR:
            return self._screen_first(status, user)
        # What runs is said once the check-in has decided it (`Starting`, from `start`).
        return ReadyToCheckIn(self.default_class)

    async def checked_in(
        self,
        user_id: int,
        chat_id: int,
        first_name: str,
        score: int | None,
        *,
        checkin_message_id: int | None,
        surface: Surface = Surface.CHAT,
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
            surface=surface,
        )

    async def gate_chosen(
        self,
        user_id: int,
        chat_id: int,
        first_name: str,
        score: int | None,
        *,
        gentle: bool,
        checkin_message_id: int | None,
        surface: Surface = Surface.CHAT,
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
            surface=surface,
        )

    async def _gate_for(
        self, user_id: int, score: int | None, chat_id: int, checkin_message_id: int | None
    ) -> Gate | ScreenFirst:
        """Where a check-in's answer leads, the red-flag screen first (NICE NG59 1.1.1:
        serious causes are thought of before exercise). StaleAction for a question that
        already started a class (a second tap)."""
        async with self._store.read() as uow:
            if checkin_message_id is not None and await uow.practices.started_by(
                chat_id, checkin_message_id
            ):
                raise StaleAction
            user = await uow.users.get(user_id)
            worse = felt_worse_after(await uow.practices.latest_of(user_id))
        status = self._screen_status(user)
        if status != ScreenStatus.CLEAR:
            return self._screen_first(status, user)
        return gate(score, felt_worse_last_time=worse)

    def _screen_first(self, status: ScreenStatus, user: User | None) -> ScreenFirst:
        """The screen first, saying so when it is asked again after a sign reported on an
        earlier day (NICE NG59 1.1.1: reassess; a clinician may have seen them since)."""
        earlier = None
        if (
            status == ScreenStatus.DUE
            and user is not None
            and user.screened_at is not None
            and user.screen_answer in (ScreenAnswer.SEE_CLINICIAN, ScreenAnswer.URGENT)
        ):
            earlier = user.screened_at.astimezone(user_zone(user.timezone, self._default_zone))
        return ScreenFirst(
            status,
            emergency_number(user.timezone if user else None),
            sign_reported_on=earlier.date() if earlier is not None else None,
        )

    def _screen_status(self, user: User | None) -> ScreenStatus:
        zone = user_zone(user.timezone if user else None, self._default_zone)
        return screen_status(
            user.screen_answer if user else None,
            user.screened_at if user else None,
            self._clock(),
            zone,
        )

    async def _continue_offer(self, user_id: int) -> ContinueOffer | None:
        """An open practice is paused now, and offered; else one the user stopped a
        little while ago."""
        async with self._store.read() as uow:
            opened = [
                state
                for state in await uow.practices.open_states(user_id=user_id)
                if self._plan(state) is not None
            ]
            latest = None if opened else await uow.practices.latest_stopped(user_id)
        if opened:
            try:
                held = await self.apply(opened[-1].id, AskToContinue())
            except StaleAction:
                return None  # closed meanwhile
            async with self._store.read() as uow:
                paused = await uow.practices.state(opened[-1].id)
            assert paused is not None
            return replace(self._offer(paused), held=held)
        if latest is None:
            return None
        stopped = state_of(latest)
        if not machine.continuable(stopped, self._clock()) or self._plan(stopped) is None:
            return None
        return self._offer(stopped)

    def _offer(self, state: PracticeState) -> ContinueOffer:
        plan = self._plan(state)
        assert plan is not None
        return ContinueOffer(
            practice_id=state.id,
            step=state.step,
            total=len(plan.steps),
            pose_title=plan.steps[state.step].title,
            stopped=state.stopped,
            minutes_ago=machine.minutes_since(state, self._clock()),
        )

    async def _plan_allows(
        self,
        uow: UnitOfWork,
        user_id: int,
        class_id: str,
        back_before: int | None,
        settings: UserSettings,
        *,
        gentle: bool,
    ) -> tuple[UserSettings, int | None, PlanStage | None]:
        """The settings the practice runs with: the user's own, never harder than their
        plan's stage allows (bot/programme/rules.py), and the stage it counts for (None
        when easier than the stage: the user's choice, always allowed)."""
        allowed = await self._programme.allowed_for_start(uow, user_id, class_id, back_before)
        if allowed is None:
            return settings, None, None
        chosen = chosen_runs(settings)
        runs = capped(chosen, allowed.runs)
        capped_settings = replace(
            settings,
            class_length=ClassLength(runs.length),
            easier_mode=EasierMode(runs.easier),
            pace=Pace(runs.pace),
        )
        at_stage = allowed.stage if runs == allowed.runs and not gentle else None
        shown = PlanStage(allowed.stage, allowed.stages, paused=allowed.paused)
        return capped_settings, at_stage, shown

    async def carry_on(self, user_id: int, practice_id: int, step: int) -> PracticeOutcome:
        """Continue, from the offer or a stopped practice's closing message (the rules
        are machine.py's). Not on a day a sign was reported: an old Continue button
        changes nothing then (StaleAction)."""
        async with self._store.read() as uow:
            if self._screen_status(await uow.users.get(user_id)) in SIGN_TODAY:
                raise StaleAction
        return await self.apply(practice_id, Press(Action.CONTINUE, user_id, step))

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
        surface: Surface = Surface.CHAT,
    ) -> PracticeOutcome:
        """Begin a class and close the user's other open practices, in one unit of work;
        a check-in message starts at most one (StaleAction on a repeat). In the player the
        first pose is shown at once, and the chat gets one message saying where the class
        is, instead of its cue."""
        yoga_class = self._catalog[class_id] if class_id else self.default_class
        now = self._clock()
        async with self._store.write() as uow:
            await uow.users.save(user_id, chat_id, first_name, now)
            settings = await settings_in(uow, user_id)
            runs, plan_stage, shown_stage = await self._plan_allows(
                uow, user_id, yoga_class.id, back_before, settings, gentle=gentle
            )
            # A gentle practice is the short class, every pose in its easier version.
            length = ClassLength.SHORT if gentle else runs.class_length
            steps = yoga_class.steps_for(length.value)
            remembered = pose_memory.decide(
                await uow.practices.past_practices(user_id, yoga_class.id),
                (step.id for step in steps),
                runs.easier_mode,
            )
            hold = paced_hold(steps[0].hold_seconds, runs.pace_factor)
            deadline = now + timedelta(seconds=hold * self._scale)
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
                pace_factor=runs.pace_factor,
                pictures=settings.pictures == Pictures.ON,
                voice=settings.voice == Voice.ON,
                surface=surface,
                plan_stage=plan_stage,
            )
            if practice is None:
                raise StaleAction
            started = state_of(practice)
            if started.in_player:
                shown = Record(0, steps[0].id, EventKind.SHOWN, at=now)
                await uow.practices.record(started.id, (shown,), now)
            # Locked as they are read, so no timer moves them on before they are closed.
            replaced: list[tuple[PracticeState, Transition]] = []
            for other in await uow.practices.open_states(user_id=user_id, lock=True):
                ended = Ended(StopReason.REPLACED)
                change = machine.decide(other, ended, now, self._plan(other))
                if other.id == started.id or isinstance(change, Refusal):
                    continue
                if not await uow.practices.save(other, change, now):
                    raise StaleAction  # changed under its lock: never, on either database
                self._known.pop(other.id, None)
                replaced.append((other, change))
        retire: list[MessageRef] = []
        for other, change in replaced:
            self._tell_timer(change)
            retire.extend(self._outcome(change, other, self._plan(other), None).retire)
        self._known[started.id] = started
        self._timers.arm(started.id, 0, chat_id, deadline)
        plan = self._plan(started)
        assert plan is not None
        starting = Starting(
            length, runs.pace, round(sum(plan.holds) / 60), gentle, plan_stage=shown_stage
        )
        note = None
        if started.in_player:
            note = PlayerNote(Note.PLAYING, started.id, 0, len(plan.steps), plan.steps[0].title)
        return PracticeOutcome(
            started.id,
            chat_id,
            retire=tuple(retire),
            show=None if started.in_player else self._cue(started, plan),
            starting=starting,
            note=note,
        )
