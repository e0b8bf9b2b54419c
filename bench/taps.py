"""Taps handled per second, their latency, CPU and calls: yogabot against the bare framework.

The Bot API emulator and the simulated users run here; the bot under test is a separate
process on loopback, started afresh for each run: yogabot (`python -m cli run`, its own
SQLite file), or the bare python-telegram-bot bot (bench/bare_bot.py) without and with
AIORateLimiter. Each simulated user taps and waits for the bot's answer, then taps again:

* yogabot: the user is in a class and taps Next on the current cue; the answer is the
  next cue (sendMessage or sendPhoto), after the previous cue's buttons are retired.
* bare: the user sends a message; the answer is the bot's one sendMessage.

Reported per bot and number of users: taps handled per second (first tap to last answer),
p50/p95/p99 latency of a tap, the bot's CPU per tap (its process CPU clock, to the
nanosecond; "not measured" where a run spent too little to read), Bot API calls per tap
and those of them that count towards Telegram's 30 a second (calls with a chat_id),
the busiest second of those counted calls as the emulator saw them arrive (the most in any
sliding one-second window, from start-up to the last answer; Telegram's limit is 30), and
the bot's resident memory when idle after start-up, and yogabot's right after that, once it
has drawn a /progress chart and once it has drawn CHARTS of them (for a user with eight
weeks of practice, written into its database). yogabot's figures are also given as ratios
of the bare bot's in the same run. Back to back, one user alone fills Telegram's
30 a second: these runs measure capacity, and their latencies include yogabot's limiter.

One person (`one_person`): in the first run's bot process, once it is over, people one
after another tap with a pause of 1-2 s after each answer, as someone on a mat taps Next,
each starting once no counted call reached the emulator for QUIET_S (the limiter's
one-second window empty). A tap's latency runs from the update being queued at the
emulator to the answer's send arriving there; the spans to the long poll returning, to
answerCallbackQuery and to the tap's last call are read from the emulator's log too.

    .venv/bin/python bench/taps.py                  # 1, 50 and 200 users; 3 people
    .venv/bin/python bench/taps.py --quick          # 1 and 20 users, fewer taps; 1 person
    .venv/bin/python bench/taps.py --timed-person   # yogabot's steps timed in its process
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import functools
import json
import os
import random
import statistics
import sys
import tempfile
import time
from collections.abc import AsyncIterator, Mapping
from dataclasses import asdict, dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.common import PROJECT_DIR, TOKEN, busiest_second, commit, percentile
from bot.database import create_engine
from playground.emulator import BotApiEmulator, SimulatedUser
from playground.emulator.state import EmuMessage
from tests.harness.bot import SCREEN_CLEAR, button_texts
from tests.harness.records import add_session

ANSWER_TIMEOUT = 60.0
WARM_UP_USER = 499_999
SENDS = ("sendmessage", "sendphoto")
CHECKIN_QUESTION = "How does your back feel right now?"


class Recorder(BotApiEmulator):
    """The emulator, noting every call as it arrives and each chat's sends as they are done.

    `timeline` holds (arrival, method, carries a chat_id, that chat_id or None) in
    perf_counter seconds; a long poll is noted when it arrives, not when it returns, and so
    is `polling` set; `deliveries` notes when a long poll that carries updates returns."""

    def __init__(self, **options: Any) -> None:
        super().__init__(token=TOKEN, **options)
        self.timeline: list[tuple[float, str, bool, int | None]] = []
        # (when a long poll's answer left, how many updates it carried), for polls with any.
        self.deliveries: list[tuple[float, int]] = []
        self.sends: dict[int, asyncio.Queue[float]] = {}
        self.polling = asyncio.Event()

    def sends_to(self, chat_id: int) -> asyncio.Queue[float]:
        return self.sends.setdefault(chat_id, asyncio.Queue())

    async def call(
        self, method: str, params: dict[str, Any] | None = None, *, token: str | None = None
    ) -> tuple[int, dict[str, Any]]:
        chat = (params or {}).get("chat_id")
        at = time.perf_counter()
        self.timeline.append((at, method, chat is not None, None if chat is None else int(chat)))
        if method.lower() == "getupdates":
            self.polling.set()
        status, body = await super().call(method, params, token=token)
        if status == 200 and method.lower() == "getupdates" and body.get("result"):
            self.deliveries.append((time.perf_counter(), len(body["result"])))
        if status == 200 and method.lower() in SENDS and chat is not None:
            self.sends_to(int(chat)).put_nowait(time.perf_counter())
        return status, body

    def counted_calls(self, since: float = 0.0) -> list[float]:
        """Arrival times of the calls that count towards Telegram's 30 a second."""
        return [at for at, _, counted, _ in self.timeline if counted and at >= since]


