"""Units of work: what each kind takes from the database."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from sqlalchemy import event
from sqlalchemy.ext.asyncio import AsyncEngine

from bot.store import Store

NOW = datetime(2026, 1, 5, 7, 30, tzinfo=UTC)


def statements_of(engine: AsyncEngine) -> list[str]:
    seen: list[str] = []

    def note(_conn: object, _cursor: object, statement: str, *_: object) -> None:
        seen.append(statement.split()[0].upper())

    event.listen(engine.sync_engine, "before_cursor_execute", note)
    return seen


async def test_a_peek_sees_what_was_committed(store: Store) -> None:
    async with store.write() as uow:
        await uow.users.save(51, 51, "Ana", NOW)
    async with store.peek() as uow:
        user = await uow.users.get(51)
    assert user is not None and user.first_name == "Ana"


@pytest.mark.backends("sqlite")
async def test_on_sqlite_a_peek_is_one_statement_and_a_read_a_transaction(
    db_engine: AsyncEngine, store: Store
) -> None:
    seen = statements_of(db_engine)
    async with store.peek() as uow:
        await uow.users.get(51)
    assert seen == ["SELECT"]
    seen.clear()
    async with store.read() as uow:
        await uow.users.get(51)
    assert seen == ["BEGIN", "SELECT"]
