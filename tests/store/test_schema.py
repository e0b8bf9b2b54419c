"""The schema exists only through migrations, and they build exactly the models."""

from __future__ import annotations

import asyncio
import multiprocessing
import sqlite3
from multiprocessing.process import BaseProcess

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from alembic.script import ScriptDirectory
from alembic.util.exc import CommandError
from sqlalchemy import Connection, text
from sqlalchemy.ext.asyncio import AsyncEngine

from bot.database import (
    HEAD_REVISION,
    MigrationFailed,
    alembic_config,
    create_engine,
    migrate,
    migrate_apart,
    schema_revision,
    sendable,
)
from bot.models import Base


def _differences(connection: Connection) -> list[object]:
    context = MigrationContext.configure(connection, opts={"compare_type": True})
    differences: list[object] = compare_metadata(context, Base.metadata)
    return differences


async def test_migrations_produce_exactly_the_models_schema(db_engine: AsyncEngine) -> None:
    async with db_engine.connect() as connection:
        assert await connection.run_sync(_differences) == []


async def test_an_empty_database_differs_from_the_models(empty_database_url: str) -> None:
    # Guards the test above: the comparison must be able to see a missing schema.
    engine = create_engine(empty_database_url)
    try:
        async with engine.connect() as connection:
            assert await connection.run_sync(_differences) != []
    finally:
        await engine.dispose()


async def test_migrating_twice_is_harmless(db_engine: AsyncEngine) -> None:
    await migrate(db_engine)
    async with db_engine.connect() as connection:
        version = await connection.scalar(text("SELECT version_num FROM alembic_version"))
        assert await connection.run_sync(_differences) == []
    assert version == ScriptDirectory.from_config(alembic_config()).get_current_head()


def test_the_head_revision_start_up_checks_for_is_alembics_head() -> None:
    assert ScriptDirectory.from_config(alembic_config()).get_current_head() == HEAD_REVISION


async def test_a_schema_behind_head_is_still_migrated(empty_database_url: str) -> None:
    # The shortcut for a schema at head must not skip a migration that is due.
    engine = create_engine(empty_database_url)
    try:
        await migrate(engine, revision="0007")
        assert await schema_revision(engine) == "0007"
        await migrate(engine)
        assert await schema_revision(engine) == HEAD_REVISION
        async with engine.connect() as connection:
            assert await connection.run_sync(_differences) == []
    finally:
        await engine.dispose()


@pytest.mark.backends("sqlite")
async def test_sqlite_pragmas_are_on(db_engine: AsyncEngine) -> None:
    async with db_engine.connect() as connection:
        assert await connection.scalar(text("PRAGMA foreign_keys")) == 1
        assert await connection.scalar(text("PRAGMA journal_mode")) == "wal"
        assert await connection.scalar(text("PRAGMA busy_timeout")) == 5000


async def test_users_once_bound_to_a_group_get_their_private_chat_back(
    empty_database_url: str,
) -> None:
    # Before 0012 a tap in a group could record the group as the user's chat.
    engine = create_engine(empty_database_url)
    try:
        await migrate(engine, revision="0008")
        async with engine.begin() as connection:
            for user_id, chat_id in ((7101, -7100), (7102, 7102)):
                await connection.execute(
                    text(
                        "INSERT INTO users (id, chat_id, first_name, created_at)"
                        " VALUES (:id, :chat, 'A', CURRENT_TIMESTAMP)"
                    ),
                    {"id": user_id, "chat": chat_id},
                )
                await connection.execute(
                    text(
                        "INSERT INTO reminders (user_id, chat_id, hour, minute, days, enabled,"
                        " failures) VALUES (:id, :chat, 7, 30, '*', true, 0)"
                    ),
                    {"id": user_id, "chat": chat_id},
                )
            for practice_id, user_id, chat_id in ((1, 7101, -7100), (2, 7102, 7102)):
                await connection.execute(
                    text(
                        "INSERT INTO practice_sessions (id, user_id, chat_id, class_id, status,"
                        " started_at, current_step, practised_seconds, summary_pending)"
                        " VALUES (:id, :user, :chat, 'c', 'active', CURRENT_TIMESTAMP, 0, 0, false)"
                    ),
                    {"id": practice_id, "user": user_id, "chat": chat_id},
                )
        await migrate(engine)
        async with engine.connect() as connection:
            practices = await connection.execute(
                text("SELECT id, status, stop_reason FROM practice_sessions ORDER BY id")
            )
            # The class begun in the group ends; the one in a private chat goes on.
            assert list(map(tuple, practices.all())) == [
                (1, "stopped", "unreachable"),
                (2, "active", None),
            ]
            users = (await connection.execute(text("SELECT id, chat_id FROM users"))).all()
            reminders = await connection.execute(text("SELECT user_id, chat_id FROM reminders"))
            assert sorted(map(tuple, users)) == [(7101, 7101), (7102, 7102)]
            assert sorted(map(tuple, reminders.all())) == [(7101, 7101), (7102, 7102)]
    finally:
        await engine.dispose()


