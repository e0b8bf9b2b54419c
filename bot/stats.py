"""The numbers for the people who run the bot: `yogabot stats` and the admin-only /stats."""

from __future__ import annotations

from bot.store import Counts, Store


def completion_rate(counts: Counts) -> float | None:
    if not counts.practices_started:
        return None
    return counts.practices_finished / counts.practices_started


class StatsService:
    def __init__(self, store: Store) -> None:
        self._store = store

    async def collect(self) -> Counts:
        async with self._store.read() as uow:
            return await uow.users.counts()
