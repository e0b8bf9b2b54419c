"""The stories: the real Application, over HTTP, against the Bot API emulator."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

from playground.emulator import BotApiEmulator
from tests.harness.bot import TOKEN


@pytest.fixture
async def emulator() -> AsyncIterator[BotApiEmulator]:
    """A local Bot API server; the real Application talks to it."""
    async with BotApiEmulator(token=TOKEN) as emu:
        yield emu
