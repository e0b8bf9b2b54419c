"""A flat pictogram of a pose, drawn from its figure (sequences/figures.yaml); PNG bytes.

Every pose is drawn by the same hand: one skeleton, the bot's greens and the same line
weights, so a class reads as one family of pictures. The near limbs are dark, the far ones
lighter behind the body; props are pale boxes on the mat. Each picture is framed on its
pose, as an illustrator would crop it: a low pose is drawn larger and in the middle of
the frame rather than as a strip along its bottom edge (see ``frame``).

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
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from sequences.figures import (
    BROAD_TORSO_RADIUS,
    MAT_HALF_LENGTH,
    MAT_HALF_WIDTH,
    TORSO_END_RADIUS,
    Arrow,
    Capsule,
    Figure,
    FigureProp,
)

# Pillow (some 3 MB resident) is imported where a picture is drawn: a bot whose pictures
# are all in the cache draws none, and loads it only for a /progress chart.
if TYPE_CHECKING:
    from PIL import Image, ImageDraw

# Bump when the drawing changes, so cached pictures are redrawn.
RENDER_VERSION = 5

WIDTH = 640
HEIGHT = 400
SUPERSAMPLE = 2
# Pixels per figure unit (about a centimetre) at most: a lying figure framed on its own is
# drawn larger than a standing one, but never so large that the body looks heavy.
MAX_SCALE = 3.6
# Clear space round the framed pose, in pixels.
MARGIN = 22

BACKGROUND = "#fbf9f3"
ACCENT = "#3f7a57"  # the body and near limbs
FAR = "#6a9e7c"  # far limbs at rest, lighter behind the body
# The limbs that do the work, and the arrows of their movement, whatever their depth: the
# one warm colour in the picture, where the eye goes first.
WORK = "#e07436"
WORK_BEHIND = "#f2b58e"  # the half of a twist's ring behind the body
HAIR = "#2b2420"
SKIN = "#f1c9a5"  # the face, so it stands apart from the hair and the clothes
FACE_FEATURE = "#3a2a22"
LIGHT = "#d8eccb"  # the mat
BLOCK = "#b7a1e0"
BLOCK_EDGE = "#7a5fb5"
BLANKET = "#f1c49c"
BLANKET_EDGE = "#c48652"
STRAP = "#2f62b3"
STRAP_EDGE = "#1d3f78"
SHADOW = (35, 55, 40, 70)
PROP_OUTLINE = 3.0  # pixels
MAT_THICKNESS = 9.0  # pixels
# A folded strap is drawn at least this thick (figure units) and this long, so it shows as
# a band at the chat's 320 px; the body lies over it.
STRAP_DRAWN_THICKNESS = 4.5
STRAP_DRAWN_LENGTH = 26.0
# Room kept under the mat line when framing, in figure units.
MAT_THICKNESS_UNITS = 4.0
ARROW_WIDTH = 5.0
# Room kept for an arrow's head past its end, in figure units.
ARROW_HEAD_UNITS = 4.0
# A thin gap of background round each limb and round the body, so a limb drawn over the
# body (an arm across the chest, a thigh under the folded torso) keeps its outline.
GAP = 3.0  # pixels


ToPixels = Callable[[tuple[float, float]], tuple[float, float]]


@dataclass(frozen=True)
class Frame:
    """How a figure sits in its picture: pixels per unit, and where the figure's origin
    (the mat's top edge below the hip's x, or from above the mat's centre) lands."""

    scale: float
    origin_x: float
    origin_y: float
    # Seen from above, the picture is turned a quarter turn: the head points right, along
    # the landscape picture, so a body lying on the mat reads as lying, not standing.
    turned: bool = False


def frame(figure: Figure) -> Frame:
    """The largest scale (up to MAX_SCALE) at which the pose, its props and the mat under
    it fit the picture, with the pose centred. One scale for the whole picture, so every
    limb keeps its proportions."""
    above = figure.view == "above"
    # From the side the mat line is in the frame; from above, the mat runs on past it.
    xs: list[float] = []
    ys: list[float] = [] if above else [-MAT_THICKNESS_UNITS]
    for capsule in figure.capsules():
        for x, y in (capsule.start, capsule.end):
            xs += [x - capsule.radius, x + capsule.radius]
            ys += [y - capsule.radius if above else y, y + capsule.radius]
    for prop in figure.props:
        xs += [prop.left, prop.right]
        ys += [prop.y - prop.height / 2, prop.y + prop.height / 2] if above else [prop.height]
    # An arrow's head stays in the picture too.
    points = figure.points()
    for arrow in figure.arrows:
        x, y = points[arrow.at]
        reach = arrow.gap + arrow.length + ARROW_HEAD_UNITS
        a = math.radians(arrow.direction)
        xs.append(x + reach * math.cos(a))
        ys.append(y + reach * math.sin(a))
    left, right, bottom, top = min(xs), max(xs), min(ys), max(ys)
    if above:
        # A quarter turn clockwise: (x, y) is drawn at (y, -x).
        left, right, bottom, top = bottom, top, -right, -left
    scale = min(
        MAX_SCALE,
        (WIDTH - 2 * MARGIN) / (right - left),
        (HEIGHT - 2 * MARGIN) / (top - bottom),
    )
    return Frame(
        scale=scale,
        origin_x=WIDTH / 2 - (left + right) / 2 * scale,
        origin_y=HEIGHT / 2 + (top + bottom) / 2 * scale,
        turned=above,
    )


def to_pixels(figure: Figure, point: tuple[float, float]) -> tuple[float, float]:
    """Where a point in figure units lands in the (unmirrored) picture."""
    return _to_pixels(frame(figure), point)


def _to_pixels(at: Frame, point: tuple[float, float]) -> tuple[float, float]:
    x, y = point
    if at.turned:
        x, y = y, -x
    return at.origin_x + x * at.scale, at.origin_y - y * at.scale


def layout(figure: Figure) -> dict[str, tuple[float, float]]:
    """Every joint of the figure in picture pixels, unmirrored."""
    return {name: to_pixels(figure, point) for name, point in figure.points().items()}


def render(figure: Figure, *, mirrored: bool = False) -> bytes:
    """The pose as a WIDTH × HEIGHT PNG; ``mirrored`` draws the other side."""
    from PIL import ImageOps

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


# An audio's cover, as Telegram takes it: a JPEG no larger than 320 × 320 and 200 kB.
COVER_SIZE = 320


def cover(path: Path) -> bytes:
    """The picture at `path` as a square cover for an audio message: the whole drawing,
    scaled to fit and centred on the picture's own background (a player crops to a square,
    which would cut the figure's head or feet off)."""
    from PIL import Image

    with Image.open(path) as picture:
        drawing = picture.convert("RGB")
    drawing.thumbnail((COVER_SIZE, COVER_SIZE), Image.Resampling.LANCZOS)
    square = Image.new("RGB", (COVER_SIZE, COVER_SIZE), BACKGROUND)
    square.paste(drawing, ((COVER_SIZE - drawing.width) // 2, (COVER_SIZE - drawing.height) // 2))
    buffer = io.BytesIO()
    square.save(buffer, format="JPEG", quality=85)
    return buffer.getvalue()


def contact_sheet(
    rows: Sequence[tuple[str, Figure, Figure | None]],
    *,
    pairs_per_line: int = 2,
    cell_width: int = 320,
) -> bytes:
    """Each pose's usual picture beside its easier one, at the chat's width, under the
    pose's name: a PNG for the README and for checking the pictures side by side."""
    from PIL import Image, ImageDraw, ImageFont

    cell_height = round(cell_width * HEIGHT / WIDTH)
    label = 26
    lines = math.ceil(len(rows) / pairs_per_line)
    pair_width = 2 * cell_width + 12
    sheet = Image.new(
        "RGB", (pairs_per_line * pair_width, lines * (cell_height + label)), "#ffffff"
    )
    canvas = ImageDraw.Draw(sheet)
    font = ImageFont.load_default(size=15)
    for n, (name, usual, easier) in enumerate(rows):
        x = (n % pairs_per_line) * pair_width
        y = (n // pairs_per_line) * (cell_height + label)
        canvas.text((x + 6, y + 5), name, fill="#222222", font=font)
        for k, figure in enumerate((usual, easier)):
            if figure is None:
                continue
            cell = _draw(figure).resize((cell_width, cell_height), Image.Resampling.LANCZOS)
            sheet.paste(cell, (x + k * cell_width, y + label))
        if easier is not None:
            canvas.text((x + cell_width + 6, y + label + 4), "easier", fill="#8a4a1c", font=font)
    return _png(sheet)


def _cache_key(figure: Figure, mirrored: bool) -> str:
    canonical = json.dumps(figure.model_dump(mode="json"), sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(f"{canonical}|{mirrored}|{RENDER_VERSION}".encode()).hexdigest()


def _png(image: Image.Image) -> bytes:
    buffer = io.BytesIO()
    # No text chunks and fixed compression: the bytes depend on the pixels alone. Level 6
    # takes a third of level 9's time for 2 % more bytes.
    image.save(buffer, format="PNG", optimize=False, compress_level=6)
    return buffer.getvalue()


def _draw(figure: Figure) -> Image.Image:
    from PIL import Image, ImageDraw

    big = Image.new("RGB", (WIDTH * SUPERSAMPLE, HEIGHT * SUPERSAMPLE), BACKGROUND)
    canvas = ImageDraw.Draw(big)
    at = frame(figure)

    def px(point: tuple[float, float]) -> tuple[float, float]:
        x, y = _to_pixels(at, point)
        return x * SUPERSAMPLE, y * SUPERSAMPLE

    _mat(canvas, figure, px)
    _shadow(big, figure, px, at.scale)
    for prop in figure.props:
        _prop(canvas, figure, prop, px, at.scale)
    if figure.turn is not None:
        _turn_arrow(canvas, figure, px, behind=True)
    # The body on its own transparent layer: a part's gap erases only the parts drawn
    # before it, never the mat or a prop.
    body = Image.new("RGBA", big.size, (0, 0, 0, 0))
    body_canvas = ImageDraw.Draw(body)
    working = {limb.replace(".", " ") for limb in figure.working}
    for part in _parts(_in_drawing_order(figure)):
        colour = _part_colour(part[0], working)
        _part(body_canvas, figure, part, px, at.scale, grow=GAP * SUPERSAMPLE, colour=_CLEAR)
        _part(body_canvas, figure, part, px, at.scale, colour=colour)
    big.paste(body, (0, 0), body)
    if figure.turn is not None:
        _turn_arrow(canvas, figure, px)
    points = figure.points()
    for arrow in figure.arrows:
        _arrow(canvas, arrow, points, px)
    return big.resize((WIDTH, HEIGHT), Image.Resampling.LANCZOS)


def _part_colour(capsule: Capsule, working: set[str]) -> str:
    side, kind = _part_key(capsule)
    if side is None:
        return ACCENT
    if f"{side} {kind}" in working:
        return WORK
    return FAR if side == "far" else ACCENT


def _part(
    canvas: ImageDraw.ImageDraw,
    figure: Figure,
    part: Sequence[Capsule],
    px: ToPixels,
    scale: float,
    *,
    colour: str | tuple[int, int, int, int],
    grow: float = 0.0,
) -> None:
    """One part: a limb's segments, the torso round its curved spine with the neck, or the
    head with its face."""
    key = _part_key(part[0])
    if key == (None, "head"):
        _head(canvas, figure, part[0], px, scale, colour=colour, grow=grow)
        return
    for capsule in part:
        if capsule.name == "torso":
            _torso(canvas, figure, capsule, px, scale, colour=colour, grow=grow)
        else:
            _capsule(canvas, capsule, px, scale, grow=grow, colour=colour)


def _torso(
    canvas: ImageDraw.ImageDraw,
    figure: Figure,
    capsule: Capsule,
    px: ToPixels,
    scale: float,
    *,
    colour: str | tuple[int, int, int, int],
    grow: float,
) -> None:
    outline = [px(point) for point in figure.torso_outline()]
    canvas.polygon(outline, fill=colour, outline=colour, width=max(1, round(2 * grow)))
    radius = (capsule.radius if figure.view != "side" else TORSO_END_RADIUS) * scale
    for end in (capsule.start, capsule.end):
        r = radius * SUPERSAMPLE + grow
        if end == capsule.end and figure.chest_turned:
            r = BROAD_TORSO_RADIUS * scale * SUPERSAMPLE + grow
        x, y = px(end)
        canvas.ellipse((x - r, y - r, x + r, y + r), fill=colour)


def _head(
    canvas: ImageDraw.ImageDraw,
    figure: Figure,
    capsule: Capsule,
    px: ToPixels,
    scale: float,
    *,
    colour: str | tuple[int, int, int, int],
    grow: float,
) -> None:
    """The head with a face: a light face and dark hair over the crown and the back, a nose
    standing out on the side it faces and an eye, so face up, face down and looking ahead
    read at a glance. A chest turned toward the viewer (a twist to the right, seen from
    the right) turns the face to them too: a frontal face with two eyes. From above, a
    head that rests face down shows only its hair."""
    x, y = px(capsule.start)
    r = capsule.radius * scale * SUPERSAMPLE
    gap = colour == _CLEAR
    canvas.ellipse((x - r - grow, y - r - grow, x + r + grow, y + r + grow), fill=colour)
    facing = figure.head - 90  # the face is a quarter turn clockwise from the head's axis
    f = (math.cos(math.radians(facing)), -math.sin(math.radians(facing)))  # in pixels
    up = (math.cos(math.radians(figure.head)), -math.sin(math.radians(figure.head)))
    if figure.view == "above":
        if not gap:
            canvas.ellipse((x - r, y - r, x + r, y + r), fill=HAIR)
        return
    if figure.turn == "right":
        if not gap:
            canvas.ellipse((x - r, y - r, x + r, y + r), fill=SKIN)
            # Hair over the top of the head, the face below it turned to the viewer.
            top = math.degrees(math.atan2(-up[1], up[0]))
            canvas.pieslice((x - r, y - r, x + r, y + r), -(top + 80), -(top - 80), fill=HAIR)
            for side in (-1, 1):
                across = (up[1] * side, -up[0] * side)
                _dot(
                    canvas,
                    (
                        x + across[0] * r * 0.38 - up[0] * r * 0.2,
                        y + across[1] * r * 0.38 - up[1] * r * 0.2,
                    ),
                    r * 0.13,
                    FACE_FEATURE,
                )
        return
    nose_r = r * 0.32
    nose = (x + f[0] * r * 0.95 - up[0] * r * 0.1, y + f[1] * r * 0.95 - up[1] * r * 0.1)
    if gap:
        _dot(canvas, nose, nose_r + grow, colour)
        return
    canvas.ellipse((x - r, y - r, x + r, y + r), fill=SKIN)
    _dot(canvas, nose, nose_r, SKIN)
    # Hair from the hairline above the forehead, over the crown, down to the nape.
    start = facing + 58
    canvas.pieslice((x - r, y - r, x + r, y + r), -(start + 200), -start, fill=HAIR)
    eye = (x + f[0] * r * 0.52 + up[0] * r * 0.16, y + f[1] * r * 0.52 + up[1] * r * 0.16)
    _dot(canvas, eye, r * 0.14, FACE_FEATURE)


def _dot(
    canvas: ImageDraw.ImageDraw,
    centre: tuple[float, float],
    radius: float,
    colour: str | tuple[int, int, int, int],
) -> None:
    x, y = centre
    canvas.ellipse((x - radius, y - radius, x + radius, y + radius), fill=colour)


def _shadow(image: Image.Image, figure: Figure, px: ToPixels, scale: float) -> None:
    """A soft shadow on the mat under what rests on it or hovers just above it.

    Blurred only within the box the shadows fall in (a strip along the mat and the props'
    tops), which is most of the cost of drawing a picture otherwise."""
    if figure.view == "above":
        return
    from PIL import Image, ImageDraw, ImageFilter

    s = SUPERSAMPLE
    samples = [(x, y, 0.0) for x, y in figure.torso_outline()]
    for capsule in figure.capsules():
        if capsule.name != "torso":
            samples += [(x, y, capsule.radius) for x, y in _samples(capsule)]
    ellipses: list[tuple[float, float, float, float]] = []
    for x, y, radius in samples:
        ground = figure.surface_below(x)
        height = y - radius - ground
        if height > 8:
            continue
        cx, cy = px((x, ground))
        rx = (radius + 3) * scale * s
        ry = (2.2 - height * 0.15) * scale * s
        ellipses.append((cx - rx, cy - ry, cx + rx, cy + ry))
    if not ellipses:
        return
    blur = 2.5 * scale * s / 2
    margin = math.ceil(3 * blur)
    left = max(0, math.floor(min(e[0] for e in ellipses)) - margin)
    top = max(0, math.floor(min(e[1] for e in ellipses)) - margin)
    right = min(image.width, math.ceil(max(e[2] for e in ellipses)) + margin)
    bottom = min(image.height, math.ceil(max(e[3] for e in ellipses)) + margin)
    layer = Image.new("RGBA", (right - left, bottom - top), (0, 0, 0, 0))
    canvas = ImageDraw.Draw(layer)
    for x0, y0, x1, y1 in ellipses:
        canvas.ellipse((x0 - left, y0 - top, x1 - left, y1 - top), fill=SHADOW)
    layer = layer.filter(ImageFilter.GaussianBlur(blur))
    image.paste(layer, (left, top), layer)


def _samples(capsule: Capsule, count: int = 8) -> list[tuple[float, float]]:
    (x0, y0), (x1, y1) = capsule.start, capsule.end
    return [(x0 + (x1 - x0) * t / count, y0 + (y1 - y0) * t / count) for t in range(count + 1)]


def _arrow(
    canvas: ImageDraw.ImageDraw,
    arrow: Arrow,
    points: dict[str, tuple[float, float]],
    px: ToPixels,
) -> None:
    """A straight arrow of a movement (a lift, a press, a reach), beside the part it moves."""
    x, y = points[arrow.at]
    a = math.radians(arrow.direction)
    dx, dy = math.cos(a), math.sin(a)
    start = px((x + dx * arrow.gap, y + dy * arrow.gap))
    end = px((x + dx * (arrow.gap + arrow.length), y + dy * (arrow.gap + arrow.length)))
    length = math.dist(start, end)
    heading = ((end[0] - start[0]) / length, (end[1] - start[1]) / length)
    s = SUPERSAMPLE
    for colour, width in ((BACKGROUND, ARROW_WIDTH * 2.6), (WORK, ARROW_WIDTH)):
        shaft_end = (end[0] - heading[0] * 10 * s, end[1] - heading[1] * 10 * s)
        canvas.line((*start, *shaft_end), fill=colour, width=round(width * s))
        _arrow_head(canvas, shaft_end, heading, colour, width * s)


_CLEAR = (0, 0, 0, 0)


def _in_drawing_order(figure: Figure) -> list[Capsule]:
    """The capsules back to front. Seen from the side, a hand that rests on the head is
    laced behind it, so the head comes last: drawn under the near arm, it would vanish."""
    capsules = figure.capsules()
    if figure.view != "side":
        return capsules
    head = next(capsule for capsule in capsules if capsule.name == "head")
    hand = next(c for c in capsules if c.side == "near" and c.name == "hand")
    reach = head.radius + hand.radius
    # A face turned to the viewer is in front of arms lifted beside it.
    turned = figure.turn == "right"
    if not turned and _distance_to_segment(head.start, hand.start, hand.end) > reach:
        return capsules
    return [*(capsule for capsule in capsules if capsule is not head), head]


def _distance_to_segment(
    point: tuple[float, float], start: tuple[float, float], end: tuple[float, float]
) -> float:
    (x, y), (x0, y0), (x1, y1) = point, start, end
    dx, dy = x1 - x0, y1 - y0
    length_squared = dx * dx + dy * dy
    t = 0.0 if not length_squared else ((x - x0) * dx + (y - y0) * dy) / length_squared
    t = min(1.0, max(0.0, t))
    return math.dist(point, (x0 + t * dx, y0 + t * dy))


def _parts(capsules: Sequence[Capsule]) -> list[list[Capsule]]:
    """The capsules grouped into the parts that are outlined as one: each limb, the torso
    with the neck, and the head."""
    parts: list[list[Capsule]] = []
    for capsule in capsules:
        if parts and _part_key(parts[-1][0]) == _part_key(capsule):
            parts[-1].append(capsule)
        else:
            parts.append([capsule])
    return parts


def _part_key(capsule: Capsule) -> tuple[str | None, str]:
    if capsule.side is None:
        return None, "head" if capsule.name == "head" else "body"
    is_arm = capsule.name in ("upper_arm", "lower_arm", "hand")
    return capsule.side, "arm" if is_arm else "leg"


def _mat(canvas: ImageDraw.ImageDraw, figure: Figure, px: ToPixels) -> None:
    s = SUPERSAMPLE
    if figure.view == "above":
        box = _box(px((-MAT_HALF_WIDTH, MAT_HALF_LENGTH)), px((MAT_HALF_WIDTH, -MAT_HALF_LENGTH)))
        canvas.rounded_rectangle(box, 10 * s, fill=LIGHT)
        return
    _, mat_y = px((0.0, 0.0))
    canvas.rounded_rectangle(
        (MARGIN * s, mat_y, (WIDTH - MARGIN) * s, mat_y + MAT_THICKNESS * s),
        MAT_THICKNESS / 2 * s,
        fill=LIGHT,
    )


def _prop(
    canvas: ImageDraw.ImageDraw, figure: Figure, prop: FigureProp, px: ToPixels, scale: float
) -> None:
    s = SUPERSAMPLE
    if figure.view == "above":
        corner = px((prop.left, prop.y + prop.height / 2))
        left, top, right, bottom = _box(corner, px((prop.right, prop.y - prop.height / 2)))
    elif prop.kind == "strap":
        # Drawn fuller than it is, so it shows; the body lies over it.
        half = max(prop.width, STRAP_DRAWN_LENGTH) / 2
        left, top = px((prop.x - half, max(prop.height, STRAP_DRAWN_THICKNESS)))
        right, bottom = px((prop.x + half, 0.0))
    else:
        left, top = px((prop.left, prop.height))
        right, bottom = px((prop.right, 0.0))
    box = (left, top, right, bottom)
    edge = round(PROP_OUTLINE * s)
    if prop.kind == "strap":
        canvas.rounded_rectangle(
            box, (bottom - top) / 2, fill=STRAP, outline=STRAP_EDGE, width=edge
        )
        # Its D-ring, standing out past the end toward the feet: what says "strap".
        height = bottom - top
        ring = (
            left - height * 1.1,
            top - height * 0.35,
            left + height * 0.5,
            bottom + height * 0.35,
        )
        canvas.chord(ring, 90, 270, outline=STRAP_EDGE, width=round(2.2 * s))
        canvas.line(
            (
                ring[0] + (ring[2] - ring[0]) / 2,
                ring[1],
                ring[0] + (ring[2] - ring[0]) / 2,
                ring[3],
            ),
            fill=STRAP_EDGE,
            width=round(2.2 * s),
        )
        return
    if prop.kind == "block":
        canvas.rounded_rectangle(box, 3 * s, fill=BLOCK, outline=BLOCK_EDGE, width=edge)
        # A lighter top face, so it reads as a solid block, not a frame.
        face = min(bottom - top, right - left) * 0.22
        canvas.rectangle((left + edge, top + edge, right - edge, top + edge + face), fill="#d3c5f0")
        return
    canvas.rounded_rectangle(box, 6 * s, fill=BLANKET, outline=BLANKET_EDGE, width=edge)
    # The folds: lines along the layers, short of the rounded ends.
    inset = 8 * s
    for share in (1 / 3, 2 / 3):
        y = top + (bottom - top) * share
        canvas.line(
            (left + inset, y, right - inset, y), fill=BLANKET_EDGE, width=max(1, round(s * 1.5))
        )


def _box(a: tuple[float, float], b: tuple[float, float]) -> tuple[float, float, float, float]:
    """The box with corners `a` and `b`, as (left, top, right, bottom)."""
    return min(a[0], b[0]), min(a[1], b[1]), max(a[0], b[0]), max(a[1], b[1])


def _capsule(
    canvas: ImageDraw.ImageDraw,
    capsule: Capsule,
    px: ToPixels,
    scale: float,
    *,
    grow: float = 0.0,
    colour: str | tuple[int, int, int, int] | None = None,
) -> None:
    if colour is None:
        colour = FAR if capsule.side == "far" else ACCENT
    (x0, y0), (x1, y1) = px(capsule.start), px(capsule.end)
    r = capsule.radius * scale * SUPERSAMPLE + grow
    if (x0, y0) != (x1, y1):
        canvas.line((x0, y0, x1, y1), fill=colour, width=round(2 * r))
    for x, y in ((x0, y0), (x1, y1)):
        canvas.ellipse((x - r, y - r, x + r, y + r), fill=colour)


def _turn_arrow(
    canvas: ImageDraw.ImageDraw, figure: Figure, px: ToPixels, *, behind: bool = False
) -> None:
    """A ring round the chest, square to the spine however the torso leans: its half
    behind the body drawn first and paler (`behind`), its half in front over the body with
    the heads showing the way the chest turns, so it reads as a turn, not a hoop."""
    points = figure.points()
    (hx, hy), (sx, sy) = points["pelvis"], points["chest"]
    centre = px((hx + (sx - hx) * 0.62, hy + (sy - hy) * 0.62))
    (bottom_x, bottom_y), (top_x, top_y) = px((hx, hy)), px((sx, sy))
    spine_length = math.hypot(top_x - bottom_x, top_y - bottom_y)
    up = ((top_x - bottom_x) / spine_length, (top_y - bottom_y) / spine_length)
    # The ring's axes: across the body, and down the spine (toward the viewer's side of
    # a ring seen a little from above).
    across, down = (-up[1], up[0]), (-up[0], -up[1])
    s = SUPERSAMPLE
    # Wide enough to reach well past the chest on both sides, so it reads at thumbnail size.
    half_width, half_height = 62 * s, 26 * s

    def on_ring(degrees: float) -> tuple[float, float]:
        a = math.radians(degrees)
        u, v = half_width * math.cos(a), half_height * math.sin(a)
        return centre[0] + u * across[0] + v * down[0], centre[1] + u * across[1] + v * down[1]

    def travel(degrees: float, sign: float) -> tuple[float, float]:
        # The ring's direction at ``degrees``, moving toward larger angles for sign 1.
        a = math.radians(degrees)
        u, v = -half_width * math.sin(a) * sign, half_height * math.cos(a) * sign
        x, y = u * across[0] + v * down[0], u * across[1] + v * down[1]
        length = math.hypot(x, y)
        return x / length, y / length

    # From the side the ring's near half is the chest's right, so a turn to the right
    # sweeps toward the end at the figure's back (160°); seen from the front, the figure's
    # right is on the picture's left, which is the same end.
    ends = {"right": (160.0,), "left": (20.0,), "both": (160.0, 20.0)}[figure.turn or "both"]
    if behind:
        back = [on_ring(180 + 180 * n / 48) for n in range(49)]
        canvas.line(back, fill=WORK_BEHIND, width=round(ARROW_WIDTH * s), joint="curve")
        return
    arc = [on_ring(20 + 140 * n / 48) for n in range(49)]
    for colour, width in ((BACKGROUND, ARROW_WIDTH * 2.6), (WORK, ARROW_WIDTH)):
        canvas.line(arc, fill=colour, width=round(width * s), joint="curve")
        for end in ends:
            sign = 1.0 if end > 90 else -1.0
            _arrow_head(canvas, on_ring(end), travel(end, sign), colour, width * s)


def _arrow_head(
    canvas: ImageDraw.ImageDraw,
    tip_base: tuple[float, float],
    heading: tuple[float, float],
    colour: str,
    grow: float,
) -> None:
    """A triangle at the arc's end, pointing along ``heading`` (a unit vector)."""
    size = 13 * SUPERSAMPLE + grow / 2
    (x, y), (dx, dy) = tip_base, heading
    nx, ny = -dy, dx
    canvas.polygon(
        [
            (x + dx * size * 1.1, y + dy * size * 1.1),
            (x - dx * size * 0.3 + nx * size * 0.75, y - dy * size * 0.3 + ny * size * 0.75),
            (x - dx * size * 0.3 - nx * size * 0.75, y - dy * size * 0.3 - ny * size * 0.75),
        ],
        fill=colour,
    )
