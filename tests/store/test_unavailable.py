"""A PostgreSQL server that does not answer is StoreUnavailable, as a locked SQLite file is:
the services' callers then wait and try again instead of telling the user "Sorry"."""

from __future__ import annotations

import pytest

from bot.database import create_engine
from bot.store import Store, StoreUnavailable


async def test_an_unreachable_postgresql_server_is_store_unavailable() -> None:
    # Nothing listens on port 1 of this machine.
    engine = create_engine("postgresql+asyncpg://yogabot:not-shown@127.0.0.1:1/yogabot")
    store = Store(engine)
    try:
        with pytest.raises(StoreUnavailable) as caught:
            async with store.write() as uow:
                await uow.users.get(1)
        assert "not-shown" not in str(caught.value)
        with pytest.raises(StoreUnavailable):
            async with store.read() as uow:
                await uow.users.get(1)
        with pytest.raises(StoreUnavailable):
            async with store.peek() as uow:
                await uow.users.get(1)
    finally:
        await engine.dispose()
