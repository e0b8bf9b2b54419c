"""Sending a pose picture or a spoken cue: by its file_id when Telegram has it, else by
uploading it once and remembering the id Telegram gives back (bot.uploads: once per bot,
however many sends of it start together, in however many workers). One path for every call
that carries a file (a new cue, a picture or an audio swapped in place), so a file is
uploaded the same way whichever call carries it.

A spoken cue goes as an audio message with the pose picture as its cover. Telegram takes a
cover only with the upload (never by file_id), and an audio sent by its id keeps the cover
it was uploaded with: so the audio and its cover are uploaded together, once, as one
`SpokenCue` named by both."""

from __future__ import annotations

import asyncio
import hashlib
import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TypeVar

from telegram import Message
from telegram.error import BadRequest

from bot.pictures import cover
from bot.services import Services
from bot.uploads import FileIdRefused, Media, Picture, Sound
from handlers import messages
from handlers.rate_limit import in_line_since, when_handed_over

log = logging.getLogger(__name__)

T = TypeVar("T")


@dataclass(frozen=True)
class SpokenCue:
    """An audio and the picture that is its cover, uploaded together: `key` names both."""

    key: str
    path: Path
    sound: Sound
    picture: Picture | None

    @classmethod
    def of(cls, sound: Sound, picture: Picture | None) -> SpokenCue:
        if picture is None:
            return cls(sound.key, sound.path, sound, None)
        both = hashlib.sha256(f"{sound.key}|{picture.key}".encode()).hexdigest()
        return cls(both, sound.path, sound, picture)

    def cover(self) -> bytes | None:
        """The picture as Telegram takes an audio's cover (a small JPEG), if it has one."""
        return None if self.picture is None else cover(self.picture.path)


async def with_media(
    services: Services,
    media: Media,
    attempt: Callable[[str | bytes], Awaitable[T]],
    file_id: Callable[[object], str | None],
) -> T:
    """`attempt` (which sends the file, or edits it in, given its file_id or its bytes)
    with the file by its id if it was uploaded before, else with its bytes, by this call
    or, if another is uploading it now, by the id that one gets back; `file_id` finds the
    id in what an upload returned.

    A refused file_id (Telegram no longer knows it) is forgotten and the file uploaded
    again. A refused upload raises BadRequest: the caller decides what goes instead (a cue
    goes as a photo or text: a file never stops a practice). Network trouble, and a chat
    that is gone, are the caller's too. A database that does not answer costs only an
    upload."""

    async def by_id(known: str) -> T:
        try:
            return await attempt(known)
        except BadRequest as exc:
            if messages.chat_gone(exc) or messages.harmless(exc):
                raise
            log.info("file %s: file_id refused (%s)", media.key, exc)
            raise FileIdRefused from exc

    async def upload(data: bytes, handed_over: Callable[[], None]) -> tuple[T, str | None]:
        with when_handed_over(handed_over):
            sent = await attempt(data)
        return sent, file_id(sent)

    # A send that waits for another's upload keeps its place in the rate limiter's queue.
    with in_line_since(asyncio.get_running_loop().time()):
        return await services.uploads.send(media, by_id, upload)


def photo_id(sent: object) -> str | None:
    """The largest size's id of a message's photo: Telegram serves the whole picture by it."""
    if isinstance(sent, Message) and sent.photo:
        return sent.photo[-1].file_id
    return None


def audio_id(sent: object) -> str | None:
    if isinstance(sent, Message) and sent.audio:
        return sent.audio.file_id
    return None
