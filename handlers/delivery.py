"""Sending cues and arming their timers: the shared path for buttons, timers and restarts."""

from __future__ import annotations

import logging
from datetime import datetime

from telegram.constants import ParseMode
from telegram.error import BadRequest, Forbidden, TelegramError
from telegram.ext import ExtBot, JobQueue

from bot.clock import Clock
from bot.practice import Cue, PracticeEngine, Transition
from handlers import render, render_checkin
from handlers.context import YogaContext

log = logging.getLogger(__name__)


def timer_name(session_id: int) -> str:
    return f"cue:{session_id}"


def cancel_timer(job_queue: JobQueue[YogaContext], session_id: int) -> None:
    for job in job_queue.get_jobs_by_name(timer_name(session_id)):
        job.schedule_removal()


def arm_timer(
    job_queue: JobQueue[YogaContext],
    clock: Clock,
    *,
    session_id: int,
    index: int,
    chat_id: int,
    deadline: datetime,
) -> None:
    cancel_timer(job_queue, session_id)
    job_queue.run_once(
        cue_due,
        when=max(0.0, (deadline - clock()).total_seconds()),
        data=(session_id, index),
        name=timer_name(session_id),
        chat_id=chat_id,
        # APScheduler drops a job that is over a second late by default; a late cue still
        # has to arrive, so it may be any amount late.
        job_kwargs={"misfire_grace_time": None},
    )


async def cue_due(context: YogaContext) -> None:
    assert context.job is not None
    session_id, index = context.job.data  # type: ignore[misc]
    outcome = await context.practice.advance_if_due(session_id, index)
    if isinstance(outcome, datetime):
        arm_timer(
            context.job_queue,
            context.clock,
            session_id=session_id,
            index=index,
            chat_id=context.job.chat_id or 0,
            deadline=outcome,
        )
    elif outcome is not None:
        await deliver(context, outcome)


async def deliver(context: YogaContext, transition: Transition) -> None:
    """Show what the practice moved on to: arm the next timer first, so a failed send
    cannot stall the class, then retire the old buttons and send the new message."""
    session_id = transition.session_id
    if transition.cue is not None and transition.deadline is not None:
        arm_timer(
            context.job_queue,
            context.clock,
            session_id=session_id,
            index=transition.cue.index,
            chat_id=transition.chat_id,
            deadline=transition.deadline,
        )
    else:
        cancel_timer(context.job_queue, session_id)
    if transition.previous_message_id is not None:
        await remove_buttons(context.bot, transition.chat_id, transition.previous_message_id)
    if transition.cue is not None:
        await send_cue(context, transition.chat_id, transition.cue)
    if transition.summary is not None:
        await context.bot.send_message(
            transition.chat_id, render.closing(transition.summary), parse_mode=ParseMode.HTML
        )
        if transition.summary.ask_after:
            await context.bot.send_message(
                transition.chat_id,
                render_checkin.AFTER_QUESTION,
                reply_markup=render_checkin.after_keyboard(session_id),
            )


async def send_cue(context: YogaContext, chat_id: int, cue: Cue) -> None:
    practice: PracticeEngine = context.practice
    try:
        message = await context.bot.send_message(
            chat_id,
            render.cue_text(cue),
            parse_mode=ParseMode.HTML,
            reply_markup=render.cue_keyboard(cue),
        )
    except Forbidden:
        # The user blocked the bot: keep nothing running for them.
        log.info("chat %s blocked the bot; ending session %s", chat_id, cue.session_id)
        cancel_timer(context.job_queue, cue.session_id)
        await practice.abandon(cue.session_id)
        return
    if not await practice.confirm_cue(cue.session_id, cue.index, message.message_id):
        # Whatever moved the practice on could not know this message yet.
        await remove_buttons(context.bot, chat_id, message.message_id)


async def remove_buttons(bot: ExtBot[None], chat_id: int, message_id: int) -> None:
    try:
        await bot.edit_message_reply_markup(chat_id, message_id, reply_markup=None)
    except BadRequest as exc:
        # Already without buttons, or deleted by the user: nothing left to retire.
        log.debug("could not retire buttons of %s/%s: %s", chat_id, message_id, exc)
    except TelegramError as exc:
        log.warning("could not retire buttons of %s/%s: %s", chat_id, message_id, exc)


async def resume_open_sessions(context: YogaContext) -> None:
    """At start-up: re-arm every stored deadline (an overdue one fires at once, so its cue
    arrives once, late) and re-send a cue whose delivery was never confirmed. One chat's
    failure must not keep the bot, or anyone else's practice, from starting."""
    for pending in await context.practice.pending():
        if pending.deadline is not None:
            arm_timer(
                context.job_queue,
                context.clock,
                session_id=pending.session_id,
                index=pending.index,
                chat_id=pending.chat_id,
                deadline=pending.deadline,
            )
        if pending.cue_unconfirmed:
            cue = await context.practice.current_cue(pending.session_id)
            try:
                await send_cue(context, pending.chat_id, cue)
            except TelegramError as exc:
                # Left unconfirmed, so the next start-up tries again.
                log.warning("could not re-send cue to chat %s: %s", pending.chat_id, exc)
