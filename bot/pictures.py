"""A flat pictogram of a pose, drawn from its figure (sequences/figures.yaml); PNG bytes.

Every pose is drawn by the same hand: one skeleton, one scale, the bot's greens and the
same line weights, so a class reads as one family of pictures. The near limbs are dark,
the far ones lighter behind the body; props are pale boxes on the mat.

Deterministic: the picture is drawn at twice its size and scaled down with a fixed filter,
and the PNG carries no metadata, so the same figure always gives the same bytes. The other
side of a two-sided pose is the exact mirror image.
"""

from __future__ import annotations

import hashlib
import io
import json
import math
import os
from collections.abc import Callable, Sequence
from pathlib import Path

from PIL import Image, ImageDraw, ImageOps

from sequences.figures import (
    MAT_HALF_LENGTH,
    MAT_HALF_WIDTH,
    Capsule,
    Figure,
    FigureProp,
)

# Bump when the drawing changes, so cached pictures are redrawn.
RENDER_VERSION = 1

WIDTH = 640
HEIGHT = 400
SUPERSAMPLE = 2
# Pixels per figure unit (about a centimetre), the same for every pose: a standing figure
# and a lying one are the same body.
SCALE = 2.0
# The mat's top edge in side and front views; seen from above the mat is centred.
MAT_Y = 372

BACKGROUND = "#fbf9f3"
ACCENT = "#3f7a57"  # the body and near limbs
BAR = "#6aa57f"  # far limbs, prop outlines, the strap
LIGHT = "#d8eccb"  # the mat and props
PROP_OUTLINE = 3.0  # pixels
MAT_THICKNESS = 7.0
ARROW_WIDTH = 4.0


def to_pixels(figure: Figure, point: tuple[float, float]) -> tuple[float, float]:
    """Where a point in figure units lands in the (unmirrored) picture."""
    x, y = point
    if figure.view == "above":
        return WIDTH / 2 + x * SCALE, HEIGHT / 2 - y * SCALE
    return WIDTH / 2 + x * SCALE, MAT_Y - y * SCALE


def layout(figure: Figure) -> dict[str, tuple[float, float]]:
    """Every joint of the figure in picture pixels, unmirrored."""
    return {name: to_pixels(figure, point) for name, point in figure.points().items()}


def render(figure: Figure, *, mirrored: bool = False) -> bytes:
    """The pose as a WIDTH × HEIGHT PNG; ``mirrored`` draws the other side."""
    image = _draw(figure)
    if mirrored:
        image = ImageOps.mirror(image)
    return _png(image)


def picture_path(figure: Figure, mirrored: bool, cache_dir: Path) -> Path:
    """The pose's PNG in ``cache_dir``, drawn the first time it is asked for."""
    path = cache_dir / f"{_cache_key(figure, mirrored)}.png"
    if not path.exists():
        cache_dir.mkdir(parents=True, exist_ok=True)
        # Written aside and renamed, so a reader never sees half a picture.
        partial = path.with_suffix(f".{os.getpid()}.part")
        partial.write_bytes(render(figure, mirrored=mirrored))
        partial.replace(path)
    return path


