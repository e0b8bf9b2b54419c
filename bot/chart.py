"""The /progress chart, sized for a phone: minutes per week as bars on top, the weekly back
scores before and after practice as lines below, sharing the weeks; PNG bytes.

Telegram shows a photo at the chat bubble's width: on a 390-pixel-wide phone the bubble is
about 320 CSS pixels, so every size here is chosen for that width: the picture is WIDTH
pixels wide, so a font SMALL pixels tall here is SMALL × 320 / WIDTH pixels in the bubble.
The picture stays under Telegram's 1280-pixel side, so it is not scaled down again on the
way.

Drawn with Pillow (already loaded for the pose pictures) rather than a plotting library:
matplotlib kept some 38 MB resident for good after the first /progress. The text is
Pillow's own scalable font (`ImageFont.load_default(size=...)`, Aileron), so the picture
is the same on every machine, with no system fonts needed. Everything is drawn at
SUPERSAMPLE times the size and scaled down with a fixed filter, which smooths the lines and
markers; the PNG carries no metadata, so the same weeks always give the same bytes.

With no practice in the eight weeks the panels are still drawn (the weeks, the score
scale, the legend), each saying so in its middle: NO_MINUTES and NO_SCORES.

CPU-bound (about a fifth of a second); callers run it in a worker thread. Nothing is shared
between calls: each draws on its own image with its own fonts.
"""

from __future__ import annotations

import io
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date
from itertools import pairwise

from PIL import Image, ImageDraw, ImageFont

from bot.progress import Week

# The photo's width in a chat bubble on a 390-pixel-wide phone.
PHONE_WIDTH_PX = 320
WIDTH = 960  # three pixels to each of the bubble's: sharp on a dense screen
HEIGHT = 1200  # taller than wide: it fills the bubble without scrolling past it
SUPERSAMPLE = 2
# Font sizes in pixels of the picture: 40 px is 13.3 px in the bubble (16 px if the photo
# spans a 390-pixel screen); nothing is drawn smaller.
SMALL = 40
TITLE = 46
STROKE = 0.5  # pixels of ink round each letter

# The bot's greens (the playground's palette), a warm sand for "before" so the two lines
# differ in more than shade, and ink and muted grey for text and guides.
ACCENT = "#3f7a57"
BAR = "#6aa57f"
GENTLE_BAR = "#d7f0c8"
BEFORE = "#b0804f"
AFTER = ACCENT
INK = "#1f2a24"
MUTED = "#6b7a71"
GUIDE = "#e3e9e1"
BACKGROUND = "#ffffff"

NO_MINUTES = "No practice in these 8 weeks"
NO_SCORES = "No back scores in these 8 weeks"
MINUTES_TITLE = "Minutes per week"
# Aileron has no en dash; "to" reads as well.
BACK_TITLE = "Back score (0 to 10, lower is better)"
GENTLE = "gentle"
BEFORE_LABEL = "before practice"
AFTER_LABEL = "after practice"

# The layout, in pixels of the picture. The plot area spans the same weeks in both panels;
# the left margin holds the score scale (0, 5, 10).
MARGIN = 24
PLOT_LEFT = 84
PLOT_RIGHT = WIDTH - MARGIN
MINUTES_TITLE_TOP = 22
MINUTES_TOP = 100  # the top of the highest bar's headroom
MINUTES_FLOOR = 520
BACK_TITLE_TOP = 556
BACK_TOP = 652  # a score of 10
BACK_FLOOR = 1000  # a score of 0
WEEK_LABELS_TOP = 1026
LEGEND_MIDDLE = 1140

BAR_WIDTH = 0.7  # of a week's slot
HATCH_SPACING = 34  # pixels between the stripes of a bar's gentle minutes
HATCH_WIDTH = 3
OUTLINE_WIDTH = 3  # the edge of a bar's gentle minutes
AXIS_WIDTH = 3
GUIDE_WIDTH = 2
LINE_WIDTH = 7
MARKER = 22  # a marker's width
RING = 4  # the background's ring round a marker
# Before sits this far left of its week's middle and after as far right, so markers of
# equal or close scores stand side by side instead of one hiding the other.
MARKER_OFFSET = MARKER / 2 + RING
BAR_LABEL_GAP = 10  # between a bar's top and its number


