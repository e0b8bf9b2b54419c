"""Every message and keyboard about reminders and time zones, rendered in one place."""

from __future__ import annotations

from datetime import datetime, time, timedelta
from html import escape

from telegram import (
    InlineKeyboardButton,
    InlineKeyboardMarkup,
    KeyboardButton,
    ReplyKeyboardMarkup,
    ReplyKeyboardRemove,
)

from bot.places import Place, country_name
from bot.reminders import (
    DAY_NAMES,
    EVERY_DAY,
    InputProblem,
    ReminderInputError,
    ReminderStatus,
    Schedule,
    ZoneSet,
)
from bot.timezones import ZoneChoices
from handlers.buttons import ReminderAction, ReminderButton, ReminderTime, StartButton, ZoneButton
from handlers.render import Reply, html, plain
from sequences import YogaClass

COMMON_TIMES = (time(7, 0), time(12, 30), time(18, 0), time(21, 0))
TIME_EXAMPLE = "/remind 07:30"
TWELVE_HOUR_EXAMPLE = "/remind 7:30pm"
DAYS_EXAMPLE = "/remind 18:15 mon,wed,fri"
ZONE_EXAMPLE = "/timezone Berlin"

SNOOZED_ANSWER = "Snoozed for 30 minutes."
SKIPPED_ANSWER = "Skipped for today."
REMINDERS_ARE_OFF = "Reminders are off. Send /remind to set one."
STALE_BUTTON = "That button is out of date. Send /remind to see your reminder."
STALE_ZONE = "That button is out of date. Send /timezone with your city."
NO_ZONE_THERE = (
    f"I couldn't find a time zone for that place. Send your city instead, e.g. {ZONE_EXAMPLE}"
)

# A plan's practice missed yesterday, moved to today (a free day), once.
MAKE_UP = "Yesterday's practice didn't happen, and that's fine. Today works just as well."

_WEEKDAYS = ",".join(DAY_NAMES[:5])
_WEEKENDS = ",".join(DAY_NAMES[5:])


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


def _schedule_of(status: ReminderStatus) -> str:
    """The schedule in words; with a plan, its days are the plan's, and it says so."""
    assert status.schedule is not None
    phrase = schedule_phrase(status.schedule)
    return f"{phrase}, your plan's days" if status.follows_plan else phrase


def next_line(status: ReminderStatus) -> str:
    if status.schedule is not None and status.waiting_for_zone:
        return "It starts once I know your time zone."
    if status.schedule is None or status.next_at is None:
        return "Reminders are off."
    return f"Next reminder: {when(status.next_at, status.now)} ({status.zone})."


def _default_zone_note(status: ReminderStatus) -> str:
    return (
        f"Times are in {status.zone} until you set your own zone: send e.g. {ZONE_EXAMPLE}, "
        "or /timezone to share your location."
    )


# -- /remind -------------------------------------------------------------------------------


def input_error(error: ReminderInputError) -> Reply:
    """One line saying what was wrong, with an example that works."""
    # What the user typed is quoted back on one line, however it was spaced.
    given = " ".join(error.given.split())
    match error.problem:
        case InputProblem.OFF_TAKES_NOTHING:
            text = "“off” takes nothing after it: just /remind off"
        case InputProblem.NEEDS_MINUTES:
            text = f"“{given}” needs minutes or am/pm, e.g. {TIME_EXAMPLE} or {TWELVE_HOUR_EXAMPLE}"
        case InputProblem.NOT_A_TIME:
            text = f"“{given}” is not a time. Try e.g. {TIME_EXAMPLE} or {TWELVE_HOUR_EXAMPLE}"
        case InputProblem.NOT_A_TIME_OF_DAY:
            text = f"{given} is not a time of day. Try e.g. {TIME_EXAMPLE} or {TWELVE_HOUR_EXAMPLE}"
        case InputProblem.UNKNOWN_DAY:
            text = (
                f"I don't know the day “{given}”. Use mon–sun, weekdays, weekends or daily, "
                f"e.g. {DAYS_EXAMPLE}"
            )
        case InputProblem.NO_DAYS:
            text = f"Which days? Name them after the time, e.g. {DAYS_EXAMPLE}"
        case InputProblem.UNKNOWN_ZONE:
            text = (
                f"I don't know the place or time zone “{given}”. Send a nearby city, "
                f"e.g. {ZONE_EXAMPLE}, an offset like /timezone UTC+2, or /timezone to "
                "share your location."
            )
    return plain(text)


