"""Kill a real `yogabot run` process again and again during one class, and restart it.

The Bot API emulator runs in the caller's event loop; the bot is a separate process
(`python -m cli run`) with its own SQLite file. Once the user has started the class, the
process is killed with SIGKILL at moments drawn from a seeded `random.Random` and started
again each time against the same database and the same emulator. The last kill always
falls at the end of the class, while its closing message is on its way to Telegram. Then a
last process runs to the end and is stopped with SIGTERM.

`run_crash_class` does one class and returns what happened; `problems` checks it against
"Restarts lose nothing" (README) and returns what is wrong, one line each. The test in
tests/processes/test_crash.py runs one class; `make soak` runs 20.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import random
import re
import signal
import sqlite3
import sys
import time
from collections import Counter
from collections.abc import Awaitable, Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypeVar

from sqlalchemy import select

from bot.database import create_engine
from bot.models import EventKind, Practice, StepEvent
from playground.emulator import BotApiEmulator, EmuMessage, SimulatedUser, describe_call
from sequences import YogaClass, load_catalog
from tests.harness.bot import SCREEN_CLEAR, button_texts

T = TypeVar("T")

# Shaped like a real token (bot id, colon, 35 characters, though a shorter id than any real
# bot's), so the bot's checks and its log redaction treat it as one; only the emulator sees it.
TOKEN = "1234567:AAHcrashTestSecretNotARealBotToken0"
TOKEN_SECRET = TOKEN.partition(":")[2]
PROJECT_DIR = Path(__file__).resolve().parents[2]
SEED_CLASS_ID = "back-strengthening-part-1"
USER_ID = 4242

RANDOM_KILLS = 12  # and one more at the end of the class
MIN_KILLS = 10
TIME_SCALE = 0.005  # the 30-minute class holds for 9 s in all

CUE_TITLE = re.compile(r"(\d+)/(\d+) · ")  # as the user sees it
SENT_CUE = re.compile(r"(?:<b>)?\d+/\d+ · ")  # as the bot sends it (HTML)
CLOSING = "Well done."
# The methods that send a cue or the closing message (lower case, as traps compare).
SENDS = ("sendmessage", "sendphoto")
CHECKIN_QUESTION = "How does your back feel right now?"
AFTER_QUESTION = "And now, after practice"

# Bounded but generous: a loaded 2-core machine may take seconds to start Python.
START_TIMEOUT = 60.0
STEP_TIMEOUT = 30.0
STOP_TIMEOUT = 20.0
FINISH_SLACK = 60.0
AFTER_QUESTION_TIMEOUT = 10.0
LAST_CALLS = 15  # of the emulator's calls but getUpdates, in a report

# How each random kill's moment is drawn, counted from the start of its process:
# - early: before the bot did anything (imports);
# - start-up: during start-up (migrations, the command menu, a cue sent again);
# - in-flight: when the next cue (or the closing message) reaches the emulator, before it
#   is accepted: Telegram never had it, so it must come again;
# - accepted: just after the emulator accepted it, before the bot heard back: the one
#   window in which a cue may be shown twice;
# - after-send: a moment after the emulator accepted a cue, while the delivery is recorded;
# - at-deadline: around the end of a hold, while the next pose is stored and sent;
# - running: any moment while the class runs.
MODES = ("early", "start-up", "in-flight", "accepted", "after-send", "at-deadline", "running")
MODE_WEIGHTS = (1, 2, 2, 2, 1, 2, 2)
FINALE = "finale: closing message in flight"
EARLY_WINDOW = 0.8  # seconds after spawning
STARTUP_WINDOW = 0.15  # seconds after getMe, the first call of a starting bot
SEND_WINDOW = 0.03  # seconds after a cue was accepted
DEADLINE_WINDOW = (-0.01, 0.04)  # seconds around a hold's end
RUN_WINDOW = 0.1  # seconds, beyond the time the pace leaves for the class to run
MAX_DOWNTIME = 0.3  # seconds between a kill and the next start


class BotDied(Exception):
    """The bot process ended by itself."""


class _Finale(Exception):
    """The closing message reached the emulator, and the bot was killed for it."""


@dataclass
class Kill:
    number: int
    mode: str
    after_spawn: float  # seconds the process lived
    ready_after: float | None  # seconds it took to start polling, if it got that far
    last_cue: int  # the highest "N/25" the user had seen when it was killed


@dataclass
class CrashRun:
    seed: int
    time_scale: float
    yoga_class: YogaClass
    log_path: Path
    database_path: Path
    kills: list[Kill] = field(default_factory=list)
    spawn_times: list[float] = field(default_factory=list)  # time.monotonic()
    bot_messages: list[EmuMessage] = field(default_factory=list)
    # message_id of each cue and closing message accepted, to the index of the sender.
    sent_by: dict[int, int] = field(default_factory=dict)
    finished_in_time: bool = False
    wait_error: str | None = None
    phase: str = "starting the class"
    stuck: str | None = None  # what a kill waited for in vain
    internal_errors: list[str] = field(default_factory=list)
    last_calls: list[str] = field(default_factory=list)  # the emulator's, for a report
    last_exit_code: int | None = None
    elapsed: float = 0.0
    practices: list[tuple[int, str, str]] = field(default_factory=list)  # id, class, status
    shown_steps: list[int] = field(default_factory=list)
    integrity: str = ""

    @property
    def total_steps(self) -> int:
        return len(self.yoga_class.steps)

    def cues(self) -> list[tuple[int, EmuMessage]]:
        """(1-based step, message) for every cue the user received, in order."""
        found = []
        for message in self.bot_messages:
            match = CUE_TITLE.match(message.plain or "")
            if match and int(match.group(2)) == self.total_steps:
                found.append((int(match.group(1)), message))
        return found

    def repeats(self) -> int:
        cues = self.cues()
        return len(cues) - len({step for step, _ in cues})

    def log_tail(self, lines: int = 60) -> str:
        try:
            text = self.log_path.read_text(errors="replace")
        except OSError as exc:
            return f"(no log: {exc})"
        return "\n".join(text.splitlines()[-lines:])

    def timeline(self) -> str:
        return "\n".join(
            f"  kill {k.number}: {k.mode}, {k.after_spawn:.2f} s after start"
            + (f" (polling after {k.ready_after:.2f} s)" if k.ready_after is not None else "")
            + f", last cue seen {k.last_cue}/{self.total_steps}"
            for k in self.kills
        )

    def summary(self) -> str:
        return (
            f"seed {self.seed}: {len(self.kills)} kills, {len(self.spawn_times)} starts, "
            f"{len(self.cues())} cues for {self.total_steps} steps ({self.repeats()} repeated), "
            f"{self.elapsed:.1f} s, TIME_SCALE={self.time_scale}"
        )


def problems(run: CrashRun) -> list[str]:
    """Everything that contradicts "Restarts lose nothing", one line each."""
    found: list[str] = []
    total = run.total_steps
    if len(run.kills) < MIN_KILLS and run.stuck is None:
        found.append(f"only {len(run.kills)} kills before the class ended, not {MIN_KILLS}")

    closings = [m for m in run.bot_messages if (m.plain or "").startswith(CLOSING)]
    if run.stuck is not None:
        found.append(f"the class stopped going on: {run.stuck}")
    elif not run.finished_in_time:
        stored = [status for _, _, status in run.practices]
        also = "; the practice is stored as finished" if stored == ["finished"] else ""
        found.append(f"the closing {CLOSING!r} message never arrived ({run.wait_error}){also}")
    for closing in closings:
        if f"Poses held: {total} of {total}" not in (closing.plain or ""):
            found.append(f"the closing message does not count every pose: {closing.plain!r}")
    if closings and not any(AFTER_QUESTION in (m.plain or "") for m in run.bot_messages):
        found.append("the after-practice check-in never followed the closing message")

    if len(run.practices) != 1:
        found.append(f"expected one practice for the user, found {run.practices}")
    for practice_id, class_id, status in run.practices:
        if class_id != SEED_CLASS_ID:
            found.append(f"practice {practice_id} is of class {class_id!r}")
        if status != "finished":
            found.append(f"practice {practice_id} has status {status!r}, not 'finished'")

    shown = Counter(run.shown_steps)
    missing = sorted(set(range(total)) - set(shown))
    twice = sorted(step for step, count in shown.items() if count > 1)
    extra = sorted(set(shown) - set(range(total)))
    if missing:
        found.append(f"step_events has no 'shown' row for step index(es) {missing}")
    if twice:
        found.append(f"step_events has several 'shown' rows for step index(es) {twice}")
    if extra:
        found.append(f"step_events has 'shown' rows for unknown step index(es) {extra}")

    copies: dict[str, list[EmuMessage]] = {}
    for step, message in run.cues():
        copies.setdefault(f"cue {step}/{total}", []).append(message)
    never = [step for step in range(1, total + 1) if f"cue {step}/{total}" not in copies]
    if never:
        found.append(f"the user never saw the cue of step(s) {never} (of {total})")
    if closings:
        copies["the closing message"] = closings
    repeats = sum(len(messages) - 1 for messages in copies.values())
    if repeats > len(run.kills):
        found.append(f"{repeats} repeated messages, more than the {len(run.kills)} kills")
    # A message comes again only from a later process: the one that sent it died after
    # Telegram took it and before the database recorded that. One process leaves at most
    # one such message behind.
    left_behind: Counter[int] = Counter()
    for what, messages in copies.items():
        senders = [run.sent_by.get(m.message_id) for m in messages]
        if len(messages) > 1 and (None in senders or len(set(senders)) != len(senders)):
            found.append(f"{what} was sent {len(messages)} times, by processes {senders}")
        for earlier in senders[:-1]:
            if earlier is not None:
                left_behind[earlier] += 1
    for process, count in sorted(left_behind.items()):
        if count > 1:
            found.append(f"process {process} left {count} messages to be sent again, not one")
        elif process >= len(run.kills):
            found.append(f"process {process} was not killed, yet a message it sent came again")

    if run.integrity != "ok":
        found.append(f"PRAGMA integrity_check: {run.integrity!r}")
    log = run.log_path.read_text(errors="replace") if run.log_path.exists() else ""
    if TOKEN in log:
        found.append(f"the bot token appears in the log {log.count(TOKEN)} time(s)")
    elif TOKEN_SECRET in log:
        found.append("the secret part of the bot token appears in the log")
    if run.internal_errors:
        found.append(f"the emulator failed internally: {run.internal_errors}")
    return found


def report(run: CrashRun, found: list[str]) -> str:
    return (
        f"{run.summary()}\nrerun with CRASH_SEED={run.seed}\n"
        + "\n".join(f"- {line}" for line in found)
        + f"\nkills:\n{run.timeline()}\nlog ({run.log_path}), last lines:\n{run.log_tail()}"
        + "\nthe emulator's last calls:\n"
        + "\n".join(f"  {line}" for line in run.last_calls)
    )


@dataclass
class _Trap:
    """Kill the bot when a message (or photo) whose words are `wanted` reaches the emulator: before
    the emulator takes the message, or (accept) once it has, before the bot hears back."""

    wanted: Callable[[str], bool]
    accept: bool
    kill: Callable[[], Awaitable[None]]
    fired_at: float | None = None
    error: BaseException | None = None
    done: asyncio.Event = field(default_factory=asyncio.Event)

    async def spring(self) -> None:
        try:
            await self.kill()
        except Exception as exc:
            self.error = exc
        finally:
            self.done.set()


class _CrashEmulator(BotApiEmulator):
    """The Bot API emulator, with traps for the messages that should kill the bot."""

    def __init__(self, token: str) -> None:
        super().__init__(token=token)
        self.traps: list[_Trap] = []

    async def call(
        self, method: str, params: dict[str, Any] | None = None, *, token: str | None = None
    ) -> tuple[int, dict[str, Any]]:
        # A cue is a message, or a photo whose caption is the cue.
        text = str((params or {}).get("text") or (params or {}).get("caption") or "")
        trap = next((t for t in self.traps if t.wanted(text)), None)
        if trap is None or method.lower() not in SENDS:
            return await super().call(method, params, token=token)
        self.traps.remove(trap)
        trap.fired_at = time.monotonic()
        answer = (
            await super().call(method, params, token=token)
            if trap.accept
            else (502, {"ok": False, "error_code": 502, "description": "Bad Gateway"})
        )
        # Shielded: the dying bot's connection drops, and aiohttp cancels this handler.
        await asyncio.shield(trap.spring())
        return answer


class _Bot:
    """The bot processes of one class: one at a time, every one of them ended in the end."""

    def __init__(self, emulator: _CrashEmulator, run: CrashRun, workdir: Path) -> None:
        self._emulator = emulator
        self._run = run
        self._workdir = workdir
        self._process: asyncio.subprocess.Process | None = None
        self._started: list[asyncio.subprocess.Process] = []
        self.spawned_at = 0.0
        # Armed all along: the closing message is the end of the class, and the last kill.
        self.guard = _Trap(_is_closing, accept=False, kill=self.sigkill)
        emulator.traps.append(self.guard)
        self.env = {
            **os.environ,
            "BOT_TOKEN": TOKEN,
            "TELEGRAM_API_URL": emulator.api_url,
            "DATABASE_URL": f"sqlite+aiosqlite:///{run.database_path}",
            "TIME_SCALE": str(run.time_scale),
            "LOG_LEVEL": "INFO",
            "VOICE_ENGINE": "off",
            "PYTHONUNBUFFERED": "1",
            "PYTHONPATH": os.pathsep.join(
                p for p in (str(PROJECT_DIR), os.environ.get("PYTHONPATH")) if p
            ),
        }

    def mark(self, line: str) -> None:
        """A line of the test's own in the log, written while no bot writes to it."""
        with self._run.log_path.open("a") as log:
            log.write(f"----- crash test: {line}\n")

    async def spawn(self) -> None:
        assert self._process is None or self._process.returncode is not None
        self.mark(f"start {len(self._run.spawn_times)} (seed {self._run.seed})")
        self.spawned_at = time.monotonic()
        self._run.spawn_times.append(self.spawned_at)
        # A file, not a pipe: a pipe nobody reads fills up and blocks the bot.
        with self._run.log_path.open("ab") as log:
            self._process = await asyncio.create_subprocess_exec(
                sys.executable,
                "-m",
                "cli",
                "run",
                env=self.env,
                cwd=self._workdir,  # so no developer's .env is read
                stdin=asyncio.subprocess.DEVNULL,
                stdout=log,
                stderr=log,
            )
        self._started.append(self._process)

    async def sigkill(self) -> None:
        """SIGKILL the current process, if it still runs, and wait for it to end."""
        process = self._process
        assert process is not None
        if process.returncode is None:
            with contextlib.suppress(ProcessLookupError):
                process.send_signal(signal.SIGKILL)
            await asyncio.wait_for(process.wait(), STOP_TIMEOUT)
            self.mark(f"killed with SIGKILL after {time.monotonic() - self.spawned_at:.3f} s")

    async def kill(self) -> None:
        """A random kill; _Finale instead when the closing message came first."""
        self.alive()
        await self.sigkill()
        await self._finale_check()

    async def _finale_check(self) -> None:
        if self.guard.fired_at is not None:
            await self.guard.done.wait()
            raise _Finale

    async def stop(self) -> int | None:
        """SIGTERM, as a service manager stops it; SIGKILL if it does not end in time."""
        process = self._process
        if process is None or process.returncode is not None:
            return None if process is None else process.returncode
        process.send_signal(signal.SIGTERM)
        try:
            return await asyncio.wait_for(process.wait(), STOP_TIMEOUT)
        except TimeoutError:
            process.kill()
            await process.wait()
            return None

    async def end_all(self) -> None:
        for process in self._started:
            if process.returncode is None:
                with contextlib.suppress(ProcessLookupError):
                    process.kill()
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(process.wait(), STOP_TIMEOUT)

    @property
    def running(self) -> bool:
        return self._process is not None and self._process.returncode is None

    def alive(self) -> None:
        if self._process is not None and self._process.returncode is not None:
            if self.guard.fired_at is not None:
                raise _Finale
            raise BotDied(
                f"bot process {len(self._run.spawn_times) - 1} exited by itself "
                f"with {self._process.returncode}"
            )

    def called_since_spawn(self, method: str) -> float | None:
        """Seconds from the spawn to this process's first `method` call, once it made one."""
        for call in self._emulator.calls:
            if call.method == method and call.time >= self.spawned_at:
                return call.time - self.spawned_at
        return None

    async def wait(self, predicate: Callable[[], T | None], within: float, what: str) -> T:
        """Wait for the emulator to show `predicate`; fail at once if the bot died."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + within
        while True:
            self.alive()
            remaining = deadline - loop.time()
            if remaining <= 0:
                raise TimeoutError(f"{what}: not within {within:.0f} s")
            with contextlib.suppress(TimeoutError):
                return await self._emulator.wait_for(predicate, timeout=min(0.5, remaining))

    async def sleep(self, seconds: float) -> None:
        await asyncio.sleep(seconds)
        self.alive()

    def set_trap(self, *, accept: bool) -> _Trap:
        """Kill the bot when the next cue reaches the emulator."""
        trap = _Trap(_is_cue, accept, self.sigkill)
        self._emulator.traps.append(trap)
        return trap

    def clear_traps(self) -> None:
        self._emulator.traps[:] = []

    async def sprung(self, trap: _Trap, within: float, what: str) -> float:
        """Wait until the trap killed the bot; seconds the process lived."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + within
        while not trap.done.is_set():
            if trap.fired_at is None:
                self.alive()
            if loop.time() > deadline:
                raise TimeoutError(f"{what}: not within {within:.0f} s")
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(trap.done.wait(), 0.2)
        if trap.error is not None:
            raise trap.error
        assert trap.fired_at is not None
        return trap.fired_at - self.spawned_at


