"""The user's own data (/mydata, /forget_me) and the numbers for the people who run the
bot (/stats, `yogabot stats`)."""

from __future__ import annotations

import io
from datetime import datetime
from enum import StrEnum
from html import escape

from telegram import InlineKeyboardButton, InlineKeyboardMarkup

from bot.account import StoredRecord
from bot.spreadsheet import csv_line, write_csv
from bot.stats import completion_rate
from bot.store import Counts
from handlers.buttons import Confirm, ForgetButton
from handlers.render import Reply, html, plain

MYDATA_FILENAME = "yogabot-my-data.csv"
MYDATA_CAPTION = (
    "Everything I store about you, as one spreadsheet file: you and your settings, your "
    "reminder, your practices, what happened at each pose, and your notes."
)
NOTHING_STORED = "I have nothing stored about you yet."
FORGET_QUESTION = (
    "This deletes everything I have stored about you: your practices, back check-ins, "
    "feedback, reminders and settings. It cannot be undone. Delete it all?"
)
FORGOTTEN = (
    "Done. Everything I stored about you is deleted. If you come back, /start begins afresh."
)
KEPT = "All right, nothing was deleted."

# Each table's part of the file opens with a line saying what it holds; a table without a
# line here (a new one) is named as stored.
SECTION_TITLES = {
    "users": "You: your chat, settings, time zone and last answer to the safety questions",
    "reminders": "Your reminder",
    "practice_sessions": "Your practices, each with every detail stored",
    "step_events": (
        "What happened at each pose: shown, easier or usual version chosen, "
        "it hurt, skipped, more time"
    ),
    "feedback": "Your notes, and where their copies in the team's chat are",
}


NONE_STORED = "(none stored)"


def nothing_stored() -> Reply:
    return plain(NOTHING_STORED)


def _cell(value: object) -> object:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, datetime):
        return value.isoformat(timespec="seconds")
    if isinstance(value, StrEnum):
        return value.value
    return value


def record_csv(record: StoredRecord) -> bytes:
    """One spreadsheet file with a part for each table: a line saying what it holds, its
    columns, its rows (every column as stored, times in the user's zone), and an empty line
    before the next part."""
    out = io.StringIO()
    for table, rows in record.tables.items():
        columns = list(dict.fromkeys(key for row in rows for key in row))
        out.write(csv_line([SECTION_TITLES.get(table, table)]))
        if columns:
            write_csv(out, columns, ({k: _cell(v) for k, v in row.items()} for row in rows))
        else:
            out.write(csv_line([NONE_STORED]))
        out.write("\r\n")
    # The BOM lets spreadsheet apps detect UTF-8, so names and emoji open intact.
    return out.getvalue().encode("utf-8-sig")


def forget_question() -> Reply:
    def button(label: str, answer: Confirm) -> list[InlineKeyboardButton]:
        return [InlineKeyboardButton(label, callback_data=ForgetButton(answer).pack())]

    keyboard = InlineKeyboardMarkup(
        [button("Yes, delete everything", Confirm.YES), button("No, keep it", Confirm.NO)]
    )
    return plain(FORGET_QUESTION, keyboard)


def forgotten(copies_left: int = 0) -> Reply:
    """Done, and, in one more line, the copies of the user's notes that Telegram would not
    let the bot delete from the team's chat."""
    if copies_left == 0:
        return plain(FORGOTTEN)
    return plain(f"{FORGOTTEN}\n\n{copies_left_line(copies_left)}")


def copies_left_line(count: int) -> str:
    if count == 1:
        return (
            "A copy of your feedback could not be removed from the team's chat; "
            "the people who run me can delete it."
        )
    return (
        f"{count} copies of your feedback could not be removed from the team's chat; "
        "the people who run me can delete them."
    )


def kept() -> Reply:
    return plain(KEPT)


def stats_table(counts: Counts) -> str:
    """The numbers as aligned plain text, for the terminal and for /stats."""
    rate = completion_rate(counts)
    rows = [
        ("users", str(counts.users)),
        ("users with reminders", str(counts.users_with_reminders)),
        ("sessions started", str(counts.practices_started)),
        ("sessions finished", str(counts.practices_finished)),
        ("completion rate", "-" if rate is None else f"{rate:.0%}"),
        ("feedback", str(counts.feedback)),
    ]
    width = max(len(name) for name, _ in rows)
    return "\n".join(f"{name:<{width}}  {value}" for name, value in rows)


def stats(counts: Counts) -> Reply:
    return html(f"<pre>{escape(stats_table(counts))}</pre>")