@dataclass(frozen=True)
class Label:
    """A piece of text as drawn: its box in pixels of the picture and its font size."""

    text: str
    box: tuple[int, int, int, int]
    size: int


@dataclass
class Drawing:
    image: Image.Image
    labels: list[Label] = field(default_factory=list)


def _week_label(start: date) -> str:
    return f"{start.day} {start:%b}"


def week_x(position: int, weeks: int) -> float:
    """The middle of a week's slot, in pixels of the picture; the last week is this one."""
    slot = (PLOT_RIGHT - PLOT_LEFT) / weeks
    return PLOT_LEFT + slot * (position + 0.5)


def minutes_top(weeks: Sequence[Week]) -> float:
    """The minutes at the top of the panel: head room for the numbers on the bars, and an
    empty chart still has a floor to stand on."""
    return max(max((w.minutes for w in weeks), default=0), 10) * 1.2


def minutes_y(minutes: float, top: float) -> float:
    return MINUTES_FLOOR - (MINUTES_FLOOR - MINUTES_TOP) * minutes / top


BEFORE_SIDE, AFTER_SIDE = -1, 1


def score_x(position: int, weeks: int, side: int) -> float:
    """Where a week's before (side -1) or after (side 1) score stands: either side of the
    week's middle."""
    return week_x(position, weeks) + side * MARKER_OFFSET


def score_y(score: float) -> float:
    return BACK_FLOOR - (BACK_FLOOR - BACK_TOP) * score / 10


