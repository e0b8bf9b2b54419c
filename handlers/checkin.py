"""The back check-in buttons: before the class (its answer starts the class, or the pain
gate asks first) and after it."""

from __future__ import annotations

from collections.abc import Awaitable

from telegram import CallbackQuery, Update

from bot.cues import ScreenFirst
from bot.practice.service import PracticeOutcome, StaleAction
from bot.safety import Gate
from handlers import messages
from handlers.buttons import CheckinAfter, CheckinBefore, GateChoice, PainGateButton
from handlers.context import YogaContext
from handlers.practice import screen_first
from handlers.present import present
from handlers.render import Reply
from handlers.render import checkin as render
from handlers.render import practice as render_practice


async def before_button(update: Update, context: YogaContext) -> None:
    query, user = update.callback_query, update.effective_user
    assert query is not None and user is not None
    press = CheckinBefore.parse(query.data)
    assert press is not None  # routed here by CheckinBefore.pattern
    if query.message is None:
        await messages.answer(query, render.ALREADY_ANSWERED)
        return
    # Keyed by the question's own message: a second tap on it starts nothing.
    begin = context.services.practice.checked_in(
        user.id,
        query.message.chat.id,
        user.first_name,
        press.score,
        checkin_message_id=query.message.message_id,
    )
    await _begin(context, query, begin, render.answered_before(press.score), press.score)


async def gate_button(update: Update, context: YogaContext) -> None:
    """Gentle practice, the usual one, or not today (nothing is recorded then)."""
    query, user = update.callback_query, update.effective_user
    assert query is not None and user is not None
    press = PainGateButton.parse(query.data)
    assert press is not None  # routed here by PainGateButton.pattern
    if query.message is None:
        await messages.answer(query, render.ALREADY_ANSWERED)
        return
    if press.choice == GateChoice.NOT_TODAY:
        await messages.answer(query)
        await messages.edit_pressed(context.bot, query, render.gate_answered(press.choice, None))
        return
    begin = context.services.practice.gate_chosen(
        user.id,
        query.message.chat.id,
        user.first_name,
        press.score,
        gentle=press.choice == GateChoice.GENTLE,
        checkin_message_id=query.message.message_id,
    )
    answered = render.gate_answered(press.choice, press.score)
    await _begin(context, query, begin, answered, press.score)


async def _begin(
    context: YogaContext,
    query: CallbackQuery,
    begin: Awaitable[PracticeOutcome | Gate | ScreenFirst],
    answered: Reply,
    score: int | None,
) -> None:
    """Start the class from the question's message: the question becomes its answer (so
    its buttons cannot be pressed again) and the first pose follows; or the question
    becomes the pain gate's choice, on the same message; or, for someone the red-flag
    screen has not cleared today, the screen."""
    try:
        result = await begin
    except StaleAction:
        await messages.answer(query, render.ALREADY_ANSWERED)
        return
    await messages.answer(query)
    if isinstance(result, ScreenFirst):
        await messages.edit_pressed(context.bot, query, screen_first(result))
        return
    if isinstance(result, Gate):
        await messages.edit_pressed(context.bot, query, render.pain_gate(result, score))
        return
    if result.starting is not None:
        answered = render_practice.begun(answered, result.starting)
    await messages.edit_pressed(context.bot, query, answered)
    await present(context.bot, context.services, result)


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
    if query.message is not None:
        note = render.after_note(
            recorded.verdict, recorded.before, recorded.after, hurt_during=recorded.hurt_during
        )
        await messages.send(context.bot, query.message.chat.id, note)
