"""The voice cache's index, and the one process at a time that speaks into it.

bot/voice.py names each text's files by what made them (the text, the engine, its
settings). The bot looks a cue's words up by the words alone, with no engine loaded, in
`index.json` beside the files: words -> {key, engine, mp3, seconds, faults}. Whoever
speaks into the cache (the bot's render process, `yogabot sequences check`, `yogabot voice
render`) writes the index:

- **One at a time.** A speaker holds an exclusive `flock` on `render.lock` in the cache
  for its whole run; another one waits for it, then finds spoken what the first one spoke,
  and speaks only what is still missing. Several workers sharing a cache therefore speak
  each text once, and a worker stopped mid-way leaves the rest to the next one waiting.
- **Never half a file.** The audio is written aside and renamed (bot/voice.py), and so is
  the index, after each text: a reader sees the index before or after a text, never
  between; a process killed mid-text leaves its `.part` files, swept by the next speaker.
- **Checked as it is written.** Every file is decoded again and checked (`verify`); the
  faults of its sound are kept in the index with what they were checked against, and a
  file with any is not played. A file never changes (it is named by what made it), so
  its verdict stands until the checks change, and the file is checked again.

Run as `python -m bot.voice_cache` it is the bot's render process (bot/spoken_cues.py):
the texts come as JSON on its standard input, in the order to speak them.
"""

from __future__ import annotations

import argparse
import contextlib
import fcntl
import json
import logging
import os
import sys
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, replace
from pathlib import Path

from bot.voice import Fault, Spoken, Voice, checks

# Named, not __name__: run with -m, the module is __main__, and its lines must pass as
# the project's own (bot/logs.py).
log = logging.getLogger("bot.voice_cache")

INDEX_FILE = "index.json"
LOCK_FILE = "render.lock"
# The render process gives way to the bot on a busy machine: a cue a few seconds late to
# be spoken is silent once, a tap answered late is felt every time.
NICENESS = 10


@dataclass(frozen=True)
class Text:
    """Words to speak, where they are said (`name`, e.g. "<class>.<step>-easier", for the
    logs and the check) and the most seconds they may last (None: no limit)."""

    words: str
    name: str
    limit: float | None = None


@dataclass(frozen=True)
class Entry:
    """The file of one text in the cache, named relative to it."""

    key: str
    engine: str
    mp3: str
    seconds: float
    faults: tuple[Fault, ...] = ()
    # What the faults were found against (bot.voice.checks()).
    checked: str = ""

    @property
    def playable(self) -> bool:
        return not any(fault.in_the_sound for fault in self.faults)

    def spoken(self, cache_dir: Path) -> Spoken:
        return Spoken(self.key, cache_dir / self.mp3, self.seconds)


def read_index(cache_dir: Path) -> dict[str, Entry]:
    """The index in `cache_dir`, empty if there is none yet. Raises OSError if it cannot
    be read, ValueError if it is not an index."""
    try:
        text = (cache_dir / INDEX_FILE).read_text(encoding="utf-8")
    except FileNotFoundError:
        return {}
    try:
        return {
            words: Entry(
                key=str(item["key"]),
                engine=str(item["engine"]),
                mp3=str(item["mp3"]),
                seconds=float(item["seconds"]),
                faults=tuple(Fault(str(f["kind"]), str(f["detail"])) for f in item["faults"]),
                checked=str(item.get("checked", "")),
            )
            for words, item in json.loads(text)["texts"].items()
        }
    except (KeyError, TypeError, AttributeError) as exc:
        raise ValueError(f"not a voice index: {exc!r}") from None


def write_index(cache_dir: Path, entries: dict[str, Entry]) -> None:
    """The index written aside and renamed over the old one: a reader sees one or the
    other, whole. Only the holder of the lock writes it."""
    texts = {
        words: {
            "key": e.key,
            "engine": e.engine,
            "mp3": e.mp3,
            "seconds": round(e.seconds, 3),
            "faults": [{"kind": f.kind, "detail": f.detail} for f in e.faults],
            "checked": e.checked,
        }
        for words, e in entries.items()
    }
    partial = cache_dir / f"{INDEX_FILE}.{os.getpid()}.part"
    partial.write_text(json.dumps({"texts": texts}, indent=1, ensure_ascii=False) + "\n")
    partial.replace(cache_dir / INDEX_FILE)


