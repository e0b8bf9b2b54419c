"""The player (the Mini App, player/): how many classes one bot worker holds, and what a
class costs in Bot API calls, in the player and in the chat.

1. **Classes per worker** (`capacity`). yogabot runs as its own process
   (bench/player_worker.py: `cli run` with SQL statements, heartbeat flushes and the API's
   handler times counted, its code unchanged), long polling against the Bot API emulator
   in this process, SQLite, WEBAPP_URL on loopback so that its player listener serves
   the API, TIME_SCALE=1: real holds (the seed class, 25 poses, 1,805 s). N classes are
   seeded into its database before it starts, each a practice in the player
   (surface "player", its chat's note already sent), at a step drawn from the first half
   of the class, its deadline drawn within that step's hold, so that steps move on
   evenly from the start (seeded, not begun over the API: begun over the API, each class
   sends its note to the chat, and 10,000 of them at Telegram's 30 a second take over
   five minutes; part 2 begins its classes over the API). Then a second process
   (bench/player_pages.py) opens N pages spread over the ramp, each behaving as
   player.js does: `beat` every 10 s, `state` every 30 s and when its countdown reaches
   0, an `act` (more_time or next) about every 2 minutes, the pose's picture once per
   step. After the ramp and a settling time, over the measured window, per N: requests
   a second, p50/p95/p99 latency per call type as the pages saw it (and the handler's own
   time in the worker), errors, the worker's CPU (100 % = one core) and RSS, the pages'
   CPU (the two processes share the machine's cores, and so does this one, lightly: the
   emulator), SQL statements and writing transactions a second, and the heartbeats'
   writes: UPDATE statements against beats received (one batched UPDATE per flush, every
   10 s, whatever the beats) and each flush's time; and where the worker's time went:
   its CPU per class, why each `state` was asked, its trips to a database thread, its
   waits for a pooled connection and for the writers' turn, its event loop's lag and
   garbage collections, and how long it waited for a core.

   Then each call alone (`call_costs`): COST_CLASSES classes seeded with their deadlines
   an hour off, and each call type made COST_CALLS times one after another by one
   client: the worker's CPU, SQL statements and database thread trips per call.

2. **Bot API calls per class** (`calls_per_class`). One whole class at a small TIME_SCALE,
   begun over the API (begin start, screen none, score skipped) and followed as a page
   follows it to its summary, counted at the emulator by method; then the same class in
   the chat (/start_practice, None of these, Skip, its cues moving on by themselves to
   the closing message). The way in (up to the check-in answered) is counted apart.

3. **The chat's ceiling** (`ceiling`), derived: Telegram takes about 30 counted calls a
   second per bot; a chat class costs its counted calls over its 1,805 s, so a bot holds
   30 / that many live chat classes (below the limit every cue also retires the last
   one's buttons; at the limit the retirements wait, about one counted call a cue); a
   player class costs its handful, so Telegram's limit is far off and the worker is the
   bound (part 1).

    .venv/bin/python bench/player.py                 # 1,000 to 10,000 classes
    .venv/bin/python bench/player.py --quick         # 500 classes, a shorter window
    .venv/bin/python bench/player.py 2500 4000       # these sizes

`BENCH_PROFILE=<folder>` runs the worker under cProfile (stats written there at its exit);
`BENCH_LOGS=<folder>` keeps the worker's and the pages' logs there.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import dataclasses
import json
import os
import random
import shutil
import signal
import socket
import statistics
import sys
import tempfile
import time
from collections import Counter
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import aiohttp
from sqlalchemy import insert, select

from bench.common import PROJECT_DIR, TELEGRAM_LIMIT, TOKEN, percentile
from bench.player_pages import Config, Pages, init_data
from bench.taps import Recorder, bot_command, cpu_seconds, database_url, rss_mb
from bot.database import create_engine, migrate
from bot.models import Practice, PracticeStatus, Surface, User
from sequences import load_catalog
from tests.harness.bot import SCREEN_CLEAR, button_texts

CLASS_ID = "back-strengthening-part-1"
FIRST_USER = 700_000
NOTE = 1  # each chat's note about its class in the player, seeded as message 1
# The latency the player's API should keep under, at the 99th percentile.
TARGET_P99_MS = 100.0
CALL_TYPES = ("beat", "state", "act", "media")
# A class runs the full class at the usual pace; seeded classes start in its first half.
SEEDED_STEPS = 12
# Part 2: the class at this TIME_SCALE (30 min in about 18 s); holds of 0.25 to 1.35 s.
CLASS_SCALE = 0.01
# Each call alone: classes seeded (their deadlines an hour off: nothing moves on by
# itself), and each call type made COST_CALLS times, one at a time, by one client.
COST_CLASSES = 200
COST_CALLS = 600


@dataclass(frozen=True)
class Plan:
    classes: tuple[int, ...]
    ramp_s: float  # the pages open, spread evenly over this
    settle_s: float  # after the ramp, before the window
    window_s: float  # measured
    class_scale: float = CLASS_SCALE  # part 2's TIME_SCALE
    costs: tuple[int, int] = (COST_CLASSES, COST_CALLS)  # each call alone: (classes, calls)


# A ramp of 30 s spreads the pages' 10 s heartbeats and 30 s polls evenly; the window holds
# six heartbeat flushes.
FULL = Plan((1_000, 2_000, 3_000, 4_000, 10_000), ramp_s=30.0, settle_s=15.0, window_s=60.0)
QUICK = Plan((500,), ramp_s=10.0, settle_s=3.0, window_s=12.0, class_scale=0.004, costs=(100, 200))


def holds() -> list[float]:
    return [step.hold_seconds for step in load_catalog()[CLASS_ID].steps_for("full")]


def user_of(n: int) -> int:
    return FIRST_USER + n


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


async def seed(url: str, classes: int, first_deadline: float, seen_at: float) -> None:
    """`classes` users, each in a class running in the player (see the module's docstring),
    their players last heard from at `seen_at`."""
    draw = random.Random(7)
    hold_s = holds()
    engine = create_engine(url)
    now = datetime.now(UTC)
    rows = []
    for n in range(1, classes + 1):
        step = draw.randrange(SEEDED_STEPS)
        deadline = first_deadline + draw.uniform(0, hold_s[step])
        rows.append(
            {
                "id": n,
                "user_id": user_of(n),
                "chat_id": user_of(n),
                "class_id": CLASS_ID,
                "status": PracticeStatus.ACTIVE,
                "started_at": now - timedelta(minutes=10),
                "current_step": step,
                "hold_ends_at": datetime.fromtimestamp(deadline, UTC),
                "surface": Surface.PLAYER,
                "note_message_id": NOTE,
                "player_seen_at": datetime.fromtimestamp(seen_at, UTC),
            }
        )
    try:
        await migrate(engine)
        async with engine.begin() as connection:
            users = [user_of(n) for n in range(1, classes + 1)]
            for at in range(0, classes, 5_000):
                await connection.execute(
                    insert(User),
                    [
                        {"id": u, "chat_id": u, "first_name": "Bench", "created_at": now}
                        for u in users[at : at + 5_000]
                    ],
                )
                await connection.execute(insert(Practice), rows[at : at + 5_000])
    finally:
        await engine.dispose()


@contextlib.asynccontextmanager
async def worker(
    emulator: Recorder, workdir: Path, counts: Path, env: dict[str, str]
) -> AsyncIterator[tuple[int, str]]:
    """yogabot with the player on, counted (bench/player_worker.py): its pid and
    WEBAPP_URL once its player answers."""
    port = free_port()
    url = f"http://127.0.0.1:{port}/app/"
    extra = {"WEBAPP_URL": url, "WEBAPP_PORT": str(port), **env}
    _, environment = bot_command(emulator, "yogabot", workdir, extra)
    script = str(PROJECT_DIR / "bench" / "player_worker.py")
    command = [sys.executable, script, str(counts)]
    profile = os.environ.get("BENCH_PROFILE")
    if profile:
        out = Path(profile) / f"player-worker-{os.getpid()}-{time.time_ns()}.prof"
        command = [sys.executable, "-m", "cProfile", "-o", str(out), script, str(counts)]
    log = (workdir / "worker.log").open("ab")
    process = await asyncio.create_subprocess_exec(
        *command, env=environment, cwd=workdir, stdout=log, stderr=log
    )
    try:
        ready = asyncio.create_task(_ready(emulator, url))
        ended = asyncio.create_task(process.wait())
        await asyncio.wait({ready, ended}, timeout=240, return_when=asyncio.FIRST_COMPLETED)
        if not ready.done():
            ready.cancel()
            ended.cancel()
            tail = (workdir / "worker.log").read_text(errors="replace")[-2_000:]
            raise RuntimeError(f"the worker did not start (exit {process.returncode}):\n{tail}")
        ended.cancel()
        ready.result()
        yield process.pid, url
    finally:
        if process.returncode is None:
            process.send_signal(signal.SIGINT)
            try:
                await asyncio.wait_for(process.wait(), timeout=30)
            except TimeoutError:
                process.kill()
                await process.wait()
        else:
            log.write(f"[bench] the worker ended by itself: {process.returncode}\n".encode())
        log.close()


def _alive(pid: int, workdir: Path) -> None:
    """The worker still runs; else what its log said last."""
    try:
        os.kill(pid, 0)  # asyncio's child watcher reaps it as it ends
    except ProcessLookupError:
        _keep_logs(workdir, "died")
        tail = (workdir / "worker.log").read_text(errors="replace")[-3_000:]
        raise RuntimeError(f"the worker ended before the window's end:\n{tail}") from None


async def _ready(emulator: Recorder, url: str) -> None:
    """Polling, and its player answering."""
    await emulator.polling.wait()
    await _answering(url)


async def _answering(url: str) -> None:
    async with aiohttp.ClientSession() as http:
        while True:
            with contextlib.suppress(aiohttp.ClientError):
                async with http.get(url) as response:
                    if response.status == 200:
                        return
            await asyncio.sleep(0.2)


def waited_for_a_core(pid: int) -> float:
    """Seconds the process's main thread (the event loop) has spent runnable but waiting
    for a core (/proc/<pid>/schedstat): what other processes, the pages among them, took."""
    return int(Path(f"/proc/{pid}/schedstat").read_text().split()[1]) / 1e9


def cpu_pressure() -> float | None:
    """Seconds, in all, some runnable task waited for a core (/proc/pressure/cpu); None
    where the kernel does not say."""
    try:
        line = Path("/proc/pressure/cpu").read_text().splitlines()[0]
    except (OSError, IndexError):
        return None
    return int(line.rsplit("total=", 1)[1]) / 1e6


def load_average() -> float:
    return float(Path("/proc/loadavg").read_text().split()[0])


def _ms(ordered: list[float], q: float) -> float:
    return round(percentile(ordered, q) * 1000, 1)


def latency(found: list[float]) -> dict[str, Any]:
    ordered = sorted(found)
    return {
        "calls": len(ordered),
        "p50_ms": _ms(ordered, 0.50),
        "p95_ms": _ms(ordered, 0.95),
        "p99_ms": _ms(ordered, 0.99),
        "max_ms": round(ordered[-1] * 1000, 1) if ordered else 0.0,
    }


async def capacity_run(classes: int, plan: Plan) -> dict[str, Any]:
    """`classes` pages on one worker; the figures of the measured window."""
    with tempfile.TemporaryDirectory(prefix="yogabot-player-") as folder:
        workdir = Path(folder)
        counts = workdir / "counts.json"
        try:
            async with Recorder(max_recorded_calls=2_000) as emulator:
                for n in range(1, classes + 1):
                    chat = emulator.user(user_of(n)).open_chat()
                    emulator.state.add_message(
                        chat, from_bot=True, text="Your class is in the player."
                    )
                # The worker starts in a few seconds (some 10 s with 10,000 classes to arm):
                # the first deadlines fall as the pages open, and the players count as heard
                # from then, so no silence is swept before their first beats.
                lead = 5.0 + classes / 1_000
                seeded_at = time.time()
                await seed(database_url(workdir), classes, seeded_at + lead, seeded_at + lead)
                async with worker(emulator, workdir, counts, {"TIME_SCALE": "1"}) as (pid, url):
                    started_s = time.time() - seeded_at
                    ramp_start = time.time() + 0.5
                    window_start = ramp_start + plan.ramp_s + plan.settle_s
                    window_end = window_start + plan.window_s
                    config = Config(
                        url=url,
                        token=TOKEN,
                        users=[user_of(n) for n in range(1, classes + 1)],
                        ramp_start=ramp_start,
                        ramp_s=plan.ramp_s,
                        window_start=window_start,
                        window_end=window_end,
                    )
                    (workdir / "pages.json").write_text(json.dumps(config.__dict__))
                    pages_log = (workdir / "pages.log").open("ab")
                    pages = await asyncio.create_subprocess_exec(
                        sys.executable,
                        str(PROJECT_DIR / "bench" / "player_pages.py"),
                        str(workdir / "pages.json"),
                        str(workdir / "found.json"),
                        env={**os.environ, "PYTHONPATH": str(PROJECT_DIR)},
                        stdout=pages_log,
                        stderr=pages_log,
                    )
                    await asyncio.sleep(max(0.0, window_start - time.time()))
                    _alive(pid, workdir)
                    os.kill(pid, signal.SIGUSR1)
                    cpu_before = cpu_seconds(pid)
                    waited_before, pressure_before = waited_for_a_core(pid), cpu_pressure()
                    calls_before = len(emulator.timeline)
                    rss_peak = rss_mb(pid)
                    while time.time() < window_end:
                        await asyncio.sleep(min(2.0, max(0.0, window_end - time.time())))
                        _alive(pid, workdir)
                        rss_peak = max(rss_peak, rss_mb(pid))
                    cpu = cpu_seconds(pid) - cpu_before
                    waited = waited_for_a_core(pid) - waited_before
                    pressure_after = cpu_pressure()
                    pressure = (
                        None
                        if pressure_before is None or pressure_after is None
                        else pressure_after - pressure_before
                    )
                    machine = {
                        "load_average_1min": load_average(),
                        "worker_waited_for_a_core_percent": round(waited / plan.window_s * 100, 1),
                        "cpu_pressure_some_percent": None
                        if pressure is None
                        else round(pressure / plan.window_s * 100, 1),
                    }
                    rss_end = rss_mb(pid)
                    window = [c for c in emulator.timeline[calls_before:] if c[1] != "getUpdates"]
                    os.kill(pid, signal.SIGUSR2)
                    await asyncio.wait_for(pages.wait(), timeout=120)
                    pages_log.close()
                    await _written(counts)
                    inside = json.loads(counts.read_text())
                    found = json.loads((workdir / "found.json").read_text())
                paused = await _paused(database_url(workdir))
        finally:
            _keep_logs(workdir, f"{classes}")
    figures = _capacity_figures(
        classes, plan, found, inside, cpu, rss_end, rss_peak, window, paused, started_s
    )
    return figures | {"machine": machine}


def _keep_logs(workdir: Path, name: str) -> None:
    """BENCH_LOGS=<folder>: the worker's and the pages' logs are kept there."""
    folder = os.environ.get("BENCH_LOGS")
    if folder:
        Path(folder).mkdir(parents=True, exist_ok=True)
        for log in ("worker.log", "pages.log"):
            if (workdir / log).exists():
                shutil.copy(workdir / log, Path(folder) / f"{name}-{log}")


async def _written(path: Path, within: float = 30.0) -> None:
    """Until the worker has written its counts (on SIGUSR2)."""
    for _ in range(int(within / 0.1)):
        if await asyncio.to_thread(path.exists):
            return
        await asyncio.sleep(0.1)
    raise TimeoutError(f"the worker wrote no counts to {path} in {within:.0f} s")


async def _paused(url: str) -> int:
    """Practices paused by the server (a player it took for gone), at the end."""
    engine = create_engine(url)
    try:
        async with engine.connect() as connection:
            rows = await connection.execute(
                select(Practice.id).where(Practice.status == PracticeStatus.PAUSED)
            )
            return len(rows.all())
    finally:
        await engine.dispose()


def _capacity_figures(
    classes: int,
    plan: Plan,
    found: dict[str, Any],
    inside: dict[str, Any],
    cpu: float,
    rss_end: float,
    rss_peak: float,
    window: list[tuple[float, str, bool, int | None]],
    paused: int,
    started_s: float,
) -> dict[str, Any]:
    seconds = plan.window_s
    every = [x for kind in found["latencies"].values() for x in kind]
    statuses: dict[str, int] = found["statuses"]
    ok = ("200", "204", "409")
    errors = {k: v for k, v in statuses.items() if k.split()[-1] not in ok}
    stale = sum(v for k, v in statuses.items() if k.endswith(" 409"))
    statements: dict[str, int] = inside["statements"]
    writes = sum(v for k, v in statements.items() if k.startswith(("UPDATE", "INSERT", "DELETE")))
    heartbeat_updates = statements.get("UPDATE practice_sessions (heartbeats)", 0)
    flushes = inside["flushes"]
    flush_s = sorted(s for _, s in flushes)
    beats = len(found["latencies"].get("beat", []))
    server = {name: latency(times) for name, times in sorted(inside["api_seconds"].items())}
    api = latency(every)
    lag = sorted(inside["loop_lag_seconds"])

    def waits(name: str) -> dict[str, Any]:
        found = sorted(inside[name])
        return {
            "count": len(found),
            "p50_ms": _ms(found, 0.5),
            "p99_ms": _ms(found, 0.99),
            "max_ms": round(found[-1] * 1000, 1) if found else 0.0,
            "busy_percent": round(sum(found) / seconds * 100, 1),
        }

    return {
        "classes": classes,
        "started": "seeded",
        "worker_started_s": round(started_s, 1),
        "window_s": seconds,
        "requests": len(every),
        "requests_per_second": round(len(every) / seconds, 1),
        "latency": {kind: latency(found["latencies"].get(kind, [])) for kind in CALL_TYPES},
        "latency_all": api,
        "api_p99_under_target": all(
            latency(found["latencies"].get(kind, []))["p99_ms"] < TARGET_P99_MS
            for kind in ("beat", "state", "act")
        ),
        "handler_in_worker": server,
        "errors": sum(errors.values()),
        "error_statuses": errors,
        "failures": found["failures"],
        "stale_409": stale,
        "state_asked": found["state_asked"],
        "pages_off_the_practice": found["pages_off_the_practice"],
        "paused_by_the_server": paused,
        "worker_cpu_percent": round(cpu / seconds * 100, 1),
        "worker_cpu_ms_per_request": round(cpu / len(every) * 1000, 3) if every else None,
        # What one class costs the worker a second, all in: its calls, its steps moving on,
        # the sweeps; one core's 1,000 ms a second over it is what CPU alone allows.
        "worker_cpu_ms_per_class_second": round(cpu / seconds / classes * 1000, 4),
        "pages_cpu_percent": round(found["cpu_s"] / seconds * 100, 1),
        "loop_lag_ms": {
            "p50": _ms(lag, 0.5),
            "p99": _ms(lag, 0.99),
            "max": round(lag[-1] * 1000, 1) if lag else 0.0,
        },
        "database_waits": {
            "pool": waits("pool_wait_seconds"),
            "writer_turn": waits("writer_turn_wait_seconds"),
            "writer_turn_held": waits("writer_turn_held_seconds"),
            "commit": waits("commit_seconds"),
        },
        "garbage_collections": {
            f"generation {n}": {
                "count": len(found),
                "max_ms": round(max(found) * 1000, 1),
                "total_ms": round(sum(found) * 1000, 1),
            }
            for n, found in sorted(inside["gc_seconds"].items())
            if found
        },
        # Every trip to a database connection's thread: the API's, the timers', the sweeps'.
        "database_thread_calls_per_second": round(inside["thread_calls"] / seconds, 1),
        "worker_rss_mb": round(rss_end, 1),
        "worker_rss_peak_mb": round(rss_peak, 1),
        "sql_statements_per_second": round(sum(statements.values()) / seconds, 1),
        "sql_writes_per_second": round(writes / seconds, 1),
        "write_transactions_per_second": round(inside["write_transactions"] / seconds, 1),
        "sql_statements": statements,
        "rows_written": inside["rows"],
        "heartbeats": {
            "beats_answered": beats,
            "update_statements": heartbeat_updates,
            "rows_updated": inside["rows"].get("UPDATE practice_sessions (heartbeats)", 0),
            "flushes": len(flushes),
            "practices_per_flush": round(statistics.fmean(n for n, _ in flushes), 1)
            if flushes
            else 0,
            "flush_p50_ms": _ms(flush_s, 0.5),
            "flush_max_ms": round(flush_s[-1] * 1000, 1) if flush_s else 0.0,
        },
        "bot_api_calls": len(window),
        "bot_api_calls_by_method": dict(Counter(c[1] for c in window)),
    }


# -- where the worker's time goes: each call alone ------------------------------------------


async def call_costs(classes: int = COST_CLASSES, calls: int = COST_CALLS) -> dict[str, Any]:
    """What each call costs the worker, made one at a time (no queue, no contention): its
    CPU (the worker's, all threads), the SQL statements and trips to a database thread it
    made itself (the worker tells them apart from its sweeps'), its latency.
    `act` is `next`: a step moved on, written as a timer's move is (one UPDATE, one
    INSERT), with the View read after it."""
    with tempfile.TemporaryDirectory(prefix="yogabot-player-costs-") as folder:
        workdir = Path(folder)
        counts = workdir / "counts.json"
        async with Recorder(max_recorded_calls=2_000) as emulator:
            for n in range(1, classes + 1):
                chat = emulator.user(user_of(n)).open_chat()
                emulator.state.add_message(chat, from_bot=True, text="Your class is in the player.")
            far = time.time() + 3_600
            await seed(database_url(workdir), classes, far, far)
            async with (
                worker(emulator, workdir, counts, {"TIME_SCALE": "1"}) as (pid, url),
                aiohttp.ClientSession() as http,
            ):
                users = [user_of(n) for n in range(1, classes + 1)]
                inits = {user: init_data(TOKEN, user) for user in users}

                async def post(name: str, body: dict[str, Any]) -> tuple[int, Any]:
                    async with http.post(url + "api/" + name, json=body) as response:
                        raw = await response.read()
                        return response.status, json.loads(raw) if raw else None

                # Each page's first state, as the ramp does: the worker knows whose each
                # practice is from then on.
                views = {u: (await post("state", {"init_data": inits[u]}))[1] for u in users}
                found = {}
                for kind in ("beat", "state", "act"):
                    os.kill(pid, signal.SIGUSR1)
                    cpu_before, took = cpu_seconds(pid), []
                    for n in range(calls):
                        user = users[n % classes]
                        view = views[user]
                        body: dict[str, Any] = {"init_data": inits[user]}
                        if kind != "state":
                            body["practice"] = view["practice"]
                        if kind == "act":
                            body |= {"step": view["step"], "action": "next"}
                        started = time.perf_counter()
                        status, answer = await post(kind, body)
                        took.append(time.perf_counter() - started)
                        if status not in (200, 204):
                            raise RuntimeError(f"{kind} answered {status}: {answer}")
                        if kind == "act":
                            views[user] = answer
                    cpu = cpu_seconds(pid) - cpu_before
                    os.kill(pid, signal.SIGUSR2)
                    await _written(counts)
                    inside = json.loads(await asyncio.to_thread(counts.read_text))
                    counts.unlink()
                    # What the calls did themselves (not the sweeps running meanwhile).
                    own = {
                        k.split(" ", 1)[1]: v
                        for k, v in inside["api_statements"].items()
                        if k.split(" ", 1)[0] == kind
                    }
                    writes = sum(
                        v for k, v in own.items() if k.startswith(("UPDATE", "INSERT", "DELETE"))
                    )
                    trips = inside["api_thread_calls"].get(kind, 0)
                    took.sort()
                    found[kind] = {
                        "calls": calls,
                        "worker_cpu_ms": round(cpu / calls * 1000, 3),
                        "sql_statements": round(sum(own.values()) / calls, 2),
                        "sql_statements_by_kind": own,
                        "sql_writes": round(writes / calls, 2),
                        "database_thread_calls": round(trips / calls, 2),
                        "p50_ms": _ms(took, 0.5),
                        "p99_ms": _ms(took, 0.99),
                    }
    return found


# -- part 2: one class, in the player and in the chat ------------------------------------------


async def calls_per_class(scale: float = CLASS_SCALE) -> dict[str, Any]:
    """One whole class in the player, then the same in the chat, on one worker at `scale`:
    the Bot API calls each cost, counted at the emulator."""
    with tempfile.TemporaryDirectory(prefix="yogabot-player-class-") as folder:
        workdir = Path(folder)
        async with (
            Recorder() as emulator,
            worker(emulator, workdir, workdir / "counts.json", {"TIME_SCALE": str(scale)}) as (
                _,
                url,
            ),
        ):
            await asyncio.sleep(1.0)  # the start-up's own calls are over
            in_player = await _player_class(emulator, url, user_of(1), database_url(workdir))
            in_chat = await _chat_class(emulator, user_of(2), database_url(workdir))
    hold_s = holds()
    return {
        "time_scale": scale,
        "poses": len(hold_s),
        "class_seconds": sum(hold_s),
        "player": in_player,
        "chat": in_chat,
    }


def _count(calls: list[tuple[float, str, bool, int | None]]) -> dict[str, Any]:
    made = [c for c in calls if c[1] != "getUpdates"]
    return {
        "calls": len(made),
        "counted": sum(1 for c in made if c[2]),
        "by_method": dict(Counter(c[1] for c in made)),
    }


async def _finished(url: str, user_id: int) -> bool:
    """The user's practice is closed and its closing message delivered."""
    engine = create_engine(url)
    try:
        async with engine.connect() as connection:
            row = (
                await connection.execute(
                    select(Practice.status, Practice.summary_pending).where(
                        Practice.user_id == user_id
                    )
                )
            ).first()
    finally:
        await engine.dispose()
    return row is not None and row[0] != PracticeStatus.ACTIVE and not row[1]


async def _until_finished(url: str, user_id: int, within: float = 120.0) -> None:
    for _ in range(int(within / 0.25)):
        if await _finished(url, user_id):
            await asyncio.sleep(1.5)  # retirements and the question after, with headroom
            return
        await asyncio.sleep(0.25)
    raise TimeoutError(f"the class of {user_id} did not end in {within:.0f} s")


async def _player_class(emulator: Recorder, url: str, user_id: int, db: str) -> dict[str, Any]:
    """begin: start, screen none, score skipped; then a page follows it to its summary."""
    # The player is opened from the bot's chat: the user has one (Telegram answers "chat
    # not found" to a send to anyone who never started the bot).
    emulator.user(user_id).open_chat()
    first = len(emulator.timeline)
    init = init_data(TOKEN, user_id)
    api_calls: Counter[str] = Counter()
    async with aiohttp.ClientSession() as http:

        async def begin(answer: dict[str, Any]) -> dict[str, Any]:
            api_calls["begin"] += 1
            body = {"init_data": init, "answer": answer}
            async with http.post(url + "api/begin", json=body) as response:
                view: dict[str, Any] = await response.json()
                return view

        view = await begin({"start": True})
        if view["screen"] == "safety":
            view = await begin({"screen": "none"})
        assert view["screen"] == "checkin", view
        way_in_end = len(emulator.timeline)
        view = await begin({"score": None})
        assert view["screen"] == "practice", view
    started = time.time()
    config = Config(
        url=url,
        token=TOKEN,
        users=[user_id],
        ramp_start=time.time(),
        ramp_s=0.0,
        window_start=time.time(),
        window_end=time.time() + 600,
        # Nobody taps: the class moves on by its deadlines, as the chat's does below.
        act_every_s=1e9,
    )
    found = await Pages(config).run(until_done=True)
    await _until_finished(db, user_id)
    calls = emulator.timeline[first:]
    return {
        "way_in": _count(emulator.timeline[first:way_in_end]),
        "class": _count(emulator.timeline[way_in_end:]),
        "all": _count(calls),
        "seconds": round(time.time() - started, 1),
        "api_calls": dict(api_calls + Counter(_per_name(found["statuses"]))),
        "ended_on": found["pages_off_the_practice"],
    }


def _per_name(statuses: dict[str, int]) -> dict[str, int]:
    found: Counter[str] = Counter()
    for key, count in statuses.items():
        found[key.split()[0]] += count
    return dict(found)


async def _chat_class(emulator: Recorder, user_id: int, db: str) -> dict[str, Any]:
    """/start_practice, None of these, Skip; then its cues move on by themselves."""
    user = emulator.user(user_id)
    first = len(emulator.timeline)
    started = time.time()
    await user.send("/start_practice")
    screen = await emulator.wait_for(
        lambda: next((m for m in user.bot_messages if SCREEN_CLEAR in button_texts(m)), None),
        timeout=60,
    )
    await user.tap(screen.message_id, text=SCREEN_CLEAR)
    question = await emulator.wait_for(
        lambda: next((m for m in user.bot_messages if "Skip" in button_texts(m)), None),
        timeout=60,
    )
    way_in_end = len(emulator.timeline)
    await user.tap(question.message_id, text="Skip")
    await _until_finished(db, user_id)
    return {
        "way_in": _count(emulator.timeline[first:way_in_end]),
        "class": _count(emulator.timeline[way_in_end:]),
        "all": _count(emulator.timeline[first:]),
        "seconds": round(time.time() - started, 1),
    }


# -- part 3: the ceilings -------------------------------------------------------------------


def ceiling(per_class: dict[str, Any], capacity: list[dict[str, Any]]) -> dict[str, Any]:
    """Live classes one bot holds under Telegram's 30 counted calls a second, from what a
    class costs; and what one worker held under the latency target."""
    seconds = per_class["class_seconds"]
    poses = per_class["poses"]
    chat = per_class["chat"]["class"]
    retirements = chat["by_method"].get("editMessageReplyMarkup", 0)
    at_limit = chat["counted"] - retirements
    player = per_class["player"]["class"]["counted"]

    def classes(counted: float) -> int | None:
        return round(TELEGRAM_LIMIT * seconds / counted) if counted else None

    met = [r["classes"] for r in capacity if r["api_p99_under_target"] and r["errors"] == 0]
    return {
        "telegram_limit_per_second": TELEGRAM_LIMIT,
        "class_seconds": seconds,
        "cues_per_class": poses,
        "chat_counted_per_class_below_limit": chat["counted"],
        "chat_counted_per_class_at_limit": at_limit,
        "chat_classes_per_bot_below_limit": classes(chat["counted"]),
        "chat_classes_per_bot_at_limit": classes(at_limit),
        "player_counted_per_class": player,
        "player_classes_per_bot_by_telegram": classes(player),
        "player_classes_per_worker_measured": max(met) if met else None,
        "player_sizes_measured": [r["classes"] for r in capacity],
    }


async def measure(plan: Plan = FULL) -> dict[str, Any]:
    # Each call alone first: on this 2-core virtual machine the same calls, measured right
    # after ten minutes of loaded runs, cost the worker 35-60 % more CPU than before them.
    costs = await call_costs(*plan.costs)
    print(
        "one at a time, worker CPU per call: "
        + ", ".join(f"{kind} {c['worker_cpu_ms']} ms" for kind, c in costs.items()),
        flush=True,
    )
    runs = []
    for classes in plan.classes:
        run = await capacity_run(classes, plan)
        every = run["latency"]
        print(
            f"{classes:>6} classes: {run['requests_per_second']} requests/s, p99 beat "
            f"{every['beat']['p99_ms']} / state {every['state']['p99_ms']} / act "
            f"{every['act']['p99_ms']} ms, worker CPU {run['worker_cpu_percent']} %, "
            f"{run['errors']} errors",
            flush=True,
        )
        runs.append(run)
    per_class = await calls_per_class(plan.class_scale)
    print(
        f"a class: {per_class['player']['all']['calls']} Bot API calls in the player, "
        f"{per_class['chat']['all']['calls']} in the chat",
        flush=True,
    )
    return {
        "target_p99_ms": TARGET_P99_MS,
        "plan": {"ramp_s": plan.ramp_s, "settle_s": plan.settle_s, "window_s": plan.window_s},
        "capacity": runs,
        "call_costs": costs,
        "calls_per_class": per_class,
        "ceiling": ceiling(per_class, runs),
    }


def render(section: dict[str, Any]) -> str:
    lines = [
        f"Classes seeded in the player, TIME_SCALE 1; a {section['plan']['window_s']:.0f} s "
        "window after the ramp. Latency as the pages saw it, ms (p50 / p95 / p99).",
        "",
        "| classes | requests/s | beat | state | act | media | handler p99 in worker "
        "(beat / state / act) | errors (409) | worker CPU % | pages CPU % | worker RSS MB "
        "| SQL writes/s (transactions) | heartbeat UPDATEs for beats (flush p50 / max ms) "
        "| p99 < target |",
        "|---:|---:|---|---|---|---|---|---:|---:|---:|---:|---:|---|---|",
    ]
    for r in section["capacity"]:

        def trio(kind: str, r: dict[str, Any] = r) -> str:
            x = r["latency"][kind]
            return f"{x['p50_ms']} / {x['p95_ms']} / {x['p99_ms']}"

        def handler(kind: str, r: dict[str, Any] = r) -> str:
            found = r["handler_in_worker"].get(kind)
            return str(found["p99_ms"]) if found else "–"

        beats = r["heartbeats"]
        lines.append(
            f"| {r['classes']} | {r['requests_per_second']} | {trio('beat')} | {trio('state')} "
            f"| {trio('act')} | {trio('media')} "
            f"| {handler('beat')} / {handler('state')} / {handler('act')} "
            f"| {r['errors']} ({r['stale_409']}) | {r['worker_cpu_percent']} "
            f"| {r['pages_cpu_percent']} | {r['worker_rss_mb']} "
            f"| {r['sql_writes_per_second']} ({r['write_transactions_per_second']}) "
            f"| {beats['update_statements']} for {beats['beats_answered']} "
            f"({beats['flush_p50_ms']} / {beats['flush_max_ms']}) "
            f"| {'yes' if r['api_p99_under_target'] else 'no'} |"
        )
    lines += [
        "",
        "Where the worker's time goes (ms unless said): CPU a class costs it a second; why "
        "`state` was asked (a 30 s poll / the countdown's end / again after it); trips to a "
        "database thread a second; waits for a pooled connection and for the writers' turn "
        "(p99), the turn held (p99); the event loop's lag (p99 / max); the longest full "
        "garbage collection; the share of the window the worker's loop waited for a core "
        "(other processes, the pages' among them), and the machine's load average.",
        "",
        "| classes | CPU ms per class a second | state asked | database trips/s | pool wait "
        "| writers' turn wait (held) | loop lag | full GC max | waited for a core % "
        "| load |",
        "|---:|---:|---|---:|---:|---|---|---:|---:|---:|",
    ]
    for r in section["capacity"]:
        asked = r["state_asked"]
        waits = r["database_waits"]
        full_gc = r["garbage_collections"].get("generation 2", {}).get("max_ms", 0.0)
        lines.append(
            f"| {r['classes']} | {r['worker_cpu_ms_per_class_second']} "
            f"| {asked.get('poll', 0)} / {asked.get('at_zero', 0)} / "
            f"{asked.get('at_zero_again', 0)} | {r['database_thread_calls_per_second']} "
            f"| {waits['pool']['p99_ms']} | {waits['writer_turn']['p99_ms']} "
            f"({waits['writer_turn_held']['p99_ms']}) "
            f"| {r['loop_lag_ms']['p99']} / {r['loop_lag_ms']['max']} | {full_gc} "
            f"| {r['machine']['worker_waited_for_a_core_percent']} "
            f"| {r['machine']['load_average_1min']} |"
        )
    lines += [
        "",
        "Each call alone, one at a time (the worker's CPU per call, all its threads):",
        "",
        "| call | worker CPU ms | SQL statements (writes) | database thread trips "
        "| latency p50 / p99 ms |",
        "|---|---:|---:|---:|---|",
    ]
    for kind, cost in section["call_costs"].items():
        name = "act (next)" if kind == "act" else kind
        lines.append(
            f"| {name} | {cost['worker_cpu_ms']} | {cost['sql_statements']} "
            f"({cost['sql_writes']}) | {cost['database_thread_calls']} "
            f"| {cost['p50_ms']} / {cost['p99_ms']} |"
        )
    per_class = section["calls_per_class"]
    lines += [
        "",
        f"One class ({per_class['poses']} poses, {per_class['class_seconds']:.0f} s at "
        f"TIME_SCALE 1; run at {per_class['time_scale']}), Bot API calls at the emulator:",
        "",
        "| where | way in: calls (counted) | the class: calls (counted) | the class, by method |",
        "|---|---:|---:|---|",
    ]
    for where in ("player", "chat"):
        found = per_class[where]
        methods = ", ".join(f"{m} {n}" for m, n in sorted(found["class"]["by_method"].items()))
        lines.append(
            f"| {where} | {found['way_in']['calls']} ({found['way_in']['counted']}) "
            f"| {found['class']['calls']} ({found['class']['counted']}) | {methods} |"
        )
    c = section["ceiling"]
    lines += [
        "",
        f"Live classes per bot at Telegram's {c['telegram_limit_per_second']} counted calls "
        f"a second: chat {c['chat_classes_per_bot_below_limit']} (every cue retiring the "
        f"last one's buttons) to {c['chat_classes_per_bot_at_limit']} (at the limit, "
        f"retirements waiting); player {c['player_classes_per_bot_by_telegram']} by "
        f"Telegram's limit; one worker, measured: {c['player_classes_per_worker_measured']} "
        f"with p99 < {section['target_p99_ms']:.0f} ms (of {c['player_sizes_measured']}).",
    ]
    return "\n".join(lines)


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="500 classes, a shorter window")
    parser.add_argument("classes", nargs="*", type=int, help="these sizes instead")
    parser.add_argument("--results", type=Path, help="a JSON file for the figures")
    arguments = parser.parse_args()
    plan = QUICK if arguments.quick else FULL
    if arguments.classes:
        plan = dataclasses.replace(plan, classes=tuple(arguments.classes))
    result = asyncio.run(measure(plan))
    print()
    print(render(result))
    if arguments.results:
        arguments.results.write_text(json.dumps(result, indent=2) + "\n")
