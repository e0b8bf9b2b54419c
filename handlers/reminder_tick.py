"""The repeating tick that sends whatever reminders are due, and how one is sent.

A reminder is sent at most once: it is claimed in the database before it is sent, and a
send whose outcome is unknown (a timeout) is not tried again.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass

from telegram.error import BadRequest, Forbidden, TelegramError
from telegram.ext import JobQueue

from bot.reminder_dispatch import (
    FIRST_TICK_SECONDS,
    PAID_REMINDERS_PER_SECOND,
    REMINDERS_PER_SECOND,
    TICK_SECONDS,
    SendWindow,
    dispatch_due,
)
from bot.reminders import DueReminder
from bot.services import Services
from bot.store import StoreUnavailable
from handlers import messages
from handlers.context import YogaContext
from handlers.messages import surely_undelivered
from handlers.plan import send_plan_message
from handlers.rate_limit import Priority, sending_as, stoppable
from handlers.render import reminders as render

log = logging.getLogger(__name__)

TICK_NAME = "reminders"
# Plan messages claimed at a time, and batches a tick takes at most (the rest wait for the
# next tick, 20 s later).
PLAN_BATCH = 30
PLAN_BATCHES_PER_TICK = 10


@dataclass
class Tick:
    """What one run of the tick leaves for the next."""

    window: SendWindow
    paid_broadcast: bool = False
    # The database did not answer at the last run (warned once; the next run tries again).
    store_trouble: bool = False


def start_ticking(job_queue: JobQueue[YogaContext], *, paid_broadcast: bool = False) -> None:
    """`paid_broadcast`: the operator pays for Telegram's paid broadcasts, so reminders go
    at up to 1,000 a second instead of 30."""
    per_second = PAID_REMINDERS_PER_SECOND if paid_broadcast else REMINDERS_PER_SECOND
    job_queue.run_repeating(
        reminder_tick,
        interval=TICK_SECONDS,
        first=FIRST_TICK_SECONDS,
        name=TICK_NAME,
        data=Tick(SendWindow(per_second), paid_broadcast=paid_broadcast),
        # A tick delayed by a busy loop should still run; the schedule is in the database.
        job_kwargs={"misfire_grace_time": TICK_SECONDS * 6, "coalesce": True},
    )


async def reminder_tick(context: YogaContext) -> None:
    assert context.job is not None and isinstance(context.job.data, Tick)
    tick, services = context.job.data, context.services

    async def send(reminder: DueReminder) -> None:
        await send_reminder(context, services, reminder, paid_broadcast=tick.paid_broadcast)

    try:
        # Reminders wait behind live practices: a class in progress never waits for them.
        # A claimed reminder is sent even as the bot stops (at most once: never again).
        with sending_as(Priority.BACKLOG), stoppable(False):
            await _tick(context, tick, send)
    except StoreUnavailable as exc:
        # The outage itself is logged once, as the database's incident (bot/incidents.py).
        if not tick.store_trouble:
            log.info("reminders wait: the database does not answer (%s)", exc)
        tick.store_trouble = True
        return
    if tick.store_trouble:
        log.info("reminders go on: the database answers again")
        tick.store_trouble = False


async def _tick(
    context: YogaContext, tick: Tick, send: Callable[[DueReminder], Awaitable[None]]
) -> None:
    services = context.services
    if not await services.reminder_sender.claim():
        return  # another worker sends the reminders, within the bot's 30 a second
    await dispatch_due(
        services.reminders,
        send,
        tick.window,
        keep_claiming=lambda: context.application.running,
    )
    # Then what the plans owe (next-day checks, weekly summaries): a few a minute at most,
    # each claimed before it is sent, in batches while a batch comes back full.
    for _ in range(PLAN_BATCHES_PER_TICK):
        owed = await services.programme.claim_due(PLAN_BATCH)
        for message in owed.messages:
            await send_plan_message(context, services, message)
        if not owed.more or not context.application.running:
            break


async def send_reminder(
    context: YogaContext, services: Services, reminder: DueReminder, *, paid_broadcast: bool = False
) -> None:
    reply = render.reminder(
        services.practice.default_class,
        after_a_hard_day=reminder.after_a_hard_day,
        make_up=reminder.make_up,
    )
    try:
        await messages.send(context.bot, reminder.chat_id, reply, paid_broadcast=paid_broadcast)
    except Forbidden:
        log.info("chat %s blocked the bot", reminder.chat_id)
        await services.account.unreachable(reminder.chat_id)
    # BadRequest subclasses NetworkError, but a refused request will not succeed if repeated.
    except BadRequest as exc:
        log.warning("reminder to chat %s refused: %s", reminder.chat_id, exc)
    except TelegramError as exc:
        # At most once: tried again only when it surely did not arrive. After a timeout or
        # a connection that broke once the request was out, it may well have arrived.
        retrying = surely_undelivered(exc) and await services.reminders.delivery_failed(reminder)
        log.warning(
            "reminder to chat %s failed (%s); %s",
            reminder.chat_id,
            exc,
            "will retry" if retrying else "not retrying",
        )
