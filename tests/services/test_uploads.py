"""A pose picture is uploaded once per bot: many sends of it at once, in one worker or in
two sharing the database, upload it once and go by its id after; and each way an upload
can go wrong has its behaviour (bot/uploads.py). Telegram is a fake here; time moves only
when the test moves it."""

from __future__ import annotations

import asyncio
import heapq
import itertools
from collections import Counter
from collections.abc import Awaitable, Callable
from datetime import timedelta
from pathlib import Path

import pytest

from bot.clock import ManualClock
from bot.database import create_engine
from bot.store import Store
from bot.uploads import HOLD_SECONDS, POLL_SECONDS, FileIdRefused, Picture, UploadService
from tests.harness.factories import tiny_png

SENDS = 20


class VirtualTime:
    """The services' clock and their pauses: a pause ends only when the test moves the
    clock past it."""

    def __init__(self, clock: ManualClock) -> None:
        self.clock = clock
        self._sleepers: list[tuple[float, int, asyncio.Future[None]]] = []
        self._numbers = itertools.count()

    @property
    def paused(self) -> int:
        return sum(1 for _, _, woken in self._sleepers if not woken.done())

    async def pause(self, seconds: float) -> None:
        woken = asyncio.get_running_loop().create_future()
        heapq.heappush(
            self._sleepers, (self.clock().timestamp() + seconds, next(self._numbers), woken)
        )
        await woken

    def advance(self, seconds: float) -> None:
        now = self.clock.advance(seconds).timestamp()
        while self._sleepers and self._sleepers[0][0] <= now:
            _, _, woken = heapq.heappop(self._sleepers)
            if not woken.done():
                woken.set_result(None)


class FakeTelegram:
    """Sends by id and uploads, counted; an upload waits at `gate` (open unless closed)."""

    def __init__(self) -> None:
        self.uploads = 0
        self.by_id: Counter[str] = Counter()
        self.refused: set[str] = set()
        self.gate = asyncio.Event()
        self.gate.set()
        self.failing = 0  # the next uploads that fail (network trouble)
        # Each upload's "it left for Telegram", for the test to call.
        self.handed: list[Callable[[], None]] = []

    async def send_by_id(self, file_id: str) -> str:
        if file_id in self.refused:
            raise FileIdRefused
        self.by_id[file_id] += 1
        return f"by {file_id}"

    async def upload(self, data: bytes, handed_over: Callable[[], None]) -> tuple[str, str]:
        assert data.startswith(b"\x89PNG")
        self.uploads += 1
        number = self.uploads
        self.handed.append(handed_over)
        await self.gate.wait()
        if self.failing:
            self.failing -= 1
            raise ConnectionError("the network is down")
        return f"uploaded #{number}", f"id-{number}"


@pytest.fixture
def picture(tmp_path: Path) -> Picture:
    path = tmp_path / "pose.png"
    path.write_bytes(tiny_png(30, 20))
    return Picture(key="pose-abc", path=path)


@pytest.fixture
def time(clock: ManualClock) -> VirtualTime:
    return VirtualTime(clock)


@pytest.fixture
def telegram() -> FakeTelegram:
    return FakeTelegram()


def worker(store: Store, time: VirtualTime, name: str) -> UploadService:
    return UploadService(store, time.clock, pause=time.pause, worker=name)


def sends(
    uploads: UploadService, picture: Picture, telegram: FakeTelegram, count: int = SENDS
) -> list[asyncio.Task[str]]:
    return [
        asyncio.create_task(uploads.send(picture, telegram.send_by_id, telegram.upload))
        for _ in range(count)
    ]


async def until(condition: Callable[[], bool | Awaitable[bool]], what: str) -> None:
    """Until `condition` holds, within a few seconds of the loop's time."""
    async with asyncio.timeout(5):
        while True:
            held = condition()
            if not isinstance(held, bool):
                held = await held
            if held:
                return
            await asyncio.sleep(0.005)
    raise AssertionError(what)


