"""One chat at a time: the locks every worker holds while it changes a chat's practice."""

from __future__ import annotations

import asyncio

import pytest
from sqlalchemy import NullPool, text
from sqlalchemy.exc import DBAPIError
from sqlalchemy.ext.asyncio import create_async_engine

from bot.store.chat_locks import ChatLocks, PostgresChatLocks, ProcessChatLocks, chat_locks_for
from bot.store.roles import REMINDER_SENDER, role_for


def two_workers(database_url: str) -> tuple[ChatLocks, ChatLocks]:
    """The locks as two workers see them: on PostgreSQL two processes' worth of
    connections; on SQLite there is only ever one process, so one object."""
    first = chat_locks_for(database_url)
    second = chat_locks_for(database_url) if database_url.startswith("postgresql") else first
    return first, second


async def test_a_held_chat_is_busy_for_every_worker_and_other_chats_are_free(
    database_url: str,
) -> None:
    mine, theirs = two_workers(database_url)
    try:
        async with mine.hold(1001):
            async with theirs.try_hold(1001) as got:
                assert got is False
            async with theirs.try_hold(1002) as got:
                assert got is True
        async with theirs.try_hold(1001) as got:
            assert got is True
    finally:
        await mine.close()
        await theirs.close()


async def test_a_waiting_worker_goes_on_only_once_the_holder_lets_go(database_url: str) -> None:
    mine, theirs = two_workers(database_url)
    order: list[str] = []
    holding = asyncio.Event()
    release = asyncio.Event()

    async def holder() -> None:
        async with mine.hold(7):
            holding.set()
            await release.wait()
            order.append("first done")

    async def waiter() -> None:
        await holding.wait()
        async with theirs.hold(7):
            order.append("second in")

    try:
        tasks = [asyncio.create_task(holder()), asyncio.create_task(waiter())]
        await holding.wait()
        for _ in range(20):  # give the waiter every chance to (wrongly) get in
            await asyncio.sleep(0)
        assert order == []
        release.set()
        await asyncio.wait_for(asyncio.gather(*tasks), timeout=10)
        assert order == ["first done", "second in"]
    finally:
        await mine.close()
        await theirs.close()


@pytest.mark.backends("postgresql")
async def test_a_worker_that_dies_holding_a_chat_frees_it(database_url: str) -> None:
    """SIGKILL ends the worker's connections; the server then drops its locks."""
    dying, survivor = PostgresChatLocks(database_url), PostgresChatLocks(database_url)
    admin = create_async_engine(database_url, poolclass=NullPool, isolation_level="AUTOCOMMIT")
    seen: list[bool] = []
    try:
        with pytest.raises(DBAPIError):  # unlocking on the cut connection fails
            async with dying.hold(4242):
                async with survivor.try_hold(4242) as got:
                    seen.append(got)
                async with admin.connect() as connection:
                    # Only this test's database (others may hold the same key), and with a
                    # timeout, so the call returns once the backend is gone and its locks
                    # with it, not as soon as the signal is sent.
                    await connection.execute(
                        text(
                            "SELECT pg_terminate_backend(pid, 10000) FROM pg_locks"
                            " WHERE locktype = 'advisory' AND objid = 4242 AND database ="
                            " (SELECT oid FROM pg_database WHERE datname = current_database())"
                        )
                    )
                async with survivor.try_hold(4242) as got:
                    seen.append(got)
        assert seen == [False, True]
    finally:
        await dying.close()
        await survivor.close()
        await admin.dispose()


async def test_one_process_forgets_locks_nobody_holds() -> None:
    locks = ProcessChatLocks()
    for chat in range(100):
        async with locks.hold(chat):
            pass
    assert len(locks._locks) == 0


async def test_one_workers_waiters_for_a_chat_go_in_the_order_they_came(
    database_url: str,
) -> None:
    """A chat's updates queue in a worker in arrival order: +15 s, then Next, never the
    other way round."""
    locks = chat_locks_for(database_url)
    order: list[int] = []

    async def update(n: int) -> None:
        async with locks.hold(99):
            order.append(n)
            await asyncio.sleep(0)

    try:
        async with locks.hold(99):
            tasks = []
            for n in range(10):
                tasks.append(asyncio.create_task(update(n)))
                await asyncio.sleep(0)  # each update arrives after the one before
        await asyncio.wait_for(asyncio.gather(*tasks), timeout=10)
        assert order == list(range(10))
    finally:
        await locks.close()


@pytest.mark.backends("postgresql")
async def test_one_worker_at_a_time_sends_reminders_and_another_takes_over(
    database_url: str,
) -> None:
    first = role_for(database_url, REMINDER_SENDER)
    second = role_for(database_url, REMINDER_SENDER)
    try:
        assert await first.claim() is True
        assert await second.claim() is False
        assert await first.claim() is True  # it keeps the role
        await first.close()  # the worker goes (a stop, or its connection dies)
        assert await second.claim() is True
    finally:
        await first.close()
        await second.close()


@pytest.mark.backends("sqlite")
async def test_one_process_always_sends_its_reminders(database_url: str) -> None:
    role = role_for(database_url, REMINDER_SENDER)
    assert await role.claim() is True
    assert await role.claim() is True
