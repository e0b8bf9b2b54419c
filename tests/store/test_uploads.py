"""The file_id of an uploaded picture, when two workers upload the same picture at once."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime

import pytest
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine

from bot.store import Store

NOW = datetime(2026, 1, 5, 7, 30, tzinfo=UTC)


@pytest.mark.backends("postgresql")
async def test_two_workers_remembering_one_picture_at_once_both_succeed(
    db_engine: AsyncEngine, store: Store
) -> None:
    """Both find no row and insert; the second insert waits for the first and, before this
    was handled, failed on the key: its cue, already delivered, went unconfirmed and was
    sent again."""
    first_inserted, second_waits = asyncio.Event(), asyncio.Event()

    async def first() -> None:
        async with store.write() as uow:
            await uow.uploads.remember("pose-1", "id-first", NOW)
            first_inserted.set()
            await second_waits.wait()

    async def second() -> None:
        await first_inserted.wait()
        async with store.write() as uow:
            await uow.uploads.remember("pose-1", "id-second", NOW)

    async def watch() -> None:
        # The second insert blocks on the first's uncommitted key: then the first commits.
        async with db_engine.connect() as connection:
            while True:
                waiting = await connection.scalar(
                    text("SELECT count(*) FROM pg_locks WHERE NOT granted")
                )
                if waiting:
                    second_waits.set()
                    return
                await asyncio.sleep(0.01)

    async with asyncio.timeout(10):
        await asyncio.gather(first(), second(), watch())
    async with store.read() as uow:
        assert await uow.uploads.file_id("pose-1") == "id-second"
