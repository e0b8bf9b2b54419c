"""The clinician report's page, read back as its reader would: the text with pdftotext (as
a PDF viewer's search would find it), the page count with pdfinfo, the page as a picture
with pdftoppm; and the PNG sent beside it decoded with Pillow. Every report, however
much it holds, is one page; what does not fit is counted on it."""

from __future__ import annotations

import io
import re
import subprocess
import tempfile
import threading
from collections.abc import Iterator
from dataclasses import replace
from datetime import date, timedelta
from functools import cache
from pathlib import Path

import pytest
from PIL import Image, ImageChops, ImageStat

from bot import report_pdf
from bot.programme.report import (
    ClinicianReport,
    PoseCount,
    ReportPractice,
    ReportStageChange,
)
from bot.report_pdf import ReportFiles, render
from tests.harness.poppler import TOOL_TIMEOUT, require_poppler

START = date(2026, 3, 2)  # a Monday: week 1 of the plan
MADE_ON = START + timedelta(weeks=6, days=2)  # Wednesday of week 7
STAGE_1 = "Stage 1 of 4: Short class, every easier option"
STAGE_2 = "Stage 2 of 4: Short class"
STAGE_3 = "Stage 3 of 4: Full class, easier options on hard poses"
PAUSED = "Paused since 13 Apr: a red-flag sign was reported"
GOAL = "5 practices a week for 12 weeks"


def practice(
    day: date,
    before: int | None,
    after: int | None,
    *,
    stage: str | None = STAGE_2,
    kind: str = "Short class",
    minutes: int = 20,
    next_day: str | None = "Same",
    finished: bool = True,
    stopped_why: str | None = None,
    hurt: tuple[str, ...] = (),
    easier: tuple[str, ...] = (),
) -> ReportPractice:
    return ReportPractice(
        day=day,
        minutes=minutes,
        practice=kind,
        stage=stage,
        back_before=before,
        back_after=after,
        next_day=next_day,
        finished=finished,
        stopped_why=stopped_why,
        hurt=hurt,
        easier=easier,
    )


@cache
def twelve_weeks() -> ClinicianReport:
    """Week 7 of a 12-week plan: six practices before it, thirty in it; better stage by
    stage until a flare in week 6 (back 7/10 after a class, worse the next day), two steps
    back and, after a red-flag sign, a pause."""
    practices = [
        practice(
            START - timedelta(days=20 - 3 * i),
            7 - i % 2,
            6 - i % 2,
            stage=None,
            kind="Full class",
            minutes=35,
            next_day=None,
            easier=("Cobra",) if i % 2 else (),
        )
        for i in range(6)
    ]
    weekdays = (0, 1, 3, 4, 5)
    for week in range(6):
        for n, weekday in enumerate(weekdays):
            day = START + timedelta(weeks=week, days=weekday)
            stage, kind, minutes = (
                (STAGE_1, "Gentle (short, all easier)", 15)
                if week < 2
                else (STAGE_2, "Short class", 20)
                if week < 4
                else (STAGE_3, "Full class", 35)
            )
            before = max(2, 6 - week + n % 2)
            after = max(1, before - 2)
            practices.append(
                practice(
                    day,
                    before,
                    after,
                    stage=stage,
                    kind=kind,
                    minutes=minutes,
                    next_day=("Better", "Same")[n % 2],
                    easier=("Cobra", "Bridge") if n == 2 else (),
                )
            )
    # The flare: Friday of week 6, stopped for pain, Cobra hurt; worse the next day.
    flare_day = START + timedelta(weeks=5, days=4)
    index = next(i for i, p in enumerate(practices) if p.day == flare_day)
    practices[index] = practice(
        flare_day,
        4,
        7,
        stage=STAGE_3,
        kind="Full class",
        minutes=12,
        next_day="Worse",
        finished=False,
        stopped_why="stopped for pain",
        hurt=("Cobra", "Locust"),
        easier=("Bridge",),
    )
    changes = (
        ReportStageChange(START, STAGE_1, "started"),
        ReportStageChange(START + timedelta(weeks=2), STAGE_2, "two good practices in a row"),
        ReportStageChange(START + timedelta(weeks=4), STAGE_3, "two good weeks at stage 2"),
        ReportStageChange(flare_day, STAGE_2, "back 7/10 after the class"),
        ReportStageChange(flare_day + timedelta(days=1), STAGE_1, "back worse the next day"),
        ReportStageChange(START + timedelta(weeks=6), STAGE_1, "paused: see a clinician"),
    )
    return ClinicianReport(
        name="Maria Keller",
        made_on=MADE_ON,
        zone="Europe/Berlin",
        class_title="Gentle Back Care",
        goal=GOAL,
        started_on=START,
        week=7,
        weeks=12,
        stage=STAGE_1,
        paused=PAUSED,
        stage_changes=changes,
        practices=tuple(practices),
        planned=30,
        done=22,
        hurt_poses=(PoseCount("Cobra", 3), PoseCount("Locust", 1)),
        easier_poses=(PoseCount("Cobra", 9), PoseCount("Bridge", 7)),
    )


