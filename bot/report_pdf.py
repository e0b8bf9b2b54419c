"""The clinician report drawn as one A4 page: a PDF for the physiotherapist, and the same
page as a PNG to glance at in the chat.

What the page shows, top to bottom, for reading in a minute: who and when (name, class,
the day it was made, the zone its days are in); the plan (goal, start, week N of 12, the
stage now, paused or not, how many of the planned practices were done); the stage history
with the reason for each change, beside a chart of back pain before and after every
practice; the poses that hurt and those done in their easier version, with counts; then a
row per practice (date, practice, stage, minutes, back before and after, the next-day
answer, notes). Whatever the data, it is ONE page: what does not fit is cut from the
oldest end, and the page says how much was left out ("31 earlier practices not shown").

The PDF is drawn with reportlab: real text (a PDF viewer can search and copy it, and
`pdftotext` reads it back), in Bitstream Vera, the font reportlab ships, embedded, so the
page looks the same in every viewer with no system fonts. Vera has the Latin letters
(Latin-1 and some more); any other character a user's text brings (a Cyrillic name, an
emoji) is drawn as its unaccented letter when it has one, else as "?", never as an empty
box. `invariant=1` leaves the creation date and the random file id out, so the same report
gives the same bytes.

The PNG is that PDF page rasterised by PDFium (pypdfium2), not a second drawing: the
picture is what the PDF shows. PDFium may not be called from two threads at once, even
for different documents (the pypdfium2 docs: "doing so would crash or corrupt the
process"), so the one lock in this module, PDFIUM, is held while it runs; everything
else is made afresh by each call.

CPU-bound, 0.13 to 0.2 s on the 2-core machine of BENCHMARKS.md; callers run it in a
worker thread. Importing this module loads neither library: the first render does. In a
fresh process with the bot's malloc settings (bot/malloc.py) the first render leaves some
12 MB resident for good, reportlab's and PDFium's code; each later one about 0.3 MB more
at most (20 renders: 12.9 MB in all), and the peak during a render is some 25 MB above
idle, mostly the page's bitmap (905 × 1280 × 4 bytes) and its copies. For comparison,
matplotlib kept some 38 MB resident for the /progress chart (bot/chart.py).
"""

from __future__ import annotations

import io
import threading
import unicodedata
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import TYPE_CHECKING

from bot.programme.report import ClinicianReport, PoseCount, ReportPractice, ReportStageChange

if TYPE_CHECKING:
    from reportlab.pdfgen.canvas import Canvas


@dataclass(frozen=True)
class ReportFiles:
    pdf: bytes
    png: bytes  # the PDF's page, PNG_WIDTH × PNG_HEIGHT pixels


# A4 portrait in PDF points (1/72 inch).
PAGE_WIDTH = 210 / 25.4 * 72
PAGE_HEIGHT = 297 / 25.4 * 72
MARGIN = 28.0  # about 10 mm: inside what any printer prints
CONTENT_WIDTH = PAGE_WIDTH - 2 * MARGIN

# The PNG fits Telegram's photo size, 1280 pixels on the longer side: a larger picture is
# scaled down to that on the way anyway, by Telegram's resampling rather than by PDFium's
# drawing of the text at its own size, which is sharper. 1280 pixels high is 905 wide: the
# table's 7.5-point text is 11 pixels tall, readable when the photo is opened and zoomed;
# the PDF is the copy to read in full. (Half a pixel less, as PDFium rounds the size up.)
PNG_HEIGHT = 1280
PNG_SCALE = (PNG_HEIGHT - 0.5) / PAGE_HEIGHT
PNG_WIDTH = round(PAGE_WIDTH * PNG_SCALE)

REGULAR = "yogabot-vera"
BOLD = "yogabot-vera-bold"
FONT_FILES = {REGULAR: "Vera.ttf", BOLD: "VeraBd.ttf"}

# Type sizes in points; each line is LEADING times its size apart.
TITLE_SIZE = 15.0
HEADING_SIZE = 9.5
TEXT_SIZE = 8.5
SMALL_SIZE = 7.5
TINY_SIZE = 6.5
LEADING = 1.25

# Ink: near-black text, a muted grey for labels and reasons, light guides. The chart's
# two lines differ in more than colour (dashed with open circles before, solid with filled
# squares after), so they stay apart printed in grey.
INK = "#1f2a24"
MUTED = "#5f6b64"
RULE = "#b9c2bc"
GUIDE = "#e3e9e1"
STRIPE = "#f2f5f1"
BEFORE = "#a0703f"
AFTER = "#2f6a47"
ALERT = "#9b2c1f"

