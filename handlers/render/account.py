"""The user's own data (/mydata, /forget_me) and the numbers for the people who run the
bot (/stats, `yogabot stats`)."""

from __future__ import annotations

import io
from html import escape

from telegram import InlineKeyboardButton, InlineKeyboardMarkup

from bot.account import History
from bot.spreadsheet import write_csv
from bot.stats import completion_rate
from bot.store import Counts
from handlers.buttons import Confirm, ForgetButton
from handlers.render import Reply, html, plain
from handlers.render.common import STATUS_WORDS
from handlers.render.safety import ANSWER_WORDS

MYDATA_FILENAME = "yogabot-my-data.csv"
MYDATA_CAPTION = "Your practices and notes, as a spreadsheet file."
NOTHING_STORED = "I have nothing stored about you yet."
FORGET_QUESTION = (
    "This deletes everything I have stored about you: your practices, back check-ins, "
    "feedback, reminders and settings. It cannot be undone. Delete it all?"
)
FORGOTTEN = (
    "Done. Everything I stored about you is deleted. If you come back, /start begins afresh."
)
KEPT = "All right, nothing was deleted."

HISTORY_COLUMNS = [
    "kind",
    "at",
    "class",
    "pose",
    "status",
    "minutes",
    "poses_done",
    "easier_used",
    "gentle",
    "back_before",
    "back_after",
    "text",
]


def nothing_stored() -> Reply:
    return plain(NOTHING_STORED)


def history_csv(history: History) -> bytes:
    """Practices, then notes, then the red-flag screen's answer, as one spreadsheet file."""
    rows: list[dict[str, object]] = [
        {
            "kind": "practice",
            "at": p.at.isoformat(timespec="minutes"),
            "class": p.class_title,
            "status": STATUS_WORDS[p.status],
            "minutes": p.minutes,
            "poses_done": p.poses_done,
            "easier_used": p.easier_used,
            "gentle": "yes" if p.gentle else "no",
            "back_before": p.back_before,
            "back_after": p.back_after,
        }
        for p in history.practices
    ]
    rows += [
        {
            "kind": "feedback",
            "at": n.at.isoformat(timespec="minutes"),
            "class": n.class_title,
            "pose": n.pose,
            "text": n.text,
        }
        for n in history.notes
    ]
    if history.screen is not None:
        rows.append(
            {
                "kind": "safety screen",
                "at": history.screen.at.isoformat(timespec="minutes"),
                "text": ANSWER_WORDS[history.screen.answer],
            }
        )
    out = io.StringIO()
    write_csv(out, HISTORY_COLUMNS, rows)
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
