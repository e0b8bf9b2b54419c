"""Reminders in Telegram: /remind, /timezone, a shared location, the reminder's buttons, and
the repeating tick that sends whatever is due."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator

from telegram import CallbackQuery, InlineKeyboardMarkup, Update
from telegram.constants import ParseMode
from telegram.error import BadRequest, Forbidden, NetworkError, RetryAfter, TimedOut
from telegram.ext import JobQueue

from bot.reminders import DueReminder, ReminderInputError, TurnOff, parse_remind
from handlers import render_reminders as render
from handlers.answers import answer
from handlers.context import YogaContext

log = logging.getLogger(__name__)

TICK_NAME = "reminders"
TICK_SECONDS = 20
FIRST_TICK_SECONDS = 2
# Sends claimed but not yet done: 1.5 s worth at 30/s keeps the pace steady while the next
# batch is claimed, and bounds what a crash could leave claimed but unsent.
IN_FLIGHT = 45
# A tick stops claiming after this long; with the sends still in flight it ends before the
# next tick is due, so a backlog drains at nearly the full rate with no overlapping runs
# (and the Application, which waits for running jobs when it stops, is never held long).
TICK_BUDGET_SECONDS = 18
# Passed to the AIORateLimiter: on a 429 it pauses every request for `retry_after`, then
# tries this reminder again, this many times.
RETRY_AFTER_TRIES = 3
# Telegram allows about 30 messages a second. PTB's AIORateLimiter holds that on average,
# but it counts requests as they leave, and lets a burst of 30 through after a quiet spell.
REMINDERS_PER_SECOND = 30


class SendWindow:
    """At most `per_second` reminder sends in any one second, as the server counts them.

    A send holds one of `per_second` slots from its start until one second after it
    finished; the server received it somewhere in between, so no one-second window there
    ever holds more, however the network delays or bunches requests. Sends also start
    evenly spaced rather than in bursts. Shared by every run of the tick."""

    # A wake-up this late still counts from the planned time; a later one (a busy loop)
    # counts from now, so delayed sends never catch up in a burst.
    _TOLERANCE = 0.002

    def __init__(self, per_second: int) -> None:
        self._slots = asyncio.Semaphore(per_second)
        self._gap = 1.0 / per_second
        self._next = 0.0
        self._spacing = asyncio.Lock()

    @contextlib.asynccontextmanager
    async def slot(self) -> AsyncIterator[None]:
        await self._slots.acquire()
        try:
            await self._spaced_start()
            yield
        finally:
            asyncio.get_running_loop().call_later(1.0, self._slots.release)

    async def _spaced_start(self) -> None:
        loop = asyncio.get_running_loop()
        async with self._spacing:
            delay = self._next - loop.time()
            if delay > 0:
                await asyncio.sleep(delay)
            now = loop.time()
            planned = self._next if now - self._next < self._TOLERANCE else now
            self._next = planned + self._gap


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
    await dispatch_due(context, context.job.data)


async def dispatch_due(
    context: YogaContext, window: SendWindow, *, budget: float = TICK_BUDGET_SECONDS
) -> int:
    """Claim due reminders oldest first and send them, keeping up to IN_FLIGHT sends going
    so the send window, not this loop, sets the pace. Returns how many were claimed."""
    loop = asyncio.get_running_loop()
    stop_at = loop.time() + budget
    in_flight: set[asyncio.Task[None]] = set()
    more, claimed = True, 0
    while True:
        claiming = more and loop.time() < stop_at and context.application.running
        if claiming and len(in_flight) <= IN_FLIGHT // 2:
            batch = await context.reminders.claim_due(IN_FLIGHT - len(in_flight))
            more = batch.more
            claimed += len(batch.reminders)
            in_flight.update(
                asyncio.create_task(send_reminder(context, r, window)) for r in batch.reminders
            )
            if more and not in_flight:
                continue  # the whole batch was moved on without a send; look again
        if not in_flight:
            return claimed
        done, in_flight = await asyncio.wait(in_flight, return_when=asyncio.FIRST_COMPLETED)
        for task in done:
            if not task.cancelled() and task.exception() is not None:
                log.error("sending a reminder failed", exc_info=task.exception())


async def send_reminder(context: YogaContext, reminder: DueReminder, window: SendWindow) -> None:
    try:
        async with window.slot():
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
