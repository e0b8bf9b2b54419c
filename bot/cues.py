"""What the practice service tells the chat: the cue shown for a step, the closing summary,
an outcome of every change, and the ways into a new practice. Facts only, no sentences."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from enum import StrEnum

from bot.emergency import UNKNOWN, EmergencyNumber
from bot.models import ClassLength, EasierReason, Pace, PracticeQuestion, PracticeStatus, StopReason
from bot.practice.machine import Action, Note
from bot.safety import ScreenStatus
from bot.uploads import Picture, Sound
from sequences import Step, YogaClass


@dataclass(frozen=True)
class Cue:
    """What is shown for a step now."""

    practice_id: int
    step: int
    total: int
    pose: Step
    hold_seconds: float
    easier: EasierReason | None = None
    paused: bool = False
    # A question the cue asks while its clock is stopped (It hurts, Stop).
    question: PracticeQuestion | None = None
    # The practice ended on this cue, or left it: drawn as it was, with nothing left to
    # press, and the answer that ended it, if one did.
    over: bool = False
    answered: Action | None = None
    # How to get here from the pose before, when the short class skipped what led here.
    bridge: str | None = None
    # The pose after this one in the practice, if any ("Next: …").
    following: Step | None = None
    # The pose's picture, when it has one and the practice shows pictures: the easier
    # version's own picture while the cue shows the easier version.
    picture: Picture | None = None
    # The pose's spoken cue, when the practice is spoken (Voice on) and it is rendered: the
    # cue goes as an audio message, its picture as the cover.
    sound: Sound | None = None
    # Drawn in place of the pressed cue, it shows another picture (or speaks other words)
    # than that cue did (the press brought the easier version on screen, or took it back):
    # the picture and audio are swapped along with the words, so that they never disagree.
    swap_media: bool = False

    @property
    def easier_shown(self) -> bool:
        return self.easier is not None

    @property
    def last(self) -> bool:
        return self.step + 1 == self.total


@dataclass(frozen=True)
class Summary:
    class_title: str
    status: PracticeStatus
    # Minutes actually spent in the poses.
    minutes: int
    # Poses held until their hold ended, and those moved on from early (Next, Skip).
    poses_done: int
    total_poses: int
    easier_used: int
    # Only a finished class asks how the back feels afterwards; a stopped one may hurt.
    ask_after: bool = False
    gentle: bool = False
    stop_reason: StopReason | None = None
    # The pose it may be carried on from (0-based), for "carry on within 2 hours"; None
    # when it may not (it finished, or ended for pain).
    stopped_at: int | None = None
    # Time was added to many poses lately: offer the slow pace (once ever).
    suggest_slow_pace: bool = False
    poses_skipped: int = 0
    # The pose it ended on (0-based).
    ended_on: int = 0
    # Finished in well under its holds' time (machine.rushed), and the minutes it would take.
    rushed: bool = False
    planned_minutes: int = 0


@dataclass(frozen=True)
class MessageRef:
    chat_id: int
    message_id: int


@dataclass(frozen=True)
class PlanStage:
    """Where a practice stands in the user's plan: its stage (0-based) of how many."""

    stage: int
    stages: int
    # The plan is paused (a sign was reported): the practice runs as its first stage.
    paused: bool = False


@dataclass(frozen=True)
class Starting:
    """What a practice that has just begun will be, said on the check-in's answer once it
    has decided it: its length and pace (a gentle practice is the short class, every pose
    easier)."""

    length: ClassLength
    pace: Pace
    minutes: int
    gentle: bool = False
    # The plan's stage it runs at, when the user has a plan (/plan).
    plan_stage: PlanStage | None = None


@dataclass(frozen=True)
class PlayerNote:
    """What the chat's one message about a practice in the player should now say, and
    that message, once there is one (else it is sent)."""

    kind: Note
    practice_id: int
    step: int
    total: int
    pose_title: str
    at: MessageRef | None = None


@dataclass(frozen=True)
class PracticeOutcome:
    """What a change means for the chat: messages whose buttons go, the pressed cue drawn
    again, a new cue to send (and then confirm), the summary once the practice ends, and,
    as it begins, what it will be."""

    practice_id: int
    chat_id: int
    retire: tuple[MessageRef, ...] = ()
    redraw: Cue | None = None
    show: Cue | None = None
    summary: Summary | None = None
    starting: Starting | None = None
    # Messages drawn once more with what they should now show (no press to answer).
    settle: tuple[tuple[MessageRef, Cue], ...] = ()
    # The practice in the player: its message in the chat, to send or draw again; and,
    # as it ends there, that message, which its closing message takes the place of.
    note: PlayerNote | None = None
    summary_at: MessageRef | None = None


# -- the ways into a new practice (PracticeService.way_in) -----------------------------------


@dataclass(frozen=True)
class ContinueOffer:
    """A practice the user may carry on with: open (paused just now, since a new one was
    asked for) or stopped a little while ago."""

    practice_id: int
    step: int
    total: int
    pose_title: str
    stopped: bool
    minutes_ago: int = 0
    # The open practice just paused for the offer: its cue drawn with the paused buttons.
    held: PracticeOutcome | None = None


@dataclass(frozen=True)
class ScreenFirst:
    """The red-flag screen comes first: it is due, or a sign was reported today (and
    whom to call for an emergency, for the user's own zone)."""

    status: ScreenStatus
    emergency: EmergencyNumber = UNKNOWN
    # The screen is due again after a sign was reported on an earlier day: that day (the
    # user's own), so the screen can say so before it asks again.
    sign_reported_on: date | None = None


@dataclass(frozen=True)
class ReadyToCheckIn:
    """Nothing stands in the way: the class's name and props, and the back check-in,
    whose answer decides what runs (the usual class, the gentle one, or none today)."""

    yoga_class: YogaClass


WayIn = ContinueOffer | ScreenFirst | ReadyToCheckIn


class Heard(StrEnum):
    """What a typed message (not a command) means, when it changes no practice."""

    CHAT = "chat"
    DURING_PRACTICE = "during_practice"
    PAIN_OUTSIDE_PRACTICE = "pain_outside_practice"
