"""The picture each step shows: its figure (sequences/figures.yaml), mirrored for the other
side of a pose, rendered once into the picture cache (bot.pictures) and found by step.

Rendering takes a moment per figure, so `prepare` draws every picture a catalog needs
before the bot takes updates (off the event loop); a cue then only looks its picture up.
"""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path

from bot.pictures import picture_path
from bot.uploads import Picture
from sequences import Step, YogaClass
from sequences.figures import Figure


class FigurePictures:
    def __init__(self, figures: dict[str, Figure], cache_dir: Path) -> None:
        self._figures = figures
        self._cache_dir = cache_dir
        self._known: dict[tuple[str, bool], Picture] = {}

    def prepare(self, classes: Iterable[YogaClass]) -> None:
        """Draw every step's picture now (blocking: run it in a thread)."""
        for yoga_class in classes:
            for step in yoga_class.steps:
                self._picture(step)

    def for_step(self, step: Step) -> Picture | None:
        return self._picture(step)

    def _picture(self, step: Step) -> Picture | None:
        if step.figure is None or step.figure not in self._figures:
            return None
        key = (step.figure, step.mirrored)
        known = self._known.get(key)
        if known is None:
            path = picture_path(self._figures[step.figure], step.mirrored, self._cache_dir)
            known = self._known[key] = Picture(key=path.stem, path=path)
        return known
