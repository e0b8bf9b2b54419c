"""The SQLite file deleted, replaced or turned read-only under a running bot: the bot takes
no more changes, says so in one CRITICAL line (with how to restore), and stops with
EXIT_DATABASE_LOST, instead of writing on into a file that is gone (README, "Deploying").

Without the watch, SQLite goes on writing into the deleted file, and the next start finds
an empty one: every user's history gone.
"""

from __future__ import annotations

import asyncio
import hashlib
import logging
import os
import re
import shutil
import sqlite3
import subprocess
from collections.abc import Iterator
from contextlib import closing, contextmanager
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Engine, event

from bot import database_file
from bot.clock import ManualClock
from bot.database_file import EXIT_DATABASE_LOST, RESCUED, DatabaseLost
from bot.models import PracticeStatus
from bot.practice.machine import Action
from handlers.app import HALT, Halt
from handlers.context import SERVICES, YogaApp
from handlers.render import common
from playground.emulator import BotApiEmulator
from tests.harness.bot import (
    begin_practice,
    bot_running,
    cue_recorded,
    cues_titled,
    has_message,
    stored_practices,
)
from tests.harness.factories import make_class
from tests.harness.presses import press

TINY = make_class()
TINY_CATALOG = {TINY.id: TINY}
# Bounded waits: the stop itself takes well under a second, the rest is a loaded machine.
STOP_TIMEOUT = 15.0

pytestmark = pytest.mark.backends("sqlite")


def files_of(database: Path) -> list[Path]:
    return [
        database,
        database.with_name(f"{database.name}-wal"),
        database.with_name(f"{database.name}-shm"),
    ]


@pytest.fixture
def database(tmp_path: Path, database_url: str) -> Path:
    return tmp_path / "yogabot.db"


@pytest.fixture
def checks_rarely(monkeypatch: pytest.MonkeyPatch) -> None:
    """The periodic look at the files never comes within a test: what notices is the
    transaction about to write."""
    monkeypatch.setattr(database_file, "CHECK_SECONDS", 3600.0)


async def halted(app: YogaApp) -> int:
    halt: Halt = app.bot_data[HALT]
    async with asyncio.timeout(STOP_TIMEOUT):
        return await halt.wait()


def critical_lines(caplog: pytest.LogCaptureFixture) -> list[str]:
    return [r.getMessage() for r in caplog.records if r.levelno >= logging.CRITICAL]


def worse_than_warnings(caplog: pytest.LogCaptureFixture) -> list[logging.LogRecord]:
    return [r for r in caplog.records if r.levelno >= logging.ERROR]


def practice_rows(database: Path) -> list[tuple[int, int, str]]:
    """(user, current step, status) of every practice in a SQLite file, read directly."""
    with closing(sqlite3.connect(database)) as connection:
        assert connection.execute("PRAGMA integrity_check").fetchone() == ("ok",)
        rows = connection.execute(
            "SELECT user_id, current_step, status FROM practice_sessions ORDER BY id"
        ).fetchall()
    return [(user, step, str(status)) for user, step, status in rows]


def rescued_copies(folder: Path) -> list[Path]:
    return list(folder.glob(f"yogabot.db{RESCUED}*"))


def present(files: list[Path]) -> list[str]:
    return [file.name for file in files if file.exists()]


def digest(file: Path) -> str:
    return hashlib.sha256(file.read_bytes()).hexdigest()


def private(file: Path) -> bool:
    """Readable and writable by its owner alone."""
    return file.stat().st_mode & 0o077 == 0


def restore(line: str) -> None:
    """Run the restore command the CRITICAL line gives, as an operator would paste it."""
    subprocess.run(restore_command(line), shell=True, check=True)


def restore_command(line: str) -> str:
    found = re.search(r"with every bot process stopped: (rm -f .+? && cp \S+ \S+)", line)
    assert found is not None, line
    return found.group(1)


async def class_under_way(emulator: BotApiEmulator, database_url: str, user_id: int) -> int:
    """The user's class has started and its first cue is recorded; the practice's id."""
    user = emulator.user(user_id)
    await begin_practice(emulator, user)
    await emulator.wait_for(lambda: cues_titled(user, "1/3"))
    [practice] = [p for p in await stored_practices(database_url) if p.user_id == user_id]
    await cue_recorded(database_url, practice.id)
    return practice.id


@pytest.mark.usefixtures("checks_rarely")
async def test_a_database_deleted_during_a_class_stops_the_bot_and_keeps_every_row(
    emulator: BotApiEmulator,
    database_url: str,
    database: Path,
    tmp_path: Path,
    caplog: pytest.LogCaptureFixture,
) -> None:
    user = emulator.user(6101)
    # A second name for the file, to read afterwards what landed in it once deleted.
    kept = tmp_path / "kept.db"
    async with bot_running(
        emulator, database_url, clock=ManualClock(), catalog=TINY_CATALOG
    ) as app:
        practice_id = await class_under_way(emulator, database_url, user.id)
        os.link(database, kept)
        os.link(files_of(database)[1], files_of(kept)[1])
        for file in files_of(database):
            file.unlink()
        # The next change is refused before it is written: the class stays at its pose.
        with pytest.raises(DatabaseLost):
            await press(app.bot_data[SERVICES].practice, Action.NEXT, user.id, practice_id, 0)
        assert await halted(app) == EXIT_DATABASE_LOST
    [line] = critical_lines(caplog)
    assert f"the database file {database} was deleted while the bot was running" in line
    assert "yogabot backup" in line and f"exit code {EXIT_DATABASE_LOST}" in line
    assert not [r for r in worse_than_warnings(caplog) if r.levelno < logging.CRITICAL]
    assert not cues_titled(user, "2/3")
    # Nothing was written into the deleted file after it was noticed.
    assert practice_rows(kept) == [(user.id, 0, PracticeStatus.ACTIVE)]
    # What the process still held was saved beside it, and the line's command restores it.
    [rescued] = rescued_copies(tmp_path)
    assert str(rescued) in line and private(rescued)
    assert present(files_of(database)) == []
    restore(line)
    practices = await stored_practices(database_url)
    assert [(p.user_id, p.current_step, p.status) for p in practices] == [
        (user.id, 0, PracticeStatus.ACTIVE)
    ]
    # A restart on the restored file goes on with the class where it was.
    async with bot_running(emulator, database_url, catalog=TINY_CATALOG):
        await user.send("/progress")
        await emulator.wait_for(has_message(user, "in progress"))


