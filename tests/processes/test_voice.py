"""A real `yogabot run` and its spoken cues: with a voice, a render process of its own
speaks the class into the cache while the bot serves, and the bot itself never loads what
speaking takes (NumPy, SciPy, soundfile, piper, onnxruntime: hundreds of MB); with
VOICE_ENGINE=off, or no engine installed, no such process at all, and silent cues
(tests/stories/test_voice.py, in the test's own process).

The bot is `cli.main(["run"])` in a Python that writes its `sys.modules` into a file as it
exits; the render process is found among the bot's children by its command line.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import re
import signal
import sys
from collections.abc import AsyncIterator
from pathlib import Path

from bot.spoken_cues import RENDERER, spoken_texts
from bot.voice_cache import INDEX_FILE, read_index
from playground.emulator import BotApiEmulator
from tests.harness.bot import begin_practice, cues_titled
from tests.harness.crash import PROJECT_DIR, TOKEN
from tests.harness.factories import make_class
from tests.stories.test_voice import SOUND_METHODS, cache_held, needs_espeak

START_TIMEOUT = 60.0
STEP_TIMEOUT = 30.0
EXIT_TIMEOUT = 30.0
# espeak-ng's first text, in a niced process on a busy machine.
FIRST_TEXT_TIMEOUT = 90.0

# What speaking takes, and the bot must never load: the packages, and their native
# libraries as they would show among its mapped files.
HEAVY_MODULES = ("numpy", "scipy", "soundfile", "pyloudnorm", "piper", "onnxruntime")
HEAVY_LIBRARIES = ("numpy", "scipy", "libsndfile", "onnxruntime", "piper")

# `yogabot run`, writing the names of its modules into MODULES_FILE once it has stopped.
BOT = (
    "import atexit, os, sys\n"
    "def written():\n"
    "    with open(os.environ['MODULES_FILE'], 'w') as out:\n"
    "        out.write('\\n'.join(sorted(sys.modules)))\n"
    "atexit.register(written)\n"
    "from cli.main import main\n"
    "sys.exit(main(['run']))\n"
)


@contextlib.asynccontextmanager
async def bot_process(
    emulator: BotApiEmulator, workdir: Path, **settings: str
) -> AsyncIterator[asyncio.subprocess.Process]:
    env = {
        **os.environ,
        "BOT_TOKEN": TOKEN,
        "TELEGRAM_API_URL": emulator.api_url,
        "DATABASE_URL": f"sqlite+aiosqlite:///{workdir / 'yogabot.db'}",
        "LOG_LEVEL": "INFO",
        "MODULES_FILE": str(workdir / "modules.txt"),
        "PYTHONUNBUFFERED": "1",
        "PYTHONPATH": os.pathsep.join(
            p for p in (str(PROJECT_DIR), os.environ.get("PYTHONPATH")) if p
        ),
        **settings,
    }
    with (workdir / "bot.log").open("ab") as out:
        process = await asyncio.create_subprocess_exec(
            sys.executable,
            *("-c", BOT),
            env=env,
            cwd=workdir,  # so no developer's .env is read
            stdin=asyncio.subprocess.DEVNULL,
            stdout=out,
            stderr=out,
        )
    try:
        await emulator.wait_for(lambda: emulator.calls_of("getUpdates"), timeout=START_TIMEOUT)
        yield process
    finally:
        if process.returncode is None:
            process.kill()
            await process.wait()


def renderers(pid: int) -> list[int]:
    """The bot's children that are its render process (any thread may have started one)."""
    found = []
    for task in Path(f"/proc/{pid}/task").iterdir():
        with contextlib.suppress(FileNotFoundError):
            for child in (task / "children").read_text().split():
                with contextlib.suppress(FileNotFoundError):
                    command = Path(f"/proc/{child}/cmdline").read_bytes().split(b"\0")
                    if RENDERER.encode() in command:
                        found.append(int(child))
    return found


def mapped_files(pid: int) -> str:
    return Path(f"/proc/{pid}/maps").read_text()


def running(pid: int) -> bool:
    return Path(f"/proc/{pid}").exists()


def tail(log: Path) -> str:
    return log.read_text()[-3000:]


def rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    raise AssertionError(f"no VmRSS for {pid}")


