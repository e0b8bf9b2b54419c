"""Engine, sessions and migrations: the only place that knows how to reach the database."""

from __future__ import annotations

import asyncio
import multiprocessing
import pickle
import sqlite3
from concurrent.futures import ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from pathlib import Path
from typing import TYPE_CHECKING, Any, cast

from sqlalchemy import Connection, CursorResult, Result, event, inspect, make_url, text
from sqlalchemy.ext.asyncio import (
    AsyncConnection,
    AsyncEngine,
    AsyncSession,
    async_sessionmaker,
    create_async_engine,
)

if TYPE_CHECKING:
    from alembic.config import Config

MIGRATIONS_DIR = Path(__file__).resolve().parent.parent / "migrations"
# The advisory lock key migrations hold on PostgreSQL, far from any chat id (chat locks use
# the chat id itself; see bot/store/chat_locks.py).
MIGRATION_LOCK = 0x796F_6761_6D69_6772  # "yogamigr"


# Execution option that makes a transaction take SQLite's write lock when it begins.
WRITE_LOCK = "sqlite_write_lock"
# Execution option for a unit of one query, which needs no snapshot: SQLite runs it without
# a BEGIN around it (each statement is atomic by itself), at half the cost of a read unit.
NO_SNAPSHOT = "sqlite_no_snapshot"
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
    if options.get("isolation_level") == "AUTOCOMMIT" or options.get(NO_SNAPSHOT):
        return
    if options.get(WRITE_LOCK):
        connection.exec_driver_sql("BEGIN IMMEDIATE")
    else:
        connection.exec_driver_sql("BEGIN")


# PostgreSQL: connections each worker keeps open, and how many more it may open in a burst.
# Ten cover a worker's concurrent updates, timers and reminder tick; several workers share
# the server's max_connections (100 by default).
POOL_SIZE = 10
POOL_OVERFLOW = 10
# Seconds to wait for a free connection before the database counts as unavailable.
POOL_TIMEOUT = 10


def create_engine(url: str) -> AsyncEngine:
    """hide_parameters: a statement's values (a note, a name) stay out of the text of every
    database error, which may be logged."""
    if url.startswith("postgresql"):
        return create_async_engine(
            url,
            pool_size=POOL_SIZE,
            max_overflow=POOL_OVERFLOW,
            pool_timeout=POOL_TIMEOUT,
            # A connection the server dropped (a restart, a failover) is noticed before use.
            pool_pre_ping=True,
            # Recycled well inside the idle timeouts of proxies such as PgBouncer.
            pool_recycle=1800,
            hide_parameters=True,
        )
    engine = create_async_engine(url, hide_parameters=True)
    if engine.dialect.name == "sqlite":
        event.listen(engine.sync_engine, "connect", _sqlite_pragmas)
        event.listen(engine.sync_engine, "begin", _sqlite_begin)
    return engine


def create_sessionmaker(
    engine: AsyncEngine, *, write: bool = False, snapshot: bool = True
) -> async_sessionmaker[AsyncSession]:
    """Sessions for reading, or (write=True) for units of work that change rows, or
    (snapshot=False) for a single query."""
    bind = engine
    if write:
        bind = engine.execution_options(**{WRITE_LOCK: True})
    elif not snapshot:
        bind = engine.execution_options(**{NO_SNAPSHOT: True})
    return async_sessionmaker(bind, expire_on_commit=False)


def alembic_config(connection: Connection | None = None) -> Config:
    # Alembic (11 MB resident) is loaded only to migrate: never by the bot's own process
    # (migrate_apart).
    from alembic.config import Config

    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS_DIR))
    # env.py uses this connection instead of opening its own event loop (asyncio.run would
    # fail inside the bot's running loop).
    config.attributes["connection"] = connection
    return config


# The newest migration: a schema at it needs nothing, and start-up sees that with one query
# instead of loading Alembic. tests/store/test_schema.py checks it is Alembic's head.
HEAD_REVISION = "0017"


async def migrate(engine: AsyncEngine, revision: str = "head") -> None:
    """Bring the schema up to `revision` over a connection of the running engine."""
    if revision == "head" and await schema_revision(engine) == HEAD_REVISION:
        return

    def upgrade(connection: Connection) -> None:
        from alembic import command

        if connection.dialect.name == "postgresql":
            # Workers starting together migrate one after the other: the second waits
            # here, then finds the schema at head and has nothing to do.
            connection.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": MIGRATION_LOCK})
        command.upgrade(alembic_config(connection), revision)

    if engine.dialect.name != "sqlite":
        async with engine.begin() as connection:
            await connection.run_sync(upgrade)
        return
    # SQLite alters a table by copying it (Alembic's batch mode) and dropping the old one;
    # with foreign keys on, that drop deletes every row that refers to the table (dropping
    # `users` would take every practice with it). So, as SQLite's own instructions for
    # altering a table say, foreign keys are off while it migrates (the pragma is ignored
    # inside a transaction: it is set outside one), and checked before it commits.
    async with engine.connect() as connection:
        await _foreign_keys(connection, on=False)
        try:
            await connection.execution_options(**{NO_SNAPSHOT: False, WRITE_LOCK: True})
            async with connection.begin():
                await connection.run_sync(upgrade)
                broken = (await connection.exec_driver_sql("PRAGMA foreign_key_check")).all()
                if broken:
                    raise MigrationFailed(f"the migration left {len(broken)} dangling references")
        finally:
            await _foreign_keys(connection, on=True)


