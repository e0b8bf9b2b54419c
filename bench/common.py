"""What the benchmarks share: where the project is, the emulator's token, the commit, and
the figures they all compute the same way (percentiles, the busiest second)."""

from __future__ import annotations

import subprocess
from collections.abc import Iterable, Sequence
from pathlib import Path

PROJECT_DIR = Path(__file__).resolve().parent.parent
# Not a real token's shape (those have a bot id of 8 to 10 digits and a 35-character secret).
TOKEN = "123456:BENCH-token-for-the-emulator"
# Telegram's limit: about 30 messages a second in all, counted over calls with a chat_id.
TELEGRAM_LIMIT = 30


def commit() -> str:
    """The short hash of the checked-out commit, or "unknown" outside a git checkout."""
    try:
        return subprocess.run(
            ["git", "rev-parse", "--short", "HEAD"],
            cwd=PROJECT_DIR, capture_output=True, text=True, check=True,
        ).stdout.strip()  # fmt: skip
    except (OSError, subprocess.CalledProcessError):
        return "unknown"


def percentile(ordered: Sequence[float], q: float) -> float:
    """The q-quantile (0..1) of an ascending sequence, nearest rank; 0.0 when it is empty."""
    if not ordered:
        return 0.0
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


def busiest_second(times: Iterable[float]) -> int:
    """The most events within any sliding one-second window [t, t + 1 s)."""
    ordered = sorted(times)
    most, start = 0, 0
    for end, at in enumerate(ordered):
        while ordered[start] <= at - 1.0:
            start += 1
        most = max(most, end - start + 1)
    return most
