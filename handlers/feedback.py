"""/feedback: a note now (`/feedback text`) or as the next message (`/feedback` alone),
and the withdrawal of a prompt the user has moved on from."""

from __future__ import annotations

import logging
import re

from telegram import Message, MessageEntity, Update, User
from telegram.error import TelegramError
from telegram.ext import ApplicationHandlerStop

from bot.feedback import FeedbackItem, Refused
from handlers import messages
from handlers.buttons import CheckinBefore, StartButton
from handlers.context import YogaContext
from handlers.render import feedback as render

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
    feedback = context.services.feedback
    refused = await feedback.begin_waiting(user.id, message.chat_id, user.first_name)
    if refused is not None:
        await messages.send(context.bot, message.chat_id, render.refused(refused))
        return
    prompt = await messages.send(context.bot, message.chat_id, render.ask())
    await feedback.prompt_sent(user.id, prompt.message_id)


async def withdraw_prompt(update: Update, context: YogaContext) -> None:
    """Whatever the user sends or taps, before anyone else sees it: a prompt they have moved
    on from, or left too long, now says it has expired. The update itself goes on as if no
    prompt had been there."""
    user = update.effective_user
    if user is None or not (update.message or update.callback_query):
        return
    prompt = await context.services.feedback.withdraw_prompt(user.id, moved_on=_moves_on(update))
    if prompt is None:
        return
    try:
        await messages.edit(context.bot, prompt.chat_id, prompt.message_id, render.expired())
    except TelegramError as exc:
        # The wait is over either way; the update it came with must still be answered.
        log.warning("could not mark feedback prompt %s as expired: %s", prompt.message_id, exc)


def _moves_on(update: Update) -> bool:
    """Any command but /feedback itself, or a practice starting, leaves the prompt behind."""
    if update.callback_query is not None:
        data = update.callback_query.data or ""
        return any(scheme.pattern.match(data) for scheme in (StartButton, CheckinBefore))
    message = update.message
    return message is not None and _command_of(message) not in (None, "feedback")


def _command_of(message: Message) -> str | None:
    """The command a message starts with, as PTB routes it: lower case, no @botname."""
    entity = message.entities[0] if message.entities else None
    if entity is None or entity.type != MessageEntity.BOT_COMMAND or entity.offset != 0:
        return None
    return (message.text or "")[1 : entity.length].split("@")[0].lower()


async def awaited_note(update: Update, context: YogaContext) -> None:
    """Plain text while /feedback waits for a note: the note, and no other handler sees it.
    Anything else goes on to the ordinary handlers."""
    message, user = update.effective_message, update.effective_user
    assert message is not None and user is not None
    if not await context.services.feedback.is_waiting(user.id):
        return
    await _submit(message, user, context, message.text or "", waiting=True)
    raise ApplicationHandlerStop


async def cancel_button(update: Update, context: YogaContext) -> None:
    query, user = update.callback_query, update.effective_user
    assert query is not None and user is not None
    cancelled = await context.services.feedback.cancel_waiting(user.id)
    await messages.answer(query, None if cancelled else render.NOTHING_TO_CANCEL)
    if cancelled:
        await messages.edit_pressed(context.bot, query, render.cancelled())
    elif query.message is not None:
        await messages.retire(
            context.bot, query.message.chat.id, query.message.message_id, now=True
        )


async def _submit(
    message: Message, user: User, context: YogaContext, note: str, *, waiting: bool
) -> None:
    result = await context.services.feedback.submit(user.id, message.chat_id, user.first_name, note)
    if isinstance(result, Refused):
        await messages.send(context.bot, message.chat_id, render.refused(result, waiting=waiting))
        return
    await messages.send(context.bot, message.chat_id, render.thanks())
    await _forward(context, result)


async def _forward(context: YogaContext, item: FeedbackItem) -> None:
    chat_id = context.services.settings.feedback_chat_id
    if chat_id is None:
        return
    try:
        await messages.send(context.bot, chat_id, render.forwarded(item))
    except TelegramError as exc:
        log.warning("could not forward feedback #%s to chat %s: %s", item.id, chat_id, exc)