EASIER_NAMES = ("Bridge", "Locust", "Sphinx", "Cat-Cow", "Child's Pose", "Thread the Needle")
LONG_POSE = "Supported Reclined Bound Angle Pose with a Bolster Under the Knees and Spine"


@cache
def overfull() -> ClinicianReport:
    """120 practices (far more than a page holds), each with long pose names, and more
    stage changes and poses than their sections show."""
    first = date(2025, 11, 3)
    practices = tuple(
        practice(
            first + timedelta(days=i),
            5 + i % 3,
            3 + i % 3,
            kind=("Full class", "Short class", "Gentle (short, all easier)")[i % 3],
            next_day=("Better", "Same", "Worse", None)[i % 4],
            finished=i % 5 != 0,
            stopped_why="stopped for pain" if i % 10 == 0 else None,
            hurt=(f"{LONG_POSE} {i}", "Cobra") if i % 4 == 0 else (),
            easier=(f"{LONG_POSE} easier {i}", *EASIER_NAMES) if i % 3 == 0 else (),
        )
        for i in range(120)
    )
    changes = tuple(
        ReportStageChange(
            first + timedelta(days=7 * i),
            f"Stage {1 + i % 4} of 4: {LONG_POSE}",
            f"reason number {i}, " + "explained at some length " * 4,
        )
        for i in range(14)
    )
    return replace(
        twelve_weeks(),
        name="Bartholomew Alexander Fitzgerald-Montgomery " * 3,
        class_title="A Very Long Class Title " * 5,
        practices=practices,
        stage_changes=changes,
        planned=84,
        done=96,
        hurt_poses=tuple(PoseCount(f"{LONG_POSE} {i}", 30 - i) for i in range(12)),
        easier_poses=tuple(PoseCount(f"Easier {LONG_POSE} {i}", 40 - i) for i in range(15)),
    )


@cache
def empty() -> ClinicianReport:
    return ClinicianReport(
        name="Sam",
        made_on=MADE_ON,
        zone="UTC",
        class_title="Gentle Back Care",
        goal=None,
        started_on=None,
        week=None,
        weeks=12,
        stage=None,
        paused=None,
    )


@cache
def without_plan() -> ClinicianReport:
    return replace(
        empty(),
        practices=tuple(
            practice(MADE_ON - timedelta(days=8 - i), 5, 3, stage=None, next_day=None)
            for i in range(5)
        ),
    )


@cache
def files(name: str) -> ReportFiles:
    builders = {
        "twelve weeks": twelve_weeks,
        "overfull": overfull,
        "empty": empty,
        "without plan": without_plan,
    }
    return render(builders[name]())


REPORTS = ("twelve weeks", "overfull", "empty", "without plan")


