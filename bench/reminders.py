"""Reminder benchmark: 100,000 users due in the same minute.

    .venv/bin/python bench/reminders.py            (or: make bench, through bench/run.py)
    .venv/bin/python bench/reminders.py --quick    (10,000 due, shorter dispatch samples)

1. Selecting due rows from a temporary SQLite file (100,000 due, plus 20,000 due tomorrow
   and 5,000 switched off), timed side by side with two baselines: the same SQL with the
   `ix_reminders_due` index bypassed (NOT INDEXED), and a naive Python filter over all rows.
2. Claiming (cron math in each user's zone + the conditional updates), in rows per second.
3. Dispatch through the real Application, tick and rate limiter against the Bot API
   emulator, which here enforces Telegram's flood limit strictly: a 31st message within any
   second is answered 429, unless it carries allow_paid_broadcast=True, which Telegram takes
   up to 1,000 a second (paid broadcasts). Twice, each in a child process so its peak RSS is
   the bot's own, not this script's (which loads all rows for the baselines): with the
   bot's ALLOW_PAID_BROADCAST setting off, a bounded sample of 900 sends (about 30 s), and
   with it on, up to 5,000 sends or 20 s, whichever comes first. The setting goes through
   the environment and, where bot.settings declares it, as a Settings field too; what was
   observed (the rate, and how many sends carried the flag) is reported as measured.
4. The time to send 100,000 reminders, both ways: extrapolated from each sample's measured
   rate (100,000 / rate), not measured over 100,000 sends; the JSON keys say so.

Bounded in time (well under 3 minutes); traffic only to 127.0.0.1. `measure()` returns the
figures for bench/results.json (bench/run.py); a full run also writes the reminders
section of bench/REPORT.md.
"""

from __future__ import annotations

import argparse
import asyncio
import collections
import contextlib
import functools
import json
import os
import platform
import resource
import statistics
import sys
import tempfile
import time
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import asdict, dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from sqlalchemy import Row, bindparam, func, insert, select, text
from sqlalchemy.dialects.sqlite import dialect as sqlite_dialect
from sqlalchemy.ext.asyncio import AsyncEngine

from bench.common import PROJECT_DIR, TELEGRAM_LIMIT, TOKEN
from bot.clock import ManualClock
from bot.database import create_engine, migrate
from bot.models import Reminder, User
from bot.reminders import ReminderService, Schedule, next_due
from bot.settings import Settings, load_settings
from bot.store import Store
from bot.store.reminders import due_query
from handlers.app import build_application, running
from playground.emulator import BotApiEmulator
from playground.emulator.errors import too_many_requests

FLOOD_LIMIT = TELEGRAM_LIMIT  # messages in any one second, as Telegram enforces it here
PAID_FLOOD_LIMIT = 1000  # the same for messages with allow_paid_broadcast=True
FANOUT = 100_000  # the fan-out whose duration is extrapolated
DUE_AT = datetime(2026, 1, 5, 7, 30, tzinfo=UTC)  # a Monday, in winter time
REPORT = Path(__file__).resolve().parent / "REPORT.md"
START, END = "<!-- reminders:start -->", "<!-- reminders:end -->"
PAID_SETTING = "allow_paid_broadcast"


@dataclass(frozen=True)
class Sizes:
    due: int = 100_000
    later: int = 20_000  # due the next day
    off: int = 5_000  # switched off
    sample: int = 900  # sends without paid broadcasts (about 30 s at 30 a second)
    sample_timeout_s: float = 90.0
    paid_sample: int = 5_000  # sends with paid broadcasts, at most ...
    paid_seconds: float = 20.0  # ... or this long after start-up, whichever comes first
    select_repeats: int = 200  # timings of the 45-row query, for the median
    claim_batches: int = 40  # of 45 rows each; what they claim is not sent afterwards


FULL = Sizes()
QUICK = Sizes(
    due=10_000,
    later=2_000,
    off=500,
    sample=120,
    sample_timeout_s=30.0,
    paid_sample=1_000,
    paid_seconds=4.0,
    select_repeats=50,
)

