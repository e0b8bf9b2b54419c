"""Every benchmark, one after the other, into one bench/results.json (make bench).

The scenarios run in turn, never two at once (the machine has few cores, and each one's
figures would be the other's noise): taps (bench/taps.py), timer precision
(bench/timers.py), start-up with a big database (bench/startup.py), a stop with many
live classes (bench/stopping.py), the player's classes per worker and Bot API calls per
class (bench/player.py), reminders
(bench/reminders.py) and the emulator's own ceiling (bench/emulator_ceiling.py). Each
prints its table when it is done. bench/results.json then holds `machine` (cores, commit,
quick or not, Python and python-telegram-bot versions), one section per scenario, and
`calls`: the Bot API calls a tap and an auto-advanced cue cost, counted at the emulator,
those of them that count towards Telegram's 30 a second (the calls with a chat_id), and
the busiest second of counted calls the emulator saw in the tap and timer runs (the target
is that it never exceeds 30).

    .venv/bin/python bench/run.py            # the full run, about 30 minutes on 2 cores
    .venv/bin/python bench/run.py --quick    # about 3 minutes (make bench QUICK=1)

A full run also rewrites the reminders section of bench/REPORT.md; a quick one does not.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import platform
import sys
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import telegram

from bench import emulator_ceiling, player, reminders, startup, stopping, taps, timers
from bench.common import TELEGRAM_LIMIT, commit

RESULTS = Path(__file__).resolve().parent / "results.json"


@dataclass(frozen=True)
class Plan:
    """How big each scenario runs."""

    taps: tuple[tuple[int, int], ...]  # (users, taps each)
    person: tuple[int, int]  # one person at a time: (people one after another, taps each)
    timers: timers.Plan
    startup: tuple[int, int]  # (users, open practices)
    stopping: tuple[int, ...]  # live classes at the SIGINT
    player: player.Plan
    reminders: reminders.Sizes
    ceiling_seconds: float
    ceiling_concurrency: int = 50


FULL = Plan(
    taps.FULL,
    taps.PERSON_FULL,
    timers.FULL,
    startup.FULL,
    stopping.FULL,
    player.FULL,
    reminders.FULL,
    ceiling_seconds=5.0,
)
QUICK = Plan(
    taps.QUICK,
    taps.PERSON_QUICK,
    timers.QUICK,
    startup.QUICK,
    stopping.QUICK,
    player.QUICK,
    reminders.QUICK,
    ceiling_seconds=3.0,
)


def machine(quick: bool) -> dict[str, Any]:
    return {
        "cores": os.cpu_count(),
        "commit": commit(),
        "quick": quick,
        "python": platform.python_version(),
        "python_telegram_bot": telegram.__version__,
    }


def calls(taps_section: dict[str, Any], timers_section: dict[str, Any]) -> dict[str, Any]:
    """What a tap and an auto-advanced cue cost in Bot API calls, and the busiest seconds."""
    return {
        "telegram_limit_per_second": TELEGRAM_LIMIT,
        "per_tap": [
            {
                "bot": run["bot"],
                "users": run["users"],
                "calls": run["calls_per_tap"],
                "counted": run["counted_calls_per_tap"],
            }
            for run in taps_section["runs"]
        ],
        "per_auto_advanced_cue": [
            {
                "classes": run["classes"],
                "regime": run["regime"],
                "calls": run["calls_per_cue"],
                "counted": run["counted_calls_per_cue"],
            }
            for run in timers_section["runs"]
        ],
        "busiest_second_counted": {
            "taps": [
                {
                    "bot": run["bot"],
                    "users": run["users"],
                    "busiest": run["busiest_second_counted"],
                    "within_limit": run["busiest_second_counted"] <= TELEGRAM_LIMIT,
                }
                for run in taps_section["runs"]
            ],
            "timers": [
                {
                    "classes": run["classes"],
                    "busiest": run["busiest_second_counted"],
                    "within_limit": run["busiest_second_counted"] <= TELEGRAM_LIMIT,
                }
                for run in timers_section["runs"]
            ],
        },
    }


def render_calls(section: dict[str, Any]) -> str:
    lines = [
        "| scenario | load | calls | counted | busiest second (counted) |",
        "|---|---|---:|---:|---:|",
    ]
    busiest = section["busiest_second_counted"]
    for cost, peak in zip(section["per_tap"], busiest["taps"], strict=True):
        lines.append(
            f"| tap, {cost['bot']} | {cost['users']} users | {cost['calls']} "
            f"| {cost['counted']} | {peak['busiest']} |"
        )
    for cost, peak in zip(section["per_auto_advanced_cue"], busiest["timers"], strict=True):
        lines.append(
            f"| auto-advanced cue ({cost['regime']}) | {cost['classes']} classes "
            f"| {cost['calls']} | {cost['counted']} | {peak['busiest']} |"
        )
    return "\n".join(lines)


async def _scenario(
    title: str, run: Callable[[], Awaitable[Any]], render: Callable[[Any], str]
) -> Any:
    print(f"\n## {title}\n", flush=True)
    started = time.perf_counter()
    figures = await run()
    print(f"\n{render(figures)}\n\n({time.perf_counter() - started:.0f} s)", flush=True)
    return figures


async def suite(
    plan: Plan, *, quick: bool, results: Path = RESULTS, report: bool | None = None
) -> dict[str, Any]:
    """Every scenario at the sizes of `plan`; the document written to `results`. `report`
    (by default: a full run) rewrites the reminders section of bench/REPORT.md."""
    began = time.perf_counter()
    document: dict[str, Any] = {"machine": machine(quick)}
    document["taps"] = await _scenario(
        "Taps (bench/taps.py)", lambda: taps.measure(plan.taps, plan.person), taps.render
    )
    document["timers"] = await _scenario(
        "Timer precision (bench/timers.py)", lambda: timers.measure(plan.timers), timers.render
    )
    document["startup"] = await _scenario(
        "Start-up and stop (bench/startup.py)",
        lambda: startup.run(*plan.startup),
        startup.render,
    )
    document["stopping"] = await _scenario(
        "A stop at any load (bench/stopping.py)",
        lambda: stopping.measure(plan.stopping),
        stopping.render,
    )
    document["player"] = await _scenario(
        "The player: classes per worker (bench/player.py)",
        lambda: player.measure(plan.player),
        player.render,
    )
    document["reminders"] = await _scenario(
        "Reminders (bench/reminders.py)",
        lambda: reminders.measure(plan.reminders, report=not quick if report is None else report),
        reminders.summary,
    )
    document["emulator_ceiling"] = await _scenario(
        "The emulator's ceiling (bench/emulator_ceiling.py)",
        lambda: emulator_ceiling.ceiling(plan.ceiling_seconds, plan.ceiling_concurrency),
        emulator_ceiling.render,
    )
    document["calls"] = calls(document["taps"], document["timers"])
    print("\n## Bot API calls (counted at the emulator)\n")
    print(render_calls(document["calls"]))
    document["machine"]["total_s"] = round(time.perf_counter() - began, 1)
    await asyncio.to_thread(results.write_text, json.dumps(document, indent=2) + "\n")
    print(f"\nwritten: {results} ({document['machine']['total_s']:.0f} s in all)")
    return document


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="a short run, about 3 minutes")
    parser.add_argument("--results", type=Path, default=RESULTS, help="where the JSON goes")
    arguments = parser.parse_args()
    quick = arguments.quick
    asyncio.run(suite(QUICK if quick else FULL, quick=quick, results=arguments.results))
