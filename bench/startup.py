"""Start-up, memory and stop with a big database: 100,000 users and 2,000 open practices.

A SQLite file is seeded with 100,000 users and 2,000 active practices: a third whose hold
ended while the bot was down (overdue), a third whose hold ends later (due), and a third
whose cue was never confirmed delivered (unconfirmed, sent again at start). yogabot then
starts as a separate process against the Bot API emulator, and a user who is not in the
database sends /help at the moment it is started. Reported: seconds until that /help is
answered (the first update served), until every overdue and unconfirmed practice has had
its cue sent, the resident memory once it settles, and seconds from SIGINT to exit.

    .venv/bin/python bench/startup.py [--quick]   # --quick: 10,000 users, 200 practices
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import signal
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

PROJECT_DIR = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(PROJECT_DIR))

from sqlalchemy import insert  # noqa: E402

from bot.database import create_engine, migrate  # noqa: E402
from bot.models import Practice, PracticeStatus, User  # noqa: E402
from playground.emulator import BotApiEmulator  # noqa: E402

TOKEN = "123456:BENCH-token-for-the-emulator"
FULL, QUICK = (100_000, 2_000), (10_000, 200)  # (users, open practices)
CLASS_ID = "back-strengthening-part-1"
PROBE_USER = 9_999_999


def _rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return 0.0


async def seed(url: str, users: int, practices: int) -> dict[str, list[int]]:
    engine = create_engine(url)
    now = datetime.now(UTC)
    kinds: dict[str, list[int]] = {"overdue": [], "due": [], "unconfirmed": []}
    try:
        await migrate(engine)
        async with engine.begin() as connection:
            rows = [
                {"id": 1_000_000 + n, "chat_id": 1_000_000 + n, "first_name": "", "created_at": now}
                for n in range(users)
            ]
            for start in range(0, users, 20_000):
                await connection.execute(insert(User), rows[start : start + 20_000])
            practice_rows: list[dict[str, Any]] = []
            for n in range(practices):
                user_id = 1_000_000 + n
                kind = ("overdue", "due", "unconfirmed")[n % 3]
                kinds[kind].append(user_id)
                practice_rows.append(
                    {
                        "user_id": user_id,
                        "chat_id": user_id,
                        "class_id": CLASS_ID,
                        "status": PracticeStatus.ACTIVE,
                        "started_at": now - timedelta(minutes=5),
                        "current_step": 3,
                        "hold_ends_at": now + timedelta(seconds=-30 if kind == "overdue" else 600),
                        "cue_message_id": None if kind == "unconfirmed" else 7,
                    }
                )
            await connection.execute(insert(Practice), practice_rows)
    finally:
        await engine.dispose()
    return kinds


async def run(users: int, practices: int) -> dict[str, Any]:
    with tempfile.TemporaryDirectory(prefix="yogabot-startup-") as folder:
        url = f"sqlite+aiosqlite:///{Path(folder) / 'big.db'}"
        kinds = await seed(url, users, practices)
        owed = set(kinds["overdue"]) | set(kinds["unconfirmed"])
        async with BotApiEmulator(token=TOKEN) as emulator:
            for user_id in (*kinds["overdue"], *kinds["due"], *kinds["unconfirmed"]):
                emulator.user(user_id).open_chat()
            probe = emulator.user(PROBE_USER)
            env = {
                **os.environ,
                "BOT_TOKEN": TOKEN,
                "TELEGRAM_API_URL": emulator.api_url,
                "DATABASE_URL": url,
                "PICTURE_CACHE_DIR": str(PROJECT_DIR / ".cache" / "pictures"),
                "VOICE_ENGINE": "off",
                "LOG_LEVEL": "WARNING",
                "PYTHONPATH": str(PROJECT_DIR),
            }
            log = (Path(folder) / "bot.log").open("ab")
            started = time.perf_counter()
            process = await asyncio.create_subprocess_exec(
                sys.executable, "-m", "cli", "run", env=env, cwd=folder, stdout=log, stderr=log
            )
            await probe.send("/help")
            await emulator.wait_for(lambda: emulator.calls_of("getUpdates"), timeout=600)
            polling = time.perf_counter() - started
            await emulator.wait_for(lambda: probe.bot_messages, timeout=600)
            first_update = time.perf_counter() - started

            def sent_to_owed() -> bool:
                chats = {
                    int(c.params.get("chat_id", 0))
                    for c in emulator.state.calls
                    if c.method in ("sendMessage", "sendPhoto") and c.ok
                }
                return owed <= chats

            await emulator.wait_for(sent_to_owed, timeout=900)
            all_owed = time.perf_counter() - started
            await asyncio.sleep(2.0)
            rss = _rss_mb(process.pid)
            stopping = time.perf_counter()
            process.send_signal(signal.SIGINT)
            try:
                code = await asyncio.wait_for(process.wait(), timeout=60)
            except TimeoutError:
                process.kill()
                code = await process.wait()
            stop = time.perf_counter() - stopping
            log.close()
    return {
        "users": users,
        "open_practices": practices,
        "polling_started_s": round(polling, 2),
        "first_update_served_s": round(first_update, 2),
        "every_owed_cue_sent_s": round(all_owed, 2),
        "rss_settled_mb": round(rss, 1),
        "stop_after_sigint_s": round(stop, 2),
        "exit_code": code,
    }


def render(figures: dict[str, Any]) -> str:
    """The figures as a table."""
    return "\n".join(
        [
            "| users | open practices | polling started | first update served "
            "| every owed cue sent | RSS settled | stop after SIGINT | exit code |",
            "|---:|---:|---:|---:|---:|---:|---:|---:|",
            f"| {figures['users']:,} | {figures['open_practices']:,} "
            f"| {figures['polling_started_s']} s | {figures['first_update_served_s']} s "
            f"| {figures['every_owed_cue_sent_s']} s | {figures['rss_settled_mb']} MB "
            f"| {figures['stop_after_sigint_s']} s | {figures['exit_code']} |",
        ]
    )


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="10,000 users, 200 practices")
    arguments = parser.parse_args()
    users, practices = QUICK if arguments.quick else FULL
    print(json.dumps(asyncio.run(run(users, practices)), indent=2))
