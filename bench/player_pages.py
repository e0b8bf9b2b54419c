"""N player pages at once, each behaving as player/static/player.js does: the load for
bench/player.py, run as its own process so that the bot's worker and this one are two
processes (on two cores, they share them: what this process spends is reported too).

A page, once its first View shows a practice (player.js's `schedule`):

* POSTs `beat` at once and then every BEAT_S (10 s) while a practice shows;
* POSTs `state` every POLL_S (30 s), skipped while a `state` is already on its way;
* counts the hold down from `left` as the View arrived, and when it reaches 0 POSTs
  `state` (the server moves on at its deadline); while the answer still shows the same
  step, running, with nothing left, it asks again after AT_ZERO_RETRY_S (0.5 s), or after
  AT_ZERO_SLOW_S (2 s) once it has asked 20 times;
* taps now and then: one `act` (`more_time` or `next`, drawn) about every ACT_EVERY_S
  (120 s; the first at a random moment of the first interval), on the step it shows;
* fetches the pose's picture (`GET media/<key>`) the first time a View shows it (the
  browser keeps it after: it is served as immutable).

A View from any answer (a 409 carries the View of now) replaces the page's; a View that is
not a practice (the class ended: its summary) stops the page's timers, as player.js does.

Every page starts with `state` (the first one at its moment of the ramp, the pages spread
evenly over RAMP); how its class was begun (seeded in the database, or over the API with
`begin`) is bench/player.py's business. Recorded from the window's start to its end (wall
clock, given by bench/player.py): every call's latency (from just before the request to
its body read), by call type, and its status; errors are anything but 200, 204 and 409
(a 409 is a stale press answered with the View of now: counted apart), including
connection errors and timeouts. Also this process's CPU over the window.

    python bench/player_pages.py <config.json> <results.json>   # as bench/player.py runs it
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import json
import random
import sys
import time
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import aiohttp

from playground.emulator.init_data import sign_init_data

BEAT_S = 10.0
POLL_S = 30.0
AT_ZERO_RETRY_S = 0.5
AT_ZERO_SLOW_S = 2.0
AT_ZERO_FAST_ASKS = 20
ACT_EVERY_S = 120.0
ACTIONS = ("more_time", "next")
REQUEST_TIMEOUT_S = 30.0
# Idle keep-alive connections the generator keeps to the worker, at most; as many more are
# opened as requests are in flight at once (as a reverse proxy in front of the worker would
# open them), up to MAX_CONNECTIONS.
MAX_CONNECTIONS = 2_000


@dataclass
class Config:
    url: str  # WEBAPP_URL, ending in /
    token: str
    users: list[int]
    ramp_start: float  # wall clock: the first page's first state
    ramp_s: float
    window_start: float
    window_end: float
    act_every_s: float = ACT_EVERY_S
    seed: int = 1


@dataclass
class Record:
    """What the window saw, and what was seen outside it (statuses only)."""

    window: tuple[float, float]
    latencies: dict[str, list[float]] = field(default_factory=dict)
    statuses: Counter[str] = field(default_factory=Counter)
    outside: Counter[str] = field(default_factory=Counter)
    failures: Counter[str] = field(default_factory=Counter)
    screens: Counter[str] = field(default_factory=Counter)
    # Why each `state` in the window was asked: a poll, the countdown's end, again after it.
    state_asked: Counter[str] = field(default_factory=Counter)

    def add(self, kind: str, began: float, seconds: float, status: str) -> None:
        if self.window[0] <= began < self.window[1]:
            self.latencies.setdefault(kind, []).append(seconds)
            self.statuses[f"{kind} {status}"] += 1
        else:
            self.outside[f"{kind} {status}"] += 1


class Page:
    """One open player: its View, its timers, its calls."""

    def __init__(self, pages: Pages, user_id: int, init_data: str, draw: random.Random) -> None:
        self.pages, self.user_id, self.init_data, self.draw = pages, user_id, init_data, draw
        self.view: dict[str, Any] | None = None
        self.received = 0.0  # loop time the View arrived
        self.polling = False
        self.at_zero = False
        self.zero: asyncio.TimerHandle | None = None
        self.tasks: list[asyncio.Task[None]] = []
        self.pictures: set[str] = set()
        self.stopped = False

    # -- what player.js does -----------------------------------------------------------------

    async def open(self) -> None:
        await self.refresh("open")

    def show(self, view: dict[str, Any]) -> None:
        self.view, self.received = view, self.pages.loop.time()
        screen = view.get("screen", "?")
        practice = screen == "practice"
        if practice and not self.tasks:
            self.tasks = [
                self.pages.spawn(self.beating()),
                self.pages.spawn(self.polling_loop()),
                self.pages.spawn(self.tapping()),
            ]
        if not practice:
            self.pages.record.screens[screen] += 1
            self.stop()
            return
        picture = view.get("picture")
        if picture and picture not in self.pictures:
            self.pictures.add(picture)
            self.pages.spawn(self.fetch(picture))
        if self.zero is not None:
            self.zero.cancel()
            self.zero = None
        if self.running():
            self.zero = self.pages.loop.call_later(max(0.0, float(view["left"])), self._at_zero)

    def running(self) -> bool:
        view = self.view or {}
        return (
            view.get("screen") == "practice"
            and view.get("status") == "active"
            and not view.get("question")
        )

    def left_now(self) -> float:
        view = self.view or {}
        left = float(view.get("left") or 0.0)
        if not self.running():
            return left
        return max(0.0, left - (self.pages.loop.time() - self.received))

    def _at_zero(self) -> None:
        self.zero = None
        if not self.at_zero and not self.stopped:
            self.pages.spawn(self.ask_at_zero())

    async def ask_at_zero(self) -> None:
        view = self.view or {}
        practice, step = view.get("practice"), view.get("step")
        self.at_zero = True
        try:
            asked = 0
            while not self.stopped:
                await self.refresh("at_zero" if asked == 0 else "at_zero_again")
                now = self.view or {}
                if (
                    now.get("screen") != "practice"
                    or now.get("practice") != practice
                    or now.get("step") != step
                    or not self.running()
                    or self.left_now() > 0
                ):
                    return
                await asyncio.sleep(
                    AT_ZERO_RETRY_S if asked < AT_ZERO_FAST_ASKS else AT_ZERO_SLOW_S
                )
                asked += 1
        finally:
            self.at_zero = False

    async def refresh(self, why: str) -> None:
        if self.polling or self.stopped:
            return
        window = self.pages.record.window
        if window[0] <= time.time() < window[1]:
            self.pages.record.state_asked[why] += 1
        self.polling = True
        try:
            view = await self.call("state", {})
            if view is not None and not self.stopped:
                self.show(view)
        finally:
            self.polling = False

    async def beating(self) -> None:
        while not self.stopped:
            view = self.view or {}
            if view.get("screen") == "practice":
                await self.call("beat", {"practice": view["practice"]})
            await asyncio.sleep(BEAT_S)

    async def polling_loop(self) -> None:
        while not self.stopped:
            await asyncio.sleep(POLL_S)
            await self.refresh("poll")

    async def tapping(self) -> None:
        every = self.pages.config.act_every_s
        await asyncio.sleep(self.draw.uniform(0, every))
        while not self.stopped:
            view = self.view or {}
            if self.running():
                fields = {
                    "practice": view["practice"],
                    "step": view["step"],
                    "action": self.draw.choice(ACTIONS),
                }
                answered = await self.call("act", fields)
                if answered is not None and not self.stopped:
                    self.show(answered)
            await asyncio.sleep(every * self.draw.uniform(0.8, 1.2))

    async def fetch(self, picture: str) -> None:
        await self.pages.get("media", self.pages.config.url + picture)

    def stop(self) -> None:
        self.stopped = True
        if self.zero is not None:
            self.zero.cancel()
        for task in self.tasks:
            if task is not asyncio.current_task():
                task.cancel()

    # -- the wire ----------------------------------------------------------------------------

    async def call(self, name: str, fields: dict[str, Any]) -> dict[str, Any] | None:
        """POST api/<name>; the View it answered (a 409's too), or None."""
        body = json.dumps({"init_data": self.init_data, **fields})
        status, payload = await self.pages.post(name, body)
        if payload is None:
            return None
        if status == 200 and "screen" in payload:
            return payload
        view = payload.get("view")
        if status == 409 and isinstance(view, dict):
            return view
        return None


class Pages:
    def __init__(self, config: Config) -> None:
        self.config = config
        self.record = Record((config.window_start, config.window_end))
        self.loop = asyncio.get_running_loop()
        self._background: set[asyncio.Task[Any]] = set()
        connector = aiohttp.TCPConnector(limit=MAX_CONNECTIONS, force_close=False)
        self.http = aiohttp.ClientSession(
            connector=connector,
            timeout=aiohttp.ClientTimeout(total=REQUEST_TIMEOUT_S),
            headers={"Content-Type": "application/json"},
        )

    def spawn(self, coroutine: Any) -> asyncio.Task[Any]:
        task = asyncio.create_task(coroutine)
        self._background.add(task)
        task.add_done_callback(self._background.discard)
        return task

    async def post(self, name: str, body: str) -> tuple[int, dict[str, Any] | None]:
        began_wall, began = time.time(), time.perf_counter()
        try:
            async with self.http.post(self.config.url + "api/" + name, data=body) as response:
                raw = await response.read()
                status = response.status
        except (aiohttp.ClientError, TimeoutError) as exc:
            self.record.add(name, began_wall, time.perf_counter() - began, "failed")
            self.record.failures[type(exc).__name__] += 1
            return 0, None
        self.record.add(name, began_wall, time.perf_counter() - began, str(status))
        if not raw:
            return status, None
        try:
            payload = json.loads(raw)
        except ValueError:
            return status, None
        return status, payload if isinstance(payload, dict) else None

    async def get(self, name: str, url: str) -> None:
        began_wall, began = time.time(), time.perf_counter()
        try:
            async with self.http.get(url) as response:
                await response.read()
                status = str(response.status)
        except (aiohttp.ClientError, TimeoutError) as exc:
            status = "failed"
            self.record.failures[type(exc).__name__] += 1
        self.record.add(name, began_wall, time.perf_counter() - began, status)

    def _open(self, page: Page) -> None:
        self.spawn(page.open())

    async def run(self, *, until_done: bool = False) -> dict[str, Any]:
        """The pages, from the ramp to the window's end; `until_done`: or until every page
        has left its practice (its class ended), whichever comes first."""
        config = self.config
        draw = random.Random(config.seed)
        pages = [
            Page(self, user, init_data(config.token, user), random.Random(draw.random()))
            for user in config.users
        ]
        every = config.ramp_s / max(1, len(pages))
        opening = [
            self.loop.call_at(
                self.loop.time() + max(0.0, config.ramp_start - time.time()) + n * every,
                functools.partial(self._open, page),
            )
            for n, page in enumerate(pages)
        ]
        await _sleep_until(config.window_start)
        cpu_before = time.process_time()
        if until_done:
            # Every page's class ended (its summary shows), or the window is over.
            for _ in range(int(max(0.0, config.window_end - time.time()) / 0.1)):
                if all(page.stopped for page in pages):
                    break
                await asyncio.sleep(0.1)
        else:
            await _sleep_until(config.window_end)
        cpu = time.process_time() - cpu_before
        for handle in opening:
            handle.cancel()
        for page in pages:
            page.stop()
        for task in list(self._background):
            task.cancel()
        with contextlib.suppress(Exception):
            await asyncio.gather(*self._background, return_exceptions=True)
        await self.http.close()
        record = self.record
        return {
            "pages": len(pages),
            "window_s": config.window_end - config.window_start,
            "cpu_s": cpu,
            "latencies": record.latencies,
            "statuses": dict(record.statuses),
            "outside_window": dict(record.outside),
            "failures": dict(record.failures),
            "pages_off_the_practice": dict(record.screens),
            "state_asked": dict(record.state_asked),
        }


def init_data(token: str, user_id: int) -> str:
    """The page's initData, as Telegram signs it for the bot (the emulator's signer)."""
    return sign_init_data(token, {"id": user_id, "first_name": "Bench"})


async def _sleep_until(wall: float) -> None:
    await asyncio.sleep(max(0.0, wall - time.time()))


async def main(config: Config) -> dict[str, Any]:
    return await Pages(config).run()


if __name__ == "__main__":
    config = Config(**json.loads(Path(sys.argv[1]).read_text()))
    Path(sys.argv[2]).write_text(json.dumps(asyncio.run(main(config))))
