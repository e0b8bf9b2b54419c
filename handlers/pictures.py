"""Sending a pose picture: by its file_id when Telegram has it, else by uploading it once and
remembering the id Telegram gives back (bot.uploads). One path for every call that carries a
picture (a new cue, a picture swapped in place), so a picture is uploaded the same way
whichever call carries it."""

from __future__ import annotations

import contextlib
import logging
from collections.abc import Awaitable, Callable
from typing import TypeVar

from telegram import Message
from telegram.error import BadRequest

from bot.services import Services
from bot.store import StoreUnavailable
from bot.uploads import Picture
from handlers import messages

log = logging.getLogger(__name__)

T = TypeVar("T")


async def with_picture(
    services: Services, picture: Picture, attempt: Callable[[str | bytes], Awaitable[T]]
) -> T:
    """`attempt` (which sends the picture, or edits it in, given its file_id or its bytes)
    with the picture by its file_id if it was uploaded before, else with its
    bytes (and the id Telegram gives back is remembered).

    A refused file_id (Telegram no longer knows it) is forgotten and the picture uploaded
    again. A refused upload raises BadRequest: the caller decides what goes instead (a cue
    goes as text: a picture never stops a practice). Network trouble, and a chat that is
    gone, are the caller's too."""
    known = await services.uploads.file_id(picture)
    if known is not None:
        try:
            return await attempt(known)
        except BadRequest as exc:
            if messages.chat_gone(exc) or messages.harmless(exc):
                raise
            log.info("picture %s refused by its file_id (%s); uploading it again", picture.key, exc)
            await services.uploads.refused(picture)
    sent = await attempt(picture.path.read_bytes())
    file_id = photo_id(sent)
    if file_id is not None:
        # Telegram has the picture by now: a database that cannot store the id must not
        # cost the message (it would be sent again); the next process uploads it once more.
        with contextlib.suppress(StoreUnavailable):
            await services.uploads.uploaded(picture, file_id)
    return sent


def photo_id(sent: object) -> str | None:
    """The largest size's id of a message's photo: Telegram serves the whole picture by it."""
    if isinstance(sent, Message) and sent.photo:
        return sent.photo[-1].file_id
    return None