def reminder_set(status: ReminderStatus) -> Reply:
    assert status.schedule is not None
    lines = [f"Done. I'll remind you {_schedule_of(status)}.", next_line(status)]
    if status.zone_is_default:
        lines += ["", _default_zone_note(status)]
    return plain("\n".join(lines))


def reminders_off() -> Reply:
    return plain("Reminders are off. Send /remind whenever you want them back.")


def reminder_status(status: ReminderStatus) -> Reply:
    if status.schedule is not None and status.waiting_for_zone:
        lines = [
            f"Your reminder: {_schedule_of(status)}, once I know your time zone.",
            ASK_ZONE,
            "",
            f"Tap a time to change it, or send your own, e.g. {DAYS_EXAMPLE}.",
        ]
        return plain("\n".join(lines), _remind_keyboard(status))
    if status.schedule is None:
        lines = [
            "Reminders are off.",
            f"Tap a time for a daily nudge, or send your own: {TIME_EXAMPLE}, "
            f"or {DAYS_EXAMPLE} for chosen days.",
        ]
    else:
        lines = [
            f"Your reminder: {_schedule_of(status)} ({status.zone}).",
            next_line(status),
            "",
            f"Tap a time to change it, or send your own, e.g. {DAYS_EXAMPLE}.",
        ]
    if status.zone_is_default:
        lines += ["", _default_zone_note(status)]
    return plain("\n".join(lines), _remind_keyboard(status))


ASK_ZONE = (
    f"Where are you? Send your city, e.g. {ZONE_EXAMPLE}, or /timezone to share your location."
)


def waiting_for_zone(status: ReminderStatus) -> Reply:
    """A time tapped before the user's zone is known: the reminder waits for the zone."""
    assert status.schedule is not None
    return plain(f"I'll remind you {_schedule_of(status)} as soon as I know your time zone.")


def ask_zone() -> Reply:
    """The zone question, with the button that shares a location."""
    return plain(
        f"Where are you? Send your city, e.g. {ZONE_EXAMPLE}, or tap the button below to "
        "share your location.",
        _location_keyboard(),
    )


def _location_keyboard() -> ReplyKeyboardMarkup:
    return ReplyKeyboardMarkup(
        [[KeyboardButton("Share my location", request_location=True)]],
        resize_keyboard=True,
        one_time_keyboard=True,
    )


def _remind_keyboard(status: ReminderStatus) -> InlineKeyboardMarkup:
    times = [
        InlineKeyboardButton(f"{at:%H:%M}", callback_data=ReminderTime(at).pack())
        for at in COMMON_TIMES
    ]
    rows = [times]
    if status.schedule is not None:
        off = ReminderButton(ReminderAction.OFF).pack()
        rows.append([InlineKeyboardButton("Off", callback_data=off)])
    return InlineKeyboardMarkup(rows)


# -- /timezone -----------------------------------------------------------------------------


def timezone_status(status: ReminderStatus) -> Reply:
    if status.zone_is_default:
        first = (
            f"I'm using {status.zone}, as you haven't set your time zone yet "
            f"(it's {clock_time(status.now)} there now)."
        )
    else:
        first = f"Your time zone: {status.zone} (it's {clock_time(status.now)} there now)."
    return plain(
        f"{first}\nTo change it, send your city, e.g. {ZONE_EXAMPLE}, "
        "or tap the button below to share your location.",
        _location_keyboard(),
    )


def place_name(place: Place) -> str:
    return f"{place.name}, {country_name(place.country)}"


