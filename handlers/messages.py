"""Sending, editing and retiring messages, with one policy for what Telegram refuses.

- An edit to the same content ("message is not modified", a double tap) is done already.
- An edit of a message that is gone or too old to edit sends the reply afresh instead:
  what the user should see must still reach them. (A cue's redraw sends the cue afresh
  itself, picture and all: handlers/practice.py.)
- Retiring buttons that are already gone is done already; any other failure to retire is
  only logged, as stale buttons are answered "out of date" anyway.
- A button's answer may be refused (a press queued while the bot was down); the change is
  stored by then and its reply still goes out, so that too is only logged.
"""

from __future__ import annotations

import logging
from typing import Any

from telegram import (
    CallbackQuery,
    InlineKeyboardMarkup,
    InputFile,
    InputMediaAudio,
    InputMediaPhoto,
    Message,
)
from telegram.error import BadRequest, Forbidden, NetworkError, RetryAfter, TelegramError, TimedOut
from telegram.ext import ExtBot

from handlers.rate_limit import Priority, sending_as
from handlers.render import Reply
from handlers.transport import NotConnected

log = logging.getLogger(__name__)

_UNCHANGED = "message is not modified"
_GONE = ("message to edit not found", "message can't be edited", "message not found")
# What Telegram says when the chat itself is gone for the bot, for good: nothing sent there
# will ever arrive (a blocked bot is a Forbidden instead).
_CHAT_GONE = ("chat not found", "group chat was deactivated", "peer_id_invalid")


class MessageGone(Exception):
    """The message to edit is gone or too old to edit."""


def harmless(error: TelegramError) -> bool:
    """An edit that changed nothing: the message shows it already (a double tap)."""
    return isinstance(error, BadRequest) and _UNCHANGED in str(error).lower()


def chat_gone(error: TelegramError) -> bool:
    """Telegram refuses the chat for good: blocked, left, deleted or never known."""
    if isinstance(error, Forbidden):
        return True
    return isinstance(error, BadRequest) and any(
        words in str(error).lower() for words in _CHAT_GONE
    )


async def send(
    bot: ExtBot[Any], chat_id: int, reply: Reply, *, paid_broadcast: bool = False
) -> Message:
    """`paid_broadcast`: past the free 30 a second, for a fee (reminders, when the operator
    pays for Telegram's paid broadcasts)."""
    return await bot.send_message(
        chat_id,
        reply.text,
        parse_mode=reply.parse_mode,
        reply_markup=reply.markup,
        allow_paid_broadcast=True if paid_broadcast else None,
    )


async def send_photo(bot: ExtBot[Any], chat_id: int, photo: str | bytes, reply: Reply) -> Message:
    """A photo (a known file_id, or the bytes to upload) with `reply` as its caption."""
    return await bot.send_photo(
        chat_id, photo, caption=reply.text, parse_mode=reply.parse_mode, reply_markup=reply.markup
    )


async def send_audio(
    bot: ExtBot[Any],
    chat_id: int,
    audio: str | bytes,
    reply: Reply,
    *,
    title: str,
    cover: bytes | None = None,
) -> Message:
    """An audio message (a known file_id, or the MP3 to upload, with `cover`, the picture
    Telegram shows as its cover) with `reply` as its caption and buttons."""
    return await bot.send_audio(
        chat_id,
        _audio_file(audio, title),
        caption=reply.text,
        parse_mode=reply.parse_mode,
        reply_markup=reply.markup,
        title=title,
        performer=PERFORMER,
        thumbnail=_cover_file(audio, cover),
    )


# Under the title in Telegram's player.
PERFORMER = "yogabot"


def _audio_file(audio: str | bytes, title: str, *, attach: bool = False) -> str | InputFile:
    # An upload is named, so that a player that shows the file's name shows the pose.
    # `attach`: inside an InputMedia, which names its files as attach://<part>.
    if isinstance(audio, str):
        return audio
    return InputFile(audio, filename=f"{title}.mp3", attach=attach)


def _cover_file(
    audio: str | bytes, cover: bytes | None, *, attach: bool = False
) -> InputFile | None:
    # Only with an upload: an audio sent by its id keeps the cover it was uploaded with.
    if isinstance(audio, str) or cover is None:
        return None
    return InputFile(cover, filename="cover.jpg", attach=attach)


async def edit(
    bot: ExtBot[Any],
    chat_id: int,
    message_id: int,
    reply: Reply,
    *,
    caption: bool = False,
    switched: bool = False,
    afresh: bool = True,
) -> Message | None:
    """Show `reply` in place of the message; the new message if it had to be sent afresh.

    A photo's words are its caption (`caption`: the message is expected to be a photo); a
    message that turns out to be the other kind (a picture that went as text) is edited as
    what it is. Without `afresh`, a message that is gone raises MessageGone instead: the
    caller sends what belongs there itself."""
    try:
        await _edit_words(bot, chat_id, message_id, reply, caption=caption)
    except BadRequest as exc:
        reason = str(exc).lower()
        if _OTHER_KIND[caption] in reason and not switched:
            return await edit(
                bot, chat_id, message_id, reply, caption=not caption, switched=True, afresh=afresh
            )
        if _UNCHANGED in reason:
            return None
        if not any(gone in reason for gone in _GONE):
            raise
        log.info("message %s/%s is gone (%s); sending afresh", chat_id, message_id, exc)
        if not afresh:
            raise MessageGone(str(exc)) from exc
        return await send(bot, chat_id, reply)
    return None


