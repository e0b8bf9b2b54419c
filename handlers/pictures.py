"""Sending a pose picture: by its file_id when Telegram has it, else by uploading it once and
remembering the id Telegram gives back (bot.uploads: once per bot, however many sends of it
start together, in however many workers). One path for every call that carries a picture
(a new cue, a picture swapped in place), so a picture is uploaded the same way whichever
call carries it."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from typing import TypeVar

from telegram import Message
from telegram.error import BadRequest

from bot.services import Services
from bot.uploads import FileIdRefused, Picture
from handlers import messages
from handlers.rate_limit import in_line_since, when_handed_over

log = logging.getLogger(__name__)

T = TypeVar("T")


async def with_picture(
    services: Services, picture: Picture, attempt: Callable[[str | bytes], Awaitable[T]]
) -> T:
    """`attempt` (which sends the picture, or edits it in, given its file_id or its bytes)
    with the picture by its file_id if it was uploaded before, else with its bytes, by
    this call or, if another is uploading it now, by the id that one gets back.

    A refused file_id (Telegram no longer knows it) is forgotten and the picture uploaded
    again. A refused upload raises BadRequest: the caller decides what goes instead (a cue
    goes as text: a picture never stops a practice). Network trouble, and a chat that is
    gone, are the caller's too. A database that does not answer costs only an upload."""

    async def by_id(file_id: str) -> T:
        try:
            return await attempt(file_id)
        except BadRequest as exc:
            if messages.chat_gone(exc) or messages.harmless(exc):
                raise
            log.info("picture %s: file_id refused (%s)", picture.key, exc)
            raise FileIdRefused from exc

    async def upload(data: bytes, handed_over: Callable[[], None]) -> tuple[T, str | None]:
        with when_handed_over(handed_over):
            sent = await attempt(data)
        return sent, photo_id(sent)

    # A send that waits for another's upload keeps its place in the rate limiter's queue.
    with in_line_since(asyncio.get_running_loop().time()):
        return await services.uploads.send(picture, by_id, upload)


def photo_id(sent: object) -> str | None:
    """The largest size's id of a message's photo: Telegram serves the whole picture by it."""
    if isinstance(sent, Message) and sent.photo:
        return sent.photo[-1].file_id
    return None
