"""yogabot (`cli run`) with counters, for bench/player.py: the bot's code is not changed.

Counted in the bot's process, between SIGUSR1 (the measured window begins: counters start
from zero) and SIGUSR2 (it ends: the counts are written to the file named on the command
line, as JSON):

* every SQL statement, by kind (`UPDATE practice_sessions`, `INSERT step_events`,
  `SELECT`, ...), from SQLAlchemy's `before_cursor_execute` event, with the rows the
  writes touched (`after_cursor_execute`'s rowcount), and the transactions that wrote;
  the heartbeats' batched UPDATE (`players_seen`) on its own; and those an API call made
  itself (inside its handler, told apart by a context variable), by call;
* each heartbeat flush (player/heartbeats.py `Heartbeats.flush`): the practices it wrote
  and its wall time;
* each player API call (player/server.py `PlayerApi._api`), by name: its wall time in the
  bot, from the request's handler starting to its answer (not the time the request waited
  for the event loop before that, which only the load generator sees);
* the calls the event loop hands to aiosqlite's threads (`Connection._execute`: each a
  trip to a database connection's thread and back, whatever it does: a statement, a
  fetch, a commit or rollback);
* the waits for the database: a connection from the pool (SQLAlchemy's `QueuePool._do_get`,
  every unit of work), and a write unit's turn among the process's writers on SQLite
  (bot/store/unit_of_work.py `Store._writer_turn`), with how long each turn was held;
* each COMMIT on aiosqlite's thread, timed from the loop (SQLite checkpoints its
  write-ahead log into the database file inside a commit now and then, fsync included);
* the garbage collector's passes, by generation (each one stops the event loop);
* the event loop's lag: every LAG_EVERY, how late a callback runs after it was due (a busy
  loop runs everything late, the API's answers and the practices' timers alike).

`BENCH_GC_FREEZE=1` in the environment: what if the bot called `gc.freeze()` once started
(its full collections then skip the start-up's objects, some 140,000).

Kept small on purpose (only stdlib, SQLAlchemy and what the bot imports anyway), so that
the bot's resident memory is its own: durations go into `array("d")`, 8 bytes each.

    python bench/player_worker.py <counts.json>     # as bench/player.py starts it
"""

from __future__ import annotations

import asyncio
import contextlib
import contextvars
import functools
import gc
import json
import os
import re
import signal
import sys
import time
from array import array
from collections import Counter
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

# UPDATE practice_sessions / INSERT INTO step_events / DELETE FROM ... : the verb and table.
WRITE = re.compile(r"\s*(UPDATE|INSERT\s+INTO|DELETE\s+FROM)\s+\"?(\w+)", re.IGNORECASE)
LAG_EVERY = 0.05
HEARTBEATS = re.compile(r"\s*UPDATE\s+practice_sessions\s+SET\s+player_seen_at=", re.IGNORECASE)


class Counts:
    def __init__(self) -> None:
        self.recording = False
        self.began = 0.0
        self.statements: Counter[str] = Counter()
        self.rows: Counter[str] = Counter()
        self.write_transactions = 0
        self.transactions = 0
        self._writing: set[int] = set()
        self.flushes: list[tuple[int, float]] = []  # (practices written, seconds)
        self.api: dict[str, array[float]] = {}
        self.api_status: Counter[str] = Counter()
        # "<call> <statement kind>" and "<call>": what each API call did itself.
        self.api_statements: Counter[str] = Counter()
        self.api_thread_calls: Counter[str] = Counter()
        self.thread_calls = 0
        self.lag: array[float] = array("d")
        self.pool_wait: array[float] = array("d")
        self.turn_wait: array[float] = array("d")
        self.turn_held: array[float] = array("d")
        self.commits: array[float] = array("d")
        self.gc: dict[int, array[float]] = {}

    def start(self) -> None:
        self.__init__()  # type: ignore[misc]
        self.recording = True
        self.began = time.time()

    def document(self) -> dict[str, Any]:
        return {
            "began": self.began,
            "ended": time.time(),
            "statements": dict(self.statements),
            "rows": dict(self.rows),
            "transactions": self.transactions,
            "write_transactions": self.write_transactions,
            "flushes": self.flushes,
            "api_seconds": {name: list(found) for name, found in self.api.items()},
            "api_status": dict(self.api_status),
            "api_statements": dict(self.api_statements),
            "api_thread_calls": dict(self.api_thread_calls),
            "thread_calls": self.thread_calls,
            "loop_lag_seconds": list(self.lag),
            "pool_wait_seconds": list(self.pool_wait),
            "writer_turn_wait_seconds": list(self.turn_wait),
            "writer_turn_held_seconds": list(self.turn_held),
            "commit_seconds": list(self.commits),
            "gc_seconds": {str(n): list(found) for n, found in self.gc.items()},
        }


