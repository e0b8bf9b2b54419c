"""The chat's side of the player (the Mini App): the button that opens it, and the one
message that stands in the chat for a class followed there."""

from __future__ import annotations

from html import escape

from telegram import InlineKeyboardButton, InlineKeyboardMarkup, WebAppInfo

from bot.cues import PlayerNote
from bot.practice.machine import Note
from handlers.buttons import PracticeAction, PracticeButton
from handlers.render import Reply, html, plain

OPEN = "Open the player"
# The chat's menu button (beside the text field), which opens the player.
MENU = "Player"
CONTINUE_THERE = "Continue in the player"
CONTINUE_HERE = "Continue here"
PLAYING = "▶️ Your class is playing in the player.\nClose it, and the class waits for you here."
AWAY = "⏸ Paused at pose {number} of {total}, <b>{title}</b>.\nContinue here, or in the player?"
HERE = "The class went on here in the chat."
ENDED = "This class has ended."


def open_button(url: str, label: str = OPEN) -> InlineKeyboardButton:
    """Opens the player inside Telegram (a private chat's button: Telegram refuses it in
    groups, where the bot does not coach anyway)."""
    return InlineKeyboardButton(label, web_app=WebAppInfo(url))


def open_keyboard(url: str | None) -> InlineKeyboardMarkup | None:
    return None if url is None else InlineKeyboardMarkup([[open_button(url)]])


def note(shown: PlayerNote, url: str | None) -> Reply:
    match shown.kind:
        case Note.PLAYING:
            return plain(PLAYING, open_keyboard(url))
        case Note.AWAY:
            here = PracticeButton(PracticeAction.HERE, practice=shown.practice_id, step=shown.step)
            # One a row: side by side, a phone cuts "Continue in the player" short.
            rows = [[InlineKeyboardButton(CONTINUE_HERE, callback_data=here.pack())]]
            if url is not None:
                rows.append([open_button(url, CONTINUE_THERE)])
            text = AWAY.format(
                number=shown.step + 1,
                total=shown.total,
                title=escape(shown.pose_title, quote=False),
            )
            return html(text, InlineKeyboardMarkup(rows))
        case Note.HERE:
            return plain(HERE)
        case Note.ENDED:
            return plain(ENDED)
