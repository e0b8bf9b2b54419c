"""Fixtures every level shares: the database on each back-end, a manual clock, a small class.

Every test that asks for a database runs twice: on a SQLite file and on a database of a
throwaway PostgreSQL server (tests/harness/postgres.py). ``@pytest.mark.backends("sqlite")``
keeps a test to the back-ends it is about (SQLite's pragmas, say).

A test's database is a copy of one migrated at the start of the run (per pytest-xdist
worker): a copied file on SQLite, ``CREATE DATABASE … TEMPLATE`` on PostgreSQL. Migrating
costs far more than the tests that use it; the migrations themselves are tested on empty
databases (``empty_database_url``, tests/store/test_schema.py) and by every bot process
the crash, worker and benchmark tests start on a new file.

The fixtures of one level live in that level's conftest.py: the emulator for the stories,
the practice service for the services, the running playground for the playground.
"""

from __future__ import annotations

import asyncio
import logging
import os
import shutil
from collections.abc import AsyncIterator, Coroutine, Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import NullPool, text
from sqlalchemy.ext.asyncio import AsyncEngine, create_async_engine

from bot.clock import ManualClock
from bot.database import create_engine, migrate
from bot.logs import NOISY_LOGGERS
from bot.settings import Settings
from bot.store import Store
from sequences import YogaClass
from tests.harness.factories import make_class
from tests.harness.postgres import TEMPLATE, PostgresServer, remove, start_server

BACKENDS = ("sqlite", "postgresql")


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line(
        "markers", "backends(*names): the database back-ends a test runs on (default: all)"
    )


# The tests that run whole bot processes take 20-30 s each, a hundred times the others:
# they go first, so pytest-xdist hands them to different workers at the start (its first
# round deals one test to each worker in turn) instead of leaving one of them for last.
LONG_RUNNING = "tests/processes/"


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    items.sort(key=lambda item: LONG_RUNNING not in item.nodeid)


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    if "backend" in metafunc.fixturenames:
        marker = metafunc.definition.get_closest_marker("backends")
        names = marker.args if marker else BACKENDS
        metafunc.parametrize("backend", names, indirect=True)


@pytest.fixture(autouse=True)
def settings_from_tests_only(monkeypatch: pytest.MonkeyPatch) -> None:
    """A developer's own settings (environment or .env) must not change what tests see.

    Every bot a test starts, in this process or as a process of its own with this
    environment, has no voice (VOICE_ENGINE=off): speaking the class takes a core for a
    minute. A test about the voice asks for one."""
    for name in Settings.model_fields:
        monkeypatch.delenv(name.upper(), raising=False)
    monkeypatch.setenv("VOICE_ENGINE", "off")
    monkeypatch.setitem(Settings.model_config, "env_file", None)


@pytest.fixture(autouse=True)
def logging_restored() -> Iterator[None]:
    """The command line's configure_logging changes the process's root logger (handlers,
    level) and the noisy loggers' levels; a test that runs it must not change what the
    tests after it log, so every test ends with them as they were."""
    root = logging.getLogger()
    handlers, level = root.handlers[:], root.level
    noisy = {name: logging.getLogger(name).level for name in NOISY_LOGGERS}
    yield
    root.handlers[:] = handlers
    root.setLevel(level)
    for name, noisy_level in noisy.items():
        logging.getLogger(name).setLevel(noisy_level)


@pytest.fixture
def backend(request: pytest.FixtureRequest) -> str:
    """The database back-end of this run of the test: "sqlite" or "postgresql"."""
    name: str = request.param
    return name


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


async def _migrated(url: str) -> None:
    engine = create_engine(url)
    try:
        await migrate(engine)
    finally:
        await engine.dispose()


def _run_apart(work: Coroutine[Any, Any, None]) -> None:
    """Run `work` to its end in an event loop of its own: a session fixture may be set up
    while a test's loop is running, and a loop cannot be started inside another."""
    with ThreadPoolExecutor(max_workers=1) as thread:
        thread.submit(asyncio.run, work).result()


@pytest.fixture(scope="session")
def sqlite_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A SQLite file migrated to head once per run; each test gets a copy."""
    path = tmp_path_factory.mktemp("template") / "yogabot.db"
    _run_apart(_migrated(f"sqlite+aiosqlite:///{path}"))
    # The last connection's close checkpointed the WAL into the file: the file alone is
    # the whole database.
    assert not path.with_name("yogabot.db-wal").exists()
    return path


@pytest.fixture(scope="session")
def postgres_template(postgres_server: PostgresServer) -> str:
    """A PostgreSQL database migrated to head once per run: the template of each test's."""

    async def create() -> None:
        admin = create_async_engine(
            postgres_server.admin_url(), isolation_level="AUTOCOMMIT", poolclass=NullPool
        )
        try:
            async with admin.connect() as connection:
                await connection.execute(text(f'CREATE DATABASE "{TEMPLATE}"'))
        finally:
            await admin.dispose()
        await _migrated(postgres_server.url(TEMPLATE))

    _run_apart(create())
    return TEMPLATE


async def _postgres_database(server: PostgresServer, template: str | None) -> AsyncIterator[str]:
    name = server.next_database_name()
    admin = create_async_engine(
        server.admin_url(), isolation_level="AUTOCOMMIT", poolclass=NullPool
    )
    copy = f' TEMPLATE "{template}"' if template else ""
    try:
        async with admin.connect() as connection:
            await connection.execute(text(f'CREATE DATABASE "{name}"{copy}'))
        yield server.url(name)
        async with admin.connect() as connection:
            await connection.execute(text(f'DROP DATABASE "{name}" WITH (FORCE)'))
    finally:
        await admin.dispose()


@pytest.fixture
async def database_url(
    backend: str, request: pytest.FixtureRequest, tmp_path: Path
) -> AsyncIterator[str]:
    """A database migrated to head: a copy of the SQLite template file, or a new database
    on the test PostgreSQL server made from its template."""
    if backend == "sqlite":
        template: Path = request.getfixturevalue("sqlite_template")
        path = tmp_path / "yogabot.db"
        shutil.copyfile(template, path)
        yield f"sqlite+aiosqlite:///{path}"
        return
    server: PostgresServer = request.getfixturevalue("postgres_server")
    async for url in _postgres_database(server, request.getfixturevalue("postgres_template")):
        yield url


@pytest.fixture
async def empty_database_url(
    backend: str, request: pytest.FixtureRequest, tmp_path: Path
) -> AsyncIterator[str]:
    """A database with nothing in it, not even a schema: for the migrations' own tests."""
    if backend == "sqlite":
        yield f"sqlite+aiosqlite:///{tmp_path / 'empty.db'}"
        return
    server: PostgresServer = request.getfixturevalue("postgres_server")
    async for url in _postgres_database(server, None):
        yield url


@pytest.fixture
async def db_engine(database_url: str) -> AsyncIterator[AsyncEngine]:
    engine = create_engine(database_url)
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
