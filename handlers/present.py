"""What a practice change looks like in Telegram: `present` turns a `PracticeOutcome` into
Bot API calls (redraw the pressed cue, send the new cue, retire old buttons, the closing
message and its question) and reports each cue's fate back to the practice as an event:
`CueSent` with its message, or `CueFailed`. It decides nothing about the practice.

Delivery: a cue goes out at least once (a send Telegram did not take is tried again by the
rules' back-off, by whichever worker's timer or sweep looks next); a redraw Telegram did
not take waits here for its next try (`Redraws`, handlers/timers.py)."""

from __future__ import annotations

import contextlib
import logging
from dataclasses import replace
from typing import Any, Protocol

from telegram import Message
from telegram.error import BadRequest, Forbidden, TelegramError
from telegram.ext import ExtBot

from bot.cues import PlayerNote
from bot.practice.machine import CueFailed, CueSent, Note
from bot.practice.service import Cue, MessageRef, PracticeOutcome, StaleAction
from bot.services import Services
from handlers import media, messages
from handlers.rate_limit import stoppable
from handlers.render import Reply
from handlers.render import checkin as render_checkin
from handlers.render import player as render_player
from handlers.render import practice as render

log = logging.getLogger(__name__)


class Redraws(Protocol):
    """Where a redraw Telegram did not take waits for its next try (handlers/timers.py)."""

    def later(self, cue: Cue, at: MessageRef, failures: int) -> float:
        """Try drawing `cue` at `at` again after retry_delay(failures); the seconds."""
        ...

    def drawn(self, at: MessageRef) -> None:
        """The message shows what it should now: an older redraw waiting for it is dropped."""
        ...

    def waiting(self, at: MessageRef) -> Cue | None:
        """The cue of a redraw waiting for its next try at `at`, if one is."""
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
    for at, drawn in outcome.settle:
        await _settle(bot, drawn, at)
    if outcome.note is not None:
        await show_note(bot, services, outcome.chat_id, outcome.note)
    summary = outcome.summary
    if summary is not None:
        await _closing(bot, outcome.chat_id, render.closing(summary), outcome.summary_at)
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
    """Draw `cue` in place of the message at `at` (the cue the user pressed): its words,
    and its picture too when the press changed which version the cue shows
    (`cue.swap_media`), in one call either way; its audio too, when it is spoken.

    A message that is gone ("message to edit not found") gets the cue afresh as a cue is
    sent, picture (by its file_id) and buttons and all, and that message is the practice's
    cue from then on; so does a photo Telegram would not give the new picture, whose
    buttons go. A redraw Telegram did not take (a 5xx, a timeout, a dropped connection)
    is tried again like a cue, after retry_delay, by `redraws`; a picture it was to swap
    is still swapped by whichever redraw of that message goes first."""
    if redraws is not None and not cue.swap_media:
        earlier = redraws.waiting(at)
        if earlier is not None and earlier.swap_media:
            # The message may still show the picture of the version before that press.
            cue = replace(cue, swap_media=True)
    try:
        try:
            if cue.swap_media and (cue.picture is not None or cue.sound is not None):
                await _swap(bot, services, cue, at)
            else:
                await _draw(bot, cue, at)
        except (messages.MessageGone, _NotSwapped) as exc:
            sent = await _deliver(bot, services, cue, at.chat_id)
            services.incidents.telegram.answered()
            if redraws is not None:
                redraws.drawn(at)
            if isinstance(exc, _NotSwapped):
                await messages.retire(bot, at.chat_id, at.message_id, now=True)
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


async def _draw(bot: ExtBot[Any], cue: Cue, at: MessageRef) -> None:
    """`cue` in place of the message at `at` (its caption, when it has a picture or an
    audio); MessageGone when that message is gone."""
    reply = render.cue(cue)
    captioned = cue.picture is not None or cue.sound is not None
    await messages.edit(bot, at.chat_id, at.message_id, reply, caption=captioned, afresh=False)