async def is_stored(store: Store, picture: Picture) -> bool:
    return await stored_id(store, picture) is not None


async def stored_id(store: Store, picture: Picture) -> str | None:
    async with store.peek() as uow:
        return await uow.uploads.file_id(picture.key)


async def test_many_first_sends_in_one_worker_upload_the_picture_once(
    store: Store, time: VirtualTime, telegram: FakeTelegram, picture: Picture
) -> None:
    telegram.gate.clear()
    tasks = sends(worker(store, time, "w1"), picture, telegram)
    # Every send but the uploader waits for it (and the uploader keeps its claim).
    await until(lambda: telegram.uploads == 1 and time.paused == SENDS, "all waiting")
    telegram.gate.set()
    results = await asyncio.gather(*tasks)
    assert telegram.uploads == 1
    assert sorted(results) == ["by id-1"] * (SENDS - 1) + ["uploaded #1"]
    assert await stored_id(store, picture) == "id-1"


async def test_first_sends_racing_in_two_workers_upload_the_picture_once(
    store: Store, time: VirtualTime, telegram: FakeTelegram, picture: Picture
) -> None:
    telegram.gate.clear()
    one, two = worker(store, time, "w1"), worker(store, time, "w2")
    tasks = [*sends(one, picture, telegram), *sends(two, picture, telegram)]
    # One upload; the other worker reads the claim and waits for its id.
    await until(lambda: telegram.uploads == 1 and time.paused == 2 * SENDS, "all waiting")
    telegram.gate.set()
    await until(lambda: is_stored(store, picture), "the id stored")
    time.advance(POLL_SECONDS)  # the other worker's next look
    results = await asyncio.gather(*tasks)
    assert telegram.uploads == 1
    assert results.count("by id-1") == 2 * SENDS - 1


async def test_a_failed_upload_is_its_own_sends_and_one_waiter_takes_over_at_once(
    store: Store, time: VirtualTime, telegram: FakeTelegram, picture: Picture
) -> None:
    telegram.gate.clear()
    telegram.failing = 1
    tasks = sends(worker(store, time, "w1"), picture, telegram)
    await until(lambda: telegram.uploads == 1 and time.paused == SENDS, "all waiting")
    telegram.gate.set()  # the upload fails; no time passes
    results = await asyncio.gather(*tasks, return_exceptions=True)
    assert telegram.uploads == 2
    assert [r for r in results if isinstance(r, Exception)] == [results[0]]
    assert isinstance(results[0], ConnectionError)
    assert sorted(map(str, results[1:])) == ["by id-2"] * (SENDS - 2) + ["uploaded #2"]


async def test_another_worker_takes_over_a_failed_upload_at_its_next_look(
    store: Store, time: VirtualTime, telegram: FakeTelegram, picture: Picture
) -> None:
    telegram.gate.clear()
    telegram.failing = 1
    one, two = worker(store, time, "w1"), worker(store, time, "w2")
    first = sends(one, picture, telegram, 1)
    await until(lambda: telegram.uploads == 1, "the upload begun")
    later = sends(two, picture, telegram, 3)
    await until(lambda: time.paused == 4, "the other worker waiting")
    telegram.gate.set()
    with pytest.raises(ConnectionError):
        await first[0]
    # The claim was released: no need to wait for it to lapse.
    time.advance(POLL_SECONDS)
    assert sorted(await asyncio.gather(*later)) == ["by id-2", "by id-2", "uploaded #2"]
    assert telegram.uploads == 2


