"""The back check-in buttons: before the class (its answer starts the class) and after."""

from __future__ import annotations

import logging

from telegram import CallbackQuery, Update
from telegram.error import BadRequest

from bot.practice import StaleAction
from handlers import render_checkin
from handlers.answers import answer
from handlers.context import YogaContext
from handlers.practice import begin

log = logging.getLogger(__name__)


async def checkin_button(update: Update, context: YogaContext) -> None:
    query, user = update.callback_query, update.effective_user
    assert query is not None and user is not None
    press = render_checkin.parse(query.data)
    if press is None or query.message is None:
        await answer(query, render_checkin.ALREADY_ANSWERED)
        return
    chat_id = query.message.chat.id
    if press.after:
        await _after(query, context, user.id, chat_id, press)
        return
    try:
        # Keyed by the question's own message: a second tap on it starts nothing.
        started = await context.practice.start(
            user.id,
            chat_id,
            user.first_name,
            back_before=press.score,
            checkin_message_id=query.message.message_id,
        )
    except StaleAction:
        await answer(query, render_checkin.ALREADY_ANSWERED)
        return
    await answer(query)
    await _settle(query, render_checkin.before_answered(press.score))
    await begin(context, chat_id, started)


async def _after(
    query: CallbackQuery,
    context: YogaContext,
    user_id: int,
    chat_id: int,
    press: render_checkin.CheckinPress,
) -> None:
    if press.score is None or press.session_id is None:
        await answer(query)
        await _settle(query, render_checkin.after_answered(None))
        return
    recorded = await context.checkin.record_after(user_id, press.session_id, press.score)
    if recorded is None:
        await answer(query, render_checkin.ALREADY_ANSWERED)
        return
    await answer(query)
    await _settle(query, render_checkin.after_answered(recorded.after, recorded.before))
    if recorded.needs_rest_note:
        await context.bot.send_message(chat_id, render_checkin.REST_NOTE)


async def _settle(query: CallbackQuery, text: str) -> None:
    """Replace the question by its answer, so its buttons cannot be pressed again."""
    try:
        await query.edit_message_text(text)
    except BadRequest as exc:
        # The user deleted the question meanwhile; the answer is stored all the same.
        log.debug("could not settle check-in %s: %s", query.data, exc)
