"""Every button's callback data, as typed codecs: one class per scheme.

In the spirit of aiogram's `CallbackData`: a frozen dataclass whose fields are annotated
with a wire codec. `pack()` writes the short wire form (refused past Telegram's 64 bytes),
`parse()` reads it back or returns None, and `pattern` is the anchored regex that the
Application routes on, derived from the same fields, so a pattern matches exactly what
`parse()` accepts::

    PracticeButton(PracticeAction.NEXT, practice=12, step=3).pack() == "p:n:12:3"

The wire forms are those the bot has always sent: buttons in users' chats outlive deploys.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import time
from enum import StrEnum
from typing import Annotated, Any, ClassVar, Generic, Self, TypeVar, get_type_hints

from bot.programme.rules import NextDay
from bot.user_settings import CHOICES, Setting

MAX_BYTES = 64  # Telegram refuses longer callback data
SEPARATOR = ":"

T = TypeVar("T")


@dataclass(frozen=True)
class Codec(Generic[T]):
    """How one field is written on the wire: a regex for exactly the valid texts."""

    regex: str
    encode: Callable[[T], str]
    decode: Callable[[str], T]


def _whole_number(digits: int) -> Codec[int]:
    return Codec(rf"\d{{1,{digits}}}", str, int)


def _choice(enum_type: type[StrEnum]) -> Codec[Any]:
    return Codec("|".join(re.escape(m.value) for m in enum_type), str, enum_type)


# Database ids and steps: bounded, so every packed value fits in 64 bytes.
ROW_ID = _whole_number(12)
STEP = _whole_number(3)
# A back score 0-10, or "s" for a skipped check-in.
SCORE: Codec[int | None] = Codec(
    r"10|[0-9]|s",
    lambda score: "s" if score is None else str(score),
    lambda text: None if text == "s" else int(text),
)
# A time of day as HHMM.
CLOCK: Codec[time] = Codec(
    r"(?:[01][0-9]|2[0-3])[0-5][0-9]",
    lambda at: f"{at.hour:02d}{at.minute:02d}",
    lambda text: time(int(text[:2]), int(text[2:])),
)
# An IANA zone name ("America/Argentina/ComodRivadavia", 32 characters, is the longest),
# bounded to fit 64 bytes; whether it is a known zone is the service's question.
ZONE: Codec[str] = Codec(r"[A-Za-z][A-Za-z0-9_+\-]{0,13}(?:/[A-Za-z0-9_+\-]{1,20}){0,2}", str, str)
# A yes/no flag as 1 or 0.
FLAG: Codec[bool] = Codec(r"[01]", lambda on: "1" if on else "0", lambda text: text == "1")


class Button:
    """The base of every scheme. A subclass names its `prefix` and annotates each field
    with its codec: `step: Annotated[int, STEP]`."""

    prefix: ClassVar[str]
    pattern: ClassVar[re.Pattern[str]]
    _codecs: ClassVar[dict[str, Codec[Any]]]

    def __init_subclass__(cls, *, prefix: str, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        cls.prefix = prefix
        hints = get_type_hints(cls, include_extras=True)
        cls._codecs = {
            name: next(m for m in hint.__metadata__ if isinstance(m, Codec))
            for name, hint in hints.items()
            if hasattr(hint, "__metadata__")
        }
        parts = [re.escape(prefix), *(f"({c.regex})" for c in cls._codecs.values())]
        cls.pattern = re.compile(f"^{SEPARATOR.join(parts)}$")

    def pack(self) -> str:
        values = [codec.encode(getattr(self, name)) for name, codec in self._codecs.items()]
        data = SEPARATOR.join([self.prefix, *values])
        if len(data.encode()) > MAX_BYTES:
            raise ValueError(f"callback data {data!r} is over {MAX_BYTES} bytes")
        return data

    @classmethod
    def parse(cls, data: str | None) -> Self | None:
        match = cls.pattern.match(data or "")
        if match is None:
            return None
        decoded = {
            name: codec.decode(text)
            for (name, codec), text in zip(cls._codecs.items(), match.groups(), strict=True)
        }
        return cls(**decoded)


class PracticeAction(StrEnum):
    EASIER = "e"
    NEXT = "n"
    PAUSE = "p"
    RESUME = "r"
    STOP = "s"
    # Stop's question.
    END = "d"
    KEEP_GOING = "g"
    # It hurts, and its question.
    HURT = "h"
    TRY_EASIER = "t"
    SKIP = "k"
    END_FOR_PAIN = "x"
    # Numbness or tingling has passed: on to the next pose.
    PASSED = "a"
    # "Continue or start over?" when a new practice is asked for.
    CONTINUE = "c"
    START_OVER = "o"
    # +15 s on the hold, and the usual version back in place of an easier one.
    MORE_TIME = "m"
    USUAL = "u"
    # A practice paused in the player goes on in the chat.
    HERE = "i"


@dataclass(frozen=True)
class StartButton(Button, prefix="p:start"):
    """Start practice: under /start, /progress and each reminder."""


@dataclass(frozen=True)
class PracticeButton(Button, prefix="p"):
    """A cue's buttons (Easier option, Next, It hurts, Pause, Resume, Stop), the answers to
    the questions a practice asks, and Continue / Start over, for the step they were shown
    on."""

    action: Annotated[PracticeAction, _choice(PracticeAction)]
    practice: Annotated[int, ROW_ID]
    step: Annotated[int, STEP]


@dataclass(frozen=True)
class SlowPaceButton(Button, prefix="sp:slow"):
    """Use the slow pace: offered once, under a closing message, after extra time on many
    poses."""


@dataclass(frozen=True)
class CheckinBefore(Button, prefix="c:b"):
    """An answer to the back check-in before practice; it starts the class."""

    score: Annotated[int | None, SCORE]


class GateChoice(StrEnum):
    GENTLE = "g"
    USUAL = "u"
    NOT_TODAY = "n"


@dataclass(frozen=True)
class PainGateButton(Button, prefix="c:g"):
    """The choice on a sore day (or after a practice that left the back worse): a gentle
    practice, the usual one, or not today. Carries the check-in's score."""

    choice: Annotated[GateChoice, _choice(GateChoice)]
    score: Annotated[int | None, SCORE]


