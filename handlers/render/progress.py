"""The /progress message: totals, streaks, recent practices, and the chart's caption."""

from __future__ import annotations

from html import escape

from bot.progress import Progress, RecentPractice
from handlers.render import Reply, html, plain
from handlers.render.common import STATUS_WORDS, start_keyboard

NO_PRACTICE_YET = (
    "No practice yet, so nothing to show. Your first class is one tap away; "
    "your progress will gather here."
)
CHART_CAPTION = "Minutes per week, and your back before and after practice."


def _days(n: int) -> str:
    return f"{n} day" if n == 1 else f"{n} days"


def _practice_line(p: RecentPractice) -> str:
    day = f"{p.day:%a} {p.day.day} {p.day:%b}"
    gentle = " · gentle" if p.gentle else ""
    return f"• {day} · {escape(p.class_title)}{gentle} · {p.minutes} min · {STATUS_WORDS[p.status]}"


def _score(value: float | None) -> str:
    return "–" if value is None else f"{value:.1f}"


def no_practice_yet() -> Reply:
    return plain(NO_PRACTICE_YET, start_keyboard())


def progress(p: Progress) -> Reply:
    lines = [
        "<b>Your practice so far</b>",
        "",
        f"Practices finished: {p.finished}",
        f"Minutes practised: {p.total_minutes}",
        f"Current streak: {_days(p.current_streak)} · longest: {_days(p.longest_streak)}",
        "",
        "<b>Last sessions</b>",
        *(_practice_line(r) for r in p.recent),
    ]
    if p.easier_most:
        lines += ["", "<b>Where you chose the easier option</b>"]
        lines += [
            f"• {escape(pose)}: {times} time{'' if times == 1 else 's'}"
            for pose, times in p.easier_most
        ]
    if p.back_before is not None or p.back_after is not None:
        lines += [
            "",
            f"Back, on average (0–10): {_score(p.back_before)} before · "
            f"{_score(p.back_after)} after",
        ]
    return html("\n".join(lines))
