"""Timer precision: M live classes whose cues move on by themselves, nobody tapping.

TIME_SCALE is set so that the class's mean hold lasts CUE_EVERY (2) seconds: in each class
a cue falls due about every 2 s (the holds run from 0.35× to 1.9× of that). Before the bot
starts, its SQLite file is seeded with M users, each in an active practice at step 0 whose
cue counts as delivered (cue_message_id set, and that message, with its buttons, is in the
emulator's chat too), the first deadlines spread evenly over 2 s a few seconds after
start-up, so that the classes are not in lockstep. yogabot then runs as its own process
(`python -m cli run`, as bench/taps.py starts it, TIME_SCALE in its environment) and the
Bot API emulator in this one. Nobody taps: every cue after the seeded one is sent because
a practice's timer (or the deadline sweep) moved the class on.

How lateness is measured. A cue is due when the previous step's hold ends, at that step's
hold_ends_at in the practice table as it stands once that step's cue is confirmed. The bot
sets it as it moves to the step (bot/practice/machine.py, `_move_on`: the clock then +
the hold × TIME_SCALE) and sets it afresh when the step's cue is confirmed late
(`_cue_sent`, on the `CueSent` event: if the stored deadline had passed at the
confirmation, or a send had failed, it becomes the confirmation's clock + the hold ×
TIME_SCALE; that same clock is the step's "shown" event). Neither moment is visible at the
emulator (the move comes before the send, the confirmation after it), so computing the
deadlines from the cues' arrivals would be off by each send's own latency; they are read
from the database instead. While the bot runs, this process reads every practice's
(current_step, hold_ends_at, cue_message_id, cue_attempts) every 0.25 s (WAL: the reads
do not block the bot's writes). A hold_ends_at read once the step's cue_message_id is set
is final (nothing else changes it while nobody taps). For a step whose confirmed row was
never read (its cue was confirmed just before its hold ended), the value read before the
confirmation is used, with confirm_cue's rule mirrored exactly: it stood, unless it had
passed by the shown event's moment or a send had failed, in which case the deadline is
that moment + the hold × TIME_SCALE. A cue whose deadline is known neither way is counted,
not guessed. The first step's deadline is the seeded one. Lateness = the wall-clock moment
the cue's sendMessage or sendPhoto arrives at the emulator (the bot's clock is the same
wall clock) − that deadline. Cues are told apart by their buttons' callback data
(p:<action>:<practice>:<step>).

Reported per M, over the steady window (the cues that arrive after a warm-up and before
the end; the bot is stopped then): p50/p95/p99/max lateness; the spread across classes
(the p99 of the classes' mean lateness, the worst class's mean and the best's, and classes
that got no cue in the window); cues owed at the end and how overdue the oldest was; the
seconds between cues a class actually got; counted calls (with a chat_id) per second and
per cue, and all calls per cue; the busiest second of counted calls from start-up to the
end; the pose pictures uploaded (photos sent with their bytes, counted at the emulator
from start-up to the end) per distinct picture, and the most uploads of any one; and
whether M is below the limit (M / CUE_EVERY cues a second × the counted calls a
cue costs < 30 a second) or at it.

    .venv/bin/python bench/timers.py            # 10, 100, 500 and 2000 classes
    .venv/bin/python bench/timers.py --quick    # 10 and 100
    .venv/bin/python bench/timers.py 100 500    # these sizes (--quick: shorter windows)
"""

from __future__ import annotations

import argparse
import asyncio
import bisect
import contextlib
import json
import re
import statistics
import sys
import tempfile
import time
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from sqlalchemy import insert, select

from bench.common import TELEGRAM_LIMIT, busiest_second, percentile
from bench.taps import SENDS, Recorder, bot_process, cpu_seconds, database_url
from bot.database import create_engine, migrate
from bot.models import EventKind, Practice, PracticeStatus, StepEvent, User
from sequences import load_catalog

