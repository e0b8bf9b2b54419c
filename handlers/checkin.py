"""The back check-in buttons: before the class (its answer starts the class) and after."""

from __future__ import annotations

from telegram import Update

from bot.practice import StaleAction
from handlers import messages
from handlers.buttons import CheckinAfter, CheckinBefore
from handlers.context import YogaContext
from handlers.practice import present
from handlers.render import checkin as render


async def before_button(update: Update, context: YogaContext) -> None:
    query, user = update.callback_query, update.effective_user
    assert query is not None and user is not None
    press = CheckinBefore.parse(query.data)
    assert press is not None  # routed here by CheckinBefore.pattern
    if query.message is None:
        await messages.answer(query, render.ALREADY_ANSWERED)
        return
    chat_id = query.message.chat.id
    try:
        # Keyed by the question's own message: a second tap on it starts nothing.
        outcome = await context.services.practice.start(
            user.id,
            chat_id,
            user.first_name,
            back_before=press.score,
            checkin_message_id=query.message.message_id,
        )
    except StaleAction:
        await messages.answer(query, render.ALREADY_ANSWERED)
        return
    await messages.answer(query)
    # The question becomes its answer, so its buttons cannot be pressed again.
    await messages.edit_pressed(context.bot, query, render.answered_before(press.score))
    await present(context.bot, context.services, outcome)


async def after_button(update: Update, context: YogaContext) -> None:
    query, user = update.callback_query, update.effective_user
    assert query is not None and user is not None
    press = CheckinAfter.parse(query.data)
    assert press is not None  # routed here by CheckinAfter.pattern
    if press.score is None:
        await messages.answer(query)
        await messages.edit_pressed(context.bot, query, render.answered_after(None))
        return
    recorded = await context.services.checkin.record_after(user.id, press.practice, press.score)
    if recorded is None:
        await messages.answer(query, render.ALREADY_ANSWERED)
        return
    await messages.answer(query)
    await messages.edit_pressed(
        context.bot, query, render.answered_after(recorded.after, recorded.before)
    )
    if recorded.needs_rest_note and query.message is not None:
        await messages.send(context.bot, query.message.chat.id, render.rest_note())
