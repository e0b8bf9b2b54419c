"""/settings (bot.user_settings): one line per setting with its value, and a row of buttons
for each, the value in force marked. Read in a few seconds, changed with one tap."""

from __future__ import annotations

from enum import StrEnum

from telegram import InlineKeyboardButton, InlineKeyboardMarkup

from bot.models import ClassLength, EasierMode, Pace, Pictures
from bot.user_settings import Setting, UserSettings
from handlers.buttons import SettingButton
from handlers.render import Reply, plain
from sequences import YogaClass

TITLE = "Your settings"
APPLIES_NEXT_CLASS = "Changes apply from your next class."
CHOSEN = "✓ "

SETTING_NAMES = {
    Setting.CLASS_LENGTH: "Class length",
    Setting.PACE: "Pace",
    Setting.EASIER_MODE: "Easier options",
    Setting.PICTURES: "Cues",
}
# Three to a row on a phone: every label stays a word or two.
LABELS: dict[StrEnum, str] = {
    ClassLength.FULL: "Full",
    ClassLength.SHORT: "Short",
    Pace.SLOW: "Slow",
    Pace.NORMAL: "Normal",
    Pace.QUICK: "Quick",
    EasierMode.AS_ASKED: "As I ask",
    EasierMode.REMEMBERED: "Remembered",
    EasierMode.ALWAYS: "Always",
    Pictures.ON: "Pictures on",
    Pictures.OFF: "Text only",
}
# What a value does, after its label, where the label alone does not say.
MEANINGS: dict[StrEnum, str] = {
    Pace.SLOW: "longer holds",
    Pace.QUICK: "shorter holds",
    EasierMode.AS_ASKED: "when you tap Easier option",
    EasierMode.REMEMBERED: "shown from the start where you often chose them",
    EasierMode.ALWAYS: "shown from the start on every pose",
    Pictures.ON: "a picture of each pose",
}


def class_minutes(yoga_class: YogaClass, length: ClassLength) -> int:
    """About how long the class runs at this length, at the normal pace."""
    steps = yoga_class.steps_for(length.value)
    # The whole class lasts what it says (as /start tells it); a selection, its holds.
    if len(steps) == len(yoga_class.steps):
        return yoga_class.total_minutes
    return max(1, round(sum(step.hold_seconds for step in steps) / 60))


def _value_words(value: StrEnum, yoga_class: YogaClass) -> str:
    if isinstance(value, ClassLength):
        return f"{LABELS[value]} (about {class_minutes(yoga_class, value)} min)"
    meaning = MEANINGS.get(value)
    return LABELS[value] if meaning is None else f"{LABELS[value]} — {meaning}"


def _rows(settings: UserSettings) -> list[tuple[Setting, StrEnum, list[StrEnum]]]:
    """Each setting, the value in force, and every value it can take, in the order shown."""
    return [
        (Setting.CLASS_LENGTH, settings.class_length, list(ClassLength)),
        (Setting.PACE, settings.pace, list(Pace)),
        (Setting.EASIER_MODE, settings.easier_mode, list(EasierMode)),
        (Setting.PICTURES, settings.pictures, list(Pictures)),
    ]


def settings_message(settings: UserSettings, yoga_class: YogaClass) -> Reply:
    """/settings, and the same message after each tap. `yoga_class`: the one whose minutes
    the class length names."""
    rows = _rows(settings)
    lines = [TITLE]
    lines += [f"{SETTING_NAMES[s]}: {_value_words(chosen, yoga_class)}" for s, chosen, _ in rows]
    lines += ["", APPLIES_NEXT_CLASS]
    keyboard = InlineKeyboardMarkup(
        [
            [
                InlineKeyboardButton(
                    f"{CHOSEN if value == chosen else ''}{LABELS[value]}",
                    callback_data=SettingButton(setting, value).pack(),
                )
                for value in values
            ]
            for setting, chosen, values in rows
        ]
    )
    return plain("\n".join(lines), keyboard)


def changed(setting: Setting, value: StrEnum) -> str:
    """The note on the tapped button, e.g. "Pace: Slow"."""
    return f"{SETTING_NAMES[setting]}: {LABELS[value]}"
