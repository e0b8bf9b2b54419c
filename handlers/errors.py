"""The one error handler: log with context, tell the user briefly, keep their practice."""

from __future__ import annotations

import logging

from telegram import Update
from telegram.error import BadRequest, Forbidden, NetworkError, RetryAfter, TelegramError

from handlers.context import YogaContext

log = logging.getLogger(__name__)

SORRY = "Sorry, something went wrong on my side. Your practice is saved; try that again."


async def on_error(update: object, context: YogaContext) -> None:
    error = context.error
    where = _describe(update)
    if isinstance(error, Forbidden):
        log.info("user unreachable while handling %s: %s", where, error)
        return
    if isinstance(error, RetryAfter):
        # Flood-limited: one more message (an apology) would only add to it.
        log.warning("rate limited while handling %s: %s", where, error)
        return
    # BadRequest subclasses NetworkError, but it means our request was wrong, not the network.
    if isinstance(error, BadRequest):
        log.warning("Telegram refused a request while handling %s", where, exc_info=error)
    elif isinstance(error, NetworkError):
        log.warning("network trouble while handling %s: %s", where, error)
        return
    else:
        log.error("unexpected error while handling %s", where, exc_info=error)
    if isinstance(update, Update) and update.effective_chat is not None:
        try:
            await context.bot.send_message(update.effective_chat.id, SORRY)
        except TelegramError:
            log.warning("could not tell chat %s about the error", update.effective_chat.id)


def _describe(update: object) -> str:
    if not isinstance(update, Update):
        return "a timer" if update is None else type(update).__name__
    user = update.effective_user
    who = f"user {user.id}" if user else "an unknown user"
    if update.callback_query is not None:
        return f"button {update.callback_query.data!r} from {who}"
    if update.effective_message is not None and update.effective_message.text:
        return f"message {update.effective_message.text[:40]!r} from {who}"
    return f"update {update.update_id} from {who}"
