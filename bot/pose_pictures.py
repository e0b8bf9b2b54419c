"""The picture each step shows: its figure (sequences/figures.yaml), mirrored for the other
side of a pose, rendered once into the picture cache (bot.pictures) and found by step. The
easier version of a step shows its `easier_figure`, when it has one, drawn the same way.

Rendering takes a moment per figure, so `prepare` draws every picture a catalog needs
(both versions of each step) before the bot takes updates (off the event loop); a cue then
only looks its picture up.
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
        """Draw every step's pictures now, usual and easier (blocking: run it in a thread)."""
        for yoga_class in classes:
            for step in yoga_class.steps:
                self.for_step(step)
                self.for_step(step, easier=True)

    def for_step(self, step: Step, *, easier: bool = False) -> Picture | None:
        """The step's picture; `easier`: its easier version's, which is the usual one when
        the step has no easier figure (or one the figures file does not have: a class
        checked with `yogabot sequences check` names it, and the cue still has a picture)."""
        own = self._picture(step.figure, step.mirrored)
        if not easier or own is None:
            return own
        return self._picture(step.easier_figure, step.mirrored) or own

    def _picture(self, figure_id: str | None, mirrored: bool) -> Picture | None:
        if figure_id is None or figure_id not in self._figures:
            return None
        key = (figure_id, mirrored)
        known = self._known.get(key)
        if known is None:
            path = picture_path(self._figures[figure_id], mirrored, self._cache_dir)
            known = self._known[key] = Picture(key=path.stem, path=path)
        return known
