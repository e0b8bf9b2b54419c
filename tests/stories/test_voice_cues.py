"""Spoken cues through the real Application and the emulator: with Voice on (/settings),
each cue goes as an audio message that speaks it, its words the caption, its buttons under
it and the pose picture its cover; Easier option and Usual version swap the audio (and the
cover) in place with one editMessageMedia; every audio is uploaded once per bot, with its
cover, and sent by its file_id after. And what may go wrong: Telegram refusing the audio
(the cue goes as a photo), an audio not rendered yet (the same), Voice off (photos as
ever)."""

from __future__ import annotations

import asyncio
import hashlib
from collections.abc import Callable
from pathlib import Path

import pytest

from bot.pose_pictures import FigurePictures
from bot.uploads import Sound
from handlers.messages import PERFORMER
from playground.emulator import BotApiEmulator, SimulatedUser
from playground.emulator.params import Upload
from playground.emulator.state import EmuMessage, RecordedCall
from sequences import Step, load_figures
from tests.harness.bot import (
    Worded,
    begin_practice,
    bot_running,
    button_texts,
    choose_settings,
    cues_titled,
)
from tests.harness.factories import tiny_sound
from tests.stories.test_easier_pictures import FIGURED

# The tiny class with pictures; pose 1 has an easier figure of its own.
VOICED = FIGURED
CATALOG = {VOICED.id: VOICED}


class ToneSounds:
    """A spoken cue for each step and version: a tone of its own length, so each is its own
    file. `silent`: the steps whose words are not rendered yet."""

    def __init__(self, directory: Path, steps: list[Step], silent: frozenset[str]) -> None:
        self.files: dict[tuple[str, bool], Sound] = {}
        self._silent = silent
        for n, (step, easier) in enumerate((s, e) for s in steps for e in (False, True)):
            data = tiny_sound(1.0 + 0.25 * n, kind="MP3")
            key = hashlib.sha256(data).hexdigest()
            path = directory / f"{key}.mp3"
            path.write_bytes(data)
            self.files[step.id, easier] = Sound(key, path, 1.0 + 0.25 * n)

    def for_step(self, step: Step, *, easier: bool = False) -> Sound | None:
        if step.id in self._silent:
            return None
        return self.files[step.id, easier]


@pytest.fixture(scope="module")
def pictures(tmp_path_factory: pytest.TempPathFactory) -> FigurePictures:
    figures = FigurePictures(load_figures(), tmp_path_factory.mktemp("pictures"))
    figures.prepare([VOICED])
    return figures


@pytest.fixture
def sounds(tmp_path: Path) -> ToneSounds:
    # Pose 2's words are not rendered yet.
    return ToneSounds(tmp_path, list(VOICED.steps), silent=frozenset({"pose-2"}))


def plays(emulator: BotApiEmulator, message: EmuMessage) -> bytes:
    """The audio a message plays, as the user's phone would download it."""
    assert message.audio is not None, message.plain
    return emulator.state.files[message.audio["file_id"]].data


def cover(emulator: BotApiEmulator, message: EmuMessage) -> bytes:
    assert message.audio is not None and "thumbnail" in message.audio, message.audio
    return emulator.state.files[message.audio["thumbnail"]["file_id"]].data


def audio_uploads(emulator: BotApiEmulator) -> list[RecordedCall]:
    """The sends and swaps that carried an audio's bytes (not a file_id)."""
    sent = [
        c
        for c in emulator.calls_of("sendAudio")
        if c.ok and isinstance(c.params.get("audio"), Upload)
    ]
    swapped = [
        c
        for c in emulator.calls_of("editMessageMedia")
        if c.ok
        and c.params["media"]["type"] == "audio"
        and str(c.params["media"]["media"]).startswith("attach://")
    ]
    return sent + swapped


def first_cue_of(user: SimulatedUser) -> Callable[[], list[Worded]]:
    return lambda: cues_titled(user, "1/3")


async def voiced_first_cue(emulator: BotApiEmulator, user: SimulatedUser) -> Worded:
    await choose_settings(emulator, user, "On")
    await begin_practice(emulator, user)
    [cue] = await emulator.wait_for(lambda: cues_titled(user, "1/3"))
    return cue


