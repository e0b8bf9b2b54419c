"""The /progress message: totals, streaks, recent practices, the back's trend in words, and
the chart's caption."""

from __future__ import annotations

from html import escape

from bot.progress import AfterPractice, BackChange, MonthOverMonth, Progress, RecentPractice
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


def _points(value: float) -> str:
    rounded = round(value, 1)
    return "1 point" if rounded == 1 else f"{rounded:g} points"


def after_practice_line(a: AfterPractice) -> str:
    if a.change == BackChange.EASIER:
        return f"Your back felt {_points(a.points)} easier after practice, on average. Well done!"
    if a.change == BackChange.MORE_TENDER:
        # Said softly: a rise on the whole is a reason to go gentler, not a reason to worry.
        return (
            "Your back felt a little more tender after practice, on average — "
            "the gentle practice may suit you."
        )
    return "Your back felt about the same after practice, on average."


def month_over_month_line(m: MonthOverMonth) -> str:
    scores = f"{m.earlier:.1f} → {m.recent:.1f}"
    if m.change == BackChange.EASIER:
        return f"Your back before practice is easier than a month ago: {scores}. Lovely progress."
    if m.change == BackChange.MORE_TENDER:
        return (
            f"Your back before practice is a little more tender than a month ago: {scores}. "
            "Go gently; if it keeps rising, a doctor or physiotherapist can help."
        )
    return f"Your back before practice is about the same as a month ago: {scores}."


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
    if p.back_before is not None and p.back_after is not None:
        # Both averages are over the same practices, and the line says which.
        both = "1 practice" if p.scored == 1 else f"{p.scored} practices"
        lines += [
            "",
            f"Back, on average (0–10): {p.back_before:.1f} before · {p.back_after:.1f} after "
            f"({both} with both check-ins)",
        ]
    if p.after_practice is not None:
        lines.append(after_practice_line(p.after_practice))
    if p.month_over_month is not None:
        lines.append(month_over_month_line(p.month_over_month))
    return html("\n".join(lines))