CLASS_ID = "back-strengthening-part-1"
# Seconds between two cues of a class, on average over its holds.
CUE_EVERY = 2.0
# How often the practice table is read for deadlines; well under the shortest hold.
POLL_SECONDS = 0.25
FIRST_USER = 600_000
SEEDED_CUE = 1  # the message id of each chat's first (seeded) cue
# A practice's buttons: p:<action>:<practice id>:<step> (handlers/buttons.py).
PRACTICE_BUTTON = re.compile(r"p:[a-z]:(\d+):(\d+)")


@dataclass(frozen=True)
class Plan:
    classes: tuple[int, ...]
    warmup_s: float
    steady_s: float


FULL = Plan((10, 100, 500, 2000), warmup_s=6.0, steady_s=25.0)
QUICK = Plan((10, 100), warmup_s=3.0, steady_s=6.0)


def holds() -> list[float]:
    """Each step's hold in class seconds, as a seeded practice runs it (the full class, at
    the usual pace: bot.user_settings.paced_hold is then the step's hold_seconds)."""
    return [step.hold_seconds for step in load_catalog()[CLASS_ID].steps_for("full")]


def time_scale() -> float:
    """The TIME_SCALE at which the class's mean hold lasts CUE_EVERY seconds."""
    return round(CUE_EVERY / statistics.mean(holds()), 6)


def lead_s(classes: int) -> float:
    """Seconds from seeding to the first deadline: the bot has started by then."""
    return 4.0 + classes / 1000


def cue_of(params: dict[str, Any]) -> tuple[int, int] | None:
    """(practice id, step) of a cue, from its buttons' callback data."""
    markup = params.get("reply_markup")
    if isinstance(markup, str):
        try:
            markup = json.loads(markup)
        except ValueError:
            return None
    if not isinstance(markup, dict):
        return None
    for row in markup.get("inline_keyboard", []):
        for button in row:
            found = PRACTICE_BUTTON.fullmatch(str(button.get("callback_data", "")))
            if found:
                return int(found[1]), int(found[2])
    return None


class TimerRecorder(Recorder):
    """The emulator, noting in wall-clock time each call's arrival and each cue's first."""

    def __init__(self) -> None:
        super().__init__(max_recorded_calls=5_000)
        # (time.time(), method, chat_id): a call with a chat_id counts towards the 30/s.
        self.arrivals: list[tuple[float, str, int | None]] = []
        self.cues: dict[tuple[int, int], float] = {}  # (practice, step) -> first arrival
        self.duplicates = 0
        self.other_sends = 0
        self.polling_at: float | None = None

    async def call(
        self, method: str, params: dict[str, Any] | None = None, *, token: str | None = None
    ) -> tuple[int, dict[str, Any]]:
        now = time.time()
        values = params or {}
        name = method.lower()
        if name == "getupdates":
            if self.polling_at is None:
                self.polling_at = now
        else:
            chat = values.get("chat_id")
            self.arrivals.append((now, method, None if chat is None else int(chat)))
        if name in SENDS:
            cue = cue_of(values)
            if cue is None:
                self.other_sends += 1
            elif cue in self.cues:
                self.duplicates += 1
            else:
                self.cues[cue] = now
        return await super().call(method, params, token=token)


async def seed(url: str, deadlines: dict[int, float]) -> None:
    """One user per practice id in `deadlines`, in an active practice at step 0 whose cue
    was delivered (as message SEEDED_CUE) and whose hold ends at the given moment."""
    engine = create_engine(url)
    now = datetime.now(UTC)
    try:
        await migrate(engine)
        async with engine.begin() as connection:
            users = [user_of(p) for p in deadlines]
            await connection.execute(
                insert(User),
                [{"id": u, "chat_id": u, "first_name": "", "created_at": now} for u in users],
            )
            await connection.execute(
                insert(Practice),
                [
                    {
                        "id": practice_id,
                        "user_id": user_of(practice_id),
                        "chat_id": user_of(practice_id),
                        "class_id": CLASS_ID,
                        "status": PracticeStatus.ACTIVE,
                        "started_at": now - timedelta(seconds=1),
                        "current_step": 0,
                        "hold_ends_at": datetime.fromtimestamp(deadline, UTC),
                        "cue_message_id": SEEDED_CUE,
                    }
                    for practice_id, deadline in deadlines.items()
                ],
            )
    finally:
        await engine.dispose()


