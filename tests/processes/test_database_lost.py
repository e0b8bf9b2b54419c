"""A real `yogabot run` whose SQLite file is deleted (with its -wal and -shm) during a class:
it logs one CRITICAL line naming the file and the command that restores it, and exits with
EXIT_DATABASE_LOST; that command brings the class back for the next start. Before, the bot
went on without a line, and the next start had no history at all.

The Bot API emulator runs in the test's event loop; the bot is a process of its own, as in
tests/harness/crash.py.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import re
import signal
import subprocess
import sys
from collections.abc import AsyncIterator
from pathlib import Path

from bot.database_file import EXIT_DATABASE_LOST
from playground.emulator import BotApiEmulator, SimulatedUser
from tests.harness.bot import answer_checkin, has_message
from tests.harness.crash import PROJECT_DIR, SENT_CUE, TOKEN

# Bounded but generous: a loaded 2-core machine may take seconds to start Python.
START_TIMEOUT = 60.0
STEP_TIMEOUT = 30.0
# The sweep's next read notices within a second; the stop takes a moment more.
EXIT_TIMEOUT = 30.0


@contextlib.asynccontextmanager
async def bot_process(
    emulator: BotApiEmulator, workdir: Path, log: Path
) -> AsyncIterator[asyncio.subprocess.Process]:
    """`python -m cli run` on the database in `workdir`, its output appended to `log`."""
    env = {
        **os.environ,
        "BOT_TOKEN": TOKEN,
        "TELEGRAM_API_URL": emulator.api_url,
        "DATABASE_URL": f"sqlite+aiosqlite:///{workdir / 'yogabot.db'}",
        "LOG_LEVEL": "INFO",
        "PYTHONUNBUFFERED": "1",
        "PYTHONPATH": os.pathsep.join(
            p for p in (str(PROJECT_DIR), os.environ.get("PYTHONPATH")) if p
        ),
    }
    started = len(emulator.calls)
    with log.open("ab") as out:
        process = await asyncio.create_subprocess_exec(
            sys.executable,
            *("-m", "cli", "run"),
            env=env,
            cwd=workdir,  # so no developer's .env is read
            stdin=asyncio.subprocess.DEVNULL,
            stdout=out,
            stderr=out,
        )
    try:
        # Polling has begun once the bot deleted any webhook.
        await emulator.wait_for(
            lambda: any(c.method == "deleteWebhook" for c in emulator.calls[started:]),
            timeout=START_TIMEOUT,
        )
        yield process
    finally:
        if process.returncode is None:
            process.kill()
            await process.wait()


def first_cue(user: SimulatedUser) -> bool:
    return any(SENT_CUE.match(m.text or m.caption or "") for m in user.bot_messages)


async def test_yogabot_run_exits_with_one_critical_line_when_its_database_is_deleted(
    tmp_path: Path,
) -> None:
    workdir = tmp_path / "bot"
    workdir.mkdir()
    database = workdir / "yogabot.db"
    log = tmp_path / "bot.log"
    async with BotApiEmulator(token=TOKEN) as emulator:
        user = emulator.user(7101)
        async with bot_process(emulator, workdir, log) as process:
            await user.send("/start_practice")
            await answer_checkin(emulator, user)
            await emulator.wait_for(lambda: first_cue(user), timeout=STEP_TIMEOUT)
            for suffix in ("", "-wal", "-shm"):
                os.unlink(f"{database}{suffix}")
            async with asyncio.timeout(EXIT_TIMEOUT):
                assert await process.wait() == EXIT_DATABASE_LOST
        text = log.read_text()
        criticals = [line for line in text.splitlines() if " CRITICAL " in line]
        assert len(criticals) == 1, text
        [line] = criticals
        assert f"the database file {database} was deleted while the bot was running" in line
        assert "yogabot backup" in line
        assert "Traceback" not in text and " ERROR " not in text, text
        # The command the line gives brings everything back for the next start.
        found = re.search(r"stopped: (rm -f .+? && cp \S+ \S+)", line)
        assert found is not None, line
        subprocess.run(found.group(1), shell=True, check=True)  # noqa: ASYNC221
        async with bot_process(emulator, workdir, log) as process:
            await user.send("/progress")
            await emulator.wait_for(has_message(user, "in progress"), timeout=STEP_TIMEOUT)
            process.send_signal(signal.SIGTERM)
            async with asyncio.timeout(EXIT_TIMEOUT):
                assert await process.wait() == 0