def _is_cue(text: str) -> bool:
    return bool(SENT_CUE.match(text))


def _is_closing(text: str) -> bool:
    return text.startswith(CLOSING)


def _last_cue(run: CrashRun, user: SimulatedUser) -> int:
    run.bot_messages = user.bot_messages
    return max((step for step, _ in run.cues()), default=0)


def _new_cue(run: CrashRun, user: SimulatedUser, seen: int) -> int | None:
    """The step of the newest cue, once more than `seen` arrived."""
    run.bot_messages = user.bot_messages
    cues = run.cues()
    return cues[-1][0] if len(cues) > seen else None


def _closing(user: SimulatedUser) -> Callable[[], EmuMessage | None]:
    def find() -> EmuMessage | None:
        return next((m for m in user.bot_messages if (m.plain or "").startswith(CLOSING)), None)

    return find


def _senders(emulator: BotApiEmulator, spawn_times: list[float]) -> Iterator[tuple[int, int]]:
    """(message_id, index of the sending process) for every cue and closing message the
    emulator accepted."""
    calls = [*emulator.calls_of("sendMessage"), *emulator.calls_of("sendPhoto")]
    for call in sorted(calls, key=lambda c: c.time):
        if not call.ok or not isinstance(call.result, dict):
            continue
        text = call.result.get("text") or call.result.get("caption") or ""
        # A photo's caption comes back as sent (HTML); a message's text as the user sees it.
        if not (CUE_TITLE.match(text) or SENT_CUE.match(text) or text.startswith(CLOSING)):
            continue
        yield call.result["message_id"], _sender(call.time, spawn_times)