DASH = "\u2013"  # en dash: in Vera, and read as "none" in a table cell
ELLIPSIS = "\u2026"
DOT = "\u00b7"

FOOTER = (
    "Made by yogabot. Not a diagnosis. Back scores are the user's own ratings of their "
    "back pain, 0 (none) to 10 (worst), given just before and just after each practice."
)

# The top of the page: the plan and stage history on the left, the chart on the right.
LEFT_WIDTH = 258.0
GUTTER = 14.0
CHART_LEFT = MARGIN + LEFT_WIDTH + GUTTER
CHART_WIDTH = PAGE_WIDTH - MARGIN - CHART_LEFT
CHART_HEIGHT = 150.0
LABEL_WIDTH = 44.0  # "Goal", "Started", ... in front of the plan's facts
# Poses: two lists side by side under the plan, POSE_ROWS each at most.
POSE_ROWS = 5

# The stage history below both, a line a change: the day, the stage, why.
STAGE_DATE_WIDTH = 54.0
STAGE_NAME_WIDTH = 245.0
# The most recent changes shown however full the table; any earlier are counted, unless
# the table leaves room for them.
STAGE_CHANGES_SHOWN = 8

# The practice table: (heading, width in points, alignment); Notes takes the rest.
COLUMNS: tuple[tuple[str, float, str], ...] = (
    ("Date", 54.0, "left"),
    ("Practice", 98.0, "left"),
    ("Stage", 40.0, "left"),
    ("Min", 22.0, "right"),
    ("Before", 36.0, "centre"),
    ("After", 30.0, "centre"),
    ("Next day", 46.0, "left"),
)
NOTES_WIDTH = CONTENT_WIDTH - sum(width for _, width, _ in COLUMNS)
CELL_PAD = 2.5
ROW_LINE = SMALL_SIZE * 1.3  # one line of a row
ROW_PAD = 1.25  # above and below a row's text
NOTE_LINES = 2  # a row's notes wrap onto at most two lines
POSE_NAME_WIDTH = 110.0  # a pose named in a row's notes, at most

PDFIUM = threading.Lock()
_FONTS = threading.Lock()


def render(report: ClinicianReport) -> ReportFiles:
    """The report as a one-page PDF and that page as a PNG. CPU-bound: run it in a thread."""
    pdf = draw_pdf(report)
    return ReportFiles(pdf=pdf, png=rasterise(pdf))


def draw_pdf(report: ClinicianReport) -> bytes:
    from reportlab.pdfgen.canvas import Canvas

    glyphs = _font_glyphs()
    out = io.BytesIO()
    canvas = Canvas(out, pagesize=(PAGE_WIDTH, PAGE_HEIGHT), invariant=1, pageCompression=1)
    page = _Page(canvas, glyphs)
    canvas.setTitle(page.safe(f"Yoga practice report: {report.name}"))
    canvas.setAuthor("yogabot")
    canvas.setCreator("yogabot")
    canvas.setSubject("Practices and back pain scores, for a clinician")
    _draw(page, report)
    canvas.showPage()
    canvas.save()
    return out.getvalue()


def rasterise(pdf: bytes) -> bytes:
    """The PDF's first page as a PNG, PNG_WIDTH × PNG_HEIGHT, white behind."""
    import pypdfium2

    with PDFIUM:
        document = pypdfium2.PdfDocument(pdf)
        try:
            page = document[0]
            try:
                bitmap = page.render(scale=PNG_SCALE, fill_color=(255, 255, 255, 255))
                try:
                    # A copy, so nothing of PDFium's is touched once the lock is let go.
                    image = bitmap.to_pil().convert("RGB")
                finally:
                    bitmap.close()
            finally:
                page.close()
        finally:
            document.close()
    out = io.BytesIO()
    image.save(out, "PNG")
    return out.getvalue()


def _font_glyphs() -> frozenset[int]:
    """Register the page's fonts with reportlab, once per process (its registry is
    global), and say which characters they draw."""
    import reportlab
    from reportlab.pdfbase import pdfmetrics
    from reportlab.pdfbase.ttfonts import TTFont

    with _FONTS:
        registered = set(pdfmetrics.getRegisteredFontNames())
        folder = Path(reportlab.__file__).parent / "fonts"
        for name, file in FONT_FILES.items():
            if name not in registered:
                pdfmetrics.registerFont(TTFont(name, str(folder / file)))
        regular = pdfmetrics.getFont(REGULAR)
        bold = pdfmetrics.getFont(BOLD)
    assert isinstance(regular, TTFont) and isinstance(bold, TTFont)
    return frozenset(regular.face.charToGlyph) & frozenset(bold.face.charToGlyph)


