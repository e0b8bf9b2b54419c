"""The watch over a SQLite file (bot/database_file.py), without the bot: which of SQLite's
errors mean the file keeps nothing more, and which file changes it sees. The bot's side of
it (the CRITICAL line, the stop) is in tests/stories/test_database_lost.py."""

from __future__ import annotations

import os
import shutil
import sqlite3
from collections.abc import Iterator
from contextlib import closing
from pathlib import Path

import pytest
from sqlalchemy.exc import OperationalError
from sqlalchemy.ext.asyncio import AsyncEngine

from bot.database_file import DatabaseLost, DatabaseWatch, LossKind, fatal_sqlite_error
from bot.store import Store

pytestmark = pytest.mark.backends("sqlite")


@pytest.fixture
def connection(tmp_path: Path) -> Iterator[sqlite3.Connection]:
    with closing(sqlite3.connect(tmp_path / "plain.db", isolation_level=None)) as made:
        made.execute("CREATE TABLE t (x TEXT)")
        yield made


def raised(connection: sqlite3.Connection, statement: str) -> sqlite3.Error:
    with pytest.raises(sqlite3.Error) as caught:
        connection.execute(statement)
    return caught.value


def test_a_read_only_database_is_fatal(connection: sqlite3.Connection) -> None:
    connection.execute("PRAGMA query_only=1")
    error = raised(connection, "INSERT INTO t VALUES ('a')")
    assert fatal_sqlite_error(error) == "attempt to write a readonly database (SQLITE_READONLY)"
    # As SQLAlchemy hands it over, too.
    wrapped = OperationalError("INSERT", None, error)
    assert fatal_sqlite_error(wrapped) == fatal_sqlite_error(error)


def test_a_file_that_is_not_a_database_is_fatal(tmp_path: Path) -> None:
    garbage = tmp_path / "garbage.db"
    garbage.write_bytes(b"not a database, " * 256)
    with closing(sqlite3.connect(garbage)) as connection:
        error = raised(connection, "SELECT * FROM sqlite_schema")
    assert fatal_sqlite_error(error) == "file is not a database (SQLITE_NOTADB)"


def test_a_disk_io_error_is_fatal_whatever_its_extended_code() -> None:
    # SQLite's extended codes keep the primary one in the low byte: SQLITE_IOERR_FSYNC is
    # 10 | 4 << 8. No test can make a disk fail, so the driver's error is built here.
    error = sqlite3.OperationalError("disk I/O error")
    error.sqlite_errorcode = sqlite3.SQLITE_IOERR | 4 << 8
    error.sqlite_errorname = "SQLITE_IOERR_FSYNC"
    assert fatal_sqlite_error(error) == "disk I/O error (SQLITE_IOERR_FSYNC)"


def test_a_locked_or_full_database_is_trouble_that_passes(
    connection: sqlite3.Connection, tmp_path: Path
) -> None:
    with closing(sqlite3.connect(tmp_path / "plain.db", timeout=0, isolation_level=None)) as other:
        other.execute("BEGIN IMMEDIATE")
        locked = raised(connection, "INSERT INTO t VALUES ('a')")
        other.execute("ROLLBACK")
    assert locked.sqlite_errorname == "SQLITE_BUSY"
    pages = connection.execute("PRAGMA page_count").fetchone()[0]
    connection.execute(f"PRAGMA max_page_count={pages}")
    full = raised(connection, "INSERT INTO t VALUES (zeroblob(100000))")
    assert full.sqlite_errorname == "SQLITE_FULL"
    assert fatal_sqlite_error(locked) is None
    assert fatal_sqlite_error(full) is None
    assert fatal_sqlite_error(ValueError("no SQLite error")) is None


async def test_the_watch_sees_the_file_deleted_and_refuses_every_transaction_after(
    db_engine: AsyncEngine, database_url: str, tmp_path: Path
) -> None:
    watch = DatabaseWatch.start(db_engine)
    assert watch is not None
    store = Store(db_engine)
    try:
        async with store.write() as uow:
            await uow.users.get(1)
        assert watch.check() is None
        (tmp_path / "yogabot.db").unlink()
        # Refused before BEGIN: no unit of work, reading or writing, reaches the gone file.
        for unit in (store.write, store.read, store.peek):
            with pytest.raises(DatabaseLost):
                async with unit() as uow:
                    await uow.users.get(1)
        assert watch.loss is not None and watch.loss.kind is LossKind.DELETED
    finally:
        await watch.close()


async def test_the_watch_sees_the_file_replaced(
    db_engine: AsyncEngine, database_url: str, tmp_path: Path
) -> None:
    watch = DatabaseWatch.start(db_engine)
    assert watch is not None
    try:
        database = tmp_path / "yogabot.db"
        shutil.copyfile(database, tmp_path / "other.db")
        os.replace(tmp_path / "other.db", database)
        loss = watch.check()
        assert loss is not None and loss.kind is LossKind.REPLACED
        assert loss.what == (
            f"the database file {database} was replaced by another file while the bot was running"
        )
    finally:
        await watch.close()


@pytest.mark.backends("postgresql")
async def test_postgresql_has_no_file_to_watch(db_engine: AsyncEngine) -> None:
    assert DatabaseWatch.start(db_engine) is None
