"""`yogabot sequences check` speaks every step (through the voice cache) and fails on words
too long for their hold, or on a file whose sound fails its checks; a stand-in voice
(0.3 s a word) keeps it fast."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import yaml
from numpy.typing import NDArray

from bot import voice
from bot.spoken_cues import StepSounds
from cli.main import main
from tests.harness.factories import make_class
from tests.rules.test_voice import ToneEngine

# 40 words: 12 s at 0.3 s a word, longer than a 20 s hold allows (20 s less 10 s of quiet).
LONG_WORDS = " ".join(["Breathe slowly and let the shoulders soften."] * 5)


@pytest.fixture
def tone(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> ToneEngine:
    """The stand-in voice, as VOICE_ENGINE=auto finds it, speaking into tmp_path/voice."""
    engine = ToneEngine()
    monkeypatch.setenv("VOICE_ENGINE", "auto")
    monkeypatch.setenv("VOICE_CACHE_DIR", str(tmp_path / "voice"))
    monkeypatch.setattr("bot.voice.available_engine", lambda choice: engine)
    return engine


def class_folder(tmp_path: Path, spoken: str | None = None) -> Path:
    """A two-step class (holds 100 s and 20 s) in a folder of its own; `spoken`: the second
    step's words."""
    yoga_class = make_class(holds=(100, 20))
    if spoken is not None:
        second = yoga_class.steps[1].model_copy(update={"spoken": spoken})
        yoga_class = yoga_class.model_copy(update={"steps": [yoga_class.steps[0], second]})
    folder = tmp_path / "classes"
    folder.mkdir(exist_ok=True)
    data = yoga_class.model_dump(mode="json", exclude_none=True, exclude_defaults=True)
    (folder / f"{yoga_class.id}.yaml").write_text(yaml.safe_dump(data))
    return folder


def test_words_too_long_for_their_hold_fail_the_check_naming_the_step_and_both_lengths(
    tmp_path: Path, tone: ToneEngine, capsys: pytest.CaptureFixture[str]
) -> None:
    folder = class_folder(tmp_path, spoken=LONG_WORDS)
    assert main(["sequences", "check", "--dir", str(folder)]) == 1
    out, err = capsys.readouterr()
    [line] = err.splitlines()
    assert line.startswith("tiny-class: step pose-2: spoken for 1")
    assert line.endswith(" s, longer than its hold allows (10 s: the hold less 10 s of quiet)")
    assert "ok  voice" not in out
    # The class files alone pass.
    assert main(["sequences", "check", "--dir", str(folder), "--no-voice"]) == 0


def test_a_class_that_fits_passes_and_its_words_are_in_the_cache_for_the_bot(
    tmp_path: Path, tone: ToneEngine, capsys: pytest.CaptureFixture[str]
) -> None:
    folder = class_folder(tmp_path)
    assert main(["sequences", "check", "--dir", str(folder)]) == 0
    out, err = capsys.readouterr()
    assert err == ""
    assert "ok  voice: 6 texts by tone (6 spoken now)" in out
    # What the check spoke, the bot finds by step.
    steps = make_class(holds=(100, 20)).steps
    sounds = StepSounds(tmp_path / "voice")
    assert all(sounds.for_step(s) and sounds.for_step(s, easier=True) for s in steps)
    # Checked again, from the cache: nothing spoken twice.
    spoken = list(tone.spoken)
    assert main(["sequences", "check", "--dir", str(folder)]) == 0
    assert tone.spoken == spoken
    assert "ok  voice: 6 texts by tone (0 spoken now)" in capsys.readouterr().out


def test_a_file_failing_its_loudness_check_fails_the_check(
    tmp_path: Path,
    tone: ToneEngine,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    real = voice.render

    def quiet(engine: voice.Engine, text: str) -> NDArray[np.float32]:
        # 12 dB under the loudness every file is brought to.
        return (real(engine, text) / 4).astype(np.float32)

    monkeypatch.setattr(voice, "render", quiet)
    assert main(["sequences", "check", "--dir", str(class_folder(tmp_path))]) == 1
    lines = capsys.readouterr().err.splitlines()
    assert len(lines) == 6  # each of 6 texts: 2 steps both ways, the intro, the closing
    assert lines[0].startswith("tiny-class: step pose-1: the MP3 at -28.")
    assert lines[0].endswith(" LUFS, not within 1 LU of -16")
    # Not played by the bot either.
    assert StepSounds(tmp_path / "voice").for_step(make_class(holds=(100, 20)).steps[0]) is None


def test_with_voice_off_or_no_voice_nothing_is_spoken(
    tmp_path: Path,
    tone: ToneEngine,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    folder = class_folder(tmp_path, spoken=LONG_WORDS)
    assert main(["sequences", "check", "--dir", str(folder), "--no-voice"]) == 0
    monkeypatch.setenv("VOICE_ENGINE", "off")
    assert main(["sequences", "check", "--dir", str(folder)]) == 0
    assert "voice: not checked (VOICE_ENGINE=off)" in capsys.readouterr().out
    assert tone.spoken == []
    assert not (tmp_path / "voice").exists()


def test_an_engine_asked_for_and_missing_fails_the_check(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("VOICE_ENGINE", "espeak-ng")
    monkeypatch.setattr("shutil.which", lambda program: None)
    assert main(["sequences", "check", "--dir", str(class_folder(tmp_path))]) == 1
    assert "no speech engine for VOICE_ENGINE=espeak-ng" in capsys.readouterr().err
