"""A crash test: a real `yogabot run` process is killed with SIGKILL at random moments
during one class, and at its end, and restarted against the same database and emulator each
time; the class must still finish with every pose shown and recorded once (README:
"Restarts lose nothing").

The moments come from a seeded random.Random, printed with the test: CRASH_SEED=<seed>
replays the same plan. SOAK_CLASSES=20 runs 20 classes, one after another (`make soak`).
"""

from __future__ import annotations

import os
import random
from pathlib import Path

import pytest

from tests.harness.crash import problems, report, run_crash_class

SOAK_CLASSES = int(os.environ.get("SOAK_CLASSES") or 1)
BASE_SEED = int(os.environ.get("CRASH_SEED") or random.SystemRandom().randrange(2**32))


@pytest.mark.parametrize("index", range(SOAK_CLASSES))
async def test_a_class_survives_random_kills(tmp_path: Path, index: int) -> None:
    seed = BASE_SEED + index
    print(f"crash test seed {seed}: rerun with CRASH_SEED={seed}")
    run = await run_crash_class(tmp_path, seed)
    print(run.summary())
    print(run.timeline())

    found = problems(run)
    assert not found, report(run, found)
