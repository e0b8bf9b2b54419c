"""The plan over weeks in Telegram: /plan and its buttons, the next-day check's answer,
/report, and how the plan's owed messages (next-day check, weekly summary) are sent."""

from __future__ import annotations

import asyncio
import logging

from telegram import Update
from telegram.error import BadRequest, Forbidden, TelegramError

from bot.programme.report import ClinicianReport
from bot.programme.service import (
    NextDayCheck,
    NoPlan,
    NoProgramme,
    PlanInputError,
    PlanMessage,
    QuietWeek,
    SetSummaryDay,
    StopPlan,
    WeeklySummary,
    parse_plan,
)
from bot.services import Services
from handlers import messages
from handlers.buttons import NextDayButton, PlanAction, PlanButton
from handlers.context import YogaContext
from handlers.render import plain
from handlers.render import plan as render
from handlers.render.report import clinician_report

log = logging.getLogger(__name__)


async def plan_command(update: Update, context: YogaContext) -> None:
    message, user = update.effective_message, update.effective_user
    assert message is not None and user is not None
    service = context.services.programme
    try:
        request = parse_plan(context.args or [])
    except PlanInputError as exc:
        await messages.send(context.bot, message.chat_id, render.plan_input_error(exc))
        return
    if request is None:
        view = await service.view(user.id)
        reply = render.no_plan(view) if isinstance(view, NoPlan) else render.plan(view)
    elif isinstance(request, StopPlan):
        stopped = await service.stop(user.id)
        reply = plain(render.STOPPED if stopped else render.NO_PLAN_TO_STOP)
    elif isinstance(request, SetSummaryDay):
        moved = await service.set_summary_day(user.id, request.day)
        if isinstance(moved, NoPlan):
            reply = render.no_plan(moved)
        else:
            reply = render.plan(moved, note=render.summary_moved(moved.summary_day))
    else:
        try:
            started = await service.start(
                user.id, message.chat_id, user.first_name, request.goal, request.days
            )
        except NoProgramme:
            reply = plain(render.NO_PROGRAMME)
        else:
            reply = render.plan(started)
    await messages.send(context.bot, message.chat_id, reply)


async def plan_button(update: Update, context: YogaContext) -> None:
    query, user, chat = update.callback_query, update.effective_user, update.effective_chat
    assert query is not None and user is not None and chat is not None
    press = PlanButton.parse(query.data)
    assert press is not None  # routed here by PlanButton.pattern
    service = context.services.programme
    goal = render.GOAL_OF_ACTION.get(press.action)
    if goal is not None:
        try:
            view = await service.start(user.id, chat.id, user.first_name, goal)
        except NoProgramme:
            await messages.answer(query, render.NO_PROGRAMME)
            return
        await messages.answer(query)
        await messages.edit_pressed(context.bot, query, render.plan(view))
        return
    if press.action in (PlanAction.STOP, PlanAction.RESUME):
        await messages.answer(query)
        ask = render.ask_stop() if press.action == PlanAction.STOP else render.ask_resume()
        await messages.edit_pressed(context.bot, query, ask)
        return
    if press.action == PlanAction.STOP_SURE:
        stopped = await service.stop(user.id)
        await messages.answer(query)
        text = render.STOPPED if stopped else render.NO_PLAN_TO_STOP
        await messages.edit_pressed(context.bot, query, plain(text))
        return
    if press.action == PlanAction.RESUME_SURE:
        resumed = await service.resume(user.id)
        if resumed is None:
            await messages.answer(query, render.RESUME_TOMORROW)
            return
        await messages.answer(query)
        reply = render.no_plan(resumed) if isinstance(resumed, NoPlan) else render.plan(resumed)
        await messages.edit_pressed(context.bot, query, reply)
        return
    if press.action == PlanAction.BACK:
        shown = await service.view(user.id)
        await messages.answer(query)
        back = render.no_plan(shown) if isinstance(shown, NoPlan) else render.plan(shown)
        await messages.edit_pressed(context.bot, query, back)
        return
    # PlanAction.GOALS: the goals again, the plan's own named.
    current = await service.view(user.id)
    await messages.answer(query)
    reply = render.no_plan(current) if isinstance(current, NoPlan) else render.choose_goal(current)
    await messages.edit_pressed(context.bot, query, reply)


async def next_day_button(update: Update, context: YogaContext) -> None:
    query, user = update.callback_query, update.effective_user
    assert query is not None and user is not None
    press = NextDayButton.parse(query.data)
    assert press is not None  # routed here by NextDayButton.pattern
    heard = await context.services.programme.answer_next_day(user.id, press.practice, press.answer)
    if heard is None:
        # A second tap, another's button, or a plan stopped since: nothing changes.
        await messages.answer(query, render.STALE_NEXT_DAY)
        return
    await messages.answer(query)
    await messages.edit_pressed(context.bot, query, render.next_day_heard(heard))


async def report_command(update: Update, context: YogaContext) -> None:
    """The report for a clinician: a one-page PDF, then the same page as a picture."""
    message, user = update.effective_message, update.effective_user
    assert message is not None and user is not None
    facts = await context.services.programme.report_facts(user.id)
    if facts is None or (not facts.practices and facts.goal is None):
        await messages.send(context.bot, message.chat_id, plain(render.NOTHING_TO_REPORT))
        return
    report = clinician_report(facts)
    # Drawing takes a CPU for a moment; in a thread it does not stall other users.
    pdf, png = await asyncio.to_thread(_draw, report)
    name = f"yogabot-report-{facts.made_on.isoformat()}"
    await context.bot.send_document(
        message.chat_id, pdf, filename=f"{name}.pdf", caption=render.REPORT_CAPTION
    )
    try:
        await context.bot.send_photo(message.chat_id, png, caption=render.REPORT_PICTURE_CAPTION)
    except TelegramError as exc:
        # The PDF went: the picture is a convenience, and costs only itself.
        log.warning("could not send the report picture to user %s: %s", user.id, exc)


def _draw(report: ClinicianReport) -> tuple[bytes, bytes]:
    # Imported by the first report: the PDF library need not be loaded before.
    from bot import report_pdf

    files = report_pdf.render(report)
    return files.pdf, files.png


# -- what the plan owes, sent by the reminder tick ---------------------------------------------


async def send_plan_message(context: YogaContext, services: Services, owed: PlanMessage) -> None:
    """Send one claimed message, at most once: a failed send is not tried again (the
    next-day check is a question for one morning; the summary comes again next week)."""
    match owed:
        case NextDayCheck():
            reply = render.next_day_question(owed.practice_id)
        case WeeklySummary():
            reply = render.weekly_summary(owed)
        case QuietWeek():
            reply = render.quiet_week()
    try:
        await messages.send(context.bot, owed.chat_id, reply)
    except Forbidden:
        log.info("chat %s blocked the bot", owed.chat_id)
        await services.account.unreachable(owed.chat_id)
    # BadRequest subclasses NetworkError, but a refused request will not succeed if repeated.
    except BadRequest as exc:
        log.warning("%s to chat %s refused: %s", type(owed).__name__, owed.chat_id, exc)
    except TelegramError as exc:
        log.warning(
            "%s to chat %s failed (%s); not retrying", type(owed).__name__, owed.chat_id, exc
        )
