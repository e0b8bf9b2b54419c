"""The flake hunt (`make stress-test RUNS=N`): the whole suite N times, in a shuffled order
each run, every other run with each core kept busy by a spinning process beside it.

A test that passes alone but fails one run in ten blocks every submission; this finds it
before CI does. Each run's output is kept in its own log file, and the run's seed is printed,
so a failure can be replayed with ``pytest -p randomly --randomly-seed=SEED``. Exits 1 if any
run failed.

    python -m tests.stress --runs 10 --workers 4 -- [more pytest arguments]
"""

from __future__ import annotations

import argparse
import contextlib
import os
import random
import re
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

PROJECT_DIR = Path(__file__).resolve().parent.parent
# pytest's closing line, with -q bare ("3 passed in 1.2s"), otherwise between "=" rules.
SUMMARY = re.compile(r"^(?:=+ )?(\d+ (?:passed|failed|error).*?) in [\d.]+s", re.MULTILINE)
PROBLEM = re.compile(r"^(?:FAILED|ERROR) .*$", re.MULTILINE)


@dataclass
class Run:
    number: int
    busy: bool
    seed: int
    exit_code: int
    seconds: float
    summary: str
    problems: list[str]
    log: Path

    def line(self) -> str:
        beside = "both cores busy" if self.busy else "quiet machine"
        verdict = "ok" if self.exit_code == 0 else f"FAILED (exit {self.exit_code})"
        return (
            f"run {self.number}: {verdict}, {self.summary}, {self.seconds:.0f} s, {beside}, "
            f"seed {self.seed}"
        )


@contextlib.contextmanager
def cores_kept_busy(busy: bool) -> Iterator[None]:
    """One process spinning at full speed per core while the block runs, if `busy`."""
    spinners = []
    if busy:
        spinners = [
            subprocess.Popen([sys.executable, "-c", "while True: pass"])
            for _ in range(os.cpu_count() or 2)
        ]
    try:
        yield
    finally:
        for spinner in spinners:
            spinner.kill()
            spinner.wait()


def run_suite(number: int, busy: bool, workers: int, extra: list[str], folder: Path) -> Run:
    seed = random.SystemRandom().randrange(2**31)
    log = folder / f"run-{number:02d}.log"
    command = [
        sys.executable, "-m", "pytest", "-n", str(workers), "--dist", "loadgroup",
        "-p", "randomly", f"--randomly-seed={seed}", "-q", *extra,
    ]  # fmt: skip
    started = time.monotonic()
    with cores_kept_busy(busy), log.open("w") as out:
        exit_code = subprocess.run(
            command, cwd=PROJECT_DIR, stdout=out, stderr=subprocess.STDOUT, check=False
        ).returncode
    seconds = time.monotonic() - started
    text = log.read_text(errors="replace")
    found = SUMMARY.findall(text)
    summary = found[-1] if found else "no summary line"
    return Run(number, busy, seed, exit_code, seconds, summary, PROBLEM.findall(text), log)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=10)
    parser.add_argument("--workers", type=int, default=4, help="pytest-xdist workers")
    parser.add_argument("pytest_args", nargs="*", help="more arguments for pytest, after --")
    arguments = parser.parse_args()
    folder = Path(tempfile.mkdtemp(prefix="yogabot-stress-"))
    print(f"stress test: {arguments.runs} runs, logs in {folder}", flush=True)
    runs = []
    for number in range(1, arguments.runs + 1):
        busy = number % 2 == 1
        run = run_suite(number, busy, arguments.workers, arguments.pytest_args, folder)
        runs.append(run)
        print(run.line(), flush=True)
        for problem in run.problems:
            print(f"    {problem}", flush=True)
    passed = [r for r in runs if r.exit_code == 0]
    busy_passed = sum(1 for r in passed if r.busy)
    print(
        f"stress test: {len(passed)} of {len(runs)} runs passed "
        f"({busy_passed} of them with both cores busy); logs in {folder}"
    )
    return 0 if len(passed) == len(runs) else 1


if __name__ == "__main__":
    sys.exit(main())
