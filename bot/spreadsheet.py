"""CSV files that are safe to open in a spreadsheet.

A cell that begins with = + - @, a tab or a carriage return is read as a formula by
Excel, LibreOffice and Sheets, so a note such as `=HYPERLINK(...)` would run when the file
is opened. Such a cell is written with a leading apostrophe, as OWASP's guidance on CSV
injection advises; every other cell, and the JSON export, stays exactly as stored.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable, Mapping, Sequence
from typing import TextIO

FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def safe_cell(value: object) -> object:
    if isinstance(value, str) and value.startswith(FORMULA_STARTS):
        return "'" + value
    return value


def write_csv(out: TextIO, columns: Sequence[str], rows: Iterable[Mapping[str, object]]) -> None:
    # The csv module quotes commas, quotes and line breaks, so any text reads back intact.
    writer = csv.DictWriter(out, fieldnames=columns)
    writer.writeheader()
    writer.writerows({key: safe_cell(value) for key, value in row.items()} for row in rows)


def csv_line(cells: Sequence[object]) -> str:
    """One row, as write_csv writes its rows."""
    out = io.StringIO()
    csv.writer(out).writerow([safe_cell(cell) for cell in cells])
    return out.getvalue()
