"""The playground: the emulator, the real bot and the chat page, on free local ports."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

from playground import Playground
from tests.harness.playground import running_playground


@pytest.fixture
async def pg(database_url: str) -> AsyncIterator[Playground]:
    """The whole playground (emulator, real bot, chat page) on free local ports."""
    async with running_playground(database_url) as running:
        yield running
    assert running.emulator.internal_errors == []
