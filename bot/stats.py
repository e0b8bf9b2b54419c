"""The numbers for the people who run the bot: `yogabot stats` and the admin-only /stats."""

from __future__ import annotations

from bot.store.users import Counts, UserStore


def completion_rate(counts: Counts) -> float | None:
    if not counts.sessions_started:
        return None
    return counts.sessions_finished / counts.sessions_started


def as_text(counts: Counts) -> str:
    rate = completion_rate(counts)
    rows = [
        ("users", str(counts.users)),
        ("users with reminders", str(counts.users_with_reminders)),
        ("sessions started", str(counts.sessions_started)),
        ("sessions finished", str(counts.sessions_finished)),
        ("completion rate", "-" if rate is None else f"{rate:.0%}"),
        ("feedback", str(counts.feedback)),
    ]
    width = max(len(name) for name, _ in rows)
    return "\n".join(f"{name:<{width}}  {value}" for name, value in rows)


class StatsService:
    def __init__(self, store: UserStore) -> None:
        self._store = store

    async def collect(self) -> Counts:
        return await self._store.counts()
