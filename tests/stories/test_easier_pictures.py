"""The easier version of a pose shows its own picture, through the real Application and
the emulator: swapped in place of the usual one in one editMessageMedia (picture, caption
and buttons together) whenever a press brings the easier version on screen or takes it
back; shown from the start in a gentle practice and for a pose remembered easier; each
picture uploaded once and then sent by its file_id. And what Telegram may refuse: a double
tap, a media edit refused, a cue that went as text, a media edit that did not get through."""

from __future__ import annotations

import asyncio
import logging
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from telegram.ext import Job

from bot.pose_pictures import FigurePictures
from bot.uploads import Picture
from handlers.context import YogaApp, YogaContext
from playground.emulator import BotApiEmulator, SimulatedUser
from playground.emulator.params import Upload
from playground.emulator.state import EmuMessage, RecordedCall
from sequences import YogaClass, load_figures
from tests.harness.bot import (
    Worded,
    begin_practice,
    bot_running,
    button_texts,
    choose_settings,
    cues_titled,
    has_button_on,
    has_closing,
    has_message,
    screened,
)
from tests.harness.factories import make_class


def figured_class() -> YogaClass:
    """The tiny class with pictures: poses 1 and 3 have an easier figure of their own
    (pose 1 on its other side), pose 2 only its own figure."""
    tiny = make_class()
    figures: dict[str, dict[str, Any]] = {
        "pose-1": {"figure": "low-lunge", "easier_figure": "half-splits", "mirrored": True},
        "pose-2": {"figure": "sphinx"},
        "pose-3": {"figure": "childs-pose", "easier_figure": "side-childs-pose"},
    }
    steps = [step.model_copy(update=figures[step.id]) for step in tiny.steps]
    return tiny.model_copy(update={"steps": steps})


FIGURED = figured_class()
CATALOG = {FIGURED.id: FIGURED}
EASIER_LINE = "Easier:"


@pytest.fixture(scope="module")
def pictures(tmp_path_factory: pytest.TempPathFactory) -> FigurePictures:
    figures = FigurePictures(load_figures(), tmp_path_factory.mktemp("pictures"))
    figures.prepare([FIGURED])
    return figures


def picture(pictures: FigurePictures, step: int, *, easier: bool = False) -> Picture:
    found = pictures.for_step(FIGURED.steps[step], easier=easier)
    assert found is not None
    return found


def shows(emulator: BotApiEmulator, message: EmuMessage) -> bytes:
    """The picture a photo message shows, as the user would download it."""
    assert message.photo is not None, message.plain
    return emulator.state.files[message.photo[-1]["file_id"]].data


def edits(emulator: BotApiEmulator, method: str, message: EmuMessage) -> list[RecordedCall]:
    """The calls of `method` that edited `message`."""
    return [
        c
        for c in emulator.calls_of(method)
        if (c.params.get("chat_id"), c.params.get("message_id"))
        == (message.chat_id, message.message_id)
    ]


def media_edits(emulator: BotApiEmulator, message: EmuMessage) -> list[RecordedCall]:
    return edits(emulator, "editMessageMedia", message)


def caption_edits(emulator: BotApiEmulator, message: EmuMessage) -> list[RecordedCall]:
    return edits(emulator, "editMessageCaption", message)


def uploaded(call: RecordedCall) -> bool:
    """Whether the call carried the picture's bytes (not a file_id Telegram knows)."""
    if call.method == "sendPhoto":
        return isinstance(call.params.get("photo"), Upload)
    media: dict[str, Any] = call.params["media"]
    return str(media["media"]).startswith("attach://")


def uploads(emulator: BotApiEmulator) -> int:
    calls = emulator.calls_of("sendPhoto") + emulator.calls_of("editMessageMedia")
    return sum(1 for c in calls if c.ok and uploaded(c))


async def redraw_waiting(app: YogaApp, cue: EmuMessage) -> Job[YogaContext]:
    """The redraw of `cue` waiting for its next try, once the bot has put it aside: looked
    for every 10 ms, well inside its pause of a second or so, for 5 s at most."""
    assert app.job_queue is not None
    name = f"redraw:{cue.chat_id}:{cue.message_id}"
    async with asyncio.timeout(5):
        while True:
            waiting = app.job_queue.get_jobs_by_name(name)
            if waiting:
                [job] = waiting
                return job
            await asyncio.sleep(0.01)