# Local times that all fall due at 07:30 UTC on DUE_AT, in zones on both sides of UTC.
ZONES: tuple[tuple[str, Schedule], ...] = (
    ("UTC", Schedule(7, 30)),
    ("Europe/Berlin", Schedule(8, 30)),
    ("America/New_York", Schedule(2, 30, "mon,wed,fri")),
    ("Asia/Kolkata", Schedule(13, 0, "mon,tue,wed,thu,fri")),
    ("Asia/Tokyo", Schedule(16, 30)),
)


def memory_mb(field: str = "VmHWM") -> float:
    """Peak (VmHWM) or current (VmRSS) resident memory of this process.

    /proc is preferred over getrusage: Linux carries ru_maxrss across exec, so a child
    started from this script would report the parent's peak as its own."""
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith(f"{field}:"):
                return int(line.split()[1]) / 1024
    except OSError:
        pass
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # KiB on Linux


# -- seeding -------------------------------------------------------------------------------


async def seed(engine: AsyncEngine, sizes: Sizes) -> None:
    await migrate(engine)
    for zone, schedule in ZONES:
        assert next_due(schedule, zone, DUE_AT - timedelta(hours=1)) == DUE_AT, zone
    users, reminders = [], []
    total = sizes.due + sizes.later + sizes.off
    for n in range(total):
        user_id = 10_000_000 + n
        zone, schedule = ZONES[n % len(ZONES)]
        users.append({"id": user_id, "chat_id": user_id, "first_name": "", "created_at": DUE_AT})
        due: datetime | None = DUE_AT
        if n >= sizes.due:
            due = DUE_AT + timedelta(days=1) if n < sizes.due + sizes.later else None
        reminders.append(
            {
                "user_id": user_id,
                "chat_id": user_id,
                "hour": schedule.hour,
                "minute": schedule.minute,
                "days": schedule.days,
                "enabled": due is not None,
                "next_due_at": due,
                "claimed_for": None,
                "repeat_of": None,
                "failures": 0,
            }
        )
        users[-1]["timezone"] = zone
    async with engine.begin() as conn:
        for start in range(0, total, 20_000):
            await conn.execute(insert(User), users[start : start + 20_000])
            await conn.execute(insert(Reminder), reminders[start : start + 20_000])
        await conn.exec_driver_sql("ANALYZE")


# -- selecting -----------------------------------------------------------------------------


async def timed(run: Callable[[], Awaitable[Any]], repeats: int) -> tuple[float, Any]:
    """Median wall time of `repeats` runs (after one warm-up), and the last result."""
    result = await run()
    times = []
    for _ in range(repeats):
        started = time.perf_counter()
        result = await run()
        times.append(time.perf_counter() - started)
    return statistics.median(times), result


def sql_of(limit: int) -> tuple[str, dict[str, Any], list[Any]]:
    compiled = due_query(DUE_AT, limit).compile(dialect=sqlite_dialect(paramstyle="named"))
    binds = [bindparam(name, type_=compiled.binds[name].type) for name in compiled.params]
    return str(compiled), dict(compiled.params), binds


async def measure_select(engine: AsyncEngine, sizes: Sizes) -> dict[str, Any]:
    store = Store(engine)

    async def due(limit: int) -> list[Any]:
        async with store.read() as uow:
            return await uow.reminders.due(DUE_AT, limit)

    results: dict[str, Any] = {}
    for label, limit, repeats in (("batch", 45, sizes.select_repeats), ("all", sizes.due, 3)):
        sql, params, binds = sql_of(limit)
        bypassed = sql.replace("FROM reminders JOIN", "FROM reminders NOT INDEXED JOIN")
        assert bypassed != sql

        async def raw(
            statement: str, params: dict[str, Any] = params, binds: list[Any] = binds
        ) -> Sequence[Row[Any]]:
            async with engine.connect() as conn:
                return (await conn.execute(text(statement).bindparams(*binds), params)).all()

        indexed, rows = await timed(functools.partial(raw, sql), repeats)
        unindexed, slow_rows = await timed(functools.partial(raw, bypassed), repeats)
        assert len(rows) == len(slow_rows) == limit
        store_time, _ = await timed(functools.partial(due, limit), repeats)
        python_time, naive = await timed(functools.partial(naive_due, engine, limit), 3)
        assert len(naive) == limit
        results[label] = {
            "limit": limit,
            "indexed_s": indexed,
            "not_indexed_s": unindexed,
            "store_due_s": store_time,
            "python_filter_s": python_time,
        }
    async with engine.connect() as conn:
        sql, params, binds = sql_of(45)
        plans = {}
        for name, statement in (
            ("indexed", sql),
            ("not_indexed", sql.replace("FROM reminders JOIN", "FROM reminders NOT INDEXED JOIN")),
        ):
            explain = text("EXPLAIN QUERY PLAN " + statement).bindparams(*binds)
            plan = await conn.execute(explain, params)
            plans[name] = "; ".join(row[-1] for row in plan.all())
    results["plans"] = plans
    return results


