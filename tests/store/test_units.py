"""Units of work: what each kind takes from the database, and how they follow one another."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime

import pytest
from sqlalchemy import event, text
from sqlalchemy.ext.asyncio import AsyncEngine, create_async_engine

from bot import database
from bot.store import Store, StoreUnavailable, unit_of_work
from handlers.rate_limit import PriorityRateLimiter

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


@pytest.mark.backends("sqlite")
async def test_on_sqlite_one_processs_writers_take_turns_in_order_not_by_busy_timeout(
    monkeypatch: pytest.MonkeyPatch, db_engine: AsyncEngine, store: Store
) -> None:
    """Left to SQLite, a writer that waits longer than busy_timeout for another's write
    lock fails "database is locked". The process's writers queue before they begin
    instead: however many, each goes in its turn, first come first served."""
    monkeypatch.setattr(database, "BUSY_TIMEOUT_MS", 50)  # for the connections opened now
    order: list[int] = []

    async def writer(n: int) -> None:
        async with store.write() as uow:
            order.append(n)
            await uow.users.save(n, n, "Ana", NOW)
            await asyncio.sleep(0.03)  # held well past busy_timeout, all told

    await asyncio.gather(*(writer(n) for n in range(8)))
    assert order == list(range(8))
    async with store.peek() as uow:
        assert all([await uow.users.get(n) for n in range(8)])


@pytest.mark.backends("sqlite")
async def test_on_sqlite_a_writer_waiting_for_its_turn_holds_no_connection(
    monkeypatch: pytest.MonkeyPatch, db_engine: AsyncEngine, store: Store
) -> None:
    """Writers queued behind another hold no pooled connection (readers still get one);
    one that waits longer than WRITE_TURN_SECONDS is StoreUnavailable, and nothing of it
    is stored."""
    monkeypatch.setattr(unit_of_work, "WRITE_TURN_SECONDS", 0.2)
    holding, let_go = asyncio.Event(), asyncio.Event()

    async def holder() -> None:
        async with store.write() as uow:
            await uow.users.save(1, 1, "Ana", NOW)
            holding.set()
            await let_go.wait()

    async def queued(n: int) -> None:
        async with store.write() as uow:
            await uow.users.save(n, n, "Ben", NOW)

    held = asyncio.create_task(holder())
    await holding.wait()
    waiting = [asyncio.create_task(queued(n)) for n in range(2, 22)]
    await asyncio.sleep(0.05)
    pool = db_engine.sync_engine.pool
    assert pool.checkedout() == 1  # type: ignore[attr-defined]
    async with store.peek() as uow:
        assert await uow.users.get(1) is None  # a reader goes on; the holder's row is not in yet
    results = await asyncio.gather(*waiting, return_exceptions=True)
    assert all(isinstance(r, StoreUnavailable) for r in results), results
    let_go.set()
    await held
    async with store.peek() as uow:
        assert await uow.users.get(1) is not None
        assert await uow.users.get(2) is None


async def test_a_unit_of_work_inside_another_of_the_same_task_is_refused(store: Store) -> None:
    """On SQLite a write inside a write would wait for itself; any unit inside another holds
    two connections at once. A task's units follow one another."""
    for outer, inner in (("write", "write"), ("write", "read"), ("read", "write")):
        async with getattr(store, outer)():
            with pytest.raises(RuntimeError, match=f"a {inner} unit of work opened inside"):
                async with getattr(store, inner)():
                    pass
    # Another task's unit is its own, even if the task began inside a unit.
    async with store.write() as uow:
        await uow.users.save(3, 3, "Cai", NOW)
        await asyncio.create_task(_peek_user(store, 4))


async def _peek_user(store: Store, user_id: int) -> None:
    async with store.peek() as uow:
        await uow.users.get(user_id)


async def test_a_bot_api_call_inside_a_unit_of_work_is_refused(store: Store) -> None:
    """A Telegram call that hangs until its timeout must not hold a transaction (on SQLite,
    the one write lock) that long: the rate limiter, which every call passes, refuses it."""
    limiter = PriorityRateLimiter(max_retries=0)
    sent: list[str] = []

    async def send() -> bool:
        sent.append("sent")
        return True

    async with store.write():
        with pytest.raises(RuntimeError, match="inside a write unit of work"):
            await limiter.process_request(send, (), {}, "sendMessage", {"chat_id": 1}, None)
    assert sent == []
    assert await limiter.process_request(send, (), {}, "sendMessage", {"chat_id": 1}, None)


async def test_no_pooled_connection_free_within_the_pools_timeout_is_the_database_unavailable(
    database_url: str,
) -> None:
    """A burst that keeps every pooled connection busy past the pool's timeout: the unit
    that waited is StoreUnavailable (the caller's "try again later", the player's 503), not
    SQLAlchemy's own TimeoutError escaping as a crash (a 500 and a traceback per request)."""
    engine = create_async_engine(database_url, pool_size=1, max_overflow=0, pool_timeout=0.1)
    store = Store(engine)
    try:
        async with engine.connect() as busy:  # the pool's one connection, held
            await busy.execute(text("SELECT 1"))
            with pytest.raises(StoreUnavailable):
                async with store.peek() as uow:
                    await uow.users.get(1)
        async with store.peek() as uow:  # free again: the store answers
            assert await uow.users.get(1) is None
    finally:
        await engine.dispose()