async def first_cue(emulator: BotApiEmulator, user: SimulatedUser) -> Worded:
    await begin_practice(emulator, user)
    [cue] = await emulator.wait_for(lambda: cues_titled(user, "1/3"))
    return cue


def easier_shown(cue: EmuMessage) -> bool:
    return EASIER_LINE in (cue.plain or "")


async def test_easier_option_swaps_the_picture_in_place_and_usual_version_swaps_it_back(
    emulator: BotApiEmulator, database_url: str, pictures: FigurePictures
) -> None:
    ana, ben = emulator.user(9101), emulator.user(9102)
    usual, easier = picture(pictures, 0), picture(pictures, 0, easier=True)
    async with bot_running(emulator, database_url, catalog=CATALOG, pictures=pictures):
        cue = await first_cue(emulator, ana)
        assert shows(emulator, cue) == usual.path.read_bytes()

        await ana.tap(cue.message_id, text="Easier option")
        await emulator.wait_for(lambda: easier_shown(cue))
        # The same message, its picture swapped in, words and buttons with it: one call.
        assert cues_titled(ana, "1/3") == [cue]
        assert shows(emulator, cue) == easier.path.read_bytes()
        assert button_texts(cue) == ["Usual version", "Next", "It hurts", "+15 s", "Pause"]
        [swap] = media_edits(emulator, cue)
        assert swap.params["media"]["type"] == "photo"
        assert swap.params["media"]["parse_mode"] == "HTML"
        assert EASIER_LINE in swap.params["media"]["caption"]
        assert "Usual version" in str(swap.params["reply_markup"])
        assert caption_edits(emulator, cue) == []

        await ana.tap(cue.message_id, text="Usual version")
        await emulator.wait_for(lambda: not easier_shown(cue))
        assert shows(emulator, cue) == usual.path.read_bytes()
        assert "Easier option" in button_texts(cue)
        await ana.tap(cue.message_id, text="Easier option")
        await emulator.wait_for(lambda: easier_shown(cue))
        assert shows(emulator, cue) == easier.path.read_bytes()

        # Someone else's class: the easier picture goes by the file_id it was given.
        other = await first_cue(emulator, ben)
        await ben.tap(other.message_id, text="Easier option")
        await emulator.wait_for(lambda: easier_shown(other))
        assert shows(emulator, other) == easier.path.read_bytes()

    swaps = [*media_edits(emulator, cue), *media_edits(emulator, other)]
    assert len(swaps) == 4 and all(c.ok for c in swaps)
    assert [uploaded(c) for c in swaps] == [True, False, False, False]
    assert uploads(emulator) == 2  # the usual picture and the easier one, once each
    assert caption_edits(emulator, cue) == caption_edits(emulator, other) == []


async def test_a_pose_without_an_easier_figure_keeps_its_picture_and_edits_its_caption(
    emulator: BotApiEmulator, database_url: str, pictures: FigurePictures
) -> None:
    user = emulator.user(9103)
    async with bot_running(emulator, database_url, catalog=CATALOG, pictures=pictures):
        cue = await first_cue(emulator, user)
        await user.tap(cue.message_id, text="Next")
        [second] = await emulator.wait_for(lambda: cues_titled(user, "2/3"))
        await user.tap(second.message_id, text="Easier option")
        await emulator.wait_for(lambda: easier_shown(second))
        assert shows(emulator, second) == picture(pictures, 1).path.read_bytes()
        assert len(caption_edits(emulator, second)) == 1
        assert media_edits(emulator, second) == []


async def test_try_the_easier_version_after_it_hurts_shows_the_easier_picture(
    emulator: BotApiEmulator, database_url: str, pictures: FigurePictures
) -> None:
    user = emulator.user(9104)
    async with bot_running(emulator, database_url, catalog=CATALOG, pictures=pictures):
        cue = await first_cue(emulator, user)
        await user.tap(cue.message_id, text="It hurts")
        await emulator.wait_for(has_button_on(cue, "Try the easier version"))
        # The question is asked on the cue as it is: only its words change.
        assert shows(emulator, cue) == picture(pictures, 0).path.read_bytes()
        assert media_edits(emulator, cue) == []
        await user.tap(cue.message_id, text="Try the easier version")
        await emulator.wait_for(lambda: easier_shown(cue))
        assert shows(emulator, cue) == picture(pictures, 0, easier=True).path.read_bytes()
        assert len(media_edits(emulator, cue)) == 1
        assert cues_titled(user, "1/3") == [cue]