@dataclass(frozen=True)
class CheckinAfter(Button, prefix="c:a"):
    """An answer to the back check-in after a finished practice."""

    practice: Annotated[int, ROW_ID]
    score: Annotated[int | None, SCORE]


class ReminderAction(StrEnum):
    SNOOZE = "snooze"
    SKIP = "skip"
    OFF = "off"


@dataclass(frozen=True)
class ReminderButton(Button, prefix="r"):
    """Snooze 30 min / Skip today under a reminder, and Off under /remind."""

    action: Annotated[ReminderAction, _choice(ReminderAction)]


@dataclass(frozen=True)
class ReminderTime(Button, prefix="r:set"):
    """One of /remind's common times."""

    at: Annotated[time, CLOCK]


@dataclass(frozen=True)
class ZoneButton(Button, prefix="tz"):
    """One of the places /timezone offers when a name is of several, by its zone."""

    zone: Annotated[str, ZONE]


@dataclass(frozen=True)
class CancelFeedback(Button, prefix="fb:cancel"):
    """Cancel under /feedback's request for a note."""


class Confirm(StrEnum):
    YES = "yes"
    NO = "no"


@dataclass(frozen=True)
class ForgetButton(Button, prefix="fm"):
    """The answer to /forget_me's question."""

    answer: Annotated[Confirm, _choice(Confirm)]


class SafetyChoice(StrEnum):
    NONE = "n"
    SOME = "s"
    # The follow-up: is it one of the emergency signs?
    URGENT = "u"
    OTHER = "o"
    # Answer the screen again (a sign tapped by mistake).
    AGAIN = "a"


