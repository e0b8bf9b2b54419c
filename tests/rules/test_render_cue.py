"""A cue readable at a glance: its layout, its Next line and its buttons, for every step of
the seed class and for the states a cue can be in."""

from __future__ import annotations

import re
from dataclasses import replace
from html import unescape

import pytest
from telegram import InlineKeyboardMarkup

from bot.cues import Cue
from bot.models import EasierReason, PracticeQuestion
from handlers.render import practice as render
from sequences import load_catalog

SEED = next(iter(load_catalog().values()))
# Telegram's limit for a message's text, in characters after entities are parsed.
MESSAGE_LIMIT = 4096


def cue_of(step: int, **changes: object) -> Cue:
    steps = SEED.steps
    cue = Cue(
        practice_id=7,
        step=step,
        total=len(steps),
        pose=steps[step],
        hold_seconds=steps[step].hold_seconds,
        following=steps[step + 1] if step + 1 < len(steps) else None,
    )
    return replace(cue, **changes)  # type: ignore[arg-type]


def plain_lines(step: int, **changes: object) -> list[str]:
    text = render.cue(cue_of(step, **changes)).text
    # As the user reads it: tags gone, entities decoded.
    return unescape(re.sub(r"<[^>]+>", "", text)).split("\n")


@pytest.mark.parametrize("step", range(len(SEED.steps)))
def test_every_cue_is_title_three_lines_at_most_the_hold_and_what_comes_next(step: int) -> None:
    lines = [line for line in plain_lines(step) if line]
    pose = SEED.steps[step]
    assert lines[0] == f"{step + 1}/{len(SEED.steps)} · {pose.title}"
    body = lines[2:] if pose.sanskrit else lines[1:]
    cue_lines, rest = body[: len(pose.cues)], body[len(pose.cues) :]
    assert cue_lines == pose.cues and len(cue_lines) <= 3
    assert rest[0].startswith("Hold ")
    if step + 1 < len(SEED.steps):
        assert rest[-1].startswith(f"Next: {SEED.steps[step + 1].title}")
        assert len(lines) <= 8
    else:
        # The last pose: no Next line; its hold says the class ends after it.
        assert rest == [rest[0]] and rest[0].endswith("Then the class ends.")
    assert len(render.cue(cue_of(step)).text) < MESSAGE_LIMIT


def test_the_next_line_names_the_props_only_when_they_change() -> None:
    changes = [
        i
        for i in range(len(SEED.steps) - 1)
        if SEED.steps[i + 1].props and set(SEED.steps[i + 1].props) != set(SEED.steps[i].props)
    ]
    assert changes, "the seed class changes props somewhere"
    step = changes[0]
    following = SEED.steps[step + 1]
    assert plain_lines(step)[-1] == f"Next: {following.title} · {', '.join(following.props)}"
    same = next(
        i
        for i in range(len(SEED.steps) - 1)
        if set(SEED.steps[i + 1].props) == set(SEED.steps[i].props)
    )
    assert plain_lines(same)[-1] == f"Next: {SEED.steps[same + 1].title}"


def buttons(cue: Cue) -> list[list[str]]:
    markup = render.cue(cue).markup
    assert markup is not None
    assert isinstance(markup, InlineKeyboardMarkup)
    return [[b.text for b in row] for row in markup.inline_keyboard]


def test_the_buttons_for_each_state_of_a_cue() -> None:
    assert buttons(cue_of(0)) == [["Easier option", "Next"], ["It hurts", "+15 s", "Pause"]]
    easier = cue_of(0, easier=EasierReason.REMEMBERED)
    assert buttons(easier) == [["Usual version", "Next"], ["It hurts", "+15 s", "Pause"]]
    assert buttons(cue_of(0, paused=True)) == [["Resume"], ["It hurts", "+15 s", "Stop"]]
    assert buttons(cue_of(0, paused=True, question=PracticeQuestion.STOP)) == [
        ["End practice"],
        ["Keep going"],
    ]
    # At most three buttons a row, so each stays wide enough for a thumb.
    for cue in (cue_of(0), easier, cue_of(0, paused=True)):
        assert all(len(row) <= 3 for row in buttons(cue))


def test_a_remembered_easier_version_says_so_in_one_line() -> None:
    lines = plain_lines(3, easier=EasierReason.REMEMBERED)
    assert f"Easier: {SEED.steps[3].easier}" in lines
    assert render.EASIER_BECAUSE[EasierReason.REMEMBERED] in lines


def test_an_easier_version_comes_before_the_usual_cues() -> None:
    """Read at a glance from the mat, the top of a cue says which version to do."""
    lines = plain_lines(3, easier=EasierReason.REMEMBERED)
    easier = lines.index(f"Easier: {SEED.steps[3].easier}")
    first_cue = lines.index(SEED.steps[3].cues[0])
    assert easier < first_cue
    assert f"Easier: {SEED.steps[3].easier}" not in plain_lines(3)


def test_added_time_shows_as_the_new_hold() -> None:
    pose = SEED.steps[0]
    lines = plain_lines(0, hold_seconds=pose.hold_seconds + 30)
    assert f"Hold {render.duration(pose.hold_seconds + 30)}" in lines


# Telegram's limit for a photo's caption.
CAPTION_LIMIT = 1024


@pytest.mark.parametrize("step", range(len(SEED.steps)))
def test_every_cue_fits_a_photo_caption_in_its_longest_state(step: int) -> None:
    longest = cue_of(
        step, easier=EasierReason.HURT_LAST_TIME, paused=True, question=PracticeQuestion.NUMB
    )
    assert len(render.cue(longest).text) <= CAPTION_LIMIT


def test_every_question_a_cue_can_ask_has_its_words() -> None:
    # A cue held for "continue or start over?" is drawn too (with its paused buttons).
    assert set(render.QUESTION_TEXT) == set(PracticeQuestion)


def test_a_bridge_is_said_before_the_poses_own_cues() -> None:
    seed = next(iter(load_catalog().values()))
    twist = next(step for step in seed.steps if step.short_start is not None)
    cue = Cue(
        practice_id=1, step=4, total=12, pose=twist, hold_seconds=60, bridge=twist.short_start
    )
    text = unescape(re.sub(r"<[^>]+>", "", render.cue(cue).text))
    assert twist.short_start is not None
    assert text.index(twist.short_start) < text.index(twist.cues[0])
