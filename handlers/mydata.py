"""The user's own data: /mydata sends it as a CSV file, /forget_me deletes it (confirmed)."""

from __future__ import annotations

import logging

from telegram import CallbackQuery, Update
from telegram.error import BadRequest

from handlers import render_account
from handlers.answers import answer
from handlers.context import YogaContext
from handlers.delivery import cancel_timer

log = logging.getLogger(__name__)


async def send_my_data(update: Update, context: YogaContext) -> None:
    message, user = update.effective_message, update.effective_user
    assert message is not None and user is not None
    data = await context.userdata.history_csv(user.id)
    if data is None:
        await message.reply_text(render_account.NOTHING_STORED)
        return
    await message.reply_document(
        data, filename=render_account.MYDATA_FILENAME, caption=render_account.MYDATA_CAPTION
    )


async def ask_forget(update: Update, context: YogaContext) -> None:
    assert update.effective_message is not None
    await update.effective_message.reply_text(
        render_account.FORGET_QUESTION, reply_markup=render_account.forget_keyboard()
    )


async def forget_button(update: Update, context: YogaContext) -> None:
    query, user = update.callback_query, update.effective_user
    assert query is not None and user is not None
    if query.data != render_account.FORGET_YES:
        await answer(query)
        await _settle(query, render_account.KEPT)
        return
    open_sessions = await context.userdata.forget(user.id)
    if open_sessions is None:
        # A second tap, or nothing was ever stored: there is nothing left to delete.
        await answer(query, render_account.NOTHING_STORED)
        await _settle(query, render_account.FORGOTTEN)
        return
    for session_id in open_sessions:
        cancel_timer(context.job_queue, session_id)
    await answer(query)
    await _settle(query, render_account.FORGOTTEN)


async def _settle(query: CallbackQuery, text: str) -> None:
    try:
        await query.edit_message_text(text)
    except BadRequest as exc:
        # Unchanged (a repeated tap) or deleted by the user: the outcome stands either way.
        log.debug("could not edit the /forget_me question: %s", exc)
