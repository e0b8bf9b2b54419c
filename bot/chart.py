"""The /progress chart: minutes per week as bars, weekly back scores as lines, PNG bytes.

CPU-bound (tens of milliseconds); callers run it in a worker thread. It builds a bare
`Figure` rather than going through pyplot, whose global figure registry is not safe to
share between threads.
"""

from __future__ import annotations

import io
import math
from collections.abc import Sequence

import matplotlib

matplotlib.use("Agg")

from matplotlib.figure import Figure

from bot.progress import Week

BAR = "#8fb996"
BEFORE = "#c07a5a"
AFTER = "#4f6d8f"


def _or_nan(value: float | None) -> float:
    return math.nan if value is None else value


def weekly_chart(weeks: Sequence[Week]) -> bytes:
    figure = Figure(figsize=(8, 4.5), dpi=100, layout="constrained")
    minutes_axis = figure.add_subplot()
    positions = list(range(len(weeks)))
    labels = [f"{w.start.day} {w.start:%b}" for w in weeks]
    minutes_axis.bar(positions, [w.minutes for w in weeks], color=BAR, label="Minutes")
    minutes_axis.set_xticks(positions, labels)
    minutes_axis.set_ylabel("Minutes per week")
    minutes_axis.set_xlabel("Week starting")
    minutes_axis.set_ylim(bottom=0)
    minutes_axis.spines[["top"]].set_visible(False)

    # Weeks without a check-in are gaps (NaN), not zeros: zero would read as "no pain".
    back_axis = minutes_axis.twinx()
    for label, color, values in (
        ("Back before", BEFORE, [_or_nan(w.back_before) for w in weeks]),
        ("Back after", AFTER, [_or_nan(w.back_after) for w in weeks]),
    ):
        back_axis.plot(positions, values, marker="o", color=color, label=label)
    back_axis.set_ylim(0, 10)
    back_axis.set_ylabel("Back score (0-10)")
    back_axis.spines[["top"]].set_visible(False)

    handles = minutes_axis.get_legend_handles_labels()[0]
    handles += back_axis.get_legend_handles_labels()[0]
    figure.legend(handles=handles, loc="outside lower center", ncols=3, frameon=False)
    figure.suptitle("Your last 8 weeks")

    buffer = io.BytesIO()
    figure.savefig(buffer, format="png")
    return buffer.getvalue()