class _NotSwapped(Exception):
    """Telegram refused to put the cue's picture (or audio) in place of the message's: that
    message would show or speak the other version under these words, so the cue goes
    afresh."""


async def _swap(bot: ExtBot[Any], services: Services, cue: Cue, at: MessageRef) -> None:
    """`cue`'s audio or picture, and its words, in place of the message at `at`, in one
    editMessageMedia, the file by its id or uploaded once (handlers/media.py, as a cue is
    sent): the audio when the cue is spoken, else (or when Telegram refuses the audio) the
    picture. MessageGone when that message is gone; "message is not modified" (a double
    tap) is done already. Refused, a cue that went as text (its picture refused when it was
    sent) has its words edited as text; a photo or an audio raises _NotSwapped."""
    reply = render.cue(cue)
    refused: BadRequest | None = None
    for attempt in (_swap_audio, _swap_photo):
        try:
            if await attempt(bot, services, cue, reply, at):
                return
        except BadRequest as exc:
            if messages.harmless(exc):
                return
            if messages.chat_gone(exc):
                raise
            log.warning("cue %s/%s: media not swapped in (%s)", cue.practice_id, cue.step, exc)
            refused = exc
    if refused is not None:
        try:
            await messages.edit_text(bot, at.chat_id, at.message_id, reply)
        except BadRequest as other:
            if messages.chat_gone(other):
                raise
            raise _NotSwapped from refused


async def _swap_audio(
    bot: ExtBot[Any], services: Services, cue: Cue, reply: Reply, at: MessageRef
) -> bool:
    """The cue's audio (with its cover) in place of the message's; False: it has none."""
    if cue.sound is None:
        return False
    spoken, title = media.SpokenCue.of(cue.sound, cue.picture), render.audio_title(cue)

    async def swap(audio: str | bytes) -> Message | bool:
        cover = None if isinstance(audio, str) else spoken.cover()
        return await messages.edit_audio(
            bot, at.chat_id, at.message_id, audio, reply, title=title, cover=cover
        )

    await media.with_media(services, spoken, swap, media.audio_id)
    return True


async def _swap_photo(
    bot: ExtBot[Any], services: Services, cue: Cue, reply: Reply, at: MessageRef
) -> bool:
    """The cue's picture in place of the message's; False: it has none."""
    if cue.picture is None:
        return False

    async def swap(photo: str | bytes) -> Message | bool:
        return await messages.edit_photo(bot, at.chat_id, at.message_id, photo, reply)

    await media.with_media(services, cue.picture, swap, media.photo_id)
    return True


async def _settle(bot: ExtBot[Any], cue: Cue, at: MessageRef) -> None:
    """Draw a message once more as it should now read (an old cue as it ended, or the cue
    as a paused practice shows it). Nothing is owed if Telegram does not take it: the
    message's buttons still answer, and a stale one says so."""
    try:
        await _draw(bot, cue, at)
    except (messages.MessageGone, BadRequest) as exc:
        log.debug("message %s/%s not drawn again: %s", at.chat_id, at.message_id, exc)
    except Forbidden:
        raise
    except TelegramError as exc:
        log.info("message %s/%s not drawn again: %s", at.chat_id, at.message_id, exc)


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
        log.debug("cue %s/%s not sent (%s)", cue.practice_id, cue.step, exc)
        failed = CueFailed(cue.step, services.practice.luck())
        with contextlib.suppress(StaleAction):  # moved on meanwhile: nothing is owed
            await services.practice.apply(cue.practice_id, failed)
        return
    services.incidents.telegram.answered()
    await _confirm(bot, services, cue, chat_id, sent.message_id)


def _reason(error: TelegramError) -> str:
    # The library's words and the kind of error; no request, no user data.
    return f"{type(error).__name__}: {error}"


