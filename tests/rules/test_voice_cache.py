"""The voice cache's index and the cues found in it: each text spoken once, by one process
at a time, written into the index as it goes; a cue finds its words there by step, or
goes without a voice."""

from __future__ import annotations

import json
import logging
import threading
from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest
from numpy.typing import NDArray

from bot import spoken_cues, voice_cache
from bot.spoken_cues import StepSounds, spoken_texts
from bot.voice import Fault, Spoken, Voice
from bot.voice_cache import (
    INDEX_FILE,
    Text,
    prepare,
    read_index,
    speaking_alone,
    write_index,
)
from sequences.spoken import QUIET_AT_THE_END, easier_script, step_script
from tests.harness.factories import make_class
from tests.rules.test_voice import ToneEngine

TINY = make_class()
# Its second step says what TINY's does (the same pose, cues and breaths), for longer.
OTHER = make_class("other-class", holds=(40, 90))


def spoken_into(cache: Path, texts: list[Text], engine: ToneEngine | None = None) -> ToneEngine:
    engine = engine or ToneEngine()
    with speaking_alone(cache):
        list(prepare(Voice(engine, cache), texts, cache))
    return engine


def test_every_usual_text_comes_before_any_easier_one_each_once_limited_by_its_hold() -> None:
    texts = spoken_texts([OTHER, TINY])
    assert [t.name for t in texts] == [
        "other-class.pose-1",
        # Said by TINY's pose 2 too, whose shorter hold limits it.
        "tiny-class.pose-2",
        "tiny-class.pose-1",
        "tiny-class.pose-3",
        "other-class.pose-1-easier",
        "tiny-class.pose-2-easier",
        "tiny-class.pose-1-easier",
        "tiny-class.pose-3-easier",
        # Then what no hold limits: both classes (one title, one teacher) open and close
        # with the same words, each said once.
        "other-class.intro",
        "other-class.closing",
    ]
    holds = [40, 60, 60, 60, 40, 60, 60, 60]
    assert [t.limit for t in texts] == [hold - QUIET_AT_THE_END for hold in holds] + [None] * 2
    assert texts[2].words == step_script(TINY.steps[0])
    assert texts[6].words == easier_script(TINY.steps[0])
    assert step_script(OTHER.steps[1]) == step_script(TINY.steps[1])


def test_a_step_has_no_sound_until_its_words_are_spoken_then_its_own(tmp_path: Path) -> None:
    sounds = StepSounds(tmp_path)
    step = TINY.steps[1]
    assert sounds.for_step(step) is None
    assert sounds.for_step(step, easier=True) is None
    spoken_into(tmp_path, spoken_texts([TINY])[:3])
    # The same StepSounds sees what was spoken since: the index changed.
    usual = sounds.for_step(step)
    assert usual is not None and usual.path.suffix == ".mp3" and usual.path.exists()
    # Only the usual words so far: the easier ones come after every usual one.
    assert sounds.for_step(step, easier=True) is None
    spoken_into(tmp_path, spoken_texts([TINY]))
    easier = sounds.for_step(step, easier=True)
    assert easier is not None and easier.key != usual.key
    entry = read_index(tmp_path)[easier_script(step)]
    assert (easier.key, easier.path.name, easier.seconds) == (entry.key, entry.mp3, entry.seconds)


def test_a_text_whose_file_is_gone_has_no_sound_and_is_spoken_again(tmp_path: Path) -> None:
    texts = spoken_texts([TINY])[:2]
    spoken_into(tmp_path, texts)
    sounds = StepSounds(tmp_path)
    found = sounds.for_step(TINY.steps[0])
    assert found is not None
    found.path.unlink()
    assert sounds.for_step(TINY.steps[0]) is None
    assert sounds.for_step(TINY.steps[1]) is not None
    engine = spoken_into(tmp_path, texts)
    # Only the text whose file went is spoken again.
    assert "Inhale, lengthen into pose 1." in engine.spoken
    assert not [s for s in engine.spoken if "pose 2" in s]
    assert sounds.for_step(TINY.steps[0]) is not None


def test_each_text_is_spoken_once_and_written_into_the_index_as_it_goes(tmp_path: Path) -> None:
    texts = spoken_texts([TINY])
    first = spoken_into(tmp_path, texts)
    assert first.spoken
    assert spoken_into(tmp_path, texts).spoken == []

    class Failing(ToneEngine):
        name = "failing tone"

        def speak(self, sentence: str) -> NDArray[np.float32]:
            if "pose 2" in sentence:
                raise RuntimeError("the engine broke")
            return super().speak(sentence)

    other = tmp_path / "other"
    with pytest.raises(RuntimeError), speaking_alone(other):
        for _ in prepare(Voice(Failing(), other), texts, other):
            pass
    # The text spoken before the failure is in the index, and playable already.
    assert list(read_index(other)) == [texts[0].words]
    assert StepSounds(other).for_step(TINY.steps[0]) is not None


