"""The repeating tick that sends whatever reminders are due, and how one is sent.

A reminder is sent at most once: it is claimed in the database before it is sent, and a
send whose outcome is unknown (a timeout) is not tried again.
"""

from __future__ import annotations

import logging

from telegram.error import BadRequest, Forbidden, NetworkError, RetryAfter, TimedOut
from telegram.ext import JobQueue

from bot.reminder_dispatch import (
    FIRST_TICK_SECONDS,
    REMINDERS_PER_SECOND,
    TICK_SECONDS,
    SendWindow,
    dispatch_due,
)
from bot.reminders import DueReminder
from bot.services import Services
from handlers import messages
from handlers.context import YogaContext
from handlers.render import reminders as render

log = logging.getLogger(__name__)

TICK_NAME = "reminders"


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


async def reminder_tick(context: YogaContext) -> None:
    assert context.job is not None and isinstance(context.job.data, SendWindow)
    services = context.services

    async def send(reminder: DueReminder) -> None:
        await send_reminder(context, services, reminder)

    await dispatch_due(
        services.reminders,
        send,
        context.job.data,
        keep_claiming=lambda: context.application.running,
    )


async def send_reminder(context: YogaContext, services: Services, reminder: DueReminder) -> None:
    reply = render.reminder(services.practice.default_class)
    try:
        await messages.send(context.bot, reminder.chat_id, reply)
    except Forbidden:
        log.info("chat %s blocked the bot", reminder.chat_id)
        await services.account.unreachable(reminder.chat_id)
    # BadRequest subclasses NetworkError, but a refused request will not succeed if repeated.
    except BadRequest as exc:
        log.warning("reminder to chat %s refused: %s", reminder.chat_id, exc)
    except RetryAfter as exc:
        log.warning("reminder to chat %s still rate limited: %s", reminder.chat_id, exc)
        await services.reminders.delivery_failed(reminder)
    # A timeout after the request left may well have delivered it: sending again could
    # double today's reminder, so this one is given up.
    except TimedOut as exc:
        log.warning("reminder to chat %s timed out, not retrying: %s", reminder.chat_id, exc)
    except NetworkError as exc:
        retrying = await services.reminders.delivery_failed(reminder)
        log.warning(
            "reminder to chat %s failed (%s); %s",
            reminder.chat_id,
            exc,
            "will retry" if retrying else "not retrying",
        )