@dataclass
class TapRun:
    bot: str
    users: int
    taps: int
    seconds: float
    taps_per_second: float
    p50_ms: float
    p95_ms: float
    p99_ms: float
    cpu_ms_per_tap: float | None  # None: too little CPU to measure
    calls_per_tap: float
    counted_calls_per_tap: float
    rss_idle_mb: float
    busiest_second_counted: int
    # yogabot only: RSS after its first /progress chart, and after CHARTS of them.
    rss_after_chart_mb: float | None = None
    rss_after_charts_mb: float | None = None


def cpu_clock(pid: int) -> int:
    """The clock id of `pid`'s CPU time, as clock_getcpuclockid(3) makes it: every thread's,
    the ended ones too, to the nanosecond. /proc/<pid>/stat counts 10 ms ticks, so a few
    fast taps read as no CPU at all."""
    cpuclock_sched = 2
    return (~pid << 3) | cpuclock_sched


def cpu_seconds(pid: int) -> float:
    return time.clock_gettime(cpu_clock(pid))


def rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return 0.0


def database_url(workdir: Path) -> str:
    """The SQLite file yogabot runs on in `workdir` (bench/timers.py seeds it first)."""
    return f"sqlite+aiosqlite:///{workdir / 'bench.db'}"


@contextlib.asynccontextmanager
async def bot_process(
    emulator: Recorder, bot: str, workdir: Path, extra_env: Mapping[str, str] | None = None
) -> AsyncIterator[int]:
    command, env = bot_command(emulator, bot, workdir, extra_env)
    log = (workdir / f"{bot.split()[0]}.log").open("ab")
    process = await asyncio.create_subprocess_exec(
        *command, env=env, cwd=workdir, stdout=log, stderr=log
    )
    try:
        # Serving once it polls (its first long poll has arrived); then a quiet moment, for
        # the idle memory.
        await asyncio.wait_for(emulator.polling.wait(), timeout=120)
        await asyncio.sleep(1.0)
        yield process.pid
    finally:
        process.terminate()
        try:
            await asyncio.wait_for(process.wait(), timeout=20)
        except TimeoutError:
            process.kill()
            await process.wait()
        log.close()


# A user with eight weeks of practice asks for /progress CHARTS times in a row: the first
# chart loads what drawing needs; a later one must leave the bot no larger (the second
# once left it 30 MB larger, bot/malloc.py).
CHART_USER = 400_000
CHARTS = 3


async def chart_rss(
    emulator: Recorder, pid: int, workdir: Path, charts: int = CHARTS
) -> list[float]:
    """The bot's RSS in MB after each of `charts` /progress charts in a row, asked by a
    user whose eight weeks of practice (a class every third day, both check-ins) are
    written into the bot's database in `workdir` first."""
    engine = create_engine(database_url(workdir))
    now = datetime.now(UTC)
    try:
        for day in range(0, 56, 3):
            started = now - timedelta(days=day, hours=1)
            await add_session(
                engine, CHART_USER, started, minutes=20 + day % 7, back_before=5, back_after=3
            )
    finally:
        await engine.dispose()
    user = emulator.user(CHART_USER)
    found: list[float] = []
    for _ in range(charts):
        photos = sum(1 for m in user.bot_messages if m.photo)
        await user.send("/progress")
        await emulator.wait_for(
            functools.partial(_photo_after, user, photos), timeout=ANSWER_TIMEOUT
        )
        found.append(round(rss_mb(pid), 1))
    return found


def _photo_after(user: SimulatedUser, photos: int) -> EmuMessage | None:
    """The user's first photo after the first `photos`, once it has arrived."""
    return next(iter([m for m in user.bot_messages if m.photo][photos:]), None)


