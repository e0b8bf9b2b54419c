"""glibc's mmap threshold, fixed by `yogabot run` (bot/malloc.py): a big block freed by a
worker thread goes back to the system, however many times it is allocated again."""

from __future__ import annotations

import os
import platform
import subprocess
import sys

import pytest

pytestmark = pytest.mark.skipif(platform.libc_ver()[0] != "glibc", reason="glibc's malloc only")

# A chart's image is allocated by Pillow in blocks of up to 16 MB, in a worker thread.
PROBE = """
import sys, threading
from pathlib import Path
from bot.malloc import fix_mmap_threshold

def rss_mb():
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024

fixed = fix_mmap_threshold() if sys.argv[1] == "fix" else None

def charts():
    for _ in range(3):
        block = bytearray(16 * 1024 * 1024)
        del block

before = rss_mb()
worker = threading.Thread(target=charts)
worker.start()
worker.join()
print(fixed, rss_mb() - before)
"""


def _kept_mb(mode: str) -> tuple[str, float]:
    # glibc's own defaults: none of its tunables from this environment.
    env = {k: v for k, v in os.environ.items() if not k.startswith(("MALLOC_", "GLIBC_TUNABLES"))}
    out = subprocess.run(
        [sys.executable, "-c", PROBE, mode],
        capture_output=True,
        text=True,
        check=True,
        timeout=60,
        env=env,
    ).stdout.split()
    return out[0], float(out[1])


def test_a_big_block_freed_again_and_again_is_given_back_once_the_threshold_is_fixed() -> None:
    fixed, kept = _kept_mb("fix")
    assert fixed == "True"
    assert kept < 4


def test_without_it_the_block_stays_resident() -> None:
    # What the fix is for, and that the probe above can see it: after the first block is
    # freed, glibc raises its threshold and serves the next from the thread's own heap.
    _, kept = _kept_mb("leave")
    assert kept > 12