async def test_a_gentle_practice_starts_with_the_easier_pictures(
    emulator: BotApiEmulator, database_url: str, pictures: FigurePictures
) -> None:
    user = emulator.user(9105)
    async with bot_running(emulator, database_url, catalog=CATALOG, pictures=pictures):
        await screened(emulator, user)
        await user.send("/start_practice")
        question = await emulator.wait_for(has_message(user, "How does your back feel"))
        await user.tap(question.message_id, text="6")
        await emulator.wait_for(has_button_on(question, "Gentle practice"))
        await user.tap(question.message_id, text="Gentle practice")
        [cue] = await emulator.wait_for(lambda: cues_titled(user, "1/3"))
        assert easier_shown(cue)
        assert shows(emulator, cue) == picture(pictures, 0, easier=True).path.read_bytes()
    assert emulator.calls_of("editMessageMedia") == []  # sent so, nothing swapped


async def test_a_pose_remembered_easier_starts_with_its_easier_picture(
    emulator: BotApiEmulator, database_url: str, pictures: FigurePictures
) -> None:
    """It hurt last time, and the user chose the easier version then: the next class shows
    it from the start, picture and all; Usual version swaps the usual picture in."""
    user = emulator.user(9106)
    async with bot_running(emulator, database_url, catalog=CATALOG, pictures=pictures):
        cue = await first_cue(emulator, user)
        await user.tap(cue.message_id, text="It hurts")
        await emulator.wait_for(has_button_on(cue, "Try the easier version"))
        await user.tap(cue.message_id, text="Try the easier version")
        await emulator.wait_for(has_button_on(cue, "Next"))
        for number in (1, 2, 3):

            def shown(n: int = number) -> list[Worded]:
                return cues_titled(user, f"{n}/3")

            on_screen = (await emulator.wait_for(shown))[-1]
            await emulator.wait_for(has_button_on(on_screen, "Next"))
            await user.tap(on_screen.message_id, text="Next")
        await emulator.wait_for(has_closing(user))

        await begin_practice(emulator, user)
        await emulator.wait_for(lambda: len(cues_titled(user, "1/3")) == 2)
        again = cues_titled(user, "1/3")[-1]
        assert easier_shown(again)
        assert shows(emulator, again) == picture(pictures, 0, easier=True).path.read_bytes()
        await user.tap(again.message_id, text="Usual version")
        await emulator.wait_for(lambda: not easier_shown(again))
        assert shows(emulator, again) == picture(pictures, 0).path.read_bytes()


async def test_easier_options_always_starts_with_the_easier_picture(
    emulator: BotApiEmulator, database_url: str, pictures: FigurePictures
) -> None:
    user = emulator.user(9107)
    async with bot_running(emulator, database_url, catalog=CATALOG, pictures=pictures):
        await choose_settings(emulator, user, "Always")
        cue = await first_cue(emulator, user)
        assert easier_shown(cue)
        assert shows(emulator, cue) == picture(pictures, 0, easier=True).path.read_bytes()


async def test_a_double_tap_on_easier_option_swaps_the_picture_once(
    emulator: BotApiEmulator,
    database_url: str,
    pictures: FigurePictures,
    caplog: pytest.LogCaptureFixture,
) -> None:
    user = emulator.user(9108)
    async with bot_running(emulator, database_url, catalog=CATALOG, pictures=pictures):
        cue = await first_cue(emulator, user)
        caplog.set_level(logging.INFO)
        await user.tap(cue.message_id, text="Easier option")
        await user.tap(cue.message_id, text="Easier option")
        await emulator.wait_for(lambda: len(emulator.callback_answers) == 2)
        await emulator.wait_for(lambda: len(caption_edits(emulator, cue)) == 1)
        # The second tap draws what is shown already: Telegram says "not modified".
        [swap] = media_edits(emulator, cue)
        [again] = caption_edits(emulator, cue)
        assert swap.ok and not again.ok and "not modified" in (again.description or "")
        assert shows(emulator, cue) == picture(pictures, 0, easier=True).path.read_bytes()
        assert cues_titled(user, "1/3") == [cue]
    assert not [r for r in caplog.records if r.levelno >= logging.WARNING]


