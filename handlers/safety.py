"""The red-flag screen in Telegram: /safety, and the answers to the screen and its
follow-up. A screen asked on the way into a class (`start`) goes on to the class once it is
answered None of these."""

from __future__ import annotations

from telegram import Update

from bot.models import ScreenAnswer
from handlers import messages, practice
from handlers.buttons import SafetyButton, SafetyChoice
from handlers.context import YogaContext
from handlers.render import common
from handlers.render import safety as render


async def safety_command(update: Update, context: YogaContext) -> None:
    chat, user = update.effective_chat, update.effective_user
    assert chat is not None and user is not None
    state = await context.services.safety.state(user.id)
    await messages.send(context.bot, chat.id, render.safety_screen(state))


async def screen_button(update: Update, context: YogaContext) -> None:
    query, user = update.callback_query, update.effective_user
    assert query is not None and user is not None
    press = SafetyButton.parse(query.data)
    assert press is not None  # routed here by SafetyButton.pattern
    if query.message is None:
        await messages.answer(query, common.OUT_OF_DATE)
        return
    safety = context.services.safety
    chat_id = query.message.chat.id
    match press.choice:
        case SafetyChoice.SOME:
            await messages.answer(query)
            await messages.edit_pressed(context.bot, query, render.follow_up(press.start))
        case SafetyChoice.AGAIN:
            await messages.answer(query)
            await messages.edit_pressed(context.bot, query, render.screen(start=True))
        case SafetyChoice.URGENT:
            state = await safety.answer(user.id, chat_id, user.first_name, ScreenAnswer.URGENT)
            await messages.answer(query)
            await messages.edit_pressed(context.bot, query, render.urgent(state.emergency))
        case SafetyChoice.OTHER:
            await safety.answer(user.id, chat_id, user.first_name, ScreenAnswer.SEE_CLINICIAN)
            await messages.answer(query)
            await messages.edit_pressed(context.bot, query, render.see_clinician())
        case SafetyChoice.NONE:
            state = await safety.answer(user.id, chat_id, user.first_name, ScreenAnswer.CLEAR)
            # A second tap that reached the bot before its buttons were gone finds the
            # screen clear already: the class it asked for is under way, so it starts nothing.
            goes_on = press.start and not state.was_clear
            await messages.answer(query)
            await messages.edit_pressed(context.bot, query, render.cleared(start=goes_on))
            if goes_on:
                await practice.start_practice(update, context)