async def test_an_upload_unanswered_for_the_hold_is_taken_over_but_a_queued_one_is_not(
    store: Store, time: VirtualTime, telegram: FakeTelegram, picture: Picture
) -> None:
    """Waiting for its turn at Telegram's limit holds nobody up more than their own turn
    would; once handed over, an upload that goes unanswered holds a cue HOLD_SECONDS."""
    telegram.gate.clear()
    uploads = worker(store, time, "w1")
    [first] = sends(uploads, picture, telegram, 1)
    await until(lambda: telegram.uploads == 1, "the upload begun")
    [second] = sends(uploads, picture, telegram, 1)
    for _ in range(int(60 / POLL_SECONDS)):  # a minute queued: still one upload
        time.advance(POLL_SECONDS)
        await asyncio.sleep(0)
    assert telegram.uploads == 1 and not second.done()
    telegram.handed[0]()  # it leaves for Telegram now (as the limiter tells it)
    time.advance(HOLD_SECONDS - POLL_SECONDS)
    for _ in range(10):
        await asyncio.sleep(0)
    assert telegram.uploads == 1
    time.advance(POLL_SECONDS)
    await until(lambda: telegram.uploads == 2, "a takeover")
    telegram.gate.set()
    assert await first == "uploaded #1"
    assert await second == "uploaded #2"


async def test_a_worker_that_died_mid_upload_holds_the_picture_until_its_claim_lapses(
    store: Store, time: VirtualTime, telegram: FakeTelegram, picture: Picture
) -> None:
    now = time.clock()
    async with store.write() as uow:  # what a worker killed mid-upload leaves behind
        claim = await uow.uploads.claim(
            picture.key, "dead:1", now, now + timedelta(seconds=HOLD_SECONDS)
        )
    assert claim.won
    tasks = sends(worker(store, time, "w2"), picture, telegram, 3)
    await until(lambda: time.paused == 3, "waiting for the dead worker")
    time.advance(HOLD_SECONDS - POLL_SECONDS)
    await until(lambda: time.paused == 3, "still waiting")
    assert telegram.uploads == 0
    time.advance(POLL_SECONDS)
    assert sorted(await asyncio.gather(*tasks)) == ["by id-1", "by id-1", "uploaded #1"]


async def test_with_the_database_down_the_picture_is_still_sent_and_uploaded_once_here(
    time: VirtualTime, telegram: FakeTelegram, picture: Picture
) -> None:
    # Nothing listens on port 1 of this machine.
    engine = create_engine("postgresql+asyncpg://yogabot:not-shown@127.0.0.1:1/yogabot")
    try:
        uploads = worker(Store(engine), time, "w1")
        results = await asyncio.gather(*sends(uploads, picture, telegram))
    finally:
        await engine.dispose()
    assert telegram.uploads == 1
    assert sorted(results) == ["by id-1"] * (SENDS - 1) + ["uploaded #1"]


async def test_a_refused_file_id_is_forgotten_and_the_picture_uploaded_again_once(
    store: Store, time: VirtualTime, telegram: FakeTelegram, picture: Picture
) -> None:
    async with store.write() as uow:
        await uow.uploads.remember(picture.key, "id-old", time.clock())
    telegram.refused.add("id-old")
    one, two = worker(store, time, "w1"), worker(store, time, "w2")
    first = sends(one, picture, telegram)
    second = sends(two, picture, telegram)
    for _ in range(20):  # the other worker's looks while the first uploads
        if all(task.done() for task in first + second):
            break
        time.advance(POLL_SECONDS)
        await asyncio.sleep(0.01)

    async def new_id_stored() -> bool:
        return await stored_id(store, picture) == "id-1"

    # On a busy machine the upload can outlast those looks, and a send still waiting for
    # its next look would wait for ever: once the new id is stored, the looks go on (in
    # virtual time) until every send has found it.
    await until(new_id_stored, "the new id stored")
    async with asyncio.timeout(10):
        while not all(task.done() for task in first + second):
            time.advance(POLL_SECONDS)
            await asyncio.sleep(0.01)
    results = await asyncio.gather(*first, *second)
    assert telegram.uploads == 1
    assert results.count("by id-1") == 2 * SENDS - 1
    assert await stored_id(store, picture) == "id-1"