COUNTS = Counts()
# The API call whose handler is running (in its task, and the greenlets SQLAlchemy runs
# its statements in), or None.
API_CALL: contextvars.ContextVar[str | None] = contextvars.ContextVar("api_call", default=None)


def kind_of(statement: str) -> str:
    if HEARTBEATS.match(statement):
        return "UPDATE practice_sessions (heartbeats)"
    found = WRITE.match(statement)
    if found:
        return f"{found[1].split()[0].upper()} {found[2]}"
    return statement.lstrip().split(None, 1)[0].upper() if statement.strip() else "?"


def _listen() -> None:
    from sqlalchemy import event
    from sqlalchemy.engine import Engine

    def before(conn: Any, cursor: Any, statement: str, *args: Any) -> None:
        if COUNTS.recording:
            kind = kind_of(statement)
            COUNTS.statements[kind] += 1
            call = API_CALL.get()
            if call is not None:
                COUNTS.api_statements[f"{call} {kind}"] += 1
            if kind.startswith(("UPDATE", "INSERT", "DELETE")):
                COUNTS._writing.add(id(conn))

    def after(conn: Any, cursor: Any, statement: str, *args: Any) -> None:
        if COUNTS.recording:
            kind = kind_of(statement)
            if kind.startswith(("UPDATE", "INSERT", "DELETE")) and cursor.rowcount > 0:
                COUNTS.rows[kind] += cursor.rowcount

    def commit(conn: Any) -> None:
        if COUNTS.recording:
            COUNTS.transactions += 1
            if id(conn) in COUNTS._writing:
                COUNTS.write_transactions += 1
        COUNTS._writing.discard(id(conn))

    def rollback(conn: Any) -> None:
        if COUNTS.recording:
            COUNTS.transactions += 1
        COUNTS._writing.discard(id(conn))

    event.listen(Engine, "before_cursor_execute", before)
    event.listen(Engine, "after_cursor_execute", after)
    event.listen(Engine, "commit", commit)
    event.listen(Engine, "rollback", rollback)


def _wrap_player() -> None:
    from player import heartbeats, server

    flush = heartbeats.Heartbeats.flush

    @functools.wraps(flush)
    async def timed_flush(self: heartbeats.Heartbeats) -> None:
        written, started = self.unwritten, time.perf_counter()
        try:
            await flush(self)
        finally:
            if COUNTS.recording and written:
                COUNTS.flushes.append((written, time.perf_counter() - started))

    api = server.PlayerApi._api

    @functools.wraps(api)
    async def timed_api(self: server.PlayerApi, request: Any) -> Any:
        started = time.perf_counter()
        name = request.match_info.get("name", "?")
        API_CALL.set(name)  # the handler's own task: gone with it
        response = await api(self, request)
        if COUNTS.recording:
            COUNTS.api.setdefault(name, array("d")).append(time.perf_counter() - started)
            COUNTS.api_status[f"{name} {response.status}"] += 1
        return response

    start = server.PlayerApi.start

    @functools.wraps(start)
    def start_watching(self: server.PlayerApi) -> None:
        start(self)
        if os.environ.get("BENCH_GC_FREEZE"):
            # What if: the objects of the start-up (modules, catalog, settings) moved out of
            # the collector's reach, so that its full passes look at the live ones only.
            gc.freeze()
        # Started with the player's listener, inside the bot's event loop.
        self._lag_watch = asyncio.get_running_loop().create_task(_watch_lag())  # type: ignore[attr-defined]

    heartbeats.Heartbeats.flush = timed_flush  # type: ignore[method-assign]
    server.PlayerApi._api = timed_api  # type: ignore[method-assign]
    server.PlayerApi.start = start_watching  # type: ignore[method-assign]


