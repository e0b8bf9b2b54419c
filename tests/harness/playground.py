"""The whole playground in-process on free ports, for the playground's tests."""

from __future__ import annotations

import asyncio
import contextlib
import json
from collections.abc import AsyncIterator, Callable
from pathlib import Path
from typing import Any

import aiohttp

from bot.clock import Clock, utc_now
from bot.settings import load_settings
from bot.uploads import Picture, PictureSource
from playground import Playground, playground
from sequences import Step, YogaClass
from tests.harness.factories import make_class, tiny_png

TINY = make_class()


class StepPictures:
    """A small PNG for each step of TINY, each different, written once to `folder`; with
    `easier_too`, another one for each step's easier version (else it shows the same)."""

    def __init__(self, folder: Path, *, easier_too: bool = False) -> None:
        self._folder = folder
        self._easier_too = easier_too

    def for_step(self, step: Step, *, easier: bool = False) -> Picture | None:
        number = int(step.id.rsplit("-", 1)[1])
        name = step.id
        if easier and self._easier_too:
            number, name = number + 10, f"{step.id}-easier"
        path = self._folder / f"{name}.png"
        if not path.exists():
            path.write_bytes(tiny_png(20 + number, 16))
        return Picture(key=name, path=path)


# The back check-in (another feature) may come before cue 1; the page answers it with Skip.
CHECK_IN_QUESTION = "does your back feel"
SCREEN_QUESTION = "do any of these apply to you"


@contextlib.asynccontextmanager
async def running_playground(
    database_url: str,
    pictures: PictureSource | None = None,
    catalog: dict[str, YogaClass] | None = None,
    clock: Clock = utc_now,
) -> AsyncIterator[Playground]:
    # One-minute holds at TIME_SCALE=1: no cue advances by itself during a test.
    settings = load_settings(database_url=database_url, time_scale=1.0)
    async with playground(
        settings,
        port=0,
        clock=clock,
        catalog=catalog or {TINY.id: TINY},
        pictures=pictures,
        poll_timeout=1,
    ) as pg:
        yield pg


class EventStream:
    """Reads the page's server-sent events as the browser would."""

    def __init__(self, response: aiohttp.ClientResponse) -> None:
        self.response = response
        self.seen: list[dict[str, Any]] = []

    async def next(
        self,
        predicate: Callable[[dict[str, Any]], bool],
        timeout: float = 5.0,  # noqa: ASYNC109
    ) -> dict[str, Any]:
        async with asyncio.timeout(timeout):
            async for raw in self.response.content:
                line = raw.decode().rstrip("\n")
                if not line.startswith("data: "):
                    continue
                event: dict[str, Any] = json.loads(line.removeprefix("data: "))
                self.seen.append(event)
                if predicate(event):
                    return event
        raise AssertionError(f"the stream ended; events seen: {self.seen}")


def bot_message_with(text: str) -> Callable[[dict[str, Any]], bool]:
    """A message or edit event of a bot message whose words (a photo's are its caption)
    hold `text`."""

    def match(event: dict[str, Any]) -> bool:
        message = event.get("message") or {}
        words = message.get("caption_html") or message.get("html") or ""
        return event["type"] == "message" and message["from_bot"] and text in words

    return match


def button_data(message: dict[str, Any], label: str) -> str:
    data: str = next(b["data"] for row in message["keyboard"] for b in row if b["text"] == label)
    return data
