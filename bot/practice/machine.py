"""Every rule of a practice, as one pure function: `decide(state, event, now, plan)`.

A practice is a frozen `PracticeState`; whatever happens to it (a button the user pressed,
pain words typed, the hold being over, a cue Telegram took or did not take, the user coming
back) is an `Event`. `decide` answers with a `Transition` (the state after, the step
events to record, what the timer does, and what the chat should show) or a `Refusal`,
which changes nothing. No I/O, no `await`, no database and no Telegram: the service
(bot/practice/service.py) reads the state, calls `decide`, writes the change with one
conditional update and arms or cancels the timer; the chat (handlers/present.py) or any
other surface shows it. So every rule can be read here top to bottom, and tested in memory.

Times: `now` and every deadline are aware UTC datetimes on the clock's time; a class's
holds are in class seconds, and the clock runs `plan.scale` seconds for each (TIME_SCALE,
1 in production, less in tests and the playground).
"""

from __future__ import annotations

import enum
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from typing import NamedTuple

from sequences import Step

# -- the words of a practice ---------------------------------------------------------------


class PracticeStatus(enum.StrEnum):
    ACTIVE = "active"
    PAUSED = "paused"
    FINISHED = "finished"
    STOPPED = "stopped"


# A practice the user can still act on.
OPEN_STATUSES = (PracticeStatus.ACTIVE, PracticeStatus.PAUSED)


class Surface(enum.StrEnum):
    """Where a practice is followed: the chat (a cue message per pose), or the player (the
    Mini App, player/), which shows each pose itself and costs the chat no message per cue."""

    CHAT = "chat"
    PLAYER = "player"


class Note(enum.StrEnum):
    """What the chat's one message about a practice in the player says now."""

    # The class is playing in the player.
    PLAYING = "playing"
    # The player was closed or hidden: the practice is paused; continue here or there.
    AWAY = "away"
    # The practice went on in the chat.
    HERE = "here"
    # The practice ended without its closing message (replaced by a new one).
    ENDED = "ended"


class PracticeQuestion(enum.StrEnum):
    """What an open practice is asking the user; its clock is stopped until they answer."""

    # It hurts: try the easier version, skip the pose, or end for today?
    HURT = "hurt"
    # The same, after the user typed of numbness or tingling: advice to stop comes first.
    NUMB = "numb"
    # Stop: end the practice, or keep going?
    STOP = "stop"
    # A new practice was asked for while this one was open: continue it, or start over?
    RESTART = "restart"


class StopReason(enum.StrEnum):
    """Why a practice was stopped; a stop the user chose can be continued for a while."""

    BY_USER = "by_user"
    FOR_PAIN = "for_pain"
    REPLACED = "replaced"
    UNREACHABLE = "unreachable"


class EventKind(enum.StrEnum):
    """What is recorded for a step (the step_events table)."""

    SHOWN = "shown"
    EASIER = "easier"
    SKIPPED = "skipped"
    # The user said the pose hurt (the It hurts button, or pain words typed during it).
    HURT = "hurt"
    # +15 s on the pose's hold (once per press).
    MORE_TIME = "more_time"
    # Usual version: the easier version shown from the start taken back.
    USUAL = "usual"


class EasierReason(enum.StrEnum):
    """Why a cue shows its pose's easier version."""

    # The user tapped Easier option.
    ASKED = "asked"
    # A gentle practice: every pose in its easier version.
    GENTLE = "gentle"
    # The pose hurt the last time the user met it (bot.pose_memory).
    HURT_LAST_TIME = "hurt_last_time"
    # It hurt just now, and the user chose to try the easier version.
    HURT_NOW = "hurt_now"
    # The user often chose it for this pose (bot.pose_memory).
    REMEMBERED = "remembered"
    # The easier-options setting is Always.
    ALWAYS = "always"


# The records that switch the version on screen, the last one winning.
TOGGLES = (EventKind.EASIER, EventKind.USUAL)

# -- the constants -------------------------------------------------------------------------

# A timer may fire a hair before its deadline; anything this close counts as due.
DUE_TOLERANCE = timedelta(milliseconds=5)
# What +15 s adds to a hold, in class seconds.
MORE_TIME_SECONDS = 15.0
# A practice the user stopped (Stop, or End for today) can be carried on this long after.
CONTINUE_WITHIN = timedelta(hours=2)
# The stops a user may carry on from. A practice replaced by a new one or in an unreachable
# chat ended without them asking; one ended for pain ended for today: rest comes first
# (the pain-monitoring model: pain above what is acceptable means stop and rest, not a
# return within the hour).
CONTINUABLE_STOPS = (StopReason.BY_USER,)
# While one of these questions is open, only its own answers (and It hurts) count.
PAIN_QUESTIONS = (PracticeQuestion.HURT, PracticeQuestion.NUMB)
# Poses given more time, in each of two practices in a row, before the slow pace is offered.
SUGGEST_SLOW_AFTER_POSES = 3
# A finished practice that took less than this share of its holds was rushed through: its
# closing message says so kindly, and it counts the minutes it took, not a full class.
RUSHED_BELOW = 0.5