async def _watch_lag() -> None:
    loop = asyncio.get_running_loop()
    while True:
        due = loop.time() + LAG_EVERY
        await asyncio.sleep(LAG_EVERY)
        if COUNTS.recording:
            COUNTS.lag.append(max(0.0, loop.time() - due))


def _time_database_waits() -> None:
    from sqlalchemy.pool import impl

    from bot.store import unit_of_work

    do_get = impl.QueuePool._do_get

    @functools.wraps(do_get)
    def timed_get(self: Any) -> Any:
        started = time.perf_counter()
        try:
            return do_get(self)
        finally:
            if COUNTS.recording:
                COUNTS.pool_wait.append(time.perf_counter() - started)

    turn = unit_of_work.Store._writer_turn

    @contextlib.asynccontextmanager
    async def timed_turn(self: Any) -> AsyncIterator[None]:
        asked = time.perf_counter()
        async with turn(self):
            given = time.perf_counter()
            try:
                yield
            finally:
                if COUNTS.recording:
                    COUNTS.turn_wait.append(given - asked)
                    COUNTS.turn_held.append(time.perf_counter() - given)

    impl.QueuePool._do_get = timed_get  # type: ignore[method-assign]
    unit_of_work.Store._writer_turn = timed_turn  # type: ignore[method-assign]


def _time_commits_and_collections() -> None:
    from aiosqlite import core

    commit = core.Connection.commit

    @functools.wraps(commit)
    async def timed_commit(self: Any) -> None:
        started = time.perf_counter()
        try:
            await commit(self)
        finally:
            if COUNTS.recording:
                COUNTS.commits.append(time.perf_counter() - started)

    core.Connection.commit = timed_commit  # type: ignore[method-assign]
    began: list[float] = [0.0]

    def collected(phase: str, info: dict[str, Any]) -> None:
        if phase == "start":
            began[0] = time.perf_counter()
        elif COUNTS.recording:
            found = COUNTS.gc.setdefault(info["generation"], array("d"))
            found.append(time.perf_counter() - began[0])

    gc.callbacks.append(collected)


def _count_thread_calls() -> None:
    from aiosqlite import core

    execute = core.Connection._execute

    @functools.wraps(execute)
    async def counted(self: Any, fn: Any, *args: Any, **kwargs: Any) -> Any:
        if COUNTS.recording:
            COUNTS.thread_calls += 1
            call = API_CALL.get()
            if call is not None:
                COUNTS.api_thread_calls[call] += 1
        return await execute(self, fn, *args, **kwargs)  # type: ignore[no-untyped-call]

    core.Connection._execute = counted  # type: ignore[method-assign]


def serve(out: Path) -> int:
    from cli.main import main as cli_main

    _listen()
    _wrap_player()
    _count_thread_calls()
    _time_database_waits()
    _time_commits_and_collections()

    def begin(signum: int, frame: Any) -> None:
        COUNTS.start()

    def end(signum: int, frame: Any) -> None:
        COUNTS.recording = False
        written = out.with_suffix(".part")
        written.write_text(json.dumps(COUNTS.document()))
        written.replace(out)

    signal.signal(signal.SIGUSR1, begin)
    signal.signal(signal.SIGUSR2, end)
    return cli_main(["run"])


if __name__ == "__main__":
    sys.exit(serve(Path(sys.argv[1])))
