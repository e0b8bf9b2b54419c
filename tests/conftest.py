"""Shared fixtures: a migrated file database, a manual clock and a small class."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from sqlalchemy.ext.asyncio import AsyncEngine

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


@pytest.fixture(autouse=True)
def settings_from_tests_only(monkeypatch: pytest.MonkeyPatch) -> None:
    """A developer's own settings (environment or .env) must not change what tests see."""
    for name in Settings.model_fields:
        monkeypatch.delenv(name.upper(), raising=False)
    monkeypatch.setitem(Settings.model_config, "env_file", None)


@pytest.fixture
def database_url(tmp_path: Path) -> str:
    return f"sqlite+aiosqlite:///{tmp_path / 'yogabot.db'}"


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
