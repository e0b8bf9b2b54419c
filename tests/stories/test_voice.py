"""The spoken cues' render process, from the bot's side: started at start-up unless
VOICE_ENGINE=off, never waited for, stopped with the bot, and a failure of it logged once
while the practice goes on (a cue not spoken yet goes without a voice)."""

from __future__ import annotations

import asyncio
import logging
import os
import shutil
import signal
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

from bot.spoken_cues import Renderer, StepSounds
from bot.voice_cache import read_index, speaking_alone
from handlers.app import VOICE_RENDERER
from handlers.context import YogaApp
from playground.emulator import BotApiEmulator
from sequences.spoken import easier_script, step_script
from tests.harness.bot import begin_practice, bot_running, choose_settings, cues_titled
from tests.harness.factories import make_class

TINY = make_class()
CATALOG = {TINY.id: TINY}
# espeak-ng speaks the tiny class's six texts in a few seconds; far more on a busy machine.
SPOKEN_WITHIN = 120.0
SOUND_METHODS = ("sendAudio", "sendVoice")

needs_espeak = pytest.mark.skipif(
    shutil.which("espeak-ng") is None and not os.environ.get("CI"),
    reason="espeak-ng is not installed (`make test` installs it)",
)


def renderer_of(app: YogaApp) -> Renderer | None:
    renderer: Renderer | None = app.bot_data[VOICE_RENDERER]
    return renderer


def render_warnings(caplog: pytest.LogCaptureFixture) -> list[str]:
    return [
        r.getMessage()
        for r in caplog.records
        if r.levelno >= logging.WARNING and "render process" in r.getMessage()
    ]


@contextmanager
def cache_held(cache: Path) -> Iterator[threading.Event]:
    """The voice cache's lock held by this test (as by another worker's process) until the
    event is set or the block ends: a render process started meanwhile waits."""
    taken, release = threading.Event(), threading.Event()

    def hold() -> None:
        with speaking_alone(cache):
            taken.set()
            release.wait(timeout=SPOKEN_WITHIN)

    holder = threading.Thread(target=hold)
    holder.start()
    assert taken.wait(timeout=10)
    try:
        yield release
    finally:
        release.set()
        holder.join(timeout=10)


async def first_cue_arrives(emulator: BotApiEmulator, user_id: int) -> None:
    user = emulator.user(user_id)
    await begin_practice(emulator, user)
    await emulator.wait_for(lambda: cues_titled(user, "1/3 · "), timeout=15)


