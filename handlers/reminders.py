"""Reminders in Telegram: /remind, /timezone, a shared location, the reminder's buttons, and
the repeating tick that sends whatever is due."""

from __future__ import annotations

import logging

from telegram import CallbackQuery, InlineKeyboardMarkup, Update
from telegram.constants import ParseMode
from telegram.error import BadRequest, Forbidden, NetworkError, RetryAfter, TimedOut
from telegram.ext import JobQueue

from bot.reminder_dispatch import (
    FIRST_TICK_SECONDS,
    REMINDERS_PER_SECOND,
    TICK_SECONDS,
    SendWindow,
    dispatch_due,
)
from bot.reminders import DueReminder, ReminderInputError, TurnOff, parse_remind
from handlers import render_reminders as render
from handlers.answers import answer
from handlers.context import YogaContext

log = logging.getLogger(__name__)

TICK_NAME = "reminders"
# Passed to the AIORateLimiter: on a 429 it pauses every request for `retry_after`, then
# tries this reminder again, this many times.
RETRY_AFTER_TRIES = 3


def start_ticking(job_queue: JobQueue[YogaContext]) -> None:
    job_queue.run_repeating(
        reminder_tick,
        interval=TICK_SECONDS,
        first=FIRST_TICK_SECONDS,
        name=TICK_NAME,
        data=SendWindow(REMINDERS_PER_SECOND),
        # A tick delayed by a busy loop should still run; the schedule is in the database.
        job_kwargs={"misfire_grace_time": TICK_SECONDS * 6, "coalesce": True},
    )


# -- commands --------------------------------------------------------------------------------


async def remind(update: Update, context: YogaContext) -> None:
    message, user, chat = update.effective_message, update.effective_user, update.effective_chat
    assert message is not None and user is not None and chat is not None
    try:
        request = parse_remind(context.args or [])
    except ReminderInputError as exc:
        await message.reply_text(str(exc))
        return
    service = context.reminders
    if request is None:
        status = await service.status(user.id)
        await message.reply_text(
            render.reminder_status(status), reply_markup=render.remind_keyboard(status)
        )
    elif isinstance(request, TurnOff):
        await message.reply_text(render.reminders_off(await service.turn_off(user.id)))
    else:
        status = await service.set_schedule(user.id, chat.id, user.first_name, request)
        await message.reply_text(render.reminder_set(status))


async def timezone(update: Update, context: YogaContext) -> None:
    message, user, chat = update.effective_message, update.effective_user, update.effective_chat
    assert message is not None and user is not None and chat is not None
    service = context.reminders
    if not context.args:
        status = await service.status(user.id)
        await message.reply_text(
            render.timezone_status(status), reply_markup=render.location_keyboard()
        )
        return
    try:
        status = await service.set_timezone(
            user.id, chat.id, user.first_name, " ".join(context.args)
        )
    except ReminderInputError as exc:
        await message.reply_text(str(exc))
        return
    await message.reply_text(render.timezone_set(status), reply_markup=render.REMOVE_KEYBOARD)


async def shared_location(update: Update, context: YogaContext) -> None:
    message, user, chat = update.effective_message, update.effective_user, update.effective_chat
    assert message is not None and message.location is not None
    assert user is not None and chat is not None
    status = await context.reminders.set_timezone_at(
        user.id, chat.id, user.first_name, message.location.latitude, message.location.longitude
    )
    text = render.NO_ZONE_THERE if status is None else render.timezone_set(status)
    await message.reply_text(text, reply_markup=render.REMOVE_KEYBOARD)


async def reminder_button(update: Update, context: YogaContext) -> None:
    query, user, chat = update.callback_query, update.effective_user, update.effective_chat
    assert query is not None and user is not None and chat is not None
    press = render.parse_button(query.data)
    if press is None:
        await answer(query, render.STALE_BUTTON)
        return
    service = context.reminders
    yoga_class = context.practice.default_class
    match press.action:
        case "snooze":
            status = await service.snooze(user.id)
            if status is None:
                await answer(query, render.REMINDERS_ARE_OFF)
                return
            await answer(query, render.SNOOZED_ANSWER)
            await _replace(
                query, render.snoozed(yoga_class, status), render.snoozed_keyboard(), html=True
            )
        case "skip":
            status = await service.skip_today(user.id)
            if status is None:
                await answer(query, render.REMINDERS_ARE_OFF)
                return
            await answer(query, render.SKIPPED_ANSWER)
            await _replace(query, render.skipped(yoga_class, status), None, html=True)
        case "off":
            status = await service.turn_off(user.id)
            await answer(query)
            await _replace(query, render.reminders_off(status), None)
        case _:
            status = await service.set_time(
                user.id, chat.id, user.first_name, press.hour, press.minute
            )
            await answer(query)
            await _replace(query, render.reminder_set(status), None)


async def _replace(
    query: CallbackQuery, text: str, markup: InlineKeyboardMarkup | None, *, html: bool = False
) -> None:
    try:
        await query.edit_message_text(
            text, parse_mode=ParseMode.HTML if html else None, reply_markup=markup
        )
    except BadRequest as exc:
        # A double tap edits to the same content; anything else is a real refusal.
        if "not modified" not in str(exc).lower():
            raise


# -- the tick --------------------------------------------------------------------------------


async def reminder_tick(context: YogaContext) -> None:
    assert context.job is not None and isinstance(context.job.data, SendWindow)

    async def send(reminder: DueReminder) -> None:
        await send_reminder(context, reminder)

    await dispatch_due(
        context.reminders,
        send,
        context.job.data,
        keep_claiming=lambda: context.application.running,
    )


async def send_reminder(context: YogaContext, reminder: DueReminder) -> None:
    try:
        await context.bot.send_message(
            reminder.chat_id,
            render.reminder_text(context.practice.default_class),
            parse_mode=ParseMode.HTML,
            reply_markup=render.reminder_keyboard(),
            rate_limit_args=RETRY_AFTER_TRIES,
        )
    except Forbidden:
        log.info("chat %s blocked the bot; turning its reminders off", reminder.chat_id)
        await context.reminders.unreachable(reminder.user_id)
    # BadRequest subclasses NetworkError, but a refused request will not succeed if repeated.
    except BadRequest as exc:
        log.warning("reminder to chat %s refused: %s", reminder.chat_id, exc)
    except RetryAfter as exc:
        log.warning("reminder to chat %s still rate limited: %s", reminder.chat_id, exc)
        await context.reminders.delivery_failed(reminder)
    # A timeout after the request left may well have delivered it: sending again could
    # double today's reminder, so this one is given up.
    except TimedOut as exc:
        log.warning("reminder to chat %s timed out, not retrying: %s", reminder.chat_id, exc)
    except NetworkError as exc:
        retrying = await context.reminders.delivery_failed(reminder)
        log.warning(
            "reminder to chat %s failed (%s); %s",
            reminder.chat_id,
            exc,
            "will retry" if retrying else "not retrying",
        )
