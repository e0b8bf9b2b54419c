"""The emulator's own ceiling: how many Bot API calls a second it answers, so that we know
it is not what limits the other benchmarks' figures.

The emulator runs in this process, as it does in bench/taps.py; the load comes from a
separate process on loopback (the same HTTP client stack as the bots, httpx through
PTB's Bot), many sendMessage calls in flight at once, for a few seconds.

    .venv/bin/python bench/emulator_ceiling.py [--seconds 5] [--concurrency 50]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import sys
import time
from pathlib import Path

PROJECT_DIR = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(PROJECT_DIR))

from playground.emulator import BotApiEmulator  # noqa: E402

TOKEN = "123456:BENCH-token-for-the-emulator"
CHATS = 200

LOAD = """
import asyncio, sys, time
from telegram import Bot
from telegram.request import HTTPXRequest

async def main(api, seconds, concurrency, chats):
    request = HTTPXRequest(connection_pool_size=concurrency)
    async with Bot(sys.argv[5], base_url=api + "/bot", request=request) as bot:
        done = 0
        deadline = time.perf_counter() + seconds
        async def worker(n):
            nonlocal done
            while time.perf_counter() < deadline:
                await bot.send_message(700000 + (n % chats), "ceiling")
                done += 1
        await asyncio.gather(*(worker(n) for n in range(concurrency)))
        print(done)

asyncio.run(main(sys.argv[1], float(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4])))
"""


async def ceiling(seconds: float, concurrency: int) -> dict[str, float]:
    async with BotApiEmulator(token=TOKEN) as emulator:
        for n in range(CHATS):
            emulator.user(700_000 + n).open_chat()
        started = time.perf_counter()
        load = await asyncio.create_subprocess_exec(
            sys.executable, "-c", LOAD, emulator.api_url, str(seconds), str(concurrency),
            str(CHATS), TOKEN,
            stdout=asyncio.subprocess.PIPE, env={**os.environ, "PYTHONPATH": str(PROJECT_DIR)},
        )  # fmt: skip
        out, _ = await load.communicate()
        elapsed = time.perf_counter() - started
        answered = len(emulator.calls_of("sendMessage"))
    assert load.returncode == 0, "the load process failed"
    return {
        "concurrency": concurrency,
        "seconds": round(elapsed, 2),
        "calls_answered": answered,
        "calls_per_second": round(int(out.decode().strip() or 0) / seconds, 1),
    }


def render(figures: dict[str, float]) -> str:
    """The figures as a table."""
    return "\n".join(
        [
            "| calls in flight | seconds | calls answered | calls per second |",
            "|---:|---:|---:|---:|",
            f"| {figures['concurrency']} | {figures['seconds']} | {figures['calls_answered']} "
            f"| {figures['calls_per_second']} |",
        ]
    )


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=5.0)
    parser.add_argument("--concurrency", type=int, default=50)
    arguments = parser.parse_args()
    print(json.dumps(asyncio.run(ceiling(arguments.seconds, arguments.concurrency)), indent=2))