# A cue send that has neither succeeded nor failed this long after its hold ended is taken
# as lost (the rate limiter may hold a send through a few 429s, so this is generous).
SEND_GRACE = timedelta(seconds=60)
# A send Telegram did not take (a cue, or a redraw of one) is tried again after a pause
# that starts at RETRY_FIRST and doubles with each failure up to RETRY_MAX (1, 2, 4, 8, 16,
# 32, 60, 60 … s), each one stretched or shrunk at random by up to RETRY_JITTER, so that
# classes that failed together do not all come back in the same instant. There is no last
# try: a class waits through an outage and goes on by itself once Telegram answers.
RETRY_FIRST = 1.0
RETRY_MAX = 60.0
RETRY_JITTER = 0.2
# A wake-up that found the database not answering looks again after these pauses (seconds),
# the last one repeating until it answers: the class goes on then, where it stopped.
STORE_BACKOFF = (1.0, 2.0, 4.0, 8.0, 16.0, 30.0)
# A timer armed this long after its deadline (it passed while the bot was down) is catching
# up: such timers fire CATCH_UP_PER_SECOND a second, oldest deadline first, not all at once,
# so the first updates after a start are not queued behind hundreds of them.
CATCHING_UP = timedelta(seconds=2)
CATCH_UP_PER_SECOND = 30


def retry_delay(failures: int, luck: float) -> float:
    """Seconds to wait after the `failures`-th failed send in a row (1 for the first);
    `luck`, drawn at random in [0, 1), places it within the jitter."""
    pause = min(RETRY_MAX, RETRY_FIRST * 2.0 ** min(max(failures, 1) - 1, 32))
    return pause * (1 - RETRY_JITTER + 2 * RETRY_JITTER * luck)


def store_backoff(failures: int) -> float:
    """Seconds to wait after the `failures`-th wake-up in a row the database did not answer."""
    return STORE_BACKOFF[min(max(failures, 1), len(STORE_BACKOFF)) - 1]


class WakeUp(NamedTuple):
    """When a timer armed for a deadline fires, and whether it is catching up."""

    at: datetime
    catching_up: bool
    # When the next timer catching up may fire (unchanged for a timer on time).
    next_catch_up: datetime | None


def wake_up(deadline: datetime, now: datetime, next_catch_up: datetime | None) -> WakeUp:
    if now - deadline <= CATCHING_UP:
        return WakeUp(max(deadline, now), False, next_catch_up)
    turn = max(now, next_catch_up or now)
    return WakeUp(turn, True, turn + timedelta(seconds=1 / CATCH_UP_PER_SECOND))


# -- the state, the plan and the events ----------------------------------------------------


@dataclass(frozen=True)
class Plan:
    """The class as this practice runs it: its steps (the full class or its short
    selection), each one's hold in class seconds at the practice's pace, and the clock
    seconds per class second."""

    steps: tuple[Step, ...]
    holds: tuple[float, ...]
    scale: float = 1.0

    def clock(self, class_seconds: float) -> timedelta:
        return timedelta(seconds=class_seconds * self.scale)


