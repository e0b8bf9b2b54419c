"""The benchmarks still work: each scenario once, on a tiny load. Never a timed test: the
figures are the benchmark's business (make bench), only their shape is checked here."""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path
from types import ModuleType

import pytest

BENCH = Path(__file__).resolve().parent.parent / "bench"


def load(name: str) -> ModuleType:
    spec = importlib.util.spec_from_file_location(f"bench_{name}", BENCH / f"{name}.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)
    return module


@pytest.mark.parametrize("bot", ["yogabot", "bare PTB", "bare PTB + AIORateLimiter"])
async def test_the_tap_benchmark_runs_each_bot_on_a_tiny_load(bot: str) -> None:
    taps = load("taps")
    run = await taps.tap_run(bot, users=2, taps=3)
    assert run.taps == 6
    assert run.taps_per_second > 0 and run.p50_ms > 0
    assert run.rss_idle_mb > 0
    # A tap is answered by one message; yogabot also retires the previous cue's buttons.
    assert run.counted_calls_per_tap == (2.0 if bot == "yogabot" else 1.0)


async def test_the_emulator_ceiling_benchmark_runs_on_a_tiny_load() -> None:
    ceiling = load("emulator_ceiling")
    figures = await ceiling.ceiling(seconds=0.5, concurrency=2)
    assert figures["calls_answered"] > 0 and figures["calls_per_second"] > 0
