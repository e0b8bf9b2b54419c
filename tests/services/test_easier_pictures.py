"""Which picture a cue shows, in the practice service alone: the easier version's own
picture whenever the cue shows the easier version, whatever the reason, and a redraw that
says when a press changed the picture. No Telegram; time is moved by hand."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from bot.clock import ManualClock
from bot.models import EasierMode, EasierReason, Pictures
from bot.practice.machine import Action
from bot.practice.service import PracticeOutcome, PracticeService, StaleAction
from bot.store import Store
from bot.uploads import Picture
from bot.user_settings import Setting, UserSettingsService
from sequences import Step, YogaClass
from tests.harness.factories import make_class
from tests.harness.fakes import FakeTimers
from tests.harness.presses import delivered, press

USER, CHAT = 42, 42


def figured_class() -> YogaClass:
    """Pose 1 and pose 3 have an easier figure of their own; pose 2 has only its figure."""
    tiny = make_class()
    figures: dict[str, dict[str, Any]] = {
        "pose-1": {"figure": "lunge", "easier_figure": "lunge-knee-down", "mirrored": True},
        "pose-2": {"figure": "sphinx"},
        "pose-3": {"figure": "twist", "easier_figure": "twist-seated"},
    }
    steps = [step.model_copy(update=figures[step.id]) for step in tiny.steps]
    return tiny.model_copy(update={"steps": steps})


class FigureIds:
    """A picture named by the figure it would draw (and the side), nothing drawn."""

    def for_step(self, step: Step, *, easier: bool = False) -> Picture | None:
        figure = (step.easier_figure if easier else None) or step.figure
        if figure is None:
            return None
        key = f"{figure}-mirrored" if step.mirrored else figure
        return Picture(key=key, path=Path(f"/nowhere/{key}.png"))


@pytest.fixture
def practice(store: Store, clock: ManualClock, timers: FakeTimers) -> PracticeService:
    yoga_class = figured_class()
    return PracticeService(store, {yoga_class.id: yoga_class}, clock, timers, pictures=FigureIds())


@pytest.fixture
def settings(store: Store, clock: ManualClock) -> UserSettingsService:
    return UserSettingsService(store, clock)


def shows(outcome: PracticeOutcome) -> str | None:
    """The key of the picture the new cue shows."""
    assert outcome.show is not None
    return outcome.show.picture.key if outcome.show.picture else None


def redrawn(outcome: PracticeOutcome) -> tuple[str | None, bool, EasierReason | None]:
    """The redrawn cue's picture, whether it swaps the pressed cue's, and its reason."""
    cue = outcome.redraw
    assert cue is not None
    return (cue.picture.key if cue.picture else None, cue.swap_media, cue.easier)


async def begun(practice: PracticeService, *, gentle: bool = False) -> tuple[int, PracticeOutcome]:
    started = await practice.start(USER, CHAT, "Ana", gentle=gentle)
    assert started.show is not None
    await delivered(practice, started.show, CHAT, message_id=10)
    return started.practice_id, started


async def test_easier_option_and_usual_version_swap_the_picture_and_nothing_else_does(
    practice: PracticeService,
) -> None:
    practice_id, started = await begun(practice)
    assert shows(started) == "lunge-mirrored"

    async def tap(action: Action) -> tuple[str | None, bool, EasierReason | None]:
        return redrawn(await press(practice, action, USER, practice_id, 0))

    # The easier figure, on the same side as the pose's own.
    assert await tap(Action.EASIER) == ("lunge-knee-down-mirrored", True, EasierReason.ASKED)
    # A double tap shows what is shown: nothing to swap.
    assert await tap(Action.EASIER) == ("lunge-knee-down-mirrored", False, EasierReason.ASKED)
    assert await tap(Action.MORE_TIME) == ("lunge-knee-down-mirrored", False, EasierReason.ASKED)
    assert await tap(Action.PAUSE) == ("lunge-knee-down-mirrored", False, EasierReason.ASKED)
    assert await tap(Action.RESUME) == ("lunge-knee-down-mirrored", False, EasierReason.ASKED)
    assert await tap(Action.USUAL) == ("lunge-mirrored", True, None)
    assert await tap(Action.USUAL) == ("lunge-mirrored", False, None)


async def test_try_the_easier_version_after_it_hurts_swaps_the_picture(
    practice: PracticeService,
) -> None:
    practice_id, _ = await begun(practice)
    asked = await press(practice, Action.HURT, USER, practice_id, 0)
    # The question is asked on the cue as it is: its picture stays.
    assert redrawn(asked) == ("lunge-mirrored", False, None)
    tried = await press(practice, Action.TRY_EASIER, USER, practice_id, 0)
    assert redrawn(tried) == ("lunge-knee-down-mirrored", True, EasierReason.HURT_NOW)


async def test_a_pose_without_an_easier_figure_keeps_its_picture(
    practice: PracticeService,
) -> None:
    practice_id, _ = await begun(practice)
    moved = await press(practice, Action.NEXT, USER, practice_id, 0)
    assert shows(moved) == "sphinx"
    assert moved.show is not None
    await delivered(practice, moved.show, CHAT, message_id=11)
    easier = await press(practice, Action.EASIER, USER, practice_id, 1)
    assert redrawn(easier) == ("sphinx", False, EasierReason.ASKED)


async def test_a_gentle_practice_shows_every_easier_picture_from_the_start(
    practice: PracticeService,
) -> None:
    practice_id, started = await begun(practice, gentle=True)
    assert started.show is not None and started.show.easier == EasierReason.GENTLE
    assert shows(started) == "lunge-knee-down-mirrored"
    with pytest.raises(StaleAction):  # no way to the harder version on a sore day
        await press(practice, Action.USUAL, USER, practice_id, 0)


async def test_easier_options_always_shows_the_easier_pictures_and_usual_swaps_back(
    practice: PracticeService, settings: UserSettingsService
) -> None:
    await settings.change(USER, CHAT, "Ana", Setting.EASIER_MODE, EasierMode.ALWAYS)
    practice_id, started = await begun(practice)
    assert shows(started) == "lunge-knee-down-mirrored"
    usual = await press(practice, Action.USUAL, USER, practice_id, 0)
    assert redrawn(usual) == ("lunge-mirrored", True, None)


async def test_a_pose_that_hurt_last_time_starts_with_its_easier_picture(
    practice: PracticeService,
) -> None:
    practice_id, _ = await begun(practice)
    await press(practice, Action.HURT, USER, practice_id, 0)
    await press(practice, Action.TRY_EASIER, USER, practice_id, 0)
    await press(practice, Action.STOP, USER, practice_id, 0)
    await press(practice, Action.END, USER, practice_id, 0)

    again = await practice.start(USER, CHAT, "Ana")
    assert again.show is not None and again.show.easier == EasierReason.HURT_LAST_TIME
    assert shows(again) == "lunge-knee-down-mirrored"


async def test_text_only_cues_have_no_picture_to_swap(
    practice: PracticeService, settings: UserSettingsService
) -> None:
    await settings.change(USER, CHAT, "Ana", Setting.PICTURES, Pictures.OFF)
    practice_id, started = await begun(practice)
    assert shows(started) is None
    easier = await press(practice, Action.EASIER, USER, practice_id, 0)
    assert redrawn(easier) == (None, False, EasierReason.ASKED)
