"""A user's /settings: class length, pace and when easier options show, stored per user.

Every practice takes the settings in force when it starts and keeps them (a change in the
middle of a class applies from the next one), so a restart never changes a running class.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from bot.clock import Clock
from bot.models import ClassLength, EasierMode, Pace, Pictures, Voice
from bot.store import Store, UnitOfWork
from sequences import YogaClass

# Holds are multiplied by these, on top of the deployment's TIME_SCALE.
PACE_FACTORS = {Pace.SLOW: 1.25, Pace.NORMAL: 1.0, Pace.QUICK: 0.75}


# A paced hold is rounded to this many seconds, so a cue never says "1 min 34 s".
PACED_TO = 5


def paced_hold(hold_seconds: float, pace_factor: float) -> float:
    """A pose's hold at a pace, in class seconds."""
    if pace_factor == 1.0:
        return hold_seconds
    return max(PACED_TO, round(hold_seconds * pace_factor / PACED_TO) * PACED_TO)


def class_minutes(yoga_class: YogaClass, length: ClassLength, pace: Pace) -> int:
    """About how long the class runs at this length and pace: the holds of its steps, paced
    as a practice paces them, in whole minutes."""
    steps = yoga_class.steps_for(length.value)
    holds = sum(paced_hold(step.hold_seconds, PACE_FACTORS[pace]) for step in steps)
    return max(1, round(holds / 60))


class Setting(StrEnum):
    CLASS_LENGTH = "class_length"
    PACE = "pace"
    EASIER_MODE = "easier_mode"
    PICTURES = "pictures"
    VOICE = "voice"


CHOICES: dict[Setting, type[StrEnum]] = {
    Setting.CLASS_LENGTH: ClassLength,
    Setting.PACE: Pace,
    Setting.EASIER_MODE: EasierMode,
    Setting.PICTURES: Pictures,
    Setting.VOICE: Voice,
}


@dataclass(frozen=True)
class UserSettings:
    class_length: ClassLength = ClassLength.FULL
    pace: Pace = Pace.NORMAL
    easier_mode: EasierMode = EasierMode.REMEMBERED
    pictures: Pictures = Pictures.ON
    # Off unless asked for: a voice nobody expected, in a quiet room, would be a surprise.
    voice: Voice = Voice.OFF

    @property
    def pace_factor(self) -> float:
        return PACE_FACTORS[self.pace]


class UserSettingsService:
    def __init__(self, store: Store, clock: Clock) -> None:
        self._store = store
        self._clock = clock

    async def of(self, user_id: int) -> UserSettings:
        """The user's settings; the defaults for someone not stored yet."""
        async with self._store.read() as uow:
            return await settings_in(uow, user_id)

    async def change(
        self, user_id: int, chat_id: int, first_name: str, setting: Setting, value: StrEnum
    ) -> UserSettings:
        """Set one setting (a value of its own kind, else ValueError); the settings now."""
        kind = CHOICES[setting]
        if not isinstance(value, kind):
            raise ValueError(f"{value!r} is not a {kind.__name__}")
        async with self._store.write() as uow:
            await uow.users.save(user_id, chat_id, first_name, self._clock())
            # Pictures and Voice are yes/no columns; the others store their value as it is.
            stored: object = value
            if setting in (Setting.PICTURES, Setting.VOICE):
                stored = value is Pictures.ON or value is Voice.ON
            await uow.users.set_setting(user_id, setting.value, stored)
            return await settings_in(uow, user_id)


async def settings_in(uow: UnitOfWork, user_id: int) -> UserSettings:
    """The user's settings, read inside a unit of work someone else opened."""
    stored = await uow.users.settings_of(user_id)
    if stored is None:
        return UserSettings()
    length, pace, easier, pictures, voice = stored
    return UserSettings(
        length,
        pace,
        easier,
        Pictures.ON if pictures else Pictures.OFF,
        Voice.ON if voice else Voice.OFF,
    )