async def _deliver(bot: ExtBot[Any], services: Services, cue: Cue, chat_id: int) -> Message:
    """The cue as an audio that speaks it (when it is spoken), its picture as the cover and
    its words as the caption; else as a photo with its words as the caption; or as text when
    it has no picture, or Telegram refuses the audio and the picture: neither a voice nor a
    picture ever stops a practice. Network trouble, and a chat that is gone, are the
    caller's (the cue is sent again, audio, picture and all)."""
    reply, picture, sound = render.cue(cue), cue.picture, cue.sound
    if sound is not None:
        spoken, title = media.SpokenCue.of(sound, picture), render.audio_title(cue)

        async def send_audio(audio: str | bytes) -> Message:
            cover = None if isinstance(audio, str) else spoken.cover()
            return await messages.send_audio(bot, chat_id, audio, reply, title=title, cover=cover)

        try:
            return await media.with_media(services, spoken, send_audio, media.audio_id)
        except BadRequest as exc:
            if messages.chat_gone(exc):
                raise
            log.warning("audio %s refused (%s); the cue goes silent", spoken.key, exc)
    if picture is None:
        return await messages.send(bot, chat_id, reply)

    async def send_photo(photo: str | bytes) -> Message:
        return await messages.send_photo(bot, chat_id, photo, reply)

    try:
        return await media.with_media(services, picture, send_photo, media.photo_id)
    except BadRequest as exc:
        if messages.chat_gone(exc):
            raise
        log.warning("picture %s refused (%s); the cue goes as text", picture.key, exc)
        return await messages.send(bot, chat_id, reply)


async def _confirm(
    bot: ExtBot[Any], services: Services, cue: Cue, chat_id: int, message_id: int
) -> None:
    # A cue counts as delivered only once Telegram returned its message: until then a
    # restart sends it again (at least once). A database that does not answer now leaves
    # it in the service's memory, recorded later and never sent again meanwhile.
    sent = CueSent(cue.step, chat_id, message_id, at=services.clock())
    try:
        recorded = await services.practice.apply(cue.practice_id, sent)
    except StaleAction:
        return  # the practice is gone (forgotten meanwhile)
    await present(bot, services, recorded)


async def show_note(bot: ExtBot[Any], services: Services, chat_id: int, note: PlayerNote) -> None:
    """The chat's one message about a class in the player, drawn as it should now read:
    edited in place, or sent (and recorded) when there is none yet or it is gone.

    A courtesy, not a cue: the class runs in the player whether or not Telegram takes it,
    so a note Telegram does not take is logged and left (the next change of the practice
    draws it again); only a user who blocked the bot is told to the caller (Forbidden)."""
    reply = render_player.note(note, services.settings.webapp_url)
    try:
        if note.at is not None:
            try:
                await messages.edit_text(bot, chat_id, note.at.message_id, reply)
                return
            except messages.MessageGone:
                pass
        if note.kind not in (Note.PLAYING, Note.AWAY):
            return  # nothing to settle: no note stands in the chat
        sent = await messages.send(bot, chat_id, reply)
    except Forbidden:
        raise
    except TelegramError as exc:
        services.incidents.telegram.failed(_reason(exc))
        log.debug("practice %s: its note in the chat was not drawn (%s)", note.practice_id, exc)
        return
    after = await services.practice.note_sent(note.practice_id, sent.message_id)
    if after is not None and after.note is not None:
        # The practice left the player while the note was on its way: it is settled too.
        await show_note(bot, services, chat_id, after.note)


async def _closing(bot: ExtBot[Any], chat_id: int, reply: Reply, at: MessageRef | None) -> None:
    """The closing message; in place of the note of a class that ended in the player."""
    if at is not None:
        try:
            await messages.edit_text(bot, chat_id, at.message_id, reply)
            return
        except (messages.MessageGone, BadRequest):
            pass  # gone, or not a message that can read so: the closing message is sent
    await messages.send(bot, chat_id, reply)
