"""Answering button presses without letting a late answer undo the work it confirms."""

from __future__ import annotations

import logging

from telegram import CallbackQuery
from telegram.error import TelegramError

log = logging.getLogger(__name__)


async def answer(query: CallbackQuery, text: str | None = None) -> None:
    """Stop the button's spinner. Telegram refuses answers to presses older than about 15 s
    (taps queued while the bot was down); by then the change is stored, and the reply that
    shows it must still go out, so a refused answer is only logged."""
    try:
        await query.answer(text)
    except TelegramError as exc:
        log.info("could not answer button %r: %s", query.data, exc)