# -- Words -------------------------------------------------------------------------------


def day_text(day: date) -> str:
    return f"{day.day} {day:%b %Y}"


def short_day(day: date) -> str:
    return f"{day.day} {day:%b}"


def times_text(times: int) -> str:
    return "1 time" if times == 1 else f"{times} times"


def practices_text(count: int) -> str:
    return "1 practice" if count == 1 else f"{count} practices"


def adherence_text(report: ClinicianReport) -> str:
    if report.planned <= 0:
        return f"{report.done} done; none planned yet"
    if report.done > report.planned:
        # More than the plan asked for: a count, not a share over 100 %.
        return f"{report.done} practices done; {report.planned} planned so far"
    percent = round(100 * report.done / report.planned)
    return f"{report.done} of {report.planned} planned practices done, {percent} %"


def stage_label(stage: str | None) -> str:
    """The stage's number for a table cell under "Stage": "2 of 4" of "Stage 2 of 4: Short
    class" (the practice's own column already says what it was)."""
    if not stage:
        return DASH
    number = stage.split(":", 1)[0].strip()
    return number.removeprefix("Stage ").strip() or number


def score_text(score: int | None) -> str:
    return DASH if score is None else str(score)


def left_out_text(count: int, what: str) -> str:
    return f"{count} earlier {what}{'' if count == 1 else 's'} not shown"


# -- Drawing -----------------------------------------------------------------------------


class _Page:
    """One page being drawn; `top` is measured down from the page's top edge."""

    def __init__(self, canvas: Canvas, glyphs: frozenset[int]) -> None:
        from reportlab.pdfbase.pdfmetrics import stringWidth

        self.canvas = canvas
        self.glyphs = glyphs
        self._width = stringWidth

    def safe(self, text: str) -> str:
        """The text in characters the font draws: a missing one as its unaccented letter
        when it has one ("ő" as "o"), else "?"."""
        if all(ord(ch) in self.glyphs for ch in text):
            return text
        out: list[str] = []
        for ch in text:
            if ord(ch) in self.glyphs:
                out.append(ch)
                continue
            base = "".join(
                c
                for c in unicodedata.normalize("NFKD", ch)
                if not unicodedata.combining(c) and ord(c) in self.glyphs
            )
            out.append(base or "?")
        return "".join(out)

    def width(self, text: str, size: float, bold: bool = False) -> float:
        return float(self._width(self.safe(text), BOLD if bold else REGULAR, size))

    def text(
        self,
        x: float,
        top: float,
        text: str,
        size: float,
        *,
        bold: bool = False,
        colour: str = INK,
        align: str = "left",
    ) -> None:
        """One line of text, its baseline at `top` (down from the page's top)."""
        canvas = self.canvas
        canvas.setFillColor(colour)
        canvas.setFont(BOLD if bold else REGULAR, size)
        y = PAGE_HEIGHT - top
        shown = self.safe(text)
        if align == "right":
            canvas.drawRightString(x, y, shown)
        elif align == "centre":
            canvas.drawCentredString(x, y, shown)
        else:
            canvas.drawString(x, y, shown)

    def fit(self, text: str, size: float, width: float, bold: bool = False) -> str:
        """The text cut to `width`, ending in an ellipsis when cut."""
        if self.width(text, size, bold) <= width:
            return text
        low, high = 0, len(text)
        while low < high:  # the longest prefix that fits with the ellipsis
            middle = (low + high + 1) // 2
            if self.width(text[:middle].rstrip() + ELLIPSIS, size, bold) <= width:
                low = middle
            else:
                high = middle - 1
        return text[:low].rstrip() + ELLIPSIS

    def _lines(self, text: str, size: float, width: float, bold: bool) -> tuple[list[str], bool]:
        """The text in lines of at most `width`, broken between words, and whether a word
        longer than a line had to be cut."""
        lines: list[str] = []
        line = ""
        cut = False
        for word in text.split():
            candidate = f"{line} {word}" if line else word
            if self.width(candidate, size, bold) <= width:
                line = candidate
                continue
            if line:
                lines.append(line)
            if self.width(word, size, bold) > width:
                word, cut = self.fit(word, size, width, bold), True
            line = word
        if line:
            lines.append(line)
        return lines, cut

    def wrap(
        self, text: str, size: float, width: float, max_lines: int, bold: bool = False
    ) -> list[str]:
        """The text in at most `max_lines` lines of `width`; the last ends in an ellipsis
        when there was more."""
        lines, _ = self._lines(text, size, width, bold)
        if len(lines) <= max_lines:
            return lines
        kept = lines[:max_lines]
        kept[-1] = self.fit(" ".join(lines[max_lines - 1 :]), size, width, bold)
        return kept

    def fits(self, text: str, size: float, width: float, max_lines: int) -> bool:
        """Whether the text wraps into `max_lines` lines with nothing cut."""
        lines, cut = self._lines(text, size, width, False)
        return not cut and len(lines) <= max_lines

    def rule(
        self, x0: float, x1: float, top: float, colour: str = RULE, width: float = 0.6
    ) -> None:
        canvas = self.canvas
        canvas.setStrokeColor(colour)
        canvas.setLineWidth(width)
        canvas.line(x0, PAGE_HEIGHT - top, x1, PAGE_HEIGHT - top)

    def band(self, x: float, top: float, width: float, height: float, colour: str) -> None:
        canvas = self.canvas
        canvas.setFillColor(colour)
        canvas.rect(x, PAGE_HEIGHT - top - height, width, height, stroke=0, fill=1)


