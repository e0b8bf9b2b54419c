"""/feedback: a note now (`/feedback text`) or as the next message (`/feedback` alone)."""

from __future__ import annotations

import logging
import re

from telegram import Message, Update, User
from telegram.error import BadRequest, TelegramError

from bot.feedback import FeedbackItem, Refusal, Refused
from handlers import commands, render_feedback
from handlers.answers import answer
from handlers.context import YogaContext

log = logging.getLogger(__name__)

# The command may carry the bot's name (/feedback@yogabot) and the note may span lines.
_COMMAND = re.compile(r"^/\S+\s*(.*)$", re.DOTALL)


def text_after_command(text: str | None) -> str:
    match = _COMMAND.match(text or "")
    return match.group(1) if match else ""


async def feedback_command(update: Update, context: YogaContext) -> None:
    message, user = update.effective_message, update.effective_user
    assert message is not None and user is not None
    note = text_after_command(message.text)
    if note:
        await _submit(message, user, context, note, waiting=False)
        return
    refused = await context.feedback.begin_waiting(user.id, message.chat_id, user.first_name)
    if refused is not None:
        await message.reply_text(render_feedback.refused(refused))
        return
    await message.reply_text(render_feedback.ASK, reply_markup=render_feedback.cancel_keyboard())


async def text_message(update: Update, context: YogaContext) -> None:
    """Plain text: the awaited note if /feedback asked for one, else the ordinary reply."""
    message, user = update.effective_message, update.effective_user
    assert message is not None and user is not None
    if not await context.feedback.is_waiting(user.id):
        await commands.plain_text(update, context)
        return
    await _submit(message, user, context, message.text or "", waiting=True)


async def cancel_button(update: Update, context: YogaContext) -> None:
    query, user = update.callback_query, update.effective_user
    assert query is not None and user is not None
    cancelled = await context.feedback.cancel_waiting(user.id)
    await answer(query, None if cancelled else render_feedback.NOTHING_TO_CANCEL)
    try:
        if cancelled:
            await query.edit_message_text(render_feedback.CANCELLED)
        else:
            await query.edit_message_reply_markup(reply_markup=None)
    except BadRequest as exc:
        log.debug("could not retire the cancel button: %s", exc)


async def _submit(
    message: Message, user: User, context: YogaContext, note: str, *, waiting: bool
) -> None:
    result = await context.feedback.submit(user.id, message.chat_id, user.first_name, note)
    if isinstance(result, Refused):
        # While a note is awaited, a too-long one may simply be sent again, shorter.
        retry = waiting and result.reason == Refusal.TOO_LONG
        await message.reply_text(
            render_feedback.refused(result, waiting=retry),
            reply_markup=render_feedback.cancel_keyboard() if retry else None,
        )
        return
    await message.reply_text(render_feedback.THANKS)
    await _forward(context, result)


async def _forward(context: YogaContext, item: FeedbackItem) -> None:
    chat_id = context.settings.feedback_chat_id
    if chat_id is None:
        return
    try:
        # No parse_mode: the note is the user's own text, never markup.
        await context.bot.send_message(chat_id, render_feedback.forwarded(item))
    except TelegramError as exc:
        log.warning("could not forward feedback #%s to chat %s: %s", item.id, chat_id, exc)
