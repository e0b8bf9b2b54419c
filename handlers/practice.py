"""The practice in Telegram: /start_practice, the cue buttons, and the intro."""

from __future__ import annotations

from telegram import Update
from telegram.constants import ParseMode
from telegram.error import BadRequest

from bot.practice import Cue, StaleAction, Started
from handlers import render, render_checkin
from handlers.answers import answer
from handlers.context import YogaContext
from handlers.delivery import arm_timer, cancel_timer, deliver, remove_buttons, send_cue


async def start_practice(update: Update, context: YogaContext) -> None:
    """The intro and the back check-in; the answer to the check-in starts the class
    (handlers.checkin), so every way in — command, Start button, reminder — asks first."""
    chat = update.effective_chat
    assert chat is not None
    await context.bot.send_message(
        chat.id, render.intro(context.practice.default_class), parse_mode=ParseMode.HTML
    )
    await context.bot.send_message(
        chat.id, render_checkin.BEFORE_QUESTION, reply_markup=render_checkin.before_keyboard()
    )


async def begin(context: YogaContext, chat_id: int, started: Started) -> None:
    """Retire the practices the new one replaced, arm the first timer, send the first cue."""
    for replaced in started.replaced:
        cancel_timer(context.job_queue, replaced.session_id)
        if replaced.previous_message_id is not None:
            await remove_buttons(context.bot, chat_id, replaced.previous_message_id)
    arm_timer(
        context.job_queue,
        context.clock,
        session_id=started.cue.session_id,
        index=0,
        chat_id=chat_id,
        deadline=started.deadline,
    )
    await send_cue(context, chat_id, started.cue)


async def start_button(update: Update, context: YogaContext) -> None:
    assert update.callback_query is not None
    await answer(update.callback_query)
    await start_practice(update, context)


async def practice_button(update: Update, context: YogaContext) -> None:
    query, user = update.callback_query, update.effective_user
    assert query is not None and user is not None
    press = render.parse_button(query.data)
    if press is None:
        await answer(query, render.STALE_BUTTON)
        return
    practice = context.practice
    try:
        match press.action:
            case "n":
                transition = await practice.next(user.id, press.session_id, press.index)
            case "s":
                transition = await practice.stop(user.id, press.session_id, press.index)
            case "e":
                cue = await practice.reveal_easier(user.id, press.session_id, press.index)
            case "p":
                cue = await practice.pause(user.id, press.session_id, press.index)
                cancel_timer(context.job_queue, press.session_id)
            case "r":
                cue, deadline = await practice.resume(user.id, press.session_id, press.index)
                arm_timer(
                    context.job_queue,
                    context.clock,
                    session_id=press.session_id,
                    index=press.index,
                    chat_id=query.message.chat.id if query.message else user.id,
                    deadline=deadline,
                )
    except StaleAction:
        await answer(query, render.STALE_BUTTON)
        return
    await answer(query)
    if press.action in ("n", "s"):
        await deliver(context, transition)
    else:
        await show_cue_again(query, cue)


async def show_cue_again(query, cue: Cue) -> None:  # type: ignore[no-untyped-def]
    try:
        await query.edit_message_text(
            render.cue_text(cue), parse_mode=ParseMode.HTML, reply_markup=render.cue_keyboard(cue)
        )
    except BadRequest as exc:
        if "not modified" not in str(exc).lower():
            raise