@dataclass(frozen=True)
class PracticeState:
    """A practice as stored. `version` grows by one with every change, so a change is
    written only onto the state it was decided from."""

    id: int
    user_id: int
    chat_id: int
    class_id: str
    status: PracticeStatus
    step: int
    # While active: when the current hold ends. While paused: the clock seconds left of it.
    hold_ends_at: datetime | None = None
    remaining_seconds: float | None = None
    # Class seconds added to the current hold with +15 s.
    extra_seconds: float = 0.0
    # Class seconds spent on the steps before the current one (its own, once it ends).
    practised_seconds: float = 0.0
    question: PracticeQuestion | None = None
    # The current cue's message, once Telegram took it; failed sends of it so far, and when
    # it is tried again.
    cue_message_id: int | None = None
    cue_attempts: int = 0
    cue_retry_at: datetime | None = None
    # How the practice began: the gentle one (every pose easier), the poses its history
    # shows easier from the start (bot.pose_memory), with pictures or not, spoken or not,
    # its length ("full" or "short") and its pace (a hold's multiplier).
    gentle: bool = False
    easier_from_start: Mapping[str, EasierReason] = field(default_factory=dict)
    pictures: bool = True
    voice: bool = False
    class_length: str = "full"
    pace_factor: float = 1.0
    # The current step's last Easier option / Usual version, and whether it hurt.
    toggle: EventKind | None = None
    hurt_here: bool = False
    finished_at: datetime | None = None
    stop_reason: StopReason | None = None
    # Closed with its closing message not yet delivered.
    summary_pending: bool = False
    # Where it is followed; in the player, the chat's one message about it (once Telegram
    # took it), and whether the player is gone (closed, hidden or silent) since it paused.
    surface: Surface = Surface.CHAT
    note_message_id: int | None = None
    away: bool = False
    version: int = 0

    @property
    def open(self) -> bool:
        return self.status in OPEN_STATUSES

    @property
    def paused(self) -> bool:
        return self.status == PracticeStatus.PAUSED

    @property
    def finished(self) -> bool:
        return self.status == PracticeStatus.FINISHED

    @property
    def stopped(self) -> bool:
        return self.status == PracticeStatus.STOPPED

    @property
    def in_player(self) -> bool:
        return self.surface == Surface.PLAYER

    @property
    def stalled(self) -> bool:
        """Paused because its cue could not be sent (an earlier rule gave up after a few
        tries): it goes on when its user is back."""
        return (
            self.paused
            and self.cue_message_id is None
            and self.question is None
            and self.cue_attempts > 0
        )


class Action(enum.StrEnum):
    """A button of a practice's cue or of one of its questions."""

    NEXT = "next"
    EASIER = "easier"
    USUAL = "usual"
    MORE_TIME = "more_time"
    PAUSE = "pause"
    RESUME = "resume"
    STOP = "stop"
    # The answers to Stop.
    END = "end"
    KEEP_GOING = "keep_going"
    HURT = "hurt"
    # The answers to It hurts.
    TRY_EASIER = "try_easier"
    SKIP = "skip"
    END_FOR_PAIN = "end_for_pain"
    # The other answer to numbness or tingling: it has passed, on to the next pose.
    PASSED = "passed"
    # The answer to "continue or start over?", or to the closing message of a stopped one.
    CONTINUE = "continue"
    # The chat's answer to a practice paused in the player: go on here, in the chat.
    HERE = "here"


# The question each answer answers; an action not here is pressed on the cue itself.
# Numbness or tingling ends the pose: no easier version of it, only ending for today or,
# once it has passed, the next pose (NHS, sciatica: numbness or tingling is a reason to
# stop and, if it does not pass, to see a GP; the advice is on the question itself).
ANSWERS: dict[Action, tuple[PracticeQuestion, ...]] = {
    Action.END: (PracticeQuestion.STOP,),
    Action.KEEP_GOING: (PracticeQuestion.STOP,),
    Action.TRY_EASIER: (PracticeQuestion.HURT,),
    Action.SKIP: (PracticeQuestion.HURT,),
    Action.END_FOR_PAIN: PAIN_QUESTIONS,
    Action.PASSED: (PracticeQuestion.NUMB,),
}


@dataclass(frozen=True)
class Press:
    """A button pressed by user `by` on the cue of `step`, in the chat or (`on`) the player."""

    action: Action
    by: int
    step: int
    on: Surface = Surface.CHAT


@dataclass(frozen=True)
class PainTyped:
    """Pain words typed during the practice (`nerve`: numbness or tingling)."""

    by: int
    nerve: bool = False


@dataclass(frozen=True)
class HoldOver:
    """The timer for `step` fired. `sender_gone`: nobody is sending that step's cue (the
    caller holds the chat's lock and found it free; bot/store/chat_locks.py)."""

    step: int
    sender_gone: bool = False


@dataclass(frozen=True)
class CueSent:
    """Telegram took `step`'s cue at `at` as message `message_id` in chat `chat_id`."""

    step: int
    chat_id: int
    message_id: int
    at: datetime


@dataclass(frozen=True)
class CueFailed:
    """Telegram did not take `step`'s cue (or did not say it did). `luck`: a random number
    in [0, 1) for the retry's jitter."""

    step: int
    luck: float = 0.5


@dataclass(frozen=True)
class Play:
    """User `by` opened the player on the practice: it is followed there from now on."""

    by: int


@dataclass(frozen=True)
class PlayerAway:
    """The player was closed or hidden, or has not been heard from for a while."""


@dataclass(frozen=True)
class NoteSent:
    """Telegram took the chat's message about the practice in the player as `message_id`."""

    message_id: int


@dataclass(frozen=True)
class UserBack:
    """The practice's user sent or tapped something."""


@dataclass(frozen=True)
class AskToContinue:
    """A new practice was asked for while this one is open."""


@dataclass(frozen=True)
class Ended:
    """Closed without its user asking: `REPLACED` by a new practice, or `UNREACHABLE`."""

    reason: StopReason