def user_of(practice_id: int) -> int:
    return FIRST_USER + practice_id


@dataclass
class Deadlines:
    """What the practice table showed of each (practice, step)'s deadline while it ran."""

    # hold_ends_at read once the step's cue was confirmed: final.
    confirmed: dict[tuple[int, int], float]
    # The last hold_ends_at read before that, and whether a send of the cue had failed.
    unconfirmed: dict[tuple[int, int], tuple[float, bool]]
    # The step's shown event: the moment its cue was confirmed (after the run).
    shown: dict[tuple[int, int], float]

    def due(self, practice_id: int, step: int, hold_s: float) -> float | None:
        """When the step's hold ended (the next cue's deadline), `hold_s` being its hold as
        the clock counts it (class seconds × TIME_SCALE); None when it cannot be known."""
        key = (practice_id, step)
        if key in self.confirmed:
            return self.confirmed[key]
        if key not in self.unconfirmed or key not in self.shown:
            return None
        stored, failed = self.unconfirmed[key]
        shown = self.shown[key]
        # confirm_cue: hold_ends_at = its new value if the cue had failed before or the
        # stored deadline had passed (stored <= now), else the stored one stands.
        return shown + hold_s if failed or stored <= shown else stored


async def read_deadlines(url: str, deadlines: Deadlines, stop: asyncio.Event) -> None:
    """Every POLL_SECONDS until `stop`, and once more then: each step's deadline as the
    practice table holds it (see the module's docstring)."""
    engine = create_engine(url)
    query = select(
        Practice.id,
        Practice.current_step,
        Practice.hold_ends_at,
        Practice.cue_message_id,
        Practice.cue_attempts,
    )
    try:
        while True:
            stopping = stop.is_set()
            async with engine.connect() as connection:
                rows = (await connection.execute(query)).all()
            for practice_id, step, ends, cue_message_id, attempts in rows:
                if ends is None:
                    continue
                if cue_message_id is not None:
                    deadlines.confirmed[(practice_id, step)] = ends.timestamp()
                else:
                    deadlines.unconfirmed[(practice_id, step)] = (ends.timestamp(), attempts > 0)
            if stopping:
                break
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(stop.wait(), POLL_SECONDS)
        async with engine.connect() as connection:
            shown = await connection.execute(
                select(StepEvent.practice_id, StepEvent.step_index, StepEvent.at).where(
                    StepEvent.kind == EventKind.SHOWN
                )
            )
            for practice_id, step, at in shown.all():
                deadlines.shown.setdefault((practice_id, step), at.timestamp())
    finally:
        await engine.dispose()


def _ms(seconds: float) -> float:
    return round(seconds * 1000, 1)