@contextlib.contextmanager
def speaking_alone(cache_dir: Path, waiting: Callable[[], None] | None = None) -> Iterator[None]:
    """Hold the cache's lock: until it is free, wait (told through `waiting`, once)."""
    cache_dir.mkdir(parents=True, exist_ok=True)
    with (cache_dir / LOCK_FILE).open("a") as lock:
        try:
            fcntl.flock(lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            if waiting is not None:
                waiting()
            fcntl.flock(lock, fcntl.LOCK_EX)
        # Closing the file releases the lock, and so does the process ending however it ends.
        yield


@dataclass(frozen=True)
class Outcome:
    """One text once `prepare` has seen to it: its files, what is wrong with them (the
    sound's faults, and its length against the text's limit), and whether it was spoken
    now rather than found in the cache."""

    text: Text
    spoken: Spoken
    faults: tuple[Fault, ...]
    rendered: bool


def prepare(voice: Voice, texts: Sequence[Text], cache_dir: Path) -> Iterator[Outcome]:
    """Each text's files in the cache, in order: spoken now where the index has no file of
    `voice` for the words, or its files are gone, then checked and written into the index
    at once. A text found in the cache keeps its verdict, unless the checks changed since
    (then its files are checked again). What speaking raises is raised, the index holding
    every text spoken before it. The caller holds the lock (`speaking_alone`)."""
    _sweep(cache_dir)
    entries = read_index(cache_dir)
    against = checks()
    for text in texts:
        key = voice.key(text.words)
        entry = entries.get(text.words)
        if entry is not None and entry.key == key and _files_there(cache_dir, entry):
            rendered = False
            spoken = entry.spoken(cache_dir)
            faults = entry.faults
            if entry.checked != against:
                faults = _verify(spoken)
                entries[text.words] = replace(entry, faults=faults, checked=against)
                write_index(cache_dir, entries)
        else:
            rendered = True
            spoken = voice.speak(text.words)
            faults = _verify(spoken)
            entries[text.words] = Entry(
                key,
                voice.engine,
                spoken.mp3.name,
                spoken.seconds,
                faults,
                against,
            )
            write_index(cache_dir, entries)
        if text.limit is not None and spoken.seconds > text.limit:
            faults = (*faults, _too_long(spoken, text.limit))
        yield Outcome(text, spoken, faults, rendered)


def _files_there(cache_dir: Path, entry: Entry) -> bool:
    return (cache_dir / entry.mp3).is_file()


def _verify(spoken: Spoken) -> tuple[Fault, ...]:
    from bot.voice import verify

    return tuple(verify(spoken))


def _too_long(spoken: Spoken, limit: float) -> Fault:
    return Fault("length", f"spoken for {spoken.seconds:.1f} s, longer than {limit:g} s")


def _sweep(cache_dir: Path) -> None:
    """Files half written by a speaker that was stopped mid-text (only a lock holder
    writes, so none is being written now)."""
    for partial in cache_dir.glob("*.part"):
        with contextlib.suppress(FileNotFoundError):
            partial.unlink()


# -- the bot's render process -------------------------------------------------------------


def main(argv: list[str] | None = None) -> int:
    """Speak the texts on standard input (a JSON list of {words, name, limit}) that the
    cache lacks, with the engine VOICE_ENGINE chose; 0 when all are in the cache, or no
    engine is installed (cues then go without a voice), 1 when speaking failed."""
    from bot.logs import configure_logging
    from bot.voice import ENGINE_CHOICES, available_engine

    parser = argparse.ArgumentParser(prog="python -m bot.voice_cache")
    parser.add_argument("--engine", choices=ENGINE_CHOICES[:-1], default="auto")
    parser.add_argument("--cache-dir", type=Path, required=True)
    parser.add_argument("--log-level", default="INFO")
    args = parser.parse_args(argv)
    configure_logging(args.log_level)
    texts = [Text(t["words"], t["name"], t.get("limit")) for t in json.load(sys.stdin)]
    os.nice(NICENESS)
    started = time.monotonic()
    rendered = unplayable = 0
    # The lock first, and the engine once it is held: a process waiting for another one
    # has loaded nothing heavy (piper and its model are some 150 MB).
    with contextlib.ExitStack() as held:
        try:
            held.enter_context(speaking_alone(args.cache_dir, waiting=_told_waiting))
        except OSError as exc:
            log.error(
                "spoken cues: the voice cache %s cannot be used (%s)",
                args.cache_dir,
                exc.strerror or type(exc).__name__,
            )
            return 1
        engine = available_engine(args.engine)
        if engine is None:
            return 0
        voice = Voice(engine, args.cache_dir)
        try:
            for outcome in prepare(voice, texts, args.cache_dir):
                if not outcome.rendered:
                    continue
                rendered += 1
                for fault in outcome.faults:
                    log.warning("spoken cues: %s: %s", outcome.text.name, fault.detail)
                if any(fault.in_the_sound for fault in outcome.faults):
                    unplayable += 1
        except Exception:
            log.exception(
                "spoken cues: speaking failed after %d texts; the rest go silent", rendered
            )
            return 1
    log.info(
        "spoken cues: %d of %d texts spoken now by %s in %.0f s%s",
        rendered,
        len(texts),
        voice.engine,
        time.monotonic() - started,
        f", {unplayable} of them not played (their sound failed its check)" if unplayable else "",
    )
    return 0


def _told_waiting() -> None:
    log.info("spoken cues: another process is speaking into the cache; waiting for it")


if __name__ == "__main__":
    sys.exit(main())