@pytest.mark.usefixtures("checks_rarely")
async def test_a_database_replaced_under_the_bot_stops_it_and_is_left_as_it_was_put(
    emulator: BotApiEmulator,
    database_url: str,
    database: Path,
    tmp_path: Path,
    caplog: pytest.LogCaptureFixture,
) -> None:
    user = emulator.user(6102)
    async with bot_running(
        emulator, database_url, clock=ManualClock(), catalog=TINY_CATALOG
    ) as app:
        practice_id = await class_under_way(emulator, database_url, user.id)
        # Another file moved into its place (its content alike, its inode another).
        other = tmp_path / "other.db"
        shutil.copyfile(database, other)
        os.replace(other, database)
        put = digest(database)
        with pytest.raises(DatabaseLost):
            await press(app.bot_data[SERVICES].practice, Action.NEXT, user.id, practice_id, 0)
        assert await halted(app) == EXIT_DATABASE_LOST
    [line] = critical_lines(caplog)
    assert f"the database file {database} was replaced by another file" in line
    assert "yogabot backup" in line
    assert not [r for r in worse_than_warnings(caplog) if r.levelno < logging.CRITICAL]
    assert digest(database) == put
    # The old -wal and -shm, which belong to the file the bot had, are not left beside the
    # new one (SQLite would replay that -wal into it).
    assert present(files_of(database)) == ["yogabot.db"]
    [rescued] = rescued_copies(tmp_path)
    assert str(rescued) in line
    assert practice_rows(rescued) == [(user.id, 0, PracticeStatus.ACTIVE)]


async def test_a_deleted_write_ahead_log_is_noticed_by_the_periodic_look(
    emulator: BotApiEmulator,
    database_url: str,
    database: Path,
    caplog: pytest.LogCaptureFixture,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """A transaction looks at the database file alone; the -wal and -shm are looked at
    every CHECK_SECONDS, with no traffic at all."""
    monkeypatch.setattr(database_file, "CHECK_SECONDS", 0.05)
    async with bot_running(emulator, database_url, catalog=TINY_CATALOG) as app:
        for file in files_of(database)[1:]:
            file.unlink()
        assert await halted(app) == EXIT_DATABASE_LOST
    [line] = critical_lines(caplog)
    assert f"{database}-wal, the database's wal file, was deleted" in line


@contextmanager
def disk_read_only() -> Iterator[None]:
    """From now on, each write on any connection fails as on a disk turned read-only: SQLite
    itself refuses it (PRAGMA query_only), with its own SQLITE_READONLY. Root ignores file
    modes, so a chmod would not do."""

    def refuse(conn: Any, cursor: Any, statement: str, *args: Any) -> None:
        if statement.lstrip().upper().startswith(("INSERT", "UPDATE", "DELETE")):
            conn.connection.dbapi_connection.cursor().execute("PRAGMA query_only=1")

    event.listen(Engine, "before_cursor_execute", refuse)
    try:
        yield
    finally:
        event.remove(Engine, "before_cursor_execute", refuse)


@pytest.mark.usefixtures("checks_rarely")
async def test_a_database_turned_read_only_stops_the_bot_with_one_clear_line(
    emulator: BotApiEmulator,
    database_url: str,
    database: Path,
    tmp_path: Path,
    caplog: pytest.LogCaptureFixture,
) -> None:
    user = emulator.user(6103)
    async with bot_running(
        emulator, database_url, clock=ManualClock(), catalog=TINY_CATALOG
    ) as app:
        await class_under_way(emulator, database_url, user.id)
        [cue] = cues_titled(user, "1/3")
        with disk_read_only():
            await user.tap(cue.message_id, text="Next")
            # The user hears it was not saved; the bot stops rather than go on without
            # keeping anything.
            await emulator.wait_for(has_message(user, common.NOT_SAVED))
            assert await halted(app) == EXIT_DATABASE_LOST
    [line] = critical_lines(caplog)
    assert f"the database {database} stopped keeping writes" in line
    assert "attempt to write a readonly database (SQLITE_READONLY)" in line
    assert f"{database.name}-shm writable" in line
    assert not [r for r in worse_than_warnings(caplog) if r.levelno < logging.CRITICAL]
    assert not rescued_copies(tmp_path)
    assert not cues_titled(user, "2/3")
    assert practice_rows(database) == [(user.id, 0, PracticeStatus.ACTIVE)]
