"""What the spoken cues cost: the render process speaking the whole catalog from an empty
cache, with each engine, and the bot's own memory with and without a voice.

* **The render process** (`python -m bot.voice_cache`, as the bot starts it, the texts
  on its standard input in the bot's order): wall time to the first text in the index
  and to the last, CPU time, and its peak resident memory (`ru_maxrss` from `wait4`).
* **The bot** (`python -m cli run` against the emulator, as bench/taps.py starts it):
  resident memory once it polls and a second has passed, with VOICE_ENGINE=off, and with
  a voice both while its render process speaks into an empty cache and once it is done
  (the cache full: the process finds everything and ends).

    .venv/bin/python bench/voice.py                 # piper and espeak-ng
    .venv/bin/python bench/voice.py --engine espeak-ng

Not part of `make bench` (a minute of a core for piper); its figures are in BENCHMARKS.md.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.common import PROJECT_DIR, commit
from bench.taps import Recorder, bot_process, rss_mb
from bot.spoken_cues import RENDERER, spoken_texts
from bot.voice_cache import INDEX_FILE, read_index
from sequences import load_catalog

POLL_S = 0.05
RENDER_TIMEOUT_S = 900.0


def render(engine: str, cache: Path) -> dict[str, float | int]:
    """The render process speaking the whole catalog into `cache`, timed."""
    texts = spoken_texts(load_catalog().values())
    payload = json.dumps([{"words": t.words, "name": t.name, "limit": t.limit} for t in texts])
    started = time.perf_counter()
    process = subprocess.Popen(
        [sys.executable, "-m", RENDERER, "--engine", engine, "--cache-dir", str(cache)],
        stdin=subprocess.PIPE,
        env={**os.environ, "PYTHONPATH": str(PROJECT_DIR)},
    )
    assert process.stdin is not None
    process.stdin.write(payload.encode())
    process.stdin.close()
    first = None
    while True:
        pid, status, usage = os.wait4(process.pid, os.WNOHANG)
        if first is None and (cache / INDEX_FILE).exists():
            first = time.perf_counter() - started
        if pid:
            break
        if time.perf_counter() - started > RENDER_TIMEOUT_S:
            process.kill()
            raise SystemExit(f"the render process took over {RENDER_TIMEOUT_S} s")
        time.sleep(POLL_S)
    process.returncode = os.waitstatus_to_exitcode(status)
    if process.returncode != 0:
        raise SystemExit(f"the render process failed ({process.returncode})")
    seconds = time.perf_counter() - started
    spoken = read_index(cache)
    audio = sum(entry.seconds for entry in spoken.values())
    return {
        "texts": len(texts),
        "first_text_s": round(first or seconds, 1),
        "seconds": round(seconds, 1),
        "cpu_s": round(usage.ru_utime + usage.ru_stime, 1),
        "peak_rss_mb": round(usage.ru_maxrss / 1024, 0),
        "audio_s": round(audio, 0),
        "cache_mb": round(sum(p.stat().st_size for p in cache.iterdir()) / 2**20, 1),
    }


async def bot_rss(voice_engine: str, cache: Path) -> dict[str, float]:
    """The bot's RSS a second after it polls, and (with a voice) once its render process
    has ended, with the process's own RSS while it ran."""
    figures: dict[str, float] = {}
    with tempfile.TemporaryDirectory(prefix="yogabot-voice-") as folder:
        env = {"VOICE_ENGINE": voice_engine, "VOICE_CACHE_DIR": str(cache)}
        async with (
            Recorder() as emulator,
            bot_process(emulator, "yogabot", Path(folder), env) as pid,
        ):
            figures["bot_rss_mb"] = round(rss_mb(pid), 1)
            children = _renderers(pid)
            if children:
                figures["renderer_rss_mb"] = round(rss_mb(children[0]), 1)
            for _ in range(round(RENDER_TIMEOUT_S / 0.5)):
                if not _renderers(pid):
                    break
                await asyncio.sleep(0.5)
            if voice_engine != "off":
                await asyncio.sleep(1.0)
                figures["bot_rss_after_mb"] = round(rss_mb(pid), 1)
    return figures


def _renderers(pid: int) -> list[int]:
    found = []
    for task in Path(f"/proc/{pid}/task").iterdir():
        try:
            children = (task / "children").read_text().split()
        except FileNotFoundError:
            continue
        for child in children:
            try:
                if RENDERER.encode() in Path(f"/proc/{child}/cmdline").read_bytes():
                    found.append(int(child))
            except FileNotFoundError:
                continue
    return found


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--engine", choices=["piper", "espeak-ng"], action="append")
    args = parser.parse_args()
    engines = args.engine or ["piper", "espeak-ng"]
    results: dict[str, object] = {"commit": commit(), "cores": os.cpu_count()}
    for engine in engines:
        with tempfile.TemporaryDirectory(prefix="yogabot-voice-cache-") as folder:
            cache = Path(folder)
            results[f"render {engine}"] = render(engine, cache)
            print(engine, results[f"render {engine}"], flush=True)
    with tempfile.TemporaryDirectory(prefix="yogabot-voice-cache-") as folder:
        results["bot off"] = asyncio.run(bot_rss("off", Path(folder)))
        print("off", results["bot off"], flush=True)
        engine = engines[0]
        results[f"bot {engine}, empty cache"] = asyncio.run(bot_rss(engine, Path(folder)))
        print(engine, "empty cache", results[f"bot {engine}, empty cache"], flush=True)
        results[f"bot {engine}, full cache"] = asyncio.run(bot_rss(engine, Path(folder)))
        print(engine, "full cache", results[f"bot {engine}, full cache"], flush=True)
    print(json.dumps(results, indent=1))


if __name__ == "__main__":
    main()
