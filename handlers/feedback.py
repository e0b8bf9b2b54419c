"""/feedback: a note now (`/feedback text`) or as the next message (`/feedback` alone),
and the withdrawal of a prompt the user has moved on from."""

from __future__ import annotations

import logging
import re
from typing import Any

from telegram import Message, MessageEntity, Update, User
from telegram.error import BadRequest, TelegramError
from telegram.ext import ApplicationHandlerStop, ExtBot

from bot.account import CopyRemoval
from bot.feedback import FeedbackItem, Refused
from bot.store import StoreUnavailable
from bot.store.feedback import Copy
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
    feedback = context.services.feedback
    prompt = await feedback.waiting_prompt(user.id) if waiting else None
    result = await feedback.submit(user.id, message.chat_id, user.first_name, note)
    if isinstance(result, Refused):
        await messages.send(context.bot, message.chat_id, render.refused(result, waiting=waiting))
        return
    await messages.send(context.bot, message.chat_id, render.thanks())
    if prompt is not None:
        # The note is saved: the prompt's Cancel has nothing left to cancel.
        await messages.retire(context.bot, prompt.chat_id, prompt.message_id, now=True)
    await _forward(context, result)


async def _forward(context: YogaContext, item: FeedbackItem) -> None:
    """Send the team's chat a copy of the note, and record where it went, so /forget_me
    can delete it: a copy that cannot be recorded is deleted at once."""
    chat_id = context.services.settings.feedback_chat_id
    if chat_id is None:
        return
    try:
        sent = await messages.send(context.bot, chat_id, render.forwarded(item))
    except TelegramError as exc:
        log.warning("could not forward feedback #%s to chat %s: %s", item.id, chat_id, exc)
        return
    copy = Copy(chat_id, sent.message_id)
    try:
        if await context.services.feedback.copy_sent(item.id, copy):
            return
        # /forget_me deleted the note while its copy was on the way.
        log.info("feedback #%s was deleted while forwarded; deleting its copy", item.id)
    except StoreUnavailable as exc:
        # The note itself is stored (and exported); only its copy could not be recorded.
        log.warning("feedback #%s: its copy could not be recorded (%s); deleting it", item.id, exc)
    await remove_copy(context.bot, copy)


# What Telegram says of a copy that is no longer there: deleted by someone in the chat, or
# by an earlier /forget_me that stopped before deleting the rows.
_ALREADY_GONE = "message to delete not found"
# A chat that no longer exists, or that the bot cannot see: nothing more to do there.
_NO_CHAT = "chat not found"


async def remove_copy(bot: ExtBot[Any], copy: Copy) -> CopyRemoval:
    """Delete a note's copy in the team's chat; what Telegram or the network answered
    becomes what became of the copy (bot/account.py decides what follows)."""
    try:
        await bot.delete_message(copy.chat_id, copy.message_id)
    except BadRequest as exc:
        reason = str(exc).lower()
        if _ALREADY_GONE in reason:
            return CopyRemoval.GONE
        log.info("feedback copy %s/%s not deleted: %s", copy.chat_id, copy.message_id, exc)
        return CopyRemoval.UNREACHABLE if _NO_CHAT in reason else CopyRemoval.REFUSED
    except TelegramError as exc:
        # Removed from the chat (403), Telegram down or slow, a 429 past its retries.
        log.warning("feedback copy %s/%s not deleted: %s", copy.chat_id, copy.message_id, exc)
        return CopyRemoval.UNREACHABLE
    return CopyRemoval.GONE
