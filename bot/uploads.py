"""Pose pictures on their way to Telegram: which picture a step shows, and the file_id of
each one already uploaded, so every picture is uploaded once per bot and sent by id after.

The pictures themselves are drawn from data (bot.pictures); this module only needs a
`PictureSource` that turns a step into a file on disk, named by its content hash.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

from bot.clock import Clock
from bot.store import Store
from sequences import Step


@dataclass(frozen=True)
class Picture:
    """A rendered pose picture: `key` is its content hash, the same for the same drawing."""

    key: str
    path: Path


class PictureSource(Protocol):
    def for_step(self, step: Step, *, easier: bool = False) -> Picture | None:
        """The step's picture, or None when it has no figure; `easier`: the picture of its
        easier version (its own picture when it has none of its own)."""


class NoPictures:
    """Text-only cues: for a class without figures, or a process that sends no cues."""

    def for_step(self, step: Step, *, easier: bool = False) -> Picture | None:
        return None


class UploadService:
    """The ids live in the database; each process also keeps those it has seen, so a cue
    sent by a known id costs no database read. A worker whose kept id another worker found
    refused learns it the same way, by its own refused send."""

    def __init__(self, store: Store, clock: Clock) -> None:
        self._store = store
        self._clock = clock
        self._known: dict[str, str] = {}

    async def file_id(self, picture: Picture) -> str | None:
        """The id Telegram gave this picture, if it was uploaded before."""
        known = self._known.get(picture.key)
        if known is not None:
            return known
        async with self._store.peek() as uow:
            stored = await uow.uploads.file_id(picture.key)
        if stored is not None:
            self._known[picture.key] = stored
        return stored

    async def uploaded(self, picture: Picture, file_id: str) -> None:
        # Known to this process at once, even if the database cannot store it just now.
        self._known[picture.key] = file_id
        async with self._store.write() as uow:
            await uow.uploads.remember(picture.key, file_id, self._clock())

    async def refused(self, picture: Picture) -> None:
        """Telegram no longer knows the id: the next send uploads the picture again."""
        self._known.pop(picture.key, None)
        async with self._store.write() as uow:
            await uow.uploads.forget(picture.key)
