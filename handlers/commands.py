"""/start, /help, and the replies to commands and buttons the bot does not know."""

from __future__ import annotations

import logging

from telegram import CallbackQuery, Chat, ChatMember, Message, MessageEntity, Update
from telegram.error import TelegramError
from telegram.ext import ApplicationHandlerStop

from handlers import messages
from handlers.context import YogaContext
from handlers.render import common as render

log = logging.getLogger(__name__)


async def start(update: Update, context: YogaContext) -> None:
    assert update.effective_chat is not None and update.effective_user is not None
    yoga_class = context.services.practice.default_class
    reply = render.welcome(
        yoga_class, update.effective_user.first_name, context.services.settings.webapp_url
    )
    await messages.send(context.bot, update.effective_chat.id, reply)


async def help_command(update: Update, context: YogaContext) -> None:
    assert update.effective_chat is not None
    await messages.send(context.bot, update.effective_chat.id, render.help_text())


async def unknown_command(update: Update, context: YogaContext) -> None:
    assert update.effective_chat is not None
    await messages.send(context.bot, update.effective_chat.id, render.unknown_command())


async def drop_unusable(update: Update, context: YogaContext) -> None:
    """An update with no user behind it (a post by an anonymous group admin, say) has no
    practice or settings to act on: no handler sees it. Nor does a press with no callback
    data (a forged one: Telegram's buttons always carry some), which PTB would otherwise
    hand to the first button handler whatever its pattern; it is still answered."""
    if update.effective_user is None:
        raise ApplicationHandlerStop
    query = update.callback_query
    if query is not None and not query.data:
        await messages.answer(query, render.OUT_OF_DATE)
        raise ApplicationHandlerStop


async def stale_button(update: Update, context: YogaContext) -> None:
    """A button that matches no scheme (from an older version of the bot, or forged): its
    spinner still stops."""
    assert update.callback_query is not None
    await messages.answer(update.callback_query, render.OUT_OF_DATE)


async def keep_private(update: Update, context: YogaContext) -> None:
    """The coach works in private chats only: a user's practice, check-ins, progress and
    data are theirs, and a group is not theirs (see README, Privacy). In a group no handler
    sees an update: a command or a word addressed to the bot gets one line inviting to a
    private chat, and nothing else is said, recorded or changed there (no user's chat is
    re-bound to the group, and the bot leaving a group touches nobody's reminders).

    A button belongs to the user and chat it was sent to: pressed by anyone else, or in a
    group (where the bot leaves none), it is answered "This isn't your button" and does
    nothing."""
    chat = update.effective_chat
    query = update.callback_query
    if query is not None:
        if not _pressed_by_owner(query):
            await messages.answer(query, render.NOT_YOUR_BUTTON)
            raise ApplicationHandlerStop
        return
    if chat is None or chat.type == Chat.PRIVATE:
        return
    if chat.type != Chat.CHANNEL and _invited_in(update, context.bot.username):
        try:
            await messages.send(context.bot, chat.id, render.private_only(context.bot.username))
        except TelegramError as exc:
            # Whatever Telegram answers (a 502, no right to send text there), no handler may
            # see a group's update: PTB goes on to the next groups after an error.
            log.info("the invitation in group %s was not sent: %s", chat.id, exc)
    raise ApplicationHandlerStop


def _pressed_by_owner(query: CallbackQuery) -> bool:
    """Pressed in a private chat by that chat's own user (whose id is the chat's)."""
    message = query.message
    return (
        message is not None
        and message.chat.type == Chat.PRIVATE
        and message.chat.id == query.from_user.id
    )


def _invited_in(update: Update, bot_username: str) -> bool:
    """Whether the bot says its one line in a group: when it has just been added, and to a
    command meant for it (bare, or /cmd@this_bot; never /cmd@other_bot)."""
    change = update.my_chat_member
    if change is not None:
        joined = (ChatMember.MEMBER, ChatMember.ADMINISTRATOR)
        return (
            change.new_chat_member.status in joined and change.old_chat_member.status not in joined
        )
    message = update.message
    return message is not None and _command_for(message, bot_username)


def _command_for(message: Message, bot_username: str) -> bool:
    entity = next(
        (e for e in message.entities if e.type == MessageEntity.BOT_COMMAND and e.offset == 0),
        None,
    )
    if entity is None:
        return False
    command = message.parse_entity(entity)
    _, _, addressee = command.partition("@")
    return not addressee or addressee.lower() == bot_username.lower()
