"""The words each step speaks, found by step in the voice cache, and the process that
speaks them into it (like bot/pose_pictures.py for the pictures).

Speaking the class takes piper some 45 s and 570 MB (BENCHMARKS.md): the bot never does
it, nor imports what does (NumPy, SciPy, soundfile, piper). At start-up it starts a
`Renderer`, a child process (`python -m bot.voice_cache`) that speaks what the cache
lacks, usual words first, and writes the cache's index after each text; the bot does
not wait for it. `StepSounds` answers each cue from that index: a text not spoken yet
has no sound, and its cue goes without one, as a cue goes without a picture: a voice
never holds a practice up.

Each way it can go wrong has its behaviour:

- VOICE_ENGINE=off: no sounds, no process;
- no engine installed (piper, espeak-ng): no process; what the cache holds already (one
  rendered elsewhere and copied in) is still played, the rest is silent;
- the process cannot start, fails, crashes or is killed: one warning, and the texts it did
  not speak stay silent until the next start; the bot carries on;
- several workers on one cache: their processes speak one at a time (bot/voice_cache.py),
  each text once;
- the bot stops: the process is stopped too (SIGTERM, then SIGKILL after STOP_SECONDS),
  its half-written files swept by the next one;
- the index cannot be read (or is not one): no sounds, one warning per version of it.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import os
import signal
import sys
from collections.abc import Iterable, Mapping
from pathlib import Path

from bot.settings import Settings
from bot.uploads import Sound
from bot.voice_cache import INDEX_FILE, Entry, Text, read_index
from sequences import Step, YogaClass
from sequences.spoken import (
    QUIET_AT_THE_END,
    closing_script,
    easier_script,
    intro_script,
    step_script,
)

log = logging.getLogger(__name__)

# The render process's module (`python -m`).
RENDERER = "bot.voice_cache"
# How long a stopping bot gives the render process to end on SIGTERM before SIGKILL.
STOP_SECONDS = 5.0


class StepSounds:
    """A step's spoken cue, if the voice cache holds it: the index is read again whenever
    it changed (a stat per cue), its MP3 looked for (another)."""

    def __init__(self, cache_dir: Path) -> None:
        self._cache_dir = cache_dir
        # The index as last read, and what its file was then (mtime, size, inode: each
        # write replaces the file, so a new inode at least, even within one mtime tick).
        self._entries: dict[str, Entry] = {}
        self._seen: tuple[int, int, int] | None = None

    def for_step(self, step: Step, *, easier: bool = False) -> Sound | None:
        words = easier_script(step) if easier else step_script(step)
        entry = self._index().get(words)
        if entry is None or not entry.playable:
            return None
        path = self._cache_dir / entry.mp3
        if not path.is_file():
            return None
        return Sound(key=entry.key, path=path, seconds=entry.seconds)

    def _index(self) -> dict[str, Entry]:
        try:
            stat = (self._cache_dir / INDEX_FILE).stat()
        except OSError:
            # None yet (nothing spoken), or no cache at all.
            self._entries, self._seen = {}, None
            return self._entries
        seen = (stat.st_mtime_ns, stat.st_size, stat.st_ino)
        if seen != self._seen:
            self._seen = seen
            try:
                self._entries = read_index(self._cache_dir)
            except (OSError, ValueError) as exc:
                log.warning("spoken cues: the voice index cannot be read (%s); cues go silent", exc)
                self._entries = {}
        return self._entries


def spoken_texts(classes: Iterable[YogaClass]) -> list[Text]:
    """Every text the classes speak, each once, in the order to speak them: every step's
    usual words, class by class and step by step, so a practice's first cues are ready in
    seconds; then the easier words, which fewer cues say; then each class's intro and
    closing, which no step's hold limits."""
    classes = list(classes)
    steps = [(yoga_class.id, step) for yoga_class in classes for step in yoga_class.steps]
    texts: dict[str, Text] = {}
    for easier in (False, True):
        for class_id, step in steps:
            words = easier_script(step) if easier else step_script(step)
            text = Text(
                words,
                f"{class_id}.{step.id}{'-easier' * easier}",
                step.hold_seconds - QUIET_AT_THE_END,
            )
            seen = texts.get(words)
            # The same words for a shorter hold elsewhere: they must fit that one too.
            if seen is None or (seen.limit or 0) > (text.limit or 0):
                texts[words] = text
    for yoga_class in classes:
        for part, words in (
            ("intro", intro_script(yoga_class)),
            ("closing", closing_script()),
        ):
            texts.setdefault(words, Text(words, f"{yoga_class.id}.{part}"))
    return list(texts.values())


