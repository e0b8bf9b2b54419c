"""A clean stop at any load: SIGINT to a bot with M live classes.

The classes are seeded as bench/timers.py seeds them (each at step 0, its cue delivered,
the deadlines spread so that a cue falls due in some class every 2 / M seconds), and the
bot runs as its own process at LOG_LEVEL=INFO. Once every class has moved on a few times,
the bench sends SIGINT and measures:

- the seconds from SIGINT to the process's exit, and its exit code;
- the log lines above INFO written from SIGINT on (work cancelled on purpose is no error);
- what was owed: the bot is started again, with holds a hundred times longer than usual so that
  only what was owed is sent (at M classes the bot runs at Telegram's 30 a second, and a
  cue owed from before waits behind live ones), and every class whose current cue was
  not confirmed at the stop must get that cue, once (nothing lost, nothing doubled).

    .venv/bin/python bench/stopping.py            # 100, 500 and 2000 classes
    .venv/bin/python bench/stopping.py --quick    # 100
    .venv/bin/python bench/stopping.py 500        # one size
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import re
import signal
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from sqlalchemy import select

from bench.taps import bot_command, bot_process, database_url
from bench.timers import CUE_EVERY, TimerRecorder, lead_s, seed, time_scale, user_of
from bot.database import create_engine
from bot.models import Practice, PracticeStatus

FULL = (100, 500, 2000)
QUICK = (100, 500)
ONLY = tuple(int(n) for n in os.environ.get("STOP_CLASSES", "").split(",") if n)
# Seconds the classes run, from their first deadline, before SIGINT.
RUN_S = 6.0
# How long a restarted bot has to send every cue owed at the stop, beyond 30 a second.
CATCH_UP_S = 20.0
# The restarted bot's TIME_SCALE (the most it allows): holds of 10 s and more, so few new
# cues fall due meanwhile.
RESTART_SCALE = 100.0
# A stop not over by then is ended with SIGKILL and reported as not stopped (exit code None).
STOP_LIMIT_S = 30.0
LEVEL = re.compile(r"^\S+ \S+ (WARNING|ERROR|CRITICAL) ")


async def owed(url: str) -> set[int]:
    """The open practices whose current cue is not confirmed delivered."""
    engine = create_engine(url)
    try:
        async with engine.connect() as connection:
            rows = await connection.execute(
                select(Practice.id).where(
                    Practice.status == PracticeStatus.ACTIVE, Practice.cue_message_id.is_(None)
                )
            )
            return {row[0] for row in rows}
    finally:
        await engine.dispose()


def lines_above_info(log: Path, offset: int) -> list[str]:
    with log.open("rb") as file:
        file.seek(offset)
        text = file.read().decode("utf-8", "replace")
    return [line for line in text.splitlines() if LEVEL.match(line)]


async def stop_run(classes: int) -> dict[str, Any]:
    ids = range(1, classes + 1)
    with tempfile.TemporaryDirectory(prefix="yogabot-stop-") as folder:
        workdir = Path(folder)
        url = database_url(workdir)
        log = workdir / "yogabot.log"
        env = {"TIME_SCALE": str(time_scale()), "LOG_LEVEL": "INFO"}
        async with TimerRecorder() as emulator:
            for practice_id in ids:
                chat = emulator.user(user_of(practice_id)).open_chat()
                button = {"text": "Next", "callback_data": f"p:n:{practice_id}:0"}
                emulator.state.add_message(
                    chat, from_bot=True, text="the first cue",
                    reply_markup={"inline_keyboard": [[button]]},
                )  # fmt: skip
            first = time.time() + lead_s(classes)
            await seed(url, {p: first + CUE_EVERY * (p - 1) / classes for p in ids})
            command, environment = bot_command(emulator, "yogabot", workdir, env)
            with log.open("ab") as output:
                process = await asyncio.create_subprocess_exec(
                    *command, env=environment, cwd=workdir, stdout=output, stderr=output
                )
                await asyncio.wait_for(emulator.polling.wait(), timeout=120)
                await asyncio.sleep(max(0.0, first + RUN_S - time.time()))
                offset = log.stat().st_size
                cues_before = len(emulator.cues)
                signalled = time.monotonic()
                process.send_signal(signal.SIGINT)
                try:
                    exit_code: int | None = await asyncio.wait_for(process.wait(), STOP_LIMIT_S)
                except TimeoutError:
                    exit_code = None
                    process.kill()
                    await process.wait()
                stop_s = time.monotonic() - signalled
            emulator.polling.clear()
            above_info = lines_above_info(log, offset)
            owed_at_stop = await owed(url)
            # Started again: every owed cue arrives.
            emulator.cues.clear()
            caught_up_s: float | None = None
            restart_env = {**env, "TIME_SCALE": str(RESTART_SCALE)}
            async with bot_process(emulator, "yogabot", workdir, restart_env):
                started = time.monotonic()
                while time.monotonic() - started < CATCH_UP_S + len(owed_at_stop) / 30:
                    if owed_at_stop <= {p for p, _ in emulator.cues}:
                        caught_up_s = time.monotonic() - started
                        break
                    await asyncio.sleep(0.1)
            missing = owed_at_stop - {p for p, _ in emulator.cues}
    return {
        "classes": classes,
        "cues_before_stop": cues_before,
        "stop_s": round(stop_s, 2),
        "exit_code": exit_code,
        "lines_above_info": len(above_info),
        "first_line_above_info": above_info[0][:200] if above_info else None,
        "owed_at_stop": len(owed_at_stop),
        "owed_sent_after_restart": len(owed_at_stop) - len(missing),
        "owed_caught_up_s": round(caught_up_s, 2) if caught_up_s is not None else None,
        "duplicate_cues": emulator.duplicates,
    }


async def measure(classes: tuple[int, ...]) -> dict[str, Any]:
    runs = []
    for count in classes:
        run = await stop_run(count)
        print(json.dumps(run), flush=True)
        runs.append(run)
    return {"runs": runs}


def render(section: dict[str, Any]) -> str:
    lines = [
        "| live classes | stop after SIGINT | exit code | log lines above INFO "
        "| cues owed at the stop | sent once after the restart (in) | sent twice |",
        "|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for r in section["runs"]:
        caught_up = f"{r['owed_caught_up_s']} s" if r["owed_caught_up_s"] is not None else "—"
        lines.append(
            f"| {r['classes']:,} | {r['stop_s']} s | {r['exit_code']} "
            f"| {r['lines_above_info']} | {r['owed_at_stop']:,} "
            f"| {r['owed_sent_after_restart']:,} ({caught_up}) | {r['duplicate_cues']} |"
        )
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true")
    parser.add_argument("classes", nargs="*", type=int, help="sizes to run instead")
    args = parser.parse_args()
    sizes = tuple(args.classes) or (QUICK if args.quick else FULL)
    print(render(asyncio.run(measure(sizes))))


if __name__ == "__main__":
    main()
