"""Each webhook update handled once, however often Telegram delivers it, by whichever worker.

Telegram delivers an update again when it got no 200 for it: a worker that died on it, a
balancer that timed out, a network that dropped the answer. The webhook server answers
200 only once an update is handled, so each of those may arrive twice, at another worker.
Every worker records the update ids it takes in the database (table `handled_updates`):

1. claim: the first worker to claim an update handles it. An update already handled is
   answered 200 and not handled again. An update another worker claimed less than
   CLAIM_TIMEOUT ago and has not finished is answered "try again later" (503): that worker
   may still be handling it, or may have died on it; after CLAIM_TIMEOUT it counts as
   dead, and the next delivery takes the claim over and handles the update.
2. handle, then finish: the claim is marked handled, and only then is Telegram answered.
   If handling ends in an exception or is cancelled (a stop past its grace), the claim is
   released so the next delivery is handled at once.

So an update is handled twice only if a worker dies after handling it and before marking
it handled, or if handling it takes longer than CLAIM_TIMEOUT; and it waits up to
CLAIM_TIMEOUT if its worker dies after claiming it.

Claims are kept for KEEP: Telegram keeps an undelivered update for at most 24 hours, so no
delivery can come after that; and it numbers updates afresh (at random) only after a
week without any, when every claim is long gone. Each worker deletes older claims once
every PRUNE_EVERY.
"""

from __future__ import annotations

import enum
import logging
from datetime import datetime, timedelta

from bot.clock import Clock
from bot.store import Store, StoreUnavailable

log = logging.getLogger(__name__)

# An unfinished claim this old is taken to be a dead worker's. Handling an update takes a
# few database writes and Bot API calls, well under a second; one that takes longer than
# this has been given up on by the balancer already (docs/nginx/webhook.conf waits 30 s
# for an answer, then answers Telegram 504), so Telegram is sending it again anyway.
CLAIM_TIMEOUT = timedelta(seconds=30)
KEEP = timedelta(hours=24)
PRUNE_EVERY = timedelta(hours=1)


class UpdateClaim(enum.Enum):
    # This worker handles the update now.
    HANDLE = "handle"
    # It has been handled already: answer 200, handle nothing.
    HANDLED = "handled"
    # Another worker claimed it recently and has not finished: ask Telegram to try again.
    IN_HAND = "in_hand"


class HandledUpdates:
    def __init__(self, store: Store, clock: Clock) -> None:
        self._store = store
        self._clock = clock
        self._next_prune: datetime | None = None

    async def claim(self, update_id: int) -> UpdateClaim:
        """Raises StoreUnavailable when the database does not answer."""
        async with self._store.write() as uow:
            if await uow.handled_updates.claim(update_id, self._clock(), CLAIM_TIMEOUT):
                return UpdateClaim.HANDLE
            if await uow.handled_updates.handled(update_id):
                return UpdateClaim.HANDLED
            return UpdateClaim.IN_HAND

    async def finish(self, update_id: int) -> None:
        """Mark the update handled, and now and then forget old claims. Database trouble
        is logged, not raised: the update has been handled either way, and an unfinished
        claim only means a later delivery waits CLAIM_TIMEOUT, then is handled again."""
        now = self._clock()
        try:
            async with self._store.write() as uow:
                await uow.handled_updates.finish(update_id, now)
            if self._next_prune is None or now >= self._next_prune:
                self._next_prune = now + PRUNE_EVERY
                async with self._store.write() as uow:
                    await uow.handled_updates.forget_claimed_before(now - KEEP)
        except StoreUnavailable as exc:
            log.warning("could not record update %d as handled (%s)", update_id, exc)

    async def release(self, update_id: int) -> None:
        """Give the claim up after handling failed: the next delivery is handled at once.
        If the database does not answer, the claim simply times out."""
        try:
            async with self._store.write() as uow:
                await uow.handled_updates.release(update_id)
        except StoreUnavailable as exc:
            log.warning("could not release update %d (%s)", update_id, exc)
