"""Engine, sessions and migrations: the only place that knows how to reach the database."""

from __future__ import annotations

from pathlib import Path
from typing import Any, cast

from alembic import command
from alembic.config import Config
from sqlalchemy import Connection, CursorResult, Result, event
from sqlalchemy.ext.asyncio import (
    AsyncEngine,
    AsyncSession,
    async_sessionmaker,
    create_async_engine,
)

MIGRATIONS_DIR = Path(__file__).resolve().parent.parent / "migrations"


# Execution option that makes a transaction take SQLite's write lock when it begins.
WRITE_LOCK = "sqlite_write_lock"
# How long a statement waits for another connection's lock before the database counts as
# unavailable (then the practice's timer tries again later; see StoreUnavailable).
BUSY_TIMEOUT_MS = 5000


def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
    # WAL lets a reader (stats, export) run beside the bot; busy_timeout waits for a lock
    # instead of failing; SQLite leaves foreign keys off unless asked on every connection.
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute(f"PRAGMA busy_timeout={int(BUSY_TIMEOUT_MS)}")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA synchronous=NORMAL")
    # Deleted rows are overwritten, not just unlinked: /forget_me must leave nothing readable
    # in the file (the WAL is emptied after it; see checkpoint below).
    cursor.execute("PRAGMA secure_delete=ON")
    cursor.close()
    # The driver's own transaction handling skips BEGIN before a SELECT, so a read-then-write
    # unit of work would not see one snapshot; SQLAlchemy emits BEGIN itself instead.
    dbapi_connection.isolation_level = None


def _sqlite_begin(connection: Connection) -> None:
    # A transaction that reads and then writes must hold the write lock from its start: in
    # WAL mode, a snapshot that another connection's commit has overtaken cannot be
    # upgraded to a writer, and SQLite fails that at once instead of waiting busy_timeout.
    options = connection.get_execution_options()
    if options.get("isolation_level") == "AUTOCOMMIT":
        return
    if options.get(WRITE_LOCK):
        connection.exec_driver_sql("BEGIN IMMEDIATE")
    else:
        connection.exec_driver_sql("BEGIN")


def create_engine(url: str) -> AsyncEngine:
    engine = create_async_engine(url)
    if engine.dialect.name == "sqlite":
        event.listen(engine.sync_engine, "connect", _sqlite_pragmas)
        event.listen(engine.sync_engine, "begin", _sqlite_begin)
    return engine


def create_sessionmaker(
    engine: AsyncEngine, *, write: bool = False
) -> async_sessionmaker[AsyncSession]:
    """Sessions for reading, or (write=True) for units of work that change rows."""
    bind = engine.execution_options(**{WRITE_LOCK: True}) if write else engine
    return async_sessionmaker(bind, expire_on_commit=False)


def alembic_config(connection: Connection | None = None) -> Config:
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS_DIR))
    # env.py uses this connection instead of opening its own event loop (asyncio.run would
    # fail inside the bot's running loop).
    config.attributes["connection"] = connection
    return config


async def migrate(engine: AsyncEngine, revision: str = "head") -> None:
    """Bring the schema up to `revision` over a connection of the running engine."""

    def upgrade(connection: Connection) -> None:
        command.upgrade(alembic_config(connection), revision)

    async with engine.begin() as connection:
        await connection.run_sync(upgrade)


async def checkpoint(engine: AsyncEngine) -> None:
    """Copy SQLite's write-ahead log into the database file and empty it, so that rows
    just deleted survive in neither. Other databases keep no such file: nothing to do."""
    if engine.dialect.name != "sqlite":
        return
    async with engine.connect() as connection:
        outside_any_transaction = await connection.execution_options(isolation_level="AUTOCOMMIT")
        await outside_any_transaction.exec_driver_sql("PRAGMA wal_checkpoint(TRUNCATE)")


def changed_rows(result: Result[Any]) -> int:
    """How many rows an UPDATE or DELETE changed: what a conditional update is judged by.
    The async session types every result as a plain Result; DML yields a CursorResult."""
    return cast(CursorResult[Any], result).rowcount
