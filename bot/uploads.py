"""Pose pictures and spoken cues on their way to Telegram: which picture a step shows (and
which audio speaks it), and the file_id of each one already uploaded, so every picture and
every audio is uploaded once per bot and sent by id after. What follows says "picture";
an audio (`Media`) goes the same way.

The pictures themselves are drawn from data (bot.pictures); this module only needs a
`PictureSource` that turns a step into a file on disk, named by its content hash.

**Once per bot, whatever the concurrency.** The first send of a picture uploads it; every
other send of it meanwhile waits for the id Telegram gives back and goes by that id:

- within a process, the sends wait for the one upload in flight (`_Upload`);
- across workers sharing the database, the uploading worker first claims the picture
  (bot/store/uploads.py: a conditional insert or update, so exactly one wins) and holds
  the claim while its upload waits for its turn to be sent; the other workers read the row
  every POLL_SECONDS until it holds the id.

Each way something can go wrong has its behaviour:

- the upload fails (network, a 429 past its retries, Telegram refusing the picture): its
  waiters are told at once (other workers: the claim is released), and one of them takes
  over and uploads; a send that has seen MAX_TURNS uploads fail uploads its own;
- the upload is handed to Telegram but no answer comes within HOLD_SECONDS (a 429 waited
  out, a slow network): its waiters take over, so a picture holds a cue at most that long
  beyond its own turn to be sent;
- the uploading worker dies mid-upload: its claim is renewed no more, lapses within
  HOLD_SECONDS, and the next worker to look takes it over;
- the database does not answer: the picture is uploaded anyway (still once within the
  process); a picture never stops a practice;
- Telegram refuses a known id (it no longer knows it): that id is forgotten, here and in
  the database unless a fresh one replaced it already, and the picture is uploaded again,
  once, the same way.
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import logging
import os
import secrets
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from typing import Protocol, TypeVar

from bot.clock import Clock
from bot.store import Store, StoreUnavailable
from sequences import Step

log = logging.getLogger(__name__)

T = TypeVar("T")

# How long, once an upload is handed to Telegram, its waiters wait for the answer before
# one of them uploads instead; a worker's claim lapses as long after it was last renewed.
HOLD_SECONDS = 5.0
# How often a claim is renewed while its upload waits for its turn to be sent.
RENEW_SECONDS = HOLD_SECONDS / 3
# How often a worker waiting for another worker's upload reads the row (and how often a
# waiter in the process looks at the clock for an upload gone quiet).
POLL_SECONDS = 0.25
# Uploads a send waits for (the first, and one taking over) before it uploads its own.
MAX_TURNS = 2


@dataclass(frozen=True)
class Picture:
    """A rendered pose picture: `key` is its content hash, the same for the same drawing."""

    key: str
    path: Path


class Media(Protocol):
    """What is uploaded once per bot and sent by its file_id after: a picture, or a spoken
    cue with its cover. `key` names its content."""

    @property
    def key(self) -> str: ...

    @property
    def path(self) -> Path: ...


class PictureSource(Protocol):
    def for_step(self, step: Step, *, easier: bool = False) -> Picture | None:
        """The step's picture, or None when it has no figure; `easier`: the picture of its
        easier version (its own picture when it has none of its own)."""


class NoPictures:
    """Text-only cues: for a class without figures, or a process that sends no cues."""

    def for_step(self, step: Step, *, easier: bool = False) -> Picture | None:
        return None


@dataclass(frozen=True)
class Sound:
    """A step's spoken cue, rendered (bot/voice.py): `key` names the audio by what made it,
    `path` is its MP3, `seconds` how long it plays."""

    key: str
    path: Path
    seconds: float


class SoundSource(Protocol):
    def for_step(self, step: Step, *, easier: bool = False) -> Sound | None:
        """The step's spoken cue if it is rendered by now, else None (the cue goes without
        a voice); `easier`: what is said for its easier version."""


class NoSounds:
    """Cues without a voice: no engine, or a process that sends no cues."""

    def for_step(self, step: Step, *, easier: bool = False) -> Sound | None:
        return None


class FileIdRefused(Exception):
    """Telegram refused a file_id it gave before (raised by a send by id)."""


# Sends `data`; told (by calling the second argument) when the upload is handed to
# Telegram; returns what the send returned and the file_id Telegram gave the media.
Upload = Callable[[bytes, Callable[[], None]], Awaitable[tuple[T, str | None]]]


class _Upload:
    """An upload of one picture by this process: its other sends wait for its outcome."""

    def __init__(self) -> None:
        # The name of this upload's claim in the database, once it holds one.
        self.claim: str | None = None
        self.handed_at: datetime | None = None
        self.file_id: str | None = None
        self.done = asyncio.Event()

    def finish(self, file_id: str | None) -> None:
        if not self.done.is_set():
            self.file_id = file_id
            self.done.set()


class UploadService:
    """The ids live in the database; each process also keeps those it has seen, so a cue
    sent by a known id costs no database read. A worker whose kept id another worker found
    refused learns it the same way, by its own refused send."""

    def __init__(
        self,
        store: Store,
        clock: Clock,
        *,
        pause: Callable[[float], Awaitable[None]] = asyncio.sleep,
        worker: str | None = None,
    ) -> None:
        """`pause`: how waiting for another worker's upload waits between looks (a test
        moves its clock instead); `worker`: this process's name in its claims."""
        self._store = store
        self._clock = clock
        self._pause = pause
        self.worker = worker or f"{os.getpid()}-{secrets.token_hex(8)}"
        # Each claim is named apart (worker:n), so that an upload given up on and failing
        # later releases its own claim only, never the one that took over from it.
        self._claims = itertools.count(1)
        self._known: dict[str, str] = {}
        self._uploading: dict[str, _Upload] = {}

    async def file_id(self, media: Media) -> str | None:
        """The id Telegram gave this media, if it was uploaded before."""
        known = self._known.get(media.key)
        if known is not None:
            return known
        async with self._store.peek() as uow:
            stored = await uow.uploads.file_id(media.key)
        if stored is not None:
            self._known[media.key] = stored
        return stored

    async def send(
        self, media: Media, by_id: Callable[[str], Awaitable[T]], upload: Upload[T]
    ) -> T:
        """The picture sent by its id (`by_id`, which raises FileIdRefused for an id
        Telegram refuses), or uploaded (`upload`) by this send if it is this send's turn.
        Whatever `upload` raises is the caller's (after its waiters are told)."""
        refused: set[str] = set()
        while True:
            turn = await self._turn(media, refused)
            if isinstance(turn, _Upload):
                return await self._upload(media, turn, upload)
            try:
                return await by_id(turn)
            except FileIdRefused:
                log.info("picture %s refused by its file_id; uploading it again", media.key)
                refused.add(turn)
                await self._forget(media, turn)
                if len(refused) >= MAX_TURNS:
                    # Every id met is refused: this send uploads the picture itself.
                    return await self._upload(media, _Upload(), upload)

    async def _turn(self, media: Media, refused: set[str]) -> str | _Upload:
        """The id to send the picture by, or this send's upload (registered for the
        process's other sends to wait for, unless it is a send that waited enough)."""
        key = media.key
        turns = 0
        while True:
            known = self._known.get(key)
            if known is not None and known not in refused:
                return known
            waited = self._uploading.get(key)
            if waited is None:
                break
            if turns == MAX_TURNS:
                return _Upload()
            turns += 1
            file_id = await self._outcome(waited)
            if file_id is not None and file_id not in refused:
                return file_id
            # It failed, or went quiet: the first waiter here takes over.
            if self._uploading.get(key) is waited:
                del self._uploading[key]
        mine = _Upload()
        self._uploading[key] = mine
        try:
            found = await self._claim(media, mine, refused)
        except BaseException:
            self._settle(media, mine, None)
            raise
        if found is not None:
            self._settle(media, mine, found)
            return found
        return mine

    async def _outcome(self, upload: _Upload) -> str | None:
        """The id `upload` got; None once it failed, or HOLD_SECONDS after it was handed to
        Telegram without an answer."""
        hold = timedelta(seconds=HOLD_SECONDS)
        while not upload.done.is_set():
            if upload.handed_at is not None and self._clock() >= upload.handed_at + hold:
                log.info("an upload went unanswered for %.0f s; another takes over", HOLD_SECONDS)
                return None
            await _first(upload.done.wait(), self._pause(POLL_SECONDS))
        return upload.file_id

    async def _claim(self, media: Media, mine: _Upload, refused: set[str]) -> str | None:
        """The picture's id if the database has it (or gets it from another worker while
        this send waits), else None once `mine` is this worker's to upload."""
        key, hold = media.key, timedelta(seconds=HOLD_SECONDS)
        try:
            async with self._store.peek() as uow:
                seen = await uow.uploads.look(key)
            while True:
                if seen.file_id is not None:
                    if seen.file_id in refused:
                        return None  # not yet forgotten there: this send uploads anyway
                    return seen.file_id
                now = self._clock()
                if seen.until is None or seen.until <= now:
                    claim = f"{self.worker}:{next(self._claims)}"
                    async with self._store.write() as uow:
                        seen = await uow.uploads.claim(key, claim, now, now + hold)
                    if seen.won:
                        mine.claim = claim
                        return None
                    continue
                # Another worker uploads it: its id, or its claim lapsing, is waited for.
                await self._pause(POLL_SECONDS)
                async with self._store.peek() as uow:
                    seen = await uow.uploads.look(key)
        except StoreUnavailable:
            log.info("picture %s: the database did not answer; uploading it", key)
            return None

    async def _upload(self, media: Media, mine: _Upload, upload: Upload[T]) -> T:
        def handed_over() -> None:
            if mine.handed_at is None:
                mine.handed_at = self._clock()

        claim = mine.claim
        keeper = asyncio.create_task(self._keep_claim(media, mine)) if claim else None
        try:
            sent, file_id = await upload(media.path.read_bytes(), handed_over)
        except Exception:
            if keeper is not None:
                keeper.cancel()
            if claim is not None:
                # Released before the waiters here are told, so that the one taking over
                # can claim it; other workers' next look takes it over at once.
                with contextlib.suppress(StoreUnavailable):
                    async with self._store.write() as uow:
                        await uow.uploads.release(media.key, claim)
            self._settle(media, mine, None)
            raise
        except BaseException:
            # Cancelled (the bot stops): the claim lapses by itself.
            self._settle(media, mine, None)
            raise
        finally:
            if keeper is not None:
                keeper.cancel()
        self._settle(media, mine, file_id)
        if file_id is not None:
            # Telegram has the picture by now: a database that cannot store the id must not
            # cost the message (it would be sent again); another process uploads it once more.
            with contextlib.suppress(StoreUnavailable):
                await self.uploaded(media, file_id)
        return sent

    async def _keep_claim(self, media: Media, mine: _Upload) -> None:
        """Renew this worker's claim while its upload waits for its turn to be sent (a
        queue at Telegram's limit is no reason for another worker to upload too); once
        the upload is handed over, the claim is left to lapse if no answer comes."""
        hold = timedelta(seconds=HOLD_SECONDS)
        assert mine.claim is not None
        while True:
            await self._pause(RENEW_SECONDS)
            if mine.handed_at is not None or mine.done.is_set():
                return
            with contextlib.suppress(StoreUnavailable):
                async with self._store.write() as uow:
                    await uow.uploads.renew(media.key, mine.claim, self._clock() + hold)

    def _settle(self, media: Media, mine: _Upload, file_id: str | None) -> None:
        if file_id is not None:
            self._known[media.key] = file_id
        mine.finish(file_id)
        if self._uploading.get(media.key) is mine:
            del self._uploading[media.key]

    async def uploaded(self, media: Media, file_id: str) -> None:
        # Known to this process at once, even if the database cannot store it just now.
        self._known[media.key] = file_id
        async with self._store.write() as uow:
            await uow.uploads.remember(media.key, file_id, self._clock())

    async def _forget(self, media: Media, file_id: str) -> None:
        """Telegram no longer knows `file_id`: the next send uploads the picture again."""
        if self._known.get(media.key) == file_id:
            del self._known[media.key]
        with contextlib.suppress(StoreUnavailable):
            async with self._store.write() as uow:
                await uow.uploads.forget(media.key, file_id)


async def _first(*waits: Awaitable[object]) -> None:
    """Until the first of `waits` is over; the others are cancelled."""
    tasks = [asyncio.ensure_future(wait) for wait in waits]
    try:
        await asyncio.wait(tasks, return_when=asyncio.FIRST_COMPLETED)
    finally:
        for task in tasks:
            task.cancel()
