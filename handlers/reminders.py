"""Reminders in Telegram: /remind, /timezone, a shared location and the reminder's buttons."""

from __future__ import annotations

from telegram import Update

from bot.reminders import ReminderInputError, TurnOff, parse_remind
from bot.timezones import ZoneChoices
from handlers import messages
from handlers.buttons import ReminderAction, ReminderButton, ReminderTime, ZoneButton
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
            found = await service.set_timezone_as_typed(
                user.id, message.chat_id, user.first_name, " ".join(context.args)
            )
        except ReminderInputError as exc:
            reply = render.input_error(exc)
        else:
            if isinstance(found, ZoneChoices):
                reply = render.zone_choices(found)
            else:
                reply = render.timezone_set(found.status, found)
    await messages.send(context.bot, message.chat_id, reply)


async def zone_button(update: Update, context: YogaContext) -> None:
    """One of the places offered for a name of several."""
    query, user, chat = update.callback_query, update.effective_user, update.effective_chat
    assert query is not None and user is not None and chat is not None
    press = ZoneButton.parse(query.data)
    assert press is not None  # routed here by ZoneButton.pattern
    try:
        status = await context.services.reminders.set_timezone(
            user.id, chat.id, user.first_name, press.zone
        )
    except ReminderInputError:  # data the bot never sent: no such zone
        await messages.answer(query, render.STALE_ZONE)
        return
    await messages.answer(query)
    await messages.edit_pressed(context.bot, query, render.timezone_set(status))


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
    service = context.services.reminders
    # A chat's updates are handled one at a time: a second tap sees what the first did.
    asked = (await service.status(user.id)).waiting_for_zone
    status = await service.set_time(
        user.id, chat.id, user.first_name, press.at.hour, press.at.minute
    )
    await messages.answer(query)
    if status.waiting_for_zone:
        # The time waits; the zone, once given (/timezone or a location), starts it. A
        # double tap (or another time tapped meanwhile) does not ask twice.
        await messages.edit_pressed(context.bot, query, render.waiting_for_zone(status))
        if not asked:
            await messages.send(context.bot, chat.id, render.ask_zone())
        return
    await messages.edit_pressed(context.bot, query, render.reminder_set(status))
