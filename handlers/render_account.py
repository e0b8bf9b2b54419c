"""The user's own data (/mydata, /forget_me) and the admin /stats."""

from __future__ import annotations

from html import escape

from telegram import InlineKeyboardButton, InlineKeyboardMarkup

FORGET_YES = "fm:yes"
FORGET_NO = "fm:no"

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


def forget_keyboard() -> InlineKeyboardMarkup:
    return InlineKeyboardMarkup(
        [
            [InlineKeyboardButton("Yes, delete everything", callback_data=FORGET_YES)],
            [InlineKeyboardButton("No, keep it", callback_data=FORGET_NO)],
        ]
    )


def stats(text: str) -> str:
    return f"<pre>{escape(text)}</pre>"