class _Canvas:
    """Draws in pixels of the picture onto an image SUPERSAMPLE times as large."""

    def __init__(self) -> None:
        self.image = Image.new("RGB", (WIDTH * SUPERSAMPLE, HEIGHT * SUPERSAMPLE), BACKGROUND)
        self.draw = ImageDraw.Draw(self.image)
        self.fonts: dict[int, ImageFont.FreeTypeFont] = {}
        self.labels: list[Label] = []

    def font(self, size: int) -> ImageFont.FreeTypeFont:
        if size not in self.fonts:
            font = ImageFont.load_default(size=size * SUPERSAMPLE)
            # Pillow falls back to a tiny bitmap font without FreeType; never on a phone.
            assert isinstance(font, ImageFont.FreeTypeFont), "Pillow has no FreeType"
            self.fonts[size] = font
        return self.fonts[size]

    def text(self, xy: tuple[float, float], text: str, size: int, anchor: str) -> Label:
        x, y = xy
        font = self.font(size)
        at = (x * SUPERSAMPLE, y * SUPERSAMPLE)
        # Aileron is a light face; a thin stroke of the same ink makes it read as a
        # regular weight from arm's length.
        stroke = STROKE * SUPERSAMPLE
        self.draw.text(
            at, text, fill=INK, font=font, anchor=anchor, stroke_width=stroke, stroke_fill=INK
        )
        left, top, right, bottom = self.draw.textbbox(
            at, text, font=font, anchor=anchor, stroke_width=stroke
        )
        label = Label(
            text,
            (
                int(left // SUPERSAMPLE),
                int(top // SUPERSAMPLE),
                -int(-right // SUPERSAMPLE),
                -int(-bottom // SUPERSAMPLE),
            ),
            size,
        )
        self.labels.append(label)
        return label

    def text_width(self, text: str, size: int) -> float:
        return self.draw.textlength(text, font=self.font(size)) / SUPERSAMPLE

    def line(self, points: Sequence[tuple[float, float]], color: str, width: float) -> None:
        scaled = [(x * SUPERSAMPLE, y * SUPERSAMPLE) for x, y in points]
        self.draw.line(scaled, fill=color, width=round(width * SUPERSAMPLE), joint="curve")

    def rectangle(
        self, box: tuple[float, float, float, float], fill: str, outline: str | None = None
    ) -> None:
        left, top, right, bottom = (round(v * SUPERSAMPLE) for v in box)
        if right <= left or bottom <= top:
            return  # a few seconds of practice: thinner than a pixel, nothing to draw
        self.draw.rectangle(
            (left, top, right - 1, bottom - 1),
            fill=fill,
            outline=outline,
            width=SUPERSAMPLE if outline else 0,
        )

    def hatched(self, box: tuple[float, float, float, float]) -> None:
        """Gentle minutes: pale, outlined, with stripes rising to the right."""
        left, top, right, bottom = (round(v * SUPERSAMPLE) for v in box)
        width, height = right - left, bottom - top
        if width <= 0 or height <= 0:
            return
        tile = Image.new("RGB", (width, height), GENTLE_BAR)
        pen = ImageDraw.Draw(tile)
        spacing = HATCH_SPACING * SUPERSAMPLE
        # Stripes on the picture's own diagonals (x + y a multiple of the spacing), so the
        # stripes of every bar, whatever its height, line up across the chart.
        first = -height - (left + top + height) % spacing
        for start in range(first, width + height, spacing):
            pen.line(
                ((start, height), (start + height, 0)),
                fill=ACCENT,
                width=HATCH_WIDTH * SUPERSAMPLE,
            )
        pen.rectangle(
            (0, 0, width - 1, height - 1), outline=ACCENT, width=OUTLINE_WIDTH * SUPERSAMPLE
        )
        self.image.paste(tile, (left, top))

    def marker(self, xy: tuple[float, float], shape: str, color: str) -> None:
        """A score's marker, ringed in the background colour: where the other line's
        marker or line comes close, the two stay apart rather than merge."""
        for size, fill in ((MARKER + 2 * RING, BACKGROUND), (MARKER, color)):
            self._shape(xy, shape, size, fill)

    def _shape(self, xy: tuple[float, float], shape: str, size: float, fill: str) -> None:
        x, y = xy
        half = size / 2 * SUPERSAMPLE
        box = (x * SUPERSAMPLE - half, y * SUPERSAMPLE - half)
        box_end = (x * SUPERSAMPLE + half, y * SUPERSAMPLE + half)
        if shape == "circle":
            self.draw.ellipse((box, box_end), fill=fill)
        else:
            # A square reads a touch larger than a circle of the same width; matplotlib's
            # own markers are sized the same way.
            inset = half * 0.1
            self.draw.rectangle(
                (box[0] + inset, box[1] + inset, box_end[0] - inset, box_end[1] - inset),
                fill=fill,
            )

    def finished(self) -> Image.Image:
        return self.image.resize((WIDTH, HEIGHT), Image.Resampling.LANCZOS)


def draw(weeks: Sequence[Week]) -> Drawing:
    canvas = _Canvas()
    _minutes_panel(canvas, weeks)
    _back_panel(canvas, weeks)
    _week_labels(canvas, weeks)
    _back_legend(canvas)
    return Drawing(canvas.finished(), canvas.labels)


def _minutes_panel(canvas: _Canvas, weeks: Sequence[Week]) -> None:
    canvas.text((MARGIN, MINUTES_TITLE_TOP), MINUTES_TITLE, TITLE, anchor="lt")
    if any(w.gentle_minutes > 0 for w in weeks):
        _gentle_legend(canvas)
    top = minutes_top(weeks)
    slot = (PLOT_RIGHT - PLOT_LEFT) / max(len(weeks), 1)
    for n, week in enumerate(weeks):
        if week.minutes <= 0:
            continue
        middle = week_x(n, len(weeks))
        left, right = middle - slot * BAR_WIDTH / 2, middle + slot * BAR_WIDTH / 2
        y = minutes_y(week.minutes, top)
        # The week's usual minutes stand on the floor, its gentle minutes hatched on top:
        # the hatching is as tall as the gentle practice was long, not the whole week.
        usual_top = minutes_y(week.minutes - week.gentle_minutes, top)
        canvas.rectangle((left, usual_top, right, MINUTES_FLOOR), fill=BAR)
        if week.gentle_minutes > 0:
            canvas.hatched((left, y, right, usual_top))
        # The number on each bar says what a y-axis would, without the eye going across.
        if week.minutes >= 0.5:
            canvas.text((middle, y - BAR_LABEL_GAP), f"{round(week.minutes)}", SMALL, "ms")
    if not any(w.minutes >= 0.5 for w in weeks):
        middle = (MINUTES_TOP + MINUTES_FLOOR) / 2
        canvas.text(((PLOT_LEFT + PLOT_RIGHT) / 2, middle), NO_MINUTES, SMALL, "mm")
    canvas.line(((PLOT_LEFT, MINUTES_FLOOR), (PLOT_RIGHT, MINUTES_FLOOR)), MUTED, AXIS_WIDTH)


def _gentle_legend(canvas: _Canvas) -> None:
    """A hatched swatch and the word, at the title's right."""
    width = canvas.text_width(GENTLE, SMALL)
    swatch = SMALL * 0.9
    text_left = PLOT_RIGHT - width
    middle = MINUTES_TITLE_TOP + TITLE * 0.55
    canvas.hatched(
        (text_left - 12 - swatch, middle - swatch / 2, text_left - 12, middle + swatch / 2)
    )
    canvas.text((text_left, middle), GENTLE, SMALL, anchor="lm")


def _back_panel(canvas: _Canvas, weeks: Sequence[Week]) -> None:
    canvas.text((MARGIN, BACK_TITLE_TOP), BACK_TITLE, TITLE, anchor="lt")
    for score in (0, 5, 10):
        y = score_y(score)
        if score:
            canvas.line(((PLOT_LEFT, y), (PLOT_RIGHT, y)), GUIDE, GUIDE_WIDTH)
        canvas.text((PLOT_LEFT - 14, y), str(score), SMALL, anchor="rm")
    canvas.line(((PLOT_LEFT, BACK_FLOOR), (PLOT_RIGHT, BACK_FLOOR)), MUTED, AXIS_WIDTH)
    lines = [
        [None if v is None else (score_x(n, len(weeks), side), score_y(v)) for n, v in values]
        for values, side in (
            (enumerate(w.back_before for w in weeks), BEFORE_SIDE),
            (enumerate(w.back_after for w in weeks), AFTER_SIDE),
        )
    ]
    series = list(zip(lines, (BEFORE, AFTER), ("circle", "square"), strict=True))
    # Both lines first, then every marker over them, so no line crosses out a marker.
    for points, color, _ in series:
        # Weeks without a check-in are gaps, not zeros: zero would read as "no pain".
        for a, b in pairwise(points):
            if a is not None and b is not None:
                canvas.line((a, b), color, LINE_WIDTH)
    for points, color, shape in series:
        for point in points:
            if point is not None:
                canvas.marker(point, shape, color)
    if all(w.back_before is None and w.back_after is None for w in weeks):
        canvas.text(((PLOT_LEFT + PLOT_RIGHT) / 2, score_y(7.5)), NO_SCORES, SMALL, "mm")


def _week_labels(canvas: _Canvas, weeks: Sequence[Week]) -> None:
    # Every other week is named, ending at this week: eight dates in 390 px would touch.
    for n, week in enumerate(weeks):
        if (len(weeks) - 1 - n) % 2 == 0:
            x = week_x(n, len(weeks))
            label = _week_label(week.start)
            # The last date ends at the plot's edge rather than running off the picture.
            half = canvas.text_width(label, SMALL) / 2
            x = min(x, WIDTH - MARGIN / 2 - half)
            canvas.text((x, WEEK_LABELS_TOP), label, SMALL, anchor="mt")


def _back_legend(canvas: _Canvas) -> None:
    """Both lines' swatches under the weeks, centred: a short line with its marker."""
    swatch, gap, between = 64, 12, 48
    items = [(BEFORE_LABEL, BEFORE, "circle"), (AFTER_LABEL, AFTER, "square")]
    widths = [swatch + gap + canvas.text_width(text, SMALL) for text, _, _ in items]
    x = (WIDTH - sum(widths) - between * (len(items) - 1)) / 2
    for (text, color, shape), width in zip(items, widths, strict=True):
        canvas.line(((x, LEGEND_MIDDLE), (x + swatch, LEGEND_MIDDLE)), color, LINE_WIDTH)
        canvas.marker((x + swatch / 2, LEGEND_MIDDLE), shape, color)
        canvas.text((x + swatch + gap, LEGEND_MIDDLE), text, SMALL, anchor="lm")
        x += width + between


def weekly_chart(weeks: Sequence[Week]) -> bytes:
    buffer = io.BytesIO()
    # No metadata and a fixed compression: the same weeks, the same bytes.
    draw(weeks).image.save(buffer, format="PNG", optimize=False, compress_level=6)
    return buffer.getvalue()
