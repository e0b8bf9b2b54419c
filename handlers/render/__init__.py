"""Every sentence and keyboard the bot shows, one module per feature.

Each function returns a `Reply`: the text, how Telegram should parse it, and its
keyboard. Rules never live here, and sentences never live anywhere else.
"""

from __future__ import annotations

from dataclasses import dataclass

from telegram import InlineKeyboardMarkup, ReplyKeyboardMarkup, ReplyKeyboardRemove
from telegram.constants import ParseMode

Markup = InlineKeyboardMarkup | ReplyKeyboardMarkup | ReplyKeyboardRemove


@dataclass(frozen=True)
class Reply:
    text: str
    parse_mode: ParseMode | None = None
    markup: Markup | None = None


def html(text: str, markup: Markup | None = None) -> Reply:
    """A reply whose text is HTML: every piece of user or class text in it is escaped."""
    return Reply(text, ParseMode.HTML, markup)


def plain(text: str, markup: Markup | None = None) -> Reply:
    """A reply sent as typed: nothing in it is markup."""
    return Reply(text, None, markup)