class Renderer:
    """The render process: started once, followed until it ends, stopped with the bot."""

    def __init__(self, process: asyncio.subprocess.Process, payload: bytes) -> None:
        self._process = process
        self._stopping = False
        self._following = asyncio.create_task(self._follow(payload), name="voice-renderer")

    @classmethod
    async def start(
        cls, texts: list[Text], engine: str, cache_dir: Path, log_level: str = "INFO"
    ) -> Renderer | None:
        """The process speaking `texts` into `cache_dir` with `engine` (a VOICE_ENGINE), or
        None if it could not be started (a warning says why)."""
        payload = json.dumps(
            [{"words": t.words, "name": t.name, "limit": t.limit} for t in texts]
        ).encode()
        try:
            process = await asyncio.create_subprocess_exec(
                sys.executable,
                "-m",
                RENDERER,
                *("--engine", engine),
                # Relative to the working directory, which the process shares.
                *("--cache-dir", str(cache_dir)),
                *("--log-level", log_level),
                stdin=asyncio.subprocess.PIPE,
                stdout=asyncio.subprocess.DEVNULL,
                env=_without_settings(os.environ),
            )
        except OSError as exc:
            log.warning(
                "spoken cues: the render process did not start (%s); cues not spoken yet go silent",
                exc.strerror or type(exc).__name__,
            )
            return None
        log.info(
            "spoken cues: speaking %d texts into %s (process %d)",
            len(texts),
            cache_dir,
            process.pid,
        )
        return cls(process, payload)

    @property
    def pid(self) -> int:
        return self._process.pid

    @property
    def returncode(self) -> int | None:
        return self._process.returncode

    async def wait(self) -> int:
        """Until the process has ended (and its end is logged if it failed): its status."""
        await asyncio.shield(self._following)
        return self._process.returncode if self._process.returncode is not None else 0

    async def _follow(self, payload: bytes) -> None:
        process = self._process
        assert process.stdin is not None
        try:
            process.stdin.write(payload)
            await process.stdin.drain()
            process.stdin.close()
            await process.stdin.wait_closed()
        except (BrokenPipeError, ConnectionResetError):
            pass  # it ended at once: its exit status says how
        code = await process.wait()
        if code != 0 and not self._stopping:
            log.warning(
                "spoken cues: the render process %s; cues not spoken yet go silent until"
                " the next start",
                _ended(code),
            )

    async def stop(self) -> None:
        """End the process if it still runs (SIGTERM, SIGKILL after STOP_SECONDS), and wait
        for it."""
        self._stopping = True
        process = self._process
        if process.returncode is None:
            with contextlib.suppress(ProcessLookupError):
                process.terminate()
            try:
                await asyncio.wait_for(asyncio.shield(self._following), STOP_SECONDS)
            except TimeoutError:
                with contextlib.suppress(ProcessLookupError):
                    process.kill()
        with contextlib.suppress(asyncio.CancelledError):
            await self._following


def _ended(code: int) -> str:
    if code < 0:
        try:
            return f"was killed ({signal.Signals(-code).name})"
        except ValueError:
            return f"was killed (signal {-code})"
    return f"failed (exit status {code})"


def _without_settings(environment: Mapping[str, str]) -> dict[str, str]:
    """The bot's environment less its settings: the process needs none of them, and the
    token, the webhook's secret and the database's password stay in the bot."""
    names = {name.upper() for name in Settings.model_fields}
    return {k: v for k, v in environment.items() if k.upper() not in names}
