"""/start, /help, the command menu, and the replies to what the bot does not understand."""

from __future__ import annotations

from collections.abc import Sequence
from html import escape

from telegram import InlineKeyboardButton, InlineKeyboardMarkup

from bot.models import PracticeStatus
from handlers.buttons import StartButton
from handlers.render import Reply, html, plain, player
from sequences import Prop, YogaClass

COMMANDS: tuple[tuple[str, str], ...] = (
    ("start_practice", "Begin today's class"),
    ("plan", "A plan for 12 weeks, stepping up as your back allows"),
    ("progress", "Your practice so far, with a chart"),
    ("report", "A one-page report for your physiotherapist"),
    ("remind", "Daily reminder, e.g. /remind 07:30 or /remind off"),
    ("timezone", "Your time zone for reminders"),
    ("feedback", "Tell the people who run me something"),
    ("mydata", "Download everything I store about you"),
    ("forget_me", "Delete everything I store about you"),
    ("safety", "Signs to see a doctor about first"),
    ("settings", "Class length, pace, easier options, voice"),
    ("help", "What I can do"),
    ("start", "Welcome and safety note"),
)

UNKNOWN_COMMAND = "I don't know that command. Try /start_practice, or /help for the list."
PLAIN_TEXT = "I follow commands rather than chat. Send /start_practice to begin, or /help."
SORRY = "Sorry, something went wrong on my side. Your practice is saved; try that again."
NOT_SAVED = "I couldn't save that just now. Please try again in a moment."
OUT_OF_DATE = "This button is out of date."
# In a group: what the bot says there (all it ever says there), and to a tap there.
PRIVATE_ONLY = "I coach one to one, in a private chat, so nothing of yours shows here."
OPEN_PRIVATE_CHAT = "Open a private chat"
NOT_YOUR_BUTTON = "This isn't your button."
STATUS_WORDS = {
    PracticeStatus.ACTIVE: "in progress",
    PracticeStatus.PAUSED: "paused",
    PracticeStatus.FINISHED: "finished",
    PracticeStatus.STOPPED: "stopped",
}


# What will do instead of each prop a class file may name, for someone without it.
STAND_INS: dict[Prop, str] = {
    "strap": "a belt or scarf",
    "block": "thick books or a firm cushion",
    "blanket": "a folded towel",
}


def props_line(yoga_class: YogaClass) -> str:
    """The props, e.g. "strap, 2 blocks; optional: blanket"; "" for a class with none."""
    needed = ", ".join(_prop_names(yoga_class.props_needed, yoga_class))
    optional = ", ".join(_prop_names(yoga_class.props_optional, yoga_class))
    if not optional:
        return needed
    return f"{needed}; optional: {optional}" if needed else f"{optional} (optional)"


def no_props_line(yoga_class: YogaClass) -> str | None:
    """What to use for each of the class's props, for who has none; None without props."""
    props = [*yoga_class.props_needed, *yoga_class.props_optional]
    if not props:
        return None
    several = yoga_class.block_count > 1
    uses = [f"{STAND_INS[p]} for the {'blocks' if p == 'block' and several else p}" for p in props]
    return f"No props? Use {', '.join(uses)}."


def _prop_names(props: Sequence[str], yoga_class: YogaClass) -> list[str]:
    blocks = yoga_class.block_count
    return [f"{blocks} blocks" if p == "block" and blocks > 1 else p for p in props]


def _props_paragraph(yoga_class: YogaClass) -> str:
    """/start's word on props: which, and what will do without them."""
    instead = no_props_line(yoga_class)
    if instead is None:
        return "You'll need no props."
    return f"You'll need: {escape(props_line(yoga_class))}.\n{escape(instead)}"


def start_keyboard(player_url: str | None = None) -> InlineKeyboardMarkup:
    rows = [[InlineKeyboardButton("Start practice", callback_data=StartButton().pack())]]
    if player_url is not None:
        rows.append([player.open_button(player_url)])
    return InlineKeyboardMarkup(rows)


def welcome(yoga_class: YogaClass, first_name: str, player_url: str | None = None) -> Reply:
    greeting = f"Hello {escape(first_name)}." if first_name else "Hello."
    return html(
        f"{greeting} I'm your yoga coach for a steadier lower back.\n\n"
        f"I guide you through <b>{escape(yoga_class.title)}</b> "
        f"({yoga_class.total_minutes} min), one pose at a time. Each cue comes by itself "
        "when the hold is over; tap <b>Easier option</b> for a gentler version, "
        "<b>Next</b> to move on, and <b>It hurts</b> whenever something does.\n\n"
        f"{_props_paragraph(yoga_class)}\n\n"
        "For steady progress, /plan sets out 12 weeks that step up as your back allows.\n\n"
        f"<b>Safety:</b> {escape(yoga_class.safety_note)} /safety lists the signs that need "
        "a doctor first.",
        start_keyboard(player_url),
    )


def help_text() -> Reply:
    lines = ["Here is what I can do:", ""]
    lines += [f"/{name} — {description}" for name, description in COMMANDS]
    lines += [
        "",
        "During a practice: Easier option, Next, It hurts, +15 s and Pause under each pose "
        "(Stop is under Pause).",
    ]
    return plain("\n".join(lines))


def unknown_command() -> Reply:
    return plain(UNKNOWN_COMMAND)


def plain_text() -> Reply:
    return plain(PLAIN_TEXT)


def sorry() -> Reply:
    return plain(SORRY)


def not_saved() -> Reply:
    return plain(NOT_SAVED)


def private_only(bot_username: str) -> Reply:
    """The one line the bot says in a group, with a link into a private chat with it."""
    link = InlineKeyboardButton(OPEN_PRIVATE_CHAT, url=f"https://t.me/{bot_username}")
    return plain(PRIVATE_ONLY, InlineKeyboardMarkup([[link]]))
