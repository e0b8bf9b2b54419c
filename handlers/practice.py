"""The practice in Telegram: /start_practice and its ways in, the cue buttons, words typed
during a practice, and `present`, which turns every practice outcome into messages."""

from __future__ import annotations

import contextlib
import logging
from typing import Any, Protocol

from telegram import Message, Update
from telegram.error import BadRequest, Forbidden, TelegramError
from telegram.ext import ExtBot

from bot.cues import ContinueOffer, Heard, ReadyToCheckIn, ScreenFirst, WayIn
from bot.models import Pace
from bot.practice import Cue, MessageRef, PracticeOutcome, PracticePaused, StaleAction
from bot.safety import ScreenStatus
from bot.services import Services
from bot.store import StoreUnavailable
from bot.user_settings import Setting
from handlers import messages
from handlers.buttons import PracticeAction, PracticeButton
from handlers.context import TIMERS, YogaContext
from handlers.rate_limit import stoppable
from handlers.render import Reply
from handlers.render import checkin as render_checkin
from handlers.render import common as render_common
from handlers.render import practice as render
from handlers.render import safety as render_safety

log = logging.getLogger(__name__)


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
        case ScreenFirst():
            await messages.send(context.bot, chat_id, screen_first(way_in))
        case ReadyToCheckIn():
            intro = render.intro(
                way_in.yoga_class,
                felt_worse_last_time=way_in.felt_worse_last_time,
                settings=way_in.settings,
                minutes=way_in.minutes,
            )
            await messages.send(context.bot, chat_id, intro)
            await messages.send(context.bot, chat_id, render_checkin.before_question())


def screen_first(way_in: ScreenFirst) -> Reply:
    """The red-flag screen, when it is due; the advice for today, when a sign was reported."""
    if way_in.status == ScreenStatus.DUE:
        return render_safety.screen(start=True)
    return render_safety.rest_today(way_in.status)


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
    act = {
        PracticeAction.NEXT: practice.next,
        PracticeAction.EASIER: practice.reveal_easier,
        PracticeAction.PAUSE: practice.pause,
        PracticeAction.RESUME: practice.resume,
        PracticeAction.STOP: practice.stop,
        PracticeAction.END: practice.end,
        PracticeAction.KEEP_GOING: practice.keep_going,
        PracticeAction.HURT: practice.hurts,
        PracticeAction.TRY_EASIER: practice.try_easier,
        PracticeAction.SKIP: practice.skip_pose,
        PracticeAction.END_FOR_PAIN: practice.end_for_pain,
        PracticeAction.CONTINUE: practice.carry_on,
        PracticeAction.MORE_TIME: practice.more_time,
        PracticeAction.USUAL: practice.usual_version,
    }[press.action]
    try:
        outcome = await act(user.id, press.practice, press.step)
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
    await messages.answer(query)
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
    reply = {
        Heard.CHAT: render_common.plain_text,
        Heard.DURING_PRACTICE: render.during_practice,
        Heard.PAIN_OUTSIDE_PRACTICE: render.pain_outside_practice,
    }[heard]()
    await messages.send(context.bot, message.chat_id, reply)


class Redraws(Protocol):
    """Where a redraw Telegram did not take waits for its next try (handlers/timers.py)."""

    def later(self, cue: Cue, at: MessageRef, failures: int) -> float:
        """Try drawing `cue` at `at` again after retry_delay(failures); the seconds."""
        ...

    def drawn(self, at: MessageRef) -> None:
        """The message shows what it should now: an older redraw waiting for it is dropped."""
        ...


async def present(
    bot: ExtBot[Any],
    services: Services,
    outcome: PracticeOutcome | None,
    *,
    pressed: MessageRef | None = None,
    redraws: Redraws | None = None,
) -> None:
    """Show what a practice change means: redraw the pressed cue, send the new cue (and
    confirm it), retire old buttons, then the summary and the after-practice check-in.

    The new cue goes before the retirements, which wait for headroom: at the limit, a
    cue costs one counted call."""
    if outcome is None:
        return
    if outcome.redraw is not None and pressed is not None:
        await redraw(bot, services, outcome.redraw, pressed, redraws=redraws)
    if outcome.show is not None:
        await _send_cue(bot, services, outcome.show, outcome.chat_id)
    for old in outcome.retire:
        await messages.retire(bot, old.chat_id, old.message_id)
    summary = outcome.summary
    if summary is not None:
        await messages.send(bot, outcome.chat_id, render.closing(summary))
        # Once the closing message is out, its question follows even as the bot stops:
        # left for the restart, the pair would be sent again, closing message and all.
        with stoppable(False):
            if summary.ask_after:
                question = render_checkin.after_question(outcome.practice_id)
                await messages.send(bot, outcome.chat_id, question)
            # Until now a restart sends them again (at least once).
            await services.practice.summary_shown(outcome.practice_id)