@dataclass(frozen=True)
class SafetyButton(Button, prefix="sf"):
    """An answer to the red-flag screen or its follow-up, and "answer again". `start`: the
    screen was asked on the way into a class, which goes on once it is answered None of
    these."""

    choice: Annotated[SafetyChoice, _choice(SafetyChoice)]
    start: Annotated[bool, FLAG]


class PlanAction(StrEnum):
    # A goal: two or three practices a week, or a short one daily.
    TWICE = "2"
    THRICE = "3"
    DAILY = "d"
    # The goals again, to change the plan's.
    GOALS = "g"
    # Stop and Resume each ask first; the answer is its own button.
    STOP = "x"
    STOP_SURE = "z"
    RESUME = "r"
    RESUME_SURE = "y"
    # "Not yet" to resuming, "Keep it" to stopping: the plan as it was.
    BACK = "b"


@dataclass(frozen=True)
class PlanButton(Button, prefix="pl"):
    """A choice under /plan: a goal, change it, stop the plan, resume a paused one (each
    of the last two asked first)."""

    action: Annotated[PlanAction, _choice(PlanAction)]


@dataclass(frozen=True)
class NextDayButton(Button, prefix="nd"):
    """An answer to the next-day check about a practice: Better, Same or Worse."""

    practice: Annotated[int, ROW_ID]
    answer: Annotated[NextDay, _choice(NextDay)]


# /settings' buttons name the setting by a letter and the value by its stored name, which
# no two settings share, so a value reads back as the member it was.
_SETTING_LETTERS = {
    Setting.CLASS_LENGTH: "l",
    Setting.PACE: "p",
    Setting.EASIER_MODE: "e",
    Setting.PICTURES: "i",
    Setting.VOICE: "v",
}
_SETTINGS_BY_LETTER = {letter: setting for setting, letter in _SETTING_LETTERS.items()}
_SETTING_VALUES: dict[str, StrEnum] = {
    member.value: member for kind in CHOICES.values() for member in kind
}
SETTING: Codec[Setting] = Codec(
    "|".join(_SETTINGS_BY_LETTER), _SETTING_LETTERS.__getitem__, _SETTINGS_BY_LETTER.__getitem__
)
SETTING_VALUE: Codec[StrEnum] = Codec(
    "|".join(re.escape(value) for value in _SETTING_VALUES), str, _SETTING_VALUES.__getitem__
)


@dataclass(frozen=True)
class SettingButton(Button, prefix="st"):
    """One value of one setting under /settings. The data can pair a value with another
    setting's name (a forged press); `fits` says whether it belongs to its setting."""

    setting: Annotated[Setting, SETTING]
    value: Annotated[StrEnum, SETTING_VALUE]

    @property
    def fits(self) -> bool:
        return isinstance(self.value, CHOICES[self.setting])


# /settings' pages: one setting's ("l", "p", ...), or all of them ("all").
SETTING_PAGE: Codec[Setting | None] = Codec(
    "|".join([*_SETTINGS_BY_LETTER, "all"]),
    lambda setting: "all" if setting is None else _SETTING_LETTERS[setting],
    lambda text: None if text == "all" else _SETTINGS_BY_LETTER[text],
)


@dataclass(frozen=True)
class SettingsView(Button, prefix="sv"):
    """A setting under /settings, to show its values and choose one; None: back to all of
    them."""

    setting: Annotated[Setting | None, SETTING_PAGE]


SCHEMES: tuple[type[Button], ...] = (
    StartButton,
    PracticeButton,
    SlowPaceButton,
    CheckinBefore,
    PainGateButton,
    CheckinAfter,
    ReminderButton,
    ReminderTime,
    ZoneButton,
    CancelFeedback,
    ForgetButton,
    SafetyButton,
    SettingButton,
    SettingsView,
    PlanButton,
    NextDayButton,
)
