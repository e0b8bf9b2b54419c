"""The one error handler: log with context, tell the user briefly, keep their practice."""

from __future__ import annotations

import logging

from telegram import Update
from telegram.error import BadRequest, Forbidden, NetworkError, RetryAfter, TelegramError

from bot.database_file import DatabaseLost
from bot.store import StoreUnavailable
from handlers import messages
from handlers.context import YogaContext
from handlers.render import Reply
from handlers.render import common as render

log = logging.getLogger(__name__)


async def on_error(update: object, context: YogaContext) -> None:
    error = context.error
    where = _describe(update, context)
    chat_id = _chat_of(update, context)
    if isinstance(error, Forbidden):
        log.info("chat %s unreachable while handling %s: %s", chat_id, where, error)
        if chat_id is not None:
            await context.services.account.unreachable(chat_id)
        return
    if isinstance(error, DatabaseLost):
        # The bot is stopping: the database watch logged why, once, and a line per update
        # or timer caught in the stop would bury it. The user who waits hears it failed.
        await _tell(update, context, chat_id, render.not_saved())
        return
    if isinstance(error, StoreUnavailable):
        # Nothing of the update was stored; the same tap or command works once it answers.
        # The outage itself is logged once, as the database's incident (bot/incidents.py).
        log.info("database unavailable while handling %s: %s", where, error)
        await _tell(update, context, chat_id, render.not_saved())
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
    await _tell(update, context, chat_id, render.sorry())


async def _tell(update: object, context: YogaContext, chat_id: int | None, reply: Reply) -> None:
    """Say so to the user who was waiting for an answer (a timer has nobody waiting)."""
    if not isinstance(update, Update):
        return
    if update.callback_query is not None:
        # The press may have failed before it was answered; its spinner must stop.
        await messages.answer(update.callback_query)
    if chat_id is not None:
        try:
            await messages.send(context.bot, chat_id, reply)
        except TelegramError:
            log.warning("could not tell chat %s about the error", chat_id)


def _chat_of(update: object, context: YogaContext) -> int | None:
    if isinstance(update, Update):
        return update.effective_chat.id if update.effective_chat else None
    # A timer's job (a cue falling due) names the chat it runs for.
    return context.job.chat_id if context.job is not None else None


def _describe(update: object, context: YogaContext) -> str:
    if not isinstance(update, Update):
        if context.job is not None:
            return f"timer {context.job.name!r}"
        return "a timer" if update is None else type(update).__name__
    user = update.effective_user
    who = f"user {user.id}" if user else "an unknown user"
    if update.callback_query is not None:
        what = f"button {update.callback_query.data!r}"
    elif update.effective_message is not None and update.effective_message.text:
        # What the user typed stays out of the log (it may be a note, or a name): its
        # length says enough to find the update.
        text = update.effective_message.text
        kind = "command" if text.startswith("/") else "message"
        what = f"a {kind} of {len(text)} characters"
    else:
        what = "an update"
    return f"{what} from {who} (update {update.update_id})"
