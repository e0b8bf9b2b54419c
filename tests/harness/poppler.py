"""Reading a PDF back in tests: Debian's poppler-utils (`make poppler` installs them).
Without them a test skips and says why on a developer's machine, and fails in CI."""

from __future__ import annotations

import os
import shutil
import subprocess
import tempfile
from pathlib import Path

import pytest

POPPLER = ("pdftotext", "pdftoppm", "pdfinfo")
# Each poppler call takes a few hundredths of a second; a busy machine, far more.
TOOL_TIMEOUT = 30


def require_poppler() -> None:
    missing = [tool for tool in POPPLER if shutil.which(tool) is None]
    if not missing:
        return
    reason = f"{', '.join(missing)} missing (Debian's poppler-utils; `make poppler` installs it)"
    # CI must read the page back; only a developer's machine may go without the tools.
    if os.environ.get("CI"):
        pytest.fail(f"the report's read-back tests cannot run in CI: {reason}")
    print(f"\nreport read-back skipped: {reason}")
    pytest.skip(reason)


def pdf_text(pdf: bytes) -> str:
    """The text of a PDF, each line as laid out."""
    with tempfile.TemporaryDirectory(prefix="yogabot-pdf-") as folder:
        path = Path(folder) / "file.pdf"
        path.write_bytes(pdf)
        done = subprocess.run(
            ("pdftotext", "-layout", str(path), "-"),
            capture_output=True,
            text=True,
            timeout=TOOL_TIMEOUT,
            check=True,
        )
    return done.stdout
