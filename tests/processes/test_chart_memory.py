"""The bot's resident memory after it has drawn a /progress chart: the bot runs as its own
process (`python -m cli run`, as bench/taps.py starts it), a user with eight weeks of
practice asks for /progress, and the memory is read from /proc once the chart has arrived."""

from __future__ import annotations

import tempfile
from datetime import UTC, datetime, timedelta
from pathlib import Path

from bench import taps
from bot.database import create_engine
from tests.harness.records import add_session

USER = 3001
# matplotlib kept some 38 MB resident after the first chart; Pillow's drawing, a few.
CHART_GROWTH_MB = 12


def mapped_files(pid: int) -> str:
    return Path(f"/proc/{pid}/maps").read_text()


async def test_drawing_a_chart_leaves_the_bot_about_as_small_as_before() -> None:
    with tempfile.TemporaryDirectory(prefix="yogabot-chart-") as folder:
        workdir = Path(folder)
        async with (
            taps.Recorder() as emulator,
            taps.bot_process(emulator, "yogabot", workdir) as pid,
        ):
            # The bot has migrated its file by now; eight weeks of practice, to this week.
            engine = create_engine(taps.database_url(workdir))
            now = datetime.now(UTC)
            try:
                for day in range(0, 56, 3):
                    await add_session(
                        engine,
                        USER,
                        now - timedelta(days=day, hours=1),
                        minutes=20 + day % 7,
                        back_before=5,
                        back_after=3,
                    )
            finally:
                await engine.dispose()
            idle = taps.rss_mb(pid)
            user = emulator.user(USER)
            await user.send("/progress")
            await emulator.wait_for(
                lambda: next((m for m in user.bot_messages if m.photo), None), timeout=60
            )
            after_chart = taps.rss_mb(pid)
            maps = mapped_files(pid)
    print(f"RSS idle {idle:.1f} MB, after a chart {after_chart:.1f} MB")
    assert "matplotlib" not in maps
    assert after_chart - idle < CHART_GROWTH_MB