@pytest.fixture(scope="module")
def poppler() -> None:
    require_poppler()


@pytest.fixture
def folder() -> Iterator[Path]:
    with tempfile.TemporaryDirectory(prefix="yogabot-report-") as name:
        yield Path(name)


def run(*command: str) -> str:
    done = subprocess.run(command, capture_output=True, text=True, timeout=TOOL_TIMEOUT, check=True)
    return done.stdout


def pdf_file(folder: Path, pdf: bytes) -> str:
    path = folder / "report.pdf"
    path.write_bytes(pdf)
    return str(path)


def page_text(folder: Path, pdf: bytes) -> str:
    """The page's text, each line as laid out (the table's cells of a row on one line)."""
    return run("pdftotext", "-layout", pdf_file(folder, pdf), "-")


def page_words(folder: Path, pdf: bytes) -> str:
    """The page's text in reading order, block by block (a fact wrapped onto two lines
    reads as one), its white space made single spaces."""
    return re.sub(r"\s+", " ", run("pdftotext", pdf_file(folder, pdf), "-"))


def row(text: str, *cells: str) -> bool:
    """Whether a line of the text has these cells in this order."""
    pattern = r"\s+".join(re.escape(cell) for cell in cells)
    return any(re.search(pattern, line) for line in text.splitlines())


def test_a_twelve_week_plan_reads_back_from_the_page(poppler: None, folder: Path) -> None:
    report = twelve_weeks()
    text = page_text(folder, files("twelve weeks").pdf)
    words = page_words(folder, files("twelve weeks").pdf)
    for expected in (
        "Maria Keller",
        "Gentle Back Care",
        "Made on 15 Apr 2026",
        "Europe/Berlin",
        GOAL,
        "Week 7 of 12",
        "2 Mar 2026",
        STAGE_1,
        PAUSED,
        "22 of 30 planned practices done, 73 %",
        "Not a diagnosis",
    ):
        assert expected in words, expected
    for change in report.stage_changes:
        assert change.why in words, change.why
    # All 36 practices fit: none is left out, the first before the plan and the last.
    assert row(text, "Started", "2 Mar 2026", report_pdf.DOT, "Week 7 of 12")
    assert row(text, "Status", "Paused since 13 Apr")
    assert "not shown" not in words
    assert "36 practices in all" in words
    assert row(text, "10 Feb 2026", "Full class", "\u2013", "35", "7", "6", "\u2013")
    assert row(text, "9 Apr 2026", "Full class", "3 of 4", "35", "2", "1", "Better", "easier:")
    assert row(text, "6 Mar 2026", "Gentle (short, all easier)", "1 of 4", "15", "7", "5", "Same")
    # The flare's row: its scores, the next day, why it stopped and what hurt.
    assert row(
        text, "10 Apr 2026", "Full class", "3 of 4", "12", "4", "7", "Worse", "stopped for pain"
    )
    assert "hurt: Cobra, Locust; easier: Bridge" in words
    # The poses, with their counts, most first.
    assert row(text, "Poses that hurt", "Easier versions tapped")
    assert row(text, "Cobra", "3", "Cobra", "9")
    assert row(text, "Locust", "1", "Bridge", "7")


def test_an_overfull_report_shows_the_most_recent_practices_and_counts_the_rest(
    poppler: None, folder: Path
) -> None:
    report = overfull()
    text = page_text(folder, files("overfull").pdf)
    words = page_words(folder, files("overfull").pdf)
    match = re.search(r"(\d+) earlier practices not shown \((.+?) to (.+?)\)", words)
    assert match, words
    left_out = int(match[1])
    assert (match[2], match[3]) == (
        "3 Nov 2025",
        report_pdf.day_text(report.practices[left_out - 1].day),
    )
    # The rows are exactly the practices not left out: the most recent, up to the last.
    shown = report.practices[left_out:]
    assert 20 < len(shown) < 60
    table = text.split("Notes: stopped, hurt, easier", 1)[1]
    row_days = re.findall(r"^\s*(\d{1,2} \w{3} \d{4}) ", table, flags=re.M)
    assert row_days == [report_pdf.day_text(p.day) for p in shown]
    assert f"120 practices in all; the {len(shown)} most recent shown" in words
    # Long texts are cut with an ellipsis, and counted where a list is cut.
    assert "\u2026" in words
    assert re.search(r"easier: .*\+\d", words)
    assert "7 earlier changes not shown" in words
    assert row(text, "8 more poses", "180", "11 more poses", "341")  # 4 shown of 12 and 15
    assert "Not a diagnosis" in words


