"""The services alone: a real database, a manual clock, timers faked (no Telegram)."""

from __future__ import annotations

import pytest

from bot.clock import ManualClock
from bot.practice.service import PracticeService
from bot.store import Store
from sequences import YogaClass
from tests.harness.fakes import FakeTimers


@pytest.fixture
def timers() -> FakeTimers:
    return FakeTimers()


@pytest.fixture
def practice(
    store: Store, clock: ManualClock, tiny_class: YogaClass, timers: FakeTimers
) -> PracticeService:
    return PracticeService(store, {tiny_class.id: tiny_class}, clock, timers)