def bot_command(
    emulator: Recorder, bot: str, workdir: Path, extra_env: Mapping[str, str] | None = None
) -> tuple[list[str], dict[str, str]]:
    """The command line and environment that run `bot` against `emulator` in `workdir`."""
    env = {
        **os.environ,
        "BOT_TOKEN": TOKEN,
        "TELEGRAM_API_URL": emulator.api_url,
        "DATABASE_URL": database_url(workdir),
        "PICTURE_CACHE_DIR": str(PROJECT_DIR / ".cache" / "pictures"),
        # The bot alone: no render process speaking the class beside it (bench/voice.py).
        "VOICE_ENGINE": "off",
        "LOG_LEVEL": "WARNING",
        "PYTHONPATH": str(PROJECT_DIR),
        **(extra_env or {}),
    }
    # BENCH_PROFILE=<folder>: yogabot runs under cProfile, its stats written there at exit.
    # BENCH_TIMED=<file>: yogabot runs with the steps of TIMED timed (see --timed-person).
    profile = os.environ.get("BENCH_PROFILE")
    if bot == "yogabot" and env.get("BENCH_TIMED"):
        script = str(PROJECT_DIR / "bench" / "taps.py")
        command = [sys.executable, script, "--serve-timed", env["BENCH_TIMED"]]
    elif bot == "yogabot" and profile:
        out = Path(profile) / f"yogabot-{os.getpid()}-{time.time_ns()}.prof"
        command = [sys.executable, "-m", "cProfile", "-o", str(out), "-m", "cli", "run"]
    elif bot == "yogabot":
        command = [sys.executable, "-m", "cli", "run"]
    else:
        command = [sys.executable, str(PROJECT_DIR / "bench" / "bare_bot.py")]
        env["BARE_RATE_LIMITER"] = "1" if bot == "bare PTB + AIORateLimiter" else "0"
    return command, env


async def _into_a_class(emulator: Recorder, user_id: int) -> int:
    """A yogabot user at the first cue; the message id of that cue."""
    user = emulator.user(user_id)
    await user.send("/start_practice")
    screen = await emulator.wait_for(
        lambda: next((m for m in user.bot_messages if SCREEN_CLEAR in button_texts(m)), None),
        timeout=ANSWER_TIMEOUT,
    )
    await user.tap(screen.message_id, text=SCREEN_CLEAR)
    question = await emulator.wait_for(
        lambda: next(
            (m for m in user.bot_messages if (m.plain or "").startswith(CHECKIN_QUESTION)), None
        ),
        timeout=ANSWER_TIMEOUT,
    )
    await user.tap(question.message_id, text="Skip")
    cue = await emulator.wait_for(
        lambda: next((m for m in user.bot_messages if "Next" in button_texts(m)), None),
        timeout=ANSWER_TIMEOUT,
    )
    return cue.message_id


async def _tapping(emulator: Recorder, bot: str, user_id: int, taps: int) -> list[float]:
    user = emulator.user(user_id)
    answers = emulator.sends_to(user_id)
    latencies: list[float] = []
    for _ in range(taps):
        while not answers.empty():
            answers.get_nowait()
        started = time.perf_counter()
        if bot == "yogabot":
            cue = next(m for m in reversed(user.bot_messages) if "Next" in button_texts(m))
            await user.tap(cue.message_id, text="Next")
        else:
            await user.send("next")
        arrived = await asyncio.wait_for(answers.get(), timeout=ANSWER_TIMEOUT)
        latencies.append(arrived - started)
    return latencies


