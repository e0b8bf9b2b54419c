"""yogabot (`cli run`) with counters, for bench/player.py: the bot's code is not changed.

Counted in the bot's process, between SIGUSR1 (the measured window begins: counters start
from zero) and SIGUSR2 (it ends: the counts are written to the file named on the command
line, as JSON):

* every SQL statement, by kind (`UPDATE practice_sessions`, `INSERT step_events`,
  `SELECT`, ...), from SQLAlchemy's `before_cursor_execute` event, with the rows the
  writes touched (`after_cursor_execute`'s rowcount), and the transactions that wrote;
  the heartbeats' batched UPDATE (`players_seen`) on its own;
* each heartbeat flush (player/heartbeats.py `Heartbeats.flush`): the practices it wrote
  and its wall time;
* each player API call (player/server.py `PlayerApi._api`), by name: its wall time in the
  bot, from the request's handler starting to its answer (not the time the request waited
  for the event loop before that, which only the load generator sees).

Kept small on purpose (only stdlib, SQLAlchemy and what the bot imports anyway), so that
the bot's resident memory is its own: durations go into `array("d")`, 8 bytes each.

    python bench/player_worker.py <counts.json>     # as bench/player.py starts it
"""

from __future__ import annotations

import functools
import json
import re
import signal
import sys
import time
from array import array
from collections import Counter
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

# UPDATE practice_sessions / INSERT INTO step_events / DELETE FROM ... : the verb and table.
WRITE = re.compile(r"\s*(UPDATE|INSERT\s+INTO|DELETE\s+FROM)\s+\"?(\w+)", re.IGNORECASE)
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
        }


COUNTS = Counts()


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
        response = await api(self, request)
        if COUNTS.recording:
            name = request.match_info.get("name", "?")
            COUNTS.api.setdefault(name, array("d")).append(time.perf_counter() - started)
            COUNTS.api_status[f"{name} {response.status}"] += 1
        return response

    heartbeats.Heartbeats.flush = timed_flush  # type: ignore[method-assign]
    server.PlayerApi._api = timed_api  # type: ignore[method-assign]


def serve(out: Path) -> int:
    from cli.main import main as cli_main

    _listen()
    _wrap_player()

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