def test_the_index_is_read_again_only_when_it_changed(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    spoken_into(tmp_path, spoken_texts([TINY])[:1])
    reads: list[Path] = []
    real = read_index

    def counted(cache_dir: Path) -> dict[str, voice_cache.Entry]:
        reads.append(cache_dir)
        return real(cache_dir)

    monkeypatch.setattr(spoken_cues, "read_index", counted)
    sounds = StepSounds(tmp_path)
    for _ in range(20):
        assert sounds.for_step(TINY.steps[0]) is not None
    assert len(reads) == 1
    # Rewritten (even at once, within the same mtime tick): read again.
    write_index(tmp_path, read_index(tmp_path))
    sounds.for_step(TINY.steps[0])
    assert len(reads) == 2


def test_a_file_whose_sound_failed_its_check_is_not_played(tmp_path: Path) -> None:
    spoken_into(tmp_path, spoken_texts([TINY])[:2])
    entries = read_index(tmp_path)
    words = step_script(TINY.steps[0])
    entries[words] = replace(entries[words], faults=(Fault("peak", "the MP3 peaks at 0.1 dBFS"),))
    write_index(tmp_path, entries)
    sounds = StepSounds(tmp_path)
    assert sounds.for_step(TINY.steps[0]) is None
    # Words too long for the hold are still played: a voice running into the quiet is
    # better than none (the check fails the class on it).
    entries[words] = replace(entries[words], faults=(Fault("length", "72 s"),))
    write_index(tmp_path, entries)
    assert sounds.for_step(TINY.steps[0]) is not None


def test_an_unreadable_index_or_cache_means_silent_cues_and_one_warning(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    (tmp_path / INDEX_FILE).write_text(json.dumps({"texts": {"words": {"key": 1}}}))
    sounds = StepSounds(tmp_path)
    with caplog.at_level(logging.WARNING, logger="bot.spoken_cues"):
        for _ in range(3):
            assert sounds.for_step(TINY.steps[0]) is None
    assert len(caplog.records) == 1
    assert "cannot be read" in caplog.records[0].getMessage()
    (tmp_path / INDEX_FILE).write_text("{ not json")
    assert sounds.for_step(TINY.steps[0]) is None
    # A cache folder that is a file: no cache at all.
    a_file = tmp_path / "a-file"
    a_file.write_text("")
    assert StepSounds(a_file).for_step(TINY.steps[0]) is None


def test_a_second_speaker_waits_for_the_first_and_is_told_so(tmp_path: Path) -> None:
    holding, release = threading.Event(), threading.Event()
    waited, entered = threading.Event(), threading.Event()

    def first() -> None:
        with speaking_alone(tmp_path):
            holding.set()
            release.wait(timeout=10)

    def second() -> None:
        with speaking_alone(tmp_path, waiting=waited.set):
            entered.set()

    one = threading.Thread(target=first)
    one.start()
    assert holding.wait(timeout=10)
    two = threading.Thread(target=second)
    two.start()
    assert waited.wait(timeout=10)
    assert not entered.wait(timeout=0.2)  # still held by the first
    release.set()
    assert entered.wait(timeout=10)
    one.join(timeout=10)
    two.join(timeout=10)


def test_half_written_files_of_a_stopped_speaker_are_swept(tmp_path: Path) -> None:
    (tmp_path / "abc.mp3.4242.part").write_bytes(b"half")
    (tmp_path / f"{INDEX_FILE}.4242.part").write_text("{")
    spoken_into(tmp_path, spoken_texts([TINY])[:1])
    assert not list(tmp_path.glob("*.part"))


def test_a_cached_files_verdict_stands_until_the_checks_change(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    texts = spoken_texts([TINY])[:2]
    spoken_into(tmp_path, texts)
    checked: list[str] = []
    real = voice_cache._verify

    def counted(spoken: Spoken) -> tuple[Fault, ...]:
        checked.append(spoken.key)
        return real(spoken)

    monkeypatch.setattr(voice_cache, "_verify", counted)
    spoken_into(tmp_path, texts)
    assert checked == []
    # Checked against other checks (a version before): checked again, once.
    entries = read_index(tmp_path)
    entries[texts[1].words] = replace(entries[texts[1].words], checked="an older check")
    write_index(tmp_path, entries)
    spoken_into(tmp_path, texts)
    spoken_into(tmp_path, texts)
    assert checked == [entries[texts[1].words].key]
