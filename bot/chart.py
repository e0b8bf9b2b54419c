"""The /progress chart, sized for a phone: minutes per week as bars on top, the weekly back
scores before and after practice as lines below, sharing the weeks; PNG bytes.

Telegram shows a photo at the chat bubble's width: on a 390-pixel-wide phone the bubble is
about 320 CSS pixels, so every size here is chosen for that width: at FIGURE_WIDTH inches,
a font of F points is F × 320 / (72 × FIGURE_WIDTH) pixels tall on the phone, whatever the
DPI. The DPI only sets
how sharp the picture is on a dense screen; it stays under Telegram's 1280-pixel side, so
the photo is not scaled down again on the way.

CPU-bound (about a quarter of a second); callers run it in a worker thread. It builds a bare
`Figure` rather than going through pyplot, whose global figure registry is not safe to
share between threads, and for the same reason sets every font size on the artist itself
instead of in the global rcParams.
"""

from __future__ import annotations

import io
import math
from collections.abc import Sequence
from datetime import date

import matplotlib

matplotlib.use("Agg")

from matplotlib.axes import Axes
from matplotlib.figure import Figure
from matplotlib.patches import Patch
from matplotlib.ticker import FixedLocator

from bot.progress import Week

# The photo's width in a chat bubble on a 390-pixel-wide phone.
PHONE_WIDTH_PX = 320
FIGURE_WIDTH = 4.0  # inches
FIGURE_HEIGHT = 5.0  # taller than wide: it fills the bubble without scrolling past it
DPI = 240  # 960 × 1200 pixels
# 11 pt is 12.2 px in the bubble (14.9 px if the photo spans a 390-pixel screen); nothing is
# drawn smaller.
SMALL = 11.0
TITLE = 13.0

# The bot's greens (the playground's palette), a warm sand for "before" so the two lines
# differ in more than shade, and ink and muted grey for text and guides.
ACCENT = "#3f7a57"
BAR = "#6aa57f"
GENTLE_BAR = "#d7f0c8"
GENTLE_HATCH = "///"
BEFORE = "#b0804f"
AFTER = ACCENT
INK = "#1f2a24"
MUTED = "#6b7a71"
GUIDE = "#e3e9e1"


def _or_nan(value: float | None) -> float:
    return math.nan if value is None else value


def _week_label(start: date) -> str:
    return f"{start.day} {start:%b}"


def _calm(axis: Axes) -> None:
    """No box, light horizontal guides behind the data, muted ticks."""
    axis.spines[["top", "right", "left"]].set_visible(False)
    axis.spines["bottom"].set_color(MUTED)
    axis.set_axisbelow(True)
    axis.grid(axis="y", color=GUIDE, linewidth=1.0)
    axis.tick_params(labelsize=SMALL, colors=MUTED, labelcolor=INK, length=0, pad=4)


def build_figure(weeks: Sequence[Week]) -> Figure:
    figure = Figure(figsize=(FIGURE_WIDTH, FIGURE_HEIGHT), dpi=DPI, facecolor="white")
    figure.set_layout_engine("constrained", h_pad=0.08, w_pad=0.06, hspace=0.06)
    minutes_axis, back_axis = figure.subplots(2, 1, sharex=True)
    positions = list(range(len(weeks)))
    _minutes_panel(minutes_axis, positions, weeks)
    _back_panel(back_axis, positions, weeks)
    # Every other week is named, ending at this week: eight dates in 390 px would touch.
    back_axis.xaxis.set_major_locator(FixedLocator(positions))
    back_axis.set_xticklabels(
        [_week_label(w.start) if (len(weeks) - 1 - n) % 2 == 0 else "" for n, w in enumerate(weeks)]
    )
    back_axis.set_xlim(-0.6, len(weeks) - 0.4)
    return figure


def _minutes_panel(axis: Axes, positions: list[int], weeks: Sequence[Week]) -> None:
    minutes = [w.minutes for w in weeks]
    gentle = [w.gentle > 0 for w in weeks]
    bars = axis.bar(
        positions,
        minutes,
        width=0.7,
        color=[GENTLE_BAR if g else BAR for g in gentle],
        edgecolor=[ACCENT if g else BAR for g in gentle],
        hatch=[GENTLE_HATCH if g else None for g in gentle],
        linewidth=1.0,
    )
    # The number on each bar says what a y-axis would, without the eye going across.
    axis.bar_label(
        bars,
        labels=[f"{round(m)}" if m >= 0.5 else "" for m in minutes],
        padding=3,
        fontsize=SMALL,
        color=INK,
    )
    axis.set_title("Minutes per week", fontsize=TITLE, color=INK, loc="left")
    _calm(axis)
    axis.grid(False)
    axis.tick_params(axis="y", left=False, labelleft=False)
    # Head room for the numbers on the bars; an empty chart still has a floor to stand on.
    axis.set_ylim(0, max(max(minutes, default=0), 10) * 1.2)
    if any(gentle):
        axis.legend(
            handles=[
                Patch(facecolor=GENTLE_BAR, edgecolor=ACCENT, hatch=GENTLE_HATCH, label="gentle")
            ],
            loc="lower right",
            bbox_to_anchor=(1.0, 1.0),
            frameon=False,
            fontsize=SMALL,
            handlelength=1.2,
            handletextpad=0.4,
            borderaxespad=0.2,
            labelcolor=INK,
        )


def _back_panel(axis: Axes, positions: list[int], weeks: Sequence[Week]) -> None:
    # Weeks without a check-in are gaps (NaN), not zeros: zero would read as "no pain".
    for label, color, marker, values in (
        ("before practice", BEFORE, "o", [_or_nan(w.back_before) for w in weeks]),
        ("after practice", AFTER, "s", [_or_nan(w.back_after) for w in weeks]),
    ):
        axis.plot(
            positions,
            values,
            label=label,
            color=color,
            marker=marker,
            markersize=6,
            linewidth=2.2,
            # A score of 0 or 10 sits on the edge of the panel; half a marker would hide it.
            clip_on=False,
        )
    # Room under the title for a score of 10.
    axis.set_title(
        "Back score (0–10, lower is better)", fontsize=TITLE, color=INK, loc="left", pad=14
    )
    _calm(axis)
    axis.set_ylim(0, 10)
    axis.yaxis.set_major_locator(FixedLocator([0, 5, 10]))
    axis.legend(
        loc="upper center",
        bbox_to_anchor=(0.5, -0.14),
        ncols=2,
        frameon=False,
        fontsize=SMALL,
        handlelength=1.8,
        handletextpad=0.4,
        columnspacing=1.2,
        labelcolor=INK,
    )


def weekly_chart(weeks: Sequence[Week]) -> bytes:
    buffer = io.BytesIO()
    # No "Software" entry (matplotlib's version) and no date: the same weeks, the same bytes.
    build_figure(weeks).savefig(buffer, format="png", metadata={"Software": None})
    return buffer.getvalue()