def _sender(at: float, spawn_times: list[float]) -> int:
    """The index of the process that was running at `at` (time.monotonic())."""
    return sum(1 for spawned in spawn_times if spawned <= at) - 1


async def _read_database(run: CrashRun) -> None:
    engine = create_engine(f"sqlite+aiosqlite:///{run.database_path}")
    try:
        async with engine.connect() as db:
            rows = await db.execute(
                select(Practice.id, Practice.class_id, Practice.status).where(
                    Practice.user_id == USER_ID
                )
            )
            run.practices = [(pid, cid, str(status)) for pid, cid, status in rows.all()]
            shown = await db.scalars(
                select(StepEvent.step_index).where(
                    StepEvent.practice_id.in_([pid for pid, _, _ in run.practices]),
                    StepEvent.kind == EventKind.SHOWN,
                )
            )
            run.shown_steps = list(shown.all())
    finally:
        await engine.dispose()

    def integrity() -> str:
        with contextlib.closing(sqlite3.connect(run.database_path)) as connection:
            rows = connection.execute("PRAGMA integrity_check").fetchall()
        return "; ".join(str(row[0]) for row in rows)

    run.integrity = await asyncio.to_thread(integrity)


async def _start_class(bot: _Bot, run: CrashRun, user: SimulatedUser) -> None:
    await bot.spawn()
    await bot.wait(lambda: bot.called_since_spawn("deleteWebhook"), START_TIMEOUT, "first start")
    await user.send("/start_practice")
    screen = await bot.wait(
        lambda: next((m for m in user.bot_messages if SCREEN_CLEAR in button_texts(m)), None),
        STEP_TIMEOUT,
        "the red-flag screen",
    )
    await user.tap(screen.message_id, text=SCREEN_CLEAR)
    question = await bot.wait(
        lambda: next(
            (m for m in user.bot_messages if (m.plain or "").startswith(CHECKIN_QUESTION)),
            None,
        ),
        STEP_TIMEOUT,
        "the back check-in",
    )
    await user.tap(question.message_id, text="Skip")
    await bot.wait(lambda: _last_cue(run, user) >= 1, STEP_TIMEOUT, "the first cue")