Event = (
    Press
    | PainTyped
    | HoldOver
    | CueSent
    | CueFailed
    | UserBack
    | AskToContinue
    | Ended
    | Play
    | PlayerAway
    | NoteSent
)

# -- what `decide` answers -----------------------------------------------------------------


@dataclass(frozen=True)
class Arm:
    """Wake the practice up at `at` (the step is the state's)."""

    at: datetime


class Cancel(enum.Enum):
    """The practice's clock no longer runs: its timer goes."""

    CANCEL = "cancel"


CANCEL = Cancel.CANCEL


@dataclass(frozen=True)
class Record:
    step: int
    step_id: str
    kind: EventKind
    # When it happened, if not when it was decided (a cue shown when Telegram took it).
    at: datetime | None = None


@dataclass(frozen=True)
class Transition:
    state: PracticeState
    records: tuple[Record, ...] = ()
    timer: Arm | Cancel | None = None
    # What the chat shows: the current cue sent afresh, or drawn again on the pressed
    # message (`over`: the practice ended on it, nothing left to press); messages whose
    # buttons go; the closing message, owed until delivered.
    show: bool = False
    redraw: bool = False
    over: bool = False
    retire: tuple[int, ...] = ()
    closing: bool = False
    # The old cue's message drawn once more as it ended (its pause line or question gone,
    # with the answer given, `answered`), instead of only losing its buttons; or the
    # current cue's message drawn as the practice now is (`refresh`), with no press.
    settle: bool = False
    answered: Action | None = None
    refresh: bool = False
    # What the chat's one message about a practice in the player should now say.
    note: Note | None = None


class Refused(enum.StrEnum):
    # The button belongs to a step that is over, a question not asked, or someone else.
    STALE = "stale"
    # The practice waits for the answer to "continue or start over?".
    WAITS_FOR_CONTINUE = "waits_for_continue"


@dataclass(frozen=True)
class Refusal:
    reason: Refused


STALE = Refusal(Refused.STALE)

# -- the rules -----------------------------------------------------------------------------


def decide(
    state: PracticeState, event: Event, now: datetime, plan: Plan | None
) -> Transition | Refusal:
    """What `event` does to the practice at `now`. `plan` is None when the practice's class
    is gone (its file removed): it can then only be ended, quietly."""
    if plan is None or state.step >= len(plan.steps):
        if isinstance(event, Ended) and state.open:
            return _close(state, now, None, PracticeStatus.STOPPED, event.reason, announce=False)
        return STALE
    match event:
        case Press():
            return _press(state, event, now, plan)
        case PainTyped():
            if event.by != state.user_id or not state.open:
                return STALE
            question = PracticeQuestion.NUMB if event.nerve else PracticeQuestion.HURT
            if state.in_player:
                # Typed in the chat: the user is there, so the question is asked there.
                here = _to_chat(state)
                return replace(_ask(here, question, now, plan, afresh=True), note=Note.HERE)
            return _ask(state, question, now, plan, afresh=True)
        case HoldOver():
            return _hold_over(state, event, now, plan)
        case CueSent():
            return _cue_sent(state, event, plan)
        case CueFailed():
            if (
                event.step != state.step
                or not state.open
                or state.cue_message_id is not None
                or state.in_player
            ):
                return STALE
            attempts = state.cue_attempts + 1
            retry_at = now + timedelta(seconds=retry_delay(attempts, event.luck))
            after = replace(state, cue_attempts=attempts, cue_retry_at=retry_at)
            return Transition(after, timer=Arm(retry_at) if not state.paused else None)
        case UserBack():
            if not state.stalled:
                return STALE
            return Transition(_running(state, now), show=True)
        case AskToContinue():
            if not state.open:
                return STALE
            # Its cue shows the paused buttons while the offer waits for an answer.
            asked = _ask(state, PracticeQuestion.RESTART, now, plan)
            return replace(asked, redraw=False, refresh=True)
        case Ended():
            if not state.open:
                return STALE
            return _close(state, now, plan, PracticeStatus.STOPPED, event.reason, announce=False)
        case Play():
            return _play(state, event, now, plan)
        case PlayerAway():
            return _away(state, now)
        case NoteSent():
            if state.note_message_id is not None:
                return STALE
            after = replace(state, note_message_id=event.message_id)
            if state.open and state.in_player:
                return Transition(after)
            # The practice left the player (or ended) while its note was on its way.
            return Transition(after, note=Note.HERE if state.open else Note.ENDED)