async def _foreign_keys(connection: AsyncConnection, *, on: bool) -> None:
    """PRAGMA foreign_keys on this SQLite connection, outside any transaction."""
    await connection.execution_options(**{NO_SNAPSHOT: True, WRITE_LOCK: False})
    await connection.exec_driver_sql(f"PRAGMA foreign_keys={'ON' if on else 'OFF'}")
    await connection.commit()


class MigrationFailed(Exception):
    """A migration that failed in the child process: with an error that could not be sent
    back as it was (the message is that error's type and words), or by the process ending
    before it was done."""


async def migrate_apart(engine: AsyncEngine, url: str, log_level: str = "INFO") -> None:
    """Bring the schema at `url` (the database of `engine`) up to head in a short-lived
    child process, which logs at `log_level`.

    Alembic and what it loads (Mako, Pygments) stay some 11 MB resident in a process once
    imported; a bot that migrated at start-up would carry them to its end, though it never
    migrates again. The child imports them, migrates and exits: the bot process only ever
    runs the one query that finds the schema at head. An error in the child is raised here
    as it was raised there, so start-up reports it as before. A SQLite database in memory
    is private to this process: it is migrated here."""
    if await schema_revision(engine) == HEAD_REVISION:
        return
    if engine.dialect.name == "sqlite" and _in_memory(url):
        await migrate(engine)
        return
    await asyncio.to_thread(_migrate_in_child, url, log_level)


def _in_memory(url: str) -> bool:
    parsed = make_url(url)
    name = parsed.database
    return not name or name == ":memory:" or parsed.query.get("mode") == "memory"


def _migrate_in_child(url: str, log_level: str) -> None:
    # "spawn": a fresh interpreter, not a copy of this one with its threads and its loop.
    # It imports this process's __main__ again under another name, which every way of
    # starting the bot (`yogabot`, `python -m cli`) allows.
    context = multiprocessing.get_context("spawn")
    with ProcessPoolExecutor(max_workers=1, mp_context=context) as child:
        try:
            child.submit(_migrate_here, url, log_level).result()
        except BrokenProcessPool as exc:
            # Killed (out of memory, a signal to it alone): the migration's transaction
            # ended with it, and start-up must not go on with the schema behind.
            raise MigrationFailed("the migration's process ended before it was done") from exc


def _migrate_here(url: str, log_level: str) -> None:
    """The child's whole work."""
    from bot.logs import configure_logging

    configure_logging(log_level)

    async def upgrade() -> None:
        engine = create_engine(url)
        try:
            await migrate(engine)
        finally:
            await engine.dispose()

    try:
        asyncio.run(upgrade())
    except Exception as exc:
        # The error goes back to the parent pickled. One that cannot be (a driver's own
        # class) would arrive as a PicklingError, saying nothing of what went wrong.
        if sendable(exc):
            raise
        raise MigrationFailed(f"{type(exc).__name__}: {exc}") from exc


def sendable(error: BaseException) -> bool:
    """Whether `error` can be sent to another process as it is: pickled there, and
    unpickled here (an exception whose arguments differ from its constructor's fails only
    then)."""
    try:
        pickle.loads(pickle.dumps(error))
    except Exception:
        return False
    return True


async def schema_revision(engine: AsyncEngine) -> str | None:
    """The migration the schema is at, or None for a database never migrated."""
    async with engine.connect() as connection:
        exists = await connection.run_sync(lambda sync: inspect(sync).has_table("alembic_version"))
        if not exists:
            return None
        revision: str | None = await connection.scalar(
            text("SELECT version_num FROM alembic_version")
        )
        return revision


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


class BackupError(Exception):
    """A backup that could not be made; the message is one line for the operator."""


def backup_sqlite(url: str, target: Path) -> int:
    """Copy a SQLite database into `target` with SQLite's online backup, page by page,
    while the bot keeps running (writers wait only for each short step). The pages copied.
    PostgreSQL has its own tool for this: pg_dump."""
    parsed = make_url(url)
    if parsed.get_backend_name() != "sqlite":
        raise BackupError(
            "this is PostgreSQL: back it up with pg_dump, e.g."
            " pg_dump --format=custom --file=yogabot.dump yogabot"
        )
    source_file = parsed.database
    if not source_file or not Path(source_file).exists():
        raise BackupError(f"no database file at {source_file or '(none)'}")
    if target.exists():
        raise BackupError(f"{target} exists already; choose a new file")
    copied = 0

    def progress(_status: int, remaining: int, total: int) -> None:
        nonlocal copied
        copied = total - remaining

    try:
        source = sqlite3.connect(f"file:{source_file}?mode=ro", uri=True)
        try:
            destination = sqlite3.connect(target)
            try:
                # 256 pages a step: the bot's writers are held up for milliseconds at a time.
                source.backup(destination, pages=256, progress=progress)
            finally:
                destination.close()
        finally:
            source.close()
    except sqlite3.Error as exc:
        target.unlink(missing_ok=True)
        raise BackupError(f"the backup failed: {exc}") from None
    return copied
