"""Cues with a picture of the pose, through the real Application and the emulator: a photo
with the cue as its caption, edits of the caption, one upload per picture, and a picture
that never stops a practice."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncEngine

from bot.database import create_sessionmaker
from bot.models import UploadedPicture
from bot.services import Services
from bot.uploads import Picture
from handlers import messages
from handlers.context import SERVICES
from handlers.media import photo_id, with_media
from handlers.render import Reply
from playground.emulator import BotApiEmulator
from sequences import Step
from tests.harness.bot import (
    begin_practice,
    bot_running,
    button_texts,
    choose_settings,
    cues_titled,
    has_closing,
    next_through_the_class,
)
from tests.harness.factories import make_class, tiny_png
from tests.harness.fakes import JumpingScheduler

TINY = make_class()
CATALOG = {TINY.id: TINY}


class TinyPictures:
    """A different small PNG for each step, written once to `folder`. One picture
    per step, whichever version the cue shows."""

    def __init__(self, folder: Path) -> None:
        self._folder = folder

    def for_step(self, step: Step, *, easier: bool = False) -> Picture | None:
        width = 20 + int(step.id.rsplit("-", 1)[1])
        path = self._folder / f"{step.id}.png"
        if not path.exists():
            path.write_bytes(tiny_png(width, 16))
        return Picture(key=step.id, path=path)


@pytest.fixture
def pictures(tmp_path: Path) -> TinyPictures:
    return TinyPictures(tmp_path)


def uploads(emulator: BotApiEmulator) -> int:
    return emulator.media.uploaded["photo"]


async def test_a_cue_is_a_photo_and_easier_edits_its_caption(
    emulator: BotApiEmulator, database_url: str, pictures: TinyPictures
) -> None:
    user = emulator.user(9001)
    async with bot_running(emulator, database_url, catalog=CATALOG, pictures=pictures):
        await begin_practice(emulator, user)
        [cue] = await emulator.wait_for(lambda: cues_titled(user, "1/3"))
        assert cue.photo is not None and cue.text is None
        assert "Inhale, lengthen into pose 1." in cue.plain
        assert button_texts(cue) == ["Easier option", "Next", "It hurts", "+15 s", "Pause"]
        await user.tap(cue.message_id, text="Easier option")
        await emulator.wait_for(lambda: "Easier:" in (cue.plain or ""))
        assert cue.photo is not None  # the picture stays
        [edit] = emulator.calls_of("editMessageCaption")
        assert edit.params["message_id"] == cue.message_id
        assert all(
            c.params.get("message_id") != cue.message_id
            for c in emulator.calls_of("editMessageText")
        )


async def test_each_picture_is_uploaded_once_however_many_practices(
    emulator: BotApiEmulator, database_url: str, pictures: TinyPictures
) -> None:
    ana, ben = emulator.user(9002), emulator.user(9003)
    async with bot_running(emulator, database_url, catalog=CATALOG, pictures=pictures):
        await begin_practice(emulator, ana)
        await next_through_the_class(emulator, ana, practice=1)
        await emulator.wait_for(has_closing(ana))
        await begin_practice(emulator, ben)
        await next_through_the_class(emulator, ben, practice=1)
        await begin_practice(emulator, ana)
        await next_through_the_class(emulator, ana, practice=2)
        await emulator.wait_for(lambda: len(cues_titled(ana, "3/3")) == 2)
    assert len(emulator.calls_of("sendPhoto")) == 9
    assert uploads(emulator) == 3  # one per distinct picture


async def test_a_file_id_telegram_forgot_is_uploaded_again(
    emulator: BotApiEmulator, database_url: str, db_engine: AsyncEngine, pictures: TinyPictures
) -> None:
    ana, ben, cem = emulator.user(9004), emulator.user(9014), emulator.user(9024)
    async with bot_running(emulator, database_url, catalog=CATALOG, pictures=pictures):
        await begin_practice(emulator, ana)
        [first] = await emulator.wait_for(lambda: cues_titled(ana, "1/3"))
        assert first.photo is not None
        known = first.photo[-1]["file_id"]
        # Telegram no longer knows the id the bot keeps for that picture.
        emulator.fail_next(
            "sendPhoto",
            description="Bad Request: wrong file identifier/HTTP URL specified",
            chat_id=ben.id,
        )
        await begin_practice(emulator, ben)  # the same first pose, sent by the known id
        [cue] = await emulator.wait_for(lambda: cues_titled(ben, "1/3"))
        assert cue.photo is not None
        sent = emulator.calls_of("sendPhoto")
        assert sent[-2].params["photo"] == known  # refused
        assert sent[-1].params["photo"] != known  # uploaded again
        # The new id is kept: the next send uses it.
        fresh = cue.photo[-1]["file_id"]
        await begin_practice(emulator, cem)
        await emulator.wait_for(lambda: cues_titled(cem, "1/3"))
        assert emulator.calls_of("sendPhoto")[-1].params["photo"] == fresh
    assert uploads(emulator) == 2
    # In the database too, for the next start.
    async with create_sessionmaker(db_engine).begin() as db:
        stored = set(await db.scalars(select(UploadedPicture.file_id)))
    assert fresh in stored and known not in stored


async def test_a_picture_refused_twice_sends_the_cue_as_text(
    emulator: BotApiEmulator, database_url: str, pictures: TinyPictures
) -> None:
    user = emulator.user(9005)
    async with bot_running(emulator, database_url, catalog=CATALOG, pictures=pictures):
        emulator.fail_next("sendPhoto", description="Bad Request: IMAGE_PROCESS_FAILED", times=2)
        await begin_practice(emulator, user)
        [cue] = await emulator.wait_for(lambda: cues_titled(user, "1/3"))
        assert cue.photo is None and cue.text is not None
        # The practice goes on; an edit of the text cue is a text edit.
        await user.tap(cue.message_id, text="Easier option")
        await emulator.wait_for(lambda: "Easier:" in (cue.plain or ""))


async def test_pictures_off_in_settings_sends_text_cues(
    emulator: BotApiEmulator, database_url: str, pictures: TinyPictures
) -> None:
    user = emulator.user(9006)
    async with bot_running(emulator, database_url, catalog=CATALOG, pictures=pictures):
        await choose_settings(emulator, user, "Text only")
        await begin_practice(emulator, user)
        [cue] = await emulator.wait_for(lambda: cues_titled(user, "1/3"))
    assert cue.photo is None and emulator.calls_of("sendPhoto") == []


async def test_an_auto_advanced_photo_cue_costs_its_photo_and_one_retirement(
    emulator: BotApiEmulator, database_url: str, pictures: TinyPictures
) -> None:
    """The photo, then (with headroom, as here) retiring the previous cue's buttons:
    nothing more goes to Telegram per cue (the file_id is known)."""
    user = emulator.user(9007)
    async with bot_running(
        emulator, database_url, catalog=CATALOG, pictures=pictures, time_scale=0.01
    ):
        await begin_practice(emulator, user)
        await emulator.wait_for(has_closing(user), timeout=10)
    calls = [c.method for c in emulator.state.calls if c.method not in ("getUpdates",)]
    photos = [i for i, method in enumerate(calls) if method == "sendPhoto"]
    assert len(photos) == 3
    # From just after the first cue up to the third, the two auto-advances.
    assert calls[photos[0] + 1 : photos[2] + 2] == [
        "sendPhoto",
        "editMessageReplyMarkup",
        "sendPhoto",
        "editMessageReplyMarkup",
    ]


@pytest.mark.parametrize(
    "fault",
    [{"error_code": 502, "description": "Bad Gateway"}, {"retry_after": 1}, {"drop": "before"}],
    ids=["502", "429", "dropped"],
)
async def test_a_photo_cue_that_telegram_did_not_take_is_sent_again_as_a_photo(
    emulator: BotApiEmulator, database_url: str, pictures: TinyPictures, fault: dict[str, object]
) -> None:
    """Network trouble is not a refusal: the cue goes again by the practice's own timer,
    picture and all, and is not turned into text."""
    user = emulator.user(9008)
    async with bot_running(emulator, database_url, catalog=CATALOG, pictures=pictures):
        emulator.fail_next("sendPhoto", chat_id=user.id, **fault)  # type: ignore[arg-type]
        await begin_practice(emulator, user)
        [cue] = await emulator.wait_for(lambda: cues_titled(user, "1/3"), timeout=15)
    assert cue.photo is not None
    assert len(cues_titled(user, "1/3")) == 1


async def test_five_hundred_cues_sent_at_once_upload_each_picture_once(
    emulator: BotApiEmulator, database_url: str, pictures: TinyPictures
) -> None:
    """A bot just started, 500 cues of the same three poses going out together (as when
    500 classes start at once), through the real send path: rate limiter, HTTP, the
    emulator. Each picture is uploaded once; every other cue goes by its id."""
    chats = [emulator.user(20_000 + n).open_chat().id for n in range(500)]
    poses = [pictures.for_step(step) for step in TINY.steps]
    # The limiter's clock jumps a second whenever it is asked to wait: 30 sends a second
    # as ever, without the test waiting 17 s for 500 of them.
    scheduler = JumpingScheduler()
    async with bot_running(
        emulator, database_url, catalog=CATALOG, pictures=pictures, send_scheduler=scheduler
    ) as application:
        services: Services = application.bot_data[SERVICES]

        async def cue(n: int) -> None:
            picture = poses[n % len(poses)]
            assert picture is not None

            async def send(photo: str | bytes) -> object:
                reply = Reply(f"{n % 3 + 1}/3 · Pose")
                return await messages.send_photo(application.bot, chats[n], photo, reply)

            await with_media(services, picture, send, photo_id)

        async def jump() -> None:
            while True:
                scheduler.jump(1.0)
                await asyncio.sleep(0.01)

        jumping = asyncio.create_task(jump())
        try:
            async with asyncio.timeout(60):
                await asyncio.gather(*(cue(n) for n in range(len(chats))))
        finally:
            jumping.cancel()
    assert len(emulator.calls_of("sendPhoto")) == 500
    assert emulator.media.uploaded["photo"] == 3
    assert sorted(emulator.media.per_content.values()) == [1, 1, 1]
    assert emulator.media.by_file_id["photo"] == 497