async def tap_run(
    bot: str, users: int, taps: int, person: tuple[int, int] | None = None
) -> tuple[TapRun, PersonRun | None]:
    """`users` tapping `taps` times each, back to back; then, if `person` is given, that
    many people (one after another) tapping that many times each with a pause, in the same
    bot process, once its send window is empty."""
    alone = None
    with tempfile.TemporaryDirectory(prefix="yogabot-bench-") as folder:
        async with Recorder() as emulator, bot_process(emulator, bot, Path(folder)) as pid:
            rss = rss_mb(pid)
            ids = [500_000 + n for n in range(users)]
            charted: list[float] = []
            if bot == "yogabot":
                charted = await chart_rss(emulator, pid, Path(folder))
                # One user first goes through the poses the others will see: each picture
                # is uploaded once per bot, so the figures are those of a bot in service,
                # not of its very first class.
                await _into_a_class(emulator, WARM_UP_USER)
                await _tapping(emulator, bot, WARM_UP_USER, taps)
                await asyncio.gather(*(_into_a_class(emulator, n) for n in ids))
                await asyncio.sleep(0.5)  # the first cues' sends and confirmations settle
            calls_before, cpu_before = len(emulator.timeline), cpu_seconds(pid)
            started = time.perf_counter()
            per_user = await asyncio.gather(*(_tapping(emulator, bot, n, taps) for n in ids))
            seconds = time.perf_counter() - started
            cpu = cpu_seconds(pid) - cpu_before
            window = [c for c in emulator.timeline[calls_before:] if c[1] != "getUpdates"]
            busiest = busiest_second(emulator.counted_calls())
            if person is not None:
                alone = await _people(emulator, bot, pid, *person, first_id=500_000 + users)
    latencies = sorted(lat for user in per_user for lat in user)
    total = len(latencies)

    def pct(q: float) -> float:
        return percentile(latencies, q) * 1000

    run = TapRun(
        bot=bot,
        users=users,
        taps=total,
        seconds=round(seconds, 3),
        taps_per_second=round(total / seconds, 1),
        p50_ms=round(statistics.median(latencies) * 1000, 1),
        p95_ms=round(pct(0.95), 1),
        p99_ms=round(pct(0.99), 1),
        cpu_ms_per_tap=round(cpu / total * 1000, 3) if cpu > 0 else None,
        calls_per_tap=round(len(window) / total, 2),
        counted_calls_per_tap=round(sum(1 for c in window if c[2]) / total, 2),
        rss_idle_mb=round(rss, 1),
        busiest_second_counted=busiest,
        rss_after_chart_mb=charted[0] if charted else None,
        rss_after_charts_mb=charted[-1] if charted else None,
    )
    return run, alone


# One person on a mat: a tap, the next cue, a pause to hold the pose or read the cue, the
# next tap. The pause is drawn from this range (seeded, so every bot gets the same pauses).
PERSON_PAUSE_S = (1.0, 2.0)
PERSON_SEED = 20261206
# yogabot's limiter (handlers/rate_limit.py) holds a send's slot until one second after it
# finished: this long without a counted call at the emulator, and its window is empty.
QUIET_S = 1.5
# The spans of a person's tap, read from the emulator's log: from the update being queued
# to the long poll carrying it returning, to answerCallbackQuery arriving (yogabot only),
# to the answer's send arriving (the tap's latency), and to the tap's last call arriving.
SPANS = ("delivered", "answered", "sent", "last_call")


@dataclass
class PersonRun:
    bot: str
    people: int  # one after another, never two at once
    taps: int  # in all
    pause_s: list[float]  # [shortest, longest] drawn
    quiet_before_s: float  # the shortest quiet at the emulator before a person's first tap
    p50_ms: float
    p95_ms: float
    p99_ms: float
    max_ms: float
    # span -> {"p50": ms, "p99": ms}; a span the bot never makes (the bare bot answers no
    # button) is absent.
    spans: dict[str, dict[str, float]]
    calls_per_tap: float
    counted_calls_per_tap: float
    # The bot's CPU over the people's taps and pauses (a class's timers included), per tap.
    cpu_ms_per_tap: float | None


async def _quiet(emulator: Recorder, seconds: float) -> float:
    """Until no counted call has arrived at the emulator for `seconds`; the quiet then."""
    while True:
        counted = emulator.counted_calls()
        quiet = time.perf_counter() - (counted[-1] if counted else 0.0)
        if quiet >= seconds:
            return quiet
        await asyncio.sleep(seconds - quiet + 0.01)