def _press(state: PracticeState, press: Press, now: datetime, plan: Plan) -> Transition | Refusal:
    """A button works only for its own user, on the step still current, on the surface
    the practice is followed on (a cue's buttons in the chat do nothing while the player
    shows it, and the other way round). A press in the player means the player is back:
    the chat's message about it says it is playing again."""
    if press.by != state.user_id or press.step != state.step:
        return STALE
    if press.action == Action.CONTINUE:
        return _carry_on(state, now, plan)
    if not state.open:
        return STALE
    if press.action == Action.HERE:
        return _here(state, now) if state.in_player else STALE
    if press.on != state.surface:
        return STALE
    change = _press_on_cue(state, press, now, plan)
    if isinstance(change, Refusal) or not (state.away and change.state.open):
        return change
    return replace(change, state=replace(change.state, away=False), note=Note.PLAYING)


def _press_on_cue(
    state: PracticeState, press: Press, now: datetime, plan: Plan
) -> Transition | Refusal:
    """An answer works only while its question is asked; any other button only with no
    question open (It hurts always: pain comes first)."""
    answers = ANSWERS.get(press.action)
    if answers is not None:
        if state.question not in answers:
            return STALE
    elif press.action != Action.HURT and state.question is not None:
        if state.question == PracticeQuestion.RESTART:
            return Refusal(Refused.WAITS_FOR_CONTINUE)
        return STALE
    match press.action:
        case Action.NEXT:
            return _move_on(state, now, plan, skipped=True)
        case Action.SKIP | Action.PASSED:
            # The question's message shows what was answered, and the next pose follows.
            moved = _move_on(state, now, plan, skipped=True)
            return replace(moved, retire=(), settle=True, answered=press.action)
        case Action.EASIER | Action.USUAL:
            if press.action == Action.USUAL and state.gentle:
                return STALE  # a gentle practice (a sore day) has no way to the harder one
            kind = EventKind.EASIER if press.action == Action.EASIER else EventKind.USUAL
            after = replace(state, toggle=kind)
            return Transition(after, records=(_record(state, plan, kind),), redraw=True)
        case Action.MORE_TIME:
            return _more_time(state, plan)
        case Action.PAUSE:
            if state.status != PracticeStatus.ACTIVE or state.hold_ends_at is None:
                return STALE
            after = replace(
                state,
                status=PracticeStatus.PAUSED,
                hold_ends_at=None,
                remaining_seconds=_left(state, now),
            )
            return Transition(after, timer=CANCEL, redraw=True)
        case Action.RESUME | Action.KEEP_GOING:
            if not state.paused:
                return STALE
            after = _running(state, now)
            return Transition(after, timer=Arm(_deadline(after)), redraw=True)
        case Action.STOP:
            return _ask(state, PracticeQuestion.STOP, now, plan)
        case Action.HURT:
            return _ask(state, PracticeQuestion.HURT, now, plan)
        case Action.END:
            ended = _close(state, now, plan, PracticeStatus.STOPPED, StopReason.BY_USER)
            return replace(ended, answered=press.action)
        case Action.END_FOR_PAIN:
            ended = _close(state, now, plan, PracticeStatus.STOPPED, StopReason.FOR_PAIN)
            return replace(ended, answered=press.action)
        case Action.TRY_EASIER:
            # The easier version, with the pose's whole hold from the top.
            deadline = now + plan.clock(_hold(state, plan))
            after = replace(_running(state, now), hold_ends_at=deadline, toggle=EventKind.EASIER)
            records = (_record(state, plan, EventKind.EASIER),)
            return Transition(after, records=records, timer=Arm(deadline), redraw=True)
    return STALE  # Continue, decided above: no other action reaches here


def _ask(
    state: PracticeState,
    question: PracticeQuestion,
    now: datetime,
    plan: Plan,
    *,
    afresh: bool = False,
) -> Transition:
    """Stop the pose's clock and ask `question` on the cue: drawn again on the pressed
    message, or (`afresh`, for words typed) sent anew under them, the old cue's buttons
    going. Pain is recorded for the pose once. Asking what is asked changes nothing but
    draws it again (a double tap)."""
    records: tuple[Record, ...] = ()
    after = state
    if question in PAIN_QUESTIONS and not state.hurt_here:
        records = (_record(state, plan, EventKind.HURT),)
        after = replace(after, hurt_here=True)
    if state.question != question:
        after = replace(
            after,
            status=PracticeStatus.PAUSED,
            hold_ends_at=None,
            remaining_seconds=_left(state, now),
            question=question,
        )
    if afresh:
        return Transition(after, records=records, timer=CANCEL, show=True, settle=True)
    return Transition(after, records=records, timer=CANCEL, redraw=True)