async def test_voice_on_speaks_each_cue_and_easier_swaps_the_spoken_words_in_place(
    emulator: BotApiEmulator, database_url: str, pictures: FigurePictures, sounds: ToneSounds
) -> None:
    ana, ben = emulator.user(9301), emulator.user(9302)
    usual, easier = sounds.files["pose-1", False], sounds.files["pose-1", True]
    async with bot_running(
        emulator, database_url, catalog=CATALOG, pictures=pictures, sounds=sounds
    ):
        cue = await voiced_first_cue(emulator, ana)
        # An audio message: the spoken words, the cue's words and buttons, the pose's
        # picture as its cover.
        assert plays(emulator, cue) == usual.path.read_bytes()
        assert cue.photo is None
        assert cue.audio is not None
        assert cue.audio["title"] == "1. Pose 1"
        assert cue.audio["performer"] == PERFORMER
        assert button_texts(cue) == ["Easier option", "Next", "It hurts", "+15 s", "Pause"]
        usual_cover = cover(emulator, cue)
        assert usual_cover.startswith(b"\xff\xd8")  # a JPEG, as Telegram takes a cover

        await ana.tap(cue.message_id, text="Easier option")
        await emulator.wait_for(lambda: "Easier:" in (cue.plain or ""))
        # The same message speaks the easier version now, under its picture: one call.
        assert cues_titled(ana, "1/3") == [cue]
        assert plays(emulator, cue) == easier.path.read_bytes()
        assert cover(emulator, cue) != usual_cover
        assert cue.audio["title"] == "1. Pose 1 (easier)"
        assert "Usual version" in button_texts(cue)
        [swap] = [
            c
            for c in emulator.calls_of("editMessageMedia")
            if c.params.get("message_id") == cue.message_id
        ]
        assert swap.params["media"]["type"] == "audio"
        assert emulator.calls_of("editMessageCaption") == []

        await ana.tap(cue.message_id, text="Usual version")
        await emulator.wait_for(lambda: "Easier:" not in (cue.plain or ""))
        assert plays(emulator, cue) == usual.path.read_bytes()
        # Sent again by its file_id, the audio keeps the cover it was uploaded with.
        assert cover(emulator, cue) == usual_cover

        # Pose 2's words are not rendered yet: its cue goes as a photo, silent.
        await ana.tap(cue.message_id, text="Next")
        [second] = await emulator.wait_for(lambda: cues_titled(ana, "2/3"))
        assert second.audio is None and second.photo is not None

        # Ben left Voice off: photos, as ever.
        await begin_practice(emulator, ben)
        [his] = await emulator.wait_for(lambda: cues_titled(ben, "1/3"))
        assert his.audio is None and his.photo is not None

    # Each audio went up once, with its cover; every other send went by its file_id.
    assert len(audio_uploads(emulator)) == 2
    assert all(
        "thumbnail" in c.params or "thumbnail" in c.params.get("media", {})
        for c in audio_uploads(emulator)
    )
    assert emulator.state.media.most_uploads_of_one_file() == 1


async def test_many_spoken_practices_at_once_upload_each_audio_once(
    emulator: BotApiEmulator, database_url: str, pictures: FigurePictures, sounds: ToneSounds
) -> None:
    users = [emulator.user(9310 + n) for n in range(6)]
    async with bot_running(
        emulator, database_url, catalog=CATALOG, pictures=pictures, sounds=sounds
    ):
        for user in users:
            await choose_settings(emulator, user, "On")
        await asyncio.gather(*(begin_practice(emulator, user) for user in users))
        cues = [(await emulator.wait_for(first_cue_of(u)))[0] for u in users]
        first = sounds.files["pose-1", False].path.read_bytes()
        assert all(plays(emulator, cue) == first for cue in cues)
    assert len(audio_uploads(emulator)) == 1
    assert emulator.state.media.uploaded["audio"] == 1
    assert emulator.state.media.by_file_id["audio"] == len(users) - 1


async def test_an_audio_telegram_refuses_sends_the_cue_as_a_photo(
    emulator: BotApiEmulator, database_url: str, pictures: FigurePictures, sounds: ToneSounds
) -> None:
    user = emulator.user(9320)
    async with bot_running(
        emulator, database_url, catalog=CATALOG, pictures=pictures, sounds=sounds
    ):
        emulator.fail_next("sendAudio", description="Bad Request: AUDIO_INVALID", times=5)
        await choose_settings(emulator, user, "On")
        await begin_practice(emulator, user)
        [cue] = await emulator.wait_for(lambda: cues_titled(user, "1/3"))
        # A voice never stops a practice: the cue came at once, as a photo.
        assert cue.audio is None and cue.photo is not None
        assert "Easier option" in button_texts(cue)
        # The refusal was of that upload only: Easier swaps in the easier version's audio.
        await user.tap(cue.message_id, text="Easier option")
        await emulator.wait_for(lambda: "Easier:" in (cue.plain or ""))
        assert plays(emulator, cue) == sounds.files["pose-1", True].path.read_bytes()
        assert cue.photo is None
    assert [c.ok for c in emulator.calls_of("sendAudio")] == [False]


