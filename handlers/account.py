"""The user's own data: /mydata sends it as a CSV file, /forget_me deletes it (confirmed);
and /stats for the people who run the bot, which to anyone else is an unknown command."""

from __future__ import annotations

import functools

from telegram import ChatMember, Update

from handlers import feedback, messages
from handlers.buttons import Confirm, ForgetButton
from handlers.context import YogaContext
from handlers.render import account as render
from handlers.render import common


async def send_my_data(update: Update, context: YogaContext) -> None:
    message, user = update.effective_message, update.effective_user
    assert message is not None and user is not None
    record = await context.services.account.record(user.id)
    if record is None:
        await messages.send(context.bot, message.chat_id, render.nothing_stored())
        return
    await context.bot.send_document(
        message.chat_id,
        render.record_csv(record),
        filename=render.MYDATA_FILENAME,
        caption=render.MYDATA_CAPTION,
    )


async def ask_forget(update: Update, context: YogaContext) -> None:
    assert update.effective_chat is not None
    await messages.send(context.bot, update.effective_chat.id, render.forget_question())


async def forget_button(update: Update, context: YogaContext) -> None:
    query, user = update.callback_query, update.effective_user
    assert query is not None and user is not None
    press = ForgetButton.parse(query.data)
    assert press is not None  # routed here by ForgetButton.pattern
    if press.answer == Confirm.NO:
        await messages.answer(query)
        await messages.edit_pressed(context.bot, query, render.kept())
        return
    forgotten = await context.services.account.forget(
        user.id, functools.partial(feedback.remove_copy, context.bot)
    )
    if forgotten is not None:
        await messages.answer(query)
    else:
        # A second tap, or nothing was ever stored: there is nothing left to delete.
        await messages.answer(query, render.NOTHING_STORED)
    copies_left = forgotten.copies_left if forgotten is not None else 0
    await messages.edit_pressed(context.bot, query, render.forgotten(copies_left))


async def membership_changed(update: Update, context: YogaContext) -> None:
    """The user blocked the bot (or removed it from a chat): stop everything for that chat
    now, rather than at the next refused send."""
    change = update.my_chat_member
    assert change is not None
    if change.new_chat_member.status in (ChatMember.BANNED, ChatMember.LEFT):
        await context.services.account.unreachable(change.chat.id)


async def stats(update: Update, context: YogaContext) -> None:
    message, user = update.effective_message, update.effective_user
    assert message is not None and user is not None
    if user.id not in context.services.settings.admin_ids:
        await messages.send(context.bot, message.chat_id, common.unknown_command())
        return
    counts = await context.services.stats.collect()
    await messages.send(context.bot, message.chat_id, render.stats(counts))