async def class_run(classes: int, warmup_s: float, steady_s: float) -> dict[str, Any]:
    """`classes` live classes for warm-up + steady seconds from their first deadline."""
    scale = time_scale()
    ids = range(1, classes + 1)
    with tempfile.TemporaryDirectory(prefix="yogabot-timers-") as folder:
        workdir = Path(folder)
        url = database_url(workdir)
        async with TimerRecorder() as emulator:
            for practice_id in ids:
                chat = emulator.user(user_of(practice_id)).open_chat()
                button = {"text": "Next", "callback_data": f"p:n:{practice_id}:0"}
                emulator.state.add_message(
                    chat, from_bot=True, text="the first cue",
                    reply_markup={"inline_keyboard": [[button]]},
                )  # fmt: skip
            seeded_at = time.time()
            first = seeded_at + lead_s(classes)
            seeded = {p: first + CUE_EVERY * (p - 1) / classes for p in ids}
            await seed(url, seeded)
            deadlines = Deadlines({(p, 0): d for p, d in seeded.items()}, {}, {})
            stop = asyncio.Event()
            env = {"TIME_SCALE": str(scale)}
            async with bot_process(emulator, "yogabot", workdir, env) as pid:
                # The warm-up runs from the first deadline, or from when the bot is up if
                # it started later than that (a loaded machine): the steady window never
                # falls before the bot could send anything.
                origin = max(first, time.time())
                warm_at, end_at = origin + warmup_s, origin + warmup_s + steady_s
                reader = asyncio.create_task(read_deadlines(url, deadlines, stop))
                await asyncio.sleep(max(0.0, warm_at - time.time()))
                cpu_before = cpu_seconds(pid)
                await asyncio.sleep(max(0.0, end_at - time.time()))
                cpu = cpu_seconds(pid) - cpu_before
                stop.set()
                await reader
            polling_at = emulator.polling_at or end_at
            arrivals, cues = list(emulator.arrivals), dict(emulator.cues)
            duplicates, other_sends = emulator.duplicates, emulator.other_sends
            media = emulator.media
            uploads, pictures = media.uploaded["photo"], len(media.per_content)
            most_uploads = media.most_uploads_of_one_file()

    # Each step's hold as the bot's clock counts it, as _timer_seconds computes it.
    hold_s = [hold * scale for hold in holds()]

    def due(practice_id: int, step: int) -> float | None:
        return deadlines.due(practice_id, step, hold_s[step])

    late: dict[int, list[float]] = {}
    unseen = 0
    for (practice_id, step), arrived in cues.items():
        if not warm_at <= arrived < end_at:
            continue
        deadline = due(practice_id, step - 1)
        if deadline is None:
            unseen += 1
            continue
        late.setdefault(practice_id, []).append(arrived - deadline)
    lateness = sorted(x for per_class in late.values() for x in per_class)
    means = sorted(statistics.mean(per_class) for per_class in late.values())

    # The cue each class owed at the end: the one after the last that had arrived by then.
    reached = dict.fromkeys(ids, 0)
    for (practice_id, step), arrived in cues.items():
        if arrived < end_at:
            reached[practice_id] = max(reached[practice_id], step)
    owed = [
        end_at - deadline
        for practice_id, step in reached.items()
        if (deadline := due(practice_id, step)) is not None and deadline < end_at
    ]

    # What moving a class on by one cue cost: the calls to its chat after its previous cue
    # arrived, up to this cue (retiring the old cue's buttons, the send, any retries).
    to_chat: dict[int, list[float]] = {}
    for at, _, chat_id in arrivals:
        if chat_id is not None:
            to_chat.setdefault(chat_id, []).append(at)
    window_cues = [key for key, arrived in cues.items() if warm_at <= arrived < end_at]
    cost = [
        bisect.bisect_right(to_chat[user_of(p)], cues[(p, k)])
        # the step before's cue, or for the first cue sent, from start-up on
        - bisect.bisect_right(to_chat[user_of(p)], cues.get((p, k - 1), 0.0))
        for p, k in window_cues
    ]
    in_window = [a for a in arrivals if warm_at <= a[0] < end_at]
    counted = sum(1 for a in in_window if a[2] is not None)
    uncounted = len(in_window) - counted
    delivered = len(window_cues)
    counted_per_cue = statistics.fmean(cost) if cost else None
    needed = classes / CUE_EVERY * (counted_per_cue or 1.0)
    return {
        "classes": classes,
        "regime": "below the limit" if needed < TELEGRAM_LIMIT else "at the limit",
        "needed_counted_calls_per_second": round(needed, 1),
        "time_scale": scale,
        "warmup_s": warmup_s,
        "steady_s": steady_s,
        "polling_started_s": round(polling_at - seeded_at, 2),
        "first_deadline_after_polling_s": round(first - polling_at, 2),
        "cues": delivered,
        "cues_deadline_unseen": unseen,
        "duplicate_cues": duplicates,
        "other_sends": other_sends,
        "lateness_min_ms": _ms(lateness[0] if lateness else 0.0),
        "lateness_p50_ms": _ms(percentile(lateness, 0.50)),
        "lateness_p95_ms": _ms(percentile(lateness, 0.95)),
        "lateness_p99_ms": _ms(percentile(lateness, 0.99)),
        "lateness_max_ms": _ms(lateness[-1] if lateness else 0.0),
        "class_mean_lateness_p99_ms": _ms(percentile(means, 0.99)),
        "class_mean_lateness_worst_ms": _ms(means[-1] if means else 0.0),
        "class_mean_lateness_best_ms": _ms(means[0] if means else 0.0),
        "classes_without_a_cue": classes - len(late),
        "cues_owed_at_end": len(owed),
        "oldest_owed_cue_overdue_s": round(max(owed, default=0.0), 2),
        "seconds_between_cues_per_class": round(classes * steady_s / delivered, 2)
        if delivered
        else None,
        "cues_per_second": round(delivered / steady_s, 1),
        "counted_calls_per_second": round(counted / steady_s, 1),
        "counted_calls_per_cue": round(counted_per_cue, 2) if counted_per_cue else None,
        "calls_per_cue": round(counted_per_cue + uncounted / delivered, 2)
        if counted_per_cue
        else None,
        "busiest_second_counted": busiest_second(
            a[0] for a in arrivals if a[2] is not None and a[0] < end_at
        ),
        "bot_cpu_share": round(cpu / steady_s, 2),
        # From start-up to the end: every photo sent with its bytes, against the distinct
        # pictures among them (a picture uploaded once per bot: 1.0, and at most 1).
        "photo_uploads": uploads,
        "distinct_pictures": pictures,
        "uploads_per_picture": round(uploads / pictures, 2) if pictures else None,
        "most_uploads_of_one_picture": most_uploads,
    }


