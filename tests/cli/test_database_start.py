"""`yogabot run` on a SQLite database it must not use: one line on stderr and exit code
EXIT_DATABASE_LOST, never an empty database made in place of a lost one, never a
traceback."""

from __future__ import annotations

import asyncio
import subprocess
import sys
from pathlib import Path

import pytest

from bot.database_file import EXIT_DATABASE_LOST, RESCUED
from cli import main
from playground.emulator import BotApiEmulator

TOKEN = "123456:not-a-real-token-for-the-cli-tests"


def test_run_will_not_make_an_empty_database_beside_a_rescued_copy(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    database = tmp_path / "yogabot.db"
    older = tmp_path / f"yogabot.db{RESCUED}20261201T080000Z"
    newest = tmp_path / f"yogabot.db{RESCUED}20261202T080000Z"
    for copy in (older, newest):
        copy.write_bytes(b"")
    monkeypatch.setenv("BOT_TOKEN", TOKEN)
    monkeypatch.setenv("DATABASE_URL", f"sqlite+aiosqlite:///{database}")
    assert main(["run"]) == EXIT_DATABASE_LOST
    [line] = capsys.readouterr().err.splitlines()
    assert line.startswith(f"yogabot: the database file {database} is missing, and {newest}")
    assert f"cp {newest} {database}" in line
    assert not database.exists()


async def test_run_on_a_file_that_is_not_a_database_says_so_in_one_line(tmp_path: Path) -> None:
    database = tmp_path / "yogabot.db"
    database.write_bytes(b"not a database, " * 256)
    async with BotApiEmulator(token=TOKEN) as emulator:
        process = await asyncio.create_subprocess_exec(
            sys.executable,
            *("-m", "cli", "run"),
            env={
                "PATH": "/usr/bin:/bin",
                "BOT_TOKEN": TOKEN,
                "TELEGRAM_API_URL": emulator.api_url,
                "DATABASE_URL": f"sqlite+aiosqlite:///{database}",
            },
            cwd=tmp_path,
            stdin=subprocess.DEVNULL,
            stderr=asyncio.subprocess.PIPE,
        )
        _, stderr = await asyncio.wait_for(process.communicate(), timeout=60)
    text = stderr.decode()
    assert process.returncode == EXIT_DATABASE_LOST, text
    assert "Traceback" not in text
    [line] = text.strip().splitlines()
    assert line.startswith(
        f"yogabot: the database {database} cannot be used: file is not a database (SQLITE_NOTADB)"
    )