async def test_a_refused_media_edit_sends_the_cue_afresh_and_retires_the_old_one(
    emulator: BotApiEmulator, database_url: str, pictures: FigurePictures
) -> None:
    """Telegram will not put the easier picture in: the photo would show the usual pose
    under the easier words, so the cue comes again as a new message, picture and all, and
    the old one keeps what it showed, without buttons."""
    user = emulator.user(9109)
    async with bot_running(emulator, database_url, catalog=CATALOG, pictures=pictures):
        cue = await first_cue(emulator, user)
        emulator.fail_next(
            "editMessageMedia", description="Bad Request: IMAGE_PROCESS_FAILED", chat_id=user.id
        )
        await user.tap(cue.message_id, text="Easier option")
        await emulator.wait_for(lambda: len(cues_titled(user, "1/3")) == 2)
        afresh = cues_titled(user, "1/3")[-1]
        await emulator.wait_for(lambda: not button_texts(cue))
        assert easier_shown(afresh)
        assert shows(emulator, afresh) == picture(pictures, 0, easier=True).path.read_bytes()
        assert "Usual version" in button_texts(afresh)
        # The old message still agrees with itself: the usual picture, the usual words.
        assert not easier_shown(cue)
        assert shows(emulator, cue) == picture(pictures, 0).path.read_bytes()
        # The new message is the practice's cue from now on.
        await user.tap(afresh.message_id, text="Next")
        await emulator.wait_for(lambda: cues_titled(user, "2/3"))


async def test_a_cue_that_went_as_text_has_its_words_edited_as_text(
    emulator: BotApiEmulator, database_url: str, pictures: FigurePictures
) -> None:
    user = emulator.user(9110)
    async with bot_running(emulator, database_url, catalog=CATALOG, pictures=pictures):
        emulator.fail_next("sendPhoto", description="Bad Request: IMAGE_PROCESS_FAILED", times=2)
        cue = await first_cue(emulator, user)
        assert cue.photo is None and cue.text is not None
        emulator.fail_next("editMessageMedia", description="Bad Request: IMAGE_PROCESS_FAILED")
        await user.tap(cue.message_id, text="Easier option")
        await emulator.wait_for(lambda: easier_shown(cue))
        assert cue.photo is None and "Usual version" in button_texts(cue)
        assert cues_titled(user, "1/3") == [cue]  # edited where it is, no new message
        [edit] = edits(emulator, "editMessageText", cue)
        assert edit.ok


@pytest.mark.parametrize("then", [None, "+15 s"], ids=["retried", "next-redraw"])
async def test_a_swap_telegram_did_not_take_is_made_by_the_next_redraw_of_the_cue(
    emulator: BotApiEmulator, database_url: str, pictures: FigurePictures, then: str | None
) -> None:
    """A 502 on the swap: it is tried again after its pause; or, if the user presses
    something else on the cue first (+15 s), that redraw swaps the picture too, so the
    words never say Easier under the usual picture."""
    user = emulator.user(9111)
    async with bot_running(emulator, database_url, catalog=CATALOG, pictures=pictures) as app:
        cue = await first_cue(emulator, user)
        emulator.fail_next(
            "editMessageMedia", error_code=502, description="Bad Gateway", chat_id=user.id
        )
        await user.tap(cue.message_id, text="Easier option")
        if then is not None:
            # The user is quicker than the retry's pause (held off here, so it surely is).
            retry = await redraw_waiting(app, cue)
            retry.job.modify(next_run_time=datetime.now(UTC) + timedelta(minutes=5))
            await user.tap(cue.message_id, text=then)
            await emulator.wait_for(lambda: "1 min 15 s" in (cue.plain or ""))
        await emulator.wait_for(lambda: easier_shown(cue), timeout=10)
        assert shows(emulator, cue) == picture(pictures, 0, easier=True).path.read_bytes()
        failed, swapped = media_edits(emulator, cue)
        assert (failed.ok, swapped.ok) == (False, True)
        assert caption_edits(emulator, cue) == []
        assert cues_titled(user, "1/3") == [cue]