def _draw(page: _Page, report: ClinicianReport) -> None:
    top = _draw_title(page, report)
    left_bottom = _draw_plan(page, report, top)
    left_bottom = _draw_poses(page, report, left_bottom + 6)
    _draw_chart(page, report, top)
    top = max(left_bottom, top + CHART_HEIGHT) + 6
    footer_top = PAGE_HEIGHT - MARGIN - 2 * TINY_SIZE * LEADING
    # The stage history takes the room the practice table leaves over, beyond its own.
    spare = _spare_lines(page, report, footer_top - 4 - top)
    top = _draw_stage_history(page, report, top, STAGE_CHANGES_SHOWN + spare)
    _draw_practices(page, report, top + 6, footer_top - 4)
    _draw_footer(page, report, footer_top)


def _draw_title(page: _Page, report: ClinicianReport) -> float:
    top = MARGIN + TITLE_SIZE
    title = page.fit(f"Yoga practice report: {report.name}", TITLE_SIZE, CONTENT_WIDTH, True)
    page.text(MARGIN, top, title, TITLE_SIZE, bold=True)
    top += TEXT_SIZE * LEADING + 4
    line = (
        f"Class: {report.class_title}   {DOT}   Made on {day_text(report.made_on)}   {DOT}   "
        f"Days are in the user's zone, {report.zone}"
    )
    page.text(MARGIN, top, page.fit(line, TEXT_SIZE, CONTENT_WIDTH), TEXT_SIZE, colour=MUTED)
    top += 6
    page.rule(MARGIN, PAGE_WIDTH - MARGIN, top, colour=INK, width=0.8)
    return top + 6


def _heading(page: _Page, x: float, top: float, text: str, width: float) -> float:
    top += HEADING_SIZE
    page.text(x, top, page.fit(text, HEADING_SIZE, width, True), HEADING_SIZE, bold=True)
    return top + 3


def _draw_plan(page: _Page, report: ClinicianReport, top: float) -> float:
    top = _heading(page, MARGIN, top, "Plan", LEFT_WIDTH)
    facts: list[tuple[str, str, bool]] = []  # label, value, bold
    if report.goal is None:
        facts.append(("Plan", "No plan: practices on the user's own", True))
        done = sum(1 for p in report.practices if p.finished)
        total = len(report.practices)
        finished = f"{done} of {practices_text(total)} finished" if total else "No practices yet"
        facts.append(("Done", finished, False))
    else:
        facts.append(("Goal", report.goal, False))
        started = day_text(report.started_on) if report.started_on else DASH
        week = f"Week {report.week} of {report.weeks}" if report.week is not None else ""
        facts.append(("Started", f"{started}   {DOT}   {week}" if week else started, False))
        facts.append(("Stage", report.stage or DASH, False))
        if report.paused:
            facts.append(("Status", report.paused, True))
        facts.append(("Done", adherence_text(report), True))
    value_width = LEFT_WIDTH - LABEL_WIDTH
    for label, value, bold in facts:
        lines = page.wrap(value, TEXT_SIZE, value_width, 2, bold)
        top += TEXT_SIZE * LEADING
        page.text(MARGIN, top, label, TEXT_SIZE, colour=MUTED)
        colour = ALERT if label == "Status" else INK
        for index, line in enumerate(lines):
            if index:
                top += TEXT_SIZE * LEADING
            page.text(MARGIN + LABEL_WIDTH, top, line, TEXT_SIZE, bold=bold, colour=colour)
    return top + 2


