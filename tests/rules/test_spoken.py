"""What is spoken for a step: its name, its cues, its hold, each a sentence."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from numpy.typing import NDArray

from bot.spoken_cues import spoken_texts
from cli.main import main
from sequences import SEQUENCES_DIR, load_class
from sequences.spoken import (
    QUIET_AT_THE_END,
    closing_script,
    easier_script,
    intro_script,
    step_script,
)
from tests.rules.test_voice import ToneEngine

SEED = load_class(SEQUENCES_DIR / "back-strengthening-part-1.yaml")


def test_a_step_is_spoken_name_and_side_first_then_cues_then_the_hold() -> None:
    step = next(s for s in SEED.steps if s.id == "half-splits-right")
    words = step_script(step)
    assert words.startswith("Half Splits, right leg. Exhale, draw your lower belly in")
    for cue in step.cues:
        assert cue in words
    assert words.endswith("Stay for about five breaths.")


@pytest.mark.parametrize(
    ("hold", "said"),
    [(20, "a few breaths"), (45, "about five breaths"), (120, "keep breathing slowly")],
)
def test_the_hold_is_said_in_breaths(hold: int, said: str) -> None:
    step = SEED.steps[0].model_copy(update={"hold_seconds": hold, "spoken": None})
    assert said in step_script(step)


def test_a_steps_own_words_replace_the_derived_ones() -> None:
    step = next(s for s in SEED.steps if s.id == "down-dog-blocks")
    assert step.spoken is not None and step_script(step) == step.spoken


def test_every_cue_line_ends_as_a_sentence_so_the_voice_breathes_after_it() -> None:
    step = SEED.steps[0].model_copy(update={"cues": ["Sink back", "Breathe in"], "spoken": None})
    assert "Sink back. Breathe in." in step_script(step)
    easier = step.model_copy(update={"easier": "Rest on your forearms"})
    assert "An easier way. Rest on your forearms. Stay" in easier_script(easier)


def test_the_easier_version_is_a_cue_of_its_own_name_and_side_first_then_the_hold() -> None:
    # Said in place of the usual words when the cue shows the easier version (chosen, or
    # from the start), with the hold starting afresh.
    step = next(s for s in SEED.steps if s.id == "half-splits-right")
    assert easier_script(step) == (
        "Half Splits, right leg. An easier way. Keep a bend in your front knee and use the"
        " blocks at their tallest height. Stay for about five breaths."
    )
    # A step with its own `spoken:` words still has its easier cue derived.
    down_dog = next(s for s in SEED.steps if s.id == "down-dog-blocks")
    assert easier_script(down_dog).startswith(f"{down_dog.pose}. An easier way. ")


def test_the_class_speaks_each_step_both_ways_limited_by_its_hold_then_intro_and_closing() -> None:
    texts = spoken_texts([SEED])
    limits = {text.name.removeprefix(f"{SEED.id}."): text.limit for text in texts}
    assert len(texts) == 2 * len(SEED.steps) + 2
    for step in SEED.steps:
        assert limits[step.id] == step.hold_seconds - QUIET_AT_THE_END
        assert limits[f"{step.id}-easier"] == step.hold_seconds - QUIET_AT_THE_END
    # Said before the first pose and as the class ends: no hold limits them.
    assert [t.name for t in texts[-2:]] == [f"{SEED.id}.intro", f"{SEED.id}.closing"]
    assert limits["intro"] is None and limits["closing"] is None
    assert texts[-2].words == intro_script(SEED)
    assert SEED.teacher in texts[-2].words
    assert texts[-1].words == closing_script()


def test_voice_render_fails_on_a_step_spoken_longer_than_its_hold(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("VOICE_ENGINE", "auto")
    monkeypatch.setattr("bot.voice.available_engine", lambda choice: ToneEngine())
    # The seed's first step and its shortest hold, so the test speaks four texts.
    short = next(s for s in SEED.steps if s.id == "down-dog-blocks")
    two_steps = SEED.model_copy(update={"steps": [SEED.steps[0], short]})
    monkeypatch.setattr("sequences.load_catalog", lambda: {two_steps.id: two_steps})
    # 0.3 s a word: the seed's steps fit their holds ...
    assert main(["voice", "render", str(tmp_path / "out")]) == 0
    assert (tmp_path / "out" / "back-strengthening-part-1.childs-pose.mp3").exists()
    assert (tmp_path / "out" / "back-strengthening-part-1.childs-pose-easier.mp3").exists()
    assert (tmp_path / "out" / "back-strengthening-part-1.intro.mp3").exists()
    assert (tmp_path / "out" / "back-strengthening-part-1.closing.mp3").exists()
    # ... and a slower voice does not.
    monkeypatch.setattr("bot.voice.available_engine", lambda choice: SlowTone())
    assert main(["voice", "render", str(tmp_path / "slow")]) == 1
    assert "step down-dog-blocks: spoken for" in capsys.readouterr().err


class SlowTone(ToneEngine):
    """Three times as slow: 0.9 s a word."""

    name = "slow tone"

    def speak(self, sentence: str) -> NDArray[np.float32]:
        once = super().speak(sentence)
        return np.concatenate([once, once, once])