def contact_sheet(figures: Sequence[Figure], *, columns: int = 5, cell_width: int = 256) -> bytes:
    """Every figure, small, in a grid: a PNG for the README."""
    cell_height = round(cell_width * HEIGHT / WIDTH)
    rows = math.ceil(len(figures) / columns)
    sheet = Image.new("RGB", (columns * cell_width, rows * cell_height), BACKGROUND)
    for n, figure in enumerate(figures):
        cell = _draw(figure).resize((cell_width, cell_height), Image.Resampling.LANCZOS)
        sheet.paste(cell, ((n % columns) * cell_width, (n // columns) * cell_height))
    return _png(sheet)


def _cache_key(figure: Figure, mirrored: bool) -> str:
    canonical = json.dumps(figure.model_dump(mode="json"), sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(f"{canonical}|{mirrored}|{RENDER_VERSION}".encode()).hexdigest()


def _png(image: Image.Image) -> bytes:
    buffer = io.BytesIO()
    # No text chunks and fixed compression: the bytes depend on the pixels alone.
    image.save(buffer, format="PNG", optimize=False, compress_level=9)
    return buffer.getvalue()


def _draw(figure: Figure) -> Image.Image:
    big = Image.new("RGB", (WIDTH * SUPERSAMPLE, HEIGHT * SUPERSAMPLE), BACKGROUND)
    canvas = ImageDraw.Draw(big)

    def px(point: tuple[float, float]) -> tuple[float, float]:
        x, y = to_pixels(figure, point)
        return x * SUPERSAMPLE, y * SUPERSAMPLE

    _mat(canvas, figure)
    for prop in figure.props:
        _prop(canvas, figure, prop)
    for capsule in figure.capsules():
        _capsule(canvas, capsule, px)
    if figure.turn is not None:
        _turn_arrow(canvas, figure, px)
    return big.resize((WIDTH, HEIGHT), Image.Resampling.LANCZOS)


def _mat(canvas: ImageDraw.ImageDraw, figure: Figure) -> None:
    s = SUPERSAMPLE
    if figure.view == "above":
        left, top = to_pixels(figure, (-MAT_HALF_WIDTH, MAT_HALF_LENGTH))
        right, bottom = to_pixels(figure, (MAT_HALF_WIDTH, -MAT_HALF_LENGTH))
        canvas.rounded_rectangle((left * s, top * s, right * s, bottom * s), 10 * s, fill=LIGHT)
        return
    margin = 40
    canvas.rounded_rectangle(
        (margin * s, MAT_Y * s, (WIDTH - margin) * s, (MAT_Y + MAT_THICKNESS) * s),
        MAT_THICKNESS / 2 * s,
        fill=LIGHT,
    )


def _prop(canvas: ImageDraw.ImageDraw, figure: Figure, prop: FigureProp) -> None:
    s = SUPERSAMPLE
    if figure.view == "above":
        left, top = to_pixels(figure, (prop.left, prop.y + prop.height / 2))
        right, bottom = to_pixels(figure, (prop.right, prop.y - prop.height / 2))
    else:
        left, top = to_pixels(figure, (prop.left, prop.height))
        right, bottom = to_pixels(figure, (prop.right, 0.0))
    box = (left * s, top * s, right * s, bottom * s)
    if prop.kind == "strap":
        canvas.rounded_rectangle(box, 2 * s, fill=BAR)
        return
    canvas.rounded_rectangle(box, 4 * s, fill=LIGHT, outline=BAR, width=round(PROP_OUTLINE * s))
    if prop.kind == "blanket":
        # The fold: a line along the layer's middle, short of its rounded ends.
        middle = (top + bottom) / 2 * s
        inset = 8 * s
        canvas.line(
            (box[0] + inset, middle, box[2] - inset, middle),
            fill=BAR,
            width=round(PROP_OUTLINE / 1.5 * s),
        )


ToPixels = Callable[[tuple[float, float]], tuple[float, float]]


def _capsule(canvas: ImageDraw.ImageDraw, capsule: Capsule, px: ToPixels) -> None:
    colour = BAR if capsule.side == "far" else ACCENT
    (x0, y0), (x1, y1) = px(capsule.start), px(capsule.end)
    r = capsule.radius * SCALE * SUPERSAMPLE
    if (x0, y0) != (x1, y1):
        canvas.line((x0, y0, x1, y1), fill=colour, width=round(2 * r))
    for x, y in ((x0, y0), (x1, y1)):
        canvas.ellipse((x - r, y - r, x + r, y + r), fill=colour)


def _turn_arrow(canvas: ImageDraw.ImageDraw, figure: Figure, px: ToPixels) -> None:
    """A flat arc round the front of the chest, its head showing the way the chest turns."""
    points = figure.points()
    (hx, hy), (sx, sy) = points["pelvis"], points["chest"]
    cx, cy = px((hx + (sx - hx) * 0.62, hy + (sy - hy) * 0.62))
    s = SUPERSAMPLE
    half_width, half_height = 46 * s, 15 * s
    box = (cx - half_width, cy - half_height, cx + half_width, cy + half_height)
    # Seen from the front the figure's right is on the picture's left; from the side the
    # arc is the chest's front, so a turn to the right comes toward the viewer (left end).
    heads = {"right": ("left",), "left": ("right",), "both": ("left", "right")}[
        figure.turn or "both"
    ]
    for colour, width in ((BACKGROUND, ARROW_WIDTH * 3), (ACCENT, ARROW_WIDTH)):
        canvas.arc(box, 20, 160, fill=colour, width=round(width * s))
        for end in heads:
            _arrow_head(canvas, box, end, colour, width * s)


def _arrow_head(
    canvas: ImageDraw.ImageDraw,
    box: tuple[float, float, float, float],
    end: str,
    colour: str,
    grow: float,
) -> None:
    left, top, right, bottom = box
    cx, cy = (left + right) / 2, (top + bottom) / 2
    a, b = (right - left) / 2, (bottom - top) / 2
    angle = math.radians(160 if end == "left" else 20)
    tip = (cx + a * math.cos(angle), cy + b * math.sin(angle))
    # Pointing up and outward, along the arc where it ends.
    direction = -1 if end == "left" else 1
    size = 9 * SUPERSAMPLE + grow / 2
    canvas.polygon(
        [
            (tip[0] + direction * size * 0.3, tip[1] - size),
            (tip[0] - direction * size * 0.9, tip[1] + size * 0.1),
            (tip[0] + direction * size * 0.6, tip[1] + size * 0.5),
        ],
        fill=colour,
    )
