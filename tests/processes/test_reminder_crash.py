"""A real `yogabot run` killed with SIGKILL in the middle of a reminder fan-out, and
started again: a reminder is never sent twice, and a crash loses at most the reminders
that were claimed and not yet answered (README, "Reminders are rows, not jobs").

50 reminders are due. The emulator kills the bot the moment it has accepted the 10th
reminder, and the next process the moment it has accepted the 30th; a third process sends
what is left and is stopped with SIGTERM. After each kill the database says how many
reminders were claimed, and the emulator how many arrived: the difference is what that
kill lost.
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import os
import signal
import sqlite3
import sys
from collections import Counter
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from bot.database import create_engine, create_sessionmaker, migrate
from bot.models import Reminder, User
from playground.emulator import BotApiEmulator
from tests.harness.crash import PROJECT_DIR, TOKEN

DUE = 50
KILL_AFTER = (10, 30)  # the n-th reminder Telegram accepted, counted over every process
# README: "a crash loses at most 15 reminders (500 with paid broadcasts)".
LOSS_BOUND = 15
FIRST_USER = 770_000
START_TIMEOUT = 60.0  # a loaded 2-core machine may take long to start Python
STOP_TIMEOUT = 20.0


class KillingEmulator(BotApiEmulator):
    """The emulator, which kills the bot once it has accepted the n-th reminder: the
    message has reached Telegram, the bot never hears back."""

    def __init__(self, reminded: set[int]) -> None:
        super().__init__(token=TOKEN)
        self.reminded = reminded
        self.accepted: list[int] = []  # the chats reminded, in the order Telegram took them
        self.kill_after: int | None = None
        self.victim: asyncio.subprocess.Process | None = None
        self.killed = asyncio.Event()

    async def call(
        self, method: str, params: dict[str, Any] | None = None, *, token: str | None = None
    ) -> tuple[int, dict[str, Any]]:
        status, body = await super().call(method, params, token=token)
        chat = int(str((params or {}).get("chat_id") or 0))
        if method.lower() == "sendmessage" and body.get("ok") and chat in self.reminded:
            self.accepted.append(chat)
            if len(self.accepted) == self.kill_after and self.victim is not None:
                # At once, before anything else reaches the emulator.
                with contextlib.suppress(ProcessLookupError):
                    self.victim.send_signal(signal.SIGKILL)
                self.kill_after = None
                self.killed.set()
        return status, body


async def remind_now(database_url: str) -> set[int]:
    """DUE users whose daily reminder fell due a minute ago, each a minute apart."""
    engine = create_engine(database_url)
    now = datetime.now(UTC).replace(microsecond=0)
    try:
        await migrate(engine)
        async with create_sessionmaker(engine).begin() as db:
            ids = range(FIRST_USER, FIRST_USER + DUE)
            db.add_all(User(id=n, chat_id=n, first_name="R", created_at=now) for n in ids)
            await db.flush()
            for n, user_id in enumerate(ids):
                due = now - timedelta(minutes=1, seconds=DUE - n)  # oldest first: in order
                db.add(
                    Reminder(
                        user_id=user_id,
                        chat_id=user_id,
                        hour=due.hour,
                        minute=due.minute,
                        days="*",
                        enabled=True,
                        next_due_at=due,
                    )
                )
    finally:
        await engine.dispose()
    return set(range(FIRST_USER, FIRST_USER + DUE))


def claimed(database: Path) -> int:
    """Reminders claimed so far: their day is written (each was seeded unclaimed)."""
    with contextlib.closing(sqlite3.connect(database)) as connection:
        [(count,)] = connection.execute(
            "SELECT count(*) FROM reminders WHERE claimed_for IS NOT NULL"
        ).fetchall()
    return int(count)


class Bot:
    """`yogabot run` processes, one at a time, against the emulator and one SQLite file."""

    def __init__(self, emulator: BotApiEmulator, database: Path, workdir: Path) -> None:
        self.log_path = workdir / "bot.log"
        self._workdir = workdir
        self.process: asyncio.subprocess.Process | None = None
        self.env = {
            **os.environ,
            "BOT_TOKEN": TOKEN,
            "TELEGRAM_API_URL": emulator.api_url,
            "DATABASE_URL": f"sqlite+aiosqlite:///{database}",
            "LOG_LEVEL": "INFO",
            "PYTHONUNBUFFERED": "1",
            "PYTHONPATH": os.pathsep.join(
                p for p in (str(PROJECT_DIR), os.environ.get("PYTHONPATH")) if p
            ),
        }

    async def start(self) -> asyncio.subprocess.Process:
        with self.log_path.open("ab") as log:
            self.process = await asyncio.create_subprocess_exec(
                sys.executable, "-m", "cli", "run",
                env=self.env, cwd=self._workdir,  # so no developer's .env is read
                stdin=asyncio.subprocess.DEVNULL, stdout=log, stderr=log,
            )  # fmt: skip
        return self.process

    async def stop(self) -> None:
        """SIGTERM, as a service manager stops it: what it claimed, it sends first."""
        if self.process is not None and self.process.returncode is None:
            self.process.send_signal(signal.SIGTERM)
            await asyncio.wait_for(self.process.wait(), STOP_TIMEOUT)

    async def end(self) -> None:
        if self.process is not None and self.process.returncode is None:
            with contextlib.suppress(ProcessLookupError):
                self.process.kill()
            await self.process.wait()

    def log_tail(self, lines: int = 40) -> str:
        text = self.log_path.read_text(errors="replace") if self.log_path.exists() else ""
        return "\n".join(text.splitlines()[-lines:])


async def test_a_crash_mid_fanout_loses_only_the_reminders_in_flight(tmp_path: Path) -> None:
    database = tmp_path / "yogabot.db"
    reminded = await remind_now(f"sqlite+aiosqlite:///{database}")
    # How many reminders were claimed when each process died: the oldest first, so the
    # users claimed by the process a kill ended are the next ones in due order.
    claimed_at_kill: list[int] = []
    async with KillingEmulator(reminded) as emulator:
        for chat in reminded:
            emulator.user(chat).open_chat()
        bot = Bot(emulator, database, tmp_path)
        try:
            for kill_after in (*KILL_AFTER, None):
                emulator.killed.clear()
                emulator.kill_after = kill_after
                emulator.victim = await bot.start()
                # Until the kill, or until every reminder is claimed (then no kill comes).
                # (Looked at on every call the emulator takes: a claim comes before its send.)
                await emulator.wait_for(
                    lambda: emulator.killed.is_set() or claimed(database) == DUE, START_TIMEOUT
                )
                if not emulator.killed.is_set():
                    break
                await asyncio.wait_for(emulator.victim.wait(), STOP_TIMEOUT)
                claimed_at_kill.append(claimed(database))
            emulator.kill_after = None
            await bot.stop()
        except TimeoutError as exc:
            raise AssertionError(f"{exc}; the bot's log:\n{bot.log_tail()}") from exc
        finally:
            await bot.end()
        received = Counter(emulator.accepted)

    in_due_order = sorted(reminded)
    bounds = [0, *claimed_at_kill, DUE]
    lost = [
        sum(1 for user in in_due_order[start:end] if user not in received)
        for start, end in itertools.pairwise(bounds)
    ]
    *killed, stopped = lost
    print(f"claimed when killed: {claimed_at_kill}; lost by each process: {lost}")
    assert all(n <= LOSS_BOUND for n in killed), (
        f"the kills after reminders {KILL_AFTER[: len(killed)]} lost {killed} reminders, "
        f"not at most {LOSS_BOUND} each"
    )
    assert len(killed) == len(KILL_AFTER), f"only {len(killed)} of the kills came"
    assert stopped == 0, f"the process stopped with SIGTERM lost {stopped} reminders"
    assert max(received.values()) == 1, "a reminder was sent twice"
    assert claimed(database) == DUE  # none is left due: each went, or a kill lost it