async def _person(
    emulator: Recorder, bot: str, user_id: int, pauses: list[float]
) -> tuple[list[dict[str, float]], int, int]:
    """One person's taps, each followed by its pause: per tap, its spans in seconds (and
    `queued_at`, perf_counter); and the calls and counted calls the taps cost (getUpdates
    aside)."""
    user = emulator.user(user_id)
    answers = emulator.sends_to(user_id)
    taps: list[tuple[float, int, int]] = []  # (queued, first call, first delivery) indexes
    for pause in pauses:
        while not answers.empty():
            answers.get_nowait()
        marks = (len(emulator.timeline), len(emulator.deliveries))
        if bot == "yogabot":
            cue = next(m for m in reversed(user.bot_messages) if "Next" in button_texts(m))
            queued = time.perf_counter()
            await user.tap(cue.message_id, text="Next")  # queues the update at once
        else:
            queued = time.perf_counter()
            await user.send("next")
        taps.append((queued, *marks))
        await asyncio.wait_for(answers.get(), timeout=ANSWER_TIMEOUT)
        await asyncio.sleep(pause)
    spans: list[dict[str, float]] = []
    calls = counted = 0
    ends = [(len(emulator.timeline), len(emulator.deliveries))]
    for (queued, first_call, first_delivery), (end_call, end_delivery) in zip(
        taps, [(t[1], t[2]) for t in taps[1:]] + ends, strict=True
    ):
        # The person's calls: to their chat, or with none (answerCallbackQuery; only the
        # person taps meanwhile). Other classes' timed cues are not the tap's.
        made = [
            c
            for c in emulator.timeline[first_call:end_call]
            if c[1] != "getUpdates" and c[3] in (None, user_id)
        ]
        calls += len(made)
        counted += sum(1 for c in made if c[2])
        found = {
            "delivered": emulator.deliveries[first_delivery:end_delivery][0][0],
            "sent": next(at for at, method, _, chat in made if chat and method.lower() in SENDS),
            "last_call": made[-1][0],
        }
        answered = [at for at, method, *_ in made if method == "answerCallbackQuery"]
        if answered:
            found["answered"] = answered[0]
        spans.append({span: at - queued for span, at in found.items()} | {"queued_at": queued})
    return spans, calls, counted


async def _people(
    emulator: Recorder, bot: str, pid: int, people: int, taps: int, *, first_id: int
) -> PersonRun:
    """`people` persons one after another, `taps` each with a pause after every tap, in
    the bot serving `emulator` (warmed up: each picture already uploaded); each person
    begins once the bot's send window is empty."""
    draw = random.Random(PERSON_SEED)
    pauses = [[round(draw.uniform(*PERSON_PAUSE_S), 3) for _ in range(taps)] for _ in range(people)]
    spans: list[dict[str, float]] = []
    calls = counted = 0
    cpu = 0.0
    quiets: list[float] = []
    for n, person in enumerate(pauses):
        user_id = first_id + n
        if bot == "yogabot":
            await _into_a_class(emulator, user_id)
        quiets.append(await _quiet(emulator, QUIET_S))
        cpu_before = cpu_seconds(pid)
        found, made, made_counted = await _person(emulator, bot, user_id, person)
        cpu += cpu_seconds(pid) - cpu_before
        spans += found
        calls += made
        counted += made_counted
    latencies = sorted(s["sent"] for s in spans)
    drawn = [pause for person in pauses for pause in person]

    def ms(ordered: list[float], q: float) -> float:
        return round(percentile(ordered, q) * 1000, 1)

    summary = {}
    for span in SPANS:
        ordered = sorted(s[span] for s in spans if span in s)
        if ordered:
            summary[span] = {"p50": ms(ordered, 0.5), "p99": ms(ordered, 0.99)}
    return PersonRun(
        bot=bot,
        people=people,
        taps=len(latencies),
        pause_s=[min(drawn), max(drawn)],
        quiet_before_s=round(min(quiets), 2),
        p50_ms=ms(latencies, 0.5),
        p95_ms=ms(latencies, 0.95),
        p99_ms=ms(latencies, 0.99),
        max_ms=round(latencies[-1] * 1000, 1),
        spans=summary,
        calls_per_tap=round(calls / len(latencies), 2),
        counted_calls_per_tap=round(counted / len(latencies), 2),
        cpu_ms_per_tap=round(cpu / len(latencies) * 1000, 3) if cpu > 0 else None,
    )


BOTS = ("yogabot", "bare PTB", "bare PTB + AIORateLimiter")


