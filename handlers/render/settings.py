"""/settings (bot.user_settings): one line per setting with its value, and a button for each
setting, which shows that setting's values, explained, to choose from.

Telegram shortens a button's text that does not fit its width, and on a 390 px phone three
buttons to a row leave about nine characters each ("✓ Reme…"). So every button here has a
row of its own and says what it sets ("Pace: Normal"); what a value does is in the text.
"""

from __future__ import annotations

from enum import StrEnum

from telegram import InlineKeyboardButton, InlineKeyboardMarkup

from bot.models import ClassLength, EasierMode, Pace, Pictures, Voice
from bot.user_settings import Setting, UserSettings, class_minutes
from handlers.buttons import SettingButton, SettingsView
from handlers.render import Reply, plain
from sequences import YogaClass

TITLE = "Your settings"
APPLIES_NEXT_CLASS = "Changes apply from your next class."
TAP_TO_CHANGE = "Tap a setting to change it. " + APPLIES_NEXT_CLASS
CHOSEN = "✓ "
BACK = "‹ Back"

SETTING_NAMES = {
    Setting.CLASS_LENGTH: "Class length",
    Setting.PACE: "Pace",
    Setting.EASIER_MODE: "Easier options",
    Setting.PICTURES: "Cues",
    Setting.VOICE: "Voice",
}
# Under each setting's name on its own page: what it changes.
SETTING_ABOUT = {
    Setting.CLASS_LENGTH: "How many poses a class has.",
    Setting.PACE: "How long each pose is held.",
    Setting.EASIER_MODE: "When a pose comes in its easier version.",
    Setting.PICTURES: "What each cue shows.",
    Setting.VOICE: "Whether each cue is spoken aloud.",
}
# A word or two each: a button's text, and the value's name in the text.
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
    Voice.ON: "On",
    Voice.OFF: "Off",
}
# What a value does, after its label, where the label alone does not say.
MEANINGS: dict[StrEnum, str] = {
    Pace.SLOW: "longer holds",
    Pace.QUICK: "shorter holds",
    EasierMode.AS_ASKED: "only when you tap Easier option",
    EasierMode.REMEMBERED: "shown from the start where you often chose them",
    EasierMode.ALWAYS: "shown from the start on every pose",
    Pictures.ON: "a picture of each pose",
    Voice.ON: "each cue spoken aloud",
}
# On a setting's own page every value is explained.
PAGE_MEANINGS: dict[StrEnum, str] = {
    **MEANINGS,
    Pace.SLOW: "every hold a quarter longer",
    Pace.NORMAL: "the holds as taught",
    Pace.QUICK: "every hold a quarter shorter",
    Pictures.OFF: "the words alone",
    Voice.ON: "each cue spoken aloud, the pose picture as its cover",
    Voice.OFF: "silent cues",
}


def _in_force(settings: UserSettings) -> dict[Setting, StrEnum]:
    """Each setting and its value, in the order shown."""
    return {
        Setting.CLASS_LENGTH: settings.class_length,
        Setting.PACE: settings.pace,
        Setting.EASIER_MODE: settings.easier_mode,
        Setting.PICTURES: settings.pictures,
        Setting.VOICE: settings.voice,
    }


def _value_words(value: StrEnum, settings: UserSettings, yoga_class: YogaClass) -> str:
    if isinstance(value, ClassLength):
        minutes = class_minutes(yoga_class, value, settings.pace)
        return f"{LABELS[value]} (about {minutes} min)"
    meaning = MEANINGS.get(value)
    return LABELS[value] if meaning is None else f"{LABELS[value]} — {meaning}"


def settings_message(settings: UserSettings, yoga_class: YogaClass) -> Reply:
    """/settings, and the same message after each change. `yoga_class`: the one whose
    minutes the class length names (at the pace in force)."""
    chosen = _in_force(settings)
    lines = [TITLE]
    lines += [
        f"{SETTING_NAMES[s]}: {_value_words(v, settings, yoga_class)}" for s, v in chosen.items()
    ]
    lines += ["", TAP_TO_CHANGE]
    keyboard = InlineKeyboardMarkup(
        [
            [
                InlineKeyboardButton(
                    f"{SETTING_NAMES[setting]}: {LABELS[value]}",
                    callback_data=SettingsView(setting).pack(),
                )
            ]
            for setting, value in chosen.items()
        ]
    )
    return plain("\n".join(lines), keyboard)


def _page_line(value: StrEnum, settings: UserSettings, yoga_class: YogaClass) -> str:
    # What a length or a pace comes to, with the other one as it is set.
    if isinstance(value, ClassLength):
        poses = len(yoga_class.steps_for(value.value))
        minutes = class_minutes(yoga_class, value, settings.pace)
        return f"{LABELS[value]}: {poses} poses, about {minutes} min"
    words = f"{LABELS[value]}: {PAGE_MEANINGS[value]}" if value in PAGE_MEANINGS else LABELS[value]
    if isinstance(value, Pace):
        return f"{words}, about {class_minutes(yoga_class, settings.class_length, value)} min"
    return words


def setting_page(setting: Setting, settings: UserSettings, yoga_class: YogaClass) -> Reply:
    """One setting's values, each explained, the one in force marked; a tap on one sets it."""
    chosen = _in_force(settings)[setting]
    values = list(type(chosen))
    lines = [SETTING_NAMES[setting], SETTING_ABOUT[setting], ""]
    lines += [_page_line(value, settings, yoga_class) for value in values]
    lines += ["", APPLIES_NEXT_CLASS]
    rows = [
        [
            InlineKeyboardButton(
                f"{CHOSEN if value == chosen else ''}{LABELS[value]}",
                callback_data=SettingButton(setting, value).pack(),
            )
        ]
        for value in values
    ]
    rows.append([InlineKeyboardButton(BACK, callback_data=SettingsView(None).pack())])
    return plain("\n".join(lines), InlineKeyboardMarkup(rows))


def changed(setting: Setting, value: StrEnum) -> str:
    """The note on the tapped button, e.g. "Pace: Slow"."""
    return f"{SETTING_NAMES[setting]}: {LABELS[value]}"
