"""Every message and keyboard about reminders and time zones, rendered in one place."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime, timedelta
from html import escape

from telegram import (
    InlineKeyboardButton,
    InlineKeyboardMarkup,
    KeyboardButton,
    ReplyKeyboardMarkup,
    ReplyKeyboardRemove,
)

from bot.reminders import (
    DAY_NAMES,
    DAYS_EXAMPLE,
    EVERY_DAY,
    TIME_EXAMPLE,
    ZONE_EXAMPLE,
    ReminderStatus,
    Schedule,
)
from handlers.render import START_BUTTON_DATA
from sequences import YogaClass

COMMON_TIMES: tuple[tuple[int, int], ...] = ((7, 0), (12, 30), (18, 0), (21, 0))
SNOOZE_DATA = "r:snooze"
SKIP_DATA = "r:skip"
OFF_DATA = "r:off"
_SET = re.compile(r"^r:set:(\d{2})(\d{2})$")

SNOOZED_ANSWER = "Snoozed for 30 minutes."
SKIPPED_ANSWER = "Skipped for today."
REMINDERS_ARE_OFF = "Reminders are off. Send /remind to set one."
STALE_BUTTON = "That button is out of date. Send /remind to see your reminder."
NO_ZONE_THERE = f"I couldn't find a time zone for that place. Send it instead: {ZONE_EXAMPLE}"
REMOVE_KEYBOARD = ReplyKeyboardRemove()

_WEEKDAYS = ",".join(DAY_NAMES[:5])
_WEEKENDS = ",".join(DAY_NAMES[5:])


@dataclass(frozen=True)
class ReminderButton:
    action: str  # "snooze", "skip", "off" or "set"
    hour: int = 0
    minute: int = 0


def parse_button(data: str | None) -> ReminderButton | None:
    if data in (SNOOZE_DATA, SKIP_DATA, OFF_DATA):
        return ReminderButton(data.removeprefix("r:"))
    match = _SET.match(data or "")
    if match is None:
        return None
    hour, minute = int(match[1]), int(match[2])
    if hour > 23 or minute > 59:
        return None
    return ReminderButton("set", hour, minute)


# -- pieces --------------------------------------------------------------------------------


def clock_time(moment: datetime) -> str:
    return moment.strftime("%H:%M")


def when(moment: datetime, now: datetime) -> str:
    """'today at 07:30', 'tomorrow, Tue 6 Jan, at 07:30' or 'Wed 7 Jan at 07:30'."""
    date_text = f"{moment:%a} {moment.day} {moment:%b}"
    if moment.date() == now.date():
        return f"today at {clock_time(moment)}"
    if moment.date() == now.date() + timedelta(days=1):
        return f"tomorrow, {date_text}, at {clock_time(moment)}"
    return f"{date_text} at {clock_time(moment)}"


def days_phrase(days: str) -> str:
    if days == EVERY_DAY:
        return "every day"
    if days == _WEEKDAYS:
        return "on weekdays"
    if days == _WEEKENDS:
        return "at weekends"
    names = [d.capitalize() for d in days.split(",")]
    listed = names[0] if len(names) == 1 else f"{', '.join(names[:-1])} and {names[-1]}"
    return f"on {listed}"


def schedule_phrase(schedule: Schedule) -> str:
    return f"{days_phrase(schedule.days)} at {schedule.hour:02d}:{schedule.minute:02d}"


def next_line(status: ReminderStatus) -> str:
    if status.schedule is None or status.next_at is None:
        return "Reminders are off."
    return f"Next reminder: {when(status.next_at, status.now)} ({status.zone})."


def _default_zone_note(status: ReminderStatus) -> str:
    return (
        f"Times are in {status.zone} until you set your own zone: send e.g. {ZONE_EXAMPLE}, "
        "or /timezone to share your location."
    )


# -- /remind -------------------------------------------------------------------------------


def reminder_set(status: ReminderStatus) -> str:
    assert status.schedule is not None
    lines = [f"Done. I'll remind you {schedule_phrase(status.schedule)}.", next_line(status)]
    if status.zone_is_default:
        lines += ["", _default_zone_note(status)]
    return "\n".join(lines)


def reminders_off(status: ReminderStatus) -> str:
    return "Reminders are off. Send /remind whenever you want them back."


def reminder_status(status: ReminderStatus) -> str:
    if status.schedule is None:
        lines = [
            "Reminders are off.",
            f"Tap a time for a daily nudge, or send your own: {TIME_EXAMPLE}, "
            f"or {DAYS_EXAMPLE} for chosen days.",
        ]
    else:
        lines = [
            f"Your reminder: {schedule_phrase(status.schedule)} ({status.zone}).",
            next_line(status),
            "",
            f"Tap a time to change it, or send your own, e.g. {DAYS_EXAMPLE}.",
        ]
    if status.zone_is_default:
        lines += ["", _default_zone_note(status)]
    return "\n".join(lines)


def remind_keyboard(status: ReminderStatus) -> InlineKeyboardMarkup:
    times = [
        InlineKeyboardButton(f"{h:02d}:{m:02d}", callback_data=f"r:set:{h:02d}{m:02d}")
        for h, m in COMMON_TIMES
    ]
    rows = [times]
    if status.schedule is not None:
        rows.append([InlineKeyboardButton("Off", callback_data=OFF_DATA)])
    return InlineKeyboardMarkup(rows)


# -- /timezone -----------------------------------------------------------------------------


def timezone_status(status: ReminderStatus) -> str:
    if status.zone_is_default:
        first = (
            f"I'm using {status.zone}, as you haven't set your time zone yet "
            f"(it's {clock_time(status.now)} there now)."
        )
    else:
        first = f"Your time zone: {status.zone} (it's {clock_time(status.now)} there now)."
    return (
        f"{first}\nTo change it, send your zone, e.g. {ZONE_EXAMPLE}, "
        "or tap the button below to share your location."
    )


def location_keyboard() -> ReplyKeyboardMarkup:
    return ReplyKeyboardMarkup(
        [[KeyboardButton("Share my location", request_location=True)]],
        resize_keyboard=True,
        one_time_keyboard=True,
    )


def timezone_set(status: ReminderStatus) -> str:
    first = f"Time zone set: {status.zone} (it's {clock_time(status.now)} there now)."
    if status.schedule is None:
        return f"{first}\nReminders are off; {TIME_EXAMPLE} sets one."
    return f"{first}\n{next_line(status)}"


# -- the reminder itself -------------------------------------------------------------------


def _class_line(yoga_class: YogaClass) -> str:
    return f"<b>{escape(yoga_class.title)}</b> · {yoga_class.total_minutes} min"


def reminder_text(yoga_class: YogaClass) -> str:
    return (
        "Time for your practice 🌿\n"
        f"{_class_line(yoga_class)}\n\n"
        "A few quiet minutes for your back. Start when you're on the mat."
    )


def reminder_keyboard() -> InlineKeyboardMarkup:
    return InlineKeyboardMarkup(
        [
            [InlineKeyboardButton("Start practice", callback_data=START_BUTTON_DATA)],
            [
                InlineKeyboardButton("Snooze 30 min", callback_data=SNOOZE_DATA),
                InlineKeyboardButton("Skip today", callback_data=SKIP_DATA),
            ],
        ]
    )


def snoozed(yoga_class: YogaClass, status: ReminderStatus) -> str:
    assert status.next_at is not None
    return (
        f"{_class_line(yoga_class)}\n\n"
        f"Snoozed. I'll remind you again at {clock_time(status.next_at)} ({escape(status.zone)})."
    )


def snoozed_keyboard() -> InlineKeyboardMarkup:
    return InlineKeyboardMarkup(
        [[InlineKeyboardButton("Start practice", callback_data=START_BUTTON_DATA)]]
    )


def skipped(yoga_class: YogaClass, status: ReminderStatus) -> str:
    rest = escape(next_line(status))
    return f"{_class_line(yoga_class)}\n\nSkipped for today. Rest well.\n{rest}"