async def until(condition: object, within: float, what: str, log: Path) -> None:
    assert callable(condition)
    loop = asyncio.get_running_loop()
    deadline = loop.time() + within
    while not condition():
        if loop.time() > deadline:
            raise AssertionError(f"waited {within} s for {what}\n{tail(log)}")
        await asyncio.sleep(0.1)


async def stopped(process: asyncio.subprocess.Process) -> int:
    process.send_signal(signal.SIGTERM)
    async with asyncio.timeout(EXIT_TIMEOUT):
        return await process.wait()


async def first_cue(emulator: BotApiEmulator, user_id: int) -> None:
    user = emulator.user(user_id)
    await begin_practice(emulator, user)
    await emulator.wait_for(lambda: cues_titled(user, "1/"), timeout=STEP_TIMEOUT)


@needs_espeak
async def test_the_bot_speaks_in_a_process_of_its_own_and_never_loads_what_speaking_takes(
    tmp_path: Path,
) -> None:
    cache = tmp_path / "voice"
    async with (
        BotApiEmulator(token=TOKEN) as emulator,
        bot_process(
            emulator, tmp_path, VOICE_ENGINE="espeak-ng", VOICE_CACHE_DIR=str(cache)
        ) as bot,
    ):
        log = tmp_path / "bot.log"
        await until(lambda: renderers(bot.pid), START_TIMEOUT, "the render process", log)
        [renderer] = renderers(bot.pid)
        # It speaks, text after text, into the cache's index.
        await until(
            lambda: (cache / INDEX_FILE).exists() and read_index(cache),
            FIRST_TEXT_TIMEOUT,
            "the first text spoken",
            log,
        )
        await first_cue(emulator, 7201)
        maps = mapped_files(bot.pid)
        print(f"bot RSS {rss_mb(bot.pid):.1f} MB, its render process {rss_mb(renderer):.1f} MB")
        assert [name for name in HEAVY_LIBRARIES if name in maps] == []
        assert await stopped(bot) == 0
    # Gone with the bot, whether it had spoken everything or not.
    assert not running(renderer)
    modules = (tmp_path / "modules.txt").read_text().split()
    assert [m for m in modules if m.split(".")[0] in HEAVY_MODULES] == []
    assert "bot.spoken_cues" in modules
    assert not [c for m in SOUND_METHODS for c in emulator.calls_of(m)]
    text = log.read_text()
    assert "Traceback" not in text and " ERROR " not in text, text


async def test_two_workers_render_processes_on_one_cache_speak_each_text_once(
    tmp_path: Path,
) -> None:
    texts = spoken_texts([make_class()])
    payload = json.dumps([{"words": t.words, "name": t.name, "limit": t.limit} for t in texts])
    cache = tmp_path / "voice"
    logs = [tmp_path / f"renderer-{n}.log" for n in (1, 2)]

    async def renderer(log: Path) -> asyncio.subprocess.Process:
        with log.open("ab") as out:
            return await asyncio.create_subprocess_exec(
                sys.executable,
                *("-m", RENDERER, "--engine", "espeak-ng", "--cache-dir", str(cache)),
                stdin=asyncio.subprocess.PIPE,
                stdout=out,
                stderr=out,
                env={**os.environ, "PYTHONPATH": str(PROJECT_DIR)},
            )

    # Both started while the cache is held (as by a third worker's process), so both wait.
    with cache_held(cache) as release:
        processes = [await renderer(log) for log in logs]
        for process in processes:
            assert process.stdin is not None
            process.stdin.write(payload.encode())
            process.stdin.close()
        await until(
            lambda: all("waiting for it" in log.read_text() for log in logs),
            START_TIMEOUT,
            "both to wait for the cache",
            logs[0],
        )
        release.set()
    async with asyncio.timeout(FIRST_TEXT_TIMEOUT):
        codes = [await p.wait() for p in processes]
    assert codes == [0, 0], [log.read_text() for log in logs]
    said = [re.search(rf"(\d+) of {len(texts)} texts spoken now", log.read_text()) for log in logs]
    assert all(said), [log.read_text() for log in logs]
    # Whichever went first spoke them all; the other then found them spoken.
    assert sorted(int(m.group(1)) for m in said if m) == [0, len(texts)]
    assert set(read_index(cache)) == {t.words for t in texts}