def _more_time(state: PracticeState, plan: Plan) -> Transition:
    """+15 s on the current hold, running or paused, as often as the user likes."""
    added = plan.clock(MORE_TIME_SECONDS)
    after = replace(state, extra_seconds=state.extra_seconds + MORE_TIME_SECONDS)
    timer: Arm | None = None
    if state.paused:
        after = replace(
            after, remaining_seconds=(state.remaining_seconds or 0.0) + added.total_seconds()
        )
    elif state.hold_ends_at is not None:
        after = replace(after, hold_ends_at=state.hold_ends_at + added)
        timer = Arm(state.hold_ends_at + added)
    records = (_record(state, plan, EventKind.MORE_TIME),)
    return Transition(after, records=records, timer=timer, redraw=True)


def _hold_over(
    state: PracticeState, event: HoldOver, now: datetime, plan: Plan
) -> Transition | Refusal:
    """The timer fired: move on if the hold is over, else arm it again for what is due
    next. A cue not known to have arrived is sent again at its stored retry time, or, if
    no send has failed yet, once a send would have answered long since (SEND_GRACE), or
    at once when nobody is sending it (`sender_gone`)."""
    if event.step != state.step or state.status != PracticeStatus.ACTIVE:
        return STALE
    deadline = _deadline(state)
    # The player shows each pose itself: there is no cue message to wait for.
    if state.cue_message_id is None and not state.in_player:
        retry_at = state.cue_retry_at
        if retry_at is not None and retry_at - now > DUE_TOLERANCE:
            return Transition(state, timer=Arm(retry_at))
        given_up_at = deadline + SEND_GRACE
        if state.cue_attempts == 0 and now < given_up_at and not event.sender_gone:
            return Transition(state, timer=Arm(given_up_at))
        return Transition(state, show=True)
    if deadline - now > DUE_TOLERANCE:
        return Transition(state, timer=Arm(deadline))
    return _move_on(state, now, plan, skipped=False)


def _cue_sent(state: PracticeState, event: CueSent, plan: Plan) -> Transition:
    """The cue reached the chat: only now is it shown. Its hold runs to the deadline set
    when the practice moved on, or from when it arrived if it came late (after failed
    sends, or sent again after a restart past its deadline): the user has the whole hold
    with the pose. A cue sent again (afresh) only takes the old one's place. A message of
    a step that is over could not be known to anyone: its buttons go."""
    if event.step != state.step or not state.open or state.in_player:
        return Transition(state, retire=(event.message_id,))
    if state.cue_message_id is not None:
        after = replace(state, cue_message_id=event.message_id)
        return Transition(after, timer=_keep_running(after))
    after = replace(state, cue_message_id=event.message_id, cue_attempts=0, cue_retry_at=None)
    deadline = state.hold_ends_at
    if state.status == PracticeStatus.ACTIVE and (
        state.cue_attempts > 0 or (deadline is not None and deadline <= event.at)
    ):
        after = replace(after, hold_ends_at=event.at + plan.clock(_hold(state, plan)))
    records = (replace(_record(state, plan, EventKind.SHOWN), at=event.at),)
    return Transition(after, records=records, timer=_keep_running(after))


def _carry_on(state: PracticeState, now: datetime, plan: Plan) -> Transition | Refusal:
    """Continue: the practice paused by a new /start_practice goes on with its pose's
    remaining hold; one stopped a little while ago, with the pose it stopped on, from the
    top. The cue is sent afresh; the old cue is drawn once more as it ended."""
    if state.question == PracticeQuestion.RESTART:
        after = _running(state, now)
    elif continuable(state, now):
        after = replace(
            state,
            status=PracticeStatus.ACTIVE,
            finished_at=None,
            hold_ends_at=now + plan.clock(plan.holds[state.step]),
            remaining_seconds=None,
            cue_message_id=None,
            cue_attempts=0,
            cue_retry_at=None,
            summary_pending=False,
            stop_reason=None,
            question=None,
            extra_seconds=0.0,
        )
    else:
        return STALE
    change = Transition(after, timer=Arm(_deadline(after)), show=True, settle=True)
    if state.in_player:
        # Continued from the chat: it goes on there.
        return replace(change, state=_to_chat(after), note=Note.HERE)
    return change


def _play(state: PracticeState, event: Play, now: datetime, plan: Plan) -> Transition | Refusal:
    """The player takes the practice as it stands: a running hold runs on (from the top,
    if its cue never reached the chat), a paused one waits for Resume there; the chat's
    cue loses its buttons and one message says where the class is. The player opened
    again on a practice it left (closed, hidden) only says so in the chat."""
    if event.by != state.user_id or not state.open:
        return STALE
    if state.in_player:
        if not state.away:
            return Transition(state)
        return Transition(replace(state, away=False), note=Note.PLAYING)
    after = replace(
        state,
        surface=Surface.PLAYER,
        away=False,
        cue_message_id=None,
        cue_attempts=0,
        cue_retry_at=None,
        # "Continue or start over?" is answered: continue, in the player.
        question=None if state.question == PracticeQuestion.RESTART else state.question,
    )
    records: tuple[Record, ...] = ()
    timer: Arm | None = None
    if state.status == PracticeStatus.ACTIVE:
        if state.cue_message_id is None:
            # The chat never showed this pose: the player does now, with its whole hold.
            after = replace(after, hold_ends_at=now + plan.clock(_hold(state, plan)))
            records = (replace(_record(state, plan, EventKind.SHOWN), at=now),)
        timer = Arm(_deadline(after))
    return Transition(
        after, records=records, timer=timer, retire=_cue_message(state), note=Note.PLAYING
    )


