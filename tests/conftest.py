"""Shared fixtures: a migrated database on each back-end, a manual clock, a small class.

Every test that asks for a database runs twice: on a SQLite file and on a database of a
throwaway PostgreSQL server (tests/postgres.py). ``@pytest.mark.backends("sqlite")`` keeps
a test to the back-ends it is about (SQLite's pragmas, say).
"""

from __future__ import annotations

import os
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest
from sqlalchemy import NullPool, text
from sqlalchemy.ext.asyncio import AsyncEngine, create_async_engine

from bot.clock import ManualClock
from bot.database import create_engine, migrate
from bot.practice import PracticeService
from bot.settings import Settings
from bot.store import Store
from playground import Playground
from playground.emulator import BotApiEmulator
from sequences import YogaClass
from tests.bot_harness import TOKEN
from tests.factories import make_class
from tests.fakes import FakeTimers
from tests.playground_harness import running_playground
from tests.postgres import PostgresServer, remove, start_server

BACKENDS = ("sqlite", "postgresql")


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line(
        "markers", "backends(*names): the database back-ends a test runs on (default: all)"
    )


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    if "database_url" in metafunc.fixturenames:
        marker = metafunc.definition.get_closest_marker("backends")
        names = marker.args if marker else BACKENDS
        metafunc.parametrize("database_url", names, indirect=True)


@pytest.fixture(autouse=True)
def settings_from_tests_only(monkeypatch: pytest.MonkeyPatch) -> None:
    """A developer's own settings (environment or .env) must not change what tests see."""
    for name in Settings.model_fields:
        monkeypatch.delenv(name.upper(), raising=False)
    monkeypatch.setitem(Settings.model_config, "env_file", None)


@pytest.fixture(scope="session")
def postgres_server() -> Iterator[PostgresServer]:
    started = start_server()
    if isinstance(started, str):
        # In CI a missing server is a failure, as a missing browser is: never a quiet skip.
        if os.environ.get("CI"):
            pytest.fail(started)
        pytest.skip(started)
    yield started
    remove(started)


@pytest.fixture
async def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[str]:
    """An empty database: a SQLite file, or a new database on the test PostgreSQL server."""
    if request.param == "sqlite":
        yield f"sqlite+aiosqlite:///{tmp_path / 'yogabot.db'}"
        return
    server: PostgresServer = request.getfixturevalue("postgres_server")
    name = server.next_database_name()
    admin = create_async_engine(
        server.admin_url(), isolation_level="AUTOCOMMIT", poolclass=NullPool
    )
    try:
        async with admin.connect() as connection:
            await connection.execute(text(f'CREATE DATABASE "{name}"'))
        yield server.url(name)
        async with admin.connect() as connection:
            await connection.execute(text(f'DROP DATABASE "{name}" WITH (FORCE)'))
    finally:
        await admin.dispose()


@pytest.fixture
async def db_engine(database_url: str) -> AsyncIterator[AsyncEngine]:
    engine = create_engine(database_url)
    await migrate(engine)
    yield engine
    await engine.dispose()


@pytest.fixture
def store(db_engine: AsyncEngine) -> Store:
    return Store(db_engine)


@pytest.fixture
def clock() -> ManualClock:
    return ManualClock()


@pytest.fixture
def tiny_class() -> YogaClass:
    return make_class()


@pytest.fixture
def timers() -> FakeTimers:
    return FakeTimers()


@pytest.fixture
def practice(
    store: Store, clock: ManualClock, tiny_class: YogaClass, timers: FakeTimers
) -> PracticeService:
    return PracticeService(store, {tiny_class.id: tiny_class}, clock, timers)


@pytest.fixture
async def emulator() -> AsyncIterator[BotApiEmulator]:
    """A local Bot API server for the story tests; the real Application talks to it."""
    async with BotApiEmulator(token=TOKEN) as emu:
        yield emu


@pytest.fixture
async def pg(database_url: str) -> AsyncIterator[Playground]:
    """The whole playground (emulator, real bot, chat page) on free local ports."""
    async with running_playground(database_url) as running:
        yield running
    assert running.emulator.internal_errors == []