@pytest.mark.parametrize("name", REPORTS)
def test_every_report_is_one_a4_page_with_all_its_text_inside_the_margins(
    name: str, poppler: None, folder: Path
) -> None:
    pdf = files(name).pdf
    info = run("pdfinfo", pdf_file(folder, pdf))
    assert re.search(r"^Pages:\s+1$", info, flags=re.M), info
    assert re.search(r"^Page size:\s+595\.\d+ x 841\.\d+ pts \(A4\)", info, flags=re.M), info
    # Every word's box, as pdftotext places it, is inside the page's margins.
    boxes = run("pdftotext", "-bbox", pdf_file(folder, pdf), "-")
    words = re.findall(
        r'<word xMin="([\d.]+)" yMin="([\d.]+)" xMax="([\d.]+)" yMax="([\d.]+)">', boxes
    )
    assert len(words) > 40
    inside = report_pdf.MARGIN - 1
    for x_min, y_min, x_max, y_max in ((float(v) for v in box) for box in words):
        assert x_min >= inside and y_min >= inside - 12
        assert x_max <= report_pdf.PAGE_WIDTH - inside
        assert y_max <= report_pdf.PAGE_HEIGHT - inside


def test_without_a_plan_the_page_says_so_and_still_lists_the_practices(
    poppler: None, folder: Path
) -> None:
    text = page_text(folder, files("without plan").pdf)
    words = page_words(folder, files("without plan").pdf)
    assert "No plan" in words
    assert "Week" not in words and "planned" not in words
    assert "5 of 5 practices finished" in words
    for p in without_plan().practices:
        assert row(text, report_pdf.day_text(p.day), "Short class", "\u2013", "20", "5", "3")


def test_with_no_practices_the_page_says_so(poppler: None, folder: Path) -> None:
    words = page_words(folder, files("empty").pdf)
    assert "No practices yet." in words
    assert "No plan" in words
    assert "None reported" in words and "None tapped" in words