def _away(state: PracticeState, now: datetime) -> Transition | Refusal:
    """The player is gone: the practice waits, paused, and the chat offers to go on there
    or in the player. Said once, however many ways the player's going is heard of."""
    if not state.open or not state.in_player or state.away:
        return STALE
    after = replace(state, away=True)
    if state.status != PracticeStatus.ACTIVE:
        return Transition(after, note=Note.AWAY)
    after = replace(
        after,
        status=PracticeStatus.PAUSED,
        hold_ends_at=None,
        remaining_seconds=_left(state, now),
    )
    return Transition(after, timer=CANCEL, note=Note.AWAY)


def _here(state: PracticeState, now: datetime) -> Transition:
    """Continue here: the practice left in the player goes on in the chat, its cue sent
    afresh; a question it was asking is asked there."""
    after = _to_chat(state)
    if state.question in (None, PracticeQuestion.RESTART) and state.paused:
        after = _running(after, now)
    timer = Arm(_deadline(after)) if after.status == PracticeStatus.ACTIVE else None
    return Transition(after, timer=timer, show=True, note=Note.HERE)


def _to_chat(state: PracticeState) -> PracticeState:
    """In the chat again: a cue will be sent, and a later player gets a note of its own."""
    return replace(
        state,
        surface=Surface.CHAT,
        away=False,
        note_message_id=None,
        cue_message_id=None,
        cue_attempts=0,
        cue_retry_at=None,
    )


def _move_on(state: PracticeState, now: datetime, plan: Plan, *, skipped: bool) -> Transition:
    """To the next step, its hold counted from now and its cue sent; or, after the last
    step, the practice is finished. `skipped`: the user moved on before the hold ended."""
    records: tuple[Record, ...] = (_record(state, plan, EventKind.SKIPPED),) if skipped else ()
    following = state.step + 1
    if following >= len(plan.steps):
        closed = _close(state, now, plan, PracticeStatus.FINISHED, None)
        return replace(closed, records=records)
    if state.in_player:
        # The player shows the next pose at once: it is shown now, no message sent.
        shown = Record(following, plan.steps[following].id, EventKind.SHOWN, at=now)
        records = (*records, shown)
    deadline = now + plan.clock(plan.holds[following])
    after = replace(
        state,
        step=following,
        status=PracticeStatus.ACTIVE,
        hold_ends_at=deadline,
        remaining_seconds=None,
        cue_message_id=None,
        cue_attempts=0,
        cue_retry_at=None,
        practised_seconds=state.practised_seconds + _spent(state, now, plan),
        question=None,
        extra_seconds=0.0,
        toggle=None,
        hurt_here=False,
    )
    return Transition(
        after,
        records=records,
        timer=Arm(deadline),
        show=not state.in_player,
        retire=_cue_message(state),
    )


def _close(
    state: PracticeState,
    now: datetime,
    plan: Plan | None,
    status: PracticeStatus,
    reason: StopReason | None,
    *,
    announce: bool = True,
) -> Transition:
    """End the practice. With `announce` (the user stopped it, or it finished) its closing
    message is owed until delivered, and a cue that asked a question is drawn once more
    without it; a practice replaced or in a chat that cannot be reached ends quietly."""
    # A practice whose class file is gone has nothing left to time or summarise.
    spent = _spent(state, now, plan) if plan is not None else 0.0
    announce = announce and plan is not None
    after = replace(
        state,
        status=status,
        finished_at=now,
        hold_ends_at=None,
        remaining_seconds=None,
        practised_seconds=state.practised_seconds + spent,
        summary_pending=announce,
        question=None,
        stop_reason=reason,
    )
    answered = announce and state.question is not None
    return Transition(
        after,
        timer=CANCEL,
        redraw=answered,
        over=answered,
        retire=_cue_message(state),
        closing=announce,
        # Ended quietly in the player: its note in the chat says so; a closing message
        # takes the note's place.
        note=Note.ENDED if state.in_player and not announce else None,
    )


# -- what the rules share ------------------------------------------------------------------