def table(runs: list[TapRun]) -> str:
    lines = [
        "| bot | users | taps/s | p50 ms | p95 ms | p99 ms | CPU ms/tap | calls/tap "
        f"| counted/tap | busiest second | RSS idle MB | RSS after 1 / {CHARTS} charts MB |",
        "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for r in runs:
        charts = (
            "–"
            if r.rss_after_chart_mb is None
            else f"{r.rss_after_chart_mb} / {r.rss_after_charts_mb}"
        )
        lines.append(
            f"| {r.bot} | {r.users} | {r.taps_per_second} | {r.p50_ms} | {r.p95_ms} "
            f"| {r.p99_ms} | {measured(r.cpu_ms_per_tap)} | {r.calls_per_tap} "
            f"| {r.counted_calls_per_tap} | {r.busiest_second_counted} | {r.rss_idle_mb} "
            f"| {charts} |"
        )
    return "\n".join(lines)


def measured(figure: float | None) -> str:
    return "not measured" if figure is None else str(figure)


def ratio(figure: float | None, base: float | None, digits: int) -> float | None:
    """`figure` over `base`, or None where either was too small to measure."""
    if not figure or not base:
        return None
    return round(figure / base, digits)


def ratios(runs: list[TapRun]) -> list[dict[str, Any]]:
    """yogabot's figures over the bare bots' at each number of users; None for a figure
    that one of the runs could not measure."""
    found = []
    for r in runs:
        if r.bot != "yogabot":
            continue
        for base in (b for b in runs if b.bot != "yogabot" and b.users == r.users):
            found.append(
                {
                    "users": r.users,
                    "against": base.bot,
                    "taps_per_second": ratio(r.taps_per_second, base.taps_per_second, 3),
                    "p50": ratio(r.p50_ms, base.p50_ms, 2),
                    "cpu_per_tap": ratio(r.cpu_ms_per_tap, base.cpu_ms_per_tap, 2),
                    "rss_idle": ratio(r.rss_idle_mb, base.rss_idle_mb, 2),
                }
            )
    return found


# (users, taps each): enough taps for steady figures, a run of minutes at most.
FULL: tuple[tuple[int, int], ...] = ((1, 20), (50, 20), (200, 10))
QUICK: tuple[tuple[int, int], ...] = ((1, 8), (20, 8))
# One person tapping with pauses: (people one after another, taps each); a class has
# room for 20 Next taps.
PERSON_FULL = (3, 20)
PERSON_QUICK = (1, 3)


async def measure(
    plan: tuple[tuple[int, int], ...] = FULL, person: tuple[int, int] = PERSON_FULL
) -> dict[str, Any]:
    """Every bot at every (users, taps each) of `plan`, and one person at a time as
    `person` says: the runs, and yogabot's ratios."""
    runs: list[TapRun] = []
    people: list[PersonRun] = []
    for at, (users, taps) in enumerate(plan):
        for bot in BOTS:
            # One person taps in the first run's bot, after it: its warm-up and
            # back-to-back taps are what the person's first tap follows.
            run, alone = await tap_run(bot, users, taps, person if at == 0 else None)
            cpu = measured(run.cpu_ms_per_tap)
            print(f"{bot:<28} {users:>4} users: {run.taps_per_second:>7} taps/s, "
                  f"p50 {run.p50_ms} ms, {cpu} ms CPU/tap", flush=True)  # fmt: skip
            runs.append(run)
            if alone is not None:
                print(f"{bot:<28} one person: p50 {alone.p50_ms} ms, p95 {alone.p95_ms} ms, "
                      f"p99 {alone.p99_ms} ms", flush=True)  # fmt: skip
                people.append(alone)
    return {
        "runs": [asdict(r) for r in runs],
        "ratios": ratios(runs),
        "one_person": {"runs": [asdict(p) for p in people], "ratios": person_ratios(people)},
    }


def person_ratios(runs: list[PersonRun]) -> list[dict[str, Any]]:
    """yogabot's one-person latencies over each bare bot's."""
    (ours,) = (r for r in runs if r.bot == "yogabot")
    return [
        {
            "against": base.bot,
            "p50": ratio(ours.p50_ms, base.p50_ms, 2),
            "p95": ratio(ours.p95_ms, base.p95_ms, 2),
            "p99": ratio(ours.p99_ms, base.p99_ms, 2),
        }
        for base in runs
        if base.bot != "yogabot"
    ]


def person_table(runs: list[PersonRun]) -> str:
    def span(r: PersonRun, name: str) -> str:
        found = r.spans.get(name)
        return f"{found['p50']} / {found['p99']}" if found else "–"

    lines = [
        "| bot | taps | p50 ms | p95 ms | p99 ms | max ms | delivered p50/p99 "
        "| answerCallbackQuery p50/p99 | last call p50/p99 | CPU ms/tap | calls/tap "
        "| counted/tap |",
        "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for r in runs:
        lines.append(
            f"| {r.bot} | {r.taps} | {r.p50_ms} | {r.p95_ms} | {r.p99_ms} | {r.max_ms} "
            f"| {span(r, 'delivered')} | {span(r, 'answered')} | {span(r, 'last_call')} "
            f"| {measured(r.cpu_ms_per_tap)} | {r.calls_per_tap} | {r.counted_calls_per_tap} |"
        )
    return "\n".join(lines)


def render(section: dict[str, Any]) -> str:
    """The section of bench/results.json as tables: the throughput runs, then one person."""
    throughput = table([TapRun(**run) for run in section["runs"]])
    alone = person_table([PersonRun(**run) for run in section["one_person"]["runs"]])
    return f"{throughput}\n\nOne person, a pause after each tap:\n\n{alone}"


async def main(quick: bool) -> dict[str, Any]:
    section = await (measure(QUICK, PERSON_QUICK) if quick else measure(FULL, PERSON_FULL))
    print()
    print(render(section))
    return {
        "machine": {"cores": os.cpu_count(), "commit": commit(), "quick": quick},
        "taps": section,
    }


# The steps of a tap that --timed-person times in yogabot's process, by wall clock:
# (name, module, class or "", attribute). perf_counter is CLOCK_MONOTONIC on Linux, one
# clock for the bot and the emulator's log.
TIMED = (
    ("update, all handler groups", "telegram.ext", "Application", "process_update"),
    ("welcome_back: bring_back look", "bot.practice.recovery", "Recovery", "bring_back"),
    ("feedback: withdraw_prompt look", "handlers.feedback", "", "withdraw_prompt"),
    ("practice_button", "handlers.practice", "", "practice_button"),
    ("PracticeCore.apply (each event)", "bot.practice.core", "PracticeCore", "apply"),
    ("answerCallbackQuery", "handlers.messages", "", "answer"),
    ("present: send the cue, confirm it, retire", "handlers.present", "", "present"),
    ("send the cue (sendPhoto)", "handlers.messages", "", "send_photo"),
    ("send the cue (sendMessage)", "handlers.messages", "", "send"),
    ("retire the old buttons", "handlers.messages", "", "retire"),
    ("a statement on aiosqlite's thread", "aiosqlite.core", "Connection", "_execute"),
)


def serve_timed(out: Path) -> int:
    """yogabot (`cli run`) with each step of TIMED wrapped: every call's (name, start,
    seconds) is written to `out` as JSON at exit. The bot's code is not changed."""
    import atexit
    import functools
    import importlib
    from collections.abc import Callable, Coroutine

    from cli.main import main as cli_main

    found: list[tuple[str, float, float]] = []

    def timed(
        name: str, step: Callable[..., Coroutine[Any, Any, Any]]
    ) -> Callable[..., Coroutine[Any, Any, Any]]:
        @functools.wraps(step)
        async def wrapper(*args: Any, **kwargs: Any) -> Any:
            start = time.perf_counter()
            try:
                return await step(*args, **kwargs)
            finally:
                found.append((name, start, time.perf_counter() - start))

        return wrapper

    for name, module, owner, attribute in TIMED:
        where: Any = importlib.import_module(module)
        if owner:
            where = getattr(where, owner)
        setattr(where, attribute, timed(name, getattr(where, attribute)))
    atexit.register(lambda: out.write_text(json.dumps(found)))
    return cli_main(["run"])


async def timed_person(taps: int) -> str:
    """yogabot's steps during one person's taps, after the same warm-up and quiet as the
    suite's: per tap, how often each ran and its wall time (in all, p50 and p99)."""
    pauses = [round(random.Random(PERSON_SEED).uniform(*PERSON_PAUSE_S), 3) for _ in range(taps)]
    with tempfile.TemporaryDirectory(prefix="yogabot-bench-") as folder:
        steps = Path(folder) / "timed.json"
        async with (
            Recorder() as emulator,
            bot_process(emulator, "yogabot", Path(folder), {"BENCH_TIMED": str(steps)}),
        ):
            await _into_a_class(emulator, WARM_UP_USER)
            await _tapping(emulator, "yogabot", WARM_UP_USER, 20)
            await _into_a_class(emulator, 500_000)
            await _quiet(emulator, QUIET_S)
            began = time.perf_counter()
            spans, _, _ = await _person(emulator, "yogabot", 500_000, pauses)
            ended = time.perf_counter()
            queued = [at for at, _ in emulator.deliveries if began <= at <= ended]
        found = [(n, at, s) for n, at, s in json.loads(steps.read_text()) if began <= at <= ended]
    sent = sorted(s["sent"] for s in spans)
    # A step is a tap's when it starts between the tap's update being queued and the tap's
    # last call arriving (the pauses' timer sweeps are no tap's); "before the send" when it
    # is over by the time the cue's send arrives.
    windows = [
        (s["queued_at"], s["queued_at"] + s["sent"], s["queued_at"] + s["last_call"]) for s in spans
    ]
    mine = [
        (name, at, took, at + took <= sent_at)
        for name, at, took in found
        for queued_at, sent_at, last_at in windows
        if queued_at <= at <= last_at
    ]
    lines = [
        f"{len(sent)} taps: p50 {percentile(sent, 0.5) * 1000:.1f} ms, "
        f"p99 {percentile(sent, 0.99) * 1000:.1f} ms (queued -> the cue's send arriving)",
        "",
        "Steps in yogabot's process during a tap, from its update queued to its last call",
        "(wall clock; a step runs inside the steps above it):",
        "",
        "| step | runs per tap | of them before the send | ms per tap | p50 ms | p99 ms |",
        "|---|---:|---:|---:|---:|---:|",
    ]
    starts = sorted(at for n, at, _ in found if n == TIMED[0][0])
    # The long poll's answer leaving the emulator -> the update's handling starting.
    waits = sorted(min((s - d for s in starts if s >= d), default=0.0) for d in queued)
    n = len(sent)
    lines.append(
        f"| poll answered -> handling starts | 1 | 1 | {sum(waits) / n * 1000:.1f} "
        f"| {percentile(waits, 0.5) * 1000:.1f} | {percentile(waits, 0.99) * 1000:.1f} |"
    )
    for name, *_ in TIMED:
        took = sorted(t for step, _, t, _ in mine if step == name)
        before = sum(1 for step, *_, early in mine if step == name and early)
        if took:
            lines.append(
                f"| {name} | {len(took) / n:.2f} | {before / n:.2f} | {sum(took) / n * 1000:.1f} "
                f"| {percentile(took, 0.5) * 1000:.1f} | {percentile(took, 0.99) * 1000:.1f} |"
            )
    return "\n".join(lines)


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="1 and 20 users, fewer taps")
    parser.add_argument(
        "--results", type=Path, help="a JSON file for the figures (the suite's is bench/run.py's)"
    )
    parser.add_argument(
        "--timed-person",
        action="store_true",
        help="one person's taps, with yogabot's steps timed in its process",
    )
    parser.add_argument("--serve-timed", type=Path, help=argparse.SUPPRESS)
    arguments = parser.parse_args()
    if arguments.serve_timed:
        sys.exit(serve_timed(arguments.serve_timed))
    if arguments.timed_person:
        print(asyncio.run(timed_person(PERSON_QUICK[1] if arguments.quick else PERSON_FULL[1])))
        sys.exit(0)
    document = asyncio.run(main(arguments.quick))
    if arguments.results:
        arguments.results.write_text(json.dumps(document, indent=2) + "\n")
        print(f"\nwritten: {arguments.results}")
