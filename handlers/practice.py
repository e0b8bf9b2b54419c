"""The practice in Telegram: /start_practice and its ways in, the cue buttons and words
typed during a practice. Each handler parses the update, makes one service call and
presents its outcome (handlers/present.py)."""

from __future__ import annotations

from telegram import Update

from bot.cues import ContinueOffer, Heard, ReadyToCheckIn, ScreenFirst, WayIn
from bot.models import Pace
from bot.practice.machine import Action, Press
from bot.practice.service import MessageRef, PracticeOutcome, PracticePaused, StaleAction
from bot.programme.service import next_day_in
from bot.safety import ScreenStatus
from bot.user_settings import Setting
from handlers import messages
from handlers.buttons import PracticeAction, PracticeButton
from handlers.context import TIMERS, YogaContext
from handlers.present import Redraws, present
from handlers.render import Reply
from handlers.render import checkin as render_checkin
from handlers.render import common as render_common
from handlers.render import plan as render_plan
from handlers.render import practice as render
from handlers.render import safety as render_safety

# The buttons on a cue and its questions, as the practice's rules name them.
ACTIONS = {
    PracticeAction.NEXT: Action.NEXT,
    PracticeAction.EASIER: Action.EASIER,
    PracticeAction.USUAL: Action.USUAL,
    PracticeAction.MORE_TIME: Action.MORE_TIME,
    PracticeAction.PAUSE: Action.PAUSE,
    PracticeAction.RESUME: Action.RESUME,
    PracticeAction.STOP: Action.STOP,
    PracticeAction.END: Action.END,
    PracticeAction.KEEP_GOING: Action.KEEP_GOING,
    PracticeAction.HURT: Action.HURT,
    PracticeAction.TRY_EASIER: Action.TRY_EASIER,
    PracticeAction.SKIP: Action.SKIP,
    PracticeAction.END_FOR_PAIN: Action.END_FOR_PAIN,
    PracticeAction.PASSED: Action.PASSED,
    PracticeAction.HERE: Action.HERE,
}


async def start_practice(update: Update, context: YogaContext) -> None:
    """The way into a class: continue or start over, the red-flag screen, or the intro and
    the back check-in, whose answer starts the class (handlers.checkin). Every way in (the
    command, a Start button, a reminder) asks first."""
    chat, user = update.effective_chat, update.effective_user
    assert chat is not None and user is not None
    way_in = await context.services.practice.way_in(user.id)
    await show_way_in(context, chat.id, way_in)


async def show_way_in(context: YogaContext, chat_id: int, way_in: WayIn) -> None:
    match way_in:
        case ContinueOffer():
            await messages.send(context.bot, chat_id, render.continue_offer(way_in))
            await present(context.bot, context.services, way_in.held)
        case ScreenFirst():
            await messages.send(context.bot, chat_id, screen_first(way_in))
        case ReadyToCheckIn():
            url = context.services.settings.webapp_url
            await messages.send(context.bot, chat_id, render.intro(way_in.yoga_class, url))
            await messages.send(context.bot, chat_id, render_checkin.before_question())


def screen_first(way_in: ScreenFirst) -> Reply:
    """The red-flag screen, when it is due; the advice for today, when a sign was reported."""
    if way_in.status == ScreenStatus.DUE:
        return render_safety.screen(start=True, sign_reported_on=way_in.sign_reported_on)
    return render_safety.rest_today(way_in.status, way_in.emergency)


async def start_button(update: Update, context: YogaContext) -> None:
    assert update.callback_query is not None
    await messages.answer(update.callback_query)
    await start_practice(update, context)


async def welcome_back(update: Update, context: YogaContext) -> None:
    """Whatever the user sends or taps: a practice left paused because its cue could not
    be sent (as an earlier rule did after a few tries) goes on now, with that cue. Nothing
    else about the update changes."""
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
    if press.action == PracticeAction.START_OVER:
        await messages.answer(query)
        await messages.edit_pressed(context.bot, query, render.continue_answered(press.action))
        if query.message is not None:
            way_in = await practice.way_in(user.id, offer_continue=False)
            await show_way_in(context, query.message.chat.id, way_in)
        return
    try:
        if press.action == PracticeAction.CONTINUE:
            # Continue is a way in: on a day a sign was reported it is refused.
            outcome = await practice.carry_on(user.id, press.practice, press.step)
        else:
            event = Press(ACTIONS[press.action], user.id, press.step)
            outcome = await practice.apply(press.practice, event)
    except PracticePaused:
        await messages.answer(query, render.PAUSED_BUTTON)
        return
    except StaleAction:
        await messages.answer(query, render.STALE_BUTTON)
        if query.message is not None:
            # Its buttons may have been left on when the bot was busy; tapped, they go.
            message = query.message
            await messages.retire(context.bot, message.chat.id, message.message_id, now=True)
        return
    # Every tap says what it did, in a word (a toast), as it is answered.
    action = ACTIONS.get(press.action)
    await messages.answer(query, render.DONE.get(action) if action is not None else None)
    if press.action == PracticeAction.CONTINUE:
        # The question is answered; the pose follows as a new message under it.
        await messages.edit_pressed(context.bot, query, render.continue_answered(press.action))
        await present(context.bot, context.services, outcome)
        return
    pressed = MessageRef(query.message.chat.id, query.message.message_id) if query.message else None
    redraws: Redraws = context.bot_data[TIMERS]
    await present(context.bot, context.services, outcome, pressed=pressed, redraws=redraws)


async def slow_pace_button(update: Update, context: YogaContext) -> None:
    """Use the slow pace, from the closing message that suggested it."""
    query, user = update.callback_query, update.effective_user
    assert query is not None and user is not None
    chat_id = query.message.chat.id if query.message else user.id
    await context.services.user_settings.change(
        user.id, chat_id, user.first_name, Setting.PACE, Pace.SLOW
    )
    await messages.answer(query)
    if query.message is not None:
        await messages.retire(context.bot, chat_id, query.message.message_id, now=True)
    await messages.send(context.bot, chat_id, render.slow_pace_on())


async def text_message(update: Update, context: YogaContext) -> None:
    """Typed words: pain words during a practice ask how to go on with the pose; other
    words get one line about the buttons (or, outside a practice, about commands)."""
    message, user = update.effective_message, update.effective_user
    assert message is not None and user is not None
    heard = await context.services.practice.heard(user.id, message.text or "")
    if isinstance(heard, PracticeOutcome):
        await present(context.bot, context.services, heard)
        return
    answer = next_day_in(message.text or "") if heard == Heard.CHAT else None
    if answer is not None:
        # "Better", typed instead of tapped under the morning's question.
        noted = await context.services.programme.answer_typed(user.id, answer)
        if noted is not None:
            await messages.send(context.bot, message.chat_id, render_plan.next_day_heard(noted))
            return
    reply = {
        Heard.CHAT: render_common.plain_text,
        Heard.DURING_PRACTICE: render.during_practice,
        Heard.PAIN_OUTSIDE_PRACTICE: render.pain_outside_practice,
    }[heard]()
    await messages.send(context.bot, message.chat_id, reply)