async def test_it_hurts_then_the_easier_version_speaks_it_and_a_double_tap_changes_nothing(
    emulator: BotApiEmulator, database_url: str, pictures: FigurePictures, sounds: ToneSounds
) -> None:
    user = emulator.user(9330)
    async with bot_running(
        emulator, database_url, catalog=CATALOG, pictures=pictures, sounds=sounds
    ):
        cue = await voiced_first_cue(emulator, user)
        await user.tap(cue.message_id, text="It hurts")
        await emulator.wait_for(lambda: "Try the easier version" in button_texts(cue))
        # The question is asked on the cue as it is: the same audio, only words change.
        assert plays(emulator, cue) == sounds.files["pose-1", False].path.read_bytes()
        await user.tap(cue.message_id, text="Try the easier version")
        await emulator.wait_for(lambda: "Easier:" in (cue.plain or ""))
        assert plays(emulator, cue) == sounds.files["pose-1", True].path.read_bytes()
        swaps = len(emulator.calls_of("editMessageMedia"))
        # A second tap on a button the first already took away: answered, nothing swapped.
        taps = {await user.tap(cue.message_id, text="Usual version") for _ in range(2)}
        await emulator.wait_for(lambda: "Easier:" not in (cue.plain or ""))
        await emulator.wait_for(
            lambda: taps <= {a["callback_query_id"] for a in emulator.callback_answers}
        )
        assert plays(emulator, cue) == sounds.files["pose-1", False].path.read_bytes()
        assert len(emulator.calls_of("editMessageMedia")) == swaps + 1


async def test_an_audio_file_id_telegram_forgot_is_uploaded_again_with_its_cover(
    emulator: BotApiEmulator, database_url: str, pictures: FigurePictures, sounds: ToneSounds
) -> None:
    ana, ben = emulator.user(9340), emulator.user(9341)
    async with bot_running(
        emulator, database_url, catalog=CATALOG, pictures=pictures, sounds=sounds
    ):
        first = await voiced_first_cue(emulator, ana)
        assert first.audio is not None
        known = first.audio["file_id"]
        # Telegram no longer knows the id the bot keeps for that audio.
        emulator.fail_next(
            "sendAudio",
            description="Bad Request: wrong file identifier/HTTP URL specified",
            chat_id=ben.id,
        )
        cue = await voiced_first_cue(emulator, ben)
        assert plays(emulator, cue) == sounds.files["pose-1", False].path.read_bytes()
        sent = emulator.calls_of("sendAudio")
        assert sent[-2].params["audio"] == known  # refused
        assert isinstance(sent[-1].params["audio"], Upload)  # uploaded again
        assert "thumbnail" in sent[-1].params  # with its cover, which the new id keeps
        assert cover(emulator, cue) == cover(emulator, first)


@pytest.mark.parametrize(
    "fault",
    [{"error_code": 502, "description": "Bad Gateway"}, {"retry_after": 1}, {"drop": "before"}],
    ids=["502", "429", "dropped"],
)
async def test_a_spoken_cue_telegram_did_not_take_is_sent_again_spoken(
    emulator: BotApiEmulator,
    database_url: str,
    pictures: FigurePictures,
    sounds: ToneSounds,
    fault: dict[str, object],
) -> None:
    """Network trouble is not a refusal: the cue goes again by the practice's own timer,
    audio and all, and is not turned into a photo."""
    user = emulator.user(9350)
    async with bot_running(
        emulator, database_url, catalog=CATALOG, pictures=pictures, sounds=sounds
    ):
        await choose_settings(emulator, user, "On")
        emulator.fail_next("sendAudio", chat_id=user.id, **fault)  # type: ignore[arg-type]
        await begin_practice(emulator, user)
        [cue] = await emulator.wait_for(lambda: cues_titled(user, "1/3"), timeout=15)
        assert plays(emulator, cue) == sounds.files["pose-1", False].path.read_bytes()
    assert cue.photo is None
    assert len(cues_titled(user, "1/3")) == 1
    assert [c.ok for c in emulator.calls_of("sendAudio")][:2] == [False, True]