def _running(state: PracticeState, now: datetime) -> PracticeState:
    """The clock runs again for what was left of the hold; any question is answered."""
    return replace(
        state,
        status=PracticeStatus.ACTIVE,
        hold_ends_at=now + timedelta(seconds=state.remaining_seconds or 0.0),
        remaining_seconds=None,
        question=None,
    )


def _deadline(state: PracticeState) -> datetime:
    assert state.hold_ends_at is not None, "an active practice has a deadline"
    return state.hold_ends_at


def _keep_running(state: PracticeState) -> Arm | None:
    if state.status == PracticeStatus.ACTIVE and state.hold_ends_at is not None:
        return Arm(state.hold_ends_at)
    return None


def _hold(state: PracticeState, plan: Plan) -> float:
    """The current hold in class seconds, with the time the user added."""
    return plan.holds[state.step] + state.extra_seconds


def _left(state: PracticeState, now: datetime) -> float:
    """Clock seconds left of the current hold."""
    if state.paused:
        return state.remaining_seconds or 0.0
    if state.hold_ends_at is None:
        return 0.0
    return max(0.0, (state.hold_ends_at - now).total_seconds())


def _spent(state: PracticeState, now: datetime, plan: Plan) -> float:
    """Class seconds spent on the current step, whatever the clock's scale."""
    hold = _hold(state, plan)
    return min(hold, max(0.0, hold - _left(state, now) / plan.scale))


def _record(state: PracticeState, plan: Plan, kind: EventKind) -> Record:
    return Record(state.step, plan.steps[state.step].id, kind)


def _cue_message(state: PracticeState) -> tuple[int, ...]:
    return () if state.cue_message_id is None else (state.cue_message_id,)


# -- facts the surfaces and the way in ask for ---------------------------------------------


def continuable(state: PracticeState, now: datetime) -> bool:
    """A practice the user stopped themselves (not for pain), within CONTINUE_WITHIN."""
    return (
        carry_on_from(state) is not None
        and state.finished_at is not None
        and now - state.finished_at < CONTINUE_WITHIN
    )


def carry_on_from(state: PracticeState) -> int | None:
    """The step a stopped practice may be carried on from, for a while; None when it may
    not be (it finished, was replaced, or ended for pain)."""
    if state.stopped and state.stop_reason in CONTINUABLE_STOPS:
        return state.step
    return None


def shows(state: PracticeState, step: int) -> bool:
    """The practice is open on `step`: a cue of that step still stands for it."""
    return state.open and state.step == step


def after_restart(state: PracticeState) -> Arm | bool | None:
    """At start-up: arm the timer of an active practice whose cue was delivered (True:
    its cue was never confirmed, send it again); a paused one waits for its user."""
    if state.status != PracticeStatus.ACTIVE:
        return None
    if state.cue_message_id is None and not state.in_player:
        return True
    return _keep_running(state)


def easier_reason(state: PracticeState, pose: Step) -> EasierReason | None:
    """Why the current pose is on screen in its easier version, if it is: the user's last
    toggle (Easier option / Usual version) wins over what the practice decided at its start."""
    if state.toggle == EventKind.USUAL:
        return None
    if state.toggle == EventKind.EASIER:
        return EasierReason.HURT_NOW if state.hurt_here else EasierReason.ASKED
    if state.gentle:
        return EasierReason.GENTLE
    return state.easier_from_start.get(pose.id)


def seconds_left(state: PracticeState, now: datetime) -> float:
    """Clock seconds left of the current hold (what the player counts down)."""
    return _left(state, now)


def hold_seconds(state: PracticeState, plan: Plan) -> float:
    """The current hold as the cue states it, in class seconds."""
    return _hold(state, plan)


def minutes_since(state: PracticeState, now: datetime) -> int:
    if state.finished_at is None:
        return 0
    return int((now - state.finished_at).total_seconds() // 60)


def rushed(state: PracticeState, plan: Plan) -> bool:
    """Finished in well under the time its holds take (tapping Next through it)."""
    return state.finished and rushed_through(state.practised_seconds, sum(plan.holds))


def rushed_through(practised_seconds: float, holds_seconds: float) -> bool:
    """Class seconds practised well under the class seconds of the holds it ran."""
    return practised_seconds < RUSHED_BELOW * holds_seconds


def suggest_slow_pace(more_time_now: int, more_time_before: int, *, on_slow_pace: bool) -> bool:
    """Time added to at least SUGGEST_SLOW_AFTER_POSES poses in each of two practices in a
    row, by someone not on the slow pace (the service offers it once ever)."""
    return (
        not on_slow_pace
        and more_time_now >= SUGGEST_SLOW_AFTER_POSES
        and more_time_before >= SUGGEST_SLOW_AFTER_POSES
    )
