"""Is the player still open? Its heartbeats, and the practices whose player fell silent.

The page says it is open and visible every BEAT_EVERY seconds. A heartbeat costs no
database write: each worker keeps the practices it heard from in memory and writes them
all in one statement every FLUSH_EVERY. Every worker also looks, as often, for practices
in a player no worker has heard from for SILENT_AFTER (the phone died, the network went,
Telegram was killed without the page saying goodbye): those pause, and the chat offers to
continue there or in the player. The page says so itself when it is hidden or closed
(`away`), so this is the backstop; pausing goes through the practice's rules (one
conditional update), so two workers finding the same practice pause it once.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable
from datetime import timedelta

from bot.cues import PracticeOutcome
from bot.practice.service import PracticeService
from bot.store import StoreUnavailable

# The page's heartbeat, as player.js sends it (while a practice shows and the page is seen).
BEAT_EVERY = timedelta(seconds=10)
# How often a worker writes the heartbeats it heard, and looks for silent players.
FLUSH_EVERY = timedelta(seconds=10)
# Three heartbeats missed, and a flush on either side: gone, not slow.
SILENT_AFTER = BEAT_EVERY * 3 + FLUSH_EVERY * 2

log = logging.getLogger(__name__)


class Heartbeats:
    def __init__(
        self,
        practice: Callable[[], PracticeService],
        chat: Callable[[PracticeOutcome], Awaitable[None]],
    ) -> None:
        self._practice = practice
        self._chat = chat
        self._heard: set[int] = set()
        self._task: asyncio.Task[None] | None = None

    def beat(self, practice_id: int) -> None:
        self._heard.add(practice_id)

    @property
    def unwritten(self) -> int:
        return len(self._heard)

    async def flush(self) -> None:
        """Write the heartbeats heard since the last flush, in one statement; kept for
        the next one if the database does not answer."""
        heard, self._heard = self._heard, set()
        if not heard:
            return
        try:
            await self._practice().players_seen(heard)
        except StoreUnavailable:
            self._heard |= heard
            raise

    async def sweep(self) -> int:
        """Flush, then pause the practices whose player fell silent; how many paused."""
        await self.flush()
        practice = self._practice()
        paused = 0
        for practice_id in await practice.silent_players(SILENT_AFTER):
            outcome = await practice.player_away(practice_id)
            if outcome is not None:
                paused += 1
                await self._chat(outcome)
        return paused

    def start(self, every: timedelta = FLUSH_EVERY) -> None:
        self._task = asyncio.create_task(self._run(every.total_seconds()), name="player-beats")

    async def stop(self) -> None:
        task, self._task = self._task, None
        if task is not None:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task
        with contextlib.suppress(StoreUnavailable):
            await self.flush()

    async def _run(self, every: float) -> None:
        while True:
            await asyncio.sleep(every)
            try:
                await self.sweep()
            except StoreUnavailable:
                pass  # logged once as an incident; the next round tries again
            except Exception:
                log.exception("player: the heartbeat sweep failed; it runs again shortly")