def test_the_png_is_the_pdfs_page_at_telegrams_photo_size(poppler: None, folder: Path) -> None:
    sent = files("twelve weeks")
    image = Image.open(io.BytesIO(sent.png))
    assert image.format == "PNG"
    assert image.size == (report_pdf.PNG_WIDTH, report_pdf.PNG_HEIGHT) == (905, 1280)
    grey = image.convert("L")
    ink = sum(grey.histogram()[:200]) / (grey.width * grey.height)
    assert 0.03 < ink < 0.5  # text, rules and the chart; not blank, not a black page
    # poppler's own picture of the PDF at the same size is the same page: nearly the same
    # pixels, compared in 4×4 blocks (two renderers smooth edges differently), unlike
    # another report's page.
    run(
        "pdftoppm",
        "-png",
        "-singlefile",
        "-scale-to-x",
        "905",
        "-scale-to-y",
        "1280",
        pdf_file(folder, sent.pdf),
        str(folder / "poppler"),
    )
    poppler_page = Image.open(folder / "poppler.png").convert("L")
    assert poppler_page.size == image.size
    other = Image.open(io.BytesIO(files("without plan").png)).convert("L")

    def difference(a: Image.Image, b: Image.Image) -> float:
        blocks = (a.width // 4, a.height // 4)
        a, b = (i.resize(blocks, Image.Resampling.BOX) for i in (a, b))
        return float(ImageStat.Stat(ImageChops.difference(a, b)).mean[0])

    same, different = difference(grey, poppler_page), difference(grey, other)
    assert same < 3 and different > 6, (same, different)


def test_the_same_report_gives_the_same_bytes() -> None:
    again = render(twelve_weeks())
    assert again == files("twelve weeks")
    changed = render(replace(twelve_weeks(), done=21))
    assert changed.pdf != again.pdf and changed.png != again.png


def test_renders_in_parallel_threads_give_the_same_files() -> None:
    # PDFium may not run in two threads at once (pypdfium2's docs: it crashes or corrupts
    # the process); reports asked for together are rasterised one after the other.
    expected = files("twelve weeks")
    results: list[ReportFiles] = []
    errors: list[BaseException] = []

    def draw() -> None:
        try:
            results.append(render(twelve_weeks()))
        except BaseException as exc:
            errors.append(exc)

    threads = [threading.Thread(target=draw) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert not errors
    assert results == [expected] * 4


def test_characters_the_font_lacks_become_letters_or_question_marks(
    poppler: None, folder: Path
) -> None:
    report = replace(empty(), name="Zo\u00eb \u0150rs \u0410\u043d\u043d\u0430 \U0001f642")
    words = page_words(folder, render(report).pdf)
    # ë is in the font; Ő is drawn as O; Cyrillic letters and the emoji as "?".
    assert "Yoga practice report: Zo\u00eb Ors ???? ?" in words


def test_pdfium_is_called_only_under_its_lock(monkeypatch: pytest.MonkeyPatch) -> None:
    import pypdfium2

    calls: list[tuple[str, bool]] = []

    def spy(owner: type, name: str) -> None:
        original = getattr(owner, name)

        def call(*args: object, **kwargs: object) -> object:
            calls.append((f"{owner.__name__}.{name}", report_pdf.PDFIUM.locked()))
            return original(*args, **kwargs)

        monkeypatch.setattr(owner, name, call)

    for owner, name in (
        (pypdfium2.PdfDocument, "__init__"),
        (pypdfium2.PdfDocument, "close"),
        (pypdfium2.PdfPage, "render"),
        (pypdfium2.PdfPage, "close"),
        (pypdfium2.PdfBitmap, "to_pil"),
        (pypdfium2.PdfBitmap, "close"),
    ):
        spy(owner, name)
    render(without_plan())
    names = {name for name, _ in calls}
    assert {"PdfDocument.__init__", "PdfPage.render", "PdfBitmap.to_pil"} <= names
    assert {"PdfDocument.close", "PdfPage.close", "PdfBitmap.close"} <= names
    assert all(locked for _, locked in calls), calls
    assert not report_pdf.PDFIUM.locked()


def test_the_stage_history_takes_the_room_a_short_table_leaves(poppler: None, folder: Path) -> None:
    """Fourteen changes and a few practices: every change is shown, none counted away;
    the same changes beside 120 practices: the most recent 8, the rest counted."""
    changes = overfull().stage_changes
    few = replace(twelve_weeks(), stage_changes=changes, practices=twelve_weeks().practices[:8])
    words = page_words(folder, render(few).pdf)
    assert "earlier changes not shown" not in words
    assert all(f"reason number {i}," in words for i in range(14))
    crowded = page_words(folder, files("overfull").pdf)
    assert "7 earlier changes not shown" in crowded
    assert "reason number 6," not in crowded and "reason number 7," in crowded


def test_adherence_past_the_plan_is_a_count_not_a_share_over_a_hundred() -> None:
    assert report_pdf.adherence_text(replace(twelve_weeks(), done=22, planned=30)) == (
        "22 of 30 planned practices done, 73 %"
    )
    assert report_pdf.adherence_text(replace(twelve_weeks(), done=4, planned=2)) == (
        "4 practices done; 2 planned so far"
    )