def _ahead(run: CrashRun, last_cue: int, poses: float) -> float:
    """Seconds the next `poses` poses (a fraction for the last one) hold, once scaled."""
    holds = [step.hold_seconds * run.time_scale for step in run.yoga_class.steps[last_cue:]]
    whole = min(int(poses), len(holds))
    part = holds[whole] * (poses - whole) if whole < len(holds) else 0.0
    return sum(holds[:whole]) + part


async def _random_kill(
    bot: _Bot, run: CrashRun, user: SimulatedUser, number: int, rng: random.Random
) -> Kill:
    """Kill number `number` (process `number`, started here unless it is the first), at
    a moment drawn from `rng`; _Finale when the closing message came first."""
    # Always the same draws, whatever happened, so a seed replays the same plan.
    mode = rng.choices(MODES, weights=MODE_WEIGHTS)[0]
    lead, moment, downtime = rng.random(), rng.random(), rng.random() * MAX_DOWNTIME
    steps, last = run.total_steps, _last_cue(run, user)
    # Paced to spread the kills over the class: a restart moves on about one pose (its hold
    # ended while the bot was down); the poses left beyond one per kill left are shared out
    # as time the class runs before a kill's moment comes.
    left = max(0, steps - 1 - last)
    pace = left / (RANDOM_KILLS - number)
    room = _ahead(run, last, min(2 * lead * max(0.0, pace - 1), max(0, left - 2)))
    if mode == "at-deadline" and pace < 2:
        mode = "after-send"
    if mode in ("in-flight", "accepted", "after-send") and pace < 1:
        mode = "start-up"
    run.phase = f"kill {number} ({mode})"
    trap = None
    accept = mode == "accepted"
    if mode in ("in-flight", "accepted") and lead < 0.3:
        # Set before the start: it may catch the cue a restart sends again, or the one its
        # overdue timer moves on to.
        trap = bot.set_trap(accept=accept)
    if number:
        await bot.spawn()
    if mode == "early":
        await bot.sleep(moment * EARLY_WINDOW)
    elif mode == "start-up":
        await bot.wait(lambda: bot.called_since_spawn("getMe"), START_TIMEOUT, "getMe")
        await bot.sleep(moment * STARTUP_WINDOW)
    elif trap is None:
        await bot.wait(lambda: bot.called_since_spawn("deleteWebhook"), START_TIMEOUT, "start")
        await bot.sleep(room)
    lived: float | None = None
    if mode in ("in-flight", "accepted"):
        trap = trap or bot.set_trap(accept=accept)
        lived = await bot.sprung(trap, START_TIMEOUT + STEP_TIMEOUT, f"the {mode} kill")
    elif mode in ("after-send", "at-deadline"):
        seen = len(run.cues())
        step = await bot.wait(lambda: _new_cue(run, user, seen), STEP_TIMEOUT, "a new cue")
        if mode == "after-send":
            await bot.sleep(moment * SEND_WINDOW)
        else:
            # The hold ends its length after the cue went out, give or take a moment.
            low, high = DEADLINE_WINDOW
            hold = run.yoga_class.steps[step - 1].hold_seconds * run.time_scale
            await bot.sleep(max(0.0, hold + low + moment * (high - low)))
    elif mode == "running":
        await bot.sleep(moment * RUN_WINDOW)
    if lived is None:
        lived = time.monotonic() - bot.spawned_at
        await bot.kill()
    kill = Kill(number, mode, lived, bot.called_since_spawn("deleteWebhook"), _last_cue(run, user))
    await asyncio.sleep(downtime)
    return kill