async def test_with_voice_off_the_bot_starts_no_process_and_its_cues_are_silent(
    emulator: BotApiEmulator, database_url: str, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    async with bot_running(
        emulator, database_url, catalog=CATALOG, voice_cache_dir=tmp_path / "voice"
    ) as app:
        assert renderer_of(app) is None
        await first_cue_arrives(emulator, 9101)
    assert not (tmp_path / "voice").exists()
    assert not [c for m in SOUND_METHODS for c in emulator.calls_of(m)]
    assert render_warnings(caplog) == []


@pytest.mark.backends("sqlite")
@needs_espeak
async def test_the_bot_serves_at_once_while_its_process_speaks_the_class_into_the_cache(
    emulator: BotApiEmulator, database_url: str, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    cache = tmp_path / "voice"
    sounds = StepSounds(cache)
    # The process waits for the cache (held here from before the bot starts, as by another
    # worker's); the bot does not wait for it.
    with cache_held(cache) as release:
        async with bot_running(
            emulator,
            database_url,
            catalog=CATALOG,
            voice_engine="espeak-ng",
            voice_cache_dir=cache,
        ) as app:
            renderer = renderer_of(app)
            assert renderer is not None
            await first_cue_arrives(emulator, 9102)
            assert renderer.returncode is None
            assert sounds.for_step(TINY.steps[0]) is None
            release.set()
            assert await asyncio.wait_for(renderer.wait(), SPOKEN_WITHIN) == 0
    index = read_index(cache)
    for step in TINY.steps:
        assert step_script(step) in index and easier_script(step) in index
        usual, easier = sounds.for_step(step), sounds.for_step(step, easier=True)
        assert usual is not None and easier is not None and usual.key != easier.key
        assert usual.path.exists() and easier.path.exists()
        assert index[step_script(step)].engine.startswith("espeak-ng")
    assert render_warnings(caplog) == []


@pytest.mark.backends("sqlite")
@needs_espeak
async def test_a_stopping_bot_stops_its_process_and_says_nothing_of_it(
    emulator: BotApiEmulator, database_url: str, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    cache = tmp_path / "voice"
    with cache_held(cache):
        async with bot_running(
            emulator,
            database_url,
            catalog=CATALOG,
            voice_engine="espeak-ng",
            voice_cache_dir=cache,
        ) as app:
            renderer = renderer_of(app)
            assert renderer is not None and renderer.returncode is None
        # Stopped with the bot, while it waited for the cache.
        assert renderer.returncode == -signal.SIGTERM
    assert render_warnings(caplog) == []
    assert read_index(cache) == {}


@pytest.mark.backends("sqlite")
@needs_espeak
async def test_a_process_killed_is_logged_once_and_the_practice_goes_on(
    emulator: BotApiEmulator, database_url: str, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    cache = tmp_path / "voice"
    with cache_held(cache):
        async with bot_running(
            emulator,
            database_url,
            catalog=CATALOG,
            voice_engine="espeak-ng",
            voice_cache_dir=cache,
        ) as app:
            renderer = renderer_of(app)
            assert renderer is not None
            os.kill(renderer.pid, signal.SIGKILL)
            assert await asyncio.wait_for(renderer.wait(), 10) == -signal.SIGKILL
            await first_cue_arrives(emulator, 9103)
    [warning] = render_warnings(caplog)
    assert "was killed (SIGKILL)" in warning and "go silent" in warning
    assert StepSounds(cache).for_step(TINY.steps[0]) is None


@pytest.mark.backends("sqlite")
@needs_espeak
async def test_a_cache_that_cannot_be_written_fails_the_process_once_and_the_bot_goes_on(
    emulator: BotApiEmulator, database_url: str, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    not_a_folder = tmp_path / "voice"
    not_a_folder.write_text("a file where the cache should be")
    async with bot_running(
        emulator,
        database_url,
        catalog=CATALOG,
        voice_engine="espeak-ng",
        voice_cache_dir=not_a_folder,
    ) as app:
        renderer = renderer_of(app)
        assert renderer is not None
        assert await asyncio.wait_for(renderer.wait(), SPOKEN_WITHIN) == 1
        await first_cue_arrives(emulator, 9104)
    [warning] = render_warnings(caplog)
    assert "failed (exit status 1)" in warning


@pytest.mark.backends("sqlite")
async def test_with_no_engine_installed_the_bot_starts_no_process_and_says_so_once(
    emulator: BotApiEmulator,
    database_url: str,
    tmp_path: Path,
    caplog: pytest.LogCaptureFixture,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # piper chosen alone, and not installed (tests/rules/test_voice.py: how it is found).
    monkeypatch.setattr("handlers.app.installed_engine", lambda choice: None)
    async with bot_running(
        emulator, database_url, catalog=CATALOG, voice_engine="piper", voice_cache_dir=tmp_path
    ) as app:
        assert renderer_of(app) is None
        await first_cue_arrives(emulator, 9105)
    [warning] = [r.getMessage() for r in caplog.records if "speech engine" in r.getMessage()]
    assert "VOICE_ENGINE=piper" in warning


@pytest.mark.backends("sqlite")
@needs_espeak
async def test_with_voice_on_a_cue_plays_the_words_its_process_spoke_once_they_are_spoken(
    emulator: BotApiEmulator, database_url: str, tmp_path: Path
) -> None:
    cache = tmp_path / "voice"
    sounds = StepSounds(cache)
    user = emulator.user(9106)
    # Held from before the bot starts, so its process speaks nothing until released.
    with cache_held(cache) as release:
        async with bot_running(
            emulator,
            database_url,
            catalog=CATALOG,
            voice_engine="espeak-ng",
            voice_cache_dir=cache,
        ) as app:
            renderer = renderer_of(app)
            assert renderer is not None
            await choose_settings(emulator, user, "On")
            await begin_practice(emulator, user)
            # Not spoken yet: the first cue goes without a voice.
            [first] = await emulator.wait_for(lambda: cues_titled(user, "1/3 · "))
            assert first.audio is None
            release.set()
            assert await asyncio.wait_for(renderer.wait(), SPOKEN_WITHIN) == 0
            await user.tap(first.message_id, text="Next")
            [second] = await emulator.wait_for(lambda: cues_titled(user, "2/3 · "))
            usual = sounds.for_step(TINY.steps[1])
            assert usual is not None and second.audio is not None
            assert emulator.state.files[second.audio["file_id"]].data == usual.path.read_bytes()
            # The easier version speaks its own words, in place.
            await user.tap(second.message_id, text="Easier option")
            easier = sounds.for_step(TINY.steps[1], easier=True)
            assert easier is not None

            def plays_easier() -> bool:
                assert second.audio is not None
                played = emulator.state.files[second.audio["file_id"]].data
                return played == easier.path.read_bytes()

            await emulator.wait_for(plays_easier)