async def test_migrations_that_copy_a_table_keep_the_rows_that_refer_to_it(
    empty_database_url: str,
) -> None:
    # 0006 adds a column to users, which SQLite's batch mode does by copying the table and
    # dropping the old one: with foreign keys on, that drop deleted every practice.
    engine = create_engine(empty_database_url)
    try:
        await migrate(engine, revision="0005")
        async with engine.begin() as connection:
            await connection.execute(
                text(
                    "INSERT INTO users (id, chat_id, first_name, created_at)"
                    " VALUES (7201, 7201, 'A', CURRENT_TIMESTAMP)"
                )
            )
            await connection.execute(
                text(
                    "INSERT INTO practice_sessions (id, user_id, chat_id, class_id, status,"
                    " started_at, current_step, practised_seconds)"
                    " VALUES (1, 7201, 7201, 'c', 'finished', CURRENT_TIMESTAMP, 3, 600)"
                )
            )
        await migrate(engine)
        async with engine.connect() as connection:
            practices = await connection.execute(
                text("SELECT id, user_id, practised_seconds, voice FROM practice_sessions")
            )
            assert list(map(tuple, practices.all())) == [(1, 7201, 600, False)]
            if engine.dialect.name == "sqlite":
                # Foreign keys are on again for what the bot does next.
                pragma = await connection.exec_driver_sql("PRAGMA foreign_keys")
                assert pragma.scalar() == 1
    finally:
        await engine.dispose()


async def test_migrating_apart_brings_an_empty_database_to_head(empty_database_url: str) -> None:
    # The bot's own start-up path: Alembic runs in a child process, the schema is the same.
    engine = create_engine(empty_database_url)
    try:
        await migrate_apart(engine, empty_database_url, "WARNING")
        assert await schema_revision(engine) == HEAD_REVISION
        async with engine.connect() as connection:
            assert await connection.run_sync(_differences) == []
    finally:
        await engine.dispose()


@pytest.mark.backends("sqlite")
async def test_a_migration_failing_apart_raises_its_own_error_here(
    empty_database_url: str,
) -> None:
    # A schema stamped with a revision this code does not know (a newer release's): the
    # child's Alembic refuses it, and start-up sees Alembic's own error and words.
    engine = create_engine(empty_database_url)
    try:
        async with engine.begin() as connection:
            await connection.execute(text("CREATE TABLE alembic_version (version_num TEXT)"))
            await connection.execute(text("INSERT INTO alembic_version VALUES ('9999')"))
        with pytest.raises(CommandError, match="9999"):
            await migrate_apart(engine, empty_database_url, "WARNING")
    finally:
        await engine.dispose()


@pytest.mark.backends("sqlite")
@pytest.mark.parametrize("url", ["sqlite+aiosqlite://", "sqlite+aiosqlite:///:memory:"])
async def test_a_database_in_memory_is_migrated_in_its_own_process(url: str) -> None:
    # A child process could not reach it: it would migrate a memory of its own.
    engine = create_engine(url)
    try:
        await migrate_apart(engine, url, "WARNING")
        assert await schema_revision(engine) == HEAD_REVISION
    finally:
        await engine.dispose()


class _Unpicklable(Exception):
    def __init__(self, words: str, code: int) -> None:
        super().__init__(f"{words} ({code})")


def test_an_error_that_could_not_cross_to_the_parent_is_told_apart() -> None:
    # Its constructor takes other arguments than it keeps: unpickling it fails.
    assert not sendable(_Unpicklable("disk I/O error", 10))
    assert sendable(CommandError("Can't locate revision identified by '9999'"))


@pytest.mark.backends("sqlite")
async def test_a_migration_whose_process_is_killed_stops_start_up_with_the_schema_behind(
    empty_database_url: str,
) -> None:
    # Another connection holds the write lock (in WAL mode, so the bot can still read), and
    # the child waits on it (busy_timeout) until it is killed, as the kernel's OOM killer
    # or a signal to it alone would.
    path = empty_database_url.removeprefix("sqlite+aiosqlite:///")
    holder = sqlite3.connect(path, isolation_level=None)
    holder.execute("PRAGMA journal_mode=WAL")
    holder.execute("BEGIN IMMEDIATE")
    engine = create_engine(empty_database_url)
    try:
        before = set(multiprocessing.active_children())
        migrating = asyncio.create_task(migrate_apart(engine, empty_database_url, "WARNING"))
        for child in await _new_children(before):
            child.kill()
        with pytest.raises(MigrationFailed, match="ended before it was done"):
            await migrating
        holder.execute("ROLLBACK")
        assert await schema_revision(engine) is None
    finally:
        holder.close()
        await engine.dispose()


async def _new_children(before: set[BaseProcess]) -> set[BaseProcess]:
    async with asyncio.timeout(30):
        while True:
            children = set(multiprocessing.active_children()) - before
            if children:
                return children
            await asyncio.sleep(0.01)
