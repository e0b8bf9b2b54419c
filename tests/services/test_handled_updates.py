"""Each webhook update handled once across workers: claims in the database, on both back-ends."""

from __future__ import annotations

import asyncio
from collections import Counter
from collections.abc import AsyncIterator
from datetime import timedelta

import pytest
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncEngine

from bot.clock import ManualClock
from bot.database import create_engine
from bot.handled_updates import CLAIM_TIMEOUT, KEEP, PRUNE_EVERY, HandledUpdates, UpdateClaim
from bot.models import HandledUpdate
from bot.store import Store

HANDLE, HANDLED, IN_HAND = UpdateClaim.HANDLE, UpdateClaim.HANDLED, UpdateClaim.IN_HAND


@pytest.fixture
async def second_engine(database_url: str) -> AsyncIterator[AsyncEngine]:
    """Another worker's own engine on the same database."""
    engine = create_engine(database_url)
    yield engine
    await engine.dispose()


async def stored_ids(engine: AsyncEngine) -> set[int]:
    async with engine.connect() as connection:
        return set((await connection.scalars(select(HandledUpdate.update_id))).all())


async def test_an_update_is_handled_by_the_first_claim_and_then_never_again(
    store: Store, clock: ManualClock
) -> None:
    ledger = HandledUpdates(store, clock)
    assert await ledger.claim(1) is HANDLE
    # Delivered again while it is being handled: Telegram is asked to try later.
    assert await ledger.claim(1) is IN_HAND
    await ledger.finish(1)
    assert await ledger.claim(1) is HANDLED
    clock.advance(CLAIM_TIMEOUT.total_seconds() * 10)
    assert await ledger.claim(1) is HANDLED
    # Another update is not held up by it.
    assert await ledger.claim(2) is HANDLE


async def test_two_workers_claiming_the_same_updates_at_once_get_one_handle_each(
    store: Store, second_engine: AsyncEngine, clock: ManualClock
) -> None:
    workers = [HandledUpdates(store, clock), HandledUpdates(Store(second_engine), clock)]
    ids = range(100, 120)
    claims = await asyncio.gather(
        *(worker.claim(update_id) for update_id in ids for worker in workers)
    )
    handles = Counter(
        update_id
        for update_id, claim in zip((i for i in ids for _ in workers), claims, strict=True)
        if claim is HANDLE
    )
    assert handles == dict.fromkeys(ids, 1)
    assert Counter(claims) == {HANDLE: len(ids), IN_HAND: len(ids)}


async def test_a_claim_left_unfinished_is_taken_over_by_one_worker_after_the_timeout(
    store: Store, second_engine: AsyncEngine, clock: ManualClock
) -> None:
    dead = HandledUpdates(store, clock)
    assert await dead.claim(7) is HANDLE  # and its worker dies before finishing
    survivors = [HandledUpdates(store, clock), HandledUpdates(Store(second_engine), clock)]
    clock.advance(CLAIM_TIMEOUT.total_seconds() - 1)
    assert {await s.claim(7) for s in survivors} == {IN_HAND}
    clock.advance(1)
    claims = await asyncio.gather(*(s.claim(7) for s in survivors))
    assert sorted(c.value for c in claims) == sorted([HANDLE.value, IN_HAND.value])
    # The new claim is fresh: a third delivery now waits for it in turn.
    assert await dead.claim(7) is IN_HAND


async def test_a_released_claim_lets_the_next_delivery_be_handled_at_once(
    store: Store, clock: ManualClock
) -> None:
    ledger = HandledUpdates(store, clock)
    assert await ledger.claim(3) is HANDLE
    await ledger.release(3)
    assert await ledger.claim(3) is HANDLE
    await ledger.finish(3)
    # A handled update's record is not released by a late release.
    await ledger.release(3)
    assert await ledger.claim(3) is HANDLED


async def test_claims_older_than_a_day_are_deleted_at_most_once_an_hour(
    store: Store, db_engine: AsyncEngine, clock: ManualClock
) -> None:
    ledger = HandledUpdates(store, clock)
    assert await ledger.claim(10) is HANDLE
    await ledger.finish(10)  # a worker's first finish prunes (nothing yet)
    clock.advance(KEEP.total_seconds() + 1)
    assert await ledger.claim(11) is HANDLE
    await ledger.finish(11)  # over an hour since: update 10, a day old, is forgotten
    assert await stored_ids(db_engine) == {11}
    # Another worker's claim from over a day ago, still there.
    async with store.write() as uow:
        await uow.handled_updates.claim(50, clock() - KEEP - timedelta(seconds=1), CLAIM_TIMEOUT)
    clock.advance(PRUNE_EVERY.total_seconds() / 2)
    assert await ledger.claim(12) is HANDLE
    await ledger.finish(12)  # the last pruning was half an hour ago: none now
    assert await stored_ids(db_engine) == {11, 12, 50}
    clock.advance(PRUNE_EVERY.total_seconds() / 2)
    assert await ledger.claim(13) is HANDLE
    await ledger.finish(13)
    assert await stored_ids(db_engine) == {11, 12, 13}
    # Forgotten, update 10 would be handled again: Telegram no longer has it to send.
    assert await ledger.claim(10) is HANDLE