async def naive_due(engine: AsyncEngine, limit: int) -> list[Any]:
    """The baseline without the database's help: every reminder into Python, then filter."""
    async with engine.connect() as conn:
        rows = (
            await conn.execute(
                select(
                    Reminder.user_id, Reminder.enabled, Reminder.next_due_at, User.timezone
                ).join(User, User.id == Reminder.user_id)
            )
        ).all()
    due = [r for r in rows if r.enabled and r.next_due_at is not None and r.next_due_at <= DUE_AT]
    due.sort(key=lambda r: r.next_due_at)
    return due[:limit]


async def measure_claims(engine: AsyncEngine, batches: int = 40) -> dict[str, Any]:
    clock = ManualClock(DUE_AT + timedelta(seconds=30))
    service = ReminderService(Store(engine), clock)
    claimed = 0
    started = time.perf_counter()
    for _ in range(batches):
        claimed += len((await service.claim_due(45)).reminders)
    elapsed = time.perf_counter() - started
    return {"batches": batches, "claimed": claimed, "seconds": elapsed}


# -- dispatching (child process) -------------------------------------------------------------


class FloodLimitedEmulator(BotApiEmulator):
    """The emulator with Telegram's flood control, strictly: a sendMessage arriving when 30
    have been accepted within the last second is answered 429; one that carries
    allow_paid_broadcast=True only when 1,000 have. Chats are opened on first use, as if
    each user had started the bot long ago, so 100,000 chats are not built up front."""

    def __init__(self, sample: int) -> None:
        super().__init__(token=TOKEN, max_recorded_calls=2_000)
        self.sample = sample
        self.recent: collections.deque[float] = collections.deque()
        self.accepted: list[float] = []
        self.paid = 0  # accepted sends that carried allow_paid_broadcast=True
        self.floods = 0
        self.sample_done = asyncio.Event()

    async def call(
        self, method: str, params: dict[str, Any] | None = None, *, token: str | None = None
    ) -> tuple[int, dict[str, Any]]:
        paid = False
        if method.lower() == "sendmessage":
            now = time.monotonic()
            paid = _flag((params or {}).get("allow_paid_broadcast"))
            while self.recent and now - self.recent[0] >= 1.0:
                self.recent.popleft()
            if len(self.recent) >= (PAID_FLOOD_LIMIT if paid else FLOOD_LIMIT):
                self.floods += 1
                error = too_many_requests(1)
                return error.http_status, error.payload()
            self.recent.append(now)
            chat_id = int(str((params or {}).get("chat_id")))
            if chat_id not in self.state.chats:
                self.user(chat_id).open_chat()
        status, body = await super().call(method, params, token=token)
        if method.lower() == "sendmessage" and body.get("ok"):
            self.accepted.append(time.monotonic())
            self.paid += paid
            if len(self.accepted) >= self.sample:
                self.sample_done.set()
        return status, body


def _flag(value: object) -> bool:
    """A boolean parameter as it comes in a JSON body or a form."""
    return value is True or str(value).lower() in ("true", "1")


async def claimed_count(database_url: str) -> int:
    engine = create_engine(database_url)
    try:
        async with engine.connect() as conn:
            count = await conn.scalar(
                select(func.count()).where(Reminder.claimed_for == DUE_AT.date().isoformat())
            )
            return int(count or 0)
    finally:
        await engine.dispose()


