"""Reminders in Telegram: /remind, /timezone, a shared location and the reminder's buttons."""

from __future__ import annotations

from telegram import Update

from bot.reminders import ReminderInputError, TurnOff, parse_remind
from handlers import messages
from handlers.buttons import ReminderAction, ReminderButton, ReminderTime
from handlers.context import YogaContext
from handlers.render import reminders as render


async def remind(update: Update, context: YogaContext) -> None:
    message, user = update.effective_message, update.effective_user
    assert message is not None and user is not None
    service = context.services.reminders
    try:
        request = parse_remind(context.args or [])
    except ReminderInputError as exc:
        await messages.send(context.bot, message.chat_id, render.input_error(exc))
        return
    if request is None:
        reply = render.reminder_status(await service.status(user.id))
    elif isinstance(request, TurnOff):
        await service.turn_off(user.id)
        reply = render.reminders_off()
    else:
        status = await service.set_schedule(user.id, message.chat_id, user.first_name, request)
        reply = render.reminder_set(status)
    await messages.send(context.bot, message.chat_id, reply)


async def timezone(update: Update, context: YogaContext) -> None:
    message, user = update.effective_message, update.effective_user
    assert message is not None and user is not None
    service = context.services.reminders
    if not context.args:
        reply = render.timezone_status(await service.status(user.id))
    else:
        try:
            status = await service.set_timezone(
                user.id, message.chat_id, user.first_name, " ".join(context.args)
            )
        except ReminderInputError as exc:
            reply = render.input_error(exc)
        else:
            reply = render.timezone_set(status)
    await messages.send(context.bot, message.chat_id, reply)


async def shared_location(update: Update, context: YogaContext) -> None:
    message, user = update.effective_message, update.effective_user
    assert message is not None and message.location is not None and user is not None
    where = message.location
    status = await context.services.reminders.set_timezone_at(
        user.id, message.chat_id, user.first_name, where.latitude, where.longitude
    )
    reply = render.no_zone_there() if status is None else render.timezone_set(status)
    await messages.send(context.bot, message.chat_id, reply)


async def reminder_button(update: Update, context: YogaContext) -> None:
    """Snooze, Skip today, or Off."""
    query, user = update.callback_query, update.effective_user
    assert query is not None and user is not None
    press = ReminderButton.parse(query.data)
    assert press is not None  # routed here by ReminderButton.pattern
    service = context.services.reminders
    yoga_class = context.services.practice.default_class
    if press.action == ReminderAction.OFF:
        await service.turn_off(user.id)
        await messages.answer(query)
        await messages.edit_pressed(context.bot, query, render.reminders_off())
        return
    snooze = press.action == ReminderAction.SNOOZE
    status = await (service.snooze(user.id) if snooze else service.skip_today(user.id))
    if status is None:
        await messages.answer(query, render.REMINDERS_ARE_OFF)
        return
    if snooze:
        await messages.answer(query, render.SNOOZED_ANSWER)
        await messages.edit_pressed(context.bot, query, render.snoozed(yoga_class, status))
    else:
        await messages.answer(query, render.SKIPPED_ANSWER)
        await messages.edit_pressed(context.bot, query, render.skipped(yoga_class, status))


async def time_button(update: Update, context: YogaContext) -> None:
    """One of /remind's common times: the days chosen before are kept."""
    query, user, chat = update.callback_query, update.effective_user, update.effective_chat
    assert query is not None and user is not None and chat is not None
    press = ReminderTime.parse(query.data)
    assert press is not None  # routed here by ReminderTime.pattern
    status = await context.services.reminders.set_time(
        user.id, chat.id, user.first_name, press.at.hour, press.at.minute
    )
    await messages.answer(query)
    await messages.edit_pressed(context.bot, query, render.reminder_set(status))