def _spare_lines(page: _Page, report: ClinicianReport, height: float) -> int:
    """Lines of stage history that fit beyond STAGE_CHANGES_SHOWN once every practice has
    its row (none when the table needs the whole page)."""
    line = SMALL_SIZE * LEADING
    history = HEADING_SIZE + 3 + (STAGE_CHANGES_SHOWN + 1) * line + 2
    table = HEADING_SIZE + 3 + ROW_LINE + 2 * ROW_PAD + 1 + 6
    for practice in report.practices:
        notes = _notes(page, practice)
        lines = page.wrap(notes, SMALL_SIZE, _notes_width(), NOTE_LINES) if notes else []
        table += _Row(practice, lines).height
    return max(0, int((height - history - table) // line))


def _draw_stage_history(
    page: _Page, report: ClinicianReport, top: float, most: int = STAGE_CHANGES_SHOWN
) -> float:
    """A line a change, oldest first: the day, the stage, why; at most `most` lines, the
    most recent, with a count of any earlier."""
    top = _heading(page, MARGIN, top, "Stage history", CONTENT_WIDTH)
    changes: list[ReportStageChange] = sorted(report.stage_changes, key=lambda c: c.day)
    if not changes:
        top += SMALL_SIZE * LEADING
        none = "No plan, so no stages" if report.goal is None else "No changes yet"
        page.text(MARGIN, top, none, SMALL_SIZE, colour=MUTED)
        return top + 2
    shown = changes[-most:]
    if len(changes) > len(shown):
        shown = changes[-(most - 1) :]
        top += SMALL_SIZE * LEADING
        left_out = left_out_text(len(changes) - len(shown), "change")
        page.text(MARGIN, top, left_out, SMALL_SIZE, bold=True, colour=MUTED)
    stage_left = MARGIN + STAGE_DATE_WIDTH
    why_left = stage_left + STAGE_NAME_WIDTH + 8
    for change in shown:
        top += SMALL_SIZE * LEADING
        page.text(MARGIN, top, day_text(change.day), SMALL_SIZE)
        stage = page.fit(change.stage, SMALL_SIZE, STAGE_NAME_WIDTH, True)
        page.text(stage_left, top, stage, SMALL_SIZE, bold=True)
        why = page.fit(change.why, SMALL_SIZE, PAGE_WIDTH - MARGIN - why_left)
        page.text(why_left, top, why, SMALL_SIZE, colour=MUTED)
    return top + 2


def _draw_chart(page: _Page, report: ClinicianReport, block_top: float) -> None:
    canvas = page.canvas
    x0 = CHART_LEFT
    title = "Back pain before and after each practice"
    top = _heading(page, x0, block_top, title, CHART_WIDTH)
    # The legend: each line drawn as it is in the chart, with its marker.
    legend_top = top + SMALL_SIZE * LEADING
    x = x0
    for label, colour, dashed, square in (
        ("before practice", BEFORE, True, False),
        ("after practice", AFTER, False, True),
    ):
        y = PAGE_HEIGHT - legend_top + SMALL_SIZE * 0.3
        _series_line(page, [(x, y), (x + 22, y)], colour, dashed)
        _marker(page, x + 11, y, colour, square, 2.2)
        page.text(x + 27, legend_top, label, SMALL_SIZE, colour=INK)
        x += 27 + page.width(label, SMALL_SIZE) + 16
    page.text(
        x0 + CHART_WIDTH, legend_top, "0 none, 10 worst", SMALL_SIZE, colour=MUTED, align="right"
    )
    # The plot area: the score scale on its left, the days below it.
    plot_left = x0 + 16
    plot_right = x0 + CHART_WIDTH - 4
    plot_top = legend_top + 11
    plot_bottom = block_top + CHART_HEIGHT - TINY_SIZE * LEADING - 4
    y_top, y_bottom = PAGE_HEIGHT - plot_top, PAGE_HEIGHT - plot_bottom

    def y_of(score: float) -> float:
        return y_bottom + (y_top - y_bottom) * score / 10

    canvas.setLineWidth(0.5)
    for score in range(0, 11, 2):
        canvas.setStrokeColor(GUIDE if score else RULE)
        canvas.line(plot_left, y_of(score), plot_right, y_of(score))
        label_top = PAGE_HEIGHT - y_of(score) + TINY_SIZE * 0.35
        page.text(plot_left - 3, label_top, str(score), TINY_SIZE, colour=MUTED, align="right")

    scored = [p for p in report.practices if p.back_before is not None or p.back_after is not None]
    days = [p.day for p in report.practices]
    if not scored:
        middle = PAGE_HEIGHT - (y_top + y_bottom) / 2
        message = "No practices yet" if not days else "No back scores given"
        page.text(
            (plot_left + plot_right) / 2, middle, message, TEXT_SIZE, colour=MUTED, align="centre"
        )
        return
    first, last = min(days), max(days)
    span = max((last - first).days, 1)
    inset = 5.0  # markers clear of the plot's edges

    def x_of(day: date) -> float:
        if first == last:
            return (plot_left + plot_right) / 2
        return plot_left + inset + (plot_right - plot_left - 2 * inset) * (day - first).days / span

    # Where the plan started, a dotted line: the practices after it are the plan's.
    if report.started_on is not None and first < report.started_on <= last:
        x = x_of(report.started_on)
        canvas.setStrokeColor(MUTED)
        canvas.setDash(1, 2)
        canvas.line(x, y_bottom, x, y_top)
        canvas.setDash()
        # Its label beside it, on the left when there is no room on the right.
        if x + 2 + page.width("plan", TINY_SIZE) <= plot_right:
            page.text(x + 2, plot_top + TINY_SIZE, "plan", TINY_SIZE, colour=MUTED)
        else:
            page.text(x - 2, plot_top + TINY_SIZE, "plan", TINY_SIZE, colour=MUTED, align="right")

    # The days below: the first and the last, and the months' starts between them.
    axis_top = plot_bottom + TINY_SIZE * LEADING + 1
    page.text(x_of(first), axis_top, short_day(first), TINY_SIZE, colour=MUTED, align="left")
    if last != first:
        page.text(x_of(last), axis_top, short_day(last), TINY_SIZE, colour=MUTED, align="right")
    taken = [
        (x_of(first), x_of(first) + page.width(short_day(first), TINY_SIZE)),
        (x_of(last) - page.width(short_day(last), TINY_SIZE), x_of(last)),
    ]
    for month_start in _month_starts(first, last):
        x = x_of(month_start)
        label = f"{month_start:%b}"
        half = page.width(label, TINY_SIZE) / 2 + 4
        if all(x + half < a or x - half > b for a, b in taken):
            canvas.setStrokeColor(RULE)
            canvas.line(x, y_bottom, x, y_bottom - 2)
            page.text(x, axis_top, label, TINY_SIZE, colour=MUTED, align="centre")
            taken.append((x - half, x + half))

    radius = 2.2 if len(scored) <= 40 else 1.6
    for attribute, colour, dashed, square in (
        ("back_before", BEFORE, True, False),
        ("back_after", AFTER, False, True),
    ):
        points = [
            (x_of(p.day), y_of(score))
            for p in report.practices
            if (score := getattr(p, attribute)) is not None
        ]
        _series_line(page, points, colour, dashed)
        for x, y in points:
            _marker(page, x, y, colour, square, radius)


def _month_starts(first: date, last: date) -> Iterable[date]:
    day = date(first.year, first.month, 1)
    while True:
        day = date(day.year + day.month // 12, day.month % 12 + 1, 1)
        if day > last:
            return
        yield day


def _series_line(
    page: _Page, points: Sequence[tuple[float, float]], colour: str, dashed: bool
) -> None:
    if len(points) < 2:
        return
    canvas = page.canvas
    canvas.setStrokeColor(colour)
    canvas.setLineWidth(0.9)
    if dashed:
        canvas.setDash(3, 2)
    path = canvas.beginPath()
    path.moveTo(*points[0])
    for point in points[1:]:
        path.lineTo(*point)
    canvas.drawPath(path, stroke=1, fill=0)
    canvas.setDash()


def _marker(page: _Page, x: float, y: float, colour: str, square: bool, radius: float) -> None:
    """Before: an open circle; after: a filled square (inside the circle when equal)."""
    canvas = page.canvas
    canvas.setStrokeColor(colour)
    canvas.setLineWidth(0.8)
    if square:
        canvas.setFillColor(colour)
        side = radius * 1.5
        canvas.rect(x - side / 2, y - side / 2, side, side, stroke=0, fill=1)
    else:
        canvas.setFillColor("#ffffff")
        canvas.circle(x, y, radius, stroke=1, fill=1)


def _draw_poses(page: _Page, report: ClinicianReport, top: float) -> float:
    """The two lists side by side under the plan."""
    width = (LEFT_WIDTH - GUTTER) / 2
    bottoms = []
    for x, title, poses, none in (
        (MARGIN, "Poses that hurt", report.hurt_poses, "None reported"),
        (MARGIN + width + GUTTER, "Easier versions tapped", report.easier_poses, "None tapped"),
    ):
        bottoms.append(_pose_list(page, x, top, width, title, poses, none))
    return max(bottoms)


def _pose_list(
    page: _Page,
    x: float,
    top: float,
    width: float,
    title: str,
    poses: Sequence[PoseCount],
    none: str,
) -> float:
    """Poses with the times each was named, most first; past POSE_ROWS, the last row
    counts the rest."""
    top += TEXT_SIZE
    page.text(x, top, page.fit(title, TEXT_SIZE, width, True), TEXT_SIZE, bold=True)
    ranked = sorted(poses, key=lambda p: (-p.times, p.pose))
    if not ranked:
        top += SMALL_SIZE * LEADING
        page.text(x, top, none, SMALL_SIZE, colour=MUTED)
        return top + 2
    shown = ranked if len(ranked) <= POSE_ROWS else ranked[: POSE_ROWS - 1]
    entries: list[tuple[str, int, bool]] = [(p.pose, p.times, False) for p in shown]
    if len(shown) < len(ranked):
        rest = ranked[len(shown) :]
        more = f"{len(rest)} more pose{'' if len(rest) == 1 else 's'}"
        entries.append((more, sum(p.times for p in rest), True))
    count_width = page.width("999", SMALL_SIZE, True) + 4
    for name, times, muted in entries:
        top += SMALL_SIZE * LEADING
        shown_name = page.fit(name, SMALL_SIZE, width - count_width)
        page.text(x, top, shown_name, SMALL_SIZE, colour=MUTED if muted else INK)
        page.text(x + width, top, str(times), SMALL_SIZE, bold=True, align="right")
    return top + 2


def _notes(page: _Page, practice: ReportPractice) -> str:
    """What happened in a practice, in at most NOTE_LINES lines: whether it stopped, the
    poses that hurt, those done easier. Names that do not fit are counted ("+3 more")."""
    stop = None if practice.finished else (practice.stopped_why or "stopped")
    hurt = [page.fit(p, SMALL_SIZE, POSE_NAME_WIDTH) for p in practice.hurt]
    easier = [page.fit(p, SMALL_SIZE, POSE_NAME_WIDTH) for p in practice.easier]

    def text(hurt_shown: int, easier_shown: int) -> str:
        parts = [stop] if stop else []
        for label, names, count in (("hurt", hurt, hurt_shown), ("easier", easier, easier_shown)):
            if not names:
                continue
            listed = ", ".join(names[:count])
            more = f"+{len(names) - count} more" if count < len(names) else ""
            parts.append(f"{label}: {listed} {more}".strip() if listed else f"{label}: {more}")
        return "; ".join(parts)

    hurt_shown, easier_shown = len(hurt), len(easier)
    # Fewer names until the notes fit: the easier ones go first, the painful ones last.
    while not page.fits(text(hurt_shown, easier_shown), SMALL_SIZE, _notes_width(), NOTE_LINES):
        if easier_shown:
            easier_shown -= 1
        elif hurt_shown:
            hurt_shown -= 1
        else:
            break
    return text(hurt_shown, easier_shown)


def _notes_width() -> float:
    return NOTES_WIDTH - 2 * CELL_PAD


@dataclass(frozen=True)
class _Row:
    practice: ReportPractice
    notes: list[str]

    @property
    def height(self) -> float:
        return max(1, len(self.notes)) * ROW_LINE + 2 * ROW_PAD


def _draw_practices(page: _Page, report: ClinicianReport, top: float, bottom: float) -> None:
    practices = report.practices
    total = len(practices)
    top = _heading(page, MARGIN, top, "Practices, oldest first", CONTENT_WIDTH)
    if not practices:
        top += TEXT_SIZE * LEADING
        page.text(MARGIN, top, "No practices yet.", TEXT_SIZE, colour=MUTED)
        return
    header_height = ROW_LINE + 2 * ROW_PAD + 1
    left_out_height = SMALL_SIZE * LEADING + 2
    rows: list[_Row] = []
    room = bottom - top - header_height
    # The most recent that fit, newest first until the page is full; a line for those
    # left out is reserved once any are.
    for practice in reversed(practices):
        notes_text = _notes(page, practice)
        notes = page.wrap(notes_text, SMALL_SIZE, _notes_width(), NOTE_LINES) if notes_text else []
        row = _Row(practice, notes)
        used = sum(r.height for r in rows) + row.height
        reserve = left_out_height if len(rows) + 1 < total else 0.0
        if used + reserve > room:
            break
        rows.append(row)
    rows.reverse()
    left_out = total - len(rows)

    summary = f"{practices_text(total)} in all"
    if left_out:
        summary += f"; the {len(rows)} most recent shown"
    page.text(PAGE_WIDTH - MARGIN, top - 3, summary, SMALL_SIZE, colour=MUTED, align="right")
    if left_out:
        first_left, last_left = practices[0].day, practices[left_out - 1].day
        span = (
            day_text(first_left)
            if first_left == last_left
            else (f"{day_text(first_left)} to {day_text(last_left)}")
        )
        top += SMALL_SIZE * LEADING
        line = f"{left_out_text(left_out, 'practice')} ({span}); the chart shows them all."
        page.text(MARGIN, top, line, SMALL_SIZE, bold=True, colour=ALERT)
        top += 2

    # The header row.
    top += ROW_PAD
    x = MARGIN
    cells = [*COLUMNS, ("Notes: stopped, hurt, easier", NOTES_WIDTH, "left")]
    for heading, width, align in cells:
        _cell(page, x, top + ROW_LINE - 2, width, heading, align, bold=True, colour=MUTED)
        x += width
    top += ROW_LINE + ROW_PAD
    page.rule(MARGIN, PAGE_WIDTH - MARGIN, top, colour=INK, width=0.6)

    for index, row in enumerate(rows):
        p = row.practice
        if index % 2:
            page.band(MARGIN, top, CONTENT_WIDTH, row.height, STRIPE)
        baseline = top + ROW_PAD + ROW_LINE - 2
        worse_after = (
            p.back_before is not None and p.back_after is not None and p.back_after > p.back_before
        )
        values: list[tuple[str, bool, str]] = [
            (day_text(p.day), False, INK),
            (p.practice, False, INK),
            (stage_label(p.stage), False, INK),
            (str(p.minutes), False, INK),
            (score_text(p.back_before), False, INK),
            (score_text(p.back_after), worse_after, ALERT if worse_after else INK),
            (p.next_day or DASH, p.next_day == "Worse", ALERT if p.next_day == "Worse" else INK),
        ]
        x = MARGIN
        for (text, bold, colour), (_, width, align) in zip(values, COLUMNS, strict=True):
            _cell(page, x, baseline, width, text, align, bold=bold, colour=colour)
            x += width
        stopped_for_pain = not p.finished and "pain" in (p.stopped_why or "")
        for line_index, line in enumerate(row.notes):
            page.text(
                x + CELL_PAD,
                baseline + line_index * ROW_LINE,
                line,
                SMALL_SIZE,
                colour=ALERT if stopped_for_pain else INK,
            )
        top += row.height
    page.rule(MARGIN, PAGE_WIDTH - MARGIN, top, colour=RULE)


def _cell(
    page: _Page,
    x: float,
    baseline: float,
    width: float,
    text: str,
    align: str,
    *,
    bold: bool = False,
    colour: str = INK,
) -> None:
    inner = width - 2 * CELL_PAD
    shown = page.fit(text, SMALL_SIZE, inner, bold)
    anchor = {"left": x + CELL_PAD, "right": x + width - CELL_PAD, "centre": x + width / 2}[align]
    page.text(anchor, baseline, shown, SMALL_SIZE, bold=bold, colour=colour, align=align)


def _draw_footer(page: _Page, report: ClinicianReport, top: float) -> None:
    page.rule(MARGIN, PAGE_WIDTH - MARGIN, top, colour=RULE)
    lines = page.wrap(FOOTER, TINY_SIZE, CONTENT_WIDTH, 2)
    for line in lines:
        top += TINY_SIZE * LEADING
        page.text(MARGIN, top, line, TINY_SIZE, colour=MUTED)