async def dispatch(database_url: str, sample: int, timeout_s: float, paid: bool) -> dict[str, Any]:
    """The bot's tick sending due reminders until `sample` sends or `timeout_s` seconds."""
    clock = ManualClock(DUE_AT + timedelta(seconds=30))
    claimed_before = await claimed_count(database_url)
    # Passed as a Settings field where bot.settings has one; the environment carries it too
    # (ALLOW_PAID_BROADCAST, set by the parent), which a bot without the field ignores.
    known = PAID_SETTING in Settings.model_fields
    overrides: dict[str, object] = {PAID_SETTING: paid} if known else {}
    if "voice_engine" in Settings.model_fields:
        # The bot alone: no render process speaking the class beside it (bench/voice.py).
        overrides["voice_engine"] = "off"
    async with FloodLimitedEmulator(sample) as emulator:
        settings = load_settings(
            bot_token=TOKEN,
            database_url=database_url,
            telegram_api_url=emulator.api_url,
            **overrides,
        )
        application = build_application(settings, clock=clock)
        rss_before = memory_mb("VmRSS")
        started = time.monotonic()
        async with running(application, poll_timeout=1):
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(emulator.sample_done.wait(), timeout=timeout_s)
        # Stopping lets the sends in flight finish; everything claimed is sent.
        sends = emulator.accepted
    windows = [sum(1 for t in sends if s <= t < s + 1.0) for s in sends]
    span = sends[-1] - sends[0] if len(sends) > 1 else 0.0
    claimed = await claimed_count(database_url) - claimed_before
    return {
        "allow_paid_broadcast": paid,
        "setting_known_to_bot": known,
        "sends": len(sends),
        "sends_carrying_allow_paid_broadcast": emulator.paid,
        "first_send_after_start_s": sends[0] - started if sends else None,
        "span_s": span,
        "rate": (len(sends) - 1) / span if span else 0.0,
        "busiest_second": max(windows, default=0),
        "floods": emulator.floods,
        "claimed": claimed,
        "rss_before_mb": rss_before,
        "peak_rss_mb": memory_mb(),
    }


async def dispatch_in_child(
    database_url: str, sample: int, timeout_s: float, paid: bool
) -> dict[str, Any]:
    """`dispatch` in a process of its own, so that its peak memory is the bot's."""
    child = await asyncio.create_subprocess_exec(
        sys.executable, __file__, "dispatch", database_url, str(sample), str(timeout_s),
        "1" if paid else "0",
        stdout=asyncio.subprocess.PIPE,
        env={**os.environ, "ALLOW_PAID_BROADCAST": "true" if paid else "false"},
        cwd=PROJECT_DIR,
    )  # fmt: skip
    out, _ = await asyncio.wait_for(child.communicate(), timeout=timeout_s + 60)
    if child.returncode != 0:
        raise RuntimeError(f"the dispatch child failed (exit {child.returncode})")
    figures: dict[str, Any] = json.loads(out.decode().strip().splitlines()[-1])
    return figures


def observed(without: dict[str, Any], paid: dict[str, Any]) -> str:
    """What the run with the setting on showed, in words, from its own figures."""
    if not paid["setting_known_to_bot"]:
        how = "bot.settings has no allow_paid_broadcast field: the setting went by the "
        how += "environment only"
    else:
        how = "the setting was on"
    return (
        f"{how}; {paid['sends_carrying_allow_paid_broadcast']} of {paid['sends']} sends "
        f"carried allow_paid_broadcast; {paid['rate']:.1f} a second, against "
        f"{without['rate']:.1f} with it off"
    )


# -- report --------------------------------------------------------------------------------