# What Telegram says when the edit was of the wrong kind: text asked of a photo, or a
# caption asked of a text message.
_OTHER_KIND = {
    False: "there is no text in the message to edit",
    True: "there is no caption in the message to edit",
}


async def _edit_words(
    bot: ExtBot[Any], chat_id: int, message_id: int, reply: Reply, *, caption: bool
) -> None:
    # An edit carries inline keyboards only; a reply keyboard belongs to a new message.
    markup = reply.markup if isinstance(reply.markup, InlineKeyboardMarkup) else None
    if caption:
        await bot.edit_message_caption(
            chat_id=chat_id,
            message_id=message_id,
            caption=reply.text,
            parse_mode=reply.parse_mode,
            reply_markup=markup,
        )
    else:
        await bot.edit_message_text(
            reply.text,
            chat_id=chat_id,
            message_id=message_id,
            parse_mode=reply.parse_mode,
            reply_markup=markup,
        )


async def edit_text(bot: ExtBot[Any], chat_id: int, message_id: int, reply: Reply) -> None:
    """`reply` in place of a text message, and only of one: a photo raises BadRequest
    ("there is no text in the message to edit") rather than having its caption changed
    under a picture that may not fit the new words. MessageGone when the message is gone."""
    await edit(bot, chat_id, message_id, reply, switched=True, afresh=False)


async def edit_photo(
    bot: ExtBot[Any], chat_id: int, message_id: int, photo: str | bytes, reply: Reply
) -> Message | bool:
    """`photo` (a known file_id, or the bytes to upload) in place of the message's picture,
    with `reply` as its caption and keyboard: one call, so picture and words change together.
    A message that is gone raises MessageGone (the caller sends what belongs there itself);
    "message is not modified" (a double tap) and any other refusal raise BadRequest."""
    media = InputMediaPhoto(photo, caption=reply.text, parse_mode=reply.parse_mode)
    return await _edit_media(bot, chat_id, message_id, media, reply)


async def edit_audio(
    bot: ExtBot[Any],
    chat_id: int,
    message_id: int,
    audio: str | bytes,
    reply: Reply,
    *,
    title: str,
    cover: bytes | None = None,
) -> Message | bool:
    """`audio` (a known file_id, or the MP3 to upload with its `cover`) in place of the
    message's audio or picture, with `reply` as its caption and keyboard: one call. Raises
    as edit_photo does."""
    media = InputMediaAudio(
        _audio_file(audio, title, attach=True),
        caption=reply.text,
        parse_mode=reply.parse_mode,
        title=title,
        performer=PERFORMER,
        thumbnail=_cover_file(audio, cover, attach=True),
    )
    return await _edit_media(bot, chat_id, message_id, media, reply)


async def _edit_media(
    bot: ExtBot[Any],
    chat_id: int,
    message_id: int,
    media: InputMediaPhoto | InputMediaAudio,
    reply: Reply,
) -> Message | bool:
    markup = reply.markup if isinstance(reply.markup, InlineKeyboardMarkup) else None
    try:
        return await bot.edit_message_media(
            media, chat_id=chat_id, message_id=message_id, reply_markup=markup
        )
    except BadRequest as exc:
        # Not a BadRequest from here on: what carries the file would take it for a
        # refused file_id, forget it and upload the file again for nothing.
        if any(gone in str(exc).lower() for gone in _GONE):
            raise MessageGone(str(exc)) from exc
        raise


async def edit_pressed(bot: ExtBot[Any], query: CallbackQuery, reply: Reply) -> Message | None:
    """Show `reply` in place of the message whose button was pressed."""
    message = query.message
    if message is None:  # too old for Telegram to say which message it was
        return None
    return await edit(bot, message.chat.id, message.message_id, reply)


async def retire(bot: ExtBot[Any], chat_id: int, message_id: int, *, now: bool = False) -> None:
    """Take the buttons off a message: `now`, as part of a reply (the pressed message), or
    else when the bot has headroom, as for a cue the class has left (handlers/rate_limit.py).
    """
    try:
        with sending_as(Priority.LIVE if now else Priority.RETIRE):
            await bot.edit_message_reply_markup(chat_id, message_id, reply_markup=None)
    except BadRequest as exc:
        log.debug("buttons of %s/%s already gone: %s", chat_id, message_id, exc)
    except TelegramError as exc:
        # Not a warning: in an outage every practice that moves on would add one, and the
        # outage is logged once (bot/incidents.py); a stale button is answered anyway.
        log.info("could not retire buttons of %s/%s: %s", chat_id, message_id, exc)


def surely_undelivered(error: TelegramError) -> bool:
    """Whether a failed send surely did not reach the chat: Telegram answered with an error
    (a 429, a 5xx), or no connection was ever made. A timeout or a connection that broke
    after the request left may well have delivered it."""
    if isinstance(error, TimedOut):
        return False
    if isinstance(error, RetryAfter | BadRequest | Forbidden):
        return True
    if isinstance(error, NotConnected):
        return True  # no connection was made: the request never left
    if error.message.startswith("aiohttp."):
        return False  # the connection broke after the request may have left
    return isinstance(error, NetworkError)  # an HTTP error status, e.g. 500 or 502


async def answer(query: CallbackQuery, text: str | None = None) -> None:
    """Stop the button's spinner, with a short note when there is one."""
    try:
        await query.answer(text)
    except TelegramError as exc:
        log.info("could not answer button %r: %s", query.data, exc)