async def redraw(
    bot: ExtBot[Any],
    services: Services,
    cue: Cue,
    at: MessageRef,
    *,
    failures: int = 0,
    redraws: Redraws | None = None,
) -> None:
    """Draw `cue` in place of the message at `at` (the cue the user pressed).

    A message that is gone ("message to edit not found") gets the cue afresh as a cue is
    sent, picture (by its file_id) and buttons and all, and that message is the practice's
    cue from then on. A redraw Telegram did not take (a 5xx, a timeout, a dropped
    connection) is tried again like a cue, after retry_delay, by `redraws`."""
    try:
        try:
            await messages.edit(
                bot,
                at.chat_id,
                at.message_id,
                render.cue(cue),
                caption=cue.picture is not None,
                afresh=False,
            )
        except messages.MessageGone:
            sent = await _deliver(bot, services, cue, at.chat_id)
            services.incidents.telegram.answered()
            if redraws is not None:
                redraws.drawn(at)
            if not cue.over:
                await _confirm(bot, services, cue, at.chat_id, sent.message_id)
            return
    except BadRequest as exc:
        if messages.chat_gone(exc):
            await services.account.unreachable(at.chat_id)
            return
        raise
    except Forbidden:
        raise
    except TelegramError as exc:
        services.incidents.telegram.failed(_reason(exc))
        if redraws is None:
            raise
        delay = redraws.later(cue, at, failures + 1)
        log.debug(
            "cue %s/%s not redrawn (%s); again in %.1f s", cue.practice_id, cue.step, exc, delay
        )
        return
    services.incidents.telegram.answered()
    if redraws is not None:
        redraws.drawn(at)


async def _send_cue(bot: ExtBot[Any], services: Services, cue: Cue, chat_id: int) -> None:
    """A cue goes out at least once: a send Telegram did not take (a 429 past the rate
    limiter's retries, a 5xx, a timeout, a dropped connection, a refusal) is tried again
    after retry_delay, by whichever worker's timer or sweep comes first, for as long as it
    takes. Only a chat Telegram refuses for good ends the practice: a blocked bot goes to
    the error handler (or the sweep), a chat that is gone is left here."""
    try:
        sent = await _deliver(bot, services, cue, chat_id)
    except Forbidden:
        raise
    except TelegramError as exc:
        if messages.chat_gone(exc):
            log.info("chat %s is gone (%s)", chat_id, exc)
            await services.account.unreachable(chat_id)
            return
        services.incidents.telegram.failed(_reason(exc))
        delay = await services.practice.undelivered(cue, chat_id)
        if delay is not None:
            log.debug(
                "cue %s/%s not sent (%s); again in %.1f s", cue.practice_id, cue.step, exc, delay
            )
        return
    services.incidents.telegram.answered()
    await _confirm(bot, services, cue, chat_id, sent.message_id)


def _reason(error: TelegramError) -> str:
    # The library's words and the kind of error; no request, no user data.
    return f"{type(error).__name__}: {error}"


async def _deliver(bot: ExtBot[Any], services: Services, cue: Cue, chat_id: int) -> Message:
    """The cue as a photo with its words as the caption, or as text when it has no picture.

    Each picture is uploaded once per bot and sent by its file_id after. A refused send
    (a file_id Telegram no longer knows) uploads it again, and if that is refused too the
    cue goes as text: a picture never stops a practice. Network trouble, and a chat that
    is gone, are the caller's (the cue is sent again, picture and all)."""
    reply, picture = render.cue(cue), cue.picture
    if picture is None:
        return await messages.send(bot, chat_id, reply)
    known = await services.uploads.file_id(picture)
    if known is not None:
        try:
            return await messages.send_photo(bot, chat_id, known, reply)
        except BadRequest as exc:
            if messages.chat_gone(exc):
                raise
            log.info("picture %s refused by its file_id (%s); uploading it again", picture.key, exc)
            await services.uploads.refused(picture)
    try:
        sent = await messages.send_photo(bot, chat_id, picture.path.read_bytes(), reply)
    except BadRequest as exc:
        if messages.chat_gone(exc):
            raise
        log.warning("picture %s refused (%s); the cue goes as text", picture.key, exc)
        return await messages.send(bot, chat_id, reply)
    if sent.photo:
        # The largest size's id: Telegram serves the whole picture by it. Telegram has the
        # cue by now: a database that cannot store the id must not cost its confirmation
        # (it would be sent again); the next process uploads the picture once more.
        with contextlib.suppress(StoreUnavailable):
            await services.uploads.uploaded(picture, sent.photo[-1].file_id)
    return sent


async def _confirm(
    bot: ExtBot[Any], services: Services, cue: Cue, chat_id: int, message_id: int
) -> None:
    # A cue counts as delivered only once Telegram returned its message: until then a
    # restart sends it again (at least once). A database that does not answer now leaves
    # it in the service's memory, recorded later and never sent again meanwhile.
    await present(bot, services, await services.practice.delivered(cue, chat_id, message_id))