def render(figures: dict[str, Any]) -> str:
    """The reminders section of bench/REPORT.md."""
    select_, claims, meta = figures["select"], figures["claims"], figures["run"]
    sent = figures["dispatch"]["without_paid_broadcast"]
    paid = figures["dispatch"]["with_paid_broadcast"]
    fanout = figures["fanout_100k_s_extrapolated"]
    batch, everything = select_["batch"], select_["all"]

    def ms(seconds: float) -> str:
        return f"{seconds * 1000:.2f} ms"

    def ratio(slow: float, fast: float) -> str:
        return f"{slow / fast:,.0f}×"

    def row(label: str, run: dict[str, Any]) -> str:
        return (
            f"| {label} | {run['sends']} | {run['sends_carrying_allow_paid_broadcast']} | "
            f"{run['first_send_after_start_s']:.1f} s | "
            f"{run['rate']:.2f}/s | {run['rate'] / TELEGRAM_LIMIT:.3f} | "
            f"{run['busiest_second']} | {run['floods']} | "
            f"{'yes' if run['claimed'] == run['sends'] else 'no'} "
            f"({run['claimed']} / {run['sends']}) | {run['peak_rss_mb']:.0f} MB |"
        )

    claim_rate = claims["claimed"] / claims["seconds"]
    lines = [
        START,
        f"## Reminders: {figures['due']:,} users due in the same minute",
        "",
        f"Run {meta['when']} on {meta['machine']} (Python {meta['python']}), "
        f"{meta['total_s']:.0f} s in all. SQLite file with {figures['due']:,} reminders due at "
        f"07:30 UTC in five zones, {figures['later']:,} due the next day and "
        f"{figures['off']:,} off.",
        "",
        "**Selecting due rows** (median; a batch of 45 rows, and every due row):",
        "",
        "| query | rows | `ix_reminders_due` | same SQL, NOT INDEXED | "
        "Python filter over all rows | store `due()` |",
        "|---|---:|---:|---:|---:|---:|",
        f"| one tick batch | {batch['limit']} | {ms(batch['indexed_s'])} | "
        f"{ms(batch['not_indexed_s'])} ({ratio(batch['not_indexed_s'], batch['indexed_s'])}) | "
        f"{ms(batch['python_filter_s'])} ({ratio(batch['python_filter_s'], batch['indexed_s'])}) | "
        f"{ms(batch['store_due_s'])} |",
        f"| every due row | {everything['limit']:,} | {ms(everything['indexed_s'])} | "
        f"{ms(everything['not_indexed_s'])} "
        f"({everything['not_indexed_s'] / everything['indexed_s']:.1f}×) | "
        f"{ms(everything['python_filter_s'])} "
        f"({everything['python_filter_s'] / everything['indexed_s']:.1f}×) | "
        f"{ms(everything['store_due_s'])} |",
        "",
        f"Plans: indexed `{select_['plans']['indexed']}`; "
        f"bypassed `{select_['plans']['not_indexed']}`.",
        "",
        f"**Claiming** (cron math in each zone, conditional updates, one transaction per batch): "
        f"{claims['claimed']:,} rows in {claims['batches']} batches, "
        f"{claims['seconds'] * 1000 / claims['batches']:.1f} ms a batch, "
        f"{claim_rate:,.0f} rows/s, {claim_rate / TELEGRAM_LIMIT:.0f}× the send limit.",
        "",
        "**Dispatch** through the real Application (tick, send window, rate limiter) to the "
        "emulator, which answers 429 to a 31st message within any second (a 1,001st when "
        "it carries allow_paid_broadcast), with the ALLOW_PAID_BROADCAST setting off and on:",
        "",
        "| ALLOW_PAID_BROADCAST | sends | carrying allow_paid_broadcast | first send after "
        "start | rate | ratio to 30/s | busiest second | 429s | claimed = sent | peak RSS |",
        "|---|---:|---:|---:|---:|---:|---:|---:|---|---:|",
        row("off", sent),
        row("on", paid),
        "",
        f"With the setting on: {figures['paid_broadcast_observed']}.",
        "",
        f"The rate spans first to last send and includes the boundary between two ticks. "
        f"Peak RSS is the bot process alone ({sent['rss_before_mb']:.0f} MB after imports, "
        f"before start-up); it does not grow with the backlog, which is claimed a few rows "
        f"at a time, just ahead of the sends. This script's own peak, with every row "
        f"loaded for the baselines: "
        f"{meta['parent_rss_mb']:.0f} MB. Extrapolated from these measured rates (not a "
        f"{FANOUT:,}-send run), {FANOUT:,} reminders take "
        f"{fanout['without_paid_broadcast'] / 60:.0f} minutes with the setting off and "
        f"{fanout['with_paid_broadcast'] / 60:.1f} minutes with it on.",
        END,
    ]
    return "\n".join(lines)