async def _kill_through_the_class(
    bot: _Bot, run: CrashRun, user: SimulatedUser, rng: random.Random, finish: float
) -> None:
    """Start the class, kill it RANDOM_KILLS times and once more when its closing message
    is sent (which may come sooner); leave a last process running."""
    await _start_class(bot, run, user)
    try:
        for number in range(RANDOM_KILLS):
            run.kills.append(await _random_kill(bot, run, user, number, rng))
        run.phase = f"kill {len(run.kills)} ({FINALE})"
        await bot.spawn()
        await bot.sprung(bot.guard, finish, "the closing message (to kill on)")
    except _Finale:
        await bot.guard.done.wait()
    bot.clear_traps()
    assert bot.guard.fired_at is not None
    ready = bot.called_since_spawn("deleteWebhook")
    lived = bot.guard.fired_at - bot.spawned_at
    run.kills.append(Kill(len(run.kills), FINALE, lived, ready, _last_cue(run, user)))
    await asyncio.sleep(rng.random() * MAX_DOWNTIME)
    run.phase = "the last start"
    await bot.spawn()


async def run_crash_class(workdir: Path, seed: int, *, time_scale: float = TIME_SCALE) -> CrashRun:
    """One class under RANDOM_KILLS kills at moments drawn from `seed`, and one at its end."""
    started = time.monotonic()
    rng = random.Random(seed)
    run = CrashRun(
        seed=seed,
        time_scale=time_scale,
        yoga_class=load_catalog()[SEED_CLASS_ID],
        log_path=workdir / "bot.log",
        database_path=workdir / "yogabot.db",
    )
    finish = run.yoga_class.total_hold_seconds * time_scale + FINISH_SLACK
    async with _CrashEmulator(token=TOKEN) as emulator:
        bot = _Bot(emulator, run, workdir)
        user = emulator.user(USER_ID, first_name="Crash")
        try:
            try:
                await _kill_through_the_class(bot, run, user, rng, finish)
            except (TimeoutError, BotDied) as exc:
                run.stuck = f"{run.phase}: waiting for {exc}"
            else:
                try:
                    await bot.wait(_closing(user), finish, "the closing message")
                    run.finished_in_time = True
                    await bot.wait(
                        lambda: any(AFTER_QUESTION in (m.plain or "") for m in user.bot_messages),
                        AFTER_QUESTION_TIMEOUT,
                        "the after-practice check-in",
                    )
                except (TimeoutError, BotDied) as exc:
                    run.wait_error = str(exc)
            run.last_exit_code = await bot.stop()
        finally:
            await bot.end_all()
            run.bot_messages = user.bot_messages
            run.sent_by = dict(_senders(emulator, run.spawn_times))
            run.internal_errors = [repr(e) for e in emulator.internal_errors]
            run.last_calls = [
                f"process {_sender(c.time, run.spawn_times)}: {describe_call(c)}"
                for c in [c for c in emulator.calls if c.method != "getUpdates"][-LAST_CALLS:]
            ]
    await _read_database(run)
    run.elapsed = time.monotonic() - started
    return run
