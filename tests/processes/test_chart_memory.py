"""The bot's resident memory after it has drawn /progress charts: the bot runs as its own
process (`python -m cli run` on a new SQLite file, as bench/taps.py starts it), a user with
eight weeks of practice asks for /progress three times, and the memory is read from /proc
once each chart has arrived (bench/taps.py `chart_rss`, as `make bench` reports it)."""

from __future__ import annotations

import tempfile
from pathlib import Path

from bench import taps

# The bot must stay under 100 MB with its charts drawn. Figures on the 2-core machine of
# BENCHMARKS.md: 85 MB idle, 87.6 MB after a chart, 88 MB after three.
LIMIT_MB = 100
# matplotlib kept some 38 MB resident after the first chart; Pillow's drawing and its
# font, some 3 MB.
CHART_GROWTH_MB = 8
# Each chart after the first draws on images as large again, and must leave the bot no
# larger: they once left it 30 MB larger, for good (bot/malloc.py).
LATER_CHARTS_GROWTH_MB = 2


def mapped_files(pid: int) -> str:
    return Path(f"/proc/{pid}/maps").read_text()


async def test_drawing_charts_leaves_the_bot_under_100_mb_and_about_as_small_as_before() -> None:
    with tempfile.TemporaryDirectory(prefix="yogabot-chart-") as folder:
        workdir = Path(folder)
        async with (
            taps.Recorder() as emulator,
            taps.bot_process(emulator, "yogabot", workdir) as pid,
        ):
            idle = taps.rss_mb(pid)
            first, *_, last = await taps.chart_rss(emulator, pid, workdir, charts=3)
            maps = mapped_files(pid)
    print(f"RSS idle {idle:.1f} MB, after a chart {first:.1f} MB, after three {last:.1f} MB")
    assert "matplotlib" not in maps
    assert max(first, last) < LIMIT_MB
    assert first - idle < CHART_GROWTH_MB
    assert last - first < LATER_CHARTS_GROWTH_MB