def summary(figures: dict[str, Any]) -> str:
    """The figures of bench/results.json as a table, for the suite's output."""
    lines = [
        "| ALLOW_PAID_BROADCAST | sends | carrying the flag | rate /s | busiest second | 429s "
        f"| {FANOUT:,} fan-out, extrapolated |",
        "|---|---:|---:|---:|---:|---:|---:|",
    ]
    for label, key in (("off", "without_paid_broadcast"), ("on", "with_paid_broadcast")):
        run = figures["dispatch"][key]
        fanout = figures["fanout_100k_s_extrapolated"][key]
        lines.append(
            f"| {label} | {run['sends']} | {run['sends_carrying_allow_paid_broadcast']} "
            f"| {run['rate']:.1f} | {run['busiest_second']} | {run['floods']} "
            f"| {fanout / 60:.1f} min |"
        )
    claims = figures["claims"]
    lines += [
        "",
        f"Selecting 45 due rows: {figures['select']['batch']['indexed_s'] * 1000:.2f} ms; "
        f"claiming: {claims['claimed'] / claims['seconds']:,.0f} rows/s. "
        f"With the setting on: {figures['paid_broadcast_observed']}.",
    ]
    return "\n".join(lines)


def write_report(section: str) -> None:
    current = REPORT.read_text() if REPORT.exists() else "# Benchmark report\n"
    if START in current and END in current:
        before, rest = current.split(START, 1)
        after = rest.split(END, 1)[1]
        current = before + section + after
    else:
        current = current.rstrip("\n") + "\n\n" + section + "\n"
    REPORT.write_text(current)


async def measure(sizes: Sizes = FULL, *, report: bool = False) -> dict[str, Any]:
    """Every figure of the benchmark, for bench/results.json; with `report`, the section
    of bench/REPORT.md is written too."""
    began = time.perf_counter()
    with tempfile.TemporaryDirectory(prefix="yogabot-bench-") as folder:
        database_url = f"sqlite+aiosqlite:///{Path(folder) / 'bench.db'}"
        engine = create_engine(database_url)
        try:
            started = time.perf_counter()
            await seed(engine, sizes)
            print(f"seeded in {time.perf_counter() - started:.1f} s", flush=True)
            selected = await measure_select(engine, sizes)
            claims = await measure_claims(engine, sizes.claim_batches)
        finally:
            await engine.dispose()
        without = await dispatch_in_child(
            database_url, sizes.sample, sizes.sample_timeout_s, paid=False
        )
        print(f"dispatch, paid broadcasts off: {without['rate']:.1f}/s", flush=True)
        paid = await dispatch_in_child(
            database_url, sizes.paid_sample, sizes.paid_seconds, paid=True
        )
        print(f"dispatch, paid broadcasts on: {paid['rate']:.1f}/s", flush=True)
    figures: dict[str, Any] = {
        **{key: value for key, value in asdict(sizes).items() if key in ("due", "later", "off")},
        "select": selected,
        "claims": claims,
        "dispatch": {"without_paid_broadcast": without, "with_paid_broadcast": paid},
        "fanout_100k_s_extrapolated": {
            "without_paid_broadcast": FANOUT / max(without["rate"], 1.0),
            "with_paid_broadcast": FANOUT / max(paid["rate"], 1.0),
        },
        "fanout_extrapolated_from": "each run's measured rate (100,000 / rate), "
        "not a 100,000-send run",
        "paid_broadcast_observed": observed(without, paid),
        "run": {
            "when": datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC"),
            "machine": f"{platform.machine()}, {len(os.sched_getaffinity(0))} cores",
            "python": platform.python_version(),
            "total_s": time.perf_counter() - began,
            "parent_rss_mb": memory_mb(),
        },
    }
    if report:
        write_report(render(figures))
        print(f"written to {REPORT}")
    return figures


def main() -> None:
    if len(sys.argv) == 6 and sys.argv[1] == "dispatch":
        _, _, url, sample, timeout_s, paid = sys.argv
        print(json.dumps(asyncio.run(dispatch(url, int(sample), float(timeout_s), paid == "1"))))
        return
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--quick", action="store_true", help="10,000 due, shorter samples; REPORT.md untouched"
    )
    arguments = parser.parse_args()
    figures = asyncio.run(measure(QUICK if arguments.quick else FULL, report=not arguments.quick))
    print(summary(figures))


if __name__ == "__main__":
    main()