def timezone_set(status: ReminderStatus, found: ZoneSet | None = None) -> Reply:
    """The new zone, the place it was found by, and what follows from it; the location
    button, if it was showing, goes."""
    place = found.place if found is not None else None
    where = f", for {place_name(place)}" if place is not None else ""
    lines = [f"Time zone set: {status.zone}{where} (it's {clock_time(status.now)} there now)."]
    if status.zone_is_fixed:
        lines.append(
            f"{status.zone} is a fixed offset: it will not follow summer time. To have your "
            f"clock change with the seasons, send your city instead, e.g. {ZONE_EXAMPLE}."
        )
    if found is not None and found.place is not None and found.others:
        other = found.others[0]
        lines.append(f"Not {place_name(found.place)}? Send e.g. /timezone {place_name(other)}.")
    if status.schedule is None:
        lines.append(f"Reminders are off; {TIME_EXAMPLE} sets one.")
    else:
        lines.append(next_line(status))
    return plain("\n".join(lines), ReplyKeyboardRemove())


def zone_choices(choices: ZoneChoices) -> Reply:
    """Places of one name in different zones: the user taps theirs."""
    names = [place_name(p) for p in choices.places]

    def label(place: Place, name: str) -> str:
        if names.count(name) == 1:
            return name
        # Same name, same country (Portland, Oregon and Portland, Maine): the zone's city.
        zone_city = place.zone.rsplit("/", 1)[-1].replace("_", " ")
        return f"{place.name}, {place.country} · {zone_city} time"

    keyboard = InlineKeyboardMarkup(
        [
            [InlineKeyboardButton(label(p, n), callback_data=ZoneButton(p.zone).pack())]
            for p, n in zip(choices.places, names, strict=True)
        ]
    )
    first = choices.places[0]
    return plain(
        f"Which {first.name} do you mean? Tap it below, or send the city with its country, "
        f"e.g. /timezone {place_name(first)}.",
        keyboard,
    )


def no_zone_there() -> Reply:
    return plain(NO_ZONE_THERE, ReplyKeyboardRemove())


# -- the reminder itself -------------------------------------------------------------------


def _class_line(yoga_class: YogaClass) -> str:
    return f"<b>{escape(yoga_class.title)}</b> · {yoga_class.total_minutes} min"


def _start_button() -> InlineKeyboardButton:
    return InlineKeyboardButton("Start practice", callback_data=StartButton().pack())


AFTER_A_HARD_DAY = (
    "Last time your back felt worse afterwards. A gentle practice is fine today, or rest."
)


def reminder(
    yoga_class: YogaClass, *, after_a_hard_day: bool = False, make_up: bool = False
) -> Reply:
    def button(label: str, action: ReminderAction) -> InlineKeyboardButton:
        return InlineKeyboardButton(label, callback_data=ReminderButton(action).pack())

    keyboard = InlineKeyboardMarkup(
        [
            [_start_button()],
            [
                button("Snooze 30 min", ReminderAction.SNOOZE),
                button("Skip today", ReminderAction.SKIP),
            ],
        ]
    )
    if after_a_hard_day:
        nudge = AFTER_A_HARD_DAY
    elif make_up:
        nudge = MAKE_UP
    else:
        nudge = "A few quiet minutes for your back. Start when you're on the mat."
    return html(f"Time for your practice 🌿\n{_class_line(yoga_class)}\n\n{nudge}", keyboard)


def snoozed(yoga_class: YogaClass, status: ReminderStatus) -> Reply:
    assert status.next_at is not None
    return html(
        f"{_class_line(yoga_class)}\n\n"
        f"Snoozed. I'll remind you again at {clock_time(status.next_at)} ({escape(status.zone)}).",
        InlineKeyboardMarkup([[_start_button()]]),
    )


def skipped(yoga_class: YogaClass, status: ReminderStatus) -> Reply:
    rest = escape(next_line(status))
    return html(f"{_class_line(yoga_class)}\n\nSkipped for today. Rest well.\n{rest}")