async def measure(plan: Plan = FULL) -> dict[str, Any]:
    runs = []
    for classes in plan.classes:
        run = await class_run(classes, plan.warmup_s, plan.steady_s)
        print(f"{classes:>5} classes: {run['regime']}, p50 {run['lateness_p50_ms']} ms, "
              f"p99 {run['lateness_p99_ms']} ms late, {run['counted_calls_per_second']} "
              f"counted calls/s, {run['photo_uploads']} uploads of "
              f"{run['distinct_pictures']} pictures", flush=True)  # fmt: skip
        runs.append(run)
    return {"cue_every_s": CUE_EVERY, "telegram_limit": TELEGRAM_LIMIT, "runs": runs}


def render(section: dict[str, Any]) -> str:
    lines = [
        f"Cues due every {section['cue_every_s']} s in each class; lateness in ms "
        "(arrival at the emulator − the stored deadline).",
        "",
        "| classes | regime | cues | p50 | p95 | p99 | max | class means p99 | worst class "
        "| best class | classes without a cue | owed at end (oldest s) | s between cues "
        "| counted calls/s (needed) | calls/cue (counted) | busiest second "
        "| uploads per picture (most) |",
        "|---:|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for r in section["runs"]:
        lines.append(
            f"| {r['classes']} | {r['regime']} | {r['cues']} | {r['lateness_p50_ms']} "
            f"| {r['lateness_p95_ms']} | {r['lateness_p99_ms']} | {r['lateness_max_ms']} "
            f"| {r['class_mean_lateness_p99_ms']} | {r['class_mean_lateness_worst_ms']} "
            f"| {r['class_mean_lateness_best_ms']} | {r['classes_without_a_cue']} "
            f"| {r['cues_owed_at_end']} ({r['oldest_owed_cue_overdue_s']}) "
            f"| {r['seconds_between_cues_per_class']} "
            f"| {r['counted_calls_per_second']} ({r['needed_counted_calls_per_second']}) "
            f"| {r['calls_per_cue']} ({r['counted_calls_per_cue']}) "
            f"| {r['busiest_second_counted']} "
            f"| {r['uploads_per_picture']} ({r['most_uploads_of_one_picture']}) |"
        )
    return "\n".join(lines)


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="10 and 100 classes, shorter")
    parser.add_argument("classes", nargs="*", type=int, help="these sizes instead")
    arguments = parser.parse_args()
    plan = QUICK if arguments.quick else FULL
    if arguments.classes:
        plan = Plan(tuple(arguments.classes), plan.warmup_s, plan.steady_s)
    result = asyncio.run(measure(plan))
    print()
    print(render(result))
