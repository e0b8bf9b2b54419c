"""The practice in Telegram: /start_practice, the Start and cue buttons, and `present`,
which turns every practice outcome into messages."""

from __future__ import annotations

import logging
from typing import Any

from telegram import Update
from telegram.error import Forbidden, TelegramError
from telegram.ext import ExtBot

from bot.practice import Cue, MessageRef, PracticeOutcome, StaleAction
from bot.services import Services
from handlers import messages
from handlers.buttons import PracticeAction, PracticeButton
from handlers.context import YogaContext
from handlers.render import checkin as render_checkin
from handlers.render import practice as render

log = logging.getLogger(__name__)


async def start_practice(update: Update, context: YogaContext) -> None:
    """The intro and the back check-in; the answer to the check-in starts the class
    (handlers.checkin), so every way in — command, Start button, reminder — asks first."""
    chat = update.effective_chat
    assert chat is not None
    yoga_class = context.services.practice.default_class
    await messages.send(context.bot, chat.id, render.intro(yoga_class))
    await messages.send(context.bot, chat.id, render_checkin.before_question())


async def start_button(update: Update, context: YogaContext) -> None:
    assert update.callback_query is not None
    await messages.answer(update.callback_query)
    await start_practice(update, context)


async def welcome_back(update: Update, context: YogaContext) -> None:
    """Whatever the user sends or taps: a practice paused because its cue could not be
    sent goes on now, with that cue. Nothing else about the update changes."""
    if update.effective_user is None or not (update.message or update.callback_query):
        return  # e.g. the my_chat_member that says the user blocked the bot
    services = context.services
    outcome = await services.practice.bring_back(update.effective_user.id)
    if outcome is not None:
        await present(context.bot, services, outcome)


async def practice_button(update: Update, context: YogaContext) -> None:
    query, user = update.callback_query, update.effective_user
    assert query is not None and user is not None
    press = PracticeButton.parse(query.data)
    assert press is not None  # routed here by PracticeButton.pattern
    practice = context.services.practice
    act = {
        PracticeAction.NEXT: practice.next,
        PracticeAction.STOP: practice.stop,
        PracticeAction.EASIER: practice.reveal_easier,
        PracticeAction.PAUSE: practice.pause,
        PracticeAction.RESUME: practice.resume,
    }[press.action]
    try:
        outcome = await act(user.id, press.practice, press.step)
    except StaleAction:
        await messages.answer(query, render.STALE_BUTTON)
        return
    await messages.answer(query)
    pressed = MessageRef(query.message.chat.id, query.message.message_id) if query.message else None
    await present(context.bot, context.services, outcome, pressed=pressed)


async def present(
    bot: ExtBot[Any],
    services: Services,
    outcome: PracticeOutcome | None,
    *,
    pressed: MessageRef | None = None,
) -> None:
    """Show what a practice change means: retire old buttons, redraw the pressed cue, send
    the new cue (and confirm it), then the summary and the after-practice check-in."""
    if outcome is None:
        return
    for old in outcome.retire:
        await messages.retire(bot, old.chat_id, old.message_id)
    if outcome.redraw is not None and pressed is not None:
        afresh = await messages.edit(
            bot, pressed.chat_id, pressed.message_id, render.cue(outcome.redraw)
        )
        if afresh is not None:
            await _confirm(bot, services, outcome.redraw, afresh.chat.id, afresh.message_id)
    if outcome.show is not None:
        await _send_cue(bot, services, outcome.show, outcome.chat_id)
    summary = outcome.summary
    if summary is not None:
        await messages.send(bot, outcome.chat_id, render.closing(summary))
        if summary.ask_after:
            question = render_checkin.after_question(outcome.practice_id)
            await messages.send(bot, outcome.chat_id, question)
        # Until now a restart sends them again (at least once).
        await services.practice.summary_shown(outcome.practice_id)


async def _send_cue(bot: ExtBot[Any], services: Services, cue: Cue, chat_id: int) -> None:
    """A cue goes out at least once: a send Telegram did not take (a 429 past the rate
    limiter's retries, a 5xx, a timeout, a dropped connection, a refusal) is tried again
    by the practice's own timer; a blocked chat goes to the error handler."""
    try:
        sent = await messages.send(bot, chat_id, render.cue(cue))
    except Forbidden:
        raise
    except TelegramError as exc:
        log.warning("cue %s/%s to chat %s not sent: %s", cue.practice_id, cue.step, chat_id, exc)
        await services.practice.undelivered(cue, chat_id)
        return
    await _confirm(bot, services, cue, chat_id, sent.message_id)


async def _confirm(
    bot: ExtBot[Any], services: Services, cue: Cue, chat_id: int, message_id: int
) -> None:
    # A cue counts as delivered only once Telegram returned its message: until then a
    # restart sends it again (at least once).
    await present(bot, services, await services.practice.delivered(cue, chat_id, message_id))
